/* TPMS_ATTEST parsing and quote verification. */
#include <errno.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/tpmquote.h"
#include "crypto.h"

/* A bounds-checked big-endian reader; every get fails once the input is short. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static int take(struct rd *r, size_t n, const uint8_t **ret)
{
	if (n > r->left)
		return -EBADMSG;
	*ret = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int tpm2b(struct rd *r, uint8_t *out, size_t cap, size_t *ret_len)
{
	const uint8_t *p;
	size_t n;

	if (take(r, 2, &p) < 0)
		return -EBADMSG;
	n = cvm_be16(p);
	if (n > cap || take(r, n, &p) < 0)
		return -EBADMSG;
	memcpy(out, p, n);
	*ret_len = n;
	return 0;
}

int cvm_tpms_attest_parse(const uint8_t *buf, size_t len, struct cvm_tpms_attest *ret)
{
	struct cvm_tpms_attest a;
	struct rd r = { buf, len };
	const uint8_t *p;

	if (len > CVM_TPMS_ATTEST_MAX_SIZE)
		return -EFBIG;
	if (!buf)
		return -EBADMSG;
	memset(&a, 0, sizeof(a));
	if (take(&r, 6, &p) < 0)
		return -EBADMSG;
	a.magic = cvm_be32(p);
	a.type = cvm_be16(p + 4);
	/* Refusing anything but a TPM-generated quote keeps a signature over
	 * caller-chosen bytes (TPM2_Sign) from passing as a quote. */
	if (a.magic != CVM_TPM_GENERATED_VALUE || a.type != CVM_TPM_ST_ATTEST_QUOTE)
		return -EBADMSG;
	if (tpm2b(&r, a.signer, sizeof(a.signer), &a.signer_len) < 0 ||
	    tpm2b(&r, a.extra_data, sizeof(a.extra_data), &a.extra_data_len) < 0)
		return -EBADMSG;
	if (take(&r, 8 + 4 + 4 + 1 + 8 + 4, &p) < 0)
		return -EBADMSG;
	a.clock = cvm_be64(p);
	a.reset_count = cvm_be32(p + 8);
	a.restart_count = cvm_be32(p + 12);
	a.safe = p[16];
	a.firmware_version = cvm_be64(p + 17);
	a.selection_count = cvm_be32(p + 25);
	if (a.selection_count > CVM_TPM_PCR_SELECTIONS_MAX)
		return -EBADMSG;
	for (uint32_t i = 0; i < a.selection_count; i++) {
		struct cvm_tpm_pcr_selection *s = &a.selections[i];
		if (take(&r, 3, &p) < 0)
			return -EBADMSG;
		s->hash_alg = cvm_be16(p);
		s->size = p[2];
		if (s->size > sizeof(s->select) || take(&r, s->size, &p) < 0)
			return -EBADMSG;
		memcpy(s->select, p, s->size);
	}
	if (tpm2b(&r, a.pcr_digest, sizeof(a.pcr_digest), &a.pcr_digest_len) < 0)
		return -EBADMSG;
	if (r.left != 0)
		return -EBADMSG;
	*ret = a;
	return 0;
}

int cvm_tpm_quote_verify(const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
			 const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
	static const uint8_t f4[3] = { 0x01, 0x00, 0x01 };
	size_t i;

	for (i = 0; i < e_len && e[i] == 0; i++)
		;
	if (i == e_len) {
		e = f4;
		e_len = sizeof(f4);
	}
	return cvm_rsa_pkcs1_sha256_verify(n, n_len, e, e_len, msg, msg_len, sig, sig_len);
}

int cvm_tpm_pcr_digest(const uint8_t (*pcrs)[32], size_t count, uint8_t out[32])
{
	struct cvm_hash_ctx c;
	int r = cvm_hash_init(&c, CVM_HASH_SHA256);

	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		r = cvm_hash_update(&c, pcrs[i], 32);
		if (r < 0)
			goto out;
	}
	r = cvm_hash_final(&c, out);
out:
	cvm_hash_free(&c);
	return r;
}
