/* The initramfs staging tree: the init, the workload, init.conf, modules,
 * written to a folder that cvm_cpio_from_tree() reads back and that is
 * removed in the same run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/fileio.h"

#include "cli.h"

/* ------------------------------------------------------------------ staging */

int mkdirs(const char *path, mode_t mode)
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

int put_file(const char *root, const char *rel, const uint8_t *data, size_t len, mode_t mode)
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

int copy_file(const char *src, const char *root, const char *rel, mode_t mode)
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
int copy_tree(const char *src, const char *root, const char *rel)
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

int rm_tree(const char *path)
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

int stage_stop_applets(const char *stage)
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
