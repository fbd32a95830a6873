/* Image config -> the process the init runs, resolved at build time the way
 * a runtime would resolve it for one container (image-spec config.md and
 * conversion.md).  See include/cvmkit/oci.h. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/errbuf.h"
#include "cvmkit/oci.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_ID 0x7fffffffu

/* Every message here is about bad input. */
#define bad(err, size, ...) cvm_errf(err, size, -EINVAL, __VA_ARGS__)

static bool numeric(const char *s, uint32_t *ret)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > MAX_ID)
		return false;
	*ret = (uint32_t)v;
	return true;
}

/* Finds the line of a passwd/group file whose field KEY_FIELD equals KEY and
 * returns field WANT of it as a number.  Lines are "a:b:c:d..." */
static int colon_file(const uint8_t *buf, size_t len, unsigned key_field, const char *key, unsigned want,
		      uint32_t *ret)
{
	const char *p = (const char *)buf, *end;

	/* An image without the file: NULL + 0 is undefined, so no end pointer. */
	if (!buf)
		return -ENOENT;
	end = p + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *f[8];
		size_t fl[8], nf = 0;
		const char *q = p;

		while (nf < 8) {
			const char *c = memchr(q, ':', (size_t)(le - q));
			f[nf] = q;
			fl[nf++] = (size_t)((c ? c : le) - q);
			if (!c)
				break;
			q = c + 1;
		}
		if (nf > key_field && nf > want && fl[key_field] == strlen(key) && !memcmp(f[key_field], key, fl[key_field])) {
			char num[12];
			if (fl[want] >= sizeof(num))
				return -EINVAL;
			memcpy(num, f[want], fl[want]);
			num[fl[want]] = 0;
			return numeric(num, ret) ? 0 : -EINVAL;
		}
		p = le + 1;
	}
	return -ENOENT;
}

int cvm_oci_user_resolve(const char *user, const uint8_t *passwd, size_t passwd_len, const uint8_t *group,
			 size_t group_len, uint32_t *ret_uid, uint32_t *ret_gid, char *err, size_t es)
{
	char u[256], *g;
	uint32_t uid = 0, gid = 0;
	int r;

	if (!user || !*user) {
		*ret_uid = 0;
		*ret_gid = 0;
		return 0;
	}
	if (strlen(user) >= sizeof(u))
		return bad(err, es, "use the image's User: too long");
	strcpy(u, user);
	g = strchr(u, ':');
	if (g)
		*g++ = 0;
	if (!*u || (g && !*g))
		return bad(err, es, "use the image's User '%s': expected user[:group]", user);
	if (numeric(u, &uid)) {
		/* A numeric user without a group takes its passwd entry's gid when
		 * there is one, else 0 (as runc). */
		char num[12];
		snprintf(num, sizeof(num), "%u", uid);
		if (!g && colon_file(passwd, passwd_len, 2, num, 3, &gid) < 0)
			gid = 0;
	} else {
		r = colon_file(passwd, passwd_len, 0, u, 2, &uid);
		if (r < 0)
			return bad(err, es, "use the image's User '%s': no user '%s' in the image's /etc/passwd", user, u);
		if (!g && colon_file(passwd, passwd_len, 0, u, 3, &gid) < 0)
			return bad(err, es, "use the image's User '%s': bad /etc/passwd entry", user);
	}
	if (g && !numeric(g, &gid) && colon_file(group, group_len, 0, g, 2, &gid) < 0)
		return bad(err, es, "use the image's User '%s': no group '%s' in the image's /etc/group", user, g);
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

void cvm_oci_process_free(struct cvm_oci_process *p)
{
	for (size_t i = 0; i < p->argc; i++)
		free(p->argv[i]);
	for (size_t i = 0; i < p->envc; i++)
		free(p->env[i]);
	memset(p, 0, sizeof(*p));
}

/* Values go into init.conf as one line each. */
static bool value_ok(const char *v)
{
	return strlen(v) <= CVM_OCI_MAX_VALUE && !strchr(v, '\n') && !strchr(v, '\r');
}

static int push(char **arr, size_t *n, size_t max, const char *v, const char *what, char *err, size_t es)
{
	if (*n >= max)
		return bad(err, es, "use the image's %s: more than %zu entries", what, max);
	if (!value_ok(v))
		return bad(err, es, "use the image's %s: '%.60s' has a line break or is over %u bytes", what, v,
			   CVM_OCI_MAX_VALUE);
	arr[*n] = strdup(v);
	if (!arr[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int push_array(struct cvm_oci_process *p, const cJSON *a, const char *what, char *err, size_t es)
{
	const cJSON *v;
	int r;

	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return bad(err, es, "use the image's %s: not an array of strings", what);
	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			return bad(err, es, "use the image's %s: not an array of strings", what);
		r = push(p->argv, &p->argc, CVM_OCI_MAX_ARGS, v->valuestring, what, err, es);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Sets NAME=VALUE, replacing an earlier NAME. */
static int set_env(struct cvm_oci_process *p, const char *kv, char *err, size_t es)
{
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv)
		return bad(err, es, "use the environment entry '%.60s': not NAME=VALUE", kv);
	for (size_t i = 0; i < p->envc; i++)
		if (!strncmp(p->env[i], kv, (size_t)(eq - kv) + 1)) {
			char *d;
			if (!value_ok(kv))
				return bad(err, es, "use the environment entry '%.60s': a line break or over %u bytes", kv,
					   CVM_OCI_MAX_VALUE);
			d = strdup(kv);
			if (!d)
				return -ENOMEM;
			free(p->env[i]);
			p->env[i] = d;
			return 0;
		}
	return push(p->env, &p->envc, CVM_OCI_MAX_ENV, kv, "Env", err, es);
}

static bool executable(const struct cvm_oci_tree *t, const char *path)
{
	struct cvm_oci_stat st;

	return cvm_oci_tree_stat(t, path, true, &st) == 0 && st.type == CVM_OCI_REG && (st.mode & 0111);
}

/* argv[0] through PATH, as execvp would inside the container. */
static int find_program(struct cvm_oci_process *p, const struct cvm_oci_tree *t, char *err, size_t es)
{
	const char *prog = p->argv[0], *path = &DEFAULT_PATH[5];

	if (strchr(prog, '/')) {
		int n = prog[0] == '/' ? snprintf(p->path, sizeof(p->path), "%s", prog)
				       : snprintf(p->path, sizeof(p->path), "%s/%s", strcmp(p->cwd, "/") ? p->cwd : "", prog);
		if (n < 0 || (size_t)n >= sizeof(p->path))
			return bad(err, es, "run '%.100s': path too long", prog);
		if (!executable(t, p->path))
			return bad(err, es, "run '%s': not an executable file in the image", p->path);
		return 0;
	}
	for (size_t i = 0; i < p->envc; i++)
		if (!strncmp(p->env[i], "PATH=", 5))
			path = p->env[i] + 5;
	for (const char *d = path; *d;) {
		size_t l = strcspn(d, ":");
		if (l && d[0] == '/' && l + 1 + strlen(prog) < sizeof(p->path)) {
			snprintf(p->path, sizeof(p->path), "%.*s/%s", (int)l, d, prog);
			if (executable(t, p->path))
				return 0;
		}
		d += l;
		if (*d == ':')
			d++;
	}
	p->path[0] = 0;
	return bad(err, es, "run '%s': not found in the image's PATH (%.200s)", prog, path);
}

static int read_etc(const struct cvm_oci_tree *t, const char *path, const uint8_t **ret, size_t *ret_len)
{
	struct cvm_oci_stat st;

	if (cvm_oci_tree_stat(t, path, true, &st) < 0 || st.type != CVM_OCI_REG) {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	*ret = st.data;
	*ret_len = st.size;
	return 0;
}

int cvm_oci_process_resolve(const uint8_t *config, size_t config_len, const struct cvm_oci_tree *t,
			    const char *const *args, size_t n_args, const char *const *extra_env, size_t n_env,
			    struct cvm_oci_process *ret, char *err, size_t es)
{
	struct cvm_oci_process p = { 0 };
	cJSON *root = cJSON_ParseWithLength((const char *)config, config_len);
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "config"), *v;
	const uint8_t *passwd, *group;
	size_t passwd_len, group_len;
	const char *s;
	int r = 0;

	if (!cJSON_IsObject(root)) {
		r = bad(err, es, "parse the image config: not a JSON object");
		goto out;
	}
	/* Entrypoint ++ Cmd; the builder's arguments replace Cmd. */
	r = push_array(&p, cJSON_GetObjectItemCaseSensitive(c, "Entrypoint"), "Entrypoint", err, es);
	if (r < 0)
		goto out;
	if (args) {
		for (size_t i = 0; i < n_args && r == 0; i++)
			r = push(p.argv, &p.argc, CVM_OCI_MAX_ARGS, args[i], "arguments", err, es);
	} else {
		r = push_array(&p, cJSON_GetObjectItemCaseSensitive(c, "Cmd"), "Cmd", err, es);
	}
	if (r < 0)
		goto out;
	if (!p.argc || !p.argv[0][0]) {
		r = bad(err, es, "use the image config: neither Entrypoint nor Cmd names a program (give one with --workload-arg)");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(c, "Env");
	if (v && !cJSON_IsNull(v)) {
		const cJSON *e;
		if (!cJSON_IsArray(v)) {
			r = bad(err, es, "use the image's Env: not an array of strings");
			goto out;
		}
		cJSON_ArrayForEach(e, v) {
			r = cJSON_IsString(e) ? set_env(&p, e->valuestring, err, es)
					      : bad(err, es, "use the image's Env: not an array of strings");
			if (r < 0)
				goto out;
		}
	}
	{
		bool has_path = false;
		for (size_t i = 0; i < p.envc; i++)
			has_path |= !strncmp(p.env[i], "PATH=", 5);
		if (!has_path && (r = set_env(&p, DEFAULT_PATH, err, es)) < 0)
			goto out;
	}
	for (size_t i = 0; i < n_env; i++)
		if ((r = set_env(&p, extra_env[i], err, es)) < 0)
			goto out;
	s = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "WorkingDir"))
		    ? cJSON_GetObjectItemCaseSensitive(c, "WorkingDir")->valuestring
		    : "";
	if (!*s)
		s = "/";
	if (s[0] != '/' || !value_ok(s)) {
		r = bad(err, es, "use the image's WorkingDir '%.100s': not an absolute path", s);
		goto out;
	}
	snprintf(p.cwd, sizeof(p.cwd), "%s", s);
	s = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "User")) ? cJSON_GetObjectItemCaseSensitive(c, "User")->valuestring
									  : "";
	snprintf(p.user, sizeof(p.user), "%s", s);
	read_etc(t, "/etc/passwd", &passwd, &passwd_len);
	read_etc(t, "/etc/group", &group, &group_len);
	r = cvm_oci_user_resolve(s, passwd, passwd_len, group, group_len, &p.uid, &p.gid, err, es);
	if (r < 0)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(c, "ExposedPorts");
	if (cJSON_IsObject(v)) {
		const cJSON *e;
		cJSON_ArrayForEach(e, v) {
			size_t l = strlen(p.exposed_ports);
			if (e->string && l + strlen(e->string) + 2 < sizeof(p.exposed_ports))
				snprintf(p.exposed_ports + l, sizeof(p.exposed_ports) - l, "%s%s", l ? " " : "", e->string);
		}
	}
	r = find_program(&p, t, err, es);
	if (r < 0)
		goto out;
	*ret = p;
	memset(&p, 0, sizeof(p));
out:
	cvm_oci_process_free(&p);
	cJSON_Delete(root);
	return r;
}
