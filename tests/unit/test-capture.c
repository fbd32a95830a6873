/* measure/capture.c: the init's CVMKIT-MEASURED-BOOT line and "N: hex" files.
 * Inputs are built here from the OVMF + swtpm capture vector (its PCR file and
 * event log); expected values are those files' bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/base64.h>

#include "cvmkit/capture.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "testutil.h"

struct vec {
	uint8_t *pcrtxt, *log;
	size_t pcrlen, loglen;
	char hex[24][65];
};

static void load(struct vec *v)
{
	const char *dir = tu_vectors("measured-boot/ovmf-swtpm-capture");
	char path[4096], *line;

	snprintf(path, sizeof(path), "%s/pcrs-sha256-stub257-kernel6.12.txt", dir);
	v->pcrtxt = tu_read(path, &v->pcrlen);
	snprintf(path, sizeof(path), "%s/eventlog-stub257-kernel6.12.bin", dir);
	v->log = tu_read(path, &v->loglen);
	line = (char *)v->pcrtxt;
	for (unsigned i = 0; i < 24; i++) {
		unsigned idx;
		assert_int_equal(sscanf(line, "%u %64s", &idx, v->hex[i]), 2);
		assert_int_equal(idx, i);
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
}

/* A serial log around a line built from the vector values (+ the log in base64). */
static char *serial(const struct vec *v, bool with_log, const char *sha_override, long size_override)
{
	size_t cap = 8 * v->loglen + 8192, off = 0, olen;
	char *s = malloc(cap), d[65];
	uint8_t dig[32];

	assert_non_null(s);
	off += (size_t)snprintf(s + off, cap - off, "[    0.5] init: phase start\r\nCVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{");
	for (unsigned i = 0; i < 24; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s\"%u\":\"%s\"", i ? "," : "", i, v->hex[i]);
	assert_int_equal(cvm_hash(CVM_HASH_SHA256, v->log, v->loglen, dig), 0);
	cvm_hex_encode(dig, 32, d);
	off += (size_t)snprintf(s + off, cap - off, "}},\"eventlog\":{\"size\":%ld,\"sha256\":\"%s\"",
				size_override >= 0 ? size_override : (long)v->loglen, sha_override ? sha_override : d);
	if (with_log) {
		off += (size_t)snprintf(s + off, cap - off, ",\"base64\":\"");
		assert_int_equal(mbedtls_base64_encode((unsigned char *)s + off, cap - off, &olen, v->log, v->loglen), 0);
		off += olen;
		off += (size_t)snprintf(s + off, cap - off, "\"");
	}
	snprintf(s + off, cap - off, "}}\r\nHello OpenShift!\r\n");
	return s;
}

static void line_with_eventlog(void **state)
{
	struct vec v = { 0 };
	struct cvm_capture c = { 0 };
	const struct cvm_capture_bank *b;
	char *s, hex[65];

	load(&v);
	s = serial(&v, true, NULL, -1);
	assert_int_equal(cvm_capture_parse_line((uint8_t *)s, strlen(s), &c), 0);
	b = cvm_capture_bank(&c, CVM_HASH_SHA256);
	assert_non_null(b);
	assert_null(cvm_capture_bank(&c, CVM_HASH_SHA384));
	for (unsigned i = 0; i < 24; i++) {
		assert_true(b->have[i]);
		cvm_hex_encode(b->pcr[i], 32, hex);
		assert_string_equal(hex, v.hex[i]);
	}
	assert_true(c.have_eventlog_digest);
	assert_int_equal(c.eventlog_len, v.loglen);
	assert_memory_equal(c.eventlog, v.log, v.loglen);
	cvm_capture_free(&c);
	cvm_capture_free(&c);
	free(s);
	free(v.pcrtxt);
	free(v.log);
}

static void line_errors(void **state)
{
	struct vec v = { 0 };
	struct cvm_capture c = { 0 };
	char *s;
	static const char *bad[] = {
		"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\"24\":\"00\"}}}\n",
		"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\"01\":\"0000000000000000000000000000000000000000000000000000000000000000\"}}}\n",
		"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\"1\":\"00\"}}}\n",
		"CVMKIT-MEASURED-BOOT {\"version\":2,\"pcrs\":{}}\n",
		"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\n",
		"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":[]}\n",
	};

	load(&v);
	/* The digest or the size contradicts the included log. */
	s = serial(&v, true, "0000000000000000000000000000000000000000000000000000000000000000", -1);
	assert_int_equal(cvm_capture_parse_line((uint8_t *)s, strlen(s), &c), -EBADMSG);
	free(s);
	s = serial(&v, true, NULL, 12);
	assert_int_equal(cvm_capture_parse_line((uint8_t *)s, strlen(s), &c), -EBADMSG);
	free(s);
	/* Without the log, the digest is only carried. */
	s = serial(&v, false, NULL, -1);
	assert_int_equal(cvm_capture_parse_line((uint8_t *)s, strlen(s), &c), 0);
	assert_null(c.eventlog);
	assert_int_equal(c.eventlog_size, v.loglen);
	free(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cvm_capture_parse_line((const uint8_t *)bad[i], strlen(bad[i]), &c), -EBADMSG);
	assert_int_equal(cvm_capture_parse_line((const uint8_t *)"no report here\n", 15, &c), -ENOENT);
	free(v.pcrtxt);
	free(v.log);
}

/* The last line wins (a serial log may hold several boots). */
static void last_line_wins(void **state)
{
	const char *s = "CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\"0\":\"1111111111111111111111111111111111111111111111111111111111111111\"}}}\r\n"
			"junk CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\"sha256\":{\"0\":\"2222222222222222222222222222222222222222222222222222222222222222\"}}}";
	struct cvm_capture c = { 0 };

	assert_int_equal(cvm_capture_parse_line((const uint8_t *)s, strlen(s), &c), 0);
	assert_int_equal(c.banks[0].pcr[0][0], 0x22);
	assert_false(c.banks[0].have[1]);
}

static void pcr_lines(void **state)
{
	struct vec v = { 0 };
	struct cvm_capture c = { 0 };
	char hex[65];
	static const char *bad[] = {
		"24: 0000000000000000000000000000000000000000000000000000000000000000\n",
		"1: 00\n",
		"x: 0000000000000000000000000000000000000000000000000000000000000000\n",
		"1: 0000000000000000000000000000000000000000000000000000000000000000\n1: 0000000000000000000000000000000000000000000000000000000000000000\n",
		"# only a comment\n",
		"1:0000000000000000000000000000000000000000000000000000000000000zz0\n",
	};

	load(&v);
	assert_int_equal(cvm_capture_parse(v.pcrtxt, v.pcrlen, &c), 0);
	assert_int_equal(c.n_banks, 1);
	for (unsigned i = 0; i < 24; i++) {
		cvm_hex_encode(c.banks[0].pcr[i], 32, hex);
		assert_string_equal(hex, v.hex[i]);
	}
	{
		const char *s = "# tpm2_pcrread\npcr11: 0000000000000000000000000000000000000000000000000000000000000001\r\n"
				" 4:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002\n";
		assert_int_equal(cvm_capture_parse_pcr_lines((const uint8_t *)s, strlen(s), &c), 0);
		assert_int_equal(c.n_banks, 2);
		assert_int_equal(cvm_capture_bank(&c, CVM_HASH_SHA256)->pcr[11][31], 1);
		assert_int_equal(cvm_capture_bank(&c, CVM_HASH_SHA384)->pcr[4][47], 2);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cvm_capture_parse_pcr_lines((const uint8_t *)bad[i], strlen(bad[i]), &c), -EBADMSG);
	free(v.pcrtxt);
	free(v.log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_with_eventlog),
		cmocka_unit_test(line_errors),
		cmocka_unit_test(last_line_wins),
		cmocka_unit_test(pcr_lines),
	};
	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
