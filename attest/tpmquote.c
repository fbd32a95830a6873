/* TPMS_ATTEST parsing and quote verification. */
#include <errno.h>
#include <string.h>

#include "cvmkit/hash.h"
#include "cvmkit/tpmquote.h"
#include "crypto.h"
#include "reader.h"

int cvm_tpms_attest_parse(const uint8_t *buf, size_t len, struct cvm_tpms_attest *ret)
{
	struct cvm_tpms_attest a;
	struct rd r;

	if (len > CVM_TPMS_ATTEST_MAX_SIZE)
		return -EFBIG;
	if (!buf)
		return -EBADMSG;
	r = rd_init(buf, len);
	memset(&a, 0, sizeof(a));
	a.magic = rd_be32(&r);
	a.type = rd_be16(&r);
	/* Refusing anything but a TPM-generated quote keeps a signature over
	 * caller-chosen bytes (TPM2_Sign) from passing as a quote. */
	if (r.err || a.magic != CVM_TPM_GENERATED_VALUE || a.type != CVM_TPM_ST_ATTEST_QUOTE)
		return -EBADMSG;
	rd_copy2b(&r, a.signer, sizeof(a.signer), &a.signer_len);
	rd_copy2b(&r, a.extra_data, sizeof(a.extra_data), &a.extra_data_len);
	a.clock = rd_be64(&r);
	a.reset_count = rd_be32(&r);
	a.restart_count = rd_be32(&r);
	a.safe = rd_u8(&r);
	a.firmware_version = rd_be64(&r);
	a.selection_count = rd_be32(&r);
	if (r.err || a.selection_count > CVM_TPM_PCR_SELECTIONS_MAX)
		return -EBADMSG;
	for (uint32_t i = 0; i < a.selection_count; i++) {
		struct cvm_tpm_pcr_selection *s = &a.selections[i];
		const uint8_t *p;

		s->hash_alg = rd_be16(&r);
		s->size = rd_u8(&r);
		if (s->size > sizeof(s->select) || !(p = rd_take(&r, s->size)))
			return -EBADMSG;
		memcpy(s->select, p, s->size);
	}
	rd_copy2b(&r, a.pcr_digest, sizeof(a.pcr_digest), &a.pcr_digest_len);
	if (!rd_done(&r))
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
