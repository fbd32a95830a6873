/* cvm-image: assembles the image from its parts.
 *
 *   cvm-image build  [--config FILE] [--SECTION-KEY VALUE ...] --init FILE --stub FILE
 *                    --linux FILE --uname RELEASE [--modules DIR] [--out DIR] [--cache DIR] [--json]
 *   cvm-image config [--config FILE] [--SECTION-KEY VALUE ...] [--get SECTION.KEY]
 *   cvm-image sign   [--config FILE] [--secureboot-KEY VALUE ...] --in PE --out FILE
 *
 * Exit codes: 0 success, 1 build failure, 2 usage or configuration error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cvmkit/config.h"
#include "cvmkit/cpio.h"
#include "cvmkit/fat.h"
#include "cvmkit/fileio.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/initrd.h"
#include "cvmkit/oci.h"
#include "cvmkit/sbimage.h"
#include "cvmkit/sign.h"
#include "cvmkit/uki.h"
#include "cvmkit/ukibuild.h"
#include "cvmkit/vhd.h"

/* The init's configuration parser (init/config.c), linked into cvm-image. */
#include "../init/init.h"
#include "text.h"
#include "cvmkit/writeout.h"

#define PROG "cvm-image"
#define MIB (1024u * 1024u)
#define IMG_MAX_INPUT (256u * MIB)

static struct timespec t_start;

static double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: [%7.3f s] ", PROG, elapsed());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: fatal: unable to ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s build  [--config FILE] [OPTIONS] --init FILE --stub FILE --linux FILE --uname RELEASE\n"
		"                        [--modules DIR] [--out DIR] [--cache DIR] [--json]\n"
		"                        (--cache: keep the compressed init and modules there, keyed by content)\n"
		"       %s config [--config FILE] [OPTIONS] [--get SECTION.KEY | --check]\n"
		"       %s sign   [--config FILE] [OPTIONS] --in PE --out FILE   (Authenticode, [secureboot] key and cert)\n"
		"\n"
		"Configuration options (each is also a key of the config file; the command line wins):\n",
		PROG, PROG, PROG);
	for (const struct cvm_conf_key *k = cvm_conf_schema; k->section; k++) {
		char opt[80];
		/* The option spells the key's underscores as dashes, as parse_args() registers it. */
		snprintf(opt, sizeof(opt), "%s-%s", k->section, k->key);
		for (char *p = opt; *p; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "  --%s VALUE%s\n      %s%s%s\n", opt, k->multi ? " (repeatable)" : "", k->help,
			k->def ? "; default: " : "", k->def ? k->def : "");
	}
	fprintf(f, "  --set SECTION.KEY=VALUE   the same, by name\n"
		   "  --workload FILE           short for --workload-binary\n"
		   "  --cmdline STRING          short for --kernel-cmdline\n"
		   "  --check                   (config) validate the whole configuration, print nothing\n"
		   "\nExit codes: 0 success, 1 build failure, 2 usage or configuration error.\n"
		   "SOURCE_DATE_EPOCH sets every timestamp in the image (default 0).\n");
}

/* ------------------------------------------------------------------ staging */

static int mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The staging tree is read back into the cpio and removed in the same run:
 * no temporary-and-rename, no fsync (they cost one disk flush per module). */
static int write_staged(const char *path, const uint8_t *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	if (fd < 0)
		return -errno;
	r = cvm_write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static int put_file(const char *root, const char *rel, const uint8_t *data, size_t len, mode_t mode)
{
	char path[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	*slash = 0;
	r = mkdirs(dir, 0755);
	if (r < 0)
		return r;
	return write_staged(path, data, len, mode);
}

static int copy_file(const char *src, const char *root, const char *rel, mode_t mode)
{
	uint8_t *buf;
	size_t len;
	int r = cvm_read_file(src, IMG_MAX_INPUT, &buf, &len);

	if (r < 0)
		return r;
	r = put_file(root, rel, buf, len, mode);
	free(buf);
	return r;
}

/* Copies regular files and directories below src into root/rel; anything else
 * (device nodes, sockets, symlinks) is refused so nothing unexpected ends up
 * measured. */
static int copy_tree(const char *src, const char *root, const char *rel)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char s[PATH_MAX], t[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(s, sizeof(s), "%s/%s", src, e->d_name) >= (int)sizeof(s) ||
		    snprintf(t, sizeof(t), "%s/%s", rel, e->d_name) >= (int)sizeof(t)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (lstat(s, &st) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode))
			r = copy_tree(s, root, t);
		else if (S_ISREG(st.st_mode))
			r = copy_file(s, root, t, st.st_mode & 0777);
		else
			r = -EINVAL;
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		rm_tree(p);
	}
	closedir(d);
	return rmdir(path) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------------ text builders */



static int has_newline(const char *s) { return strchr(s, '\n') || strchr(s, '\r'); }

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

#define KBS_CA_IMAGE_PATH "/etc/cvmkit/kbs-ca.pem"

__attribute__((format(printf, 1, 2))) static int kbs_bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(kbs_error, sizeof(kbs_error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* As the KBS routes resources: [A-Za-z0-9_-][A-Za-z0-9_.-]* per segment. */
static bool kbs_segment_ok(const char *s, size_t n)
{
	if (!n || !(isalnum((unsigned char)s[0]) || s[0] == '_' || s[0] == '-'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("_.-", s[i])))
			return false;
	return true;
}

/* kbs://[host[:port]]/REPO/TYPE/TAG */
static bool kbs_uri_ok(const char *u)
{
	const char *p, *q;
	unsigned n = 0;

	if (strncmp(u, "kbs://", 6))
		return false;
	p = strchr(u + 6, '/');
	if (!p)
		return false;
	for (p++;; p = q + 1) {
		q = strchr(p, '/');
		if (!kbs_segment_ok(p, q ? (size_t)(q - p) : strlen(p)))
			return false;
		n++;
		if (!q)
			break;
	}
	return n == 3;
}

/* "sealed." then three non-empty base64url parts. */
static bool sealed_ok(const char *v)
{
	unsigned dots = 0;
	size_t run = 0;

	if (strncmp(v, "sealed.", 7) || strlen(v) > 3500)
		return false;
	for (v += 7; *v; v++) {
		if (*v == '.') {
			if (!run)
				return false;
			dots++;
			run = 0;
		} else if (isalnum((unsigned char)*v) || *v == '-' || *v == '_') {
			run++;
		} else {
			return false;
		}
	}
	return dots == 2 && run;
}

static bool env_name_ok(const char *s, size_t n)
{
	if (!n || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* "NAME SOURCE DEST": the three words, or an error naming the rule broken. */
static int kbs_check_entry(const char *key, const char *v, char names[][65], size_t *n_names, const char **env,
			   size_t n_env)
{
	char w[3][3600];
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
	if (!env_name_ok(w[0], strlen(w[0])))
		return kbs_bad("[kbs] %s: name '%.64s' is not [A-Za-z_][A-Za-z0-9_]* (at most 64)", key, w[0]);
	for (size_t i = 0; i < *n_names; i++)
		if (!strcmp(names[i], w[0]))
			return kbs_bad("[kbs] %s: name '%s' is used twice", key, w[0]);
	if (*n_names >= 32)
		return kbs_bad("[kbs]: at most 32 secrets");
	strcpy(names[(*n_names)++], w[0]);
	if (!strcmp(key, "secret") && !kbs_uri_ok(w[1]))
		return kbs_bad("[kbs] secret %s: '%.80s' is not kbs:///REPO/TYPE/TAG (segments [A-Za-z0-9_-][A-Za-z0-9_.-]*)",
			       w[0], w[1]);
	if (!strcmp(key, "sealed") && !sealed_ok(w[1]))
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

/* The init's own configuration: the [workload], [init], [network], [kbs] and [initdata] keys it acts on. */

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

/* The init's own configuration: the [workload], [init], [network], [kbs], [azure] and [initdata] keys it acts on. */
static int render_init_conf(const struct cvm_conf *c, const char *wl_path, const char *image_section, struct text *t)
{
	const char *vals[64], *hostname = cvm_conf_get(c, "workload.hostname");
	size_t n;
	int r;

	if (hostname) {
		size_t l = strlen(hostname);
		if (!l || l > 64 || strspn(hostname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != l)
			return -EINVAL;
	}
	if (image_section) {
		text_printf(t, "%s", image_section);
		goto init;
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
init:
	text_printf(t, "[init]\non_exit = %s\nreport_pcrs = %s\ndump_eventlog = %s\nstop_timeout = %s\n",
		cvm_conf_get(c, "init.on_exit"), cvm_conf_get(c, "init.report_pcrs"), cvm_conf_get(c, "init.dump_eventlog"),
		cvm_conf_get(c, "init.stop_timeout"));
	if (t->err)
		return t->err;
	r = render_network(c, t);
	if (r == 0)
		r = render_kbs(c, t);
	if (r == 0)
		r = render_azure(c, t);
	return r < 0 ? r : render_initdata(c, t);
}

/* x86 Linux keeps COMMAND_LINE_SIZE (2048) bytes of command line, NUL
 * included, and says so in its setup header (cmdline_size = 2047); the rest
 * would be cut off silently. */
#define KERNEL_CMDLINE_MAX 2047

/* The init answers to these names too (init/stop.c): the kernel runs
 * /sbin/poweroff on an Azure Stop and /sbin/reboot on a restart.  Symbolic
 * links, because the cpio writer stores hard links as copies. */
static const char *const STOP_APPLETS[] = { "/sbin/poweroff", "/sbin/reboot", "/sbin/halt", NULL };

/* Everything the configuration alone decides, checked before any input is
 * read: `config --check` and `build` stop on the same errors.  On success
 * *ret_conf holds the rendered init.conf (free its p). */
/* Whether KEY was given on the command line (rather than in the file). */
static bool conf_from_cli(const struct cvm_conf *c, const char *dotted)
{
	const struct cvm_conf_key *k = cvm_conf_lookup(dotted);

	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].k == k && c->e[i].from_cli)
			return true;
	return false;
}

static bool conf_is_set(const struct cvm_conf *c, const char *dotted)
{
	const char *v;

	return cvm_conf_get_all(c, dotted, &v, 1) > 0;
}

/* [workload] image: the container image, flattened under /rootfs, where the
 * init's own files cannot be shadowed by it.  Keys set explicitly win over
 * the image's config. */
#define OCI_ROOT "rootfs"

/* What the init will read, read now by the init's own parser: a value it
 * would refuse at boot is refused at build time, naming the line.  Returns 0
 * or fail()'s exit code. */
static int check_init_conf(const struct text *t)
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

/* binary or image: one given on the command line replaces the other from the
 * file (the demo configuration names a binary).  Returns an exit code. */
static int pick_workload(const struct cvm_conf *c, const char **ret_binary, const char **ret_image)
{
	const char *binary = cvm_conf_get(c, "workload.binary"), *image = cvm_conf_get(c, "workload.image");

	if (image && binary) {
		if (conf_from_cli(c, "workload.image") && !conf_from_cli(c, "workload.binary"))
			binary = NULL;
		else if (conf_from_cli(c, "workload.binary") && !conf_from_cli(c, "workload.image"))
			image = NULL;
		else
			return fail(2, "use the workload: set [workload] binary or image, not both");
	}
	*ret_binary = binary;
	*ret_image = image;
	return 0;
}

static int secureboot_check(const struct cvm_conf *c);

static int check_config(const struct cvm_conf *c, char wl_default[PATH_MAX], const char **ret_wl_path,
			struct text *ret_conf)
{
	const char *binary, *image, *wl_path = cvm_conf_get(c, "workload.path");
	const char *cmdline = cvm_conf_get(c, "kernel.cmdline");
	struct text t = { 0 };
	int r;

	r = pick_workload(c, &binary, &image);
	if (r)
		return r;
	if (!binary && !image)
		return fail(2, "%s: no workload (set [workload] binary or image, or --workload)",
			    ret_conf ? "build" : "check the configuration");
	if (image && wl_path)
		return fail(2, "%s: [workload] path is for a binary; an image's program comes from its config",
			    ret_conf ? "build" : "check the configuration");
	if (image)
		wl_path = "/" OCI_ROOT;
	if (!wl_path) {
		const char *base = strrchr(binary, '/');
		snprintf(wl_default, PATH_MAX, "/usr/bin/%s", base ? base + 1 : binary);
		wl_path = wl_default;
	}
	if (wl_path[0] != '/' || strstr(wl_path, "..") || !strcmp(wl_path, "/init"))
		return fail(2, "place the workload at '%s': need an absolute path other than /init", wl_path);
	if (has_newline(cmdline))
		return fail(2, "use the kernel command line: it contains a line break");
	if (strlen(cmdline) > KERNEL_CMDLINE_MAX)
		return fail(2, "use the kernel command line: %zu bytes, but x86 Linux keeps at most %d "
			    "(COMMAND_LINE_SIZE 2048 with the NUL) and would cut the rest off",
			    strlen(cmdline), KERNEL_CMDLINE_MAX);
	for (const char *const *p = STOP_APPLETS; *p; p++)
		if (!strcmp(wl_path, *p))
			return fail(2, "place the workload at '%s': the init's stop command lives there", wl_path);
	{
		const char *v = cvm_conf_get(c, "init.stop_timeout");
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || !isdigit((unsigned char)v[0]) || n > 3600)
			return fail(2, "use [init] stop_timeout '%s': 0-3600 seconds", v);
	}
	{
		/* Azure refuses a managed-disk upload under 20 MiB (+ footer);
		 * the cap keeps the disk, built in memory, reasonable: Azure
		 * grows a managed disk after upload. */
		const char *v = cvm_conf_get(c, "image.min_disk_mib");
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || !isdigit((unsigned char)v[0]) || n > 4096)
			return fail(2, "use [image] min_disk_mib '%s': a whole number of MiB from 0 to 4096", v);
	}
	r = secureboot_check(c);
	if (r > 1)
		return r;
	/* An image's [workload] comes from its config, read at build time. */
	r = render_init_conf(c, wl_path, image ? "" : NULL, &t);
	if (r < 0) {
		free(t.p);
		return fail(2, "render the init configuration: %s%s%s%s", strerror(-r), network_error,
			    kbs_error[0] ? ": " : "", kbs_error);
	}
	/* A container image's [workload] is rendered once the image is read
	 * (cmd_build); until then the init's parser would miss it. */
	if (!image && (r = check_init_conf(&t)) != 0) {
		free(t.p);
		return r;
	}
	*ret_wl_path = wl_path;
	if (ret_conf)
		*ret_conf = t;
	else
		free(t.p);
	return 0;
}

/* ------------------------------------------------------------------ options */

enum { OPT_CONFIG = 1000, OPT_SET, OPT_INIT, OPT_STUB, OPT_LINUX, OPT_UNAME, OPT_MODULES, OPT_OUT, OPT_JSON,
       OPT_GET, OPT_HELP, OPT_WORKLOAD, OPT_CMDLINE, OPT_CHECK, OPT_IN, OPT_CACHE, OPT_SCHEMA };

struct args {
	const char *config, *init, *stub, *linux_, *uname, *modules, *out, *get, *in, *cache;
	bool json, check, out_set;
};

/* Options: fixed ones plus one per schema key ("--section-key"). */
static int parse_args(int argc, char **argv, struct args *a, struct cvm_conf *c)
{
	static struct option opts[64 + 16];
	static char names[64][80];
	struct { const char *name; char *value; } sets[256];
	size_t n_opts = 0, n_sets = 0;
	int o, idx, r;

	static const struct option fixed[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },   { "set", required_argument, NULL, OPT_SET },
		{ "init", required_argument, NULL, OPT_INIT },       { "stub", required_argument, NULL, OPT_STUB },
		{ "linux", required_argument, NULL, OPT_LINUX },     { "uname", required_argument, NULL, OPT_UNAME },
		{ "modules", required_argument, NULL, OPT_MODULES }, { "out", required_argument, NULL, OPT_OUT },
		{ "json", no_argument, NULL, OPT_JSON },             { "get", required_argument, NULL, OPT_GET },
		{ "help", no_argument, NULL, OPT_HELP },             { "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE }, { "check", no_argument, NULL, OPT_CHECK },
		{ "in", required_argument, NULL, OPT_IN },          { "cache", required_argument, NULL, OPT_CACHE },
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		opts[n_opts++] = fixed[i];
	for (size_t i = 0; cvm_conf_schema[i].section; i++) {
		snprintf(names[i], sizeof(names[i]), "%s-%s", cvm_conf_schema[i].section, cvm_conf_schema[i].key);
		for (char *p = names[i]; *p; p++)
			if (*p == '_')
				*p = '-';
		opts[n_opts++] = (struct option){ names[i], required_argument, NULL, OPT_SCHEMA + (int)i };
	}
	opts[n_opts] = (struct option){ 0 };

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		const struct cvm_conf_key *k = NULL;
		char dotted[160];
		const char *value = optarg;

		switch (o) {
		case OPT_CONFIG: a->config = optarg; continue;
		case OPT_INIT: a->init = optarg; continue;
		case OPT_STUB: a->stub = optarg; continue;
		case OPT_LINUX: a->linux_ = optarg; continue;
		case OPT_UNAME: a->uname = optarg; continue;
		case OPT_MODULES: a->modules = optarg; continue;
		case OPT_OUT: a->out = optarg; a->out_set = true; continue;
		case OPT_IN: a->in = optarg; continue;
		case OPT_CACHE: a->cache = optarg; continue;
		case OPT_JSON: a->json = true; continue;
		case OPT_GET: a->get = optarg; continue;
		case OPT_CHECK: a->check = true; continue;
		case 'h':
		case OPT_HELP: usage(stdout); exit(0);
		case OPT_WORKLOAD: k = cvm_conf_lookup("workload.binary"); break;
		case OPT_CMDLINE: k = cvm_conf_lookup("kernel.cmdline"); break;
		case OPT_SET: {
			const char *eq = strchr(optarg, '=');
			if (!eq || (size_t)(eq - optarg) >= sizeof(dotted)) {
				fprintf(stderr, "%s: fatal: unable to parse --set %s: expected SECTION.KEY=VALUE\n", PROG, optarg);
				return -EINVAL;
			}
			snprintf(dotted, sizeof(dotted), "%.*s", (int)(eq - optarg), optarg);
			k = cvm_conf_lookup(dotted);
			if (!k) {
				fprintf(stderr, "%s: fatal: unable to set %s: no such configuration key\n", PROG, dotted);
				return -EINVAL;
			}
			value = eq + 1;
			break;
		}
		default:
			if (o >= OPT_SCHEMA && o < OPT_SCHEMA + 64) {
				k = &cvm_conf_schema[o - OPT_SCHEMA];
				break;
			}
			/* One sentence naming the option, not getopt's line and the whole usage. */
			fprintf(stderr, "%s: fatal: unable to parse arguments: %s '%s' (options are --SECTION-KEY, see --help)\n",
				PROG, o == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
			return -EINVAL;
		}
		if (n_sets >= sizeof(sets) / sizeof(sets[0]))
			return -E2BIG;
		snprintf(dotted, sizeof(dotted), "%s.%s", k->section, k->key);
		sets[n_sets].name = k->section; /* placeholder, replaced below */
		sets[n_sets].value = NULL;
		if (asprintf(&sets[n_sets].value, "%s=%s", dotted, value) < 0)
			return -ENOMEM;
		n_sets++;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: fatal: unable to parse arguments: unexpected '%s'\n", PROG, argv[optind]);
		return -EINVAL;
	}
	/* The file first, then the command line, so the command line wins. */
	if (a->config) {
		r = cvm_conf_load(c, a->config);
		if (r < 0) {
			fprintf(stderr, "%s: fatal: unable to load the configuration: %s\n", PROG, c->error);
			goto out;
		}
	}
	r = 0;
	for (size_t i = 0; i < n_sets; i++) {
		char *eq = strchr(sets[i].value, '=');
		*eq = 0;
		if (r == 0) {
			r = cvm_conf_set(c, sets[i].value, eq + 1);
			if (r < 0)
				fprintf(stderr, "%s: fatal: unable to configure: %s\n", PROG, c->error);
		}
	}
out:
	for (size_t i = 0; i < n_sets; i++)
		free(sets[i].value);
	return r;
}

/* ------------------------------------------------------------------ build */

struct artifact {
	const char *name;
	const uint8_t *data;
	size_t len;
	const uint8_t *tail; /* written after data (the VHD footer) */
	size_t tail_len;
	const uint8_t *digest; /* SHA-256 of data || tail */
	char sha256[65];
};

/* SHA-256 of the raw disk and of the VHD (the same bytes plus the footer),
 * hashing the disk once. */
static int hash_disk_and_vhd(const uint8_t *disk, size_t len, const uint8_t *footer, size_t footer_len,
			     uint8_t ret_disk[32], uint8_t ret_vhd[32])
{
	struct cvm_hash_ctx h = { 0 }, v = { 0 };
	int r;

	r = cvm_hash_init(&h, CVM_HASH_SHA256);
	if (r == 0)
		r = cvm_hash_update(&h, disk, len);
	if (r == 0)
		r = cvm_hash_clone(&v, &h);
	if (r == 0)
		r = cvm_hash_update(&v, footer, footer_len);
	if (r == 0)
		r = cvm_hash_final(&v, ret_vhd);
	if (r == 0)
		r = cvm_hash_final(&h, ret_disk);
	cvm_hash_free(&h);
	cvm_hash_free(&v);
	return r;
}

struct disk_hash {
	const uint8_t *disk, *footer;
	size_t len, footer_len;
	uint8_t *ret_disk, *ret_vhd;
	int r;
};

static void *disk_hash_thread(void *arg)
{
	struct disk_hash *h = arg;

	h->r = hash_disk_and_vhd(h->disk, h->len, h->footer, h->footer_len, h->ret_disk, h->ret_vhd);
	return NULL;
}

static int build_image_workload(const struct cvm_conf *c, uint32_t epoch, struct cvm_oci_workload *w)
{
	const char *args[64], *env[64], *special = cvm_conf_get(c, "workload.image_special");
	size_t n_args = cvm_conf_get_all(c, "workload.arg", args, 64), n_env = cvm_conf_get_all(c, "workload.env", env, 64);
	struct cvm_oci_workload_opts o = {
		.ref = cvm_conf_get(c, "workload.image"), .args = args, .n_args = n_args, .replace_args = n_args > 0,
		.env = env, .n_env = n_env, .hostname = cvm_conf_get(c, "workload.hostname"), .root = OCI_ROOT,
		.mtime = epoch,
		.uid = conf_is_set(c, "workload.uid") ? cvm_conf_get(c, "workload.uid") : NULL,
		.gid = conf_is_set(c, "workload.gid") ? cvm_conf_get(c, "workload.gid") : NULL,
		.workdir = conf_is_set(c, "workload.workdir") ? cvm_conf_get(c, "workload.workdir") : NULL,
	};
	char err[CVM_OCI_ERR_MAX + 64];
	int r;

	if (n_args > 64 || n_env > 64)
		return fail(2, "use [workload] arg and env: at most 64 of each");
	if (!strcmp(special, "refuse"))
		o.special = CVM_OCI_SPECIAL_REFUSE;
	else if (!strcmp(special, "strip"))
		o.special = CVM_OCI_SPECIAL_STRIP;
	else if (!strcmp(special, "keep"))
		o.special = CVM_OCI_SPECIAL_KEEP;
	else
		return fail(2, "use [workload] image_special '%s': refuse, strip or keep", special);
	r = cvm_oci_workload_build(&o, w, err, sizeof(err));
	if (r < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		if (strstr(err, "device node") || strstr(err, "setuid"))
			strcat(err, " (see [workload] image_special)");
		return fail(r == -ENOMEM ? 1 : 2, "use the container image %s: %s", o.ref, err);
	}
	progress("container image %s (%s): manifest %s, config %s, %zu layers, %llu bytes unpacked, %ld entries", o.ref,
		 w->img.format, w->img.manifest_digest[0] ? w->img.manifest_digest : "(none)", w->img.config_digest,
		 w->img.n_layers, (unsigned long long)w->img.unpacked, w->entries);
	return 0;
}

/* out/workload-image.json: the image's identifiers, for cvm-measure publish
 * (measurements.json) and for the people who deploy the image. */
static int write_image_json(const char *out, const struct cvm_oci_workload *w, const char *ref)
{
	char path[PATH_MAX];
	struct text t = { 0 };
	int r;

	snprintf(path, sizeof(path), "%s/workload-image.json", out);
	if (!w) {
		r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
		return r;
	}
	text_printf(&t, "{\"format\":\"%s\",\"manifest_digest\":", w->img.format);
	text_printf(&t, w->img.manifest_digest[0] ? "\"%s\"" : "null%s", w->img.manifest_digest);
	text_printf(&t, ",\"config_digest\":\"%s\",\"layers\":%zu,\"uid\":%u,\"gid\":%u,\"argv0\":\"", w->img.config_digest,
		w->img.n_layers, w->proc.uid, w->proc.gid);
	for (const char *p = w->proc.path; *p; p++) {
		if (*p == '"' || *p == '\\')
			text_printf(&t, "\\%c", *p);
		else
			text_printf(&t, "%c", (unsigned char)*p < 0x20 ? '?' : *p);
	}
	text_printf(&t, "\"}\n");
	(void)ref;
	r = t.err ? t.err : cvm_write_file_atomic(path, t.p, t.len, 0644);
	free(t.p);
	return r;
}

/* ------------------------------------------------------------------ Secure Boot */

/* [secureboot] is consistent; checked before anything is built.  Returns 0,
 * 1 (signing wanted) or an exit code > 1 after printing why. */
static int secureboot_check(const struct cvm_conf *c)
{
	const char *key = cvm_conf_get(c, "secureboot.key"), *cert = cvm_conf_get(c, "secureboot.cert"), *db[1];

	if (!cvm_sb_azure_template_ok(cvm_conf_get(c, "secureboot.azure_template")))
		return fail(2, "use [secureboot] azure_template '%s': expected MicrosoftUefiCertificateAuthorityTemplate, "
			       "MicrosoftWindowsTemplate or NoSignatureTemplate", cvm_conf_get(c, "secureboot.azure_template"));
	if (!key != !cert)
		return fail(2, "sign: [secureboot] key and cert go together");
	if (!key && (cvm_conf_get(c, "secureboot.key_pass_file") || cvm_conf_get_all(c, "secureboot.db", db, 1)))
		return fail(2, "use [secureboot] key_pass_file or db: they need [secureboot] key and cert");
	return key ? 1 : 0;
}

static int secureboot_signer(const struct cvm_conf *c, struct cvm_signer **ret)
{
	const char *what = "key";
	int r = cvm_sb_load_signer(cvm_conf_get(c, "secureboot.key"), cvm_conf_get(c, "secureboot.cert"),
				   cvm_conf_get(c, "secureboot.key_pass_file"), ret, &what);

	if (r == -EACCES)
		return fail(2, "decrypt [secureboot] key %s: passphrase missing or wrong (key_pass_file or $%s)",
			    cvm_conf_get(c, "secureboot.key"), CVM_SB_PASS_ENV);
	if (r == -EKEYREJECTED)
		return fail(2, "sign: [secureboot] key does not belong to [secureboot] cert");
	if (r < 0)
		return fail(2, "load [secureboot] %s %s: %s", what, cvm_conf_get(c, strcmp(what, "key") ? (strcmp(what, "cert") ?
			    "secureboot.key_pass_file" : "secureboot.cert") : "secureboot.key"),
			    r == -EBADMSG ? "not a PEM key or certificate mbedtls can read" : strerror(-r));
	return 0;
}

/* The Azure uefiSettings fragment for [secureboot] db (default: the signing cert). */
static int secureboot_azure(const struct cvm_conf *c, struct cvm_signer *s, const char *out)
{
	const char *dbs[16], *tmpl = cvm_conf_get(c, "secureboot.azure_template");
	size_t n = cvm_conf_get_all(c, "secureboot.db", dbs, 16), lens[16] = { 0 };
	uint8_t *ders[16] = { 0 };
	char path[PATH_MAX], *json = NULL;
	int r = 0, code = 0;

	if (n > 16)
		return fail(2, "use [secureboot] db: at most 16 certificates");
	for (size_t i = 0; i < n && r == 0; i++) {
		uint8_t *pem;
		size_t pl;

		r = cvm_read_file(dbs[i], CVM_SIGN_MAX_PEM, &pem, &pl);
		if (r == 0) {
			r = cvm_cert_der(pem, pl, &ders[i], &lens[i]);
			free(pem);
		}
		if (r < 0)
			code = fail(2, "load [secureboot] db %s: %s", dbs[i],
				    r == -EBADMSG ? "not a PEM or DER certificate" : strerror(-r));
	}
	if (!code && n == 0) {
		const uint8_t *d = cvm_signer_cert(s, &lens[0]);
		ders[0] = malloc(lens[0]);
		if (ders[0])
			memcpy(ders[0], d, lens[0]);
		n = 1;
	}
	if (!code) {
		r = cvm_sb_azure_uefi_settings(tmpl, (const uint8_t *const *)ders, lens, n, &json);
		if (r == 0) {
			snprintf(path, sizeof(path), "%s/azure-uefi-settings.json", out);
			r = cvm_write_file_atomic(path, json, strlen(json), 0644);
		}
		if (r < 0)
			code = fail(1, "write %s/azure-uefi-settings.json: %s", out, strerror(-r));
	}
	for (size_t i = 0; i < n && i < 16; i++)
		free(ders[i]);
	free(json);
	return code;
}

/* Signs *uki in place (the buffer is replaced). */
static int secureboot_sign(struct cvm_signer *s, uint8_t **uki, size_t *len)
{
	uint8_t *signed_uki = NULL;
	size_t slen = 0;
	int r = cvm_sign_pe(s, *uki, *len, &signed_uki, &slen);

	if (r < 0)
		return fail(1, "sign the UKI: %s", r == -EEXIST ? "it is already signed" : strerror(-r));
	free(*uki);
	*uki = signed_uki;
	*len = slen;
	return 0;
}

static int cmd_sign(struct args *a, struct cvm_conf *c)
{
	struct cvm_signer *s = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int code = secureboot_check(c), r;

	if (code > 1)
		return code;
	if (code == 0)
		return fail(2, "sign: set [secureboot] key and cert (--secureboot-key, --secureboot-cert)");
	if (!a->in || !a->out_set)
		return fail(2, "sign: --in PE and --out FILE are required");
	code = secureboot_signer(c, &s);
	if (code)
		return code;
	r = cvm_read_file(a->in, IMG_MAX_INPUT, &buf, &len);
	if (r < 0)
		code = fail(1, "read %s: %s", a->in, strerror(-r));
	if (!code)
		code = secureboot_sign(s, &buf, &len);
	if (!code) {
		r = cvm_write_file_atomic(a->out, buf, len, 0644);
		if (r < 0)
			code = fail(1, "write %s: %s", a->out, strerror(-r));
	}
	free(buf);
	cvm_signer_free(s);
	return code;
}

static int stage_stop_applets(const char *stage)
{
	char p[PATH_MAX];
	int r;

	snprintf(p, sizeof(p), "%s/sbin", stage);
	r = mkdirs(p, 0755);
	for (const char *const *a = STOP_APPLETS; r == 0 && *a; a++) {
		snprintf(p, sizeof(p), "%s%s", stage, *a);
		if (symlink("/init", p) < 0)
			r = -errno;
	}
	return r;
}

static int cmd_build(struct args *a, struct cvm_conf *c)
{
	const char *binary = NULL, *image = NULL, *wl_path = NULL;
	struct cvm_oci_workload oci = { 0 };
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	/* Room for the two staging roots and what goes below them. */
	char stage[PATH_MAX - 64] = "", fixed[PATH_MAX - 32], rest[PATH_MAX - 32], wl_default[PATH_MAX], osrel[512];
	struct text initconf = { 0 };
	uint8_t *stub = NULL, *tree = NULL, *console = NULL, *cpio = NULL, *initrd = NULL, *uki = NULL,
		*disk = NULL, *wtree = NULL, seed[32], guid[16];
	size_t stub_len, tree_len, console_len, initrd_len, uki_len, esp_len = 0, disk_len, wtree_len;
	struct cvm_initrd_cache_info cache;
	struct cvm_file_view kernel = { 0 }; /* mapped: 12 MB neither allocated nor copied */
	uint8_t footer[CVM_VHD_FOOTER_SIZE];
	unsigned long min_disk_mib;
	long long epoch = 0;
	struct cvm_signer *signer = NULL;
	int r, code = 1, sign;

	/* A kernel named in the configuration wins over the pinned one. */
	if (cvm_conf_get(c, "kernel.image"))
		a->linux_ = cvm_conf_get(c, "kernel.image");
	if (!a->init || !a->stub || !a->linux_ || !a->uname) {
		fprintf(stderr, "%s: fatal: unable to build: --init, --stub, --linux and --uname are required\n", PROG);
		return 2;
	}
	if (epoch_s && *epoch_s) {
		char *end;
		epoch = strtoll(epoch_s, &end, 10);
		if (*end || epoch < 0 || epoch > 0xffffffffLL)
			return fail(2, "use SOURCE_DATE_EPOCH=%s: not a Unix time", epoch_s);
	}
	if ((code = check_config(c, wl_default, &wl_path, &initconf)) != 0)
		return code;
	code = 1;
	pick_workload(c, &binary, &image);
	/* Validated by check_config(). */
	min_disk_mib = strtoul(cvm_conf_get(c, "image.min_disk_mib"), NULL, 10);

	r = mkdirs(a->out, 0755);
	if (r < 0) {
		code = fail(1, "create %s: %s", a->out, strerror(-r));
		goto out;
	}
	/* A wrong passphrase fails now, not after the initramfs. */
	sign = secureboot_check(c);
	if (sign > 1 || (sign && (code = secureboot_signer(c, &signer)) != 0)) {
		code = sign > 1 ? sign : code;
		goto out;
	}
	code = 1;

	/* 1. Stage the initramfs trees: what only the init and the modules
	 * decide (cached compressed, initrd.h), and the rest. */
	snprintf(stage, sizeof(stage), "%s/.stage.XXXXXX", a->out);
	if (!mkdtemp(stage)) {
		stage[0] = 0;
		fail(1, "create a staging folder in %s: %s", a->out, strerror(errno));
		goto out;
	}
	snprintf(fixed, sizeof(fixed), "%s/fixed", stage);
	snprintf(rest, sizeof(rest), "%s/rest", stage);
	r = mkdirs(fixed, 0755);
	if (r == 0)
		r = mkdirs(rest, 0755);
	if (r == 0)
		r = copy_file(a->init, fixed, "init", 0755);
	if (r < 0) {
		fail(1, "stage the init %s: %s", a->init, strerror(-r));
		goto out;
	}
	if (image) {
		code = build_image_workload(c, (uint32_t)epoch, &oci);
		if (code)
			goto out;
		code = 1;
	} else {
		r = copy_file(binary, rest, wl_path + 1, 0755);
		if (r < 0) {
			fail(1, "stage the workload %s: %s", binary, strerror(-r));
			goto out;
		}
	}
	if (image) {
		/* check_config rendered everything but the image's [workload]. */
		free(initconf.p);
		initconf = (struct text){ 0 };
		r = render_init_conf(c, wl_path, oci.conf, &initconf);
		if (r < 0) {
			fail(2, "render the init configuration: %s%s%s%s", strerror(-r), network_error,
			     kbs_error[0] ? ": " : "", kbs_error);
			code = 2;
			goto out;
		}
		if ((code = check_init_conf(&initconf)) != 0)
			goto out;
		code = 1;
	}
	r = stage_stop_applets(fixed);
	if (r < 0) {
		fail(1, "stage the stop commands: %s", strerror(-r));
		goto out;
	}
	r = put_file(rest, "etc/cvmkit/init.conf", (uint8_t *)initconf.p, initconf.len, 0644);
	if (r == 0 && cvm_conf_get(c, "kbs.url") && cvm_conf_get(c, "kbs.ca")) {
		const char *ca = cvm_conf_get(c, "kbs.ca");
		uint8_t *pem;
		size_t pem_len;

		r = cvm_read_file(ca, 64u << 10, &pem, &pem_len);
		if (r < 0) {
			fail(2, "read the KBS CA %s: %s", ca, strerror(-r));
			code = 2;
			goto out;
		}
		if (!memmem(pem, pem_len, "-----BEGIN CERTIFICATE-----", 27)) {
			free(pem);
			fail(2, "use the KBS CA %s: not a PEM certificate", ca);
			code = 2;
			goto out;
		}
		r = put_file(rest, KBS_CA_IMAGE_PATH + 1, pem, pem_len, 0644);
		free(pem);
	}
	if (r == 0 && a->modules) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), "%s/lib/modules", a->modules);
		r = copy_tree(src, fixed, "lib/modules");
	}
	for (const char *const *d = (const char *const[]){ "proc", "sys", "run", "tmp", NULL }; r == 0 && *d; d++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", fixed, *d);
		r = mkdirs(p, 0755);
	}
	if (r < 0) {
		fail(1, "stage the initramfs: %s", strerror(-r));
		goto out;
	}

	/* 2. Initramfs: a first archive with /dev/console (the kernel opens it for
	 * PID 1 before any file system is mounted), then the tree. */
	{
		struct cvm_cpio w;
		struct cvm_cpio_entry dev = { .name = "dev", .mode = S_IFDIR | 0755, .nlink = 2, .mtime = (uint32_t)epoch, .ino = 1 };
		struct cvm_cpio_entry con = { .name = "dev/console", .mode = S_IFCHR | 0600, .nlink = 1, .mtime = (uint32_t)epoch,
					      .ino = 2, .rdevmajor = 5, .rdevminor = 1 };
		cvm_cpio_init(&w);
		r = cvm_cpio_add(&w, &dev);
		if (r == 0)
			r = cvm_cpio_add(&w, &con);
		if (r == 0)
			r = cvm_cpio_finish(&w, false, &console, &console_len);
		cvm_cpio_free(&w);
	}
	if (r == 0)
		r = cvm_cpio_from_tree(fixed, (uint32_t)epoch, &tree, &tree_len);
	if (r == 0)
		r = cvm_cpio_from_tree(rest, (uint32_t)epoch, &wtree, &wtree_len);
	if (r < 0) {
		fail(1, "write the initramfs archive: %s", strerror(-r));
		goto out;
	}
	/* The fixed part: /dev/console, then the init's tree.  The rest: the
	 * workload's tree, then the image's tree, a third archive of its own (its
	 * inode numbers, hard links, are its own: the kernel forgets them at each
	 * trailer). */
	cpio = malloc(console_len + tree_len + wtree_len + oci.cpio_len);
	if (!cpio) {
		fail(1, "allocate the initramfs: %s", strerror(ENOMEM));
		goto out;
	}
	memcpy(cpio, console, console_len);
	memcpy(cpio + console_len, tree, tree_len);
	memcpy(cpio + console_len + tree_len, wtree, wtree_len);
	if (oci.cpio_len)
		memcpy(cpio + console_len + tree_len + wtree_len, oci.cpio, oci.cpio_len);
	r = cvm_initrd_compress(cpio, console_len + tree_len, cpio + console_len + tree_len, wtree_len + oci.cpio_len,
				a->cache, &initrd, &initrd_len, &cache);
	if (r < 0) {
		fail(1, "compress the initramfs: %s", strerror(-r));
		goto out;
	}
	tree_len += wtree_len + oci.cpio_len;
	if (cache.result == CVM_INITRD_CACHE_UNSTORED)
		progress("initramfs: unable to store the compressed init and modules in %s: %s", a->cache, strerror(-cache.error));
	else if (cache.result != CVM_INITRD_CACHE_OFF)
		progress("initramfs: init and modules %s %s/%.16s", cache.result == CVM_INITRD_CACHE_HIT ? "from" :
			 cache.replaced ? "replaced a damaged entry," : "stored in", a->cache, cache.key);
	progress("initramfs: %zu bytes of cpio, %zu bytes compressed (lz4 legacy)", console_len + tree_len, initrd_len);

	/* 3. The UKI. */
	r = cvm_read_file(a->stub, IMG_MAX_INPUT, &stub, &stub_len);
	if (r < 0) {
		fail(1, "read the stub %s: %s", a->stub, strerror(-r));
		goto out;
	}
	r = cvm_file_view_open(a->linux_, IMG_MAX_INPUT, &kernel);
	if (r < 0) {
		fail(1, "read the kernel %s: %s", a->linux_, strerror(-r));
		goto out;
	}
	snprintf(osrel, sizeof(osrel), "NAME=\"%s\"\nID=%s\nPRETTY_NAME=\"%s (cvmkit image)\"\n",
		 cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"));
	{
		struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { 0 };
		const char *cmdline = cvm_conf_get(c, "kernel.cmdline");
		parts[CVM_UKI_LINUX] = (struct cvm_uki_part){ kernel.buf, kernel.len };
		parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)osrel, strlen(osrel) };
		parts[CVM_UKI_CMDLINE] = (struct cvm_uki_part){ (const uint8_t *)cmdline, strlen(cmdline) };
		parts[CVM_UKI_INITRD] = (struct cvm_uki_part){ initrd, initrd_len };
		parts[CVM_UKI_UNAME] = (struct cvm_uki_part){ (const uint8_t *)a->uname, strlen(a->uname) };
		r = cvm_uki_build(stub, stub_len, parts, &uki, &uki_len);
	}
	if (r < 0) {
		fail(1, "assemble the UKI: %s", strerror(-r));
		goto out;
	}
	if (signer) {
		if (secureboot_sign(signer, &uki, &uki_len) || secureboot_azure(c, signer, a->out))
			goto out;
		progress("uki.efi signed (Authenticode, [secureboot] cert); wrote azure-uefi-settings.json");
	}
	progress("uki.efi: %zu bytes", uki_len);

	/* 4. ESP, GPT disk, VHD.  Every identifier derives from the UKI's hash, so
	 * the same UKI always yields the same disk. */
	r = cvm_hash(CVM_HASH_SHA256, uki, uki_len, seed);
	if (r < 0) {
		fail(1, "hash the UKI: %s", strerror(-r));
		goto out;
	}
	{
		long esp_mib = strtol(cvm_conf_get(c, "image.esp_size_mib"), NULL, 10);
		bool fixed = esp_mib > 0;
		struct cvm_fat_file f = { "EFI/BOOT/BOOTX64.EFI", uki, uki_len };
		uint8_t vol[16];

		cvm_guid_derive("fat-volume-id", seed, 32, vol);
		if (!fixed)
			esp_mib = (long)((uki_len + 256 * 1024 + MIB - 1) / MIB);
		/* The ESP is written in its place in the disk (no copy).  1 MiB
		 * before it for the protective MBR and primary GPT (and alignment),
		 * 1 MiB after it for the backup GPT: a whole number of MiB.  Up to
		 * [image] min_disk_mib, the room before the backup GPT stays zeros
		 * (calloc's untouched pages, holes in the files); the GPT, and so
		 * PCR 5, describes the disk at its final size. */
		for (;;) {
			esp_len = (size_t)esp_mib * MIB;
			disk_len = esp_len + 2 * MIB;
			if (disk_len < (size_t)min_disk_mib * MIB)
				disk_len = (size_t)min_disk_mib * MIB;
			free(disk);
			disk = calloc(1, disk_len);
			if (!disk) {
				r = -ENOMEM;
				break;
			}
			r = cvm_fat_build_into(disk + MIB, esp_len, "ESP",
					       (uint32_t)vol[0] << 24 | (uint32_t)vol[1] << 16 | (uint32_t)vol[2] << 8 | vol[3], epoch,
					       &f, 1);
			if (r != -ENOSPC || fixed || esp_mib > 4096)
				break;
			esp_mib++;
		}
		if (r < 0) {
			fail(1, "write the %ld MiB EFI system partition: %s", esp_mib, strerror(-r));
			goto out;
		}
	}
	{
		struct cvm_gpt_partition p = { .first_lba = MIB / 512, .last_lba = (MIB + esp_len) / 512 - 1 };
		memcpy(p.type_guid, CVM_GPT_TYPE_ESP, 16);
		cvm_guid_derive("esp-partition", seed, 32, p.part_guid);
		snprintf(p.name, sizeof(p.name), "ESP");
		cvm_guid_derive("disk", seed, 32, guid);
		r = cvm_gpt_write(disk, disk_len, guid, &p, 1);
	}
	if (r < 0) {
		fail(1, "write the GPT: %s", strerror(-r));
		goto out;
	}
	cvm_guid_derive("vhd", seed, 32, guid);
	r = cvm_vhd_footer(disk_len, guid, epoch, footer);
	if (r < 0) {
		fail(1, "write the VHD footer: %s", strerror(-r));
		goto out;
	}
	progress("disk: %zu bytes (ESP %zu bytes at 1 MiB)", disk_len, esp_len);

	/* 5. Write the artifacts, each atomically. */
	{
		uint8_t d_disk[32], d_vhd[32];
		struct artifact arts[] = {
			{ "uki.efi", uki, uki_len, NULL, 0, seed, "" },
			{ "disk.raw", disk, disk_len, NULL, 0, d_disk, "" },
			{ "disk.vhd", disk, disk_len, footer, sizeof(footer), d_vhd, "" },
		};
		char paths[3][PATH_MAX];
		struct cvm_file_out outs[3];
		struct disk_hash dh = { disk, footer, disk_len, sizeof(footer), d_disk, d_vhd, 0 };
		pthread_t th;
		bool threaded;

		/* The disk's digests (20 MB of SHA-256) on another core while the
		 * files are written; they are only printed. */
		threaded = pthread_create(&th, NULL, disk_hash_thread, &dh) == 0;
		if (!threaded)
			disk_hash_thread(&dh);
		/* All three or none; the disk's zero blocks are holes and the VHD
		 * shares the raw disk's blocks where the file system can. */
		for (size_t i = 0; i < 3; i++) {
			snprintf(paths[i], sizeof(paths[i]), "%s/%s", a->out, arts[i].name);
			outs[i] = (struct cvm_file_out){ paths[i], arts[i].data, arts[i].len, arts[i].tail, arts[i].tail_len };
		}
		r = cvm_write_files_atomic(outs, 3, 0644);
		if (threaded)
			pthread_join(th, NULL);
		if (r < 0) {
			fail(1, "write the artifacts to %s: %s", a->out, strerror(-r));
			goto out;
		}
		if (dh.r < 0) {
			fail(1, "hash the disk: %s", strerror(-dh.r));
			goto out;
		}
		for (size_t i = 0; i < 3; i++)
			cvm_hex_encode(arts[i].digest, 32, arts[i].sha256);
		r = write_image_json(a->out, image ? &oci : NULL, image);
		if (r < 0) {
			fail(1, "write %s/workload-image.json: %s", a->out, strerror(-r));
			goto out;
		}
		progress("wrote %s", a->out);
		if (a->json) {
			printf("{\"artifacts\":[");
			for (size_t i = 0; i < sizeof(arts) / sizeof(arts[0]); i++)
				printf("%s{\"name\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}", i ? "," : "", arts[i].name,
				       arts[i].len + arts[i].tail_len, arts[i].sha256);
			printf("],\"initramfs\":{\"cpio\":%zu,\"compressed\":%zu}", console_len + tree_len, initrd_len);
			if (image)
				printf(",\"workload_image\":{\"format\":\"%s\",\"manifest_digest\":%s%s%s,\"config_digest\":\"%s\","
				       "\"layers\":%zu,\"entries\":%ld,\"uid\":%u,\"gid\":%u}",
				       oci.img.format, oci.img.manifest_digest[0] ? "\"" : "",
				       oci.img.manifest_digest[0] ? oci.img.manifest_digest : "null", oci.img.manifest_digest[0] ? "\"" : "",
				       oci.img.config_digest, oci.img.n_layers, oci.entries, oci.proc.uid, oci.proc.gid);
			printf(",\"seconds\":%.3f}\n", elapsed());
		} else {
			printf("%-10s %12s  %s\n", "artifact", "bytes", "sha256");
			for (size_t i = 0; i < sizeof(arts) / sizeof(arts[0]); i++)
				printf("%-10s %12zu  %s\n", arts[i].name, arts[i].len + arts[i].tail_len, arts[i].sha256);
			if (image) {
				printf("workload image %s (%s)\n  manifest %s\n  config   %s\n  process  %s as %u:%u%s%s\n", image,
				       oci.img.format, oci.img.manifest_digest[0] ? oci.img.manifest_digest : "(none: docker-archive)",
				       oci.img.config_digest, oci.proc.path, oci.proc.uid, oci.proc.gid,
				       oci.proc.exposed_ports[0] ? ", exposes " : "", oci.proc.exposed_ports);
			}
		}
	}
	code = 0;
out:
	if (stage[0])
		rm_tree(stage);
	cvm_oci_workload_free(&oci);
	free(initconf.p);
	free(stub);
	cvm_file_view_close(&kernel);
	free(tree);
	free(wtree);
	free(console);
	free(cpio);
	free(initrd);
	free(uki);
	free(disk);
	cvm_signer_free(signer);
	return code;
}

static int cmd_config(struct args *a, struct cvm_conf *c)
{
	if (a->check) {
		char wl_default[PATH_MAX];
		const char *wl_path;

		return check_config(c, wl_default, &wl_path, NULL);
	}
	if (a->get) {
		const struct cvm_conf_key *k = cvm_conf_lookup(a->get);
		const char *vals[256];
		size_t n;

		if (!k)
			return fail(2, "get %s: no such configuration key", a->get);
		if (k->multi) {
			n = cvm_conf_get_all(c, a->get, vals, 256);
			for (size_t i = 0; i < n && i < 256; i++)
				printf("%s\n", vals[i]);
		} else if (cvm_conf_get(c, a->get)) {
			printf("%s\n", cvm_conf_get(c, a->get));
		}
		return 0;
	}
	const char *section = "";
	for (const struct cvm_conf_key *k = cvm_conf_schema; k->section; k++) {
		char dotted[160];
		const char *vals[256];
		size_t n;

		snprintf(dotted, sizeof(dotted), "%s.%s", k->section, k->key);
		if (strcmp(section, k->section)) {
			printf("%s[%s]\n", *section ? "\n" : "", k->section);
			section = k->section;
		}
		if (k->multi) {
			n = cvm_conf_get_all(c, dotted, vals, 256);
			for (size_t i = 0; i < n && i < 256; i++)
				printf("%s = %s\n", k->key, vals[i]);
		} else if (cvm_conf_get(c, dotted)) {
			printf("%s = %s\n", k->key, cvm_conf_get(c, dotted));
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct cvm_conf conf;
	struct args a = { .out = "out" };
	const char *verb;
	int code;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	cvm_conf_init(&conf);
	if (parse_args(argc - 1, argv + 1, &a, &conf) < 0) {
		cvm_conf_free(&conf);
		return 2;
	}
	if (!strcmp(verb, "build"))
		code = cmd_build(&a, &conf);
	else if (!strcmp(verb, "config"))
		code = cmd_config(&a, &conf);
	else if (!strcmp(verb, "sign"))
		code = cmd_sign(&a, &conf);
	else
		code = fail(2, "run '%s': unknown verb (try --help)", verb);
	cvm_conf_free(&conf);
	return code;
}
