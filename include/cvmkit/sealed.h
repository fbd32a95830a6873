/* CoCo sealed secrets (../shared/notes/sealed-secrets.md):
 * "sealed." + compact JWS (ES256) whose payload names the secret.
 *
 * Unsealing always verifies the signature: the JWS "kid" must be a KBS
 * resource URI (kbs:///<repo>/<type>/<tag>, any host ignored) whose content is
 * the public P-256 JWK; the legacy unsigned form is refused.  Only
 * {"version":"0.1.0","type":"vault","provider":"kbs"} secrets can be
 * unsealed: the plaintext is the KBS resource the "name" URI points to.
 * Envelope secrets and other providers need a KMS this client does not have
 * and are refused with distinct error codes.
 *
 * Inputs are untrusted, (buf, len), capped at CVM_SEALED_MAX.  Nothing
 * prints. */
#ifndef CVMKIT_SEALED_H
#define CVMKIT_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "cvmkit/jose.h"
#include "cvmkit/kbsref.h"

#define CVM_SEALED_MAX (64u << 10)
#define CVM_SEALED_PATH_MAX 256

/* Fetches the KBS resource PATH ("<repo>/<type>/<tag>") over an attested
 * session; on success *ret is a malloc'd buffer of *ret_len bytes plus a NUL
 * that the caller frees with cvm_jose_free_secret(p, len + 1).  cvm_kbs_fetch
 * (kbs.h) has this signature.  Negative errno on failure. */
typedef int (*cvm_sealed_fetch_fn)(void *ctx, const char *path, uint8_t **ret, size_t *ret_len);

enum cvm_sealed_type {
	CVM_SEALED_VAULT,
	CVM_SEALED_ENVELOPE,
	CVM_SEALED_OTHER,
};

/* A parsed, not yet verified, sealed secret.  Release with cvm_sealed_free. */
struct cvm_sealed {
	struct cvm_jws jws;
	char key_path[CVM_SEALED_PATH_MAX]; /* kid as a resource path, "" when kid is not a kbs:// URI */
	char version[16];
	enum cvm_sealed_type type;
	char provider[32];                  /* as written; "" when absent */
	char name[CVM_SEALED_PATH_MAX];     /* vault "name" as written; "" when absent */
};

/* Parses "sealed.<jws>" and its payload (a JSON object with string "version"
 * and "type").  Returns 0; -EFBIG; -EBADMSG (no "sealed." prefix, malformed
 * JWS, including the legacy "fakejwsheader" form, or payload; an over-long
 * member); -ENOMEM. */
int cvm_sealed_parse(const uint8_t *buf, size_t len, struct cvm_sealed *ret);
void cvm_sealed_free(struct cvm_sealed *s);

/* Parses, fetches the signing key named by kid, verifies, and fetches the
 * vault secret.  On success *ret is the malloc'd plaintext (plus NUL, not
 * counted); wipe and free with cvm_jose_free_secret(p, len + 1).
 * Returns 0, or:
 *   cvm_sealed_parse's errors;
 *   -ENOKEY        kid is not a kbs:// URI (local key files are not supported);
 *   -EOPNOTSUPP    alg is not ES256, or an envelope secret, or a kbs+plugin URI;
 *   -EKEYREJECTED  the signature does not verify (or the key resource is not a
 *                  public P-256 JWK);
 *   -EPROTO        payload version is not "0.1.0" or its type is unknown;
 *   -EPROTONOSUPPORT  vault provider other than "kbs" (case-insensitive);
 *   -EINVAL        vault name is not a KBS resource URI;
 *   the fetch callback's errno (from fetching the key or the secret). */
int cvm_sealed_unseal(const uint8_t *buf, size_t len, cvm_sealed_fetch_fn fetch, void *ctx, uint8_t **ret,
		      size_t *ret_len);

#endif
