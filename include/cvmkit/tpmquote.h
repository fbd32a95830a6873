/* TPM 2.0 quotes as the Azure vTPM produces them (TPM2_Quote with the AK at
 * 0x81000003): the TPMS_ATTEST structure, its RSASSA-PKCS1-v1_5/SHA-256
 * signature and the PCR digest.  TPM Library spec part 2 §10.12.
 * Parsing copies into a caller-owned struct; nothing allocates or prints. */
#ifndef CVMKIT_TPMQUOTE_H
#define CVMKIT_TPMQUOTE_H

#include <stddef.h>
#include <stdint.h>

#define CVM_TPM_GENERATED_VALUE 0xff544347u
#define CVM_TPM_ST_ATTEST_QUOTE 0x8018
#define CVM_TPMS_ATTEST_MAX_SIZE 1024
#define CVM_TPM_PCR_SELECTIONS_MAX 4

struct cvm_tpm_pcr_selection {
	uint16_t hash_alg;
	uint8_t size;      /* bytes of select[] in use, at most 4 */
	uint8_t select[4]; /* bit n of byte k selects PCR 8k+n */
};

struct cvm_tpms_attest {
	uint32_t magic;
	uint16_t type;
	uint8_t signer[68]; /* TPM2B_NAME: hash alg (2 bytes) + digest */
	size_t signer_len;
	uint8_t extra_data[64]; /* the quote nonce (qualifyingData) */
	size_t extra_data_len;
	uint64_t clock;
	uint32_t reset_count, restart_count;
	uint8_t safe;
	uint64_t firmware_version;
	uint32_t selection_count;
	struct cvm_tpm_pcr_selection selections[CVM_TPM_PCR_SELECTIONS_MAX];
	uint8_t pcr_digest[64];
	size_t pcr_digest_len;
};

/* Parses a marshalled TPMS_ATTEST of a quote (big-endian).  The whole buffer
 * must be consumed.  Returns 0; -EBADMSG for truncation, trailing bytes,
 * oversized fields, a magic other than TPM_GENERATED_VALUE or a type other
 * than TPM_ST_ATTEST_QUOTE; -EFBIG when len exceeds CVM_TPMS_ATTEST_MAX_SIZE. */
int cvm_tpms_attest_parse(const uint8_t *buf, size_t len, struct cvm_tpms_attest *ret);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the TPMS_ATTEST bytes MSG, with the AK
 * given as modulus N and exponent E (big-endian; an empty or zero exponent
 * means 65537, as in a TPM public area).  Returns 0; -EKEYREJECTED for a
 * signature that does not verify; -EINVAL for an unusable key. */
int cvm_tpm_quote_verify(const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
			 const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);

/* SHA-256 over COUNT 32-byte PCR values in the order given (what a quote of a
 * SHA-256 selection signs as pcrDigest). */
int cvm_tpm_pcr_digest(const uint8_t (*pcrs)[32], size_t count, uint8_t out[32]);

#endif
