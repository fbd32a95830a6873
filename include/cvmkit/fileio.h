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

/* Write LEN bytes to PATH atomically: a temporary file in the same directory,
 * fsync, then rename.  On failure PATH is untouched and no temporary is left. */
int cvm_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* Write all LEN bytes to FD, retrying on short writes and EINTR. */
int cvm_write_all(int fd, const void *buf, size_t len);

#endif
