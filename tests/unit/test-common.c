/* common/: hex, hashing and PCR extend, atomic file writes, the shared tables. */
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
#include "cvmkit/hex.h"
#include "cvmkit/kbsref.h"
#include "cvmkit/pcr.h"
#include "cvmkit/uki.h"
#include "testutil.h"

/* The rules build time and boot time share; expected values from the
 * KBS's resource routing and the CoCo sealed-secret format. */
static void kbs_references(void **state)
{
	char name[CVM_SECRET_NAME_MAX + 2], *sealed, out[64];

	(void)state;
	assert_true(cvm_secret_name_valid("_DB_PASSWORD1", 13));
	assert_false(cvm_secret_name_valid("1A", 2));
	assert_false(cvm_secret_name_valid("A-B", 3));
	assert_false(cvm_secret_name_valid("", 0));
	memset(name, 'A', sizeof(name));
	assert_true(cvm_secret_name_valid(name, CVM_SECRET_NAME_MAX));
	assert_false(cvm_secret_name_valid(name, CVM_SECRET_NAME_MAX + 1));

	assert_true(cvm_sealed_ref_valid("sealed.aGVhZA.cGF5bG9hZA.c2ln", 29));
	assert_true(cvm_sealed_ref_valid("sealed.a-_.b.c", 14));
	assert_false(cvm_sealed_ref_valid("sealed.aGVhZA.cGF5bG9hZA", 24));
	assert_false(cvm_sealed_ref_valid("sealed.aGVhZA.cGF5bG9hZA.", 25));
	assert_false(cvm_sealed_ref_valid("sealed..b.c", 11));
	assert_false(cvm_sealed_ref_valid("sealed.a=.b.c", 13));
	assert_false(cvm_sealed_ref_valid("unsealed.a.b.c", 14));
	sealed = malloc(CVM_SEALED_REF_MAX + 2);
	assert_non_null(sealed);
	memset(sealed, 'x', CVM_SEALED_REF_MAX + 1);
	memcpy(sealed, "sealed.a.b.", 11);
	assert_true(cvm_sealed_ref_valid(sealed, CVM_SEALED_REF_MAX));
	assert_false(cvm_sealed_ref_valid(sealed, CVM_SEALED_REF_MAX + 1));
	free(sealed);

	assert_int_equal(cvm_sealed_uri_path("kbs:///default/key/1", out, sizeof(out)), 0);
	assert_string_equal(out, "default/key/1");
	assert_int_equal(cvm_sealed_uri_path("kbs://h:1/r/t/x", out, sizeof(out)), 0);
	assert_string_equal(out, "r/t/x");
	assert_int_equal(cvm_sealed_uri_path("kbs:///r/t", out, sizeof(out)), -EINVAL);
	assert_int_equal(cvm_sealed_uri_path("kbs:///r/t/.x", out, sizeof(out)), -EINVAL);
	assert_int_equal(cvm_sealed_uri_path("kbs+vault:///r/t/x", out, sizeof(out)), -EOPNOTSUPP);
	assert_int_equal(cvm_sealed_uri_path("kbs:///r/t/x", out, 6), 0); /* "r/t/x" and its NUL */
	assert_int_equal(cvm_sealed_uri_path("kbs:///r/t/x", out, 5), -ENOBUFS);
}

static void hex_roundtrip(void **state)
{
	uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff }, out[4];
	char s[9];

	cvm_hex_encode(in, 4, s);
	assert_string_equal(s, "007fabff");
	assert_int_equal(cvm_hex_decode("007FABff", 8, out, 4), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(cvm_hex_decode("007fab", 6, out, 4), -EINVAL);
	assert_int_equal(cvm_hex_decode("007fabfg", 8, out, 4), -EINVAL);
}

/* The recurring constants of measured-boot.md §9, computed independently upstream. */
static void hash_constants(void **state)
{
	static const uint8_t sep[4] = { 0 };
	uint8_t d[CVM_HASH_MAX_SIZE], pcr[32] = { 0 };
	char hex[2 * CVM_HASH_MAX_SIZE + 1];
	const char *s = "Calling EFI Application from Boot Option";

	assert_int_equal(cvm_hash(CVM_HASH_SHA256, sep, 4, d), 0);
	cvm_hex_encode(d, 32, hex);
	assert_string_equal(hex, "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119");
	assert_int_equal(cvm_pcr_extend(CVM_HASH_SHA256, pcr, d), 0);
	cvm_hex_encode(pcr, 32, hex);
	assert_string_equal(hex, "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969");
	assert_int_equal(cvm_hash(CVM_HASH_SHA1, s, strlen(s), d), 0);
	cvm_hex_encode(d, 20, hex);
	assert_string_equal(hex, "cd0fdb4531a6ec41be2753ba042637d6e5f7f256");
}

static void hash_incremental_matches_oneshot(void **state)
{
	static const enum cvm_hash_alg algs[] = { CVM_HASH_SHA1, CVM_HASH_SHA256, CVM_HASH_SHA384, CVM_HASH_SHA512 };
	uint8_t a[CVM_HASH_MAX_SIZE], b[CVM_HASH_MAX_SIZE];
	const char *msg = "Exit Boot Services Invocation";

	for (size_t i = 0; i < 4; i++) {
		struct cvm_hash_ctx c;
		assert_int_equal(cvm_hash_init(&c, algs[i]), 0);
		assert_int_equal(cvm_hash_update(&c, msg, 5), 0);
		assert_int_equal(cvm_hash_update(&c, msg + 5, strlen(msg) - 5), 0);
		assert_int_equal(cvm_hash_final(&c, a), 0);
		cvm_hash_free(&c);
		assert_int_equal(cvm_hash(algs[i], msg, strlen(msg), b), 0);
		assert_memory_equal(a, b, cvm_hash_size(algs[i]));
	}
	assert_int_equal(cvm_hash_size((enum cvm_hash_alg)0x12), 0);
	/* A clone reads the digest of a prefix while the original goes on. */
	{
		struct cvm_hash_ctx c, d;
		assert_int_equal(cvm_hash_init(&c, CVM_HASH_SHA256), 0);
		assert_int_equal(cvm_hash_update(&c, msg, 4), 0);
		assert_int_equal(cvm_hash_clone(&d, &c), 0);
		assert_int_equal(cvm_hash_update(&c, msg + 4, strlen(msg) - 4), 0);
		assert_int_equal(cvm_hash_final(&d, a), 0);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, msg, 4, b), 0);
		assert_memory_equal(a, b, 32);
		assert_int_equal(cvm_hash_final(&c, a), 0);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, msg, strlen(msg), b), 0);
		assert_memory_equal(a, b, 32);
		assert_int_equal(cvm_hash_clone(&d, &c), -EINVAL); /* c is finished */
	}
	{
		enum cvm_hash_alg alg;
		assert_int_equal(cvm_hash_from_name("sha384", &alg), 0);
		assert_int_equal(alg, CVM_HASH_SHA384);
		assert_int_equal(cvm_hash_from_name("md5", &alg), -EINVAL);
	}
}

static void atomic_write(void **state)
{
	char *dir = tu_mkdtemp(), path[512];
	uint8_t *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(cvm_write_file_atomic(path, "hello", 5, 0640), 0);
	assert_int_equal(cvm_read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal((char *)buf, "hello");
	free(buf);
	assert_int_equal(cvm_read_file(path, 4, &buf, &len), -EFBIG);
	/* A failed write leaves the old file and no temporary behind. */
	snprintf(path, sizeof(path), "%s/missing/f", dir);
	assert_int_equal(cvm_write_file_atomic(path, "x", 1, 0644), -ENOENT);
	assert_int_equal(cvm_read_file(dir, 100, &buf, &len), -EISDIR);
	tu_rmtree(dir);
}

static void tables(void **state)
{
	const enum cvm_uki_section *l;
	int n;

	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		assert_non_null(cvm_pcr_info(i));
		assert_int_equal(cvm_pcr_info(i)->index, i);
	}
	assert_null(cvm_pcr_info(CVM_PCR_COUNT));
	assert_int_equal(cvm_pcr_reset_byte(17), 0xff);
	assert_int_equal(cvm_pcr_reset_byte(23), 0);
	for (int s = 0; s < CVM_UKI_SECTION_MAX; s++) {
		assert_true(strlen(cvm_uki_section_name(s)) <= 8);
		assert_int_equal(cvm_uki_section_from_name(cvm_uki_section_name(s)), s);
	}
	n = cvm_uki_measured_sections(252, &l);
	assert_int_equal(n, 7);
	assert_int_equal(l[0], CVM_UKI_LINUX);
	assert_int_equal(l[6], CVM_UKI_PCRPKEY);
	n = cvm_uki_measured_sections(257, &l);
	assert_int_equal(n, 13);
	for (int i = 0; i < n; i++)
		assert_int_not_equal(l[i], CVM_UKI_PCRSIG);
	assert_int_equal(cvm_uki_measured_sections(251, &l), -EOPNOTSUPP);
	assert_int_equal(cvm_uki_measured_sections(258, &l), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kbs_references),
		cmocka_unit_test(hex_roundtrip),
		cmocka_unit_test(hash_constants),
		cmocka_unit_test(hash_incremental_matches_oneshot),
		cmocka_unit_test(atomic_write),
		cmocka_unit_test(tables),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
