/* common/: hex, hashing (buffers and files) and PCR extend, file reads and atomic writes, certificates, error buffers, the shared tables. */
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

#include "cvmkit/cert.h"
#include "cvmkit/errbuf.h"
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
	assert_int_equal(cvm_hex_digit('0'), 0);
	assert_int_equal(cvm_hex_digit('F'), 15);
	assert_int_equal(cvm_hex_digit('a'), 10);
	assert_int_equal(cvm_hex_digit('g'), -1);
	assert_int_equal(cvm_hex_digit(-1), -1); /* a reader's end of input */
	assert_int_equal(cvm_hex_digit(0x100 + '1'), -1);
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

/* FIPS 180-2 appendix B.3 / D.3: one million 'a' (several read buffers). */
static void hash_file(void **state)
{
	char *dir = tu_mkdtemp(), path[512], hex[2 * CVM_HASH_MAX_SIZE + 1];
	uint8_t d[CVM_HASH_MAX_SIZE], keep[CVM_HASH_MAX_SIZE];
	uint64_t size = 7;
	char *a = malloc(1000000);
	FILE *f;

	assert_non_null(a);
	memset(a, 'a', 1000000);
	snprintf(path, sizeof(path), "%s/million-a", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(a, 1, 1000000, f), 1000000);
	assert_int_equal(fclose(f), 0);
	free(a);
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, path, d, &size), 0);
	assert_int_equal(size, 1000000);
	cvm_hex_encode(d, 32, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA384, path, d, NULL), 0);
	cvm_hex_encode(d, 48, hex);
	assert_string_equal(hex, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
				 "07b8b3dc38ecc4ebae97ddd87f3d8985");
	/* Empty file: SHA-256 of nothing. */
	snprintf(path, sizeof(path), "%s/empty", dir);
	assert_int_equal(cvm_write_file_atomic(path, "", 0, 0644), 0);
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, path, d, &size), 0);
	assert_int_equal(size, 0);
	cvm_hex_encode(d, 32, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* Failures leave the outputs alone. */
	memcpy(keep, d, sizeof(d));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, path, d, &size), -ENOENT);
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, dir, d, &size), -EISDIR);
	assert_memory_equal(d, keep, sizeof(d));
	assert_int_equal(size, 0);
	tu_rmtree(dir);
}

/* The first certificate of a PEM bundle, or a DER certificate as it is.
 * Expected: `openssl x509 -in milan_ask_ark_asvk.pem -outform DER | sha256sum`
 * (the Milan ASK). */
static void cert_der(void **state)
{
	size_t pl, dl, n;
	uint8_t *pem = tu_vector_file("trustee/amd-certs/milan_ask_ark_asvk.pem", &pl);
	uint8_t *der = tu_vector_file("trustee/snp/test-vcek.der", &dl), *out = NULL, d[32];

	assert_int_equal(cvm_cert_der(pem, pl, &out, &n), 0);
	assert_int_equal(cvm_hash(CVM_HASH_SHA256, out, n, d), 0);
	tu_assert_hex(d, 32, "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b");
	free(out);
	assert_int_equal(cvm_cert_der(der, dl, &out, &n), 0);
	assert_int_equal(n, dl);
	assert_memory_equal(out, der, dl);
	free(out);
	out = NULL;
	assert_int_equal(cvm_cert_der(pem, 100, &out, &n), -EBADMSG); /* a cut PEM block */
	assert_int_equal(cvm_cert_der(der, dl - 1, &out, &n), -EBADMSG); /* one byte short */
	assert_int_equal(cvm_cert_der((const uint8_t *)"", 0, &out, &n), -EBADMSG);
	assert_null(out);
	free(pem);
	free(der);
}

static void errbuf(void **state)
{
	char buf[8] = "xxxxxxx";

	assert_int_equal(cvm_errf(buf, sizeof(buf), -EINVAL, "bad %s", "key"), -EINVAL);
	assert_string_equal(buf, "bad key");
	assert_int_equal(cvm_errf(buf, sizeof(buf), 0, "too long: %d", 12345), 0);
	assert_string_equal(buf, "too lon"); /* truncated, NUL-terminated */
	assert_int_equal(cvm_errf(buf, 0, -EIO, "x"), -EIO);
	assert_string_equal(buf, "too lon"); /* size 0: untouched */
	assert_int_equal(cvm_errf(NULL, 100, -ENOENT, "x"), -ENOENT);
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
	snprintf(path, sizeof(path), "%s/missing", dir);
	buf = NULL;
	assert_int_equal(cvm_read_file(path, 100, &buf, &len), -ENOENT);
	assert_null(buf);
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
		cmocka_unit_test(hash_file),
		cmocka_unit_test(cert_der),
		cmocka_unit_test(errbuf),
		cmocka_unit_test(atomic_write),
		cmocka_unit_test(tables),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
