/* The container image as the workload: flattened at build time (image/oci*.c)
 * into its own archive under /rootfs, its identifiers written beside the
 * image for cvm-measure publish. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvmkit/config.h"
#include "cvmkit/fileio.h"
#include "cvmkit/oci.h"

#include "cli.h"

int build_image_workload(const struct cvm_conf *c, uint32_t epoch, struct cvm_oci_workload *w)
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
int write_image_json(const char *out, const struct cvm_oci_workload *w, const char *ref)
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
