/* Container images as the workload (host side, cvm-image only; the guest
 * never sees OCI).  An OCI image layout directory, an oci-archive tarball or
 * a docker-archive (`docker save`) tarball is read, every blob checked
 * against its digest and size, the layers applied in order into an
 * in-memory tree (whiteouts, opaque directories, hard links, symlinks kept
 * as links and never followed), and the image config turned into the
 * process the init runs.  The tree is then written as newc cpio entries
 * under a prefix of the initramfs, so it is measured with the rest of it.
 *
 * Archives and compression are libarchive's (tar, gzip, zstd): well-kept
 * code for formats with many historical corners (pax, GNU long names,
 * sparse files, multi-member gzip), instead of our own tar or inflate.
 *
 * Errors: every function returns 0 or a negative errno and, on failure,
 * writes one line into the caller's err buffer naming the blob (digest or
 * archive member) and the entry at fault.  Nothing here prints. */
#ifndef CVMKIT_OCI_H
#define CVMKIT_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/cpio.h"

#define CVM_OCI_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, with room */
#define CVM_OCI_ERR_MAX 512
/* What the init can take: INIT_MAX_ARGS / INIT_MAX_ENV / INIT_MAX_VALUE. */
#define CVM_OCI_MAX_ARGS 64
#define CVM_OCI_MAX_ENV 64
#define CVM_OCI_MAX_VALUE 1023

/* Caps on untrusted input (0 in a field = the default below). */
struct cvm_oci_limits {
	uint64_t max_blob;     /* one stored blob: index, manifest, config, compressed layer */
	uint64_t max_unpacked; /* all layers' uncompressed tar bytes together (gzip bombs end here) */
	uint64_t max_entries;  /* tar entries over all layers */
};
#define CVM_OCI_DEFAULT_MAX_BLOB ((uint64_t)1 << 30)
#define CVM_OCI_DEFAULT_MAX_UNPACKED ((uint64_t)1 << 30)
#define CVM_OCI_DEFAULT_MAX_ENTRIES 200000u

/* Device nodes and setuid/setgid bits: refused (default), stripped (devices
 * dropped, the two bits cleared) or kept as the image has them. */
enum cvm_oci_special { CVM_OCI_SPECIAL_REFUSE, CVM_OCI_SPECIAL_STRIP, CVM_OCI_SPECIAL_KEEP };

/* ------------------------------------------------------------ the tree */

struct cvm_oci_tree; /* opaque; created empty (a root directory 0755 0:0) */

int cvm_oci_tree_new(struct cvm_oci_tree **ret);
void cvm_oci_tree_free(struct cvm_oci_tree *t); /* NULL is fine */

/* Applies one uncompressed layer tar (buf, len) on top of the tree: first
 * every whiteout of the layer (".wh.NAME" deletes NAME, ".wh..wh..opq"
 * empties its directory; both act on lower layers only, wherever they sit in
 * the archive), then every other entry in archive order.  A directory over a
 * directory keeps the children and takes the new attributes; anything else
 * replaces what was there.  Hard links share the target's inode (the target
 * must already exist, in this layer or below, and not be a directory).  A
 * tar whose last member is not padded or lacks the end blocks (umoci 0.4.7
 * `insert`) is accepted.
 * Refused (-EINVAL, err names the entry): absolute names, "..", a parent
 * that is a symlink (never followed) or not a directory, a bare ".wh.",
 * hard links to missing or directory targets, device nodes and
 * setuid/setgid files under CVM_OCI_SPECIAL_REFUSE.  -E2BIG once the tree
 * holds more than max_entries entries overall, -EBADMSG for a corrupt tar. */
int cvm_oci_tree_apply(struct cvm_oci_tree *t, const uint8_t *buf, size_t len, enum cvm_oci_special special,
		       uint64_t max_entries, char *err, size_t err_size);

enum cvm_oci_type { CVM_OCI_REG, CVM_OCI_DIR, CVM_OCI_LNK, CVM_OCI_CHR, CVM_OCI_BLK, CVM_OCI_FIFO };

struct cvm_oci_stat {
	enum cvm_oci_type type;
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid, gid, nlink;
	const uint8_t *data; /* file contents or symlink target; owned by the tree */
	size_t size;
};

/* Looks up an absolute PATH inside the tree.  With follow, symlinks (also in
 * the last component) are resolved the way the kernel will resolve them
 * inside the container's root: absolute targets from the tree's root, ".."
 * never above it, at most 40 links (-ELOOP).  -ENOENT, -ENOTDIR. */
int cvm_oci_tree_stat(const struct cvm_oci_tree *t, const char *path, bool follow, struct cvm_oci_stat *ret);

/* Creates the directory PATH (and missing parents, 0755 0:0) with MODE when
 * absent; an existing directory is left as it is.  -ENOTDIR when PATH or a
 * parent exists as anything else (a symlink included: never followed). */
int cvm_oci_tree_mkdir(struct cvm_oci_tree *t, const char *path, uint32_t mode);

/* Appends the tree to w: PREFIX (the root directory) then every entry as
 * "PREFIX/path", depth first, children sorted bytewise, so the output
 * depends only on the tree.  Every mtime is MTIME; uid, gid and modes as in
 * the image; inodes numbered from FIRST_INO; hard links as newc expects
 * them (one inode number, nlink = the names, the data with the first name).
 * Returns the number of entries written, or -errno from cvm_cpio_add. */
long cvm_oci_tree_cpio(const struct cvm_oci_tree *t, const char *prefix, uint32_t mtime, uint32_t first_ino,
		       struct cvm_cpio *w);

/* Entries in the tree (the root included). */
size_t cvm_oci_tree_count(const struct cvm_oci_tree *t);

/* ------------------------------------------------------------ images */

struct cvm_oci_image {
	char format[16];                          /* "oci-layout", "oci-archive", "docker-archive" */
	char manifest_digest[CVM_OCI_DIGEST_MAX]; /* "" for docker-archive: it stores no manifest */
	char config_digest[CVM_OCI_DIGEST_MAX];
	uint8_t *config;                          /* the config JSON as stored (verified) */
	size_t config_len;
	size_t n_layers;
	uint64_t unpacked;                        /* uncompressed layer bytes applied */
	struct cvm_oci_tree *tree;                /* the flattened root file system */
};

/* Opens REF = PATH[:TAG] (PATH an OCI layout directory, an oci-archive or a
 * docker-archive tarball; TAG the org.opencontainers.image.ref.name
 * annotation, or a RepoTags entry of a docker-archive), picks linux/amd64
 * from an index (unknown media types skipped), verifies each blob's size and
 * SHA-256 before use, checks every layer's uncompressed digest against the
 * config's rootfs.diff_ids, and flattens the layers.  One error line in err
 * names the blob.  On success *ret is filled (free with cvm_oci_image_free). */
int cvm_oci_image_load(const char *ref, const struct cvm_oci_limits *lim, enum cvm_oci_special special,
		       struct cvm_oci_image *ret, char *err, size_t err_size);
void cvm_oci_image_free(struct cvm_oci_image *img);

/* ------------------------------------------------------------ process */

/* What the init runs, resolved at build time as a runtime would (image-spec
 * config.md): argv = Entrypoint ++ Cmd (ARGS, when given, replace Cmd);
 * env = the image's Env (PATH added when absent) with EXTRA_ENV overriding
 * same names; cwd = WorkingDir or "/"; User "user[:group]" with numeric
 * parts verbatim and names from the tree's /etc/passwd and /etc/group (a
 * name that does not resolve is an error; a user without a group takes the
 * gid of its passwd entry, or 0); path = argv[0] found through PATH in the
 * tree when it has no "/". */
struct cvm_oci_process {
	char path[CVM_OCI_MAX_VALUE + 1];
	char *argv[CVM_OCI_MAX_ARGS + 1];
	size_t argc;
	char *env[CVM_OCI_MAX_ENV + 1];
	size_t envc;
	char cwd[CVM_OCI_MAX_VALUE + 1];
	uint32_t uid, gid;
	char user[256];             /* the config's User, "" when unset */
	char exposed_ports[256];    /* "8080/tcp 8888/tcp", informational */
};

/* ARGS NULL keeps Cmd; n_args 0 with ARGS non-NULL empties it. */
int cvm_oci_process_resolve(const uint8_t *config, size_t config_len, const struct cvm_oci_tree *t,
			    const char *const *args, size_t n_args, const char *const *extra_env, size_t n_env,
			    struct cvm_oci_process *ret, char *err, size_t err_size);
void cvm_oci_process_free(struct cvm_oci_process *p);

/* Parses a User value "user[:group]" against passwd and group file contents
 * (either may be NULL: then names cannot resolve). */
int cvm_oci_user_resolve(const char *user, const uint8_t *passwd, size_t passwd_len, const uint8_t *group,
			 size_t group_len, uint32_t *ret_uid, uint32_t *ret_gid, char *err, size_t err_size);

/* ------------------------------------------------------------ the workload */

/* Everything cvm-image needs from an image: the flattened tree (with the
 * mount points the init uses and the working directory added), written as
 * cpio entries under ROOT; the [workload] section of the init's
 * configuration; the identifiers for the build summary. */
struct cvm_oci_workload_opts {
	const char *ref;                 /* PATH[:TAG] */
	enum cvm_oci_special special;
	const struct cvm_oci_limits *lim;
	const char *const *args;         /* replace Cmd when replace_args */
	size_t n_args;
	bool replace_args;
	const char *const *env;          /* NAME=VALUE, override the image's */
	size_t n_env;
	const char *uid, *gid, *workdir; /* NULL: the image's */
	const char *hostname;            /* NULL: none */
	const char *root;                /* where the tree lives in the initramfs, e.g. "rootfs" */
	uint32_t mtime;                  /* SOURCE_DATE_EPOCH */
};

struct cvm_oci_workload {
	struct cvm_oci_image img;
	struct cvm_oci_process proc;
	char *conf;        /* "[workload]\n..." for init.conf; malloc'd */
	uint8_t *cpio;     /* a whole newc archive (with its trailer); malloc'd */
	size_t cpio_len;
	long entries;
};

int cvm_oci_workload_build(const struct cvm_oci_workload_opts *o, struct cvm_oci_workload *ret, char *err,
			   size_t err_size);
void cvm_oci_workload_free(struct cvm_oci_workload *w);

#endif
