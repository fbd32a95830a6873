#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/ini.h"
#include "init.h"

static int parse_id(const char *v, unsigned *ret)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n > 0x7fffffff)
		return -EINVAL;
	*ret = (unsigned)n;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_ipv4(const char *v, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	*ret = a.s_addr;
	return 0;
}

static int parse_network(struct init_config *c, const char *key, const char *value)
{
	char addr[32];
	const char *slash;
	unsigned n;
	int r;

	if (!strcmp(key, "mode")) {
		if (!strcmp(value, "none"))
			c->net_mode = INIT_NET_NONE;
		else if (!strcmp(value, "dhcp"))
			c->net_mode = INIT_NET_DHCP;
		else if (!strcmp(value, "static"))
			c->net_mode = INIT_NET_STATIC;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "interface")) {
		if (strlen(value) >= sizeof(c->net_interface) || strchr(value, '/') || !strcmp(value, ".") ||
		    !strcmp(value, ".."))
			return -EINVAL;
		strcpy(c->net_interface, value);
		return 0;
	}
	if (!strcmp(key, "address")) {
		slash = strchr(value, '/');
		if (!slash || (size_t)(slash - value) >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, value, (size_t)(slash - value));
		addr[slash - value] = 0;
		r = parse_ipv4(addr, &c->net_address);
		if (r < 0)
			return r;
		r = parse_id(slash + 1, &n);
		if (r < 0 || n < 1 || n > 32)
			return -EINVAL;
		c->net_prefix = n;
		return 0;
	}
	if (!strcmp(key, "gateway"))
		return parse_ipv4(value, &c->net_gateway);
	if (!strcmp(key, "dns")) {
		if (c->net_n_dns >= INIT_MAX_DNS)
			return -E2BIG;
		r = parse_ipv4(value, &c->net_dns[c->net_n_dns]);
		if (r < 0)
			return r;
		c->net_n_dns++;
		return 0;
	}
	if (!strcmp(key, "timeout")) {
		r = parse_id(value, &n);
		if (r < 0 || n < 1 || n > INIT_MAX_NET_TIMEOUT)
			return -EINVAL;
		c->net_timeout = n;
		return 0;
	}
	return -EINVAL;
}

static int on_key(const char *section, const char *key, const char *value, unsigned line, void *userdata)
{
	struct init_config *c = userdata;
	unsigned id;
	int r;

	if (strlen(value) >= INIT_MAX_VALUE)
		return -E2BIG;
	if (!strcmp(section, "workload")) {
		if (!strcmp(key, "path")) {
			if (value[0] != '/')
				return -EINVAL;
			strcpy(c->path, value);
			return 0;
		}
		if (!strcmp(key, "arg")) {
			if (c->argc >= INIT_MAX_ARGS)
				return -E2BIG;
			c->argv[1 + c->argc] = strdup(value);
			if (!c->argv[1 + c->argc])
				return -ENOMEM;
			c->argc++;
			return 0;
		}
		if (!strcmp(key, "env")) {
			if (!strchr(value, '=') || value[0] == '=')
				return -EINVAL;
			if (c->envc >= INIT_MAX_ENV)
				return -E2BIG;
			c->envp[c->envc] = strdup(value);
			if (!c->envp[c->envc])
				return -ENOMEM;
			c->envc++;
			return 0;
		}
		if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
			r = parse_id(value, &id);
			if (r < 0)
				return r;
			if (key[0] == 'u')
				c->uid = id;
			else
				c->gid = id;
			return 0;
		}
		if (!strcmp(key, "workdir")) {
			if (value[0] != '/')
				return -EINVAL;
			strcpy(c->workdir, value);
			return 0;
		}
	} else if (!strcmp(section, "network")) {
		return parse_network(c, key, value);
	} else if (!strcmp(section, "init")) {
		if (!strcmp(key, "on_exit")) {
			if (!strcmp(value, "poweroff"))
				c->on_exit = INIT_POWEROFF;
			else if (!strcmp(value, "reboot"))
				c->on_exit = INIT_REBOOT;
			else
				return -EINVAL;
			return 0;
		}
		if (!strcmp(key, "report_pcrs"))
			return parse_bool(value, &c->report_pcrs);
		if (!strcmp(key, "dump_eventlog"))
			return parse_bool(value, &c->dump_eventlog);
	}
	/* Sections the init does not act on are the builder's; init.conf
	 * carries only [workload], [init] and [network], so anything else is a
	 * mistake. */
	(void)line;
	return -EINVAL;
}

void init_config_free(struct init_config *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[1 + i]);
	for (size_t i = 0; i < c->envc; i++)
		free(c->envp[i]);
	memset(c, 0, sizeof(*c));
}

int init_config_parse(const uint8_t *buf, size_t len, struct init_config *ret, unsigned *ret_line)
{
	struct init_config c = { .on_exit = INIT_POWEROFF, .report_pcrs = true, .net_timeout = 30 };
	int r;

	strcpy(c.workdir, "/");
	r = cvm_ini_parse(buf, len, on_key, &c, ret_line);
	if (r < 0)
		goto out;
	if (!c.path[0]) {
		r = -ENOENT;
		goto out;
	}
	if (c.net_mode == INIT_NET_STATIC && !c.net_address) {
		r = -EDESTADDRREQ;
		goto out;
	}
	c.argv[0] = c.path;
	c.argv[1 + c.argc] = NULL;
	c.envp[c.envc] = NULL;
	*ret = c;
	/* argv[0] points into the struct: fix it up in the copy. */
	ret->argv[0] = ret->path;
	return 0;
out:
	init_config_free(&c);
	return r;
}
