/* attest/hcl: HCL report header, hardware-report slot, var-data binding and
 * runtime claims; expected values from vectors/trustee/expected.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/hcl.h"
#include "testutil.h"

struct hcl_case {
	const char *file;
	size_t len;
	uint32_t version, report_size, igvm_data_size, report_type, var_size;
	const char *var_sha256;
	bool has_ek, has_user_data, ak_sign;
	int secure_boot, tpm_persisted;
	const char *vm_id;
};

static const struct hcl_case cases[] = {
	{ "trustee/az-snp-vtpm/hcl-report.bin", 2600, 1, 2346, 1130, 2, 1110,
	  "b3fbad6514c83caeb0380882145e49f794229ef37c421b91fc47ff93556bafac", true, true, true, -2, -2, NULL },
	{ "trustee/az-tdx-vtpm/hcl-report.bin", 2600, 2, 2437, 1221, 4, 1201,
	  "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839", true, true, true, -2, -2, NULL },
	{ "trustee/azure-cvm-tooling/hcl-report-snp.bin", 2048, 1, 1819, 603, 2, 583,
	  "1d0a466a9eed975e88f889f7aed4abc1c97e87c4f43e5e3478c9a4a5853cbd7d", false, false, false, -2, -2, NULL },
	{ "trustee/azure-cvm-tooling/hcl-report-tdx.bin", 2600, 2, 2438, 1222, 4, 1202,
	  "e8f0796193ba21d6d43d2ea4bb6e4081ce4920729b348f39099cd2f65ecb6170", true, true, true, 0, 0,
	  "D270E56B-F668-4990-A5BC-9B624576841D" },
};

static void vectors(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcl_case *c = &cases[i];
		struct cvm_hcl_report r;
		struct cvm_runtime_claims rc;
		const uint8_t *rd;
		uint8_t d[32];
		size_t len;
		uint8_t *buf = tu_vector_file(c->file, &len);

		assert_int_equal(len, c->len);
		assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
		assert_int_equal(r.version, c->version);
		assert_int_equal(r.report_size, c->report_size);
		assert_int_equal(r.request_type, 2);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.igvm_data_size, c->igvm_data_size);
		assert_int_equal(r.igvm_version, 1);
		assert_int_equal(r.report_type, c->report_type);
		assert_int_equal(r.hash_type, 1);
		assert_int_equal(r.var_data_size, c->var_size);
		assert_ptr_equal(r.var_data, buf + 1236);
		assert_int_equal(cvm_hcl_check_binding(&r, d), 0);
		tu_assert_hex(d, 32, c->var_sha256);
		assert_int_equal(cvm_hcl_report_data(&r, &rd), 0);
		tu_assert_hex(rd + 32, 32, "0000000000000000000000000000000000000000000000000000000000000000");

		assert_int_equal(cvm_runtime_claims_parse(r.var_data, r.var_data_size, &rc), 0);
		assert_int_equal(rc.ak_n_len, 256);
		assert_int_equal(rc.ak_e_len, 3);
		assert_memory_equal(rc.ak_e, "\x01\x00\x01", 3);
		assert_int_equal(rc.has_ek, c->has_ek);
		assert_int_equal(rc.has_user_data, c->has_user_data);
		assert_int_equal(rc.ak_sign, c->ak_sign);
		assert_int_equal(rc.tpm_enabled, 1);
		if (c->has_user_data) {
			static const uint8_t zero[64];
			assert_int_equal(rc.user_data_len, 64);
			assert_memory_equal(rc.user_data, zero, 64);
		}
		if (c->secure_boot != -2)
			assert_int_equal(rc.secure_boot, c->secure_boot);
		if (c->tpm_persisted != -2)
			assert_int_equal(rc.tpm_persisted, c->tpm_persisted);
		if (c->vm_id)
			assert_string_equal(rc.vm_unique_id, c->vm_id);

		/* A flipped var-data byte breaks the binding (or the JSON). */
		buf[1236 + 100] ^= 0x01;
		assert_int_equal(cvm_hcl_check_binding(&r, NULL), -EKEYREJECTED);
		buf[1236 + 100] ^= 0x01;
		/* So does a flipped REPORT_DATA byte. */
		buf[32 + (c->report_type == 2 ? 0x50 : 128) + 5] ^= 0x40;
		assert_int_equal(cvm_hcl_check_binding(&r, NULL), -EKEYREJECTED);
		free(buf);
	}
}

static void tdx_slot(void **state)
{
	struct cvm_hcl_report r;
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/az-tdx-vtpm/hcl-report.bin", &len);

	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
	tu_assert_hex(r.hw_report, 4, "81000000");
	tu_assert_hex(r.hw_report + 512, 8, "0000000000000000");
	tu_assert_hex(r.hw_report + 520, 8, "e718060000000000");
	tu_assert_hex(r.hw_report + 528, 48, "024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795"
					  "d1737b66205949d15469dc8c1ba7ab7b");
	free(buf);
}

/* The TDREPORT parser against the TD quote Azure made from that very report
 * (same vector set): every field the quote body repeats must come out equal,
 * the quote read at the raw offsets of azure-vtpm-evidence.md §4. */
static void td_report_fields(void **state)
{
	struct cvm_hcl_report r;
	struct cvm_td_report t;
	size_t len, qlen;
	uint8_t *buf = tu_vector_file("trustee/az-tdx-vtpm/hcl-report.bin", &len);
	uint8_t *q = tu_vector_file("trustee/az-tdx-vtpm/td-quote.bin", &qlen);
	const uint8_t *b = q + 48;

	assert_true(qlen > 48 + 584);
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
	assert_int_equal(cvm_td_report_parse(r.hw_report, CVM_HCL_HW_REPORT_SIZE, &t), 0);
	assert_int_equal(t.report_type[0], 0x81);
	assert_memory_equal(t.tee_tcb_svn, b, 16);
	assert_memory_equal(t.mr_seam, b + 16, 48);
	assert_memory_equal(t.mrsigner_seam, b + 64, 48);
	assert_memory_equal(t.seam_attributes, b + 112, 8);
	assert_memory_equal(t.td_attributes, b + 120, 8);
	assert_memory_equal(t.xfam, b + 128, 8);
	assert_memory_equal(t.mr_td, q + 184, 48);
	assert_memory_equal(t.mr_config_id, b + 184, 48);
	assert_memory_equal(t.mr_owner, b + 232, 48);
	assert_memory_equal(t.mr_owner_config, b + 280, 48);
	for (int i = 0; i < 4; i++)
		assert_memory_equal(t.rtmr[i], q + 376 + 48 * i, 48);
	assert_memory_equal(t.report_data, q + 568, 64);
	tu_assert_hex(t.report_data, 32, "9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839");

	/* Short, or not a TDX report (the SNP slot of the other vector). */
	assert_int_equal(cvm_td_report_parse(r.hw_report, CVM_TD_REPORT_SIZE - 1, &t), -EBADMSG);
	assert_int_equal(cvm_td_report_parse(NULL, CVM_TD_REPORT_SIZE, &t), -EBADMSG);
	free(buf);
	buf = tu_vector_file("trustee/az-snp-vtpm/hcl-report.bin", &len);
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
	assert_int_equal(cvm_td_report_parse(r.hw_report, CVM_HCL_HW_REPORT_SIZE, &t), -EBADMSG);
	free(buf);
	free(q);
}

static void standalone_var_data(void **state)
{
	struct cvm_runtime_claims rc;
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/azure-cvm-tooling/var-data.bin", &len);

	assert_int_equal(len, 1110);
	assert_int_equal(cvm_runtime_claims_parse(buf, len, &rc), 0);
	assert_true(rc.has_ek);
	assert_true(rc.has_user_data);
	free(buf);
}

static void malformed(void **state)
{
	struct cvm_hcl_report r;
	struct cvm_runtime_claims rc;
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/az-snp-vtpm/hcl-report.bin", &len);
	const char *j;

	assert_int_equal(cvm_hcl_report_parse(buf, 1235, &r), -EBADMSG);
	assert_int_equal(cvm_hcl_report_parse(buf, 1236 + 1109, &r), -EBADMSG); /* var data truncated */
	assert_int_equal(cvm_hcl_report_parse(buf, CVM_HCL_MAX_SIZE + 1, &r), -EFBIG);
	buf[0] = 'X';
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), -EBADMSG);
	buf[0] = 'H';
	buf[1232 + 3] = 0x80; /* var data size 2^31 + 1110 */
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), -EBADMSG);
	buf[1232 + 3] = 0;
	buf[1228] = 2; /* SHA-384: Trustee refuses it */
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
	assert_int_equal(cvm_hcl_check_binding(&r, NULL), -EOPNOTSUPP);
	buf[1228] = 1;
	buf[1224] = 1; /* VBS */
	assert_int_equal(cvm_hcl_report_parse(buf, len, &r), 0);
	assert_int_equal(cvm_hcl_check_binding(&r, NULL), -EOPNOTSUPP);
	free(buf);

	j = "{\"keys\":[{\"kid\":\"HCLEkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), -ENOKEY);
	j = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"A*AB\",\"e\":\"AQAB\"}]}";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), -EBADMSG);
	j = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}],\"user-data\":\"0g\"}";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), -EBADMSG);
	j = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}],\"user-data\":\"0a\"}";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), 0);
	assert_int_equal(rc.user_data_len, 1);
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j) - 1, &rc), -EBADMSG);
	j = "{\"keys\":{}}";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), -EBADMSG);
	j = "[]";
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, strlen(j), &rc), -EBADMSG);
	assert_int_equal(cvm_runtime_claims_parse((const uint8_t *)j, CVM_RUNTIME_CLAIMS_MAX_SIZE + 1, &rc), -EFBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vectors),
		cmocka_unit_test(tdx_slot),
		cmocka_unit_test(td_report_fields),
		cmocka_unit_test(standalone_var_data),
		cmocka_unit_test(malformed),
	};
	return cmocka_run_group_tests_name("hcl", tests, NULL, NULL);
}
