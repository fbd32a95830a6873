/* A small TPM 2.0 command layer for the static init and host tools: the
 * handful of commands Azure vTPM evidence needs, no TSS.  TPM 2.0 Library
 * spec Part 2 (structures) and Part 3 (commands); handles and sizes of the
 * Azure vTPM in ../shared/notes/azure-vtpm-evidence.md §2 and §5.
 *
 * Ownership: struct cvm_tpm2 is caller-owned (it holds the transport and one
 * command/response buffer, no heap).  Every response is untrusted input: its
 * tag, size, response code, every length and every count is checked against
 * the bytes received before use, and trailing bytes are refused.
 *
 * Errors: functions return 0 (or a count) or a negative errno and never print.
 * When the TPM answers with a response code other than TPM_RC_SUCCESS the
 * function returns -EREMOTEIO (-ENOENT where noted for a missing handle) and
 * t->last_rc holds the code; in host tools cvm_tpm2_rc_describe() turns it
 * into text such as "TPM_RC_HANDLE (handle 1): the handle is not correct for
 * the use" (the init prints the number: the names stay out of the guest).
 * -EPROTO means the response was malformed (bad tag, size, truncation,
 * trailing bytes, a value that contradicts the request). */
#ifndef CVMKIT_TPM2_H
#define CVMKIT_TPM2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVM_TPM2_BUFFER_SIZE 4096 /* TPM2_MAX_COMMAND_SIZE / MAX_RESPONSE_SIZE */
#define CVM_TPM2_PCR_COUNT 24

/* Handles (Part 2 §7) and the Azure vTPM's objects. */
#define CVM_TPM2_RH_OWNER 0x40000001u
#define CVM_TPM2_RS_PW 0x40000009u
#define CVM_TPM2_AZURE_AK 0x81000003u
#define CVM_TPM2_AZURE_HCL_REPORT_NV 0x01400001u
#define CVM_TPM2_AZURE_USER_DATA_NV 0x01400002u

/* Algorithm identifiers (Part 2 §6.3). */
#define CVM_TPM2_ALG_RSA 0x0001
#define CVM_TPM2_ALG_SHA1 0x0004
#define CVM_TPM2_ALG_SHA256 0x000B
#define CVM_TPM2_ALG_SHA384 0x000C
#define CVM_TPM2_ALG_SHA512 0x000D
#define CVM_TPM2_ALG_NULL 0x0010
#define CVM_TPM2_ALG_RSASSA 0x0014
#define CVM_TPM2_ALG_RSAPSS 0x0016
#define CVM_TPM2_ALG_ECDSA 0x0018
#define CVM_TPM2_ALG_ECC 0x0023

/* TPMA_NV bits (Part 2 §13.4) used for the user-data index. */
#define CVM_TPMA_NV_OWNERWRITE (1u << 1)
#define CVM_TPMA_NV_AUTHWRITE (1u << 2)
#define CVM_TPMA_NV_OWNERREAD (1u << 17)
#define CVM_TPMA_NV_AUTHREAD (1u << 18)
#define CVM_TPMA_NV_WRITTEN (1u << 29)

/* Transport: send one command, receive one response.  Returns the response
 * length (at most cap) or a negative errno. */
typedef int (*cvm_tpm2_transact_fn)(void *userdata, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t cap);

struct cvm_tpm2 {
	int fd;
	cvm_tpm2_transact_fn transact;
	void *userdata;
	uint32_t last_rc;       /* response code of the last command (0 = success) */
	uint16_t nv_buffer_max; /* TPM_PT_NV_BUFFER_MAX (capped at 2048), 0 until first needed */
	uint8_t cmd[CVM_TPM2_BUFFER_SIZE], resp[CVM_TPM2_BUFFER_SIZE];
};

/* Opens a TPM by SPEC: a path ("/dev/tpmrm0", or "device:PATH"), or
 * "tcp:HOST:PORT" for swtpm's TCP command port (`swtpm socket --server
 * type=tcp,port=PORT --flags not-need-init,startup-clear`), which carries raw
 * TPM commands with no framing.  HOST must be a numeric IPv4/IPv6 address
 * (no name lookup in PID 1).  Returns 0; -EINVAL for a malformed SPEC; or the
 * errno of open()/connect(). */
int cvm_tpm2_open(const char *spec, struct cvm_tpm2 *ret);

/* Uses a caller-supplied transport (tests, fuzzing).  Never fails. */
void cvm_tpm2_open_custom(cvm_tpm2_transact_fn fn, void *userdata, struct cvm_tpm2 *ret);

/* Closes the transport (safe on an already closed or custom one). */
void cvm_tpm2_close(struct cvm_tpm2 *t);

#ifndef CVM_GUEST
/* Writes a description of the response code RC into out (cap bytes,
 * NUL-terminated, truncated if needed): the TCG name (TPM_RC_HANDLE ...),
 * the handle/parameter/session it refers to for format-1 codes, and a short
 * explanation; vendor, TPM 1.2 and unknown codes are shown in hex.
 * Host tools only (attest/tpm2rc.c): the guest build does not declare it, so
 * a guest caller fails to compile instead of growing the init by the table. */
void cvm_tpm2_rc_describe(uint32_t rc, char *out, size_t cap);
#endif

/* TPM2_GetRandom, looping until len bytes are filled (a TPM returns at most a
 * digest's size per call).  Returns 0; -EPROTO for an empty answer. */
int cvm_tpm2_get_random(struct cvm_tpm2 *t, uint8_t *out, size_t len);

/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES) for one property.  Returns 0;
 * -ENOENT when the TPM does not report that property. */
#define CVM_TPM2_PT_NV_BUFFER_MAX 0x12Cu /* TPM_PT_FIXED + 44 */
int cvm_tpm2_get_property(struct cvm_tpm2 *t, uint32_t property, uint32_t *ret_value);

/* TPM2_PCR_Read of every PCR selected in MASK (bit n = PCR n, n < 24) of
 * bank HASH_ALG (SHA1/SHA256/SHA384/SHA512), calling the TPM as often as its
 * per-call limit requires; out[n] receives PCR n (digest size of the bank;
 * out must have room for 24 * 64 bytes).  The update counter must not change
 * between calls (else the read restarts, up to 3 times: -EAGAIN).  Returns 0;
 * -EINVAL for a bad bank or mask; -EPROTO when the TPM returns a PCR not
 * asked for, a digest of the wrong size, or makes no progress. */
int cvm_tpm2_pcr_read(struct cvm_tpm2 *t, uint16_t hash_alg, uint32_t mask, uint8_t (*out)[64]);

/* TPM2_PCR_Extend of PCR (0-23, empty password) in bank HASH_ALG only, with
 * DIGEST (the bank's digest size); other banks are left as they are.
 * Returns 0; -EINVAL for a bad PCR or bank; -EREMOTEIO (t->last_rc) when the
 * TPM refuses, e.g. the bank is not active or the locality may not extend. */
int cvm_tpm2_pcr_extend(struct cvm_tpm2 *t, unsigned pcr, uint16_t hash_alg, const uint8_t *digest);

/* The public area of a loaded or persistent object (TPM2_ReadPublic).  Only
 * RSA keys keep their parameters; other types report type and name only. */
struct cvm_tpm2_public {
	uint16_t type, name_alg;
	uint32_t attributes;
	uint16_t scheme, scheme_hash; /* TPM_ALG_NULL when the key has no scheme */
	uint16_t key_bits;
	uint32_t exponent; /* 0 means 65537 */
	uint8_t n[512];
	size_t n_len;
	uint8_t name[68], qualified_name[68]; /* TPM2B_NAME contents */
	size_t name_len, qualified_name_len;
};

/* Returns 0; -ENOENT when the handle does not exist (TPM_RC_HANDLE). */
int cvm_tpm2_read_public(struct cvm_tpm2 *t, uint32_t handle, struct cvm_tpm2_public *ret);

struct cvm_tpm2_nv_public {
	uint32_t index;
	uint16_t name_alg;
	uint32_t attributes;
	uint16_t data_size;
};

/* TPM2_NV_ReadPublic.  Returns 0; -ENOENT when the index is not defined. */
int cvm_tpm2_nv_read_public(struct cvm_tpm2 *t, uint32_t index, struct cvm_tpm2_nv_public *ret);

/* TPM2_NV_Read of len bytes at offset, authorized by AUTH_HANDLE (the owner
 * hierarchy or the index itself) with the empty password, in chunks of
 * TPM_PT_NV_BUFFER_MAX.  Returns 0; -ENOENT for an undefined index. */
int cvm_tpm2_nv_read(struct cvm_tpm2 *t, uint32_t auth_handle, uint32_t index, uint16_t offset, uint8_t *out,
		     size_t len);

/* TPM2_NV_DefineSpace in the owner hierarchy with an empty auth value and
 * policy, name algorithm SHA-256.  Returns 0; -EEXIST when already defined. */
int cvm_tpm2_nv_define(struct cvm_tpm2 *t, uint32_t index, uint32_t attributes, uint16_t size);

/* TPM2_NV_UndefineSpace (owner authorization).  Returns 0; -ENOENT. */
int cvm_tpm2_nv_undefine(struct cvm_tpm2 *t, uint32_t index);

/* TPM2_NV_Write of len bytes at offset (chunked as for reading). */
int cvm_tpm2_nv_write(struct cvm_tpm2 *t, uint32_t auth_handle, uint32_t index, uint16_t offset,
		      const uint8_t *data, size_t len);

/* TPM2_Quote with the key at SIGN_HANDLE (empty password), the key's own
 * scheme (inScheme TPM_ALG_NULL), qualifying data NONCE (at most 64 bytes)
 * and a single-bank PCR selection HASH_ALG/MASK.  The quoted TPMS_ATTEST is
 * copied to attest (cap CVM_TPM2_ATTEST_MAX), the signature's raw bytes to sig
 * (RSASSA/RSAPSS: the RSA signature; ECDSA: r || s, each padded to the
 * longer of the two). */
#define CVM_TPM2_ATTEST_MAX 1024
#define CVM_TPM2_SIG_MAX 512
struct cvm_tpm2_quote {
	uint8_t attest[CVM_TPM2_ATTEST_MAX];
	size_t attest_len;
	uint16_t sig_alg, sig_hash;
	uint8_t sig[CVM_TPM2_SIG_MAX];
	size_t sig_len;
};
int cvm_tpm2_quote(struct cvm_tpm2 *t, uint32_t sign_handle, const uint8_t *nonce, size_t nonce_len,
		   uint16_t hash_alg, uint32_t mask, struct cvm_tpm2_quote *ret);

#endif
