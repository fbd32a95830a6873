/* Authenticated golden capture: the vTPM evidence the init prints after its
 * CVMKIT-MEASURED-BOOT line (format in capture.h), verified with the
 * project's verifier (verify.h: the checks `cvm-attest verify` and Trustee
 * run) before a single platform value is believed.  Then every SHA-256 PCR
 * the line claims must equal the quoted one (the quote's signature covers
 * their digest), and the line's SNP measurement / TD MRTD must equal the
 * verified hardware report's.
 *
 * Ownership: struct cvm_capture_evidence is caller-owned; its json buffer is
 * malloc'd by the parser and released by cvm_capture_evidence_free().  No
 * function prints.  The serial log is untrusted: the parser takes (buf, len)
 * and caps every size. */
#ifndef CVMKIT_CAPTURE_AUTH_H
#define CVMKIT_CAPTURE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/capture.h"
#include "cvmkit/evidence.h"

/* 1 MiB of evidence JSON (CVM_EVIDENCE_MAX_SIZE) in 96-character lines. */
#define CVM_CAPTURE_EVIDENCE_MAX_LINES (((CVM_EVIDENCE_MAX_SIZE + 2) / 3 * 4 + CVM_CAPTURE_EVIDENCE_CHUNK - 1) / CVM_CAPTURE_EVIDENCE_CHUNK)

struct cvm_capture_evidence {
	bool present;                 /* the line has an "evidence" member */
	enum cvm_tee tee;             /* its "format" */
	uint8_t nonce[CVM_CAPTURE_NONCE_MAX]; /* the nonce the line claims (never trusted) */
	size_t nonce_len;
	uint8_t *json;                /* the evidence JSON, reassembled and size/sha256-checked; owned */
	size_t json_len;
	/* The line's "platform" member (what the init read, unauthenticated). */
	bool have_measurement, have_mrtd;
	uint8_t measurement[48], mrtd[48];
};

/* Finds the last CVMKIT-MEASURED-BOOT line of buf[0, len), reads its
 * "platform" and "evidence" members, and reassembles the evidence from the
 * CVMKIT-EVIDENCE lines after it (in any order, other lines between them; a
 * line may carry other text before its prefix, and a trailing CR).
 * Returns 0 and fills *ret (ret->present false when the line has no
 * "evidence" member); -ENOENT (no line); -EBADMSG (malformed member, a
 * missing, repeated or out-of-range evidence line, bad base64, size or
 * SHA-256 that do not match); -EFBIG (len above CVM_CAPTURE_MAX_INPUT, or
 * more than CVM_CAPTURE_EVIDENCE_MAX_LINES lines or CVM_EVIDENCE_MAX_SIZE
 * bytes announced); -ENOMEM.  *ret is written only on success. */
int cvm_capture_evidence_parse(const uint8_t *buf, size_t len, struct cvm_capture_evidence *ret);

/* Frees the JSON; safe twice and on a zeroed struct. */
void cvm_capture_evidence_free(struct cvm_capture_evidence *e);

/* The quote's report data for NONCE (CVM_CAPTURE_NONCE_MIN..MAX bytes):
 * SHA-384(CVM_CAPTURE_NONCE_DOMAIN || nonce).  0 or -EINVAL. */
int cvm_capture_report_data(const uint8_t *nonce, size_t len, uint8_t ret[48]);

struct cvm_capture_auth_opts {
	const uint8_t *nonce;      /* what the user gave at deployment (required) */
	size_t nonce_len;
	const uint8_t *vcek_der;   /* replaces the evidence's VCEK (SNP); NULL: the evidence's */
	size_t vcek_len;
	const char *amd_root_pem;  /* as struct cvm_verify_opts */
	const char *intel_root_pem;
};

struct cvm_capture_auth_result {
	/* On refusal: the failed check's stable name ("evidence", "nonce", a
	 * verify.h check name such as "ak-quote-signature", "pcr-values",
	 * "measurement", "mr-td") and one sentence of detail. */
	char check[40];
	char detail[480];
	enum cvm_tee tee;
	uint8_t pcrs[CVM_EVIDENCE_PCRS][32]; /* the quoted, verified SHA-256 PCRs */
	bool have_measurement, have_mrtd;    /* verified: SNP report / TD quote */
	uint8_t measurement[48], mrtd[48];
};

/* Verifies EV (cvm_capture_evidence_parse of the same log as CAP) and checks
 * CAP's SHA-256 PCRs and EV's platform values against it.  Always fills
 * *res.  Returns 0 (authenticated); -EKEYREJECTED (res names the failed
 * check: no evidence is the check "evidence"); -EINVAL (no nonce option);
 * -ENOMEM. */
int cvm_capture_authenticate(const struct cvm_capture *cap, const struct cvm_capture_evidence *ev,
			     const struct cvm_capture_auth_opts *o, struct cvm_capture_auth_result *res);

/* Reference values for capture's output: the map (cvm_rv_map_json's
 * members) plus "measurement" (SNP: standard base64, Trustee's claim
 * encoding) or "mr_td" (TDX: lowercase hex) when given, plus
 * "cvmkit_capture": "unauthenticated" when LABEL_UNAUTH (the RVPS "sample"
 * extractor stores every member, so the label survives registration).
 * RVPS: the registration message; otherwise the pretty map.  Returns 0 with
 * a malloc'd string; -ENODATA (nothing to emit); -ENOMEM. */
struct cvm_rv_set;
int cvm_capture_rv_output(const struct cvm_rv_set *s, bool rvps, const uint8_t *measurement, const uint8_t *mrtd,
			  bool label_unauth, char **ret_text);

#endif
