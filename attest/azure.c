/* Azure vTPM evidence collection on top of tpm2.c.  The order of operations
 * is the guest tooling's (write user data, wait, read the HCL report, quote,
 * read PCRs); every piece is checked here so that a guest learns about a
 * broken vTPM before a verifier rejects its evidence. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cvmkit/azure.h"
#include "cvmkit/hcl.h"
#include "cvmkit/tpmquote.h"

#define QUOTE_ATTEMPTS 3
#define PCR_ALL 0xFFFFFFu
/* Re-reads of the HCL report start this far apart and back off to the cap:
 * a regenerated report is usually there at once, and a slow paravisor is not
 * worth hammering. */
#define POLL_FIRST_MS 10u
#define POLL_MAX_MS 200u

int cvm_azure_write_user_data(struct cvm_tpm2 *t, const uint8_t *data, size_t len)
{
	struct cvm_tpm2_nv_public nv;
	int r;

	if (len == 0 || len > 64)
		return -EINVAL;
	r = cvm_tpm2_nv_read_public(t, CVM_TPM2_AZURE_USER_DATA_NV, &nv);
	if (r == 0 && nv.data_size != len) {
		r = cvm_tpm2_nv_undefine(t, CVM_TPM2_AZURE_USER_DATA_NV);
		if (r < 0)
			return r;
		r = -ENOENT;
	}
	if (r == -ENOENT)
		r = cvm_tpm2_nv_define(t, CVM_TPM2_AZURE_USER_DATA_NV, CVM_TPMA_NV_OWNERWRITE | CVM_TPMA_NV_OWNERREAD,
				       (uint16_t)len);
	if (r < 0)
		return r;
	return cvm_tpm2_nv_write(t, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_USER_DATA_NV, 0, data, len);
}

int cvm_azure_read_hcl_report(struct cvm_tpm2 *t, uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_tpm2_nv_public nv;
	uint8_t *buf = NULL;
	int r;

	r = cvm_tpm2_nv_read_public(t, CVM_TPM2_AZURE_HCL_REPORT_NV, &nv);
	if (r < 0)
		goto out;
	if (nv.data_size > CVM_AZURE_HCL_NV_MAX) {
		r = -EFBIG;
		goto out;
	}
	if (nv.data_size < CVM_HCL_VAR_DATA_OFFSET) {
		r = -EBADMSG;
		goto out;
	}
	buf = malloc(nv.data_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = cvm_tpm2_nv_read(t, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_HCL_REPORT_NV, 0, buf, nv.data_size);
	if (r < 0)
		goto out;
	*ret_buf = buf;
	*ret_len = nv.data_size;
	buf = NULL;
out:
	free(buf);
	return r;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads and parses the HCL report into C (buffer), *h and *rc.  With a wait,
 * re-reads it until the runtime claims' user-data starts with the report data: the
 * paravisor regenerates the report asynchronously after the user-data write,
 * and a report read too early carries the previous nonce.  A report that
 * does not parse may be one caught mid-update, so it is retried too; at the
 * deadline its error is returned, or -ETIMEDOUT for a stale one. */
static int read_report(struct cvm_tpm2 *t, const struct cvm_azure_collect_opts *o, struct cvm_azure_collected *c,
		       struct cvm_hcl_report *h, struct cvm_runtime_claims *rc)
{
	uint64_t deadline = now_ms() + o->user_data_wait_ms;
	unsigned delay = POLL_FIRST_MS;
	int r;

	for (;;) {
		uint64_t now;

		free(c->hcl_report);
		c->hcl_report = NULL;
		r = cvm_azure_read_hcl_report(t, &c->hcl_report, &c->hcl_report_len);
		if (r == 0)
			r = cvm_hcl_report_parse(c->hcl_report, c->hcl_report_len, h);
		if (r == 0) {
			r = cvm_runtime_claims_parse(h->var_data, h->var_data_size, rc);
			if (r == -ENOKEY)
				r = -EBADMSG;
		}
		/* TPM errors are not a report caught mid-update. */
		if ((r < 0 && r != -EBADMSG) || o->user_data_wait_ms == 0)
			return r;
		/* The paravisor pads user-data to 64 bytes; Trustee checks the prefix. */
		if (r == 0 && rc->has_user_data && rc->user_data_len >= o->report_data_len &&
		    memcmp(rc->user_data, o->report_data, o->report_data_len) == 0)
			return 0;
		now = now_ms();
		if (now >= deadline)
			return r < 0 ? r : -ETIMEDOUT;
		sleep_ms((unsigned)(deadline - now < delay ? deadline - now : delay));
		delay = delay * 2 < POLL_MAX_MS ? delay * 2 : POLL_MAX_MS;
	}
}

/* A TPM public exponent of 0 means 65537; a JWK spells it out. */
static bool same_exponent(uint32_t tpm_e, const uint8_t *e, size_t e_len)
{
	uint64_t v = 0;

	if (tpm_e == 0)
		tpm_e = 65537;
	for (size_t i = 0; i < e_len; i++) {
		if (v >> 48)
			return false;
		v = v << 8 | e[i];
	}
	return v == tpm_e;
}

static bool same_modulus(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	while (al && !*a) {
		a++;
		al--;
	}
	while (bl && !*b) {
		b++;
		bl--;
	}
	return al == bl && memcmp(a, b, al) == 0;
}

/* One quote plus the PCR read that must match it: 0, -EAGAIN when a PCR
 * changed in between, -EBADMSG when the quote itself is wrong. */
static int quote_once(struct cvm_tpm2 *t, uint32_t ak, const struct cvm_azure_collect_opts *o,
		      const struct cvm_tpm2_public *pub, struct cvm_azure_collected *c)
{
	struct cvm_tpm2_quote q;
	uint8_t pcrs[CVM_TPM2_PCR_COUNT][64], digest[32];
	uint8_t e[4];
	struct cvm_tpms_attest a;
	uint32_t ev;
	int r;

	r = cvm_tpm2_quote(t, ak, o->report_data, o->report_data_len, CVM_TPM2_ALG_SHA256, PCR_ALL, &q);
	if (r < 0)
		return r;
	if (q.sig_alg != CVM_TPM2_ALG_RSASSA || q.sig_hash != CVM_TPM2_ALG_SHA256)
		return -EOPNOTSUPP;
	if (cvm_tpms_attest_parse(q.attest, q.attest_len, &a) < 0 || a.extra_data_len != o->report_data_len ||
	    memcmp(a.extra_data, o->report_data, o->report_data_len) != 0 ||
	    a.signer_len != pub->qualified_name_len || memcmp(a.signer, pub->qualified_name, a.signer_len) != 0 ||
	    a.pcr_digest_len != 32)
		return -EBADMSG;
	ev = pub->exponent ? pub->exponent : 65537;
	e[0] = (uint8_t)(ev >> 24);
	e[1] = (uint8_t)(ev >> 16);
	e[2] = (uint8_t)(ev >> 8);
	e[3] = (uint8_t)ev;
	if (cvm_tpm_quote_verify(q.attest, q.attest_len, q.sig, q.sig_len, pub->n, pub->n_len, e, 4) < 0)
		return -EBADMSG;
	r = cvm_tpm2_pcr_read(t, CVM_TPM2_ALG_SHA256, PCR_ALL, pcrs);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < CVM_TPM2_PCR_COUNT; i++)
		memcpy(c->pcrs[i], pcrs[i], 32);
	r = cvm_tpm_pcr_digest((const uint8_t(*)[32])c->pcrs, CVM_TPM2_PCR_COUNT, digest);
	if (r < 0)
		return r;
	if (memcmp(digest, a.pcr_digest, 32) != 0)
		return -EAGAIN;
	memcpy(c->attest, q.attest, q.attest_len);
	c->attest_len = q.attest_len;
	memcpy(c->signature, q.sig, q.sig_len);
	c->signature_len = q.sig_len;
	return 0;
}

int cvm_azure_collect(struct cvm_tpm2 *t, const struct cvm_azure_collect_opts *o, struct cvm_azure_collected *ret)
{
	struct cvm_runtime_claims rc;
	struct cvm_azure_collected c = { 0 };
	struct cvm_hcl_report h;
	struct cvm_tpm2_public pub;
	uint32_t ak = o->ak_handle ? o->ak_handle : CVM_TPM2_AZURE_AK;
	int r;

	if (!o->report_data || o->report_data_len == 0 || o->report_data_len > 64)
		return -EINVAL;
	if (!o->skip_user_data) {
		r = cvm_azure_write_user_data(t, o->report_data, o->report_data_len);
		if (r < 0)
			goto out;
	}
	r = read_report(t, o, &c, &h, &rc);
	if (r < 0)
		goto out;
	if (h.report_type == CVM_HCL_REPORT_SNP)
		c.tee = CVM_TEE_AZ_SNP_VTPM;
	else if (h.report_type == CVM_HCL_REPORT_TDX)
		c.tee = CVM_TEE_AZ_TDX_VTPM;
	else {
		r = -EOPNOTSUPP;
		goto out;
	}
	r = cvm_tpm2_read_public(t, ak, &pub);
	if (r < 0)
		goto out;
	if (pub.type != CVM_TPM2_ALG_RSA) {
		r = -EOPNOTSUPP;
		goto out;
	}
	c.ak_matches = same_modulus(pub.n, pub.n_len, rc.ak_n, rc.ak_n_len) &&
		       same_exponent(pub.exponent, rc.ak_e, rc.ak_e_len);
	if (!c.ak_matches && !o->allow_ak_mismatch) {
		r = -EKEYREJECTED;
		goto out;
	}
	r = -EAGAIN;
	for (int i = 0; i < QUOTE_ATTEMPTS && r == -EAGAIN; i++)
		r = quote_once(t, ak, o, &pub, &c);
	if (r < 0)
		goto out;
	*ret = c;
	c.hcl_report = NULL;
out:
	free(c.hcl_report);
	return r;
}

void cvm_azure_collected_free(struct cvm_azure_collected *c)
{
	free(c->hcl_report);
	c->hcl_report = NULL;
	c->hcl_report_len = 0;
}

int cvm_azure_td_report(const struct cvm_azure_collected *c, const uint8_t **ret_td_report)
{
	struct cvm_td_report tdr;

	if (c->tee != CVM_TEE_AZ_TDX_VTPM || c->hcl_report_len < CVM_HCL_HW_REPORT_OFFSET + CVM_TD_REPORT_SIZE)
		return -EOPNOTSUPP;
	/* IMDS answers a slot that holds no TDREPORT with an opaque error:
	 * say what is wrong before asking it. */
	if (cvm_td_report_parse(c->hcl_report + CVM_HCL_HW_REPORT_OFFSET, CVM_TD_REPORT_SIZE, &tdr) < 0)
		return -EBADMSG;
	*ret_td_report = c->hcl_report + CVM_HCL_HW_REPORT_OFFSET;
	return 0;
}

int cvm_azure_evidence_build(const struct cvm_azure_collected *c, int version, const uint8_t *vcek_der,
			     size_t vcek_len, const uint8_t *td_quote, size_t td_quote_len, char **ret_json)
{
	struct cvm_evidence ev = { 0 };

	if (version != 1 && version != 2)
		return -EINVAL;
	if (c->tee == CVM_TEE_AZ_SNP_VTPM ? !vcek_der || !vcek_len : !td_quote || !td_quote_len)
		return -EINVAL;
	/* The builder only reads: the casts drop const for struct cvm_evidence's
	 * owning pointers, nothing is freed. */
	ev.tee = c->tee;
	ev.version = version;
	ev.signature = (uint8_t *)c->signature;
	ev.signature_len = c->signature_len;
	ev.message = (uint8_t *)c->attest;
	ev.message_len = c->attest_len;
	memcpy(ev.pcrs, c->pcrs, sizeof(ev.pcrs));
	ev.pcr_count = CVM_TPM2_PCR_COUNT;
	ev.hcl_report = c->hcl_report;
	ev.hcl_report_len = c->hcl_report_len;
	if (c->tee == CVM_TEE_AZ_SNP_VTPM) {
		ev.vcek = (uint8_t *)vcek_der;
		ev.vcek_len = vcek_len;
	} else {
		ev.td_quote = (uint8_t *)td_quote;
		ev.td_quote_len = td_quote_len;
	}
	return cvm_evidence_build(&ev, ret_json);
}
