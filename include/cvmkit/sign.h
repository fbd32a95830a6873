/* Authenticode signing of PE images (UEFI Secure Boot) and the signature
 * lists a firmware trusts.
 *
 * A signer is opaque: today it holds a PEM key and certificate in memory
 * (cvm_signer_from_pem); a PKCS#11/HSM signer would be another constructor
 * behind the same cvm_signer_sign_digest(), and cvm_sign_pe() would not change.
 *
 * The signature is what sbsign/pesign write: PKCS#7 SignedData (SHA-256)
 * over an SpcIndirectDataContent holding the image's Authenticode digest,
 * authenticated attributes contentType and messageDigest only (no signing
 * time, so the output depends on the input bytes and the key alone), in one
 * WIN_CERTIFICATE (revision 2.0, type PKCS_SIGNED_DATA) appended at the end
 * of the file, which is first zero-padded to 8 bytes.  RSA PKCS#1 v1.5 and
 * ECDSA (RFC 6979, deterministic) keys. */
#ifndef CVMKIT_SIGN_H
#define CVMKIT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "cvmkit/cert.h" /* cvm_cert_der(), for the certificates signers and lists take */

struct cvm_signer;

/* Largest certificate or key file accepted. */
#define CVM_SIGN_MAX_PEM (64u << 10)

/* A signer from a PEM (or DER) private key and the matching X.509
 * certificate.  pass (may be NULL) decrypts an encrypted key; the caller
 * wipes its own copy.  Returns 0 and *ret (free with cvm_signer_free), or
 * -EBADMSG (unparsable key or certificate), -EACCES (encrypted key, missing
 * or wrong passphrase), -EKEYREJECTED (key and certificate do not match),
 * -EOPNOTSUPP (neither RSA nor ECDSA), -ENOMEM. */
int cvm_signer_from_pem(const uint8_t *key, size_t key_len, const char *pass, const uint8_t *cert, size_t cert_len,
			struct cvm_signer **ret);
void cvm_signer_free(struct cvm_signer *s);

/* The signer's certificate, DER; valid while s lives. */
const uint8_t *cvm_signer_cert(const struct cvm_signer *s, size_t *ret_len);

/* Whether a firmware whose db holds the certificate der[0, len) lets what s
 * signs run: the signature carries only s's certificate, so UEFI accepts it
 * when db holds that certificate or the one that issued it (signature
 * checked; validity dates ignored, as firmware has no trusted clock).
 * Returns 1, 0, or -EBADMSG when der is not a certificate. */
int cvm_signer_authorised_by(const struct cvm_signer *s, const uint8_t *der, size_t len);

/* Signs a SHA-256 digest.  Writes at most cap bytes to sig.  Returns 0 and
 * *ret_len, -ENOSPC (cap too small), -EIO (the crypto layer failed). */
int cvm_signer_sign_digest(struct cvm_signer *s, const uint8_t digest[32], uint8_t *sig, size_t cap,
			   size_t *ret_len);

/* Signs the PE image in buf[0, len).  *ret_buf (malloc'd) is the image
 * padded to 8 bytes, with the certificate table appended, data directory 4
 * pointing at it and the CheckSum recomputed.  Returns 0, -EBADMSG (not a
 * PE, or no data directory 4), -EEXIST (already signed), -EFBIG (result
 * above 4 GiB), or the signer's error. */
int cvm_sign_pe(struct cvm_signer *s, const uint8_t *buf, size_t len, uint8_t **ret_buf, size_t *ret_len);

/* EFI_CERT_X509_GUID signature list holding one certificate (DER), owned by
 * owner (16 bytes, on-disk order): the form of a db/KEK/PK entry.
 * *ret_buf is malloc'd.  Returns 0, -EINVAL (empty cert), -ENOMEM. */
int cvm_esl_x509(const uint8_t owner[16], const uint8_t *der, size_t der_len, uint8_t **ret_buf, size_t *ret_len);

#endif
