/* measure/refvalues.c: Trustee reference values (RVPS "sample" message and map).
 * Values come from the OVMF + swtpm capture vector's PCR file; the message is
 * decoded here with cJSON and mbedtls base64 and checked against the shape in
 * trustee-reference-values.md. */
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
#include <mbedtls/base64.h>

#include "cvmkit/capture.h"
#include "cvmkit/hex.h"
#include "cvmkit/refvalues.h"
#include "testutil.h"

static uint8_t *vector_pcrs(size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/pcrs-sha256-stub257-kernel6.12.txt",
		 tu_vectors("measured-boot/ovmf-swtpm-capture"));
	return tu_read(path, len);
}

/* The hex the vector file gives for PCR i. */
static void vector_hex(const uint8_t *txt, unsigned i, char out[65])
{
	char key[8];
	const char *p;

	snprintf(key, sizeof(key), "\n%u ", i);
	p = i == 0 ? (const char *)txt + 2 : strstr((const char *)txt, key) + strlen(key);
	memcpy(out, p, 64);
	out[64] = '\0';
}

static void check_array(cJSON *map, const char *name, const char *hex)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(map, name);

	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), 1);
	assert_string_equal(cJSON_GetArrayItem(a, 0)->valuestring, hex);
}

static void capture_map_and_message(void **state)
{
	struct cvm_rv_set s = { 0 };
	struct cvm_capture c = { 0 };
	bool sel[CVM_PCR_COUNT] = { false };
	size_t len, plen;
	uint8_t *txt = vector_pcrs(&len), payload[8192];
	char *map_text, *msg_text, hex[65];
	cJSON *map, *msg, *pm;
	int n = 0;

	assert_int_equal(cvm_capture_parse(txt, len, &c), 0);
	sel[0] = sel[1] = sel[2] = sel[3] = sel[6] = sel[7] = sel[11] = true;
	assert_int_equal(cvm_rv_add_capture(&s, &c, sel), 7);
	assert_int_equal(cvm_rv_map_json(&s, true, &map_text), 0);
	map = cJSON_Parse(map_text);
	assert_non_null(map);
	for (cJSON *it = map->child; it; it = it->next)
		n++;
	assert_int_equal(n, 7 * 3);
	vector_hex(txt, 11, hex);
	check_array(map, "snp_pcr11", hex);
	check_array(map, "tdx_pcr11", hex);
	check_array(map, "tpm_pcr11", hex);
	vector_hex(txt, 3, hex);
	check_array(map, "snp_pcr03", hex);
	assert_string_equal(hex, "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969");
	assert_null(cJSON_GetObjectItem(map, "snp_pcr04"));

	/* RVPS message: version 0.1.0, type sample, payload = base64 of the map. */
	assert_int_equal(cvm_rv_rvps_message(&s, &msg_text), 0);
	msg = cJSON_Parse(msg_text);
	assert_non_null(msg);
	assert_string_equal(cJSON_GetObjectItem(msg, "version")->valuestring, "0.1.0");
	assert_string_equal(cJSON_GetObjectItem(msg, "type")->valuestring, "sample");
	assert_int_equal(mbedtls_base64_decode(payload, sizeof(payload) - 1, &plen,
					       (const unsigned char *)cJSON_GetObjectItem(msg, "payload")->valuestring,
					       strlen(cJSON_GetObjectItem(msg, "payload")->valuestring)), 0);
	payload[plen] = '\0';
	pm = cJSON_Parse((const char *)payload);
	assert_non_null(pm);
	assert_true(cJSON_Compare(pm, map, true));
	cJSON_Delete(pm);
	cJSON_Delete(msg);
	cJSON_Delete(map);
	free(msg_text);
	free(map_text);
	free(txt);
}

/* Without a selection a capture gives every PCR but 6 (the VM's identity on
 * Azure); asked for, 6 is there. */
static void capture_default_leaves_pcr6_out(void **state)
{
	struct cvm_rv_set s = { 0 };
	struct cvm_capture c = { 0 };
	bool sel[CVM_PCR_COUNT] = { false };
	size_t len;
	uint8_t *txt = vector_pcrs(&len);
	unsigned have = 0;

	assert_int_equal(cvm_capture_parse(txt, len, &c), 0);
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		have += cvm_capture_bank(&c, CVM_HASH_SHA256)->have[i];
	assert_int_equal(have, 24); /* the vector file lists all 24 PCRs */
	assert_int_equal(cvm_rv_add_capture(&s, &c, NULL), 23);
	assert_int_equal(s.n[6], 0);
	assert_int_equal(s.n[0], 1);
	assert_int_equal(s.n[7], 1);
	sel[6] = true;
	assert_int_equal(cvm_rv_add_capture(&s, &c, sel), 1);
	assert_int_equal(s.n[6], 1);
	cvm_capture_free(&c);
	free(txt);
}

static void add_rules(void **state)
{
	struct cvm_rv_set s = { 0 };
	uint8_t v[32] = { 0 };
	char *text = NULL;

	assert_int_equal(cvm_rv_map_json(&s, false, &text), -ENODATA);
	assert_int_equal(cvm_rv_rvps_message(&s, &text), -ENODATA);
	assert_int_equal(cvm_rv_add(&s, 24, v), -EINVAL);
	for (unsigned i = 0; i < CVM_RV_MAX_VALUES; i++) {
		v[0] = (uint8_t)i;
		assert_int_equal(cvm_rv_add(&s, 9, v), 0);
		assert_int_equal(cvm_rv_add(&s, 9, v), 0); /* repeated: kept once */
	}
	assert_int_equal(s.n[9], CVM_RV_MAX_VALUES);
	v[0] = 0xee;
	assert_int_equal(cvm_rv_add(&s, 9, v), -ENOSPC);
	assert_int_equal(cvm_rv_map_json(&s, false, &text), 0);
	/* Several accepted values: one array, in insertion order. */
	assert_non_null(strstr(text, "\"snp_pcr09\":[\"0000000000000000000000000000000000000000000000000000000000000000\",\"01"));
	free(text);
}

static void from_prediction(void **state)
{
	struct cvm_prediction *p = calloc(1, sizeof(*p));
	struct cvm_rv_set s = { 0 };
	char *text;

	assert_non_null(p);
	p->n_banks = 2;
	p->banks[0] = CVM_HASH_SHA384;
	p->banks[1] = CVM_HASH_SHA256;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		p->pcr[i].status = CVM_PREDICT_PLATFORM;
	p->pcr[4].status = p->pcr[7].status = p->pcr[11].status = CVM_PREDICT_PREDICTED;
	p->pcr[5].status = CVM_PREDICT_NEEDS_DISK;
	p->pcr[7].profile = "qemu-ovmf";
	p->pcr[4].value[1][0] = 0x44;
	p->pcr[11].value[1][0] = 0xbb;
	p->pcr[11].value[0][0] = 0xcc; /* the SHA-384 value must not be used */
	assert_int_equal(cvm_rv_add_prediction(&s, p, false), 2);
	assert_int_equal(cvm_rv_map_json(&s, false, &text), 0);
	assert_string_equal(text,
			    "{\"snp_pcr04\":[\"4400000000000000000000000000000000000000000000000000000000000000\"],"
			    "\"tdx_pcr04\":[\"4400000000000000000000000000000000000000000000000000000000000000\"],"
			    "\"tpm_pcr04\":[\"4400000000000000000000000000000000000000000000000000000000000000\"],"
			    "\"snp_pcr11\":[\"bb00000000000000000000000000000000000000000000000000000000000000\"],"
			    "\"tdx_pcr11\":[\"bb00000000000000000000000000000000000000000000000000000000000000\"],"
			    "\"tpm_pcr11\":[\"bb00000000000000000000000000000000000000000000000000000000000000\"]}");
	free(text);
	assert_int_equal(cvm_rv_add_prediction(&s, p, true), 3);
	assert_int_equal(s.n[7], 1);
	/* PCR 5 predicted (from a disk): only on request. */
	p->pcr[5].status = CVM_PREDICT_PREDICTED;
	p->pcr[5].value[1][0] = 0x55;
	memset(&s, 0, sizeof(s));
	assert_int_equal(cvm_rv_add_prediction(&s, p, 0), 2);
	assert_int_equal(s.n[5], 0);
	assert_false(cvm_rv_takes(p, 5, CVM_RV_WITH_PROFILE));
	assert_int_equal(cvm_rv_add_prediction(&s, p, CVM_RV_WITH_PCR5), 3);
	assert_int_equal(s.n[5], 1);
	assert_int_equal(s.v[5][0][0], 0x55);
	assert_true(cvm_rv_takes(p, 5, CVM_RV_WITH_PCR5));
	p->n_banks = 1;
	assert_int_equal(cvm_rv_add_prediction(&s, p, false), -EINVAL);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(capture_map_and_message),
		cmocka_unit_test(add_rules),
		cmocka_unit_test(capture_default_leaves_pcr6_out),
		cmocka_unit_test(from_prediction),
	};
	return cmocka_run_group_tests_name("refvalues", tests, NULL, NULL);
}
