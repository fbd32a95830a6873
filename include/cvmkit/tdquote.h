/* Intel TDX quotes, version 4 (and the v5 body-descriptor layout), as Azure's
 * IMDS returns them: header, TD report body and the ECDSA-P256 signature data
 * with the QE report and the PCK certificate chain (Intel DCAP quote library
 * layout, "QE report certification data", type 6 wrapping type 5).
 *
 * cvm_td_quote_parse() copies the header and body fields into a caller-owned
 * struct and leaves pointers into the caller's buffer for the signature data;
 * the buffer must outlive the struct.  Nothing allocates or prints.
 * Collateral (TCB info, QE identity, CRLs) is out of scope: the TCB status is
 * never evaluated here and must be reported as "not checked". */
#ifndef CVMKIT_TDQUOTE_H
#define CVMKIT_TDQUOTE_H

#include <stddef.h>
#include <stdint.h>

#define CVM_TD_QUOTE_HEADER_SIZE 48
#define CVM_TD_QUOTE_BODY_V4_SIZE 584
#define CVM_TD_QUOTE_BODY_15_SIZE 648
#define CVM_TD_QUOTE_MAX_SIZE (64u << 10)
#define CVM_TD_TEE_TYPE 0x00000081u
#define CVM_TD_ATT_KEY_ECDSA_P256 2

struct cvm_td_quote {
	/* header, raw bytes as Trustee's claims print them */
	uint16_t version, att_key_type;
	uint32_t tee_type;
	uint8_t h_version[2], h_att_key_type[2], h_tee_type[4], h_reserved[4];
	uint8_t vendor_id[16], user_data[20];
	/* v5 only: body type (2 TDX 1.0, 3 TDX 1.5) and size; 0 for v4 */
	uint16_t body_type;
	uint32_t body_size;
	/* TD report body */
	uint8_t tcb_svn[16], mr_seam[48], mrsigner_seam[48], seam_attributes[8], td_attributes[8], xfam[8];
	uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48], rtmr[4][48], report_data[64];
	uint8_t tee_tcb_svn2[16], mr_servicetd[48]; /* TDX 1.5 bodies only, else zero */
	/* the signed region: header (+ v5 descriptor) + body */
	const uint8_t *signed_data;
	size_t signed_len;
	/* signature data (borrowed) */
	const uint8_t *signature;   /* 64 bytes r||s, big-endian */
	const uint8_t *attest_key;  /* 64 bytes x||y */
	const uint8_t *qe_report;   /* 384-byte SGX report body */
	const uint8_t *qe_report_signature; /* 64 bytes r||s */
	const uint8_t *qe_auth_data;
	size_t qe_auth_len;
	const uint8_t *pck_chain; /* PEM text, leaf first */
	size_t pck_chain_len;
};

/* Parses a quote of at most CVM_TD_QUOTE_MAX_SIZE bytes.  Trailing bytes past
 * the signature data (IMDS pads) are ignored.  Returns 0; -EBADMSG for
 * truncation or lengths running past len; -EPROTONOSUPPORT for a version other
 * than 4/5, a TEE type other than TDX, a key type other than ECDSA-P256, or
 * certification data other than a QE report (6) carrying a PCK chain (5);
 * -EFBIG when too large. */
int cvm_td_quote_parse(const uint8_t *buf, size_t len, struct cvm_td_quote *ret);

/* The attestation-key signature over header+body.  0 or -EKEYREJECTED. */
int cvm_td_quote_verify_signature(const struct cvm_td_quote *q);

/* The PCK chain in the quote: leaf signed by the intermediate, intermediate by
 * the root, root self-signed and byte-identical to ROOT_PEM (NULL: Intel's SGX
 * Root CA compiled into the library).  Returns 0; -EBADMSG when the chain is
 * not three parsable certificates; -EKEYREJECTED for a broken link or a
 * foreign root.  *ret_step (if not NULL) names the failing link on
 * -EKEYREJECTED: "pck-signed-by-ca", "ca-signed-by-root", "root-pinned". */
int cvm_td_quote_verify_pck_chain(const struct cvm_td_quote *q, const char *root_pem, const char **ret_step);

/* The QE report: signed by the PCK leaf key, and its REPORTDATA binds the
 * attestation key: SHA-256(attest_key || qe_auth_data) || 32 zero bytes.
 * Returns 0; -EBADMSG for an unparsable PCK certificate; -EKEYREJECTED for a
 * bad signature or binding ("qe-report-signature", "qe-report-data" in
 * *ret_step). */
int cvm_td_quote_verify_qe(const struct cvm_td_quote *q, const char **ret_step);

#endif
