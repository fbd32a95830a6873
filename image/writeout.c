/* Sparse, reflinked, all-or-nothing artifact writer (see writeout.h).  The
 * disk image is mostly zeros (free FAT clusters, the room up to Azure's
 * minimum size) and the VHD is the raw disk plus 512 bytes: writing and
 * syncing both in full was most of a warm rebuild. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cvmkit/writeout.h"

/* The usual file-system block: smaller holes are not stored as holes. */
#define BLOCK 4096

static bool is_zero(const uint8_t *p, size_t n)
{
	/* p[0] == 0 and every byte equal to the next: memcmp's vector loop
	 * instead of a byte loop. */
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Writes each run of non-zero blocks of buf at its offset, in one pwrite;
 * zero blocks stay holes (the caller sets the file's size). */
static int write_sparse(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t start, n = len - off < BLOCK ? len - off : BLOCK;
		int r;

		if (is_zero(buf + off, n)) {
			off += n;
			continue;
		}
		start = off;
		while (off < len) {
			n = len - off < BLOCK ? len - off : BLOCK;
			if (is_zero(buf + off, n))
				break;
			off += n;
		}
		r = pwrite_all(fd, buf + start, off - start, (off_t)start);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Shares src's first len bytes with dst; a negative errno (EOPNOTSUPP,
 * EXDEV, EINVAL) where the file system has no reflinks. */
static int clone_blocks(int dst, int src, size_t len)
{
	struct file_clone_range fcr = { .src_fd = src, .src_offset = 0, .src_length = len, .dest_offset = 0 };

	if (len % BLOCK)
		return -EINVAL;
	return ioctl(dst, FICLONERANGE, &fcr) < 0 ? -errno : 0;
}

/* Replacing a big file frees its blocks inside rename(): 5-20 ms for each
 * of a 13-20 MB disk and VHD on ext4, most of a rebuild's write-out.  A
 * second name keeps the old inode alive through the rename, and a detached
 * process drops it (and so frees the blocks) while the caller goes on. */
#define FREE_LATER_MIN ((off_t)1 << 20)

/* DIR/.BASE.old for path DIR/BASE; "" if it does not fit. */
static void old_name(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) + 1 : 0;

	if ((size_t)snprintf(out, size, "%.*s.%s.old", dir_len, path, slash ? slash + 1 : path) >= size)
		out[0] = 0;
}

/* Gives PATH's current file, when it is big and has no other name, a second
 * name in OLD (emptied when not). */
static void keep_old(const char *path, char *old, size_t size)
{
	struct stat st;

	old_name(path, old, size);
	if (!old[0] || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < FREE_LATER_MIN || st.st_nlink != 1) {
		old[0] = 0;
		return;
	}
	/* A leftover of a run that never finished freeing it. */
	if (link(path, old) < 0 && (errno != EEXIST || unlink(old) < 0 || link(path, old) < 0))
		old[0] = 0;
}

/* Unlinks the names in a grandchild that nobody waits for (the child exits
 * at once and is reaped here); without a process, now. */
static void free_later(char (*old)[PATH_MAX], size_t n)
{
	bool any = false;
	pid_t pid;

	for (size_t i = 0; i < n; i++)
		any |= old[i][0] != 0;
	if (!any)
		return;
	pid = fork();
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* Only async-signal-safe calls from here on in a child. */
	if (pid == 0 && fork() > 0)
		_exit(0);
	for (size_t i = 0; i < n; i++)
		if (old[i][0])
			(void)unlink(old[i]);
	if (pid == 0)
		_exit(0);
}

int cvm_write_files_atomic(const struct cvm_file_out *files, size_t n, mode_t mode)
{
	char old[CVM_WRITEOUT_MAX][PATH_MAX];
	char tmp[CVM_WRITEOUT_MAX][PATH_MAX];
	int fds[CVM_WRITEOUT_MAX];
	size_t made = 0;
	int r = 0;

	if (n > CVM_WRITEOUT_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		const struct cvm_file_out *f = &files[i];
		bool cloned = false;

		if ((size_t)snprintf(tmp[i], sizeof(tmp[i]), "%s.tmpXXXXXX", f->path) >= sizeof(tmp[i])) {
			r = -ENAMETOOLONG;
			goto out;
		}
		fds[i] = mkostemp(tmp[i], O_CLOEXEC);
		if (fds[i] < 0) {
			r = -errno;
			goto out;
		}
		made++;
		for (size_t j = 0; j < i && !cloned; j++)
			if (f->len && files[j].data == f->data && files[j].len == f->len)
				cloned = clone_blocks(fds[i], fds[j], f->len) == 0;
		r = cloned ? 0 : write_sparse(fds[i], f->data, f->len);
		if (r == 0 && f->tail_len)
			r = pwrite_all(fds[i], f->tail, f->tail_len, (off_t)f->len);
		if (r == 0 && ftruncate(fds[i], (off_t)(f->len + f->tail_len)) < 0)
			r = -errno;
		if (r == 0 && fchmod(fds[i], mode) < 0)
			r = -errno;
		if (r < 0)
			goto out;
		/* Start write-back now, so the device works on this file while
		 * the next one is written; the fsync below only waits. */
		(void)sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	for (size_t i = 0; i < n; i++)
		if (fsync(fds[i]) < 0) {
			r = -errno;
			goto out;
		}
	for (size_t i = 0; i < n; i++) {
		int c = close(fds[i]);

		fds[i] = -1;
		if (c < 0 && r == 0)
			r = -errno;
	}
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		keep_old(files[i].path, old[i], sizeof(old[i]));
	for (size_t i = 0; i < n && r == 0; i++) {
		if (rename(tmp[i], files[i].path) < 0)
			r = -errno;
		else
			tmp[i][0] = 0;
	}
	free_later(old, n);
	if (r == 0)
		return 0;
out:
	for (size_t i = 0; i < made; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (tmp[i][0])
			unlink(tmp[i]);
	}
	return r;
}
