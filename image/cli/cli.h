/* What cvm-image's files share.  The CLI is image/main.c (verb dispatch and
 * the two ways it reports) plus image/cli/ (linked into cvm-image only, never
 * into libcvm-image):
 *
 *   options.c     --help and the command line (one option per schema key)
 *   check.c       the configuration as a whole (`config --check`, `config`)
 *   render.c      init.conf, parsed back with the init's own parser
 *   secureboot.c  [secureboot]: signer, Authenticode, Azure uefiSettings (`sign`)
 *   stage.c       the initramfs trees, staged in memory
 *   container.c   [workload] image: the flattened container image
 *   build.c       `build`: the pipeline, one function per step
 *
 * Functions returning an exit code (0, 1 build failure, 2 usage or
 * configuration error) have printed why through fail(); the others return 0
 * or -errno and print nothing. */
#ifndef CVMKIT_IMAGE_CLI_H
#define CVMKIT_IMAGE_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cvmkit/config.h"
#include "cvmkit/fileio.h"
#include "cvmkit/sign.h"

#include "../text.h"

#define PROG "cvm-image"
#define MIB (1024u * 1024u)
#define IMG_MAX_INPUT (256u * MIB)

/* [workload] image: the container image, flattened under /rootfs, where the
 * init's own files cannot be shadowed by it.  Keys set explicitly win over
 * the image's config. */
#define OCI_ROOT "rootfs"

#define KBS_CA_IMAGE_PATH "/etc/cvmkit/kbs-ca.pem"

/* main.c: seconds since main() started; "cvm-image: [  1.234 s] ..." on
 * stderr; "cvm-image: fatal: unable to ..." on stderr, returning CODE. */
double elapsed(void);
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* options.c */
struct args {
	const char *config, *init, *stub, *linux_, *uname, *modules, *out, *get, *in, *cache;
	bool json, check, out_set;
};
void usage(FILE *f);
/* Fills *a and *c (the file first, then the command line); prints why and
 * returns < 0 on a usage or configuration error.  Exits 0 on --help. */
int parse_args(int argc, char **argv, struct args *a, struct cvm_conf *c);

/* check.c */
/* The init answers to these names too (init/stop.c); NULL-terminated. */
extern const char *const STOP_APPLETS[];
bool conf_is_set(const struct cvm_conf *c, const char *dotted);
int pick_workload(const struct cvm_conf *c, const char **ret_binary, const char **ret_image);
int check_config(const struct cvm_conf *c, char wl_default[PATH_MAX], const char **ret_wl_path,
		 struct text *ret_conf);
int cmd_config(struct args *a, struct cvm_conf *c);

/* render.c */
int has_newline(const char *s);
/* Appends init.conf to *t: [workload] (image_section, when given, is the
 * container image's) and the sections after it.  0 or -errno; on failure
 * render_fail(r) says why and returns the exit code. */
int render_init_conf(const struct cvm_conf *c, const char *wl_path, const char *image_section, struct text *t);
int render_fail(int r);
/* init.conf read back by the init's own parser: 0 or fail()'s exit code. */
int check_init_conf(const struct text *t);

/* secureboot.c */
int secureboot_check(const struct cvm_conf *c);
int secureboot_signer(const struct cvm_conf *c, struct cvm_signer **ret);
int secureboot_azure(const struct cvm_conf *c, struct cvm_signer *s, const char *out);
int secureboot_sign(struct cvm_signer *s, uint8_t **uki, size_t *len);
int cmd_sign(struct args *a, struct cvm_conf *c);

/* stage.c: an initramfs tree in memory.  REL is the path in the initramfs
 * (no leading "/"); parent directories are implied.  0 or a negative errno. */
struct stage_entry {
	char *name;
	uint32_t mode;              /* S_IFREG/S_IFDIR/S_IFLNK | permission bits */
	const uint8_t *data;        /* contents or symlink target */
	size_t size;
	uint8_t *own;               /* data, when stage_file() copied it */
	struct cvm_file_view view;  /* data, when stage_copy_file() mapped it */
};
struct stage {
	struct stage_entry *v;
	size_t n, cap;
};
int mkdirs(const char *path, mode_t mode);
void stage_init(struct stage *s);
void stage_free(struct stage *s);
int stage_dir(struct stage *s, const char *rel);
int stage_file(struct stage *s, const char *rel, const uint8_t *data, size_t len, mode_t mode);
int stage_copy_file(struct stage *s, const char *src, const char *rel, mode_t mode);
int stage_copy_tree(struct stage *s, const char *src, const char *rel);
int stage_stop_applets(struct stage *s);
/* The newc archive of the tree (sorted, as cvm_cpio_from_tree() writes a
 * folder); -EEXIST for two things at one path. */
int stage_archive(struct stage *s, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len);

/* container.c: [workload] image flattened into *w (progress names it), or
 * an exit code; out/workload-image.json written, or removed when w is NULL
 * (0 or -errno). */
struct cvm_oci_workload;
int build_image_workload(const struct cvm_conf *c, uint32_t epoch, struct cvm_oci_workload *w);
int write_image_json(const char *out, const struct cvm_oci_workload *w, const char *ref);

/* build.c */
int cmd_build(struct args *a, struct cvm_conf *c);

#endif
