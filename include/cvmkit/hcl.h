/* The Azure paravisor's HCL ("CVM") report from vTPM NV index 0x01400001 and
 * its runtime claims ("var data") JSON.  Layout: ../shared/notes/
 * azure-vtpm-evidence.md §3.
 *
 * cvm_hcl_report_parse() borrows: the struct points into the caller's buffer,
 * which must outlive it.  cvm_runtime_claims_parse() copies what it keeps into
 * the caller's struct and frees its JSON tree before returning.  Nothing
 * prints. */
#ifndef CVMKIT_HCL_H
#define CVMKIT_HCL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVM_HCL_SIGNATURE 0x414C4348u /* "HCLA" */
#define CVM_HCL_HW_REPORT_OFFSET 32
#define CVM_HCL_HW_REPORT_SIZE 1184
#define CVM_HCL_IGVM_OFFSET 1216
#define CVM_HCL_VAR_DATA_OFFSET 1236
#define CVM_HCL_MAX_SIZE (64u << 10)
#define CVM_TD_REPORT_SIZE 1024
#define CVM_RUNTIME_CLAIMS_MAX_SIZE (32u << 10)

enum cvm_hcl_report_type {
	CVM_HCL_REPORT_VBS = 1,
	CVM_HCL_REPORT_SNP = 2,
	CVM_HCL_REPORT_TVM = 3,
	CVM_HCL_REPORT_TDX = 4,
};

#define CVM_HCL_HASH_SHA256 1

struct cvm_hcl_report {
	uint32_t version, report_size, request_type, status;
	uint32_t igvm_data_size, igvm_version, report_type, hash_type, var_data_size;
	const uint8_t *hw_report; /* CVM_HCL_HW_REPORT_SIZE bytes (SNP report, or TDREPORT + padding) */
	const uint8_t *var_data;  /* var_data_size bytes of runtime-claims JSON */
};

/* Parses an HCL report of at most CVM_HCL_MAX_SIZE bytes; trailing bytes past
 * the var data (the NV index is larger than the report) are ignored.
 * Returns 0; -EBADMSG for a wrong signature, truncation or a var-data size
 * running past len; -EFBIG when len is too big.  Like Trustee, igvm_data_size
 * is reported but not required to equal 20 + var_data_size. */
int cvm_hcl_report_parse(const uint8_t *buf, size_t len, struct cvm_hcl_report *ret);

/* The 64 bytes of REPORT_DATA inside the hardware report: SNP offset 0x50, TD
 * report offset 128.  -EOPNOTSUPP for other report types. */
int cvm_hcl_report_data(const struct cvm_hcl_report *r, const uint8_t **ret_report_data);

/* Trustee's binding check: hash type 1 and SHA-256(var data) equals
 * REPORT_DATA[0..32).  Returns 0; -EOPNOTSUPP for another hash type or report
 * type; -EKEYREJECTED on mismatch.  ret_sha256 (if not NULL) receives the
 * var-data digest whenever it was computed. */
int cvm_hcl_check_binding(const struct cvm_hcl_report *r, uint8_t ret_sha256[32]);

/* The TDREPORT (TDX module ABI) a TDX HCL report carries in the first 1024
 * bytes of its hardware-report slot; what IMDS /acc/tdquote turns into a TD
 * quote, whose body repeats the fields below.  Offsets:
 * ../shared/notes/azure-vtpm-evidence.md §4. */
#define CVM_TD_REPORT_TYPE_TDX 0x81

struct cvm_td_report {
	uint8_t report_type[4]; /* type (0x81 TDX), subtype, version, reserved */
	uint8_t cpusvn[16];
	uint8_t tee_tcb_info_hash[48], tee_info_hash[48];
	uint8_t report_data[64];
	uint8_t mac[32];
	/* TEE_TCB_INFO */
	uint8_t tee_tcb_svn[16], mr_seam[48], mrsigner_seam[48], seam_attributes[8];
	/* TDINFO */
	uint8_t td_attributes[8], xfam[8], mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
	uint8_t rtmr[4][48];
};

/* Copies the fields of a TDREPORT from buf (at least CVM_TD_REPORT_SIZE
 * bytes; more, e.g. the whole hardware-report slot, is ignored) into *ret.
 * Returns 0; -EBADMSG when buf is shorter or REPORTTYPE.type is not TDX. */
int cvm_td_report_parse(const uint8_t *buf, size_t len, struct cvm_td_report *ret);

#define CVM_RSA_MAX_BYTES 512

struct cvm_runtime_claims {
	/* JWK kid "HCLAkPub": RSA modulus and exponent, big-endian. */
	uint8_t ak_n[CVM_RSA_MAX_BYTES];
	size_t ak_n_len;
	uint8_t ak_e[8];
	size_t ak_e_len;
	bool ak_sign; /* key_ops contains "sign" (older hosts say "encrypt") */
	bool has_ek;  /* a JWK kid "HCLEkPub" is present */
	bool has_user_data;
	uint8_t user_data[64]; /* decoded from hex; valid when has_user_data */
	size_t user_data_len;
	/* vm-configuration booleans: 1 true, 0 false, -1 absent. */
	int console_enabled, secure_boot, tpm_enabled, tpm_persisted;
	char vm_unique_id[64]; /* empty when absent */
};

/* Parses runtime-claims JSON (at most CVM_RUNTIME_CLAIMS_MAX_SIZE bytes; need
 * not be NUL-terminated).  Returns 0; -EFBIG when too large; -EBADMSG for
 * invalid JSON, a malformed JWK (n/e not base64url, n longer than 4096 bits)
 * or a user-data member that is not hex of at most 64 bytes; -ENOKEY when no
 * RSA JWK with kid "HCLAkPub" exists; -ENOMEM. */
int cvm_runtime_claims_parse(const uint8_t *buf, size_t len, struct cvm_runtime_claims *ret);

#endif
