/* Offline Trustee-equivalent verification of Azure vTPM evidence. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/hcl.h"
#include "cvmkit/hex.h"
#include "cvmkit/snp.h"
#include "cvmkit/tdquote.h"
#include "cvmkit/tpmquote.h"
#include "cvmkit/verify.h"
#include "../attest/b64.h"
#include "x509.h"

static const char *const check_names[CVM_CHECK_MAX] = {
	[CVM_CHECK_TPM_QUOTE_FORMAT] = "tpm-quote-format",
	[CVM_CHECK_HCL_REPORT_FORMAT] = "hcl-report-format",
	[CVM_CHECK_RUNTIME_CLAIMS_FORMAT] = "runtime-claims-format",
	[CVM_CHECK_HW_REPORT_FORMAT] = "hw-report-format",
	[CVM_CHECK_AK_SIGNATURE] = "ak-quote-signature",
	[CVM_CHECK_NONCE] = "quote-nonce",
	[CVM_CHECK_PCR_DIGEST] = "pcr-digest",
	[CVM_CHECK_RUNTIME_CLAIMS_HASH] = "runtime-claims-hash",
	[CVM_CHECK_USER_DATA] = "user-data",
	[CVM_CHECK_AMD_CHAIN] = "amd-vcek-chain",
	[CVM_CHECK_VCEK_CHIP_ID] = "vcek-chip-id",
	[CVM_CHECK_VCEK_TCB] = "vcek-tcb",
	[CVM_CHECK_SNP_SIGNATURE] = "snp-report-signature",
	[CVM_CHECK_SNP_VMPL] = "snp-vmpl",
	[CVM_CHECK_TD_QUOTE_SIGNATURE] = "td-quote-signature",
	[CVM_CHECK_TD_QE_REPORT] = "td-qe-report",
	[CVM_CHECK_PCK_CHAIN] = "pck-chain",
	[CVM_CHECK_TD_REPORT_DATA] = "td-quote-report-data",
	[CVM_CHECK_TDX_TCB_STATUS] = "tdx-tcb-status",
	[CVM_CHECK_INIT_DATA] = "init-data",
};

const char *cvm_check_name(enum cvm_check c)
{
	return (unsigned)c < CVM_CHECK_MAX ? check_names[c] : "unknown";
}

const char *cvm_check_status_name(enum cvm_check_status s)
{
	switch (s) {
	case CVM_CHECK_OK: return "ok";
	case CVM_CHECK_FAILED: return "FAILED";
	case CVM_CHECK_SKIPPED: return "skipped";
	case CVM_CHECK_NOT_CHECKED: return "not checked";
	default: return "n/a";
	}
}

static void set(struct cvm_verify_result *res, enum cvm_check c, enum cvm_check_status s, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set(struct cvm_verify_result *res, enum cvm_check c, enum cvm_check_status s, const char *fmt, ...)
{
	va_list ap;

	res->checks[c].status = s;
	res->checks[c].detail[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(res->checks[c].detail, sizeof(res->checks[c].detail), fmt, ap);
		va_end(ap);
	}
	if (s == CVM_CHECK_FAILED && res->first_failure < 0)
		res->first_failure = (int)c;
}

/* Hex of at most 64 bytes into a caller buffer of 129 bytes. */
static const char *hx(const uint8_t *b, size_t n, char out[129])
{
	cvm_hex_encode(b, n > 64 ? 64 : n, out);
	return out;
}

static void check_bytes(struct cvm_verify_result *res, enum cvm_check c, const char *field, const uint8_t *want,
			size_t want_len, const uint8_t *found, size_t found_len)
{
	char a[129], b[129];

	if (want_len == found_len && memcmp(want, found, want_len) == 0)
		set(res, c, CVM_CHECK_OK, NULL);
	else
		set(res, c, CVM_CHECK_FAILED, "%s: expected %s, found %s", field, hx(want, want_len, a),
		    hx(found, found_len, b));
}

/* ------------------------------------------------------------ claims */

static bool add_str(cJSON *o, const char *name, const char *v)
{
	return cJSON_AddStringToObject(o, name, v) != NULL;
}

static bool add_hex(cJSON *o, const char *name, const uint8_t *b, size_t n)
{
	char s[2 * 64 + 1];

	if (n > 64)
		return false;
	cvm_hex_encode(b, n, s);
	return add_str(o, name, s);
}

static bool add_dec(cJSON *o, const char *name, unsigned v)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", v);
	return add_str(o, name, s);
}

static bool add_tf(cJSON *o, const char *name, bool v)
{
	return add_str(o, name, v ? "true" : "false");
}

static cJSON *tpm_claims(const struct cvm_evidence *ev)
{
	cJSON *t = cJSON_CreateObject();

	for (size_t i = 0; t && i < ev->pcr_count; i++) {
		char name[24];
		snprintf(name, sizeof(name), "pcr%02u", (unsigned)i);
		if (!add_hex(t, name, ev->pcrs[i], 32)) {
			cJSON_Delete(t);
			return NULL;
		}
	}
	return t;
}

static cJSON *snp_claims(const struct cvm_snp_report *r)
{
	cJSON *o = cJSON_CreateObject();
	struct cvm_snp_tcb tcb;
	enum cvm_amd_gen gen = CVM_AMD_GEN_MILAN;
	char m[65];
	bool ok;

	if (!o)
		return NULL;
	(void)cvm_snp_report_generation(r, &gen);
	cvm_snp_tcb_decode(r->reported_tcb, gen, &tcb);
	cvm_b64_encode(r->measurement, 48, false, true, m);
	ok = add_dec(o, "policy_abi_major", CVM_SNP_POLICY_ABI_MAJOR(r->policy)) &&
	     add_dec(o, "policy_abi_minor", CVM_SNP_POLICY_ABI_MINOR(r->policy)) &&
	     add_tf(o, "policy_smt_allowed", r->policy & CVM_SNP_POLICY_SMT) &&
	     add_tf(o, "policy_migrate_ma", r->policy & CVM_SNP_POLICY_MIGRATE_MA) &&
	     add_tf(o, "policy_debug_allowed", r->policy & CVM_SNP_POLICY_DEBUG) &&
	     add_tf(o, "policy_single_socket", r->policy & CVM_SNP_POLICY_SINGLE_SOCKET) &&
	     add_dec(o, "reported_tcb_bootloader", tcb.bootloader) && add_dec(o, "reported_tcb_tee", tcb.tee) &&
	     add_dec(o, "reported_tcb_snp", tcb.snp) && add_dec(o, "reported_tcb_microcode", tcb.microcode) &&
	     add_tf(o, "platform_tsme_enabled", r->platform_info & CVM_SNP_PLATFORM_TSME_EN) &&
	     add_tf(o, "platform_smt_enabled", r->platform_info & CVM_SNP_PLATFORM_SMT_EN) &&
	     add_str(o, "measurement", m);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *tdx_claims(const struct cvm_td_quote *q)
{
	cJSON *o = cJSON_CreateObject(), *quote = cJSON_CreateObject(), *h = cJSON_CreateObject(),
	      *b = cJSON_CreateObject(), *a = cJSON_CreateObject();
	uint64_t attr = cvm_le64(q->td_attributes);
	bool ok = o && quote && h && b && a;

	if (ok && q->version == 5) {
		uint8_t t[2], s[4];
		cvm_put_le16(t, q->body_type);
		cvm_put_le32(s, q->body_size);
		ok = add_hex(quote, "type", t, 2) && add_hex(quote, "size", s, 4);
	}
	ok = ok && add_hex(h, "version", q->h_version, 2) && add_hex(h, "att_key_type", q->h_att_key_type, 2) &&
	     add_hex(h, "tee_type", q->h_tee_type, 4) && add_hex(h, "reserved", q->h_reserved, 4) &&
	     add_hex(h, "vendor_id", q->vendor_id, 16) && add_hex(h, "user_data", q->user_data, 20) &&
	     add_hex(b, "tcb_svn", q->tcb_svn, 16) && add_hex(b, "mr_seam", q->mr_seam, 48) &&
	     add_hex(b, "mrsigner_seam", q->mrsigner_seam, 48) && add_hex(b, "seam_attributes", q->seam_attributes, 8) &&
	     add_hex(b, "td_attributes", q->td_attributes, 8) && add_hex(b, "xfam", q->xfam, 8) &&
	     add_hex(b, "mr_td", q->mr_td, 48) && add_hex(b, "mr_config_id", q->mr_config_id, 48) &&
	     add_hex(b, "mr_owner", q->mr_owner, 48) && add_hex(b, "mr_owner_config", q->mr_owner_config, 48) &&
	     add_hex(b, "rtmr_0", q->rtmr[0], 48) && add_hex(b, "rtmr_1", q->rtmr[1], 48) &&
	     add_hex(b, "rtmr_2", q->rtmr[2], 48) && add_hex(b, "rtmr_3", q->rtmr[3], 48) &&
	     add_hex(b, "report_data", q->report_data, 64);
	if (ok && q->body_type == 3)
		ok = add_hex(b, "tee_tcb_svn2", q->tee_tcb_svn2, 16) && add_hex(b, "mr_servicetd", q->mr_servicetd, 48);
	ok = ok && cJSON_AddItemToObject(quote, "header", h) && (h = NULL, cJSON_AddItemToObject(quote, "body", b)) &&
	     (b = NULL, cJSON_AddItemToObject(o, "quote", quote)) && (quote = NULL, true);
	ok = ok && cJSON_AddBoolToObject(a, "debug", attr & (1ull << 0)) &&
	     cJSON_AddBoolToObject(a, "key_locker", attr & (1ull << 31)) &&
	     cJSON_AddBoolToObject(a, "perfmon", attr & (1ull << 63)) &&
	     cJSON_AddBoolToObject(a, "protection_keys", attr & (1ull << 30)) &&
	     cJSON_AddBoolToObject(a, "septve_disable", attr & (1ull << 28)) && cJSON_AddItemToObject(o, "td_attributes", a) &&
	     (a = NULL, true);
	cJSON_Delete(h);
	cJSON_Delete(b);
	cJSON_Delete(quote);
	cJSON_Delete(a);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Wraps TEE claims into Trustee's policy-input layout. */
static int finish_claims(const struct cvm_evidence *ev, const struct cvm_tpms_attest *a, cJSON *tee_claims,
			 struct cvm_verify_result *res)
{
	cJSON *root = cJSON_CreateObject(), *tpm = tpm_claims(ev);
	int r = -ENOMEM;

	if (!root || !tee_claims || !tpm)
		goto out;
	if (!cJSON_AddItemToObject(tee_claims, "tpm", tpm))
		goto out;
	tpm = NULL;
	if (!cJSON_AddItemToObject(root, cvm_tee_name(ev->tee), tee_claims))
		goto out;
	tee_claims = NULL;
	/* init_data is PCR 8 whether or not init-data was sent (Trustee's
	 * behaviour); with fewer than 9 PCRs there is none. */
	if (ev->pcr_count > 8 && !add_hex(root, "init_data", ev->pcrs[8], 32))
		goto out;
	if (!add_hex(root, "report_data", a->extra_data, a->extra_data_len))
		goto out;
	res->claims_json = cJSON_PrintUnformatted(root);
	r = res->claims_json ? 0 : -ENOMEM;
out:
	cJSON_Delete(tpm);
	cJSON_Delete(tee_claims);
	cJSON_Delete(root);
	return r;
}

/* ------------------------------------------------------------ checks */

static void vtpm_checks(const struct cvm_evidence *ev, const struct cvm_verify_opts *o, const struct cvm_tpms_attest *a,
			const struct cvm_hcl_report *h, const struct cvm_runtime_claims *rc, struct cvm_verify_result *res)
{
	uint8_t d[32];
	char x[129], y[129];
	int r;

	r = cvm_tpm_quote_verify(ev->message, ev->message_len, ev->signature, ev->signature_len, rc->ak_n, rc->ak_n_len,
				 rc->ak_e, rc->ak_e_len);
	if (r == 0)
		set(res, CVM_CHECK_AK_SIGNATURE, CVM_CHECK_OK, NULL);
	else
		set(res, CVM_CHECK_AK_SIGNATURE, CVM_CHECK_FAILED,
		    "tpm_quote.signature: RSASSA-PKCS1-v1_5/SHA-256 over tpm_quote.message does not verify with HCLAkPub (%s)",
		    r == -EINVAL ? "unusable key" : "bad signature");

	if (o->report_data)
		check_bytes(res, CVM_CHECK_NONCE, "TPMS_ATTEST.extraData", o->report_data, o->report_data_len,
			    a->extra_data, a->extra_data_len);
	else
		set(res, CVM_CHECK_NONCE, CVM_CHECK_SKIPPED, "no --report-data given; quote nonce is %s",
		    hx(a->extra_data, a->extra_data_len, x));

	if (a->pcr_digest_len != 32 || ev->pcr_count == 0 ||
	    cvm_tpm_pcr_digest((const uint8_t(*)[32])ev->pcrs, ev->pcr_count, d) < 0)
		set(res, CVM_CHECK_PCR_DIGEST, CVM_CHECK_FAILED, "TPMS_ATTEST.pcrDigest: not a SHA-256 digest of %zu PCRs",
		    ev->pcr_count);
	else if (memcmp(d, a->pcr_digest, 32) != 0)
		set(res, CVM_CHECK_PCR_DIGEST, CVM_CHECK_FAILED,
		    "TPMS_ATTEST.pcrDigest: expected SHA-256(pcrs) %s, found %s", hx(d, 32, x), hx(a->pcr_digest, 32, y));
	else
		set(res, CVM_CHECK_PCR_DIGEST, CVM_CHECK_OK, NULL);

	r = cvm_hcl_check_binding(h, d);
	if (r == 0) {
		set(res, CVM_CHECK_RUNTIME_CLAIMS_HASH, CVM_CHECK_OK, NULL);
	} else if (r == -EOPNOTSUPP) {
		set(res, CVM_CHECK_RUNTIME_CLAIMS_HASH, CVM_CHECK_FAILED,
		    "hcl_report report_data_hash_type: expected 1 (SHA-256), found %u", h->hash_type);
	} else {
		const uint8_t *rd = NULL;
		(void)cvm_hcl_report_data(h, &rd);
		set(res, CVM_CHECK_RUNTIME_CLAIMS_HASH, CVM_CHECK_FAILED,
		    "hardware REPORT_DATA[0..32): expected SHA-256(runtime claims) %s, found %s", hx(d, 32, x),
		    rd ? hx(rd, 32, y) : "?");
	}

	if (ev->version < 2)
		set(res, CVM_CHECK_USER_DATA, CVM_CHECK_SKIPPED, "evidence version %d carries no nonce-bound HCL report",
		    ev->version);
	else if (!o->report_data)
		set(res, CVM_CHECK_USER_DATA, CVM_CHECK_SKIPPED, "no --report-data given");
	else if (!rc->has_user_data || rc->user_data_len < o->report_data_len)
		set(res, CVM_CHECK_USER_DATA, CVM_CHECK_FAILED, "runtime claims user-data: absent or shorter than %zu bytes",
		    o->report_data_len);
	else
		check_bytes(res, CVM_CHECK_USER_DATA, "runtime claims user-data prefix", o->report_data,
			    o->report_data_len, rc->user_data, o->report_data_len);

	if (!o->init_data_digest) {
		set(res, CVM_CHECK_INIT_DATA, CVM_CHECK_SKIPPED, "no init-data digest given");
	} else if (ev->pcr_count <= 8) {
		set(res, CVM_CHECK_INIT_DATA, CVM_CHECK_FAILED, "tpm.pcr08: not in the quote");
	} else {
		uint8_t pcr[32] = { 0 };
		if (cvm_pcr_extend(CVM_HASH_SHA256, pcr, o->init_data_digest) < 0)
			set(res, CVM_CHECK_INIT_DATA, CVM_CHECK_FAILED, "hashing failed");
		else
			check_bytes(res, CVM_CHECK_INIT_DATA, "tpm.pcr08", pcr, 32, ev->pcrs[8], 32);
	}
}

static void snp_checks(const struct cvm_evidence *ev, const struct cvm_verify_opts *o, const struct cvm_snp_report *s,
		       struct cvm_verify_result *res)
{
	enum cvm_amd_gen gen;
	struct cvm_vcek_info vi;
	const char *step = NULL;
	int r = cvm_snp_report_generation(s, &gen);

	if (r == -ENODATA) {
		set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_FAILED,
		    "SNP report version %u has no CPUID bytes: the AMD generation cannot be chosen", s->version);
	} else if (r < 0) {
		set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_FAILED, "SNP report CPUID family 0x%02x model 0x%02x: unknown AMD generation",
		    s->cpuid_fam_id, s->cpuid_mod_id);
	} else {
		r = o->amd_root_pem ? cvm_amd_verify_vcek_chain_pem(ev->vcek, ev->vcek_len, o->amd_root_pem, &step)
				    : cvm_amd_verify_vcek_chain(ev->vcek, ev->vcek_len, gen, &step);
		if (r == 0)
			set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_OK, "%s%s", cvm_amd_gen_name(gen),
			    o->amd_root_pem ? " (caller-supplied root, not AMD's)" : "");
		else if (r == -EINVAL)
			set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_FAILED, "caller-supplied AMD root: not a PEM bundle of ASK and ARK");
		else if (r == -EKEYREJECTED)
			set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_FAILED, "%s chain: %s failed", cvm_amd_gen_name(gen), step);
		else
			set(res, CVM_CHECK_AMD_CHAIN, CVM_CHECK_FAILED, "vcek: not a parsable X.509 certificate");
	}

	r = cvm_vcek_parse(ev->vcek, ev->vcek_len, &vi);
	if (r < 0) {
		set(res, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_FAILED, "vcek: not a parsable AMD certificate");
		set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_FAILED, "vcek: not a parsable AMD certificate");
	} else if (strcmp(vi.cn, "SEV-VCEK") != 0) {
		/* Trustee compares the extensions only for a VCEK (not a VLEK). */
		set(res, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_SKIPPED, "certificate CN is \"%s\", not SEV-VCEK", vi.cn);
		set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_SKIPPED, "certificate CN is \"%s\", not SEV-VCEK", vi.cn);
	} else {
		struct cvm_snp_tcb t;
		char a[129], b[129];

		if (!vi.has_hwid)
			set(res, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_FAILED, "vcek hwID extension (1.3.6.1.4.1.3704.1.4): absent");
		else if (memcmp(vi.hwid, s->chip_id, 64) != 0)
			set(res, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_FAILED, "vcek hwID: expected CHIP_ID %s, found %s",
			    hx(s->chip_id, 64, a), hx(vi.hwid, 64, b));
		else
			set(res, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_OK, NULL);
		if (cvm_snp_report_generation(s, &gen) < 0)
			gen = CVM_AMD_GEN_MILAN;
		cvm_snp_tcb_decode(s->reported_tcb, gen, &t);
		if (vi.bl_spl != t.bootloader)
			set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_FAILED, "vcek blSPL: expected REPORTED_TCB boot loader %u, found %d",
			    t.bootloader, vi.bl_spl);
		else if (vi.tee_spl != t.tee)
			set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_FAILED, "vcek teeSPL: expected REPORTED_TCB TEE %u, found %d",
			    t.tee, vi.tee_spl);
		else if (vi.snp_spl != t.snp)
			set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_FAILED, "vcek snpSPL: expected REPORTED_TCB SNP %u, found %d",
			    t.snp, vi.snp_spl);
		else if (vi.ucode_spl != t.microcode)
			set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_FAILED,
			    "vcek ucodeSPL: expected REPORTED_TCB microcode %u, found %d", t.microcode, vi.ucode_spl);
		else
			set(res, CVM_CHECK_VCEK_TCB, CVM_CHECK_OK, NULL);
	}

	r = cvm_snp_report_verify(s, ev->vcek, ev->vcek_len);
	if (r == 0)
		set(res, CVM_CHECK_SNP_SIGNATURE, CVM_CHECK_OK, NULL);
	else if (r == -EOPNOTSUPP)
		set(res, CVM_CHECK_SNP_SIGNATURE, CVM_CHECK_FAILED, "SNP report SIGNATURE_ALGO: expected 1, found %u",
		    s->sig_algo);
	else if (r == -EBADMSG)
		set(res, CVM_CHECK_SNP_SIGNATURE, CVM_CHECK_FAILED, "vcek: no ECDSA P-384 public key");
	else
		set(res, CVM_CHECK_SNP_SIGNATURE, CVM_CHECK_FAILED,
		    "SNP report SIGNATURE: ECDSA P-384/SHA-384 over bytes 0x000-0x29f does not verify with the VCEK");

	if (s->vmpl == 0)
		set(res, CVM_CHECK_SNP_VMPL, CVM_CHECK_OK, NULL);
	else
		set(res, CVM_CHECK_SNP_VMPL, CVM_CHECK_FAILED, "SNP report VMPL: expected 0, found %u", s->vmpl);
}

static void tdx_checks(const struct cvm_verify_opts *o, const struct cvm_td_quote *q, const struct cvm_hcl_report *h,
		       struct cvm_verify_result *res)
{
	const char *step = NULL;
	uint8_t d[32];
	int r;

	if (cvm_td_quote_verify_signature(q) == 0)
		set(res, CVM_CHECK_TD_QUOTE_SIGNATURE, CVM_CHECK_OK, NULL);
	else
		set(res, CVM_CHECK_TD_QUOTE_SIGNATURE, CVM_CHECK_FAILED,
		    "td_quote signature: ECDSA P-256 over header and TD report body does not verify with the attestation key");
	r = cvm_td_quote_verify_qe(q, &step);
	if (r == 0)
		set(res, CVM_CHECK_TD_QE_REPORT, CVM_CHECK_OK, NULL);
	else if (r == -EKEYREJECTED)
		set(res, CVM_CHECK_TD_QE_REPORT, CVM_CHECK_FAILED, "td_quote QE report: %s failed", step);
	else
		set(res, CVM_CHECK_TD_QE_REPORT, CVM_CHECK_FAILED, "td_quote PCK certificate chain: not parsable");
	r = cvm_td_quote_verify_pck_chain(q, o->intel_root_pem, &step);
	if (r == 0)
		set(res, CVM_CHECK_PCK_CHAIN, CVM_CHECK_OK, NULL);
	else if (r == -EKEYREJECTED)
		set(res, CVM_CHECK_PCK_CHAIN, CVM_CHECK_FAILED, "td_quote PCK chain: %s failed", step);
	else
		set(res, CVM_CHECK_PCK_CHAIN, CVM_CHECK_FAILED, "td_quote PCK chain: not three parsable certificates");
	if (cvm_hash(CVM_HASH_SHA256, h->var_data, h->var_data_size, d) < 0)
		set(res, CVM_CHECK_TD_REPORT_DATA, CVM_CHECK_FAILED, "hashing failed");
	else
		check_bytes(res, CVM_CHECK_TD_REPORT_DATA, "td_quote report_data[0..32) vs SHA-256(runtime claims)", d, 32,
			    q->report_data, 32);
	set(res, CVM_CHECK_TDX_TCB_STATUS, CVM_CHECK_NOT_CHECKED,
	    "TCB status needs Intel PCS collateral (TCB info, QE identity, CRLs); not evaluated offline");
}

int cvm_verify_evidence(const struct cvm_evidence *ev, const struct cvm_verify_opts *o, struct cvm_verify_result *res)
{
	static const enum cvm_check dependent_snp[] = {
		CVM_CHECK_AK_SIGNATURE, CVM_CHECK_NONCE, CVM_CHECK_PCR_DIGEST, CVM_CHECK_RUNTIME_CLAIMS_HASH,
		CVM_CHECK_USER_DATA, CVM_CHECK_AMD_CHAIN, CVM_CHECK_VCEK_CHIP_ID, CVM_CHECK_VCEK_TCB,
		CVM_CHECK_SNP_SIGNATURE, CVM_CHECK_SNP_VMPL, CVM_CHECK_INIT_DATA,
	};
	static const enum cvm_check dependent_tdx[] = {
		CVM_CHECK_AK_SIGNATURE, CVM_CHECK_NONCE, CVM_CHECK_PCR_DIGEST, CVM_CHECK_RUNTIME_CLAIMS_HASH,
		CVM_CHECK_USER_DATA, CVM_CHECK_TD_QUOTE_SIGNATURE, CVM_CHECK_TD_QE_REPORT, CVM_CHECK_PCK_CHAIN,
		CVM_CHECK_TD_REPORT_DATA, CVM_CHECK_TDX_TCB_STATUS, CVM_CHECK_INIT_DATA,
	};
	bool snp = ev->tee == CVM_TEE_AZ_SNP_VTPM;
	uint32_t want_type = snp ? CVM_HCL_REPORT_SNP : CVM_HCL_REPORT_TDX;
	struct cvm_tpms_attest a;
	struct cvm_hcl_report h;
	struct cvm_runtime_claims *rc = NULL;
	struct cvm_snp_report *s = NULL;
	struct cvm_td_quote *q = NULL;
	bool formats_ok = true;
	int r;

	memset(res, 0, sizeof(*res));
	res->first_failure = -1;
	if (o->report_data && (o->report_data_len == 0 || o->report_data_len > 64))
		return -EINVAL;
	/* The large structs live on the heap: this runs in PID 1 too. */
	rc = malloc(sizeof(*rc));
	s = malloc(sizeof(*s));
	q = malloc(sizeof(*q));
	if (!rc || !s || !q) {
		r = -ENOMEM;
		goto out;
	}

	if (cvm_tpms_attest_parse(ev->message, ev->message_len, &a) == 0) {
		set(res, CVM_CHECK_TPM_QUOTE_FORMAT, CVM_CHECK_OK, NULL);
	} else {
		set(res, CVM_CHECK_TPM_QUOTE_FORMAT, CVM_CHECK_FAILED,
		    "tpm_quote.message: not a TPMS_ATTEST of a quote (TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE)");
		formats_ok = false;
	}
	r = cvm_hcl_report_parse(ev->hcl_report, ev->hcl_report_len, &h);
	if (r == 0 && h.report_type != want_type) {
		set(res, CVM_CHECK_HCL_REPORT_FORMAT, CVM_CHECK_FAILED, "hcl_report report_type: expected %u (%s), found %u",
		    want_type, snp ? "SNP" : "TDX", h.report_type);
		formats_ok = false;
	} else if (r < 0) {
		set(res, CVM_CHECK_HCL_REPORT_FORMAT, CVM_CHECK_FAILED,
		    "hcl_report: not an HCL report (signature \"HCLA\", sizes within %zu bytes)", ev->hcl_report_len);
		formats_ok = false;
	} else {
		set(res, CVM_CHECK_HCL_REPORT_FORMAT, CVM_CHECK_OK, NULL);
	}
	if (res->checks[CVM_CHECK_HCL_REPORT_FORMAT].status == CVM_CHECK_OK) {
		r = cvm_runtime_claims_parse(h.var_data, h.var_data_size, rc);
		if (r == 0) {
			set(res, CVM_CHECK_RUNTIME_CLAIMS_FORMAT, CVM_CHECK_OK, NULL);
		} else {
			set(res, CVM_CHECK_RUNTIME_CLAIMS_FORMAT, CVM_CHECK_FAILED, "runtime claims: %s",
			    r == -ENOKEY ? "no RSA JWK with kid \"HCLAkPub\"" : "not valid JSON of the expected shape");
			formats_ok = false;
		}
	} else {
		set(res, CVM_CHECK_RUNTIME_CLAIMS_FORMAT, CVM_CHECK_SKIPPED, NULL);
	}
	if (snp) {
		if (res->checks[CVM_CHECK_HCL_REPORT_FORMAT].status != CVM_CHECK_OK)
			set(res, CVM_CHECK_HW_REPORT_FORMAT, CVM_CHECK_SKIPPED, NULL);
		else if (cvm_snp_report_parse(h.hw_report, CVM_HCL_HW_REPORT_SIZE, s) == 0)
			set(res, CVM_CHECK_HW_REPORT_FORMAT, CVM_CHECK_OK, NULL);
		else {
			set(res, CVM_CHECK_HW_REPORT_FORMAT, CVM_CHECK_FAILED, "SNP report VERSION: expected 2..5, found %u",
			    cvm_le32(h.hw_report));
			formats_ok = false;
		}
	} else {
		r = cvm_td_quote_parse(ev->td_quote, ev->td_quote_len, q);
		if (r == 0) {
			set(res, CVM_CHECK_HW_REPORT_FORMAT, CVM_CHECK_OK, NULL);
		} else {
			set(res, CVM_CHECK_HW_REPORT_FORMAT, CVM_CHECK_FAILED, "td_quote: %s",
			    r == -EPROTONOSUPPORT ? "not a TDX v4/v5 ECDSA-P256 quote with a PCK chain"
						  : "truncated or inconsistent lengths");
			formats_ok = false;
		}
	}
	if (!formats_ok) {
		const enum cvm_check *d = snp ? dependent_snp : dependent_tdx;
		size_t n = snp ? CVM_ARRAY_SIZE(dependent_snp) : CVM_ARRAY_SIZE(dependent_tdx);
		for (size_t i = 0; i < n; i++)
			set(res, d[i], CVM_CHECK_SKIPPED, "evidence malformed");
		r = -EKEYREJECTED;
		goto out;
	}

	vtpm_checks(ev, o, &a, &h, rc, res);
	if (snp)
		snp_checks(ev, o, s, res);
	else
		tdx_checks(o, q, &h, res);
	r = finish_claims(ev, &a, snp ? snp_claims(s) : tdx_claims(q), res);
	if (r < 0)
		goto out;
	r = res->first_failure < 0 ? 0 : -EKEYREJECTED;
out:
	free(rc);
	free(s);
	free(q);
	return r;
}

void cvm_verify_result_free(struct cvm_verify_result *res)
{
	free(res->claims_json);
	res->claims_json = NULL;
}
