/* init.conf: the [workload], [init], [network], [kbs], [azure] and
 * [initdata] sections the init acts on, rendered from the configuration and
 * parsed back with the init's own parser (init/config.c, linked into
 * cvm-image), so build time and boot time cannot disagree. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/config.h"
#include "cvmkit/kbsref.h"

/* The init's configuration parser (init/config.c), linked into cvm-image. */
#include "../../init/init.h"
#include "cli.h"

int has_newline(const char *s) { return strchr(s, '\n') || strchr(s, '\r'); }

static bool is_ipv4(const char *s)
{
	struct in_addr a;

	return s && inet_pton(AF_INET, s, &a) == 1;
}

/* [network] goes into init.conf only when the network is wanted, so images
 * without it keep their init.conf (and measurements) unchanged.  Values are
 * checked here so a bad address fails the build, not the boot. */
static const char *network_error = "";

static int render_network(const struct cvm_conf *c, struct text *t)
{
	const char *mode = cvm_conf_get(c, "network.mode"), *ifname = cvm_conf_get(c, "network.interface");
	const char *addr = cvm_conf_get(c, "network.address"), *gw = cvm_conf_get(c, "network.gateway");
	const char *timeout = cvm_conf_get(c, "network.timeout"), *dns[4];
	size_t n = cvm_conf_get_all(c, "network.dns", dns, 4);
	char ip[32], *end;
	const char *slash;
	unsigned long v;

	if (!strcmp(mode, "none"))
		return 0;
	network_error = " ([network] mode is none, dhcp or static)";
	if (strcmp(mode, "dhcp") && strcmp(mode, "static"))
		return -EINVAL;
	network_error = " ([network] gateway and dns are IPv4 addresses, at most 3 dns, interface a NIC name)";
	if (n > 3 || (gw && !is_ipv4(gw)) || (ifname && (!ifname[0] || strlen(ifname) > 15 || strchr(ifname, '/') ||
							   has_newline(ifname))))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_ipv4(dns[i]))
			return -EINVAL;
	network_error = " ([network] timeout is 1-3600 seconds)";
	errno = 0;
	v = strtoul(timeout, &end, 10);
	if (errno || *end || end == timeout || v < 1 || v > 3600)
		return -EINVAL;
	if (!strcmp(mode, "static")) {
		network_error = " ([network] mode = static needs address = IPv4/PREFIX, prefix 1-32)";
		if (!addr || !(slash = strchr(addr, '/')) || (size_t)(slash - addr) >= sizeof(ip))
			return -EINVAL;
		snprintf(ip, sizeof(ip), "%.*s", (int)(slash - addr), addr);
		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (!is_ipv4(ip) || errno || *end || end == slash + 1 || v < 1 || v > 32)
			return -EINVAL;
	}
	network_error = "";
	text_printf(t, "[network]\nmode = %s\ntimeout = %s\n", mode, timeout);
	if (ifname)
		text_printf(t, "interface = %s\n", ifname);
	if (addr && !strcmp(mode, "static"))
		text_printf(t, "address = %s\n", addr);
	if (gw && !strcmp(mode, "static"))
		text_printf(t, "gateway = %s\n", gw);
	for (size_t i = 0; i < n; i++)
		text_printf(t, "dns = %s\n", dns[i]);
	return t->err;
}

/* [kbs]: checked here so a typo in a secret fails the build, not the boot.
 * Like [network] it is rendered only when a KBS url is set, so images
 * without it keep their init.conf unchanged. */
static char kbs_error[200] = "";

__attribute__((format(printf, 1, 2))) static int kbs_bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kbs_error, sizeof(kbs_error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "NAME SOURCE DEST": the three words, or an error naming the rule broken. */
static int kbs_check_entry(const char *key, const char *v, char names[][65], size_t *n_names, const char **env,
			   size_t n_env)
{
	char w[3][3600], path[CVM_KBS_PATH_MAX];
	int n = 0;
	const char *p = v;

	while (*p && n < 4) {
		size_t l;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		l = strcspn(p, " \t");
		if (n == 3 || l >= sizeof(w[0]))
			return kbs_bad("[kbs] %s '%.40s...': expected NAME SOURCE file|env|file,env", key, v);
		memcpy(w[n], p, l);
		w[n++][l] = 0;
		p += l;
	}
	if (n != 3)
		return kbs_bad("[kbs] %s '%.60s': expected NAME SOURCE file|env|file,env", key, v);
	if (!cvm_secret_name_valid(w[0], strlen(w[0])))
		return kbs_bad("[kbs] %s: name '%.64s' is not [A-Za-z_][A-Za-z0-9_]* (at most 64)", key, w[0]);
	for (size_t i = 0; i < *n_names; i++)
		if (!strcmp(names[i], w[0]))
			return kbs_bad("[kbs] %s: name '%s' is used twice", key, w[0]);
	if (*n_names >= 32)
		return kbs_bad("[kbs]: at most 32 secrets");
	strcpy(names[(*n_names)++], w[0]);
	if (!strcmp(key, "secret") && cvm_sealed_uri_path(w[1], path, sizeof(path)) < 0)
		return kbs_bad("[kbs] secret %s: '%.80s' is not kbs:///REPO/TYPE/TAG (segments [A-Za-z0-9_-][A-Za-z0-9_.-]*)",
			       w[0], w[1]);
	if (!strcmp(key, "sealed") && !cvm_sealed_ref_valid(w[1], strlen(w[1])))
		return kbs_bad("[kbs] sealed %s: not sealed.HEADER.PAYLOAD.SIGNATURE (base64url, at most 3500 characters)",
			       w[0]);
	if (strcmp(w[2], "file") && strcmp(w[2], "env") && strcmp(w[2], "file,env") && strcmp(w[2], "env,file"))
		return kbs_bad("[kbs] %s %s: destination '%.20s' is not file, env or file,env", key, w[0], w[2]);
	/* Two values for one name: which one the workload reads would depend on
	 * its libc's getenv, not on the configuration. */
	for (size_t i = 0; strstr(w[2], "env") && i < n_env; i++)
		if (!strncmp(env[i], w[0], strlen(w[0])) && env[i][strlen(w[0])] == '=')
			return kbs_bad("[kbs] %s %s: the workload's environment already sets %s ([workload] env)", key,
				       w[0], w[0]);
	return 0;
}

static bool is_yes_no(const char *v) { return !strcmp(v, "yes") || !strcmp(v, "no"); }

static int render_kbs(const struct cvm_conf *c, struct text *t)
{
	const char *url = cvm_conf_get(c, "kbs.url");
	const char *ca = cvm_conf_get(c, "kbs.ca"), *pin = cvm_conf_get(c, "kbs.pin"), *tee = cvm_conf_get(c, "kbs.tee");
	const char *legacy = cvm_conf_get(c, "kbs.legacy_tee_names"), *ev = cvm_conf_get(c, "kbs.evidence_version");
	const char *timeout = cvm_conf_get(c, "kbs.timeout"), *imds = cvm_conf_get(c, "kbs.imds_url");
	const char *secrets[64], *sealed[64], *env[64];
	size_t n_secrets = cvm_conf_get_all(c, "kbs.secret", secrets, 64), n_sealed = cvm_conf_get_all(c, "kbs.sealed", sealed, 64);
	size_t n_env = cvm_conf_get_all(c, "workload.env", env, 64);
	static char names[64][65];
	size_t n_names = 0;
	const char *hostpart;
	bool from_initdata;
	char *end;
	unsigned long v;
	int r;

	if (!url) {
		if (n_secrets || n_sealed || ca || pin)
			return kbs_bad("[kbs] secret, sealed, ca and pin need [kbs] url");
		return 0;
	}
	/* url = initdata: the URL arrives at boot, bound into PCR 8. */
	from_initdata = !strcmp(url, "initdata");
	if (!from_initdata && (has_newline(url) || strchr(url, ' ') || strlen(url) > 200))
		return kbs_bad("[kbs] url: one line without spaces, at most 200 characters");
	if (!is_yes_no(legacy))
		return kbs_bad("[kbs] legacy_tee_names is yes or no");
	/* No plain HTTP, not even on request: the JWE hides a secret but does not
	 * say who sent it, and sealed-secret keys come from the same KBS, so a
	 * machine on the path could hand the workload secrets of its choosing. */
	if (!from_initdata) {
		if (strncmp(url, "https://", 8))
			return kbs_bad("[kbs] url '%.80s': https://HOST[:PORT] (plain http:// is not supported), or initdata",
				       url);
		hostpart = url + 8;
		if (!*hostpart || *hostpart == '/' || *hostpart == ':' || strchr(hostpart, '/') || strchr(hostpart, '@') ||
		    strchr(hostpart, '?') || strchr(hostpart, '#'))
			return kbs_bad("[kbs] url '%.80s': https://HOST[:PORT] without a path", url);
	}
	if (!from_initdata && !ca && !pin)
		return kbs_bad("[kbs] an https url needs ca (a CA certificate file) and/or pin (SPKI SHA-256)");
	if (pin) {
		if (strlen(pin) != 64)
			return kbs_bad("[kbs] pin: 64 hex digits (SHA-256 of the KBS key's SubjectPublicKeyInfo)");
		for (const char *p = pin; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return kbs_bad("[kbs] pin: 64 hex digits (SHA-256 of the KBS key's SubjectPublicKeyInfo)");
	}
	if (strcmp(tee, "auto") && strcmp(tee, "az-snp-vtpm") && strcmp(tee, "az-tdx-vtpm"))
		return kbs_bad("[kbs] tee: auto, az-snp-vtpm or az-tdx-vtpm");
	if (strcmp(ev, "1") && strcmp(ev, "2"))
		return kbs_bad("[kbs] evidence_version: 1 or 2");
	errno = 0;
	v = strtoul(timeout, &end, 10);
	if (errno || *end || end == timeout || v < 1 || v > 600)
		return kbs_bad("[kbs] timeout: 1-600 seconds");
	if (strncmp(imds, "http://", 7) || !imds[7] || has_newline(imds) || strchr(imds, ' ') || strlen(imds) > 200)
		return kbs_bad("[kbs] imds_url '%.80s': http://HOST[:PORT] (IMDS speaks plain HTTP only)", imds);
	if (!strcmp(cvm_conf_get(c, "network.mode"), "none"))
		return kbs_bad("[kbs] needs the network: set [network] mode = dhcp or static");
	if (n_secrets + n_sealed == 0)
		return kbs_bad("[kbs] url is set but no secret or sealed entry names what to fetch");
	if (n_secrets + n_sealed > 32)
		return kbs_bad("[kbs]: at most 32 secrets");
	for (size_t i = 0; i < n_secrets; i++)
		if ((r = kbs_check_entry("secret", secrets[i], names, &n_names, env, n_env < 64 ? n_env : 64)) < 0)
			return r;
	for (size_t i = 0; i < n_sealed; i++)
		if ((r = kbs_check_entry("sealed", sealed[i], names, &n_names, env, n_env < 64 ? n_env : 64)) < 0)
			return r;
	text_printf(t, "[kbs]\nurl = %s\n", url);
	if (ca)
		text_printf(t, "ca = %s\n", KBS_CA_IMAGE_PATH);
	if (pin)
		text_printf(t, "pin = %s\n", pin);
	text_printf(t, "tee = %s\nlegacy_tee_names = %s\nevidence_version = %s\ntimeout = %s\nimds_url = %s\n", tee, legacy,
		ev, timeout, imds);
	for (size_t i = 0; i < n_secrets; i++)
		text_printf(t, "secret = %s\n", secrets[i]);
	for (size_t i = 0; i < n_sealed; i++)
		text_printf(t, "sealed = %s\n", sealed[i]);
	return t->err;
}

/* [initdata]: checked here so a mistake fails the build, not the boot. */
static int render_initdata(const struct cvm_conf *c, struct text *t)
{
	const char *req = cvm_conf_get(c, "initdata.require"), *src = cvm_conf_get(c, "initdata.source");
	const char *url = cvm_conf_get(c, "kbs.url");
	bool net = strcmp(cvm_conf_get(c, "network.mode"), "none") != 0;

	if (!is_yes_no(req))
		return kbs_bad("[initdata] require: yes or no");
	if (strcmp(src, "auto") && strcmp(src, "imds") && strcmp(src, "none"))
		return kbs_bad("[initdata] source: auto, imds or none");
	if (!strcmp(src, "none") && (!strcmp(req, "yes") || (url && !strcmp(url, "initdata"))))
		return kbs_bad("[initdata] source = none contradicts require = yes and [kbs] url = initdata");
	if (!net && (!strcmp(src, "imds") || !strcmp(req, "yes")))
		return kbs_bad("[initdata] comes from IMDS: set [network] mode = dhcp or static");
	text_printf(t, "[initdata]\nrequire = %s\nsource = %s\n", req, src);
	return t->err;
}

/* [azure]: rendered only with the network (the report needs it), so images
 * without [network] keep their init.conf unchanged; checked either way. */
static int render_azure(const struct cvm_conf *c, struct text *t)
{
	const char *ready = cvm_conf_get(c, "azure.report_ready"), *timeout = cvm_conf_get(c, "azure.ready_timeout");
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(timeout, &end, 10);
	if (strcmp(ready, "auto") && strcmp(ready, "yes") && strcmp(ready, "no"))
		return kbs_bad("[azure] report_ready is auto, yes or no");
	if (errno || *end || end == timeout || v < 1 || v > 600)
		return kbs_bad("[azure] ready_timeout is 1-600 seconds");
	if (!strcmp(cvm_conf_get(c, "network.mode"), "none")) {
		if (!strcmp(ready, "yes"))
			return kbs_bad("[azure] report_ready = yes needs the network: set [network] mode = dhcp or static");
		return 0;
	}
	text_printf(t, "[azure]\nreport_ready = %s\nready_timeout = %s\n", ready, timeout);
	return t->err;
}

/* [workload]: the binary's, from the configuration, or the container
 * image's (image_section), resolved from its config at build time. */
static int render_workload(const struct cvm_conf *c, const char *wl_path, const char *image_section, struct text *t)
{
	const char *vals[64], *hostname = cvm_conf_get(c, "workload.hostname");
	size_t n;

	if (hostname) {
		size_t l = strlen(hostname);
		if (!l || l > 64 || strspn(hostname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != l)
			return -EINVAL;
	}
	if (image_section) {
		text_printf(t, "%s", image_section);
		return t->err;
	}
	text_printf(t, "# generated by cvm-image; measured as part of the initrd\n[workload]\npath = %s\n", wl_path);
	if (hostname)
		text_printf(t, "hostname = %s\n", hostname);
	n = cvm_conf_get_all(c, "workload.arg", vals, 64);
	if (n > 64)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (has_newline(vals[i]))
			return -EINVAL;
		text_printf(t, "arg = %s\n", vals[i]);
	}
	n = cvm_conf_get_all(c, "workload.env", vals, 64);
	if (n > 64)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (has_newline(vals[i]) || !strchr(vals[i], '='))
			return -EINVAL;
		text_printf(t, "env = %s\n", vals[i]);
	}
	/* The group is always explicit in init.conf: the uid's own unless set. */
	text_printf(t, "uid = %s\ngid = %s\nworkdir = %s\n", cvm_conf_get(c, "workload.uid"),
		cvm_conf_get(c, "workload.gid") ? cvm_conf_get(c, "workload.gid") : cvm_conf_get(c, "workload.uid"),
		cvm_conf_get(c, "workload.workdir"));
	return t->err;
}

/* [init]: always rendered; its values are checked by the init's own parser
 * (check_init_conf). */
static int render_init(const struct cvm_conf *c, struct text *t)
{
	text_printf(t, "[init]\non_exit = %s\nreport_pcrs = %s\ndump_eventlog = %s\nstop_timeout = %s\n",
		cvm_conf_get(c, "init.on_exit"), cvm_conf_get(c, "init.report_pcrs"), cvm_conf_get(c, "init.dump_eventlog"),
		cvm_conf_get(c, "init.stop_timeout"));
	text_printf(t, "report_evidence = %s\n", cvm_conf_get(c, "init.report_evidence"));
	if (cvm_conf_get(c, "init.report_nonce"))
		text_printf(t, "report_nonce = %s\n", cvm_conf_get(c, "init.report_nonce"));
	return t->err;
}

/* The sections after [workload], in init.conf's order.  Each checks its keys
 * and appends its section, or nothing when the image does not use it (so
 * images without it keep their init.conf, and measurements, unchanged);
 * returns 0 or -errno, with kbs_bad()'s or network_error's reason. */
static int (*const init_sections[])(const struct cvm_conf *c, struct text *t) = {
	render_init, render_network, render_kbs, render_azure, render_initdata,
};

/* The init's own configuration: the [workload], [init], [network], [kbs], [azure] and [initdata] keys it acts on. */
int render_init_conf(const struct cvm_conf *c, const char *wl_path, const char *image_section, struct text *t)
{
	int r = render_workload(c, wl_path, image_section, t);

	for (size_t i = 0; r == 0 && i < sizeof(init_sections) / sizeof(init_sections[0]); i++)
		r = init_sections[i](c, t);
	return r;
}

int render_fail(int r)
{
	return fail(2, "render the init configuration: %s%s%s%s", strerror(-r), network_error, kbs_error[0] ? ": " : "",
		    kbs_error);
}

/* What the init will read, read now by the init's own parser: a value it
 * would refuse at boot is refused at build time, naming the line.  Returns 0
 * or fail()'s exit code. */
int check_init_conf(const struct text *t)
{
	struct init_config ic;
	unsigned line = 0;
	int r = init_config_parse((const uint8_t *)t->p, t->len, &ic, &line);

	if (r < 0) {
		char key[128] = "";
		const char *l = t->p;
		for (unsigned i = 1; i < line && l; i++)
			l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL;
		if (l && line)
			snprintf(key, sizeof(key), "%.*s", (int)strcspn(l, "\n"), l);
		return fail(2, "use this configuration: the init would refuse %s%s%sat boot (%s)",
			    key[0] ? "'" : "", key, key[0] ? "' " : "", strerror(-r));
	}
	init_config_free(&ic);
	return 0;
}
