/* The initramfs trees, staged in memory: the init, the workload, init.conf,
 * the modules, each under its path in the initramfs, then archived with the
 * rules of cvm_cpio_from_tree(): names sorted bytewise (parents first),
 * every parent directory present (0755), inode numbers in archive order,
 * uid and gid 0, one mtime, nlink 2 for directories.  Staging a folder on
 * disk, reading it back and removing it cost about 150 file-system calls
 * per build, most of them journaled. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvmkit/cpio.h"
#include "cvmkit/fileio.h"

#include "cli.h"

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

void stage_init(struct stage *s)
{
	memset(s, 0, sizeof(*s));
}

void stage_free(struct stage *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].own);
		cvm_file_view_close(&s->v[i].view);
	}
	free(s->v);
	stage_init(s);
}

/* Appends one entry; the name is copied, data is taken as is. */
static struct stage_entry *push(struct stage *s, const char *name, size_t name_len, uint32_t mode)
{
	struct stage_entry *e;

	if (name_len == 0 || name_len >= CVM_CPIO_NAME_MAX || name[0] == '/')
		return NULL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct stage_entry *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->name = strndup(name, name_len);
	if (!e->name)
		return NULL;
	e->mode = mode;
	s->n++;
	return e;
}

/* REL's parent directories (a mkdir -p, as the on-disk staging did). */
static int parents(struct stage *s, const char *rel)
{
	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
		if (!push(s, rel, (size_t)(p - rel), S_IFDIR | 0755))
			return -ENOMEM;
	return 0;
}

int stage_dir(struct stage *s, const char *rel)
{
	int r = parents(s, rel);

	if (r == 0 && !push(s, rel, strlen(rel), S_IFDIR | 0755))
		r = -ENOMEM;
	return r;
}

int stage_file(struct stage *s, const char *rel, const uint8_t *data, size_t len, mode_t mode)
{
	struct stage_entry *e;
	int r = parents(s, rel);

	if (r < 0)
		return r;
	e = push(s, rel, strlen(rel), S_IFREG | (mode & 07777));
	if (!e)
		return -ENOMEM;
	e->own = malloc(len ? len : 1);
	if (!e->own)
		return -ENOMEM;
	memcpy(e->own, data, len);
	e->data = e->own;
	e->size = len;
	return 0;
}

int stage_copy_file(struct stage *s, const char *src, const char *rel, mode_t mode)
{
	struct cvm_file_view view = { 0 };
	struct stage_entry *e = NULL;
	int r = cvm_file_view_open(src, IMG_MAX_INPUT, &view);

	if (r == 0)
		r = parents(s, rel);
	if (r == 0) {
		e = push(s, rel, strlen(rel), S_IFREG | (mode & 07777));
		r = e ? 0 : -ENOMEM;
	}
	if (r < 0) {
		cvm_file_view_close(&view);
		return r;
	}
	/* Mapped, not copied; unmapped by stage_free(). */
	e->view = view;
	e->data = view.buf;
	e->size = view.len;
	return 0;
}

/* Regular files and directories below src, as rel/...; anything else
 * (device nodes, sockets, symlinks) is refused so nothing unexpected ends up
 * measured.  Files keep their permission bits; directories appear through
 * the files in them, as the on-disk copy made them. */
int stage_copy_tree(struct stage *s, const char *src, const char *rel)
{
	DIR *d = opendir(src);
	struct dirent *e;
	int r = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char sp[PATH_MAX], tp[PATH_MAX];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(sp, sizeof(sp), "%s/%s", src, e->d_name) >= (int)sizeof(sp) ||
		    snprintf(tp, sizeof(tp), "%s/%s", rel, e->d_name) >= (int)sizeof(tp)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (lstat(sp, &st) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode))
			r = stage_copy_tree(s, sp, tp);
		else if (S_ISREG(st.st_mode))
			r = stage_copy_file(s, sp, tp, st.st_mode & 0777);
		else
			r = -EINVAL;
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int stage_stop_applets(struct stage *s)
{
	int r = stage_dir(s, "sbin");

	for (const char *const *a = STOP_APPLETS; r == 0 && *a; a++) {
		struct stage_entry *e = push(s, *a + 1, strlen(*a + 1), S_IFLNK | 0777);

		if (!e)
			return -ENOMEM;
		e->data = (const uint8_t *)"/init";
		e->size = 5;
	}
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct stage_entry *)a)->name, ((const struct stage_entry *)b)->name);
}

int stage_archive(struct stage *s, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_cpio w;
	int r = 0;

	qsort(s->v, s->n, sizeof(*s->v), by_name);
	cvm_cpio_init(&w);
	for (size_t i = 0; i < s->n && r == 0; i++) {
		const struct stage_entry *e = &s->v[i];
		bool dir = S_ISDIR(e->mode);
		struct cvm_cpio_entry c = { .name = e->name, .mode = e->mode, .nlink = dir ? 2 : 1, .mtime = mtime,
					    .data = e->data, .size = e->size };

		if (i + 1 < s->n && strcmp(e->name, s->v[i + 1].name) == 0) {
			/* The same directory twice is one; anything else twice is
			 * two things at one path. */
			if (dir && S_ISDIR(s->v[i + 1].mode))
				continue;
			r = -EEXIST;
			break;
		}
		r = cvm_cpio_add(&w, &c);
	}
	if (r == 0)
		r = cvm_cpio_finish(&w, false, ret_buf, ret_len);
	cvm_cpio_free(&w);
	return r;
}
