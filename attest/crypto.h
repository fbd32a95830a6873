/* Signature helpers over mbedtls shared by the SNP, TD-quote and TPM-quote
 * verifiers.  Private to attest/. */
#ifndef CVMKIT_ATTEST_CRYPTO_H
#define CVMKIT_ATTEST_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

/* 0 when CHILD names PARENT as its issuer (raw DER compare) and PARENT's key
 * verifies CHILD's signature (whatever scheme CHILD declares, RSASSA-PSS
 * included).  -EKEYREJECTED otherwise.  Validity dates are not looked at:
 * an offline verifier has no trustworthy clock, and Trustee ignores them too. */
int cvm_x509_signed_by(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent);

/* Finds the extension with the DER-encoded OID (without tag and length) in
 * CRT.  On success points *ret_val and *ret_len at the extnValue contents (the
 * bytes inside the OCTET STRING).  -ENOENT if absent, -EBADMSG if the
 * extension list is malformed. */
int cvm_x509_find_ext(const mbedtls_x509_crt *crt, const uint8_t *oid, size_t oid_len,
		      const uint8_t **ret_val, size_t *ret_len);

/* Copies the first CN of CRT's subject into out (capacity cap, NUL-terminated);
 * -ENOENT when there is none, -ENAMETOOLONG when it does not fit. */
int cvm_x509_subject_cn(const mbedtls_x509_crt *crt, char *out, size_t cap);

/* ECDSA verification of HASH with the public key in PK, the signature given as
 * big-endian r and s (leading zero bytes allowed).  0 or -EKEYREJECTED. */
int cvm_ecdsa_verify_rs(mbedtls_pk_context *pk, int md_type, const uint8_t *hash, size_t hash_len,
			const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len);

/* Same with a raw uncompressed P-256 point x||y (64 bytes) as the key. */
int cvm_ecdsa_p256_verify_raw(const uint8_t key_xy[64], const uint8_t hash[32], const uint8_t sig_rs[64]);

/* RSASSA-PKCS1-v1_5 with SHA-256 over MSG with the key (n, e) given as
 * big-endian magnitudes.  0, -EKEYREJECTED for a bad signature, -EINVAL for an
 * unusable key (fewer than 2048 or more than 4096 bits). */
int cvm_rsa_pkcs1_sha256_verify(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
				const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

#endif
