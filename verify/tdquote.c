/* TDX quote v4/v5 parsing and offline signature-chain verification. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/tdquote.h"
#include "../attest/crypto.h"
#include "../attest/reader.h"
#include "roots.h"
#include "x509.h"

#define CERT_TYPE_PCK_CHAIN 5
#define CERT_TYPE_QE_REPORT 6
#define QE_REPORT_SIZE 384
#define QE_REPORT_DATA_OFFSET 320

static void body(struct cvm_td_quote *q, const uint8_t *b, int tdx15)
{
	memcpy(q->tcb_svn, b, 16);
	memcpy(q->mr_seam, b + 16, 48);
	memcpy(q->mrsigner_seam, b + 64, 48);
	memcpy(q->seam_attributes, b + 112, 8);
	memcpy(q->td_attributes, b + 120, 8);
	memcpy(q->xfam, b + 128, 8);
	memcpy(q->mr_td, b + 136, 48);
	memcpy(q->mr_config_id, b + 184, 48);
	memcpy(q->mr_owner, b + 232, 48);
	memcpy(q->mr_owner_config, b + 280, 48);
	for (int i = 0; i < 4; i++)
		memcpy(q->rtmr[i], b + 328 + 48 * i, 48);
	memcpy(q->report_data, b + 520, 64);
	if (tdx15) {
		memcpy(q->tee_tcb_svn2, b + 584, 16);
		memcpy(q->mr_servicetd, b + 600, 48);
	}
}

int cvm_td_quote_parse(const uint8_t *buf, size_t len, struct cvm_td_quote *ret)
{
	struct cvm_td_quote q;
	struct rd r, sig, cert;
	const uint8_t *h, *b;
	size_t body_len = CVM_TD_QUOTE_BODY_V4_SIZE;
	uint32_t cert_len, inner_len;
	uint16_t cert_type, inner_type;

	if (len > CVM_TD_QUOTE_MAX_SIZE)
		return -EFBIG;
	if (!buf)
		return -EBADMSG;
	r = rd_init(buf, len);
	h = rd_take(&r, CVM_TD_QUOTE_HEADER_SIZE);
	if (!h)
		return -EBADMSG;
	memset(&q, 0, sizeof(q));
	q.version = cvm_le16(h);
	q.att_key_type = cvm_le16(h + 2);
	q.tee_type = cvm_le32(h + 4);
	memcpy(q.h_version, h, 2);
	memcpy(q.h_att_key_type, h + 2, 2);
	memcpy(q.h_tee_type, h + 4, 4);
	memcpy(q.h_reserved, h + 8, 4);
	memcpy(q.vendor_id, h + 12, 16);
	memcpy(q.user_data, h + 28, 20);
	if ((q.version != 4 && q.version != 5) || q.tee_type != CVM_TD_TEE_TYPE ||
	    q.att_key_type != CVM_TD_ATT_KEY_ECDSA_P256)
		return -EPROTONOSUPPORT;
	if (q.version == 5) {
		q.body_type = rd_le16(&r);
		q.body_size = rd_le32(&r);
		if (r.err)
			return -EBADMSG;
		if (q.body_type == 2 && q.body_size == CVM_TD_QUOTE_BODY_V4_SIZE)
			body_len = CVM_TD_QUOTE_BODY_V4_SIZE;
		else if (q.body_type == 3 && q.body_size == CVM_TD_QUOTE_BODY_15_SIZE)
			body_len = CVM_TD_QUOTE_BODY_15_SIZE;
		else
			return -EPROTONOSUPPORT;
	}
	b = rd_take(&r, body_len);
	if (!b)
		return -EBADMSG;
	body(&q, b, body_len == CVM_TD_QUOTE_BODY_15_SIZE);
	q.signed_data = buf;
	q.signed_len = r.off;

	/* From here on read only inside the declared signature data, and then
	 * inside the declared certification data. */
	sig = rd_sub(&r, rd_le32(&r));
	q.signature = rd_take(&sig, 64);
	q.attest_key = rd_take(&sig, 64);
	cert_type = rd_le16(&sig);
	cert_len = rd_le32(&sig);
	if (sig.err)
		return -EBADMSG;
	if (cert_type != CERT_TYPE_QE_REPORT)
		return -EPROTONOSUPPORT;
	cert = rd_sub(&sig, cert_len);
	q.qe_report = rd_take(&cert, QE_REPORT_SIZE);
	q.qe_report_signature = rd_take(&cert, 64);
	q.qe_auth_len = rd_le16(&cert);
	q.qe_auth_data = rd_take(&cert, q.qe_auth_len);
	inner_type = rd_le16(&cert);
	inner_len = rd_le32(&cert);
	if (cert.err)
		return -EBADMSG;
	if (inner_type != CERT_TYPE_PCK_CHAIN)
		return -EPROTONOSUPPORT;
	q.pck_chain = rd_take(&cert, inner_len);
	if (!q.pck_chain)
		return -EBADMSG;
	q.pck_chain_len = inner_len;
	*ret = q;
	return 0;
}

int cvm_td_quote_verify_signature(const struct cvm_td_quote *q)
{
	uint8_t hash[32];

	if (cvm_hash(CVM_HASH_SHA256, q->signed_data, q->signed_len, hash) < 0)
		return -EKEYREJECTED;
	return cvm_ecdsa_p256_verify_raw(q->attest_key, hash, q->signature);
}

/* Parses the PEM chain; mbedtls wants NUL-terminated PEM text, and the quote's
 * chain usually carries its own NUL, but copying is the only safe way to be
 * sure.  The copy lives on the heap to keep the stack small in PID 1. */
static int load_chain(const struct cvm_td_quote *q, mbedtls_x509_crt *chain)
{
	unsigned char *pem;
	int r;

	pem = malloc(q->pck_chain_len + 1);
	if (!pem)
		return -ENOMEM;
	memcpy(pem, q->pck_chain, q->pck_chain_len);
	pem[q->pck_chain_len] = '\0';
	r = mbedtls_x509_crt_parse(chain, pem, q->pck_chain_len + 1);
	free(pem);
	if (r != 0 || !chain->next || !chain->next->next || chain->next->next->next)
		return -EBADMSG;
	return 0;
}

int cvm_td_quote_verify_pck_chain(const struct cvm_td_quote *q, const char *root_pem, const char **ret_step)
{
	mbedtls_x509_crt chain, pinned;
	const mbedtls_x509_crt *ca, *root;
	const char *step = NULL;
	int r;

	mbedtls_x509_crt_init(&chain);
	mbedtls_x509_crt_init(&pinned);
	if (!root_pem)
		root_pem = cvm_root_intel_sgx_pem;
	if (mbedtls_x509_crt_parse(&pinned, (const unsigned char *)root_pem, strlen(root_pem) + 1) != 0) {
		r = -EINVAL;
		goto out;
	}
	r = load_chain(q, &chain);
	if (r < 0)
		goto out;
	ca = chain.next;
	root = ca->next;
	r = -EKEYREJECTED;
	if (cvm_x509_signed_by(&chain, ca) < 0) {
		step = "pck-signed-by-ca";
		goto out;
	}
	if (cvm_x509_signed_by(ca, root) < 0) {
		step = "ca-signed-by-root";
		goto out;
	}
	/* The root in the quote must be the pinned one, byte for byte; it
	 * signing itself adds nothing once that holds, but is cheap. */
	if (root->raw.len != pinned.raw.len || memcmp(root->raw.p, pinned.raw.p, root->raw.len) != 0 ||
	    cvm_x509_signed_by(root, root) < 0) {
		step = "root-pinned";
		goto out;
	}
	r = 0;
out:
	if (r == -EKEYREJECTED && ret_step)
		*ret_step = step;
	mbedtls_x509_crt_free(&chain);
	mbedtls_x509_crt_free(&pinned);
	return r;
}

int cvm_td_quote_verify_qe(const struct cvm_td_quote *q, const char **ret_step)
{
	static const uint8_t zero[32];
	mbedtls_x509_crt chain;
	struct cvm_hash_ctx c;
	uint8_t hash[32];
	const char *step = NULL;
	int r;

	mbedtls_x509_crt_init(&chain);
	r = load_chain(q, &chain);
	if (r < 0)
		goto out;
	r = cvm_hash(CVM_HASH_SHA256, q->qe_report, QE_REPORT_SIZE, hash);
	if (r < 0)
		goto out;
	if (cvm_ecdsa_verify_rs(&chain.pk, MBEDTLS_MD_SHA256, hash, 32, q->qe_report_signature, 32,
				q->qe_report_signature + 32, 32) < 0) {
		r = -EKEYREJECTED;
		step = "qe-report-signature";
		goto out;
	}
	r = cvm_hash_init(&c, CVM_HASH_SHA256);
	if (r < 0)
		goto out;
	if ((r = cvm_hash_update(&c, q->attest_key, 64)) < 0 || (r = cvm_hash_update(&c, q->qe_auth_data, q->qe_auth_len)) < 0 ||
	    (r = cvm_hash_final(&c, hash)) < 0) {
		cvm_hash_free(&c);
		goto out;
	}
	cvm_hash_free(&c);
	if (memcmp(hash, q->qe_report + QE_REPORT_DATA_OFFSET, 32) != 0 ||
	    memcmp(zero, q->qe_report + QE_REPORT_DATA_OFFSET + 32, 32) != 0) {
		r = -EKEYREJECTED;
		step = "qe-report-data";
		goto out;
	}
	r = 0;
out:
	if (r == -EKEYREJECTED && ret_step)
		*ret_step = step;
	mbedtls_x509_crt_free(&chain);
	return r;
}
