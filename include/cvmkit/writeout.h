/* Writing big image files (cvm-image's artifacts): atomic like
 * cvm_write_file_atomic, but sparse, shared where the file system can, and
 * all-or-nothing over several files. */
#ifndef CVMKIT_WRITEOUT_H
#define CVMKIT_WRITEOUT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One output: data[0..len) then tail[0..tail_len) (tail may be NULL when
 * tail_len is 0). */
struct cvm_file_out {
	const char *path;
	const uint8_t *data;
	size_t len;
	const uint8_t *tail;
	size_t tail_len;
};

#define CVM_WRITEOUT_MAX 8

/* Writes n (at most CVM_WRITEOUT_MAX) files: each to a temporary in its own
 * directory, all fsync'ed, and only then all renamed, so on a write or sync
 * failure no path has changed and no temporary is left (only a failing
 * rename, after the first, can leave the earlier files renamed).
 *
 * Whole 4 KiB blocks of zeros in data become holes: the file reads back the
 * same bytes, but they are neither written nor stored.  A file whose data is
 * the same buffer and length as an earlier file's shares that file's blocks
 * (FICLONERANGE) where the file system has reflinks (btrfs, XFS); elsewhere it
 * is written sparse the same way.  The tail is always written.
 *
 * Returns 0, -E2BIG for too many files, or the first negative errno. */
int cvm_write_files_atomic(const struct cvm_file_out *files, size_t n, mode_t mode);

#endif
