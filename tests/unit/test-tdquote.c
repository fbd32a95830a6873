/* verify/tdquote: TD quote v4 parse (claims from expected.json case
 * az-tdx-vtpm.td-quote), quote signature, QE report and PCK chain. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/snp.h"
#include "cvmkit/tdquote.h"
#include "testutil.h"

#define Z48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static void azure_quote(void **state)
{
	struct cvm_td_quote q;
	const char *step = NULL;
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/az-tdx-vtpm/td-quote.bin", &len);

	assert_int_equal(len, 5006);
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), 0);
	assert_int_equal(q.version, 4);
	tu_assert_hex(q.h_version, 2, "0400");
	tu_assert_hex(q.h_att_key_type, 2, "0200");
	tu_assert_hex(q.h_tee_type, 4, "81000000");
	tu_assert_hex(q.h_reserved, 4, "00000000");
	tu_assert_hex(q.vendor_id, 16, "939a7233f79c4ca9940a0db3957f0607");
	tu_assert_hex(q.user_data, 20, "f17eac112e4cd9a0fafce1b46b5af18f00000000");
	tu_assert_hex(q.tcb_svn, 16, "02010600000000000000000000000000");
	tu_assert_hex(q.mr_seam, 48, "360304d34a16aace0a18e09ad2d07d2b9fd3c174378e5bf108388079827f89ff"
				  "62acc5f8c473dd40706324834e202946");
	tu_assert_hex(q.mrsigner_seam, 48, Z48);
	tu_assert_hex(q.seam_attributes, 8, "0000000000000000");
	tu_assert_hex(q.td_attributes, 8, "0000000000000000");
	tu_assert_hex(q.xfam, 8, "e718060000000000");
	tu_assert_hex(q.mr_td, 48, "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795"
				"d1737b66205949d15469dc8c1ba7ab7b");
	tu_assert_hex(q.mr_config_id, 48, Z48);
	tu_assert_hex(q.mr_owner, 48, Z48);
	tu_assert_hex(q.mr_owner_config, 48, Z48);
	for (int i = 0; i < 4; i++)
		tu_assert_hex(q.rtmr[i], 48, Z48);
	tu_assert_hex(q.report_data, 64, "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839"
				      "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(q.signed_len, 632);
	assert_int_equal(q.qe_auth_len, 32);

	assert_int_equal(cvm_td_quote_verify_signature(&q), 0);
	assert_int_equal(cvm_td_quote_verify_qe(&q, &step), 0);
	assert_int_equal(cvm_td_quote_verify_pck_chain(&q, NULL, &step), 0);
	/* A foreign root is refused. */
	assert_int_equal(cvm_td_quote_verify_pck_chain(&q, cvm_amd_builtin_pem(CVM_AMD_GEN_MILAN), &step),
			 -EKEYREJECTED);
	assert_string_equal(step, "root-pinned");

	/* Flipped bytes: body (MRTD), quote signature, QE report, QE signature. */
	buf[184] ^= 1;
	assert_int_equal(cvm_td_quote_verify_signature(&q), -EKEYREJECTED);
	buf[184] ^= 1;
	buf[636 + 5] ^= 1;
	assert_int_equal(cvm_td_quote_verify_signature(&q), -EKEYREJECTED);
	buf[636 + 5] ^= 1;
	buf[636 + 64 + 3] ^= 1; /* attestation key: signature and QE binding fail */
	assert_int_equal(cvm_td_quote_verify_signature(&q), -EKEYREJECTED);
	assert_int_equal(cvm_td_quote_verify_qe(&q, &step), -EKEYREJECTED);
	assert_string_equal(step, "qe-report-data");
	buf[636 + 64 + 3] ^= 1;
	buf[636 + 128 + 6 + 10] ^= 1;
	assert_int_equal(cvm_td_quote_verify_qe(&q, &step), -EKEYREJECTED);
	assert_string_equal(step, "qe-report-signature");
	buf[636 + 128 + 6 + 10] ^= 1;
	assert_int_equal(cvm_td_quote_verify_qe(&q, &step), 0);
	free(buf);
}

static void malformed(void **state)
{
	struct cvm_td_quote q;
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/az-tdx-vtpm/td-quote.bin", &len);

	/* Every truncation inside the signed data and signature data fails. */
	for (size_t n = 0; n < 4936; n += 37)
		assert_int_equal(cvm_td_quote_parse(buf, n, &q), -EBADMSG);
	assert_int_equal(cvm_td_quote_parse(buf, 4935, &q), -EBADMSG);
	assert_int_equal(cvm_td_quote_parse(buf, 4936, &q), 0);
	assert_int_equal(cvm_td_quote_parse(buf, CVM_TD_QUOTE_MAX_SIZE + 1, &q), -EFBIG);
	buf[0] = 3; /* SGX quote v3 */
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), -EPROTONOSUPPORT);
	buf[0] = 4;
	buf[4] = 0; /* TEE type SGX */
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), -EPROTONOSUPPORT);
	buf[4] = 0x81;
	buf[632 + 3] = 0x7f; /* signature data length past the end */
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), -EBADMSG);
	buf[632 + 3] = 0;
	buf[636 + 128] = 5; /* certification data type 5 at the outer level */
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), -EPROTONOSUPPORT);
	buf[636 + 128] = 6;
	buf[636 + 128 + 6 + 384 + 64] = 0xff; /* QE auth data length past the certification data */
	buf[636 + 128 + 6 + 384 + 64 + 1] = 0xff;
	assert_int_equal(cvm_td_quote_parse(buf, len, &q), -EBADMSG);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(azure_quote),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests_name("tdquote", tests, NULL, NULL);
}
