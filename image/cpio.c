/* newc cpio writer and parser; see include/cvmkit/cpio.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/bytes.h"
#include "cvmkit/cpio.h"

#define HDR_LEN 110u /* "070701" + 13 * 8 hex digits */
#define TRAILER_NAME "TRAILER!!!"
#define TREE_MAX_ENTRIES 1000000u
#define TREE_MAX_DEPTH 64u

void cvm_cpio_init(struct cvm_cpio *w)
{
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
	w->next_ino = 1;
}

void cvm_cpio_free(struct cvm_cpio *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = 0;
	w->cap = 0;
}

static int reserve(struct cvm_cpio *w, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (extra > CVM_CPIO_ARCHIVE_MAX - w->len)
		return -EFBIG;
	need = w->len + extra;
	if (need <= w->cap)
		return 0;
	cap = w->cap ? w->cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

static void put_hex8(uint8_t *p, uint32_t v, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (int i = 7; i >= 0; i--, v >>= 4)
		p[i] = (uint8_t)digits[v & 0xf];
}

/* Appends header, name and data; the caller has validated everything and
 * decided the inode.  upper_namesize only serves the stub's trailer. */
static int append(struct cvm_cpio *w, const struct cvm_cpio_entry *e, uint32_t ino, bool upper_namesize)
{
	size_t namesize = strlen(e->name) + 1;
	size_t head = CVM_ALIGN_UP(HDR_LEN + namesize, (size_t)4);
	size_t body = CVM_ALIGN_UP(e->size, (size_t)4);
	const uint32_t f[13] = { ino, e->mode, e->uid, e->gid, e->nlink, e->mtime, (uint32_t)e->size,
				 e->devmajor, e->devminor, e->rdevmajor, e->rdevminor, (uint32_t)namesize, 0 };
	uint8_t *p;
	int r;

	if (body > CVM_CPIO_ARCHIVE_MAX || head + body > CVM_CPIO_ARCHIVE_MAX)
		return -EFBIG;
	r = reserve(w, head + body);
	if (r < 0)
		return r;
	p = w->buf + w->len;
	memset(p, 0, head + body);
	memcpy(p, "070701", 6);
	for (int i = 0; i < 13; i++)
		put_hex8(p + 6 + 8 * i, f[i], upper_namesize && i == 11);
	memcpy(p + HDR_LEN, e->name, namesize);
	if (e->size)
		memcpy(p + head, e->data, e->size);
	w->len += head + body;
	return 0;
}

int cvm_cpio_add(struct cvm_cpio *w, const struct cvm_cpio_entry *e)
{
	uint32_t ino;
	int r;

	if (!e->name || !e->name[0] || e->name[0] == '/' || strlen(e->name) >= CVM_CPIO_NAME_MAX ||
	    strcmp(e->name, TRAILER_NAME) == 0 || (!e->data && e->size) || e->size > UINT32_MAX)
		return -EINVAL;
	ino = e->ino ? e->ino : w->next_ino;
	r = append(w, e, ino, false);
	if (r < 0)
		return r;
	if (!e->ino)
		w->next_ino++;
	return 0;
}

int cvm_cpio_finish(struct cvm_cpio *w, bool upper_hex_namesize, uint8_t **ret_buf, size_t *ret_len)
{
	const struct cvm_cpio_entry t = { .name = TRAILER_NAME, .nlink = 1 };
	int r;

	r = append(w, &t, 0, upper_hex_namesize);
	if (r < 0)
		return r;
	*ret_buf = w->buf;
	*ret_len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

int cvm_cpio_stub_extra(const char *dir, const char *file, uint32_t mode, const uint8_t *data, size_t len,
			uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_cpio w;
	char *path = NULL;
	size_t dl;
	int r;

	if (!dir || !file || !*dir || !*file || strchr(file, '/') || dir[0] == '/' || strstr(dir, "//") ||
	    dir[strlen(dir) - 1] == '/' || (!data && len))
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EFBIG;
	dl = strlen(dir);
	if (dl + strlen(file) + 2 > CVM_CPIO_NAME_MAX)
		return -EINVAL;
	cvm_cpio_init(&w);
	path = malloc(dl + strlen(file) + 2);
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	/* pack_cpio_prefix(): every leading component 0555, the last one the
	 * caller's dir_mode, which stub.c passes as 0555 too. */
	for (size_t i = 0; i <= dl; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		memcpy(path, dir, i);
		path[i] = '\0';
		r = cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = path, .mode = S_IFDIR | 0555, .nlink = 1 });
		if (r < 0)
			goto out;
	}
	sprintf(path, "%s/%s", dir, file);
	r = cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = path, .mode = S_IFREG | (mode & 07777), .nlink = 1,
						       .data = data, .size = len });
	if (r < 0)
		goto out;
	r = cvm_cpio_finish(&w, true, ret_buf, ret_len);
out:
	cvm_cpio_free(&w);
	free(path);
	return r;
}

/* ---------------------------------------------------------------- tree */

struct tree {
	char **names;
	size_t n, cap;
};

static int tree_push(struct tree *t, char *name)
{
	if (t->n == TREE_MAX_ENTRIES)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **p = realloc(t->names, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		t->names = p;
		t->cap = cap;
	}
	t->names[t->n++] = name;
	return 0;
}

/* Collects relative names below dirfd; ordering happens afterwards. */
static int tree_walk(int dfd, const char *prefix, unsigned depth, struct tree *t)
{
	DIR *d = NULL;
	struct dirent *de;
	int r = 0;

	if (depth > TREE_MAX_DEPTH) {
		close(dfd);
		return -E2BIG;
	}
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		goto out;
	}
	for (;;) {
		struct stat st;
		char *name;

		errno = 0;
		de = readdir(d);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
			r = -EINVAL;
			break;
		}
		if (asprintf(&name, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (strlen(name) >= CVM_CPIO_NAME_MAX) {
			free(name);
			r = -EINVAL;
			break;
		}
		r = tree_push(t, name);
		if (r < 0) {
			free(name);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				break;
			}
			r = tree_walk(fd, name, depth + 1, t);
			if (r < 0)
				break;
		}
	}
out:
	if (d)
		closedir(d);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_fd_all(int fd, size_t size, uint8_t **ret)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t got = 0;

	if (!buf)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO; /* the file shrank while we read it */
			free(buf);
			return r;
		}
		got += (size_t)n;
	}
	*ret = buf;
	return 0;
}

static int tree_add_one(struct cvm_cpio *w, int rootfd, const char *name, uint32_t mtime)
{
	struct cvm_cpio_entry e = { .name = name, .mtime = mtime };
	uint8_t *data = NULL;
	struct stat st;
	int fd = -1, r;

	if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	e.mode = (uint32_t)(st.st_mode & (S_IFMT | 07777));
	e.nlink = S_ISDIR(st.st_mode) ? 2 : 1;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > UINT32_MAX)
			return -EFBIG;
		fd = openat(rootfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = read_fd_all(fd, (size_t)st.st_size, &data);
		if (r < 0)
			goto out;
		e.size = (size_t)st.st_size;
	} else if (S_ISLNK(st.st_mode)) {
		ssize_t n;
		if ((uint64_t)st.st_size >= CVM_CPIO_NAME_MAX)
			return -EINVAL;
		data = malloc(CVM_CPIO_NAME_MAX);
		if (!data)
			return -ENOMEM;
		n = readlinkat(rootfd, name, (char *)data, CVM_CPIO_NAME_MAX);
		if (n < 0 || n >= (ssize_t)CVM_CPIO_NAME_MAX) {
			r = n < 0 ? -errno : -EINVAL;
			goto out;
		}
		e.size = (size_t)n;
	} else if (!S_ISDIR(st.st_mode)) {
		return -EINVAL;
	}
	e.data = data;
	r = cvm_cpio_add(w, &e);
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return r;
}

int cvm_cpio_from_tree(const char *dir, uint32_t mtime, uint8_t **ret_buf, size_t *ret_len)
{
	struct tree t = { 0 };
	struct cvm_cpio w;
	int rootfd, fd, r;

	cvm_cpio_init(&w);
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = dup(rootfd);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = tree_walk(fd, "", 0, &t);
	if (r < 0)
		goto out;
	qsort(t.names, t.n, sizeof(*t.names), cmp_names);
	for (size_t i = 0; i < t.n; i++) {
		r = tree_add_one(&w, rootfd, t.names[i], mtime);
		if (r < 0)
			goto out;
	}
	r = cvm_cpio_finish(&w, false, ret_buf, ret_len);
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.names[i]);
	free(t.names);
	cvm_cpio_free(&w);
	close(rootfd);
	return r;
}

/* ---------------------------------------------------------------- parser */

void cvm_cpio_reader_init(struct cvm_cpio_reader *r, const uint8_t *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->done = false;
}

static int parse_hex8(const uint8_t *p, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EBADMSG;
		v = v << 4 | d;
	}
	*ret = v;
	return 0;
}

int cvm_cpio_next(struct cvm_cpio_reader *r, struct cvm_cpio_entry *ret_entry)
{
	const uint8_t *h;
	uint32_t f[13];
	size_t off = r->off, name_end, data_off, data_end;
	const char *name;

	if (r->done)
		return 0;
	/* len is capped, so every sum below stays far from SIZE_MAX. */
	if (r->len > CVM_CPIO_ARCHIVE_MAX || off > r->len || r->len - off < HDR_LEN)
		goto bad;
	h = r->buf + off;
	if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
		goto bad;
	for (int i = 0; i < 13; i++)
		if (parse_hex8(h + 6 + 8 * i, &f[i]) < 0)
			goto bad;
	if (f[11] == 0 || f[11] > CVM_CPIO_NAME_MAX)
		goto bad;
	name_end = off + HDR_LEN + f[11];
	if (name_end > r->len)
		goto bad;
	name = (const char *)h + HDR_LEN;
	if (memchr(name, 0, f[11]) != name + f[11] - 1)
		goto bad;
	data_off = off + CVM_ALIGN_UP(HDR_LEN + (size_t)f[11], (size_t)4);
	if (strcmp(name, TRAILER_NAME) == 0) {
		r->done = true;
		r->off = data_off < r->len ? data_off : r->len;
		return 0;
	}
	if (data_off > r->len || r->len - data_off < f[6])
		goto bad;
	data_end = data_off + f[6];
	*ret_entry = (struct cvm_cpio_entry){
		.name = name, .ino = f[0], .mode = f[1], .uid = f[2], .gid = f[3], .nlink = f[4], .mtime = f[5],
		.devmajor = f[7], .devminor = f[8], .rdevmajor = f[9], .rdevminor = f[10],
		.data = r->buf + data_off, .size = f[6],
	};
	r->off = CVM_ALIGN_UP(data_end, (size_t)4);
	return 1;
bad:
	r->off = SIZE_MAX;
	return -EBADMSG;
}
