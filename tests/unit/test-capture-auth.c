/* measure/capture-auth.c: the evidence lines after the CVMKIT-MEASURED-BOOT line.
 * Inputs are the fuzz corpus written by tests/fuzz/gen-corpus-capture-auth.py
 * (Python's json/base64); the expected digests were computed with Python's
 * hashlib over those inputs, not with this code.  Verification of real
 * evidence is covered end to end by tests/boot/test-boot-capture.sh and
 * tests/cli/test-deploy.sh (simulated vTPM). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/capture-auth.h"
#include "cvmkit/hash.h"
#include "testutil.h"

/* SHA-256 of the synthetic evidence JSON (5192 bytes) in every "valid*" input. */
#define VALID_SHA256 "f33c2afffec690b4ba6b7306128624caccb975d79884e0b2c18eb7411f389d31"

static uint8_t *corpus(const char *name, size_t *len)
{
	const char *top = getenv("CVMKIT_TOP");
	char path[4096];

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/capture-auth/%s", top && *top ? top : ".", name);
	return tu_read(path, len);
}

static int parse(const char *name, struct cvm_capture_evidence *ev)
{
	size_t len;
	uint8_t *buf = corpus(name, &len);
	int r = cvm_capture_evidence_parse(buf, len, ev);

	free(buf);
	return r;
}

static void valid_forms_give_the_same_evidence(void **state)
{
	static const char *const names[] = { "valid", "valid-interleaved", "valid-reordered", "valid-text-before-prefix" };
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct cvm_capture_evidence ev = { 0 };
		uint8_t d[32];

		assert_int_equal(parse(names[i], &ev), 0);
		assert_true(ev.present);
		assert_int_equal(ev.tee, CVM_TEE_AZ_SNP_VTPM);
		assert_int_equal(ev.nonce_len, 8);
		assert_int_equal(ev.json_len, 5192);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, ev.json, ev.json_len, d), 0);
		tu_assert_hex(d, 32, VALID_SHA256);
		assert_true(ev.have_measurement);
		assert_int_equal(ev.measurement[0], 0x22);
		cvm_capture_evidence_free(&ev);
		cvm_capture_evidence_free(&ev); /* twice is safe */
	}
}

static void damaged_transport_is_refused(void **state)
{
	static const struct { const char *name; int err; } cases[] = {
		{ "missing-line", -EBADMSG }, { "duplicate-line", -EBADMSG }, { "index-zero", -EBADMSG },
		{ "index-beyond", -EBADMSG }, { "count-mismatch", -EBADMSG }, { "short-chunk", -EBADMSG },
		{ "bad-base64", -EBADMSG }, { "sha-mismatch", -EBADMSG }, { "size-mismatch", -EBADMSG },
		{ "size-huge", -EFBIG }, { "lines-huge", -EFBIG }, { "lines-zero", -EBADMSG },
		{ "size-float-huge", -EFBIG }, { "lines-fraction", -EBADMSG },
		{ "nonce-short", -EBADMSG }, { "format-unknown", -EBADMSG }, { "no-evidence-lines", -EBADMSG },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cvm_capture_evidence ev = { 0 };

		ev.json_len = 12345; /* untouched on failure */
		if (parse(cases[i].name, &ev) != cases[i].err)
			fail_msg("%s: expected %d", cases[i].name, cases[i].err);
		assert_int_equal(ev.json_len, 12345);
	}
}

static void absent_evidence(void **state)
{
	struct cvm_capture_evidence ev = { 0 };
	struct cvm_capture cap = { 0 };
	struct cvm_capture_auth_result res;
	static const uint8_t nonce[8];
	struct cvm_capture_auth_opts o = { .nonce = nonce, .nonce_len = 8 };
	static const uint8_t none[] = "serial log without the line\n";
	(void)state;

	assert_int_equal(parse("no-evidence-member", &ev), 0);
	assert_false(ev.present);
	assert_int_equal(cvm_capture_authenticate(&cap, &ev, &o, &res), -EKEYREJECTED);
	assert_string_equal(res.check, "evidence");
	o.nonce = NULL;
	assert_int_equal(cvm_capture_authenticate(&cap, &ev, &o, &res), -EINVAL);
	assert_int_equal(cvm_capture_evidence_parse(none, sizeof(none) - 1, &ev), -ENOENT);
	cvm_capture_evidence_free(&ev);
}

static void synthetic_evidence_is_refused_by_the_verifier(void **state)
{
	struct cvm_capture_evidence ev = { 0 };
	struct cvm_capture cap = { 0 };
	struct cvm_capture_auth_result res;
	static const uint8_t nonce[8], other[8] = { 1 };
	struct cvm_capture_auth_opts o = { .nonce = other, .nonce_len = 8 };
	size_t len;
	uint8_t *buf = corpus("valid", &len);
	(void)state;

	assert_int_equal(cvm_capture_evidence_parse(buf, len, &ev), 0);
	assert_int_equal(cvm_capture_parse_line(buf, len, &cap), 0);
	assert_int_equal(cvm_capture_authenticate(&cap, &ev, &o, &res), -EKEYREJECTED);
	assert_string_equal(res.check, "nonce");
	o.nonce = nonce;
	/* Its quote is zeros and its HCL report empty: a format check fails first. */
	assert_int_equal(cvm_capture_authenticate(&cap, &ev, &o, &res), -EKEYREJECTED);
	assert_true(strstr(res.check, "format") != NULL);
	cvm_capture_free(&cap);
	cvm_capture_evidence_free(&ev);
	free(buf);
}

static void report_data_known_answer(void **state)
{
	static const uint8_t nonce[8];
	uint8_t rd[48];
	(void)state;

	/* Python: hashlib.sha384(b"cvmkit-capture-v1" + bytes(8)).hexdigest() */
	assert_int_equal(cvm_capture_report_data(nonce, 8, rd), 0);
	tu_assert_hex(rd, 48, "3dd70cc6257cfdffbd8fe6b5dd867eaccaca17d59d874800294acf9a2ba21f2c"
			      "8bb42df10f868e8182b27b2a461c019f");
	assert_int_equal(cvm_capture_report_data(nonce, 7, rd), -EINVAL);
	assert_int_equal(cvm_capture_report_data(nonce, 65, rd), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_forms_give_the_same_evidence),
		cmocka_unit_test(damaged_transport_is_refused),
		cmocka_unit_test(absent_evidence),
		cmocka_unit_test(synthetic_evidence_is_refused_by_the_verifier),
		cmocka_unit_test(report_data_known_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
