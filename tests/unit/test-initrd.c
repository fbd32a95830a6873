/* image/initrd.c: the initramfs frame of independently compressed parts
 * (decoded by lz4(1), an independent reader), and the cache of the fixed
 * part: the same bytes with and without it, a new entry for any change of
 * input or level, damaged entries never used, the directory pruned. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/initrd.h"
#include "cvmkit/lz4legacy.h"
#include "testutil.h"

#define run(...) ({ char *c_; int r_; assert_true(asprintf(&c_, __VA_ARGS__) >= 0); r_ = system(c_); free(c_); r_; })

/* Compressible, seeded: text with a counter that changes every 4 KiB. */
static uint8_t *sample(size_t len, uint32_t seed)
{
	uint8_t *b = malloc(len ? len : 1);
	uint32_t x = seed;

	assert_non_null(b);
	for (size_t i = 0; i < len; i++) {
		if (i % 4096 == 0)
			x = x * 1103515245u + 12345u;
		b[i] = (i % 64 < 40) ? (uint8_t)("pack my box with five dozen liquor jugs "[i % 40]) : (uint8_t)(x >> (i % 24));
	}
	return b;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 68 && strcmp(e->d_name + 64, ".lz4") == 0)
			n++;
	closedir(d);
	return n;
}

static char *entry_path(const char *dir, const struct cvm_initrd_cache_info *info)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s.lz4", dir, info->key) > 0);
	return p;
}

/* The frame of a fixed part that ends in a short block (8 MiB + 333 bytes)
 * and a rest decodes, with lz4(1), to fixed || rest; the zero block size
 * ends it. */
static void frame_decodes_with_lz4(void **state)
{
	char *dir = tu_mkdtemp(), p[1024];
	size_t fl = (8u << 20) + 333, rl = 70000, zl, ol;
	uint8_t *f = sample(fl, 1), *t = sample(rl, 2), *z, *out;
	struct cvm_initrd_cache_info info;

	if (!tu_have_tools("lz4", "lz4(1) decodes the initramfs frame")) {
		free(f);
		free(t);
		tu_rmtree(dir);
		skip();
	}
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, NULL, &z, &zl, &info), 0);
	assert_int_equal(info.result, CVM_INITRD_CACHE_OFF);
	assert_memory_equal(z, "\x02\x21\x4c\x18", 4);
	assert_memory_equal(z + zl - 4, "\0\0\0\0", 4);
	/* lz4(1) reads blocks to the end of its input: give it the frame
	 * without the kernel's stop mark. */
	snprintf(p, sizeof(p), "%s/i.lz4", dir);
	assert_int_equal(cvm_write_file_atomic(p, z, zl - 4, 0644), 0);
	assert_int_equal(run("lz4 -dc -q '%s/i.lz4' > '%s/i.cpio'", dir, dir), 0);
	snprintf(p, sizeof(p), "%s/i.cpio", dir);
	out = tu_read(p, &ol);
	assert_int_equal(ol, fl + rl);
	assert_memory_equal(out, f, fl);
	assert_memory_equal(out + fl, t, rl);
	free(out);
	free(z);
	free(f);
	free(t);
	tu_rmtree(dir);
}

/* Cold, warm and uncached builds of the same parts give the same bytes. */
static void cached_equals_clean(void **state)
{
	char *dir = tu_mkdtemp(), cache[1024];
	size_t fl = 3u << 20, rl = 50000, z0l, z1l, z2l;
	uint8_t *f = sample(fl, 3), *t = sample(rl, 4), *z0, *z1, *z2;
	struct cvm_initrd_cache_info i1, i2;

	snprintf(cache, sizeof(cache), "%s/a/b/cache", dir); /* created on first use */
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, NULL, &z0, &z0l, NULL), 0);
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, cache, &z1, &z1l, &i1), 0);
	assert_int_equal(i1.result, CVM_INITRD_CACHE_STORED);
	assert_int_equal(i1.replaced, 0);
	assert_int_equal(strlen(i1.key), 64);
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, cache, &z2, &z2l, &i2), 0);
	assert_int_equal(i2.result, CVM_INITRD_CACHE_HIT);
	assert_string_equal(i2.key, i1.key);
	assert_int_equal(z1l, z0l);
	assert_int_equal(z2l, z0l);
	assert_memory_equal(z1, z0, z0l);
	assert_memory_equal(z2, z0, z0l);
	/* Another rest (a workload change) still hits. */
	free(z2);
	t[100] ^= 1;
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, cache, &z2, &z2l, &i2), 0);
	assert_int_equal(i2.result, CVM_INITRD_CACHE_HIT);
	free(z0);
	assert_int_equal(cvm_initrd_compress(f, fl, t, rl, NULL, &z0, &z0l, NULL), 0);
	assert_int_equal(z2l, z0l);
	assert_memory_equal(z2, z0, z0l);
	assert_int_equal(count_entries(cache), 1);
	free(z0);
	free(z1);
	free(z2);
	free(f);
	free(t);
	tu_rmtree(dir);
}

/* Any change of the input (the init or a module) or of the level is a
 * new entry, and its blocks are those of a clean compression. */
static void changes_miss(void **state)
{
	char *dir = tu_mkdtemp();
	size_t fl = 1u << 20, bl, cl;
	uint8_t *f = sample(fl, 5), *b, *c;
	struct cvm_initrd_cache_info i0, i;

	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i0), 0);
	assert_int_equal(i0.result, CVM_INITRD_CACHE_STORED);
	free(b);
	/* one byte of the input */
	f[fl / 2] ^= 0x80;
	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
	assert_int_equal(i.result, CVM_INITRD_CACHE_STORED);
	assert_string_not_equal(i.key, i0.key);
	assert_int_equal(cvm_lz4_legacy_blocks(f, fl, 9, &c, &cl), 0);
	assert_int_equal(bl, cl);
	assert_memory_equal(b, c, cl);
	free(b);
	free(c);
	f[fl / 2] ^= 0x80;
	/* one byte more */
	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl - 1, 9, &b, &bl, &i), 0);
	assert_int_equal(i.result, CVM_INITRD_CACHE_STORED);
	free(b);
	/* the level */
	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 12, &b, &bl, &i), 0);
	assert_int_equal(i.result, CVM_INITRD_CACHE_STORED);
	assert_string_not_equal(i.key, i0.key);
	assert_int_equal(cvm_lz4_legacy_blocks(f, fl, 12, &c, &cl), 0);
	assert_int_equal(bl, cl);
	assert_memory_equal(b, c, cl);
	free(b);
	free(c);
	/* and the original again: still there */
	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
	assert_int_equal(i.result, CVM_INITRD_CACHE_HIT);
	assert_string_equal(i.key, i0.key);
	assert_int_equal(count_entries(dir), 4);
	free(b);
	free(f);
	tu_rmtree(dir);
}

/* A damaged entry is never used: it is recompressed and replaced. */
static void damaged_entries(void **state)
{
	char *dir = tu_mkdtemp(), *p;
	size_t fl = 200000, bl, cl, el;
	uint8_t *f = sample(fl, 6), *b, *c, *e;
	struct cvm_initrd_cache_info i;
	static const struct {
		const char *what;
		size_t at;  /* SIZE_MAX - k: k bytes from the end */
		int cut;    /* truncate instead of flipping */
	} cases[] = {
		{ "a byte of the blocks", SIZE_MAX - 10, 0 },
		{ "the level in the header", 20, 0 },
		{ "the input digest in the header", 50, 0 },
		{ "the blocks' digest in the header", 80, 0 },
		{ "the blocks' length in the header", 104, 0 },
		{ "truncated", SIZE_MAX - 1, 1 },
		{ "only a header", 112, 1 },
		{ "empty", 0, 1 },
	};

	assert_int_equal(cvm_lz4_legacy_blocks(f, fl, 9, &c, &cl), 0);
	assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
	free(b);
	p = entry_path(dir, &i);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t at;

		e = tu_read(p, &el);
		at = cases[k].at >= SIZE_MAX - 64 ? el - (SIZE_MAX - cases[k].at) : cases[k].at;
		if (cases[k].cut) {
			assert_int_equal(truncate(p, (off_t)at), 0);
		} else {
			e[at] ^= 0x01;
			assert_int_equal(cvm_write_file_atomic(p, e, el, 0644), 0);
		}
		free(e);
		assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
		if (i.result != CVM_INITRD_CACHE_STORED || !i.replaced)
			fail_msg("%s: result %d replaced %d", cases[k].what, i.result, i.replaced);
		assert_int_equal(bl, cl);
		assert_memory_equal(b, c, cl);
		free(b);
		/* and the replacement is good */
		assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
		assert_int_equal(i.result, CVM_INITRD_CACHE_HIT);
		free(b);
	}
	/* Blocks that decode to other bytes, with every digest made to match:
	 * the decoding check refuses them. */
	{
		uint8_t *g = sample(fl, 7), *gb;
		size_t gbl;
		uint8_t hdr[112];

		assert_int_equal(cvm_lz4_legacy_blocks(g, fl, 9, &gb, &gbl), 0);
		e = tu_read(p, &el);
		memcpy(hdr, e, sizeof(hdr));
		free(e);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, gb, gbl, hdr + 72), 0);
		for (int j = 0; j < 8; j++)
			hdr[104 + j] = (uint8_t)((uint64_t)gbl >> (8 * j));
		e = malloc(sizeof(hdr) + gbl);
		memcpy(e, hdr, sizeof(hdr));
		memcpy(e + sizeof(hdr), gb, gbl);
		assert_int_equal(cvm_write_file_atomic(p, e, sizeof(hdr) + gbl, 0644), 0);
		free(e);
		assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
		assert_int_equal(i.result, CVM_INITRD_CACHE_STORED);
		assert_int_equal(i.replaced, 1);
		assert_int_equal(bl, cl);
		assert_memory_equal(b, c, cl);
		free(b);
		free(gb);
		free(g);
	}
	free(p);
	free(c);
	free(f);
	tu_rmtree(dir);
}

/* A cache that cannot be used costs time only; the bytes are the same. */
static void unusable_cache(void **state)
{
	char *dir = tu_mkdtemp(), file[1024];
	size_t fl = 100000, bl, cl;
	uint8_t *f = sample(fl, 8), *b, *c;
	struct cvm_initrd_cache_info i;

	snprintf(file, sizeof(file), "%s/not-a-dir", dir);
	assert_int_equal(cvm_write_file_atomic(file, "x", 1, 0644), 0);
	assert_int_equal(cvm_lz4_legacy_blocks(f, fl, 9, &c, &cl), 0);
	assert_int_equal(cvm_lz4_blocks_cached(file, f, fl, 9, &b, &bl, &i), 0);
	assert_int_equal(i.result, CVM_INITRD_CACHE_UNSTORED);
	assert_int_equal(i.error, -ENOTDIR);
	assert_int_equal(bl, cl);
	assert_memory_equal(b, c, cl);
	free(b);
	if (geteuid() != 0) { /* root writes anyway */
		assert_int_equal(chmod(dir, 0555), 0);
		snprintf(file, sizeof(file), "%s/sub", dir);
		assert_int_equal(cvm_lz4_blocks_cached(file, f, fl, 9, &b, &bl, &i), 0);
		assert_int_equal(i.result, CVM_INITRD_CACHE_UNSTORED);
		assert_memory_equal(b, c, cl);
		free(b);
		assert_int_equal(chmod(dir, 0755), 0);
	}
	free(c);
	free(f);
	tu_rmtree(dir);
}

/* The directory keeps the CVM_INITRD_CACHE_KEEP most recently used. */
static void pruned(void **state)
{
	char *dir = tu_mkdtemp(), *first;
	size_t fl = 5000, bl;
	uint8_t *orig = sample(fl, 9), *f = sample(fl, 9), *b;
	struct cvm_initrd_cache_info i0, i;

	assert_int_equal(cvm_lz4_blocks_cached(dir, orig, fl, 9, &b, &bl, &i0), 0);
	free(b);
	first = entry_path(dir, &i0);
	for (unsigned k = 1; k < CVM_INITRD_CACHE_KEEP + 8; k++) {
		f[0] = (uint8_t)k; /* sample() starts with 'p' */
		usleep(2000);      /* distinct mtimes */
		assert_int_equal(cvm_lz4_blocks_cached(dir, f, fl, 9, &b, &bl, &i), 0);
		assert_int_equal(i.result, CVM_INITRD_CACHE_STORED);
		free(b);
		/* the first entry is used after every other: it stays */
		usleep(2000);
		assert_int_equal(cvm_lz4_blocks_cached(dir, orig, fl, 9, &b, &bl, &i), 0);
		assert_int_equal(i.result, CVM_INITRD_CACHE_HIT);
		free(b);
	}
	assert_int_equal(count_entries(dir), CVM_INITRD_CACHE_KEEP);
	assert_int_equal(access(first, F_OK), 0);
	free(first);
	free(orig);
	free(f);
	tu_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_decodes_with_lz4),
		cmocka_unit_test(cached_equals_clean),
		cmocka_unit_test(changes_miss),
		cmocka_unit_test(damaged_entries),
		cmocka_unit_test(unusable_cache),
		cmocka_unit_test(pruned),
	};
	return cmocka_run_group_tests_name("initrd", tests, NULL, NULL);
}
