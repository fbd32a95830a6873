/* Evidence JSON for Trustee's az-snp-vtpm and az-tdx-vtpm verifiers
 * (../shared/notes/azure-vtpm-evidence.md §6).
 *
 * Version 2 / 1: {"version":N,"tpm_quote":{"signature":hex,"message":hex,
 * "pcrs":[24 x hex]},"hcl_report":base64url,"vcek":base64url(DER)} for SNP,
 * with "td_quote":base64url instead of "vcek" for TDX.  Version 0 (legacy,
 * JSON byte arrays, VCEK as PEM) is parsed but never built.
 *
 * A parsed struct cvm_evidence owns its buffers (malloc'd); release them with
 * cvm_evidence_free().  Nothing prints. */
#ifndef CVMKIT_EVIDENCE_H
#define CVMKIT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

enum cvm_tee {
	CVM_TEE_AZ_SNP_VTPM,
	CVM_TEE_AZ_TDX_VTPM,
};

/* "az-snp-vtpm" / "az-tdx-vtpm"; cvm_tee_from_name returns 0 or -EINVAL. */
const char *cvm_tee_name(enum cvm_tee tee);
int cvm_tee_from_name(const char *name, enum cvm_tee *ret_tee);

#define CVM_EVIDENCE_MAX_SIZE (1u << 20)
#define CVM_EVIDENCE_PCRS 24

struct cvm_evidence {
	enum cvm_tee tee;
	int version; /* 0, 1 or 2 */
	uint8_t *signature; /* raw TPMT_SIGNATURE bytes (RSASSA: 256) */
	size_t signature_len;
	uint8_t *message; /* TPMS_ATTEST */
	size_t message_len;
	uint8_t pcrs[CVM_EVIDENCE_PCRS][32];
	size_t pcr_count;
	uint8_t *hcl_report;
	size_t hcl_report_len;
	uint8_t *vcek; /* DER; SNP only */
	size_t vcek_len;
	uint8_t *td_quote; /* TDX only */
	size_t td_quote_len;
};

/* Parses evidence for TEE the way Trustee does: v2, then v1, then v0.  Hex is
 * case-insensitive, base64url padding-indifferent.  At most
 * CVM_EVIDENCE_MAX_SIZE bytes; need not be NUL-terminated.
 * Returns 0; -EFBIG when too large; -EBADMSG for invalid JSON, a missing or
 * mistyped member, bad hex/base64, a "version" other than 1 or 2, more than 24
 * PCRs or a PCR that is not 32 bytes; -ENOMEM. */
int cvm_evidence_parse(enum cvm_tee tee, const uint8_t *buf, size_t len, struct cvm_evidence *ret);

/* Frees the buffers of EV and zeroes it (safe on a zeroed struct). */
void cvm_evidence_free(struct cvm_evidence *ev);

/* Serialises EV (version 1 or 2) as compact JSON with members in the order
 * guest-components emits them and padded base64url, as a NUL-terminated
 * malloc'd string.  Deterministic: same input, same bytes.  Returns 0;
 * -EOPNOTSUPP for version 0; -EINVAL when a member the TEE needs is missing;
 * -ENOMEM. */
int cvm_evidence_build(const struct cvm_evidence *ev, char **ret_json);

/* The VCEK from the body of Azure IMDS GET /metadata/THIM/amd/certification:
 * member "vcekCert" (PEM) converted to DER (malloc'd).  Returns 0; -EBADMSG
 * for invalid JSON or no parsable certificate; -EFBIG above 64 KiB; -ENOMEM. */
int cvm_thim_vcek_der(const uint8_t *json, size_t len, uint8_t **ret_der, size_t *ret_len);

/* Body of POST /acc/tdquote for a 1024-byte TDREPORT: {"report":"<base64url
 * without padding>"} (malloc'd string).  0 or -ENOMEM. */
int cvm_imds_td_quote_request(const uint8_t td_report[1024], char **ret_json);

/* The quote from the IMDS response {"quote":"<base64url>"} (either base64
 * alphabet accepted), malloc'd.  Returns 0; -EBADMSG; -EFBIG above 64 KiB;
 * -ENOMEM. */
int cvm_imds_td_quote_response(const uint8_t *json, size_t len, uint8_t **ret_quote, size_t *ret_len);

#endif
