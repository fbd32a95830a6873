/* attest/tpmquote: TPMS_ATTEST parsing, AK signature and PCR digest on the
 * Trustee and azure-cvm-tooling quotes (expected.json cases
 * az-snp-vtpm.tpm-quote-v1, az-snp-vtpm.quote-bin, azure-cvm-tooling.quote). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hcl.h"
#include "cvmkit/hex.h"
#include "cvmkit/tpmquote.h"
#include "testutil.h"

struct quote {
	uint8_t *sig, *msg;
	size_t sig_len, msg_len, pcr_count;
	uint8_t pcrs[24][32];
};

static void load_json(const char *sub, struct quote *q)
{
	size_t len;
	uint8_t *buf = tu_vector_file(sub, &len);
	cJSON *j = cJSON_ParseWithLength((const char *)buf, len), *p;

	assert_non_null(j);
	q->sig = tu_unhex(cJSON_GetObjectItem(j, "signature")->valuestring, &q->sig_len);
	q->msg = tu_unhex(cJSON_GetObjectItem(j, "message")->valuestring, &q->msg_len);
	q->pcr_count = 0;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(j, "pcrs")) {
		assert_true(q->pcr_count < 24);
		assert_int_equal(cvm_hex_decode(p->valuestring, 64, q->pcrs[q->pcr_count++], 32), 0);
	}
	cJSON_Delete(j);
	free(buf);
}

/* azure-cvm-tooling's bincode: u64-LE length + bytes, twice, then u64-LE
 * count + count x 32 bytes. */
static void load_bincode(const char *sub, struct quote *q)
{
	size_t len, off = 0, n;
	uint8_t *buf = tu_vector_file(sub, &len);

	n = cvm_le64(buf);
	off = 8;
	q->sig = malloc(n);
	memcpy(q->sig, buf + off, n);
	q->sig_len = n;
	off += n;
	n = cvm_le64(buf + off);
	off += 8;
	q->msg = malloc(n);
	memcpy(q->msg, buf + off, n);
	q->msg_len = n;
	off += n;
	q->pcr_count = cvm_le64(buf + off);
	off += 8;
	assert_int_equal(q->pcr_count, 24);
	assert_int_equal(off + 24 * 32, len);
	memcpy(q->pcrs, buf + off, 24 * 32);
	free(buf);
}

static void snp_quote_v1(void **state)
{
	struct quote q, b;
	struct cvm_tpms_attest a;
	struct cvm_hcl_report h;
	struct cvm_runtime_claims rc;
	uint8_t d[32];
	size_t hlen;
	uint8_t *hcl = tu_vector_file("trustee/az-snp-vtpm/hcl-report.bin", &hlen);

	load_json("trustee/az-snp-vtpm/tpm-quote-v1.json", &q);
	assert_int_equal(q.sig_len, 256);
	assert_int_equal(q.msg_len, 122);
	assert_int_equal(q.pcr_count, 24);
	assert_int_equal(cvm_tpms_attest_parse(q.msg, q.msg_len, &a), 0);
	assert_int_equal(a.magic, 0xff544347);
	assert_int_equal(a.type, 0x8018);
	tu_assert_hex(a.signer, a.signer_len, "000b96f6ef2a64ed155e38183fc0f0f240b2e63e4feb4c2ac230f14684fbe93f5f25");
	tu_assert_hex(a.extra_data, a.extra_data_len, "6368616c6c656e6765");
	assert_int_equal(a.clock, 2167057);
	assert_int_equal(a.reset_count, 3);
	assert_int_equal(a.restart_count, 0);
	assert_int_equal(a.safe, 1);
	assert_int_equal(a.firmware_version, 0x2020031200120003ull);
	assert_int_equal(a.selection_count, 1);
	assert_int_equal(a.selections[0].hash_alg, 0x000b);
	tu_assert_hex(a.selections[0].select, a.selections[0].size, "ffffff");
	tu_assert_hex(a.pcr_digest, a.pcr_digest_len, "0daff74c2fca14910b1e9b54a384707434c3365db9f163cc73a39a9f7500833f");
	tu_assert_hex(q.pcrs[0], 32, "f3a7e99a5f819a034386bce753a48a73cfdaa0bea0ecfc124bedbf5a8c4799be");
	tu_assert_hex(q.pcrs[17], 32, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	assert_int_equal(cvm_tpm_pcr_digest((const uint8_t(*)[32])q.pcrs, 24, d), 0);
	assert_memory_equal(d, a.pcr_digest, 32);

	assert_int_equal(cvm_hcl_report_parse(hcl, hlen, &h), 0);
	assert_int_equal(cvm_runtime_claims_parse(h.var_data, h.var_data_size, &rc), 0);
	assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, rc.ak_n, rc.ak_n_len, rc.ak_e,
					      rc.ak_e_len), 0);
	/* The TPM convention "exponent 0 means 65537". */
	assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, rc.ak_n, rc.ak_n_len,
					      (const uint8_t *)"\0\0\0\0", 4), 0);
	/* Every flipped message or signature byte fails. */
	for (size_t i = 0; i < q.msg_len; i++) {
		q.msg[i] ^= 0x01;
		assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, rc.ak_n, rc.ak_n_len,
						      rc.ak_e, rc.ak_e_len), -EKEYREJECTED);
		q.msg[i] ^= 0x01;
	}
	for (size_t i = 0; i < q.sig_len; i += 7) {
		q.sig[i] ^= 0x10;
		assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, rc.ak_n, rc.ak_n_len,
						      rc.ak_e, rc.ak_e_len), -EKEYREJECTED);
		q.sig[i] ^= 0x10;
	}
	assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len - 1, rc.ak_n, rc.ak_n_len, rc.ak_e,
					      rc.ak_e_len), -EKEYREJECTED);
	assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, rc.ak_n, 100, rc.ak_e,
					      rc.ak_e_len), -EINVAL);

	/* quote.bin carries the same quote. */
	load_bincode("trustee/az-snp-vtpm/quote.bin", &b);
	assert_int_equal(b.sig_len, q.sig_len);
	assert_memory_equal(b.sig, q.sig, q.sig_len);
	assert_int_equal(b.msg_len, q.msg_len);
	assert_memory_equal(b.msg, q.msg, q.msg_len);
	assert_memory_equal(b.pcrs, q.pcrs, sizeof(q.pcrs));
	free(b.sig);
	free(b.msg);
	free(q.sig);
	free(q.msg);
	free(hcl);
}

static void tooling_quote(void **state)
{
	struct quote q;
	struct cvm_tpms_attest a;
	mbedtls_pk_context pk;
	uint8_t n[256], e[4], d[32];
	size_t len;
	uint8_t *pem = tu_vector_file("trustee/azure-cvm-tooling/akpub.pem", &len);

	mbedtls_pk_init(&pk);
	assert_int_equal(mbedtls_pk_parse_public_key(&pk, pem, len + 1), 0);
	assert_int_equal(mbedtls_rsa_export_raw(mbedtls_pk_rsa(pk), n, sizeof(n), NULL, 0, NULL, 0, NULL, 0, e,
						sizeof(e)), 0);
	load_bincode("trustee/azure-cvm-tooling/quote.bin", &q);
	assert_int_equal(q.sig_len, 256);
	assert_int_equal(q.msg_len, 122);
	assert_int_equal(cvm_tpms_attest_parse(q.msg, q.msg_len, &a), 0);
	tu_assert_hex(a.extra_data, a.extra_data_len, "6368616c6c656e6765");
	tu_assert_hex(a.pcr_digest, a.pcr_digest_len, "04fabd988106412e438c1b93ad3b4b046c760f8f99ec557d87adf2ab02b7a4a0");
	tu_assert_hex(q.pcrs[6], 32, "7dc4907110e24eebebb50bf5daf91eca52d626d1744ba61a3230e6dd1297bc18");
	assert_int_equal(cvm_tpm_pcr_digest((const uint8_t(*)[32])q.pcrs, 24, d), 0);
	assert_memory_equal(d, a.pcr_digest, 32);
	assert_int_equal(cvm_tpm_quote_verify(q.msg, q.msg_len, q.sig, q.sig_len, n, sizeof(n), e, sizeof(e)), 0);
	q.pcrs[3][0] ^= 1;
	assert_int_equal(cvm_tpm_pcr_digest((const uint8_t(*)[32])q.pcrs, 24, d), 0);
	assert_memory_not_equal(d, a.pcr_digest, 32);
	mbedtls_pk_free(&pk);
	free(pem);
	free(q.sig);
	free(q.msg);
}

static void malformed(void **state)
{
	struct quote q;
	struct cvm_tpms_attest a;
	uint8_t buf[CVM_TPMS_ATTEST_MAX_SIZE + 1];

	load_json("trustee/az-snp-vtpm/tpm-quote-v1.json", &q);
	for (size_t n = 0; n < q.msg_len; n++)
		assert_int_equal(cvm_tpms_attest_parse(q.msg, n, &a), -EBADMSG);
	memcpy(buf, q.msg, q.msg_len);
	buf[q.msg_len] = 0;
	assert_int_equal(cvm_tpms_attest_parse(buf, q.msg_len + 1, &a), -EBADMSG); /* trailing byte */
	assert_int_equal(cvm_tpms_attest_parse(buf, sizeof(buf), &a), -EFBIG);
	buf[0] = 0xfe; /* not TPM_GENERATED_VALUE */
	assert_int_equal(cvm_tpms_attest_parse(buf, q.msg_len, &a), -EBADMSG);
	buf[0] = 0xff;
	buf[5] = 0x17; /* TPM_ST_ATTEST_CERTIFY */
	assert_int_equal(cvm_tpms_attest_parse(buf, q.msg_len, &a), -EBADMSG);
	buf[5] = 0x18;
	buf[6] = 0x01; /* signer size 0x0122 */
	assert_int_equal(cvm_tpms_attest_parse(buf, q.msg_len, &a), -EBADMSG);
	free(q.sig);
	free(q.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snp_quote_v1),
		cmocka_unit_test(tooling_quote),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests_name("tpmquote", tests, NULL, NULL);
}
