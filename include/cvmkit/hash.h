/* Hash algorithms as TPM PCR banks know them: over OpenSSL's libcrypto in
 * host tools (hardware SHA where the CPU has it), over mbedtls in the guest
 * (built with -DCVM_GUEST).  The TPM_ALG_ID values double as the enum values. */
#ifndef CVMKIT_HASH_H
#define CVMKIT_HASH_H

#include <stddef.h>
#include <stdint.h>

enum cvm_hash_alg {
	CVM_HASH_SHA1 = 0x0004,
	CVM_HASH_SHA256 = 0x000B,
	CVM_HASH_SHA384 = 0x000C,
	CVM_HASH_SHA512 = 0x000D,
};

#define CVM_HASH_MAX_SIZE 64

/* Digest size in bytes, or 0 for an algorithm cvmkit does not know. */
size_t cvm_hash_size(enum cvm_hash_alg alg);
/* "sha1", "sha256", "sha384", "sha512", or NULL. */
const char *cvm_hash_name(enum cvm_hash_alg alg);
/* Parses a name as above; 0 or -EINVAL. */
int cvm_hash_from_name(const char *name, enum cvm_hash_alg *ret_alg);

/* Incremental hashing.  The context is caller-owned and opaque in size only
 * to keep the backend's headers out of this header's users' include paths. */
struct cvm_hash_ctx {
	enum cvm_hash_alg alg;
	void *md; /* EVP_MD_CTX (host) or mbedtls_md_context_t (guest), owned */
};
int cvm_hash_init(struct cvm_hash_ctx *ctx, enum cvm_hash_alg alg);
int cvm_hash_update(struct cvm_hash_ctx *ctx, const void *buf, size_t len);
/* Writes cvm_hash_size() bytes to out and frees the context. */
int cvm_hash_final(struct cvm_hash_ctx *ctx, uint8_t *out);
/* Initialises dst as an independent copy of the running src (same algorithm,
 * same bytes absorbed), e.g. to read a digest of a prefix and go on hashing.
 * dst must not be initialised; free it with cvm_hash_final/cvm_hash_free. */
int cvm_hash_clone(struct cvm_hash_ctx *dst, const struct cvm_hash_ctx *src);
/* Frees a context without producing a digest (safe after final, or twice). */
void cvm_hash_free(struct cvm_hash_ctx *ctx);

/* One-shot digest of buf. */
int cvm_hash(enum cvm_hash_alg alg, const void *buf, size_t len, uint8_t *out);

/* PCR extend: pcr = H(pcr || digest), both cvm_hash_size(alg) bytes. */
int cvm_pcr_extend(enum cvm_hash_alg alg, uint8_t *pcr, const uint8_t *digest);

/* Streams the file at PATH through ALG (no size limit, nothing held in
 * memory but one read buffer): writes cvm_hash_size(alg) bytes to out and,
 * if ret_size is not NULL, the number of bytes hashed.  Returns 0, a negative
 * errno from open/read (-EISDIR for a directory), -ENOMEM, or the hash
 * backend's error; out and *ret_size are untouched on failure. */
int cvm_hash_file(enum cvm_hash_alg alg, const char *path, uint8_t *out, uint64_t *ret_size);

#endif
