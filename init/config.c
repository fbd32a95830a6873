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
	/* Sections the init does not act on yet are the builder's; init.conf
	 * carries only [workload] and [init], so anything else is a mistake. */
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
	struct init_config c = { .on_exit = INIT_POWEROFF, .report_pcrs = true };
	int r;

	strcpy(c.workdir, "/");
	r = cvm_ini_parse(buf, len, on_key, &c, ret_line);
	if (r < 0)
		goto out;
	if (!c.path[0]) {
		r = -ENOENT;
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
