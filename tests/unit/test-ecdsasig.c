/* common/ecdsasig.c: ECDSA r || s <-> DER ECDSA-Sig-Value.
 *
 * The DER in every vector was computed by OpenSSL 3.0, not by the code under
 * test: for each (r, s) below,
 *     printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0xR\ns=INTEGER:0xS\n' > c.cnf
 *     openssl asn1parse -genconf c.cnf -noout -out sig.der
 * with R and S the hex shown (leading zeros included). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/ecdsasig.h"
#include "testutil.h"

struct vector {
	const char *name;
	size_t half; /* the width r and s decode to */
	const char *r, *s, *der;
};

static const struct vector vectors[] = {
	/* r's high bit set: INTEGER gains a 0x00; s's two leading zeros dropped. */
	{ "p256 r high bit, s leading zeros", 32,
	  "800102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "00007f030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "3043022100800102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f021e7f030405060708090a0b0c0d0e0f"
	  "101112131415161718191a1b1c1d1e1f" },
	/* r: one leading zero before a high bit (kept as the sign byte); s all ones. */
	{ "p384 r zero then high bit, s high bit", 48,
	  "00ffeeedecebeae9e8e7e6e5e4e3e2e1e0dfdedddcdbdad9d8d7d6d5d4d3d2d1d0cfcecdcccbcac9c8c7c6c5c4c3c2c1",
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	  "3065023000ffeeedecebeae9e8e7e6e5e4e3e2e1e0dfdedddcdbdad9d8d7d6d5d4d3d2d1d0cfcecdcccbcac9c8c7c6c5c4c3c2c102"
	  "3100ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
	/* P-521 widths: the SEQUENCE is longer than 127 bytes (long-form length 81 87). */
	{ "p521 long-form length", 66,
	  "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	  "ffffffffffffffffffffffffffff",
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334"
	  "35363738393a3b3c3d3e3f4041",
	  "308187024201ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	  "ffffffffffffffffffffffffffffffffffffff02410102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
	  "2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041" },
	/* Zero and one: one content byte each. */
	{ "zero and one", 32, "0000000000000000000000000000000000000000000000000000000000000000",
	  "0000000000000000000000000000000000000000000000000000000000000001", "3006020100020101" },
};

/* SEV-SNP carries r and s as 72-byte fields: 24 zero bytes, then P-384's 48. */
static const char snp_r72[] = "000000000000000000000000000000000000000000000000"
			      "c00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
static const char snp_s72[] = "000000000000000000000000000000000000000000000000"
			      "3f65666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90919293";
static const char snp_der[] = "3065023100c00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"
			      "2d2e2f02303f65666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90"
			      "919293";

static void encode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		size_t rl, sl, len = 0;
		uint8_t *r = tu_unhex(v->r, &rl), *s = tu_unhex(v->s, &sl), der[CVM_ECDSA_MAX_DER];

		assert_int_equal(cvm_ecdsa_rs_to_der(r, rl, s, sl, der, sizeof(der), &len), 0);
		tu_assert_hex(der, len, v->der);
		free(r);
		free(s);
	}
	{
		size_t rl, sl, len = 0;
		uint8_t *r = tu_unhex(snp_r72, &rl), *s = tu_unhex(snp_s72, &sl), der[CVM_ECDSA_MAX_DER];

		assert_int_equal(rl, 72);
		assert_int_equal(cvm_ecdsa_rs_to_der(r, rl, s, sl, der, sizeof(der), &len), 0);
		tu_assert_hex(der, len, snp_der);
		free(r);
		free(s);
	}
}

static void decode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		size_t n;
		uint8_t *der = tu_unhex(v->der, &n), rs[2 * CVM_ECDSA_MAX_HALF];

		assert_int_equal(cvm_ecdsa_der_to_rs(der, n, v->half, rs), 0);
		tu_assert_hex(rs, v->half, v->r);
		tu_assert_hex(rs + v->half, v->half, v->s);
		free(der);
	}
	{
		size_t n;
		uint8_t *der = tu_unhex(snp_der, &n), rs[2 * CVM_ECDSA_MAX_HALF];

		/* To P-384's width, and back to SNP's 72-byte fields. */
		assert_int_equal(cvm_ecdsa_der_to_rs(der, n, 48, rs), 0);
		tu_assert_hex(rs, 48, snp_r72 + 48);
		tu_assert_hex(rs + 48, 48, snp_s72 + 48);
		assert_int_equal(cvm_ecdsa_der_to_rs(der, n, 72, rs), 0);
		tu_assert_hex(rs, 72, snp_r72);
		tu_assert_hex(rs + 72, 72, snp_s72);
		free(der);
	}
}

static void encode_errors(void **state)
{
	uint8_t big[CVM_ECDSA_MAX_HALF + 1] = { 0 }, one = 1, der[CVM_ECDSA_MAX_DER];
	size_t len = 12345;

	(void)state;
	assert_int_equal(cvm_ecdsa_rs_to_der(big, sizeof(big), &one, 1, der, sizeof(der), &len), -EINVAL);
	assert_int_equal(cvm_ecdsa_rs_to_der(&one, 1, big, sizeof(big), der, sizeof(der), &len), -EINVAL);
	/* "zero and one" needs 8 bytes. */
	assert_int_equal(cvm_ecdsa_rs_to_der(big, 32, &one, 1, der, 7, &len), -ENOBUFS);
	assert_int_equal(len, 12345);
	assert_int_equal(cvm_ecdsa_rs_to_der(big, 32, &one, 1, der, 8, &len), 0);
	tu_assert_hex(der, len, "3006020100020101");
	/* The largest inputs fit CVM_ECDSA_MAX_DER. */
	memset(big, 0xff, sizeof(big));
	assert_int_equal(cvm_ecdsa_rs_to_der(big, CVM_ECDSA_MAX_HALF, big, CVM_ECDSA_MAX_HALF, der, sizeof(der), &len), 0);
	assert_int_equal(len, CVM_ECDSA_MAX_DER);
}

static void decode_errors(void **state)
{
	static const struct {
		const char *what, *der;
		size_t half;
		int want;
	} bad[] = {
		{ "trailing byte", "300602010002010100", 32, -EBADMSG },
		{ "sequence longer than its content", "3007020100020101", 32, -EBADMSG },
		{ "sequence shorter than its content", "3005020100020101", 32, -EBADMSG },
		{ "truncated", "30060201000201", 32, -EBADMSG },
		{ "SET, not SEQUENCE", "3106020100020101", 32, -EBADMSG },
		{ "three integers", "3009020100020101020101", 32, -EBADMSG },
		{ "one integer", "3003020101", 32, -EBADMSG },
		{ "OCTET STRING for s", "3006020100040101", 32, -EBADMSG },
		{ "empty", "", 32, -EBADMSG },
		/* r = 0x0100 does not fit one byte. */
		{ "r wider than half", "300702020100020101", 1, -ERANGE },
		{ "half zero", "3006020100020101", 0, -EINVAL },
		{ "half too large", "3006020100020101", CVM_ECDSA_MAX_HALF + 1, -EINVAL },
	};
	uint8_t rs[2 * (CVM_ECDSA_MAX_HALF + 1)], keep[sizeof(rs)];

	(void)state;
	memset(rs, 0xa5, sizeof(rs));
	memcpy(keep, rs, sizeof(rs));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 0;
		uint8_t *der = *bad[i].der ? tu_unhex(bad[i].der, &n) : NULL;
		int r = cvm_ecdsa_der_to_rs(der ? der : rs, n, bad[i].half, rs);

		if (r != bad[i].want)
			fail_msg("%s: got %d, want %d", bad[i].what, r, bad[i].want);
		assert_memory_equal(rs, keep, sizeof(rs));
		free(der);
	}
	{
		/* The high-bit r of the first vector does not fit 31 bytes. */
		size_t n;
		uint8_t *der = tu_unhex(vectors[0].der, &n);
		assert_int_equal(cvm_ecdsa_der_to_rs(der, n, 31, rs), -ERANGE);
		assert_memory_equal(rs, keep, sizeof(rs));
		free(der);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_vectors),
		cmocka_unit_test(decode_vectors),
		cmocka_unit_test(encode_errors),
		cmocka_unit_test(decode_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
