/* X.509 helpers and ECDSA over (r, s) for the SNP and TD-quote chain
 * verifiers.  Private to verify/ (host only). */
#ifndef CVMKIT_VERIFY_X509_H
#define CVMKIT_VERIFY_X509_H

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

#endif
