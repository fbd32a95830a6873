/* Collecting Azure vTPM evidence (az-snp-vtpm / az-tdx-vtpm) the way the
 * Azure guest tooling does: write the nonce to the user-data NV index, wait
 * for the paravisor to regenerate the HCL report, read it, quote PCRs 0-23
 * with the AK and read them (../shared/notes/azure-vtpm-evidence.md §2, §5,
 * §6).  The VCEK (SNP) and TD quote (TDX) come from Azure IMDS; the builder
 * takes those bytes from the caller.
 *
 * Ownership: struct cvm_azure_collected owns one malloc'd buffer (the HCL
 * report); release it with cvm_azure_collected_free().  Nothing prints. */
#ifndef CVMKIT_AZURE_H
#define CVMKIT_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/evidence.h"
#include "cvmkit/tpm2.h"

/* The largest HCL report index accepted (real hosts: 2048 or 2600 bytes). */
#define CVM_AZURE_HCL_NV_MAX 8192u

/* Writes DATA (1..64 bytes) to NV 0x01400002 with owner authorization,
 * (re)defining the index first when it is absent or of another size
 * (attributes OWNERWRITE|OWNERREAD, SHA-256 name, size = len), as
 * azure-cvm-tooling does.  Returns 0; -EINVAL for a bad length; TPM errors as
 * in tpm2.h. */
int cvm_azure_write_user_data(struct cvm_tpm2 *t, const uint8_t *data, size_t len);

/* Reads the whole HCL report index 0x01400001 (its size from NV_ReadPublic)
 * into a malloc'd buffer.  Returns 0; -ENOENT when the index does not exist
 * (not an Azure CVM); -EFBIG when it is larger than CVM_AZURE_HCL_NV_MAX;
 * -ENOMEM; TPM errors as in tpm2.h. */
int cvm_azure_read_hcl_report(struct cvm_tpm2 *t, uint8_t **ret_buf, size_t *ret_len);

struct cvm_azure_collect_opts {
	const uint8_t *report_data; /* the nonce: 1..64 bytes (Trustee sends 48) */
	size_t report_data_len;
	uint32_t ak_handle;      /* 0: CVM_TPM2_AZURE_AK */
	bool skip_user_data;     /* do not write the nonce to 0x01400002 */
	/* 0: read the HCL report once, as it is (evidence v1, whose verdict does
	 * not look at user-data; static test reports).  Otherwise re-read it until
	 * its runtime claims' user-data starts with report_data, for at most this many
	 * milliseconds.  azure-cvm-tooling instead sleeps 3000 ms and reads once. */
	unsigned user_data_wait_ms;
	bool allow_ak_mismatch;  /* collect even when the AK is not HCLAkPub (tests) */
};

struct cvm_azure_collected {
	enum cvm_tee tee;
	uint8_t *hcl_report; /* whole NV index, malloc'd */
	size_t hcl_report_len;
	uint8_t attest[CVM_TPM2_ATTEST_MAX]; /* TPMS_ATTEST of the quote */
	size_t attest_len;
	uint8_t signature[CVM_TPM2_SIG_MAX]; /* RSASSA signature bytes */
	size_t signature_len;
	uint8_t pcrs[CVM_TPM2_PCR_COUNT][32]; /* SHA-256 PCRs 0..23 */
	bool ak_matches; /* the AK's public key equals HCLAkPub */
};

/* Collects everything but the IMDS parts.  The quote is checked locally
 * before returning: its nonce, its signer name, its signature with the AK's
 * public key, and the PCR digest against the PCRs read after it (a PCR
 * extended in between causes a new quote, up to 3 times).
 * Returns 0; -EINVAL for bad options; -ENOENT when there is no HCL report or
 * no AK; -EBADMSG for an HCL report or runtime claims that do not parse, or a
 * quote that does not check out; -ETIMEDOUT when user_data_wait_ms passed
 * without a report carrying the report data; -EOPNOTSUPP for an HCL report type other
 * than SNP/TDX or an AK whose quote is not RSASSA/SHA-256; -EKEYREJECTED when
 * the AK is not HCLAkPub (unless allowed); -EAGAIN when the PCRs kept
 * changing; -ENOMEM; TPM errors as in tpm2.h. */
int cvm_azure_collect(struct cvm_tpm2 *t, const struct cvm_azure_collect_opts *o, struct cvm_azure_collected *ret);

void cvm_azure_collected_free(struct cvm_azure_collected *c);

/* The 1024-byte TDREPORT inside a TDX HCL report (what IMDS /acc/tdquote
 * wants).  Returns 0; -EOPNOTSUPP for an SNP report; -EBADMSG when the slot
 * does not hold a TDREPORT (cvm_td_report_parse). */
int cvm_azure_td_report(const struct cvm_azure_collected *c, const uint8_t **ret_td_report);

/* Evidence JSON (version 1 or 2, evidence.h) from C plus the VCEK (DER, SNP)
 * or TD quote (TDX) fetched from IMDS.  Returns 0 with a malloc'd
 * NUL-terminated string; -EINVAL when the part the TEE needs is missing or
 * VERSION is not 1 or 2; -ENOMEM. */
int cvm_azure_evidence_build(const struct cvm_azure_collected *c, int version, const uint8_t *vcek_der,
			     size_t vcek_len, const uint8_t *td_quote, size_t td_quote_len, char **ret_json);

#endif
