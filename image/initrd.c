/* The initramfs frame and the cache of its fixed part (see initrd.h).
 *
 * Under HC level 9 the fixed part (2.6 MiB of modules and the init) took
 * about 0.13 s to compress, most of a rebuild that changes only the
 * workload; reading a cache entry back and checking it costs a few ms. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/initrd.h"
#include "cvmkit/lz4legacy.h"

/* Entry layout (little-endian): the key material first, so the name is the
 * SHA-256 of the first KEYED bytes.  Bump the tag when the layout or the
 * meaning of the blocks changes. */
#define TAG "cvmkit-lz4blk-1\n"
#define OFF_VERSION 16
#define OFF_LEVEL 20
#define OFF_BLOCK 24
#define OFF_INLEN 32
#define OFF_INSHA 40
#define KEYED 72
#define OFF_BLKSHA 72
#define OFF_BLKLEN 104
#define HDR 112

_Static_assert(sizeof(TAG) - 1 == OFF_VERSION, "the tag fills its field");

static int header_for(const uint8_t *in, size_t len, int level, uint8_t hdr[HDR], char key[65])
{
	uint8_t d[32];
	int r;

	memset(hdr, 0, HDR);
	memcpy(hdr, TAG, OFF_VERSION);
	cvm_put_le32(hdr + OFF_VERSION, (uint32_t)LZ4_versionNumber());
	cvm_put_le32(hdr + OFF_LEVEL, (uint32_t)level);
	cvm_put_le64(hdr + OFF_BLOCK, CVM_LZ4_LEGACY_BLOCK);
	cvm_put_le64(hdr + OFF_INLEN, len);
	r = cvm_hash(CVM_HASH_SHA256, in, len, hdr + OFF_INSHA);
	if (r >= 0)
		r = cvm_hash(CVM_HASH_SHA256, hdr, KEYED, d);
	if (r < 0)
		return r;
	cvm_hex_encode(d, sizeof(d), key);
	return 0;
}

/* The blocks of a valid entry for exactly this key material, in a malloc'd
 * copy; -ENOENT when there is none, -EBADMSG when the entry fails a check. */
static int lookup(int dfd, const char *name, const uint8_t hdr[HDR], const uint8_t *in, size_t len,
		  uint8_t **ret_buf, size_t *ret_len)
{
	size_t max = HDR + ((len + CVM_LZ4_LEGACY_BLOCK - 1) / CVM_LZ4_LEGACY_BLOCK) *
				   (4 + (size_t)LZ4_compressBound((int)CVM_LZ4_LEGACY_BLOCK));
	uint8_t *e = NULL, *blocks = NULL, d[32];
	size_t elen = 0, blen;
	struct stat st;
	int fd, r;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < HDR || (uint64_t)st.st_size > max) {
		close(fd);
		return -EBADMSG;
	}
	elen = (size_t)st.st_size;
	e = malloc(elen);
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < elen;) {
		ssize_t n = read(fd, e + got, elen - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EBADMSG;
			close(fd);
			goto out;
		}
		got += (size_t)n;
	}
	/* Used: its mtime orders the least recently used for pruning. */
	(void)futimens(fd, NULL);
	close(fd);
	r = -EBADMSG;
	blen = elen - HDR;
	if (memcmp(e, hdr, KEYED) != 0 || cvm_le64(e + OFF_BLKLEN) != blen)
		goto out;
	if (cvm_hash(CVM_HASH_SHA256, e + HDR, blen, d) < 0 || memcmp(d, e + OFF_BLKSHA, 32) != 0)
		goto out;
	/* The digests say the entry is whole and for these bytes; decoding it
	 * says its blocks really are these bytes (~1 ms for the modules). */
	r = cvm_lz4_legacy_blocks_check(e + HDR, blen, in, len);
	if (r < 0)
		goto out;
	/* The caller owns the blocks alone: move them to the front. */
	memmove(e, e + HDR, blen);
	blocks = realloc(e, blen ? blen : 1);
	if (!blocks)
		blocks = e;
	e = NULL;
	*ret_buf = blocks;
	*ret_len = blen;
	r = 0;
out:
	free(e);
	return r;
}

struct aged {
	struct timespec mtime;
	char name[NAME_MAX + 1];
};

static int older_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keeps the CVM_INITRD_CACHE_KEEP most recently used entries (best effort). */
static void prune(int dfd)
{
	struct aged *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat st;

		if (l != 64 + 4 || strcmp(de->d_name + 64, ".lz4") != 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 32;
			struct aged *t = realloc(v, c * sizeof(*t));
			if (!t)
				break;
			v = t;
			cap = c;
		}
		v[n].mtime = st.st_mtim;
		memcpy(v[n].name, de->d_name, l + 1);
		n++;
	}
	closedir(d);
	if (n > CVM_INITRD_CACHE_KEEP) {
		qsort(v, n, sizeof(*v), older_first);
		for (size_t i = 0; i < n - CVM_INITRD_CACHE_KEEP; i++)
			(void)unlinkat(dfd, v[i].name, 0);
	}
	free(v);
}

static int store(int dfd, const char *name, uint8_t hdr[HDR], const uint8_t *blocks, size_t blen)
{
	char tmp[64];
	int fd = -1, r;

	r = cvm_hash(CVM_HASH_SHA256, blocks, blen, hdr + OFF_BLKSHA);
	if (r < 0)
		return r;
	cvm_put_le64(hdr + OFF_BLKLEN, blen);
	/* A unique temporary name per writer: concurrent builds each rename a
	 * whole entry, and the last one wins with the same bytes. */
	for (unsigned i = 0; fd < 0; i++) {
		snprintf(tmp, sizeof(tmp), ".tmp.%ld.%u", (long)getpid(), i);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && (errno != EEXIST || i > 100))
			return -errno;
	}
	r = cvm_write_all(fd, hdr, HDR);
	if (r == 0)
		r = cvm_write_all(fd, blocks, blen);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

static int open_cache_dir(const char *dir)
{
	char p[PATH_MAX];
	int fd;

	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd < 0 ? -errno : fd;
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int cvm_lz4_blocks_cached(const char *dir, const uint8_t *in, size_t len, int level, uint8_t **ret_buf,
			  size_t *ret_len, struct cvm_initrd_cache_info *ret_info)
{
	struct cvm_initrd_cache_info info = { .result = CVM_INITRD_CACHE_OFF };
	uint8_t hdr[HDR], *blocks = NULL;
	char name[64 + 5];
	size_t blen = 0;
	int dfd = -1, r;

	if (!in && len)
		return -EINVAL;
	if (!dir)
		goto compress;
	r = header_for(in, len, level, hdr, info.key);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.lz4", info.key);
	dfd = open_cache_dir(dir);
	if (dfd < 0) {
		info.result = CVM_INITRD_CACHE_UNSTORED;
		info.error = dfd;
		goto compress;
	}
	r = lookup(dfd, name, hdr, in, len, &blocks, &blen);
	if (r == 0) {
		info.result = CVM_INITRD_CACHE_HIT;
		goto done;
	}
	if (r == -ENOMEM)
		goto out;
	info.replaced = r == -EBADMSG;
compress:
	r = cvm_lz4_legacy_blocks(in, len, level, &blocks, &blen);
	if (r < 0)
		goto out;
	if (dfd >= 0) {
		int s = store(dfd, name, hdr, blocks, blen);

		info.result = s < 0 ? CVM_INITRD_CACHE_UNSTORED : CVM_INITRD_CACHE_STORED;
		info.error = s < 0 ? s : 0;
		if (s == 0)
			prune(dfd);
	}
done:
	*ret_buf = blocks;
	*ret_len = blen;
	blocks = NULL;
	if (ret_info)
		*ret_info = info;
	r = 0;
out:
	free(blocks);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int cvm_initrd_compress(const uint8_t *fixed, size_t flen, const uint8_t *rest, size_t rlen, const char *cache_dir,
			uint8_t **ret_buf, size_t *ret_len, struct cvm_initrd_cache_info *ret_info)
{
	struct cvm_initrd_cache_info info;
	uint8_t *f = NULL, *t = NULL, *out = NULL;
	size_t fl = 0, tl = 0, n;
	int r;

	if ((!fixed && flen) || (!rest && rlen))
		return -EINVAL;
	r = cvm_lz4_blocks_cached(cache_dir, fixed, flen, CVM_LZ4_LEGACY_LEVEL, &f, &fl, &info);
	if (r < 0)
		goto out;
	r = cvm_lz4_legacy_blocks(rest, rlen, CVM_LZ4_LEGACY_LEVEL, &t, &tl);
	if (r < 0)
		goto out;
	n = 4 + fl + tl + 4;
	out = malloc(n);
	if (!out) {
		r = -ENOMEM;
		goto out;
	}
	cvm_put_le32(out, CVM_LZ4_LEGACY_MAGIC);
	memcpy(out + 4, f, fl);
	memcpy(out + 4 + fl, t, tl);
	cvm_put_le32(out + 4 + fl + tl, 0);
	*ret_buf = out;
	*ret_len = n;
	if (ret_info)
		*ret_info = info;
	out = NULL;
	r = 0;
out:
	free(out);
	free(f);
	free(t);
	return r;
}
