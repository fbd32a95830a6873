/* JOSE pieces a KBS client needs (../shared/notes/kbs-protocol.md §4, §7;
 * sealed-secrets.md §1): base64url, the TEE key pair and its public JWK,
 * decryption of Trustee's resource responses (JWE JSON serialization,
 * ECDH-ES+A256KW or RSA-OAEP-256 with A256GCM) and ES256 compact JWS
 * verification.
 *
 * Every parser here reads untrusted bytes: inputs are (buf, len), need not be
 * NUL-terminated, and are capped at CVM_JOSE_MAX_SIZE.  Nothing prints.
 * Private key material and plaintexts held in library buffers are wiped with
 * explicit_bzero before they are freed; a plaintext handed to the caller is
 * the caller's to wipe (cvm_jose_free_secret). */
#ifndef CVMKIT_JOSE_H
#define CVMKIT_JOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/ct.h" /* cvm_ct_equal, declared here before it moved to common/ */

#define CVM_JOSE_MAX_SIZE (1u << 20)

/* ---------------------------------------------------------------- base64url */

/* Characters of the unpadded base64url encoding of LEN bytes (no NUL). */
size_t cvm_b64url_len(size_t len);

/* Writes the unpadded base64url encoding of buf and a NUL into out (capacity
 * cap).  Returns the number of characters (without the NUL), or -ENOBUFS
 * when cap < cvm_b64url_len(len) + 1 (out untouched). */
int cvm_b64url_encode(const uint8_t *buf, size_t len, char *out, size_t cap);

/* Strict RFC 7515 base64url: alphabet [A-Za-z0-9_-], no '=' padding, no
 * whitespace, no non-zero trailing bits.  Decodes s[0..slen) into out
 * (capacity cap).  Returns the decoded length; -EINVAL for malformed text;
 * -ENOBUFS when out is too small. */
int cvm_b64url_decode(const char *s, size_t slen, uint8_t *out, size_t cap);

/* explicit_bzero(p, len) then free(p); NULL is fine. */
void cvm_jose_free_secret(void *p, size_t len);

/* ---------------------------------------------------------------- TEE key */

enum cvm_tee_key_type {
	CVM_TEE_KEY_EC_P256, /* JWK alg "ECDH-ES+A256KW" (the guest-components default) */
	CVM_TEE_KEY_RSA,     /* JWK alg "RSA-OAEP-256", 2048-bit when generated */
};

/* Caller-owned.  EC keys live inline; an RSA key is held in a heap mbedtls
 * context.  Release with cvm_tee_key_free(), which wipes it. */
struct cvm_tee_key {
	enum cvm_tee_key_type type;
	uint8_t d[32]; /* EC private scalar, big-endian */
	uint8_t x[32], y[32];
	void *rsa; /* mbedtls_rsa_context *, RSA only */
};

/* Generates a fresh key from the kernel's random source (getrandom).
 * Returns 0; -EINVAL for an unknown type; -EIO when randomness or key
 * generation fails; -ENOMEM.  RSA generation takes about a second. */
int cvm_tee_key_generate(enum cvm_tee_key_type type, struct cvm_tee_key *ret);

/* Loads a private key (PKCS#8 or SEC1/PKCS#1, PEM or DER; at most 16 KiB):
 * P-256 or RSA (2048..4096 bits).  Returns 0; -EBADMSG when it does not parse;
 * -EOPNOTSUPP for another curve or key type; -ENOMEM. */
int cvm_tee_key_load(const uint8_t *buf, size_t len, struct cvm_tee_key *ret);

/* Wipes and frees; safe on a zeroed struct and twice. */
void cvm_tee_key_free(struct cvm_tee_key *k);

/* The public JWK in RFC 8785 canonical form, exactly the members Trustee
 * keeps: {"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":..,"y":..} or
 * {"alg":"RSA-OAEP-256","e":..,"kty":"RSA","n":..}.  Written with a NUL to out
 * (capacity cap; 160 bytes suffice for EC, 800 for RSA-4096), only when it
 * fits.  Returns the
 * length without the NUL; -ENOBUFS; -EINVAL for an unusable key. */
int cvm_tee_key_jwk(const struct cvm_tee_key *k, char *out, size_t cap);

/* ---------------------------------------------------------------- JWE */

/* Decrypts a JWE in JSON serialization (flattened, or general with exactly
 * one recipient) addressed to K.  Header parameters are merged from the
 * protected header, the shared "unprotected" header and the per-recipient
 * "header" (a name in two places is an error, RFC 7516 §7.2.1), so "epk" is
 * accepted wherever the serialization allows it.  alg must match the key
 * (ECDH-ES+A256KW for EC with an epk on P-256, apu/apv honoured;
 * RSA-OAEP-256 for RSA); enc must be A256GCM; AAD = ASCII of the protected
 * member as received (plus "." and the aad member when present); "zip" is
 * refused.  On success *ret_pt is a malloc'd copy of the plaintext (with an
 * extra NUL not counted in *ret_len) that the caller wipes and frees with
 * cvm_jose_free_secret(p, len + 1).
 * Returns 0; -EFBIG above CVM_JOSE_MAX_SIZE; -EBADMSG for malformed JSON,
 * base64url or header, or wrong sizes (IV 12, tag 16, wrapped key 40);
 * -EOPNOTSUPP for another alg/enc, a zip member or an alg not matching the
 * key; -EKEYREJECTED when the key unwrap or GCM tag fails (wrong key or
 * tampering); -ENOMEM. */
int cvm_jwe_decrypt(const struct cvm_tee_key *k, const uint8_t *buf, size_t len, uint8_t **ret_pt,
		    size_t *ret_len);

/* ---------------------------------------------------------------- JWS */

#define CVM_JWS_KID_MAX 256

/* A parsed compact JWS.  payload is malloc'd (with a NUL not counted in
 * payload_len); release with cvm_jws_free(). */
struct cvm_jws {
	char alg[16];
	char kid[CVM_JWS_KID_MAX]; /* "" when the header has none */
	uint8_t *payload;
	size_t payload_len;
	uint8_t digest[32]; /* SHA-256 of the signing input "<header>.<payload>" */
	uint8_t sig[64];    /* r || s when alg is ES256 */
	size_t sig_len;
};

/* Parses header.payload.signature (base64url, no padding).  The header must
 * be a JSON object with a string "alg"; "crit" is refused.  Returns 0;
 * -EFBIG; -EBADMSG (not three parts, bad base64url or JSON, kid longer than
 * CVM_JWS_KID_MAX - 1, signature longer than 64 bytes); -ENOMEM. */
int cvm_jws_parse(const uint8_t *buf, size_t len, struct cvm_jws *ret);
void cvm_jws_free(struct cvm_jws *jws);

/* Public P-256 key from a JWK JSON object (kty EC, crv P-256, x and y of
 * exactly 32 bytes; "d" and other members ignored; at most 16 KiB).  The point
 * must be on the curve.  Writes x||y to ret_xy.  Returns 0; -EBADMSG;
 * -EOPNOTSUPP for another kty or curve. */
int cvm_jwk_p256_parse(const uint8_t *buf, size_t len, uint8_t ret_xy[64]);

/* Verifies an ES256 JWS with the P-256 key x||y.  Returns 0;
 * -EOPNOTSUPP when alg is not ES256; -EBADMSG when the signature is not 64
 * bytes; -EKEYREJECTED when it does not verify. */
int cvm_jws_verify_es256(const struct cvm_jws *jws, const uint8_t key_xy[64]);

#endif
