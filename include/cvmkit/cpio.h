/* newc ("070701") cpio archives: a deterministic writer, the exact archive
 * systemd-stub appends to the initrd, and a parser for untrusted archives.
 *
 * Format (the kernel's Documentation/driver-api/early-userspace/buffer-format.rst):
 * "070701", 13 fields of 8 hex digits (ino mode uid gid nlink mtime filesize
 * devmajor devminor rdevmajor rdevminor namesize check), the NUL-terminated
 * name, NUL padding so header+name is a multiple of 4, the data, NUL padding
 * to a multiple of 4.  The archive ends with an entry named "TRAILER!!!".
 * The writer emits lowercase hex digits and no 512-byte block padding after
 * the trailer (the kernel does not need it and systemd-stub does not add it). */
#ifndef CVMKIT_CPIO_H
#define CVMKIT_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest name accepted by the writer and the parser, including its NUL
 * (the kernel's PATH_MAX). */
#define CVM_CPIO_NAME_MAX 4096u
/* Largest archive the writer produces and the parser accepts (2 GiB). */
#define CVM_CPIO_ARCHIVE_MAX ((size_t)1 << 31)

struct cvm_cpio_entry {
	const char *name;      /* no leading "/", e.g. "init", "lib/modules/x.ko.xz" */
	uint32_t ino, mode, uid, gid, nlink, mtime;  /* mode includes S_IFREG/S_IFDIR/S_IFLNK */
	uint32_t devmajor, devminor, rdevmajor, rdevminor;
	const uint8_t *data;   /* file contents or symlink target */
	size_t size;
};

/* Growing archive buffer.  The struct is caller-owned; buf is owned by it
 * until cvm_cpio_finish() hands it over or cvm_cpio_free() releases it. */
struct cvm_cpio {
	uint8_t *buf;
	size_t len, cap;
	uint32_t next_ino; /* next inode number handed out for entries with ino 0 */
};

/* Empty archive; next_ino starts at 1. */
void cvm_cpio_init(struct cvm_cpio *w);

/* Appends one entry: header and name padded to 4, then data padded to 4.
 * An entry with ino 0 gets w->next_ino (which then increments); any other
 * ino is written as given.  e->data and e->size are written for every file
 * type (a directory should have size 0).  The name is copied.
 * Returns 0, -EINVAL for a NULL/empty name, a name starting with "/",
 * longer than CVM_CPIO_NAME_MAX - 1 or equal to "TRAILER!!!", data NULL with
 * size > 0, or size > UINT32_MAX; -EFBIG past CVM_CPIO_ARCHIVE_MAX; -ENOMEM.
 * On error the archive is unchanged. */
int cvm_cpio_add(struct cvm_cpio *w, const struct cvm_cpio_entry *e);

/* Appends the trailer ("TRAILER!!!", nlink 1, every other field 0; 124
 * bytes) and hands the archive over: *ret_buf (malloc'd, caller frees; never
 * NULL on success) and *ret_len.  upper_hex_namesize writes the trailer's
 * namesize as "0000000B" as systemd-stub does (src/boot/efi/cpio.c,
 * pack_cpio_trailer); false writes "0000000b", consistent with the lowercase
 * fields of every other header.  (GNU cpio 2.13 and the kernel's
 * usr/gen_init_cpio write every field in uppercase; the kernel's unpacker
 * accepts either case.)  On success the writer is reset
 * to empty (re-initialise before reuse); on error (-ENOMEM, -EFBIG) it is unchanged. */
int cvm_cpio_finish(struct cvm_cpio *w, bool upper_hex_namesize, uint8_t **ret_buf, size_t *ret_len);

/* Frees the buffer; the struct may be re-initialised afterwards.  Safe twice. */
void cvm_cpio_free(struct cvm_cpio *w);

/* Deterministic archive of the tree under DIR (DIR itself gets no entry):
 * regular files, directories and symlinks; anything else gives -EINVAL.
 * Names are relative paths sorted bytewise (so parents precede children),
 * uid/gid 0, inodes 1.. in archive order, every mtime = MTIME, permission
 * bits (07777) as on disk, nlink 2 for directories and 1 otherwise (hard
 * links become independent copies), dev/rdev 0.  The trailer uses a
 * lowercase namesize.  Limits: 1,000,000 entries and 64 directory levels
 * (-E2BIG), each file <= UINT32_MAX bytes (-EFBIG), the archive <=
 * CVM_CPIO_ARCHIVE_MAX (-EFBIG).  Other errors: the negative errno of the
 * failing opendir/fstatat/readlinkat/read, -ENOMEM.  On success *ret_buf is
 * malloc'd and owned by the caller. */
int cvm_cpio_from_tree(const char *dir, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len);

/* The archive systemd-stub v257 builds with pack_cpio_literal() (src/boot/efi/cpio.c)
 * for a blob it passes to the kernel, e.g. .osrel as DIR ".extra", FILE
 * "os-release", MODE 0444:
 *   - one directory entry per "/"-separated prefix of DIR (mode 040555),
 *     then DIR itself with the stub's dir_mode 0555 (S_IFDIR|0555);
 *   - the file "DIR/FILE" with mode S_IFREG|MODE (MODE & 07777);
 *   - inodes numbered from 1 in that order; uid, gid, mtime, dev, rdev and
 *     check 0; nlink 1 for directories and the file alike;
 *   - every field in lowercase hex except the trailer's namesize "0000000B";
 *   - header+name and data each NUL-padded to 4 bytes; trailer 124 bytes.
 * DIR must be non-empty, without a leading or trailing "/" or empty
 * components; FILE non-empty without "/".  Returns 0 or -EINVAL, -EFBIG (len
 * > UINT32_MAX), -ENOMEM.  *ret_buf is malloc'd and owned by the caller. */
int cvm_cpio_stub_extra(const char *dir, const char *file, uint32_t mode, const uint8_t *data, size_t len,
			uint8_t **ret_buf, size_t *ret_len);

/* Parser of untrusted archives.  Caller-owned state; no allocation.  Both
 * "070701" and "070702" (the same layout with a checksum the parser does not
 * verify) are accepted; hex digits in either case. */
struct cvm_cpio_reader {
	const uint8_t *buf;
	size_t len, off; /* off: start of the next header; after the trailer, the
			    first byte past the trailer's padding (or len) */
	bool done;       /* the trailer has been read */
};

void cvm_cpio_reader_init(struct cvm_cpio_reader *r, const uint8_t *buf, size_t len);

/* Returns 1 and fills *ret_entry for the next entry (name and data point
 * into buf; name is NUL-terminated inside buf), 0 at the trailer and on every
 * call after it, or -EBADMSG for malformed input: bad magic, a non-hex digit,
 * namesize 0 or > CVM_CPIO_NAME_MAX, a name whose last byte is not its only
 * NUL, a header/name/data extending past len, end of input without a trailer,
 * or len > CVM_CPIO_ARCHIVE_MAX.  After -EBADMSG every further call returns
 * -EBADMSG.  The trailer's own padding may be missing at the very end. */
int cvm_cpio_next(struct cvm_cpio_reader *r, struct cvm_cpio_entry *ret_entry);

#endif
