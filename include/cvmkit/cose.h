/* COSE_Sign1 (RFC 9052 §4.2) with ES256 / ES384, for signing what cvm-measure
 * publishes: the CoRIM (signed-corim, CBOR tag 18 around the unsigned CoRIM, as
 * draft-ietf-rats-corim §4.2 describes) and detached signatures of JSON files.
 *
 *   #6.18([ protected: << { 1: alg, 3: content-type, 4: kid } >>,
 *           unprotected: {},
 *           payload: bstr / nil (detached),
 *           signature: r || s ])        ; each half the curve's size
 *
 * The signature covers Sig_structure ["Signature1", protected, h'', payload].
 * kid is the SHA-256 of the signer's SubjectPublicKeyInfo (DER), so a verifier
 * can tell which key a file claims without trusting it.  ECDSA nonces are
 * RFC 6979 (mbedtls' deterministic ECDSA): equal inputs give equal bytes. */
#ifndef CVMKIT_COSE_H
#define CVMKIT_COSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/pk.h>

#define CVM_COSE_ALG_ES256 (-7)
#define CVM_COSE_ALG_ES384 (-35)
#define CVM_COSE_TAG_SIGN1 18
#define CVM_COSE_MAX_SIZE (64u << 20) /* a COSE_Sign1 we agree to parse */

/* The COSE algorithm for KEY: ES256 for P-256, ES384 for P-384.
 * Returns 0, or -EINVAL for any other key type or curve. */
int cvm_cose_alg_for_key(mbedtls_pk_context *key, int *ret_alg);

/* SHA-256 of KEY's SubjectPublicKeyInfo.  Returns 0 or -EINVAL. */
int cvm_cose_kid(mbedtls_pk_context *key, uint8_t ret_kid[32]);

/* Signs PAYLOAD with KEY (a private EC key) into a tagged COSE_Sign1 whose
 * protected header names CONTENT_TYPE; DETACHED leaves the payload out (nil).
 * *ret_buf is malloc'd.  Returns 0, -EINVAL (key), -ENOMEM, -EIO (signing). */
int cvm_cose_sign1(mbedtls_pk_context *key, const char *content_type, const uint8_t *payload, size_t len,
		   bool detached, uint8_t **ret_buf, size_t *ret_len);

/* What a parsed COSE_Sign1 holds.  Pointers refer into the caller's buffer. */
struct cvm_cose_sign1 {
	int alg;
	char content_type[64];
	uint8_t kid[32];
	bool has_kid;
	const uint8_t *protected_hdr; /* the protected header's bytes, as signed */
	size_t protected_len;
	const uint8_t *payload;       /* NULL when detached */
	size_t payload_len;
	const uint8_t *sig;           /* r || s */
	size_t sig_len;
};

/* Parses an untrusted (tagged or untagged) COSE_Sign1 of LEN bytes.  Returns
 * 0, -EBADMSG (not a COSE_Sign1 as above: other tags, algorithms other than
 * ES256/ES384, signature size wrong, duplicate or non-integer header labels),
 * -E2BIG (over CVM_COSE_MAX_SIZE), -ENOMEM. */
int cvm_cose_sign1_parse(const uint8_t *buf, size_t len, struct cvm_cose_sign1 *ret);

/* Verifies M (parsed from its buffer) with the public KEY.  PAYLOAD/LEN is the
 * detached payload (NULL to use the embedded one).  Returns 0, -EKEYREJECTED
 * (signature does not verify, or the key's algorithm or kid differs from the
 * header's), -EINVAL (no payload at all), -ENOMEM. */
int cvm_cose_sign1_verify(const struct cvm_cose_sign1 *m, mbedtls_pk_context *key, const uint8_t *payload,
			  size_t len);

#endif
