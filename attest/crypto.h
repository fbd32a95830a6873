/* Signature helpers over mbedtls the guest collector needs: the TPM quote's
 * AK signature and ES256 for sealed secrets.  Private to attest/ (verify/
 * uses them too; it may depend on attest/, never the reverse). */
#ifndef CVMKIT_ATTEST_CRYPTO_H
#define CVMKIT_ATTEST_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* ECDSA P-256 verification with a raw uncompressed point x||y (64 bytes) as
 * the key, the signature as r||s (32 bytes each).  0 or -EKEYREJECTED. */
int cvm_ecdsa_p256_verify_raw(const uint8_t key_xy[64], const uint8_t hash[32], const uint8_t sig_rs[64]);

/* RSASSA-PKCS1-v1_5 with SHA-256 over MSG with the key (n, e) given as
 * big-endian magnitudes.  0, -EKEYREJECTED for a bad signature, -EINVAL for an
 * unusable key (fewer than 2048 or more than 4096 bits). */
int cvm_rsa_pkcs1_sha256_verify(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
				const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

#endif
