/* attest/evidence + verify + rv: the three real Azure evidence files parse,
 * verify and yield exactly the claims of
 * vectors/trustee/generated/az-evidence-expected.json; named corruptions fail
 * with the right named check; build round-trips; RV appraisal. */
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

#include "cvmkit/evidence.h"
#include "cvmkit/hex.h"
#include "cvmkit/verify.h"
#include "../../attest/b64.h"
#include "testutil.h"

static cJSON *expected(const char *evidence)
{
	size_t len;
	uint8_t *buf = tu_vector_file("trustee/generated/az-evidence-expected.json", &len);
	cJSON *all = cJSON_ParseWithLength((const char *)buf, len), *e;

	free(buf);
	assert_non_null(all);
	e = cJSON_DetachItemFromObject(cJSON_GetObjectItem(all, "evidence"), evidence);
	assert_non_null(e);
	cJSON_Delete(all);
	return e;
}

static void load(const char *sub, enum cvm_tee tee, struct cvm_evidence *ev)
{
	size_t len;
	uint8_t *buf = tu_vector_file(sub, &len);

	assert_int_equal(cvm_evidence_parse(tee, buf, len, ev), 0);
	free(buf);
}

/* Verifies with the expected nonce; returns the verify return code. */
static int run(const struct cvm_evidence *ev, const char *nonce_hex, struct cvm_verify_result *res)
{
	struct cvm_verify_opts o = { 0 };
	uint8_t nonce[64];
	size_t n = strlen(nonce_hex) / 2;

	assert_int_equal(cvm_hex_decode(nonce_hex, 2 * n, nonce, n), 0);
	o.report_data = nonce;
	o.report_data_len = n;
	return cvm_verify_evidence(ev, &o, res);
}

/* Every member of WANT is in GOT with the same value (recursively); DCAP
 * claims are absent from the expectations, extra members in GOT are not. */
static void assert_subset(const cJSON *want, const cJSON *got, const char *path)
{
	const cJSON *w;

	if (!cJSON_IsObject(want)) {
		if (!cJSON_Compare(want, got, true)) {
			char *a = cJSON_PrintUnformatted(want), *b = got ? cJSON_PrintUnformatted(got) : NULL;
			fail_msg("claim %s: expected %s, found %s", path, a, b ? b : "(absent)");
		}
		return;
	}
	assert_true(cJSON_IsObject(got));
	cJSON_ArrayForEach(w, want) {
		char p[256];
		if (w->string[0] == '_')
			continue;
		snprintf(p, sizeof(p), "%s.%s", path, w->string);
		assert_subset(w, cJSON_GetObjectItemCaseSensitive(got, w->string), p);
	}
}

static void check_vector(const char *file, enum cvm_tee tee, const char *claims_key, bool exact)
{
	struct cvm_evidence ev;
	struct cvm_verify_result res;
	cJSON *exp = expected(file), *claims;
	const cJSON *tq = cJSON_GetObjectItem(exp, "tpm_quote");
	const char *nonce = cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "inputs"), "expected_report_data_hex")->valuestring;
	char path[128];

	snprintf(path, sizeof(path), "trustee/%s", file);
	load(path, tee, &ev);
	assert_int_equal(ev.version, cJSON_GetObjectItem(exp, "evidence_format_version")->valueint);
	assert_int_equal(ev.signature_len, cJSON_GetObjectItem(tq, "signature_len")->valueint);
	assert_int_equal(ev.message_len, cJSON_GetObjectItem(tq, "message_len")->valueint);
	assert_int_equal(ev.pcr_count, 24);
	assert_int_equal(ev.hcl_report_len, cJSON_GetObjectItem(cJSON_GetObjectItem(exp, "hcl_report"), "len")->valueint);
	if (tee == CVM_TEE_AZ_TDX_VTPM)
		assert_int_equal(ev.td_quote_len, cJSON_GetObjectItem(exp, "td_quote_len")->valueint);

	assert_int_equal(run(&ev, nonce, &res), 0);
	assert_int_equal(res.first_failure, -1);
	for (int c = 0; c < CVM_CHECK_MAX; c++)
		assert_int_not_equal(res.checks[c].status, CVM_CHECK_FAILED);
	assert_int_equal(res.checks[CVM_CHECK_AK_SIGNATURE].status, CVM_CHECK_OK);
	assert_int_equal(res.checks[CVM_CHECK_NONCE].status, CVM_CHECK_OK);
	assert_int_equal(res.checks[CVM_CHECK_PCR_DIGEST].status, CVM_CHECK_OK);
	assert_int_equal(res.checks[CVM_CHECK_RUNTIME_CLAIMS_HASH].status, CVM_CHECK_OK);
	assert_int_equal(res.checks[CVM_CHECK_USER_DATA].status, ev.version >= 2 ? CVM_CHECK_OK : CVM_CHECK_SKIPPED);
	if (tee == CVM_TEE_AZ_SNP_VTPM) {
		assert_int_equal(res.checks[CVM_CHECK_AMD_CHAIN].status, CVM_CHECK_OK);
		assert_string_equal(res.checks[CVM_CHECK_AMD_CHAIN].detail, "Milan");
		assert_int_equal(res.checks[CVM_CHECK_VCEK_CHIP_ID].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_VCEK_TCB].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_SNP_SIGNATURE].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_SNP_VMPL].status, CVM_CHECK_OK);
	} else {
		assert_int_equal(res.checks[CVM_CHECK_TD_QUOTE_SIGNATURE].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_TD_QE_REPORT].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_PCK_CHAIN].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_TD_REPORT_DATA].status, CVM_CHECK_OK);
		assert_int_equal(res.checks[CVM_CHECK_TDX_TCB_STATUS].status, CVM_CHECK_NOT_CHECKED);
	}
	claims = cJSON_Parse(res.claims_json);
	assert_non_null(claims);
	if (exact) {
		cJSON *want = cJSON_DetachItemFromObject(exp, claims_key);
		cJSON_DeleteItemFromObject(want, "_note");
		if (!cJSON_Compare(want, claims, true))
			fail_msg("claims differ: %s", res.claims_json);
		cJSON_Delete(want);
	} else {
		assert_subset(cJSON_GetObjectItem(exp, claims_key), claims, "$");
	}
	cJSON_Delete(claims);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev);
	cJSON_Delete(exp);
}

static void snp_v1(void **state) { check_vector("az-snp-vtpm/evidence-v1.json", CVM_TEE_AZ_SNP_VTPM, "expected_claims", true); }
static void snp_v2(void **state) { check_vector("az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM, "expected_claims", true); }
static void tdx_v1(void **state) { check_vector("az-tdx-vtpm/evidence-v1.json", CVM_TEE_AZ_TDX_VTPM, "expected_claims_subset", false); }

static int first_failure(struct cvm_evidence *ev, const char *nonce)
{
	struct cvm_verify_result res;
	int r = run(ev, nonce, &res), f = res.first_failure;

	assert_int_equal(r, f < 0 ? 0 : -EKEYREJECTED);
	cvm_verify_result_free(&res);
	return f;
}

#define NONCE_V2 "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef"
#define NONCE_CH "6368616c6c656e6765"

/* Flipping bytes of each part fails with the check that covers it. */
static void snp_tamper(void **state)
{
	struct cvm_evidence ev;

	load("trustee/az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM, &ev);
	assert_int_equal(first_failure(&ev, NONCE_V2), -1);
	/* the quote: clock, nonce, PCR digest bytes are all signed */
	for (size_t i = 6; i < ev.message_len; i += 11) {
		ev.message[i] ^= 0x01;
		int f = first_failure(&ev, NONCE_V2);
		assert_true(f == CVM_CHECK_AK_SIGNATURE || f == CVM_CHECK_TPM_QUOTE_FORMAT);
		ev.message[i] ^= 0x01;
	}
	ev.message[ev.message_len - 1] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_AK_SIGNATURE);
	ev.message[ev.message_len - 1] ^= 0x01;
	/* the signature */
	ev.signature[100] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_AK_SIGNATURE);
	ev.signature[100] ^= 0x01;
	/* a PCR value */
	ev.pcrs[11][0] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_PCR_DIGEST);
	ev.pcrs[11][0] ^= 0x01;
	/* the expected nonce */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_NONCE);
	/* the HCL report: var data (vmUniqueId text) -> runtime claims hash */
	{
		uint8_t *p = memmem(ev.hcl_report, ev.hcl_report_len, "vmUniqueId", 10);
		assert_non_null(p);
		p[16] ^= 0x01;
		assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_RUNTIME_CLAIMS_HASH);
		p[16] ^= 0x01;
	}
	/* the HCL report: the AK modulus inside the var data */
	{
		uint8_t *p = memmem(ev.hcl_report, ev.hcl_report_len, "\"n\":\"", 5);
		assert_non_null(p);
		p[20] = p[20] == 'A' ? 'B' : 'A';
		assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_AK_SIGNATURE);
	}
	cvm_evidence_free(&ev);
	load("trustee/az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM, &ev);
	/* the HCL report: the SNP report's MEASUREMENT, REPORT_DATA, CHIP_ID, TCB, VMPL */
	ev.hcl_report[32 + 0x90] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_SNP_SIGNATURE);
	ev.hcl_report[32 + 0x90] ^= 0x01;
	ev.hcl_report[32 + 0x50] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_RUNTIME_CLAIMS_HASH);
	ev.hcl_report[32 + 0x50] ^= 0x01;
	ev.hcl_report[32 + 0x1A0] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_VCEK_CHIP_ID);
	ev.hcl_report[32 + 0x1A0] ^= 0x01;
	ev.hcl_report[32 + 0x180 + 6] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_VCEK_TCB);
	ev.hcl_report[32 + 0x180 + 6] ^= 0x01;
	ev.hcl_report[32 + 0x30] = 1;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_SNP_SIGNATURE);
	ev.hcl_report[32 + 0x30] = 0;
	ev.hcl_report[32 + 0x189] = 0x30; /* CPUID model outside every range */
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_AMD_CHAIN);
	ev.hcl_report[32 + 0x189] = 0x01;
	ev.hcl_report[32 + 0x2A0 + 3] ^= 0x01; /* the report signature */
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_SNP_SIGNATURE);
	ev.hcl_report[32 + 0x2A0 + 3] ^= 0x01;
	ev.hcl_report[0] = 'X';
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_HCL_REPORT_FORMAT);
	ev.hcl_report[0] = 'H';
	/* the user-data of var data: rewrite one hex digit, then the hash fails first */
	{
		uint8_t *p = memmem(ev.hcl_report, ev.hcl_report_len, "982F5C6E", 8);
		assert_non_null(p);
		p[0] = '8';
		assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_RUNTIME_CLAIMS_HASH);
		p[0] = '9';
	}
	/* the VCEK: a byte of its signature, of its key, of its TBS */
	ev.vcek[ev.vcek_len - 20] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), CVM_CHECK_AMD_CHAIN);
	ev.vcek[ev.vcek_len - 20] ^= 0x01;
	ev.vcek[300] ^= 0x01;
	{
		int f = first_failure(&ev, NONCE_V2);
		assert_true(f == CVM_CHECK_AMD_CHAIN);
	}
	ev.vcek[300] ^= 0x01;
	assert_int_equal(first_failure(&ev, NONCE_V2), -1);
	cvm_evidence_free(&ev);
}

static void user_data_binding(void **state)
{
	struct cvm_evidence ev;
	struct cvm_verify_result res;
	struct cvm_verify_opts o = { 0 };
	uint8_t nonce[48];

	/* Same evidence, nonce shortened: the quote nonce check fails first. */
	load("trustee/az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM, &ev);
	assert_int_equal(cvm_hex_decode(NONCE_V2, 96, nonce, 48), 0);
	o.report_data = nonce;
	o.report_data_len = 47;
	assert_int_equal(cvm_verify_evidence(&ev, &o, &res), -EKEYREJECTED);
	assert_int_equal(res.first_failure, CVM_CHECK_NONCE);
	assert_non_null(strstr(res.checks[CVM_CHECK_NONCE].detail, "expected"));
	cvm_verify_result_free(&res);
	/* Without a nonce, nonce and user-data are skipped, the rest passes. */
	o.report_data = NULL;
	assert_int_equal(cvm_verify_evidence(&ev, &o, &res), 0);
	assert_int_equal(res.checks[CVM_CHECK_NONCE].status, CVM_CHECK_SKIPPED);
	assert_int_equal(res.checks[CVM_CHECK_USER_DATA].status, CVM_CHECK_SKIPPED);
	cvm_verify_result_free(&res);
	/* init-data: all-zero PCR 8 never equals SHA-256(0^32 || digest). */
	{
		uint8_t digest[32] = { 1 };
		o.init_data_digest = digest;
		assert_int_equal(cvm_verify_evidence(&ev, &o, &res), -EKEYREJECTED);
		assert_int_equal(res.first_failure, CVM_CHECK_INIT_DATA);
		cvm_verify_result_free(&res);
	}
	o.report_data_len = 65;
	o.report_data = nonce;
	assert_int_equal(cvm_verify_evidence(&ev, &o, &res), -EINVAL);
	cvm_evidence_free(&ev);
}

static void tdx_tamper(void **state)
{
	struct cvm_evidence ev;

	load("trustee/az-tdx-vtpm/evidence-v1.json", CVM_TEE_AZ_TDX_VTPM, &ev);
	ev.td_quote[184] ^= 0x01; /* MRTD */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_TD_QUOTE_SIGNATURE);
	ev.td_quote[184] ^= 0x01;
	ev.td_quote[568] ^= 0x01; /* report_data: signed, and the hash binding */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_TD_QUOTE_SIGNATURE);
	ev.td_quote[568] ^= 0x01;
	ev.td_quote[636 + 128 + 6 + 100] ^= 0x01; /* QE report */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_TD_QE_REPORT);
	ev.td_quote[636 + 128 + 6 + 100] ^= 0x01;
	ev.td_quote[0] = 3;
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_HW_REPORT_FORMAT);
	ev.td_quote[0] = 4;
	ev.hcl_report[32 + 128] ^= 0x01; /* TDREPORT REPORTDATA in the HCL report */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_RUNTIME_CLAIMS_HASH);
	ev.hcl_report[32 + 128] ^= 0x01;
	ev.hcl_report[1236 + 200] ^= 0x01; /* var data */
	{
		int f = first_failure(&ev, NONCE_CH);
		assert_true(f == CVM_CHECK_RUNTIME_CLAIMS_HASH || f == CVM_CHECK_RUNTIME_CLAIMS_FORMAT ||
			    f == CVM_CHECK_AK_SIGNATURE);
	}
	ev.hcl_report[1236 + 200] ^= 0x01;
	ev.hcl_report[1224] = 2; /* claims to be SNP */
	assert_int_equal(first_failure(&ev, NONCE_CH), CVM_CHECK_HCL_REPORT_FORMAT);
	ev.hcl_report[1224] = 4;
	assert_int_equal(first_failure(&ev, NONCE_CH), -1);
	cvm_evidence_free(&ev);
}

/* Build v2 from parsed evidence: same content as the vector, and re-parses. */
static void build_roundtrip(void **state)
{
	static const struct {
		const char *file;
		enum cvm_tee tee;
	} f[] = {
		{ "trustee/az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM },
		{ "trustee/az-snp-vtpm/evidence-v1.json", CVM_TEE_AZ_SNP_VTPM },
		{ "trustee/az-tdx-vtpm/evidence-v1.json", CVM_TEE_AZ_TDX_VTPM },
	};

	for (size_t i = 0; i < 3; i++) {
		struct cvm_evidence ev, ev2;
		size_t len;
		uint8_t *buf = tu_vector_file(f[i].file, &len);
		cJSON *orig = cJSON_ParseWithLength((const char *)buf, len), *built;
		char *json, *json2;

		assert_int_equal(cvm_evidence_parse(f[i].tee, buf, len, &ev), 0);
		assert_int_equal(cvm_evidence_build(&ev, &json), 0);
		built = cJSON_Parse(json);
		/* The vectors are lowercase hex and padded base64url, as we emit. */
		assert_true(cJSON_Compare(orig, built, true));
		assert_int_equal(cvm_evidence_parse(f[i].tee, (const uint8_t *)json, strlen(json), &ev2), 0);
		assert_int_equal(cvm_evidence_build(&ev2, &json2), 0);
		assert_string_equal(json, json2);
		ev2.version = 0;
		assert_int_equal(cvm_evidence_build(&ev2, &json2 /* untouched */), -EOPNOTSUPP);
		cvm_evidence_free(&ev2);
		cJSON_Delete(built);
		free(json);
		free(json2);
		cJSON_Delete(orig);
		free(buf);
		cvm_evidence_free(&ev);
	}
}

/* v0 (JSON byte arrays, PEM VCEK) of the same evidence verifies too. */
static void legacy_v0(void **state)
{
	struct cvm_evidence ev, ev0;
	struct cvm_verify_result res;
	cJSON *root = cJSON_CreateObject(), *q = cJSON_CreateObject(), *pcrs = cJSON_CreateArray();
	char *json, *pem;
	size_t n;
	int *ints;

	load("trustee/az-snp-vtpm/evidence-v1.json", CVM_TEE_AZ_SNP_VTPM, &ev);
	ints = malloc(sizeof(int) * (ev.hcl_report_len + ev.signature_len + ev.message_len));
	for (n = 0; n < ev.signature_len; n++)
		ints[n] = ev.signature[n];
	cJSON_AddItemToObject(q, "signature", cJSON_CreateIntArray(ints, (int)ev.signature_len));
	for (n = 0; n < ev.message_len; n++)
		ints[n] = ev.message[n];
	cJSON_AddItemToObject(q, "message", cJSON_CreateIntArray(ints, (int)ev.message_len));
	for (size_t p = 0; p < 24; p++) {
		for (n = 0; n < 32; n++)
			ints[n] = ev.pcrs[p][n];
		cJSON_AddItemToArray(pcrs, cJSON_CreateIntArray(ints, 32));
	}
	cJSON_AddItemToObject(q, "pcrs", pcrs);
	cJSON_AddItemToObject(root, "quote", q);
	for (n = 0; n < ev.hcl_report_len; n++)
		ints[n] = ev.hcl_report[n];
	cJSON_AddItemToObject(root, "report", cJSON_CreateIntArray(ints, (int)ev.hcl_report_len));
	pem = malloc(ev.vcek_len * 2 + 200);
	strcpy(pem, "-----BEGIN CERTIFICATE-----\n");
	cvm_b64_encode(ev.vcek, ev.vcek_len, false, true, pem + strlen(pem));
	strcat(pem, "\n-----END CERTIFICATE-----\n");
	cJSON_AddStringToObject(root, "vcek", pem);
	json = cJSON_PrintUnformatted(root);
	assert_int_equal(cvm_evidence_parse(CVM_TEE_AZ_SNP_VTPM, (const uint8_t *)json, strlen(json), &ev0), 0);
	assert_int_equal(ev0.version, 0);
	assert_int_equal(ev0.vcek_len, ev.vcek_len);
	assert_memory_equal(ev0.vcek, ev.vcek, ev.vcek_len);
	assert_int_equal(run(&ev0, NONCE_CH, &res), 0);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev0);
	cvm_evidence_free(&ev);
	free(json);
	free(pem);
	free(ints);
	cJSON_Delete(root);
}

static void malformed(void **state)
{
	struct cvm_evidence ev;
	static const char *bad[] = {
		"",
		"[]",
		"{\"version\":3,\"tpm_quote\":{}}",
		"{\"version\":2,\"tpm_quote\":{\"signature\":\"0g\",\"message\":\"00\",\"pcrs\":[]},\"hcl_report\":\"AA==\",\"vcek\":\"AA==\"}",
		"{\"version\":2,\"tpm_quote\":{\"signature\":\"00\",\"message\":\"00\",\"pcrs\":[\"00\"]},\"hcl_report\":\"AA==\",\"vcek\":\"AA==\"}",
		"{\"version\":2,\"tpm_quote\":{\"signature\":\"00\",\"message\":\"00\",\"pcrs\":[]},\"hcl_report\":\"A\",\"vcek\":\"AA==\"}",
		"{\"version\":2,\"tpm_quote\":{\"signature\":\"00\",\"message\":\"00\",\"pcrs\":[]},\"hcl_report\":\"AA==\"}",
		"{\"quote\":{\"signature\":[256],\"message\":[0],\"pcrs\":[]},\"report\":[0],\"vcek\":\"x\"}",
		"{\"quote\":{\"signature\":[1],\"message\":[0],\"pcrs\":[[1,2]]},\"report\":[0],\"vcek\":\"x\"}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cvm_evidence_parse(CVM_TEE_AZ_SNP_VTPM, (const uint8_t *)bad[i], strlen(bad[i]), &ev),
				 -EBADMSG);
	assert_int_equal(cvm_evidence_parse(CVM_TEE_AZ_SNP_VTPM, (const uint8_t *)"{}", CVM_EVIDENCE_MAX_SIZE + 1, &ev),
			 -EFBIG);
	{
		enum cvm_tee t;
		assert_int_equal(cvm_tee_from_name("az-tdx-vtpm", &t), 0);
		assert_int_equal(t, CVM_TEE_AZ_TDX_VTPM);
		assert_int_equal(cvm_tee_from_name("snp", &t), -EINVAL);
	}
}

static void imds_helpers(void **state)
{
	uint8_t rep[1024], *q, *der;
	size_t n, vlen;
	char *req, resp[64];
	uint8_t *pem = tu_vector_file("trustee/az-snp-vtpm/vcek.pem", &vlen);
	cJSON *thim = cJSON_CreateObject();
	char *tj;

	for (int i = 0; i < 1024; i++)
		rep[i] = (uint8_t)(i * 7);
	assert_int_equal(cvm_imds_td_quote_request(rep, &req), 0);
	assert_int_equal(strncmp(req, "{\"report\":\"", 11), 0);
	assert_null(strchr(req + 11, '='));
	assert_int_equal(strlen(req), 11 + 1366 + 2);
	free(req);
	snprintf(resp, sizeof(resp), "{\"quote\":\"BAACAIEA\"}");
	assert_int_equal(cvm_imds_td_quote_response((const uint8_t *)resp, strlen(resp), &q, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(q, "\x04\x00\x02\x00\x81\x00", 6);
	free(q);
	assert_int_equal(cvm_imds_td_quote_response((const uint8_t *)"{}", 2, &q, &n), -EBADMSG);
	pem[vlen] = '\0';
	cJSON_AddStringToObject(thim, "vcekCert", (char *)pem);
	cJSON_AddStringToObject(thim, "tcbm", "DB18000000000004");
	tj = cJSON_PrintUnformatted(thim);
	assert_int_equal(cvm_thim_vcek_der((const uint8_t *)tj, strlen(tj), &der, &n), 0);
	assert_int_equal(der[0], 0x30);
	free(der);
	assert_int_equal(cvm_thim_vcek_der((const uint8_t *)"{\"vcekCert\":\"x\"}", 16, &der, &n), -EBADMSG);
	free(tj);
	cJSON_Delete(thim);
	free(pem);
}

static void reference_values(void **state)
{
	struct cvm_evidence ev;
	struct cvm_verify_result res;
	struct cvm_rv_report rep;
	/* The example RV set of trustee-reference-values.md §6. */
	const char *prov = "{\"measurement\":[\"WwzmStHB9jddvaX3YLmFJsobz5G4GVCRr8KOewJCUdaP4y4FrzQEjWYHZ4zSMoP/\"],"
			   "\"snp_pcr11\":[\"0000000000000000000000000000000000000000000000000000000000000000\"],"
			   "\"tcb_bootloader\":[\"4\"],\"tcb_tee\":[\"0\"],\"tcb_snp\":[\"24\"],\"tcb_microcode\":[\"219\"],"
			   "\"smt_enabled\":[\"true\"],\"tsme_enabled\":[\"false\"],\"abi_major\":[\"0\"],\"abi_minor\":[\"31\"],"
			   "\"single_socket\":[\"false\"],\"smt_allowed\":[\"true\"]}";
	char msg[4096], b64[2048];
	size_t i;

	load("trustee/az-snp-vtpm/evidence-v2.json", CVM_TEE_AZ_SNP_VTPM, &ev);
	assert_int_equal(run(&ev, NONCE_V2, &res), 0);
	assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_SNP_VTPM, res.claims_json, (const uint8_t *)prov, strlen(prov), &rep), 0);
	assert_int_equal(rep.count, 12);
	assert_true(rep.affirming);
	/* The same set as an RVPS registration message. */
	cvm_b64_encode((const uint8_t *)prov, strlen(prov), false, true, b64);
	snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}", b64);
	assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_SNP_VTPM, res.claims_json, (const uint8_t *)msg, strlen(msg), &rep), 0);
	assert_true(rep.affirming);
	/* A scalar where Trustee uses "in", a wrong PCR, a missing name. */
	{
		const char *bad = "{\"measurement\":\"WwzmStHB9jddvaX3YLmFJsobz5G4GVCRr8KOewJCUdaP4y4FrzQEjWYHZ4zSMoP/\","
				  "\"snp_pcr11\":[\"1111111111111111111111111111111111111111111111111111111111111111\"],"
				  "\"snp_pcr03\":[\"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969\"],"
				  "\"tcb_bootloader\":[4]}";
		assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_SNP_VTPM, res.claims_json, (const uint8_t *)bad, strlen(bad), &rep), 0);
		assert_false(rep.affirming);
		assert_int_equal(rep.count, 13);
		for (i = 0; i < rep.count; i++) {
			const struct cvm_rv_verdict *v = &rep.verdicts[i];
			if (!strcmp(v->rv_name, "measurement") || !strcmp(v->rv_name, "snp_pcr11") ||
			    !strcmp(v->rv_name, "tcb_bootloader"))
				assert_int_equal(v->status, CVM_RV_MISMATCH);
			else if (!strcmp(v->rv_name, "snp_pcr03"))
				assert_int_equal(v->status, CVM_RV_MATCH);
			else
				assert_int_equal(v->status, CVM_RV_MISSING);
		}
	}
	/* A registration message of another extractor is refused. */
	snprintf(msg, sizeof(msg), "{\"version\":\"0.1.0\",\"type\":\"corim\",\"payload\":\"%s\"}", b64);
	assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_SNP_VTPM, res.claims_json, (const uint8_t *)msg, strlen(msg), &rep), -EBADMSG);
	assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_SNP_VTPM, res.claims_json, (const uint8_t *)"[", 1, &rep), -EBADMSG);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev);

	/* TDX: LocalJson storage form; tcb_status is "not checked", not a failure. */
	load("trustee/az-tdx-vtpm/evidence-v1.json", CVM_TEE_AZ_TDX_VTPM, &ev);
	assert_int_equal(run(&ev, NONCE_CH, &res), 0);
	{
		const char *rvs[3][2] = {
			{ "tdx_pcr11", "{\"name\":\"tdx_pcr11\",\"expiration\":\"2027-01-01T00:00:00Z\",\"value\":[\"0000000000000000000000000000000000000000000000000000000000000000\"]}" },
			{ "mr_td", "{\"name\":\"mr_td\",\"expiration\":\"2027-01-01T00:00:00Z\",\"value\":[\"024a32b070383331181619fa387cb4d55d1e38879f989933055ccad5bc2db795d1737b66205949d15469dc8c1ba7ab7b\"]}" },
			{ "xfam", "{\"name\":\"xfam\",\"expiration\":\"2027-01-01T00:00:00Z\",\"value\":[\"e718060000000000\"]}" },
		};
		char *p = msg;
		p += sprintf(p, "{");
		for (i = 0; i < 3; i++) {
			cvm_b64_encode((const uint8_t *)rvs[i][1], strlen(rvs[i][1]), true, true, b64);
			p += sprintf(p, "%s\"%s\":\"%s\"", i ? "," : "", rvs[i][0], b64);
		}
		sprintf(p, "}");
	}
	assert_int_equal(cvm_rv_appraise(CVM_TEE_AZ_TDX_VTPM, res.claims_json, (const uint8_t *)msg, strlen(msg), &rep), 0);
	assert_int_equal(rep.count, 6);
	assert_true(rep.affirming);
	for (i = 0; i < rep.count; i++)
		if (!strcmp(rep.verdicts[i].claim, "tcb_status"))
			assert_int_equal(rep.verdicts[i].status, CVM_RV_NOT_CHECKED);
		else
			assert_int_equal(rep.verdicts[i].status, CVM_RV_MATCH);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snp_v1),
		cmocka_unit_test(snp_v2),
		cmocka_unit_test(tdx_v1),
		cmocka_unit_test(snp_tamper),
		cmocka_unit_test(user_data_binding),
		cmocka_unit_test(tdx_tamper),
		cmocka_unit_test(build_roundtrip),
		cmocka_unit_test(legacy_v0),
		cmocka_unit_test(malformed),
		cmocka_unit_test(imds_helpers),
		cmocka_unit_test(reference_values),
	};
	return cmocka_run_group_tests_name("evidence", tests, NULL, NULL);
}
