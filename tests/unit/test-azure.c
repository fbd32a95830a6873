/* attest/azure: evidence collection against a scripted vTPM that serves the
 * real Azure captures of ../shared/vectors/trustee (az-snp-vtpm/evidence-v2.json,
 * az-tdx-vtpm/evidence-v1.json): HCL report by NV index, the recorded quote,
 * the recorded PCRs (at most 8 per PCR_Read, like a real TPM).  The collected
 * evidence must rebuild the vector field by field and verify like it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cvmkit/azure.h"
#include "cvmkit/bytes.h"
#include "cvmkit/evidence.h"
#include "cvmkit/hcl.h"
#include "cvmkit/tpm2.h"
#include "cvmkit/tpmquote.h"
#include "cvmkit/verify.h"
#include "testutil.h"

struct fake {
	struct cvm_evidence ev; /* the vector */
	bool hcl_present;
	uint8_t nonce[64], qname[68], ak_n[512];
	size_t nonce_len, qname_len, ak_n_len;
	/* user-data index state */
	bool ud_defined;
	uint16_t ud_size;
	uint32_t ud_attrs;
	uint8_t ud[64];
	size_t ud_written;
	int defines, undefines, quotes;
	int glitches;   /* full PCR reads that return a PCR 10 differing from the quote */
	bool glitching; /* the current full read is one of them */
	int stale_reads;    /* whole HCL report reads that still serve the previous report */
	int report_reads;   /* whole HCL report reads */
	uint8_t *stale;     /* the previous report: user-data of another nonce */
};

static struct fake F;

static void put(uint8_t *r, size_t *n, const void *b, size_t len)
{
	assert_true(*n + len <= 4096);
	memcpy(r + *n, b, len);
	*n += len;
}
static void put16(uint8_t *r, size_t *n, uint16_t v)
{
	uint8_t b[2];
	cvm_put_be16(b, v);
	put(r, n, b, 2);
}
static void put32(uint8_t *r, size_t *n, uint32_t v)
{
	uint8_t b[4];
	cvm_put_be32(b, v);
	put(r, n, b, 4);
}

/* Frames PARAMS as a response (with the password-session area if SESSIONS). */
static int respond(uint8_t *resp, const uint8_t *params, size_t plen, bool sessions, uint32_t rc)
{
	size_t n = 0;

	put16(resp, &n, sessions && !rc ? 0x8002 : 0x8001);
	put32(resp, &n, 0);
	put32(resp, &n, rc);
	if (!rc) {
		if (sessions)
			put32(resp, &n, (uint32_t)plen);
		put(resp, &n, params, plen);
		if (sessions)
			put(resp, &n, "\0\0\0\0\0", 5);
	}
	cvm_put_be32(resp + 2, (uint32_t)n);
	return (int)n;
}

static int fake_tpm(void *userdata, const uint8_t *cmd, size_t len, uint8_t *resp, size_t cap)
{
	static uint8_t p[4096];
	size_t n = 0;
	uint32_t cc = cvm_be32(cmd + 6);

	(void)userdata;
	(void)cap;
	assert_true(len >= 10 && cvm_be32(cmd + 2) == len);
	switch (cc) {
	case 0x17A: /* GetCapability(TPM_PT_NV_BUFFER_MAX) */
		assert_int_equal(cvm_be32(cmd + 14), 0x12C);
		put(p, &n, "\0", 1);
		put32(p, &n, 6);
		put32(p, &n, 1);
		put32(p, &n, 0x12C);
		put32(p, &n, 1024);
		return respond(resp, p, n, false, 0);
	case 0x169: { /* NV_ReadPublic */
		uint32_t idx = cvm_be32(cmd + 10);
		uint16_t size;
		if (idx == CVM_TPM2_AZURE_HCL_REPORT_NV && F.hcl_present)
			size = (uint16_t)F.ev.hcl_report_len;
		else if (idx == CVM_TPM2_AZURE_USER_DATA_NV && F.ud_defined)
			size = F.ud_size;
		else
			return respond(resp, NULL, 0, false, 0x18B);
		put16(p, &n, 14);
		put32(p, &n, idx);
		put16(p, &n, 0x000B);
		put32(p, &n, idx == CVM_TPM2_AZURE_USER_DATA_NV ? F.ud_attrs : 0x20060006);
		put16(p, &n, 0);
		put16(p, &n, size);
		put16(p, &n, 34);
		put16(p, &n, 0x000B);
		put(p, &n, F.qname + 2, 32); /* any name will do */
		return respond(resp, p, n, false, 0);
	}
	case 0x122: /* NV_UndefineSpace(owner, index) */
		assert_int_equal(cvm_be32(cmd + 10), CVM_TPM2_RH_OWNER);
		assert_int_equal(cvm_be32(cmd + 14), CVM_TPM2_AZURE_USER_DATA_NV);
		F.ud_defined = false;
		F.undefines++;
		return respond(resp, NULL, 0, true, 0);
	case 0x12A: /* NV_DefineSpace(owner; auth, TPM2B_NV_PUBLIC) */
		assert_int_equal(cvm_be32(cmd + 10), CVM_TPM2_RH_OWNER);
		assert_int_equal(cvm_be16(cmd + 27), 0); /* empty auth */
		assert_int_equal(cvm_be16(cmd + 29), 14);
		assert_int_equal(cvm_be32(cmd + 31), CVM_TPM2_AZURE_USER_DATA_NV);
		assert_int_equal(cvm_be16(cmd + 35), 0x000B);
		if (F.ud_defined)
			return respond(resp, NULL, 0, true, 0x14C);
		F.ud_attrs = cvm_be32(cmd + 37);
		F.ud_size = cvm_be16(cmd + 43);
		F.ud_defined = true;
		F.defines++;
		return respond(resp, NULL, 0, true, 0);
	case 0x137: { /* NV_Write(auth, index; data, offset) */
		uint16_t dl = cvm_be16(cmd + 31), off = cvm_be16(cmd + 33 + dl);
		assert_int_equal(cvm_be32(cmd + 14), CVM_TPM2_AZURE_USER_DATA_NV);
		assert_true(F.ud_defined && off + dl <= F.ud_size);
		memcpy(F.ud + off, cmd + 33, dl);
		F.ud_written = off + dl;
		return respond(resp, NULL, 0, true, 0);
	}
	case 0x14E: { /* NV_Read(auth, index; size, offset) */
		uint16_t sz = cvm_be16(cmd + 31), off = cvm_be16(cmd + 33);
		assert_int_equal(cvm_be32(cmd + 10), CVM_TPM2_RH_OWNER);
		assert_int_equal(cvm_be32(cmd + 14), CVM_TPM2_AZURE_HCL_REPORT_NV);
		assert_true(sz <= 1024 && off + sz <= F.ev.hcl_report_len);
		put16(p, &n, sz);
		put(p, &n, (F.stale_reads > 0 ? F.stale : F.ev.hcl_report) + off, sz);
		if (off + sz == F.ev.hcl_report_len) {
			F.report_reads++;
			if (F.stale_reads > 0)
				F.stale_reads--;
		}
		return respond(resp, p, n, true, 0);
	}
	case 0x173: /* ReadPublic */
		if (cvm_be32(cmd + 10) != CVM_TPM2_AZURE_AK)
			return respond(resp, NULL, 0, false, 0x18B);
		put16(p, &n, (uint16_t)(24 + F.ak_n_len));
		put16(p, &n, 0x0001);
		put16(p, &n, 0x000B);
		put32(p, &n, 0x00050072);
		put16(p, &n, 0);
		put16(p, &n, 0x0010);
		put16(p, &n, 0x0014);
		put16(p, &n, 0x000B);
		put16(p, &n, (uint16_t)(F.ak_n_len * 8));
		put32(p, &n, 0);
		put16(p, &n, (uint16_t)F.ak_n_len);
		put(p, &n, F.ak_n, F.ak_n_len);
		put16(p, &n, (uint16_t)F.qname_len);
		put(p, &n, F.qname, F.qname_len);
		put16(p, &n, (uint16_t)F.qname_len);
		put(p, &n, F.qname, F.qname_len);
		return respond(resp, p, n, false, 0);
	case 0x158: { /* Quote(AK; nonce, NULL scheme, sha256 0-23) */
		uint16_t nl = cvm_be16(cmd + 27);
		assert_int_equal(cvm_be32(cmd + 10), CVM_TPM2_AZURE_AK);
		assert_true(nl <= 64);
		assert_memory_equal(cmd + 29 + nl, "\x00\x10\x00\x00\x00\x01\x00\x0b\x03\xff\xff\xff", 12);
		F.quotes++;
		put16(p, &n, (uint16_t)F.ev.message_len);
		put(p, &n, F.ev.message, F.ev.message_len);
		put16(p, &n, 0x0014);
		put16(p, &n, 0x000B);
		put16(p, &n, (uint16_t)F.ev.signature_len);
		put(p, &n, F.ev.signature, F.ev.signature_len);
		return respond(resp, p, n, true, 0);
	}
	case 0x17E: { /* PCR_Read: the 8 lowest requested PCRs */
		uint32_t want = cmd[17] | cmd[18] << 8 | cmd[19] << 16, got = 0;
		unsigned k = 0;
		assert_int_equal(cvm_be16(cmd + 14), 0x000B);
		if (want & 1) {
			F.glitching = F.glitches > 0;
			if (F.glitching)
				F.glitches--;
		}
		for (unsigned i = 0; i < 24 && k < 8; i++)
			if (want & (1u << i)) {
				got |= 1u << i;
				k++;
			}
		put32(p, &n, 42);
		put32(p, &n, 1);
		put16(p, &n, 0x000B);
		put(p, &n, "\x03", 1);
		put(p, &n, (uint8_t[]){ (uint8_t)got, (uint8_t)(got >> 8), (uint8_t)(got >> 16) }, 3);
		put32(p, &n, k);
		for (unsigned i = 0; i < 24; i++)
			if (got & (1u << i)) {
				uint8_t d[32];
				memcpy(d, F.ev.pcrs[i], 32);
				if (i == 10 && F.glitching)
					d[0] ^= 1;
				put16(p, &n, 32);
				put(p, &n, d, 32);
			}
		return respond(resp, p, n, false, 0);
	}
	default:
		fail_msg("unexpected command 0x%x", cc);
	}
	return -EIO;
}

static struct cvm_tpm2 *T;

static void load(const char *tee_dir, const char *file, enum cvm_tee tee)
{
	char sub[128];
	uint8_t *buf;
	size_t len;
	struct cvm_tpms_attest a;
	struct cvm_hcl_report h;
	struct cvm_runtime_claims *rc = malloc(sizeof(*rc));

	assert_non_null(rc);
	memset(&F, 0, sizeof(F));
	snprintf(sub, sizeof(sub), "trustee/%s/%s", tee_dir, file);
	buf = tu_read(tu_vectors(sub), &len);
	assert_int_equal(cvm_evidence_parse(tee, buf, len, &F.ev), 0);
	free(buf);
	assert_int_equal(cvm_tpms_attest_parse(F.ev.message, F.ev.message_len, &a), 0);
	memcpy(F.nonce, a.extra_data, a.extra_data_len);
	F.nonce_len = a.extra_data_len;
	memcpy(F.qname, a.signer, a.signer_len);
	F.qname_len = a.signer_len;
	assert_int_equal(cvm_hcl_report_parse(F.ev.hcl_report, F.ev.hcl_report_len, &h), 0);
	assert_int_equal(cvm_runtime_claims_parse(h.var_data, h.var_data_size, rc), 0);
	memcpy(F.ak_n, rc->ak_n, rc->ak_n_len);
	F.ak_n_len = rc->ak_n_len;
	free(rc);
	F.hcl_present = true;
	T = malloc(sizeof(*T));
	assert_non_null(T);
	cvm_tpm2_open_custom(fake_tpm, NULL, T);
}

static void unload(void)
{
	cvm_tpm2_close(T);
	free(T);
	cvm_evidence_free(&F.ev);
}

static struct cvm_azure_collect_opts opts(void)
{
	return (struct cvm_azure_collect_opts){ .report_data = F.nonce, .report_data_len = F.nonce_len };
}

static void test_snp_v2(void **state)
{
	struct cvm_azure_collect_opts o;
	struct cvm_azure_collected c;
	struct cvm_evidence back = { 0 };
	struct cvm_verify_opts vo = { 0 };
	struct cvm_verify_result res = { 0 };
	const uint8_t *tdr;
	char *json = NULL;

	(void)state;
	load("az-snp-vtpm", "evidence-v2.json", CVM_TEE_AZ_SNP_VTPM);
	o = opts();
	assert_int_equal(F.nonce_len, 48); /* a KBS nonce, per SOURCES.md */
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	/* The nonce went to a freshly defined 48-byte user-data index. */
	assert_int_equal(F.defines, 1);
	assert_int_equal(F.undefines, 0);
	assert_int_equal(F.ud_size, 48);
	assert_int_equal(F.ud_attrs, CVM_TPMA_NV_OWNERWRITE | CVM_TPMA_NV_OWNERREAD);
	assert_int_equal(F.ud_written, 48);
	assert_memory_equal(F.ud, F.nonce, 48);
	assert_int_equal(F.quotes, 1);
	assert_int_equal(c.tee, CVM_TEE_AZ_SNP_VTPM);
	assert_true(c.ak_matches);
	assert_int_equal(c.hcl_report_len, F.ev.hcl_report_len);
	assert_memory_equal(c.hcl_report, F.ev.hcl_report, c.hcl_report_len);
	assert_int_equal(cvm_azure_td_report(&c, &tdr), -EOPNOTSUPP);

	assert_int_equal(cvm_azure_evidence_build(&c, 2, F.ev.vcek, F.ev.vcek_len, NULL, 0, &json), 0);
	assert_int_equal(cvm_evidence_parse(CVM_TEE_AZ_SNP_VTPM, (const uint8_t *)json, strlen(json), &back), 0);
	assert_int_equal(back.version, 2);
	assert_int_equal(back.message_len, F.ev.message_len);
	assert_memory_equal(back.message, F.ev.message, F.ev.message_len);
	assert_int_equal(back.signature_len, F.ev.signature_len);
	assert_memory_equal(back.signature, F.ev.signature, F.ev.signature_len);
	assert_int_equal(back.pcr_count, 24);
	assert_memory_equal(back.pcrs, F.ev.pcrs, sizeof(back.pcrs));
	assert_int_equal(back.hcl_report_len, F.ev.hcl_report_len);
	assert_memory_equal(back.hcl_report, F.ev.hcl_report, F.ev.hcl_report_len);
	assert_int_equal(back.vcek_len, F.ev.vcek_len);
	assert_memory_equal(back.vcek, F.ev.vcek, F.ev.vcek_len);
	/* And it verifies like the original, user-data check included. */
	vo.report_data = F.nonce;
	vo.report_data_len = F.nonce_len;
	assert_int_equal(cvm_verify_evidence(&back, &vo, &res), 0);
	assert_int_equal(res.checks[CVM_CHECK_USER_DATA].status, CVM_CHECK_OK);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&back);
	free(json);

	assert_int_equal(cvm_azure_evidence_build(&c, 2, NULL, 0, NULL, 0, &json), -EINVAL);
	assert_int_equal(cvm_azure_evidence_build(&c, 3, F.ev.vcek, F.ev.vcek_len, NULL, 0, &json), -EINVAL);
	assert_int_equal(cvm_azure_evidence_build(&c, 0, F.ev.vcek, F.ev.vcek_len, NULL, 0, &json), -EINVAL);
	cvm_azure_collected_free(&c);
	unload();
}

static void test_user_data_index(void **state)
{
	struct cvm_azure_collect_opts o;
	struct cvm_azure_collected c;

	(void)state;
	load("az-snp-vtpm", "evidence-v2.json", CVM_TEE_AZ_SNP_VTPM);
	o = opts();
	/* A 64-byte index (the Microsoft SDK's) is redefined at the nonce's size. */
	F.ud_defined = true;
	F.ud_size = 64;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(F.undefines, 1);
	assert_int_equal(F.defines, 1);
	assert_int_equal(F.ud_size, 48);
	cvm_azure_collected_free(&c);
	/* Now of the right size: written in place. */
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(F.undefines, 1);
	assert_int_equal(F.defines, 1);
	cvm_azure_collected_free(&c);
	/* skip_user_data: no NV command for the index at all. */
	F.ud_defined = false;
	o.skip_user_data = true;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_false(F.ud_defined);
	cvm_azure_collected_free(&c);
	assert_int_equal(cvm_azure_write_user_data(T, F.nonce, 0), -EINVAL);
	assert_int_equal(cvm_azure_write_user_data(T, F.nonce, 65), -EINVAL);
	unload();
}

/* A copy of the report whose runtime claims carry another user-data (one hex
 * digit changed): what the paravisor serves until it has regenerated it. */
static void make_stale(void)
{
	struct cvm_hcl_report h;
	uint8_t *p;

	F.stale = malloc(F.ev.hcl_report_len);
	assert_non_null(F.stale);
	memcpy(F.stale, F.ev.hcl_report, F.ev.hcl_report_len);
	assert_int_equal(cvm_hcl_report_parse(F.stale, F.ev.hcl_report_len, &h), 0);
	p = memmem(h.var_data, h.var_data_size, "\"user-data\":\"", 13);
	assert_non_null(p);
	p[13] = p[13] == '0' ? '1' : '0';
}

/* The report is re-read until it carries the nonce, not read once after a
 * fixed sleep; a report that never does fails collection at the deadline. */
static void test_report_regenerated(void **state)
{
	struct cvm_azure_collect_opts o;
	struct cvm_azure_collected c;
	struct timespec t0, t1;
	long ms;

	(void)state;
	load("az-snp-vtpm", "evidence-v2.json", CVM_TEE_AZ_SNP_VTPM);
	make_stale();
	o = opts();
	o.user_data_wait_ms = 5000;
	F.stale_reads = 3;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(F.report_reads, 4);
	assert_memory_equal(c.hcl_report, F.ev.hcl_report, F.ev.hcl_report_len);
	/* 10 + 20 + 40 ms of back-off, far from the deadline. */
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 69 && ms < 4000); /* ms is truncated; well under the 5 s deadline */
	cvm_azure_collected_free(&c);

	/* Fresh at once: one read, no sleep. */
	F.report_reads = 0;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(F.report_reads, 1);
	cvm_azure_collected_free(&c);

	/* Never regenerated: -ETIMEDOUT once the deadline passed, nothing returned. */
	F.stale_reads = 1000;
	F.report_reads = 0;
	o.user_data_wait_ms = 300;
	memset(&c, 0, sizeof(c));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cvm_azure_collect(T, &o, &c), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 299 && ms < 3000); /* the deadline, truncated to ms, plus at most one sleep */
	assert_true(F.report_reads >= 3);
	assert_null(c.hcl_report);

	/* No wait asked (evidence v1, static reports): the report as it is. */
	F.report_reads = 0;
	o.user_data_wait_ms = 0;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(F.report_reads, 1);
	assert_memory_equal(c.hcl_report, F.stale, F.ev.hcl_report_len);
	cvm_azure_collected_free(&c);
	free(F.stale);
	unload();
}

static void test_failures(void **state)
{
	struct cvm_azure_collect_opts o;
	struct cvm_azure_collected c = { 0 };
	uint8_t other[48];

	(void)state;
	load("az-snp-vtpm", "evidence-v2.json", CVM_TEE_AZ_SNP_VTPM);
	o = opts();
	o.skip_user_data = true;
	/* Not an Azure CVM: no HCL report index. */
	F.hcl_present = false;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -ENOENT);
	assert_int_equal(T->last_rc, 0x18B);
	F.hcl_present = true;
	/* The TPM's AK is not HCLAkPub: refused; when allowed, the quote's
	 * signature does not verify with the TPM's key either. */
	F.ak_n[10] ^= 1;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EKEYREJECTED);
	o.allow_ak_mismatch = true;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EBADMSG);
	o.allow_ak_mismatch = false;
	F.ak_n[10] ^= 1;
	/* A quote over another nonce than the one asked for. */
	memcpy(other, F.nonce, 48);
	other[0] ^= 1;
	o.report_data = other;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EBADMSG);
	o.report_data = F.nonce;
	/* PCR 10 changes between quote and read once: quoted again. */
	F.quotes = 0;
	F.glitches = 1;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(F.quotes, 2);
	cvm_azure_collected_free(&c);
	/* ... and every time: -EAGAIN after 3 quotes. */
	F.quotes = 0;
	F.glitches = 100;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EAGAIN);
	assert_int_equal(F.quotes, 3);
	assert_null(c.hcl_report);
	/* Bad options. */
	o.report_data_len = 0;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EINVAL);
	o.report_data_len = 65;
	assert_int_equal(cvm_azure_collect(T, &o, &c), -EINVAL);
	unload();
}

static void test_tdx_v1(void **state)
{
	struct cvm_azure_collect_opts o;
	struct cvm_azure_collected c;
	struct cvm_evidence back = { 0 };
	const uint8_t *tdr;
	char *json = NULL;

	(void)state;
	load("az-tdx-vtpm", "evidence-v1.json", CVM_TEE_AZ_TDX_VTPM);
	o = opts();
	o.skip_user_data = true;
	assert_int_equal(cvm_azure_collect(T, &o, &c), 0);
	assert_int_equal(c.tee, CVM_TEE_AZ_TDX_VTPM);
	/* The TDREPORT for IMDS sits at HCL offset 32. */
	assert_int_equal(cvm_azure_td_report(&c, &tdr), 0);
	assert_ptr_equal(tdr, c.hcl_report + 32);
	assert_int_equal(tdr[0], 0x81); /* REPORTTYPE.TYPE = TDX */
	assert_int_equal(cvm_azure_evidence_build(&c, 1, F.ev.vcek, F.ev.vcek_len, NULL, 0, &json), -EINVAL);
	assert_int_equal(cvm_azure_evidence_build(&c, 1, NULL, 0, F.ev.td_quote, F.ev.td_quote_len, &json), 0);
	assert_int_equal(cvm_evidence_parse(CVM_TEE_AZ_TDX_VTPM, (const uint8_t *)json, strlen(json), &back), 0);
	assert_int_equal(back.version, 1);
	assert_int_equal(back.td_quote_len, F.ev.td_quote_len);
	assert_memory_equal(back.td_quote, F.ev.td_quote, F.ev.td_quote_len);
	assert_memory_equal(back.message, F.ev.message, F.ev.message_len);
	assert_memory_equal(back.pcrs, F.ev.pcrs, sizeof(back.pcrs));
	assert_memory_equal(back.hcl_report, F.ev.hcl_report, F.ev.hcl_report_len);
	cvm_evidence_free(&back);
	free(json);
	cvm_azure_collected_free(&c);
	unload();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snp_v2),
		cmocka_unit_test(test_user_data_index),
		cmocka_unit_test(test_report_regenerated),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_tdx_v1),
	};

	return cmocka_run_group_tests_name("azure", tests, NULL, NULL);
}
