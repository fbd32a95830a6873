/* image/lz4legacy.c: LZ4 legacy frames, cross-checked with the lz4(1) CLI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/fileio.h"
#include "cvmkit/lz4legacy.h"
#include "testutil.h"

#define run(...) ({ char *c_; int r_; assert_true(asprintf(&c_, __VA_ARGS__) >= 0); r_ = system(c_); free(c_); r_; })

static int have_lz4(void)
{
	return tu_have_tools("lz4", "lz4(1) CLI cross-check");
}

/* Compressible but not trivial: text with a slowly changing counter. */
static uint8_t *sample(size_t len)
{
	uint8_t *b = malloc(len ? len : 1);
	uint32_t x = 12345;

	assert_non_null(b);
	for (size_t i = 0; i < len; i++) {
		if (i % 4096 == 0)
			x = x * 1103515245u + 12345u;
		b[i] = (i % 64 < 48) ? (uint8_t)("the quick brown fox jumps over the lazy dog "[i % 44]) : (uint8_t)(x >> (i % 24));
	}
	return b;
}

static void roundtrip_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 13, 4096, 8u << 20, (8u << 20) + 1 };

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t *in = sample(sizes[k]), *z, *z2, *out;
		size_t zl, zl2, ol, blocks = 0, off = 4;

		assert_int_equal(cvm_lz4_legacy_compress(in, sizes[k], &z, &zl), 0);
		assert_true(zl >= 4);
		assert_memory_equal(z, "\x02\x21\x4c\x18", 4);
		/* one block per started 8 MiB */
		while (off < zl) {
			off += 4 + (z[off] | z[off + 1] << 8 | z[off + 2] << 16 | (size_t)z[off + 3] << 24);
			blocks++;
		}
		assert_int_equal(off, zl);
		assert_int_equal(blocks, (sizes[k] + (8u << 20) - 1) / (8u << 20));
		/* deterministic (small inputs only) */
		if (sizes[k] > 4096) {
			z2 = malloc(zl);
			memcpy(z2, z, zl);
			zl2 = zl;
		} else {
			assert_int_equal(cvm_lz4_legacy_compress(in, sizes[k], &z2, &zl2), 0);
		}
		assert_int_equal(zl, zl2);
		assert_memory_equal(z, z2, zl);
		assert_int_equal(cvm_lz4_legacy_decompress(z, zl, sizes[k], &out, &ol), 0);
		assert_int_equal(ol, sizes[k]);
		assert_memory_equal(out, in, ol);
		free(out);
		if (sizes[k] > 0)
			assert_int_equal(cvm_lz4_legacy_decompress(z, zl, sizes[k] - 1, &out, &ol), -EFBIG);
		free(z);
		free(z2);
		free(in);
	}
}

static void cli_reads_ours(void **state)
{
	char *dir = tu_mkdtemp(), p[1024];
	size_t n = (8u << 20) + 77, zl, ol;
	uint8_t *in = sample(n), *z, *out;

	if (!have_lz4()) {
		free(in);
		tu_rmtree(dir);
		skip();
	}
	assert_int_equal(cvm_lz4_legacy_compress(in, n, &z, &zl), 0);
	snprintf(p, sizeof(p), "%s/a.lz4", dir);
	assert_int_equal(cvm_write_file_atomic(p, z, zl, 0644), 0);
	assert_int_equal(run("lz4 -dc -q '%s/a.lz4' > '%s/a.out'", dir, dir), 0);
	snprintf(p, sizeof(p), "%s/a.out", dir);
	out = tu_read(p, &ol);
	assert_int_equal(ol, n);
	assert_memory_equal(out, in, n);
	free(out);
	free(z);
	free(in);
	tu_rmtree(dir);
}

static void we_read_cli(void **state)
{
	char *dir = tu_mkdtemp(), p[1024];
	size_t n = (8u << 20) + 4099, zl, ol;
	uint8_t *in = sample(n), *z, *out;

	if (!have_lz4()) {
		free(in);
		tu_rmtree(dir);
		skip();
	}
	snprintf(p, sizeof(p), "%s/b", dir);
	assert_int_equal(cvm_write_file_atomic(p, in, n, 0644), 0);
	assert_int_equal(run("lz4 -l -9 -q -c '%s/b' > '%s/b.lz4' && lz4 -l -1 -q -c '%s/b' >> '%s/b.lz4'", dir, dir, dir, dir), 0);
	snprintf(p, sizeof(p), "%s/b.lz4", dir);
	z = tu_read(p, &zl);
	/* two concatenated legacy frames */
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, 2 * n, &out, &ol), 0);
	assert_int_equal(ol, 2 * n);
	assert_memory_equal(out, in, n);
	assert_memory_equal(out + n, in, n);
	free(out);
	free(z);
	free(in);
	tu_rmtree(dir);
}

static void malformed(void **state)
{
	uint8_t *out, *z, *b;
	size_t ol, zl;
	uint8_t in[100];

	memset(in, 'A', sizeof(in));
	assert_int_equal(cvm_lz4_legacy_compress(in, sizeof(in), &z, &zl), 0);
	b = malloc(zl + 8);
	/* wrong magic (the modern frame's 0x184D2204) */
	memcpy(b, z, zl);
	b[1] = 0x22; b[2] = 0x4d;
	assert_int_equal(cvm_lz4_legacy_decompress(b, zl, 1000, &out, &ol), -EBADMSG);
	/* too short for a magic */
	assert_int_equal(cvm_lz4_legacy_decompress(z, 3, 1000, &out, &ol), -EBADMSG);
	assert_int_equal(cvm_lz4_legacy_decompress(NULL, 0, 1000, &out, &ol), -EBADMSG);
	/* truncated size field and truncated block */
	assert_int_equal(cvm_lz4_legacy_decompress(z, 6, 1000, &out, &ol), -EBADMSG);
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl - 1, 1000, &out, &ol), -EBADMSG);
	/* block size 0 */
	memcpy(b, z, zl);
	memset(b + 4, 0, 4);
	assert_int_equal(cvm_lz4_legacy_decompress(b, zl, 1000, &out, &ol), -EBADMSG);
	/* block size above LZ4_compressBound(8 MiB) */
	memcpy(b, z, zl);
	b[4] = 0xff; b[5] = 0xff; b[6] = 0xff; b[7] = 0x7f;
	assert_int_equal(cvm_lz4_legacy_decompress(b, zl, 1000, &out, &ol), -EBADMSG);
	/* garbage block: a match offset pointing before the output start */
	memcpy(b, "\x02\x21\x4c\x18\x03\x00\x00\x00\x0f\xff\xff", 11);
	assert_int_equal(cvm_lz4_legacy_decompress(b, 11, 1000, &out, &ol), -EBADMSG);
	/* ... still malformed, not too big, when the limit leaves no room at all */
	assert_int_equal(cvm_lz4_legacy_decompress(b, 11, 0, &out, &ol), -EBADMSG);
	/* trailing bytes that are not a whole size field */
	memcpy(b, z, zl);
	memset(b + zl, 0, 2);
	assert_int_equal(cvm_lz4_legacy_decompress(b, zl + 2, 1000, &out, &ol), -EBADMSG);
	/* max_out */
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, 99, &out, &ol), -EFBIG);
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, 100, &out, &ol), 0);
	assert_int_equal(ol, 100);
	free(out);
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, 0, &out, &ol), -EFBIG);
	/* the bare magic is an empty stream */
	assert_int_equal(cvm_lz4_legacy_decompress(z, 4, 0, &out, &ol), 0);
	assert_int_equal(ol, 0);
	free(out);
	assert_int_equal(cvm_lz4_legacy_compress(NULL, 1, &out, &ol), -EINVAL);
	free(b);
	free(z);
}

/* Zeros compress at LZ4's highest ratio (about 255:1), the bound the reader
 * sizes its output by: they must decode whole, a byte short of the limit must
 * not. */
static void max_ratio(void **state)
{
	const size_t n = (8u << 20) + 4096;
	uint8_t *in = calloc(n, 1), *z, *out;
	size_t zl, ol;

	(void)state;
	assert_non_null(in);
	assert_int_equal(cvm_lz4_legacy_compress(in, n, &z, &zl), 0);
	assert_true(zl < n / 200);
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, n, &out, &ol), 0);
	assert_int_equal(ol, n);
	assert_memory_equal(out, in, n);
	free(out);
	assert_int_equal(cvm_lz4_legacy_decompress(z, zl, n - 1, &out, &ol), -EFBIG);
	free(z);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip_sizes),
		cmocka_unit_test(cli_reads_ours),
		cmocka_unit_test(we_read_cli),
		cmocka_unit_test(malformed),
		cmocka_unit_test(max_ratio),
	};
	return cmocka_run_group_tests_name("lz4legacy", tests, NULL, NULL);
}
