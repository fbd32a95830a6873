/* Whole-file I/O.  Library code returns 0 or a negative errno. */
#ifndef CVMKIT_FILEIO_H
#define CVMKIT_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read all of PATH.  Files larger than MAX bytes give -EFBIG.  On success
 * *ret_buf is a malloc'd buffer (one extra NUL byte past *ret_len, so text can
 * be used as a C string) that the caller frees. */
int cvm_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len);

/* A large input read without a copy.  A non-empty regular file is mapped
 * (private, read-only, faulted in as read: a sparse disk's holes that are
 * never read cost nothing): no allocation of its size, no copy out of the
 * page cache.  Anything
 * else (pipes, empty files, a failed mapping) is read with cvm_read_file().
 * The mapping shows the file as it is: truncating it while it is mapped
 * makes a later access fault, so use it for files replaced by rename (every
 * writer here), not for files rewritten in place.  Returns 0 with *ret
 * filled, or cvm_read_file()'s errors; release with cvm_file_view_close(). */
struct cvm_file_view {
	const uint8_t *buf;
	size_t len;
	void *map;      /* the mapping, or NULL */
	size_t map_len;
	uint8_t *copy;  /* the read copy, or NULL */
};
int cvm_file_view_open(const char *path, size_t max, struct cvm_file_view *ret);
/* Unmaps or frees; safe on a zeroed struct and twice. */
void cvm_file_view_close(struct cvm_file_view *v);

/* Write LEN bytes to PATH atomically: a temporary file in the same directory,
 * fsync, then rename.  On failure PATH is untouched and no temporary is left. */
int cvm_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* Write all LEN bytes to FD, retrying on short writes and EINTR. */
int cvm_write_all(int fd, const void *buf, size_t len);

#endif
