#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/hex.h"
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

/* "NAME SOURCE DEST", by the rules cvm-image checked it with (cvmkit/kbsref.h). */
static int parse_secret(struct init_kbs *k, const char *value, bool sealed)
{
	struct init_secret *s;
	const char *p = value, *w[3];
	char path[CVM_KBS_PATH_MAX];
	size_t l[3];
	int n = 0;

	if (k->n_secrets >= INIT_MAX_SECRETS)
		return -E2BIG;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n == 3)
			return -EINVAL;
		w[n] = p;
		l[n] = strcspn(p, " \t");
		p += l[n++];
	}
	if (n != 3 || l[0] > INIT_SECRET_NAME_MAX)
		return -EINVAL;
	s = &k->secrets[k->n_secrets];
	memset(s, 0, sizeof(*s));
	memcpy(s->name, w[0], l[0]);
	if (!cvm_secret_name_valid(s->name, l[0]))
		return -EINVAL;
	for (size_t i = 0; i < k->n_secrets; i++)
		if (!strcmp(k->secrets[i].name, s->name))
			return -EEXIST;
	s->source = strndup(w[1], l[1]);
	if (!s->source)
		return -ENOMEM;
	if (sealed ? !cvm_sealed_ref_valid(s->source, l[1]) : cvm_sealed_uri_path(s->source, path, sizeof(path)) < 0)
		goto bad;
	if (l[2] == 4 && !strncmp(w[2], "file", 4))
		s->dest = INIT_SECRET_FILE;
	else if (l[2] == 3 && !strncmp(w[2], "env", 3))
		s->dest = INIT_SECRET_ENV;
	else if (l[2] == 8 && (!strncmp(w[2], "file,env", 8) || !strncmp(w[2], "env,file", 8)))
		s->dest = INIT_SECRET_FILE | INIT_SECRET_ENV;
	else
		goto bad;
	s->sealed = sealed;
	k->n_secrets++;
	return 0;
bad:
	free(s->source);
	s->source = NULL;
	return -EINVAL;
}

static int parse_kbs(struct init_kbs *k, const char *key, const char *value)
{
	unsigned n;
	int r;

	if (!strcmp(key, "url") && !strcmp(value, "initdata")) {
		k->url[0] = 0;
		k->url_from_initdata = k->enabled = true;
		return 0;
	}
	if (!strcmp(key, "url") || !strcmp(key, "imds_url")) {
		char *dst = key[0] == 'u' ? k->url : k->imds_url;
		size_t len = strlen(value);

		/* IMDS is link-local plain HTTP by design: an https:// imds_url
		 * could never work.  An http:// KBS url parses, to be refused below. */
		if (len >= sizeof(k->url) || (strncmp(value, "https://", 8) && strncmp(value, "http://", 7)) ||
		    (key[0] == 'i' && strncmp(value, "http://", 7)))
			return -EINVAL;
		memcpy(dst, value, len + 1);
		/* The transport wants a base without a trailing slash. */
		while (len > 8 && dst[len - 1] == '/')
			dst[--len] = 0;
		if (key[0] == 'u') {
			k->enabled = true;
			k->url_from_initdata = false;
		}
		return 0;
	}
	if (!strcmp(key, "legacy_tee_names"))
		return parse_bool(value, &k->legacy_tee_names);
	if (!strcmp(key, "ca")) {
		if (value[0] != '/' || strlen(value) >= sizeof(k->ca))
			return -EINVAL;
		strcpy(k->ca, value);
		return 0;
	}
	if (!strcmp(key, "pin")) {
		r = cvm_hex_decode(value, strlen(value), k->pin, sizeof(k->pin));
		if (r == 0)
			k->has_pin = true;
		return r;
	}
	if (!strcmp(key, "tee")) {
		if (!strcmp(value, "auto"))
			k->tee = INIT_TEE_AUTO;
		else if (!strcmp(value, "az-snp-vtpm"))
			k->tee = INIT_TEE_SNP;
		else if (!strcmp(value, "az-tdx-vtpm"))
			k->tee = INIT_TEE_TDX;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "evidence_version")) {
		r = parse_id(value, &n);
		if (r < 0 || n < 1 || n > 2)
			return -EINVAL;
		k->evidence_version = (int)n;
		return 0;
	}
	if (!strcmp(key, "timeout")) {
		r = parse_id(value, &n);
		if (r < 0 || n < 1 || n > 600)
			return -EINVAL;
		k->timeout = n;
		return 0;
	}
	if (!strcmp(key, "secret"))
		return parse_secret(k, value, false);
	if (!strcmp(key, "sealed"))
		return parse_secret(k, value, true);
	return -EINVAL;
}

static int on_key(const char *section, const char *key, const char *value, unsigned line, void *userdata)
{
	struct init_config *c = userdata;
	unsigned id;
	int r;

	/* Sealed secrets are the one value allowed to be long. */
	if (!strcmp(section, "kbs") && !strcmp(key, "sealed"))
		return strlen(value) > INIT_MAX_SEALED ? -E2BIG : parse_kbs(&c->kbs, key, value);
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
			if (key[0] == 'u') {
				c->uid = id;
			} else {
				c->gid = id;
				c->has_gid = true;
			}
			return 0;
		}
		if (!strcmp(key, "workdir")) {
			if (value[0] != '/')
				return -EINVAL;
			strcpy(c->workdir, value);
			return 0;
		}
		if (!strcmp(key, "root")) {
			if (value[0] != '/' || !value[1] || strstr(value, ".."))
				return -EINVAL;
			strcpy(c->root, value);
			return 0;
		}
		if (!strcmp(key, "hostname")) {
			size_t l = strlen(value);
			if (!l || l >= sizeof(c->hostname) || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != l)
				return -EINVAL;
			strcpy(c->hostname, value);
			return 0;
		}
		if (!strcmp(key, "image_manifest") || !strcmp(key, "image_config")) {
			char *dst = key[6] == 'm' ? c->image_manifest : c->image_config;
			if (strlen(value) != 71 || strncmp(value, "sha256:", 7) || strspn(value + 7, "0123456789abcdef") != 64)
				return -EINVAL;
			strcpy(dst, value);
			return 0;
		}
	} else if (!strcmp(section, "network")) {
		return parse_network(c, key, value);
	} else if (!strcmp(section, "kbs")) {
		return parse_kbs(&c->kbs, key, value);
	} else if (!strcmp(section, "azure")) {
		if (!strcmp(key, "report_ready")) {
			if (!strcmp(value, "auto"))
				c->azure_ready = INIT_AZURE_READY_AUTO;
			else if (!strcmp(value, "yes"))
				c->azure_ready = INIT_AZURE_READY_YES;
			else if (!strcmp(value, "no"))
				c->azure_ready = INIT_AZURE_READY_NO;
			else
				return -EINVAL;
			return 0;
		}
		if (!strcmp(key, "ready_timeout")) {
			r = parse_id(value, &id);
			if (r < 0 || id < 1 || id > INIT_MAX_READY_TIMEOUT)
				return -EINVAL;
			c->azure_ready_timeout = id;
			return 0;
		}
	} else if (!strcmp(section, "initdata")) {
		if (!strcmp(key, "require"))
			return parse_bool(value, &c->initdata_require);
		if (!strcmp(key, "source")) {
			if (!strcmp(value, "auto"))
				c->initdata_source = INIT_INITDATA_AUTO;
			else if (!strcmp(value, "imds"))
				c->initdata_source = INIT_INITDATA_IMDS;
			else if (!strcmp(value, "none"))
				c->initdata_source = INIT_INITDATA_NONE;
			else
				return -EINVAL;
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
		if (!strcmp(key, "report_evidence")) {
			static const char *const v[] = { "auto", "no", "require" };
			for (int i = 0; i < 3; i++)
				if (!strcmp(value, v[i])) {
					c->report_evidence = (enum init_report_evidence)i;
					return 0;
				}
			return -EINVAL;
		}
		if (!strcmp(key, "report_nonce")) {
			size_t n = strlen(value);
			if (n < 16 || n > 128 || n % 2)
				return -EINVAL;
			for (size_t i = 0; i < n; i++)
				if (cvm_hex_digit(value[i]) < 0)
					return -EINVAL;
			memcpy(c->report_nonce, value, n + 1);
			return 0;
		}
		if (!strcmp(key, "stop_timeout")) {
			r = parse_id(value, &id);
			if (r < 0 || id > INIT_MAX_STOP_TIMEOUT)
				return -EINVAL;
			c->stop_timeout = id;
			return 0;
		}
	}
	/* Sections the init does not act on are the builder's; init.conf
	 * carries only [workload], [init], [network], [kbs], [azure] and [initdata], so anything else
	 * is a mistake. */
	(void)line;
	return -EINVAL;
}

bool init_initdata_wanted(const struct init_config *c)
{
	return c->initdata_source == INIT_INITDATA_IMDS ||
	       (c->initdata_source == INIT_INITDATA_AUTO &&
		(c->kbs.enabled || c->initdata_require || c->report_evidence == INIT_EVIDENCE_REQUIRE));
}

void init_config_free(struct init_config *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[1 + i]);
	for (size_t i = 0; i < c->envc; i++) {
		/* Entries past env_first hold secrets. */
		if (c->kbs.enabled && i >= c->kbs.env_first)
			explicit_bzero(c->envp[i], strlen(c->envp[i]));
		free(c->envp[i]);
	}
	for (size_t i = 0; i < c->kbs.n_secrets; i++)
		free(c->kbs.secrets[i].source);
	explicit_bzero(c, sizeof(*c));
}

int init_config_parse(const uint8_t *buf, size_t len, struct init_config *ret, unsigned *ret_line)
{
	struct init_config c = { .on_exit = INIT_POWEROFF, .report_pcrs = true, .net_timeout = 30,
				 .stop_timeout = 10, .azure_ready_timeout = 30,
				 .kbs = { .evidence_version = 2, .timeout = 30 } };
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
	/* The KBS needs the network, TLS with a way to authenticate it, and something
	 * to fetch; secrets without a KBS would never arrive. */
	/* With url = initdata the URL and certificate are checked once read. */
	if ((c.kbs.enabled && (c.net_mode == INIT_NET_NONE || !c.kbs.n_secrets ||
			       (!c.kbs.url_from_initdata &&
				(strncmp(c.kbs.url, "https://", 8) || (!c.kbs.ca[0] && !c.kbs.has_pin))))) ||
	    (!c.kbs.enabled && c.kbs.n_secrets) || (init_initdata_wanted(&c) && c.net_mode == INIT_NET_NONE) ||
	    (c.initdata_require && c.initdata_source == INIT_INITDATA_NONE) ||
	    (c.report_evidence == INIT_EVIDENCE_REQUIRE && (!c.report_pcrs || c.net_mode == INIT_NET_NONE)) ||
	    (c.kbs.url_from_initdata && c.initdata_source == INIT_INITDATA_NONE)) {
		r = -ENOTCONN;
		goto out;
	}
	/* A secret and a configured variable of one name: which one the workload
	 * reads would depend on its libc's getenv. */
	for (size_t i = 0; i < c.kbs.n_secrets; i++) {
		const char *name = c.kbs.secrets[i].name;
		size_t n = strlen(name);

		for (size_t e = 0; (c.kbs.secrets[i].dest & INIT_SECRET_ENV) && e < c.envc; e++)
			if (!strncmp(c.envp[e], name, n) && c.envp[e][n] == '=') {
				r = -ENOTUNIQ;
				goto out;
			}
	}
	/* No user database in the image: a user's own group is the group of
	 * the same number, never root's. */
	if (!c.has_gid)
		c.gid = c.uid;
	if (!c.kbs.imds_url[0])
		strcpy(c.kbs.imds_url, "http://169.254.169.254");
	c.kbs.env_first = c.envc;
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
