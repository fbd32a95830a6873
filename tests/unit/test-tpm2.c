/* attest/tpm2: command marshalling and response parsing against byte strings
 * written by hand from the TPM 2.0 Library spec Part 2 (structures) and
 * Part 3 (command/response layouts), through a scripted transport; no TPM.
 * Response codes are decoded per Part 2 §6.6 (format 0 / format 1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/tpm2.h"
#include "testutil.h"

/* ------------------------------------------------------------ scripted transport */

struct step {
	uint8_t cmd[512], resp[4096];
	size_t cmd_len, resp_len; /* cmd_len 0: do not check the command */
	int err;                  /* returned instead of a response when < 0 */
};

struct script {
	struct step steps[16];
	size_t n, pos;
};

static struct script S;

/* Hex with spaces allowed; "*" + count repeats the previous byte (count-1
 * more times), which keeps 32-byte digests readable. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		unsigned v;
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		if (*s == '*') {
			char *end;
			unsigned long k = strtoul(s + 1, &end, 10);
			assert_true(n > 0 && k >= 1 && n + k - 1 <= cap);
			for (unsigned long i = 1; i < k; i++, n++)
				out[n] = out[n - 1];
			s = end;
			continue;
		}
		assert_int_equal(sscanf(s, "%2x", &v), 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void expect(const char *cmd, const char *resp)
{
	struct step *st = &S.steps[S.n++];

	assert_true(S.n <= 16);
	memset(st, 0, sizeof(*st));
	st->cmd_len = cmd ? unhex(cmd, st->cmd, sizeof(st->cmd)) : 0;
	st->resp_len = unhex(resp, st->resp, sizeof(st->resp));
}

static void expect_err(int err)
{
	struct step *st = &S.steps[S.n++];

	memset(st, 0, sizeof(*st));
	st->err = err;
}

static int fake(void *userdata, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t cap)
{
	struct step *st;

	(void)userdata;
	assert_true(S.pos < S.n);
	st = &S.steps[S.pos++];
	if (st->err)
		return st->err;
	if (st->cmd_len) {
		assert_int_equal(cmd_len, st->cmd_len);
		assert_memory_equal(cmd, st->cmd, cmd_len);
	}
	assert_true(st->resp_len <= cap);
	memcpy(resp, st->resp, st->resp_len);
	return (int)st->resp_len;
}

static struct cvm_tpm2 *T;

static int setup(void **state)
{
	(void)state;
	memset(&S, 0, sizeof(S));
	T = malloc(sizeof(*T));
	assert_non_null(T);
	cvm_tpm2_open_custom(fake, NULL, T);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(S.pos, S.n); /* every scripted exchange happened */
	cvm_tpm2_close(T);
	free(T);
	return 0;
}

/* The password-session command area and the empty response area. */
#define PW_CMD "00000009 40000009 0000 00 0000"
#define PW_RESP "0000 00 0000"

/* ------------------------------------------------------------ response codes */

static void assert_rc(uint32_t rc, const char *want_prefix)
{
	char buf[200];

	cvm_tpm2_rc_describe(rc, buf, sizeof(buf));
	if (strncmp(buf, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("rc 0x%x: got \"%s\", want prefix \"%s\"", rc, buf, want_prefix);
}

static void test_rc_describe(void **state)
{
	char small[8];

	(void)state;
	assert_rc(0x000, "TPM_RC_SUCCESS");
	/* Format 1: 0x080 | error, bit 6 parameter, bits 11:8 handle/param/session. */
	assert_rc(0x18B, "TPM_RC_HANDLE (handle 1): ");
	assert_rc(0x28B, "TPM_RC_HANDLE (handle 2)");
	assert_rc(0x9A2, "TPM_RC_BAD_AUTH (session 1): ");
	assert_rc(0x1C4, "TPM_RC_VALUE (parameter 1)");
	assert_rc(0x2D5, "TPM_RC_SIZE (parameter 2)");
	assert_rc(0x08E, "TPM_RC_AUTH_FAIL: ");
	/* Format 0, TPM 2.0 (bit 8). */
	assert_rc(0x101, "TPM_RC_FAILURE: ");
	assert_rc(0x14C, "TPM_RC_NV_DEFINED: ");
	assert_rc(0x146, "TPM_RC_NV_RANGE");
	assert_rc(0x143, "TPM_RC_COMMAND_CODE");
	/* Warnings (0x900). */
	assert_rc(0x921, "TPM_RC_LOCKOUT: ");
	assert_rc(0x902, "TPM_RC_OBJECT_MEMORY");
	assert_rc(0x922, "TPM_RC_RETRY");
	assert_rc(0x910, "TPM_RC_REFERENCE_H0");
	assert_rc(0x919, "TPM_RC_REFERENCE_S1");
	/* Not TCG TPM 2.0 codes. */
	assert_rc(0x030, "response code 0x030 (TPM 1.2 format)");
	assert_rc(0x501, "response code 0x501 (vendor defined)");
	assert_rc(0x17F, "response code 0x17f (unknown)");
	assert_rc(0x80280400, "response code 0x80280400 (not a TPM 2.0 code)");
	cvm_tpm2_rc_describe(0x18B, small, sizeof(small));
	assert_string_equal(small, "TPM_RC_");
}

/* ------------------------------------------------------------ GetRandom, GetCapability */

static void test_get_random(void **state)
{
	uint8_t out[20];

	(void)state;
	/* TPM2_GetRandom(bytesRequested 20): the TPM may return fewer bytes. */
	expect("8001 0000000c 0000017b 0014", "8001 00000018 00000000 000c 0102030405060708090a0b0c");
	expect("8001 0000000c 0000017b 0008", "8001 00000014 00000000 0008 0d0e0f1011121314");
	assert_int_equal(cvm_tpm2_get_random(T, out, sizeof(out)), 0);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(out[i], i + 1);
}

static void test_get_random_bad(void **state)
{
	uint8_t out[4];

	(void)state;
	/* More bytes than asked for, then an empty answer. */
	expect(NULL, "8001 00000012 00000000 0006 010203040506");
	expect(NULL, "8001 0000000c 00000000 0000");
	assert_int_equal(cvm_tpm2_get_random(T, out, 4), -EPROTO);
	assert_int_equal(cvm_tpm2_get_random(T, out, 4), -EPROTO);
}

static void test_get_property(void **state)
{
	uint32_t v = 0;

	(void)state;
	/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_NV_BUFFER_MAX, 1):
	 * moreData, TPMS_CAPABILITY_DATA{capability, TPML_TAGGED_TPM_PROPERTY}. */
	expect("8001 00000016 0000017a 00000006 0000012c 00000001",
	       "8001 0000001b 00000000 01 00000006 00000001 0000012c 00000400");
	assert_int_equal(cvm_tpm2_get_property(T, CVM_TPM2_PT_NV_BUFFER_MAX, &v), 0);
	assert_int_equal(v, 0x400);
	/* The next property instead of the one asked for: absent. */
	expect(NULL, "8001 0000001b 00000000 00 00000006 00000001 0000012d 00000010");
	v = 7;
	assert_int_equal(cvm_tpm2_get_property(T, CVM_TPM2_PT_NV_BUFFER_MAX, &v), -ENOENT);
	assert_int_equal(v, 7);
	/* Another capability, and trailing bytes. */
	expect(NULL, "8001 0000001b 00000000 00 00000005 00000001 0000012c 00000400");
	assert_int_equal(cvm_tpm2_get_property(T, CVM_TPM2_PT_NV_BUFFER_MAX, &v), -EPROTO);
	expect(NULL, "8001 0000001c 00000000 00 00000006 00000001 0000012c 00000400 00");
	assert_int_equal(cvm_tpm2_get_property(T, CVM_TPM2_PT_NV_BUFFER_MAX, &v), -EPROTO);
}

/* ------------------------------------------------------------ framing */

static void test_framing(void **state)
{
	uint32_t v;
	char buf[128];

	(void)state;
	/* Size field disagreeing with the bytes received. */
	expect(NULL, "8001 0000001c 00000000 01 00000006 00000001 0000012c 00000400");
	assert_int_equal(cvm_tpm2_get_property(T, 0x12c, &v), -EPROTO);
	/* Unknown tag. */
	expect(NULL, "00c4 0000001b 00000000 01 00000006 00000001 0000012c 00000400");
	assert_int_equal(cvm_tpm2_get_property(T, 0x12c, &v), -EPROTO);
	/* Shorter than a header. */
	expect(NULL, "8001 000000");
	assert_int_equal(cvm_tpm2_get_property(T, 0x12c, &v), -EPROTO);
	/* An error code: -EREMOTEIO and last_rc set. */
	expect(NULL, "8001 0000000a 00000101");
	assert_int_equal(cvm_tpm2_get_property(T, 0x12c, &v), -EREMOTEIO);
	assert_int_equal(T->last_rc, 0x101);
	cvm_tpm2_rc_describe(T->last_rc, buf, sizeof(buf));
	assert_non_null(strstr(buf, "TPM_RC_FAILURE"));
	/* A transport error passes through. */
	expect_err(-ECONNRESET);
	assert_int_equal(cvm_tpm2_get_property(T, 0x12c, &v), -ECONNRESET);
}

/* ------------------------------------------------------------ PCR_Read */

/* A TPM that returns at most 8 PCRs per call, as real ones do. */
static void test_pcr_read_loops(void **state)
{
	uint8_t (*out)[64] = calloc(24, 64);

	(void)state;
	assert_non_null(out);
	expect("8001 00000014 0000017e 00000001 000b 03 ffffff",
	       "8001 0000012c 00000000 00000010 00000001 000b 03 ff0000 00000008"
	       " 0020 00*32 0020 01*32 0020 02*32 0020 03*32 0020 04*32 0020 05*32 0020 06*32 0020 07*32");
	expect("8001 00000014 0000017e 00000001 000b 03 00ffff",
	       "8001 0000012c 00000000 00000010 00000001 000b 03 00ff00 00000008"
	       " 0020 08*32 0020 09*32 0020 0a*32 0020 0b*32 0020 0c*32 0020 0d*32 0020 0e*32 0020 0f*32");
	expect("8001 00000014 0000017e 00000001 000b 03 0000ff",
	       "8001 0000012c 00000000 00000010 00000001 000b 03 0000ff 00000008"
	       " 0020 10*32 0020 11*32 0020 12*32 0020 13*32 0020 14*32 0020 15*32 0020 16*32 0020 17*32");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 0xffffff, out), 0);
	for (unsigned i = 0; i < 24; i++) {
		assert_int_equal(out[i][0], i);
		assert_int_equal(out[i][31], i);
	}
	free(out);
}

static void test_pcr_read_sha384_subset(void **state)
{
	uint8_t (*out)[64] = calloc(24, 64);

	(void)state;
	assert_non_null(out);
	/* PCRs 4 and 11 of the SHA-384 bank (TPM_ALG_SHA384 = 0x000c). */
	expect("8001 00000014 0000017e 00000001 000c 03 100800",
	       "8001 00000080 00000000 00000003 00000001 000c 03 100800 00000002 0030 aa*48 0030 bb*48");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA384, (1u << 4) | (1u << 11), out), 0);
	assert_int_equal(out[4][47], 0xaa);
	assert_int_equal(out[11][0], 0xbb);
	assert_int_equal(out[0][0], 0);
	assert_int_equal(cvm_tpm2_pcr_read(T, 0x0010, 1, out), -EINVAL);
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1u << 24, out), -EINVAL);
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 0, out), -EINVAL);
	free(out);
}

static void test_pcr_read_malformed(void **state)
{
	uint8_t (*out)[64] = calloc(24, 64);

	(void)state;
	assert_non_null(out);
	/* A PCR that was not asked for. */
	expect(NULL, "8001 0000003e 00000000 00000001 00000001 000b 03 030000 00000002 0020 00*32");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EPROTO);
	/* Digest count disagreeing with the selection. */
	expect(NULL, "8001 0000003e 00000000 00000001 00000001 000b 03 010000 00000002 0020 00*32");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EPROTO);
	/* A SHA-1-sized digest in the SHA-256 bank. */
	expect(NULL, "8001 00000032 00000000 00000001 00000001 000b 03 010000 00000001 0014 00*20");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EPROTO);
	/* Another bank in the answer. */
	expect(NULL, "8001 0000003e 00000000 00000001 00000001 0004 03 010000 00000001 0020 00*32");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EPROTO);
	/* An unallocated bank: nothing selected on the first call. */
	expect(NULL, "8001 0000001c 00000000 00000001 00000001 000b 03 000000 00000000");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EOPNOTSUPP);
	/* A TPML_DIGEST claiming a digest that is cut off. */
	expect(NULL, "8001 0000002e 00000000 00000001 00000001 000b 03 010000 00000001 0020 00*16");
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 1, out), -EPROTO);
	assert_int_equal(out[0][0], 0);
	free(out);
}

/* The update counter changes between calls: the read restarts, 3 times. */
static void test_pcr_read_counter_changes(void **state)
{
	uint8_t (*out)[64] = calloc(24, 64);

	(void)state;
	assert_non_null(out);
	for (unsigned i = 0; i < 3; i++) {
		char a[512], b[512];
		snprintf(a, sizeof(a), "8001 0000003e 00000000 %08x 00000001 000b 03 010000 00000001 0020 11*32",
			 2 * i);
		snprintf(b, sizeof(b), "8001 0000003e 00000000 %08x 00000001 000b 03 020000 00000001 0020 22*32",
			 2 * i + 1);
		expect("8001 00000014 0000017e 00000001 000b 03 030000", a);
		expect("8001 00000014 0000017e 00000001 000b 03 020000", b);
	}
	assert_int_equal(cvm_tpm2_pcr_read(T, CVM_TPM2_ALG_SHA256, 3, out), -EAGAIN);
	assert_int_equal(out[0][0], 0);
	free(out);
}

/* ------------------------------------------------------------ ReadPublic / NV_ReadPublic */

#define AK_PUBLIC                                                                                              \
	"0118 0001 000b 00050072 0000 0010 0014 000b 0800 00000000 0100 c5*256"
#define NAME34 "0022 000b 5a*32"

static void test_read_public_rsa(void **state)
{
	struct cvm_tpm2_public k;

	(void)state;
	/* TPM2B_PUBLIC{TPMT_PUBLIC: RSA, SHA-256, fixedTPM|fixedParent|sensitiveDataOrigin|
	 * userWithAuth|restricted|sign, no policy, sym NULL, RSASSA/SHA-256, 2048 bits,
	 * exponent 0, unique 256 bytes}, name, qualifiedName. */
	expect("8001 0000000e 00000173 81000003", "8001 0000016c 00000000 " AK_PUBLIC " " NAME34 " " NAME34);
	assert_int_equal(cvm_tpm2_read_public(T, CVM_TPM2_AZURE_AK, &k), 0);
	assert_int_equal(k.type, CVM_TPM2_ALG_RSA);
	assert_int_equal(k.name_alg, CVM_TPM2_ALG_SHA256);
	assert_int_equal(k.attributes, 0x00050072);
	assert_int_equal(k.scheme, CVM_TPM2_ALG_RSASSA);
	assert_int_equal(k.scheme_hash, CVM_TPM2_ALG_SHA256);
	assert_int_equal(k.key_bits, 2048);
	assert_int_equal(k.exponent, 0);
	assert_int_equal(k.n_len, 256);
	assert_int_equal(k.n[255], 0xc5);
	assert_int_equal(k.name_len, 34);
	assert_int_equal(k.qualified_name_len, 34);
	assert_int_equal(k.qualified_name[33], 0x5a);
}

static void test_read_public_other_and_bad(void **state)
{
	struct cvm_tpm2_public k;

	(void)state;
	/* An ECC key: type and names only (the TPMT_PUBLIC body is skipped). */
	expect(NULL, "8001 0000006c 00000000 0018 0023 000b 00040072 0000 0010 0018 000b 0003 0010 0000 0000 " NAME34
		     " " NAME34);
	assert_int_equal(cvm_tpm2_read_public(T, 0x81000002, &k), 0);
	assert_int_equal(k.type, CVM_TPM2_ALG_ECC);
	assert_int_equal(k.n_len, 0);
	/* keyBits 2048 with a 255-byte modulus. */
	expect(NULL, "8001 0000016b 00000000 0117 0001 000b 00050072 0000 0010 0014 000b 0800 00000000 00ff c5*255 "
		     NAME34 " " NAME34);
	assert_int_equal(cvm_tpm2_read_public(T, 0x81000003, &k), -EPROTO);
	/* TPM2B_PUBLIC size running past the response. */
	expect(NULL, "8001 00000012 00000000 0118 0001 000b 0005");
	assert_int_equal(cvm_tpm2_read_public(T, 0x81000003, &k), -EPROTO);
	/* A name longer than TPM2B_NAME allows. */
	expect(NULL, "8001 0000018f 00000000 " AK_PUBLIC " 0045 000b 5a*67 " NAME34);
	assert_int_equal(cvm_tpm2_read_public(T, 0x81000003, &k), -EPROTO);
	/* TPM_RC_HANDLE for a missing object: -ENOENT. */
	expect(NULL, "8001 0000000a 0000018b");
	assert_int_equal(cvm_tpm2_read_public(T, 0x81000009, &k), -ENOENT);
}

static void test_nv_read_public(void **state)
{
	struct cvm_tpm2_nv_public nv;

	(void)state;
	/* TPM2B_NV_PUBLIC{index, SHA-256, ownerwrite|authwrite|ownerread|authread|written,
	 * no policy, 2600 bytes}, TPM2B_NAME. */
	expect("8001 0000000e 00000169 01400001", "8001 0000003e 00000000 000e 01400001 000b 20060006 0000 0a28 " NAME34);
	assert_int_equal(cvm_tpm2_nv_read_public(T, CVM_TPM2_AZURE_HCL_REPORT_NV, &nv), 0);
	assert_int_equal(nv.index, 0x01400001);
	assert_int_equal(nv.attributes, 0x20060006);
	assert_int_equal(nv.data_size, 2600);
	/* Another index in the answer; a TPM2B_NV_PUBLIC with extra bytes. */
	expect(NULL, "8001 0000003e 00000000 000e 01400002 000b 20060006 0000 0a28 " NAME34);
	assert_int_equal(cvm_tpm2_nv_read_public(T, CVM_TPM2_AZURE_HCL_REPORT_NV, &nv), -EPROTO);
	expect(NULL, "8001 0000003f 00000000 000f 01400001 000b 20060006 0000 0a28 00 " NAME34);
	assert_int_equal(cvm_tpm2_nv_read_public(T, CVM_TPM2_AZURE_HCL_REPORT_NV, &nv), -EPROTO);
	expect(NULL, "8001 0000000a 0000018b");
	assert_int_equal(cvm_tpm2_nv_read_public(T, CVM_TPM2_AZURE_USER_DATA_NV, &nv), -ENOENT);
}

/* ------------------------------------------------------------ NV_Read / NV_Write / define */

static void test_nv_read_chunked(void **state)
{
	uint8_t out[20];

	(void)state;
	/* NV buffer max 16: a 20-byte read takes two NV_Read calls (size, offset). */
	expect("8001 00000016 0000017a 00000006 0000012c 00000001",
	       "8001 0000001b 00000000 00 00000006 00000001 0000012c 00000010");
	expect("8002 00000023 0000014e 40000001 01400001 " PW_CMD " 0010 0000",
	       "8002 00000025 00000000 00000012 0010 00*4 01*4 02*4 03*4 " PW_RESP);
	expect("8002 00000023 0000014e 40000001 01400001 " PW_CMD " 0004 0010",
	       "8002 00000019 00000000 00000006 0004 04*4 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_HCL_REPORT_NV, 0, out, 20), 0);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(out[i], i / 4);
	assert_int_equal(T->nv_buffer_max, 16);
}

static void test_nv_read_bad(void **state)
{
	uint8_t out[4] = { 9, 9, 9, 9 };

	(void)state;
	T->nv_buffer_max = 1024;
	/* Fewer bytes than asked for. */
	expect(NULL, "8002 00000018 00000000 00000005 0003 010203 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EPROTO);
	/* No session area in the answer to a session command. */
	expect(NULL, "8002 00000014 00000000 00000006 0004 01020304");
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EPROTO);
	/* ST_NO_SESSIONS on success of a session command. */
	expect(NULL, "8001 00000019 00000000 00000006 0004 01020304 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EPROTO);
	/* parameterSize running past the response. */
	expect(NULL, "8002 00000019 00000000 00000060 0004 01020304 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EPROTO);
	/* A non-empty HMAC in a password session's answer. */
	expect(NULL, "8002 0000001a 00000000 00000006 0004 01020304 0000 00 0001 00");
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EPROTO);
	/* TPM_RC_NV_RANGE. */
	expect(NULL, "8001 0000000a 00000146");
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0, out, 4), -EREMOTEIO);
	assert_int_equal(T->last_rc, 0x146);
	assert_int_equal(out[0], 9);
	assert_int_equal(cvm_tpm2_nv_read(T, CVM_TPM2_RH_OWNER, 0x01400001, 0xfff0, out, 0x20), -EINVAL);
}

static void test_nv_define_write_undefine(void **state)
{
	const uint8_t data[5] = { 1, 2, 3, 4, 5 };

	(void)state;
	T->nv_buffer_max = 4;
	/* NV_DefineSpace(owner; auth empty; TPM2B_NV_PUBLIC{0x01400002, SHA-256,
	 * ownerwrite|ownerread, no policy, 64}). */
	expect("8002 0000002d 0000012a 40000001 " PW_CMD " 0000 000e 01400002 000b 00020002 0000 0040",
	       "8002 00000013 00000000 00000000 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_define(T, CVM_TPM2_AZURE_USER_DATA_NV,
					    CVM_TPMA_NV_OWNERWRITE | CVM_TPMA_NV_OWNERREAD, 64),
			 0);
	expect(NULL, "8001 0000000a 0000014c");
	assert_int_equal(cvm_tpm2_nv_define(T, CVM_TPM2_AZURE_USER_DATA_NV, 0x20002, 64), -EEXIST);
	/* NV_Write(owner, index; data; offset), in chunks of 4. */
	expect("8002 00000027 00000137 40000001 01400002 " PW_CMD " 0004 01020304 0000",
	       "8002 00000013 00000000 00000000 " PW_RESP);
	expect("8002 00000024 00000137 40000001 01400002 " PW_CMD " 0001 05 0004",
	       "8002 00000013 00000000 00000000 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_write(T, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_USER_DATA_NV, 0, data, 5), 0);
	/* NV_UndefineSpace(owner, index). */
	expect("8002 0000001f 00000122 40000001 01400002 " PW_CMD, "8002 00000013 00000000 00000000 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_undefine(T, CVM_TPM2_AZURE_USER_DATA_NV), 0);
	expect(NULL, "8001 0000000a 0000028b");
	assert_int_equal(cvm_tpm2_nv_undefine(T, CVM_TPM2_AZURE_USER_DATA_NV), -ENOENT);
	/* Parameters in an answer that has none. */
	expect(NULL, "8002 00000014 00000000 00000001 00 " PW_RESP);
	assert_int_equal(cvm_tpm2_nv_undefine(T, CVM_TPM2_AZURE_USER_DATA_NV), -EPROTO);
}

/* PCR_Extend (Part 3 §22.2): pcrHandle 8, one TPMT_HA of the SHA-256 bank. */
static void test_pcr_extend(void **state)
{
	uint8_t d[32];

	(void)state;
	for (int i = 0; i < 32; i++)
		d[i] = (uint8_t)i;
	expect("8002 00000041 00000182 00000008 " PW_CMD " 00000001 000b "
	       "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	       "8002 00000013 00000000 00000000 " PW_RESP);
	assert_int_equal(cvm_tpm2_pcr_extend(T, 8, CVM_TPM2_ALG_SHA256, d), 0);
	/* TPM_RC_LOCALITY (0x907): PCR 17 from locality 0. */
	expect(NULL, "8001 0000000a 00000907");
	assert_int_equal(cvm_tpm2_pcr_extend(T, 17, CVM_TPM2_ALG_SHA256, d), -EREMOTEIO);
	assert_int_equal(T->last_rc, 0x907);
	assert_int_equal(cvm_tpm2_pcr_extend(T, 24, CVM_TPM2_ALG_SHA256, d), -EINVAL);
	assert_int_equal(cvm_tpm2_pcr_extend(T, 8, 0x0099, d), -EINVAL);
}

/* ------------------------------------------------------------ Quote */

static void test_quote_rsassa(void **state)
{
	struct cvm_tpm2_quote q;

	(void)state;
	/* Quote(AK; qualifyingData "hello"; inScheme NULL; SHA-256 PCRs 0-23) ->
	 * TPM2B_ATTEST, TPMT_SIGNATURE{RSASSA, SHA-256, 256 bytes}. */
	expect("8002 0000002e 00000158 81000003 " PW_CMD " 0005 68656c6c6f 0010 00000001 000b 03 ffffff",
	       "8002 0000011f 00000000 0000010c 0004 ff544347 0014 000b 0100 ab*256 " PW_RESP);
	assert_int_equal(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, (const uint8_t *)"hello", 5, CVM_TPM2_ALG_SHA256,
					0xffffff, &q),
			 0);
	assert_int_equal(q.attest_len, 4);
	assert_int_equal(q.attest[0], 0xff);
	assert_int_equal(q.sig_alg, CVM_TPM2_ALG_RSASSA);
	assert_int_equal(q.sig_hash, CVM_TPM2_ALG_SHA256);
	assert_int_equal(q.sig_len, 256);
	assert_int_equal(q.sig[255], 0xab);
}

static void test_quote_ecdsa_and_bad(void **state)
{
	struct cvm_tpm2_quote q;
	uint8_t big[65] = { 0 };

	(void)state;
	/* ECDSA: r (31 bytes) and s (32 bytes) come out left-padded to 32 each. */
	expect(NULL, "8002 0000005e 00000000 0000004b 0002 aaaa 0018 000b 001f 11*31 0020 22*32 " PW_RESP);
	assert_int_equal(cvm_tpm2_quote(T, 0x81000004, NULL, 0, CVM_TPM2_ALG_SHA256, 1, &q), 0);
	assert_int_equal(q.sig_alg, CVM_TPM2_ALG_ECDSA);
	assert_int_equal(q.sig_len, 64);
	assert_int_equal(q.sig[0], 0);
	assert_int_equal(q.sig[1], 0x11);
	assert_int_equal(q.sig[32], 0x22);
	/* A signature scheme we do not know; a TPM2B_ATTEST past the end. */
	expect(NULL, "8002 00000019 00000000 00000004 0002 aaaa 0099 " PW_RESP);
	assert_int_equal(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, NULL, 0, CVM_TPM2_ALG_SHA256, 1, &q), -EPROTO);
	expect(NULL, "8002 00000015 00000000 00000002 0400 " PW_RESP);
	assert_int_equal(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, NULL, 0, CVM_TPM2_ALG_SHA256, 1, &q), -EPROTO);
	/* TPM_RC_BAD_AUTH for session 1. */
	expect(NULL, "8001 0000000a 000009a2");
	assert_int_equal(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, NULL, 0, CVM_TPM2_ALG_SHA256, 1, &q), -EREMOTEIO);
	assert_int_equal(T->last_rc, 0x9a2);
	assert_int_equal(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, big, 65, CVM_TPM2_ALG_SHA256, 1, &q), -EINVAL);
}

/* Every proper prefix of a valid answer is refused, never read past. */
static void test_truncations(void **state)
{
	static const char *resp = "8002 00000124 00000000 0000010c 0004 ff544347 0014 000b 0100 ab*256 " PW_RESP;
	struct step full;
	struct cvm_tpm2_quote q;

	(void)state;
	full.resp_len = unhex(resp, full.resp, sizeof(full.resp));
	for (size_t cut = 0; cut < full.resp_len; cut += cut < 40 ? 1 : 37) {
		S.n = S.pos = 0;
		expect(NULL, "00");
		memcpy(S.steps[0].resp, full.resp, cut);
		S.steps[0].resp_len = cut;
		assert_true(cvm_tpm2_quote(T, CVM_TPM2_AZURE_AK, NULL, 0, CVM_TPM2_ALG_SHA256, 1, &q) < 0);
	}
	S.n = S.pos = 0;
}

static void test_open_specs(void **state)
{
	struct cvm_tpm2 *t = malloc(sizeof(*t));

	(void)state;
	assert_non_null(t);
	assert_int_equal(cvm_tpm2_open("", t), -EINVAL);
	assert_int_equal(cvm_tpm2_open("tcp:127.0.0.1", t), -EINVAL);
	assert_int_equal(cvm_tpm2_open("tcp::2321", t), -EINVAL);
	assert_int_equal(cvm_tpm2_open("tcp:localhost:2321", t), -EINVAL); /* numeric hosts only */
	assert_int_equal(cvm_tpm2_open("device:", t), -EINVAL);
	assert_int_equal(cvm_tpm2_open("/nonexistent/tpmrm0", t), -ENOENT);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rc_describe),
		cmocka_unit_test_setup_teardown(test_get_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_random_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_property, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcr_read_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcr_read_sha384_subset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcr_read_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcr_read_counter_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_public_rsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_public_other_and_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nv_read_public, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nv_read_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nv_read_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nv_define_write_undefine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pcr_extend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_rsassa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quote_ecdsa_and_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
		cmocka_unit_test(test_open_specs),
	};

	return cmocka_run_group_tests_name("tpm2", tests, NULL, NULL);
}
