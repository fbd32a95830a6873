/* Offline verification of az-snp-vtpm / az-tdx-vtpm evidence, performing the
 * checks Trustee's verifiers perform (../shared/notes/azure-vtpm-evidence.md
 * §8), producing Trustee's claims (§9), and appraising them against RVPS
 * reference values the way Trustee's default policy reads them
 * (../shared/notes/trustee-reference-values.md §4-5).
 *
 * Nothing prints; results land in caller-owned structs, and the only heap
 * memory (the claims JSON) is released by cvm_verify_result_free(). */
#ifndef CVMKIT_VERIFY_H
#define CVMKIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/evidence.h"

enum cvm_check {
	CVM_CHECK_TPM_QUOTE_FORMAT,
	CVM_CHECK_HCL_REPORT_FORMAT,
	CVM_CHECK_RUNTIME_CLAIMS_FORMAT,
	CVM_CHECK_HW_REPORT_FORMAT,   /* SNP report or TD quote parses */
	CVM_CHECK_AK_SIGNATURE,       /* quote signature with HCLAkPub */
	CVM_CHECK_NONCE,              /* TPMS_ATTEST.extraData == report_data */
	CVM_CHECK_PCR_DIGEST,         /* SHA-256(pcrs) == pcrDigest */
	CVM_CHECK_RUNTIME_CLAIMS_HASH,/* SHA-256(var data) == hw REPORT_DATA[0..32) */
	CVM_CHECK_USER_DATA,          /* v2: var-data user-data starts with report_data */
	CVM_CHECK_AMD_CHAIN,          /* VCEK -> ASK -> ARK of the report's generation */
	CVM_CHECK_VCEK_CHIP_ID,       /* VCEK hwID == CHIP_ID */
	CVM_CHECK_VCEK_TCB,           /* VCEK SPLs == REPORTED_TCB */
	CVM_CHECK_SNP_SIGNATURE,      /* report signed by the VCEK */
	CVM_CHECK_SNP_VMPL,           /* VMPL == 0 */
	CVM_CHECK_TD_QUOTE_SIGNATURE, /* attestation key over header+body */
	CVM_CHECK_TD_QE_REPORT,       /* QE report signed by PCK, binds the key */
	CVM_CHECK_PCK_CHAIN,          /* PCK -> CA -> pinned Intel root */
	CVM_CHECK_TD_REPORT_DATA,     /* SHA-256(var data) == quote report_data[0..32) */
	CVM_CHECK_TDX_TCB_STATUS,     /* needs Intel collateral: never evaluated */
	CVM_CHECK_INIT_DATA,          /* PCR 8 == SHA-256(0^32 || init-data digest) */
	CVM_CHECK_MAX,
};

enum cvm_check_status {
	CVM_CHECK_NOT_APPLICABLE = 0, /* not part of this TEE's verification */
	CVM_CHECK_OK,
	CVM_CHECK_FAILED,
	CVM_CHECK_SKIPPED,     /* input not given (no report_data, no init-data) or an earlier failure */
	CVM_CHECK_NOT_CHECKED, /* cannot be decided offline */
};

/* Stable kebab-case name, e.g. "ak-quote-signature"; never NULL. */
const char *cvm_check_name(enum cvm_check c);
/* "ok", "FAILED", "skipped", "not checked", "n/a". */
const char *cvm_check_status_name(enum cvm_check_status s);

struct cvm_check_result {
	enum cvm_check_status status;
	char detail[400]; /* on failure: field, expected vs found */
};

struct cvm_verify_opts {
	const uint8_t *report_data; /* expected nonce; NULL skips nonce and user-data checks */
	size_t report_data_len;     /* at most 64 */
	const uint8_t *init_data_digest; /* 32 bytes, or NULL to skip */
	const char *intel_root_pem; /* NULL: the compiled-in Intel SGX Root CA */
	/* NULL: the compiled-in AMD bundle of the report's generation.  Otherwise
	 * a PEM bundle, ASK then ARK, used instead for every generation: for
	 * tests (the simulated vTPM's chain) and private roots only. */
	const char *amd_root_pem;
};

struct cvm_verify_result {
	struct cvm_check_result checks[CVM_CHECK_MAX];
	int first_failure; /* an enum cvm_check, or -1 when none failed */
	/* Policy input as Trustee builds it: {"<tee>":{claims},"init_data":hex,
	 * "report_data":hex}; compact JSON, malloc'd, NULL when the evidence was
	 * too malformed to produce claims. */
	char *claims_json;
};

/* Verifies EV.  Always fills *res (release with cvm_verify_result_free).
 * Returns 0 when no check failed; -EKEYREJECTED when one did
 * (res->first_failure names the first in Trustee's order); -EINVAL for bad
 * options; -ENOMEM. */
int cvm_verify_evidence(const struct cvm_evidence *ev, const struct cvm_verify_opts *opts,
			struct cvm_verify_result *res);
void cvm_verify_result_free(struct cvm_verify_result *res);

/* Reference-value appraisal. */
enum cvm_rv_status {
	CVM_RV_MATCH,
	CVM_RV_MISMATCH,
	CVM_RV_MISSING,     /* the policy queries this name and it is absent */
	CVM_RV_NOT_CHECKED, /* needs collateral (TDX tcb_status) */
};

struct cvm_rv_verdict {
	char claim[48];   /* e.g. "tpm.pcr11" */
	char rv_name[32]; /* e.g. "snp_pcr11"; "(fixed)" for constant checks */
	enum cvm_rv_status status;
	char found[104];  /* the claim value, possibly truncated */
};

#define CVM_RV_VERDICTS_MAX 24

struct cvm_rv_report {
	struct cvm_rv_verdict verdicts[CVM_RV_VERDICTS_MAX];
	size_t count;
	bool affirming; /* every verdict MATCH or NOT_CHECKED */
};

/* Appraises CLAIMS_JSON (as produced above) for TEE against reference values
 * RV (at most 1 MiB), accepted as (a) an RVPS registration message
 * {"version":"0.1.0","type":"sample","payload":base64}, (b) a sample
 * provenance object {"name": value, ...}, or (c) RVPS LocalJson storage
 * {"name": base64url(stored RV JSON)}.  Names Trustee's default policy
 * queries are required (absent: MISSING); names only the trustee-operator
 * policy queries (PCRs 3, 8, 9, 12) are appraised when present.
 * Returns 0; -EBADMSG for malformed RV or claims JSON, or a registration
 * message of another type/version; -EFBIG; -ENOMEM. */
int cvm_rv_appraise(enum cvm_tee tee, const char *claims_json, const uint8_t *rv, size_t rv_len,
		    struct cvm_rv_report *ret);

#endif
