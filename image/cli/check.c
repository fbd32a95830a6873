/* The configuration as a whole: what `config --check` and `build` both
 * refuse before any input is read, and the `config` verb. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/config.h"

#include "cli.h"

/* x86 Linux keeps COMMAND_LINE_SIZE (2048) bytes of command line, NUL
 * included, and says so in its setup header (cmdline_size = 2047); the rest
 * would be cut off silently. */
#define KERNEL_CMDLINE_MAX 2047

/* The init answers to these names too (init/stop.c): the kernel runs
 * /sbin/poweroff on an Azure Stop and /sbin/reboot on a restart.  Symbolic
 * links, because the cpio writer stores hard links as copies. */
const char *const STOP_APPLETS[] = { "/sbin/poweroff", "/sbin/reboot", "/sbin/halt", NULL };

/* Whether KEY was given on the command line (rather than in the file). */
static bool conf_from_cli(const struct cvm_conf *c, const char *dotted)
{
	const struct cvm_conf_key *k = cvm_conf_lookup(dotted);

	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].k == k && c->e[i].from_cli)
			return true;
	return false;
}

bool conf_is_set(const struct cvm_conf *c, const char *dotted)
{
	const char *v;

	return cvm_conf_get_all(c, dotted, &v, 1) > 0;
}

/* binary or image: one given on the command line replaces the other from the
 * file (the demo configuration names a binary).  Returns an exit code. */
int pick_workload(const struct cvm_conf *c, const char **ret_binary, const char **ret_image)
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

/* Everything the configuration alone decides, checked before any input is
 * read: `config --check` and `build` stop on the same errors.  On success
 * *ret_conf holds the rendered init.conf (free its p). */
int check_config(const struct cvm_conf *c, char wl_default[PATH_MAX], const char **ret_wl_path, struct text *ret_conf)
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
		return render_fail(r);
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

int cmd_config(struct args *a, struct cvm_conf *c)
{
	if (a->check) {
		char wl_default[PATH_MAX];
		const char *wl_path;
		int code = check_config(c, wl_default, &wl_path, NULL);

		/* --check --get KEY: the value of a configuration that is whole
		 * (build.sh's one call before the build). */
		if (code || !a->get)
			return code;
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
