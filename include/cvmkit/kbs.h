/* Client of Trustee's Key Broker Service, protocol 0.4.0 (RCAR:
 * ../shared/notes/kbs-protocol.md), for the Azure vTPM TEEs.
 *
 *   cvm_kbs_init      ephemeral TEE key (EC P-256 by default)
 *   cvm_kbs_auth      POST /kbs/v0/auth      -> challenge nonce + session cookie
 *   cvm_kbs_attest    runtime data -> SHA-384 report_data -> evidence callback
 *                     -> POST /kbs/v0/attest -> token (kept, not trusted)
 *   cvm_kbs_get_resource  GET /kbs/v0/resource/<repo>/<type>/<tag> -> JWE -> plaintext
 *
 * The client speaks through an abstract transport (struct cvm_kbs_transport)
 * so it runs over net/'s HTTP client in the init, over a test transport in
 * the unit tests, and over anything else.  Evidence comes from a callback
 * given the 48 report_data bytes.
 *
 * Every KBS response is untrusted input, capped at CVM_KBS_BODY_MAX.  On any
 * failure the client fills c->err (step, HTTP status, the KBS error "type" and
 * "detail" verbatim when the body is a KBS error) so the caller can print one
 * line; the library never prints.  No plaintext or key byte ever enters
 * c->err. */
#ifndef CVMKIT_KBS_H
#define CVMKIT_KBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/evidence.h"
#include "cvmkit/jose.h"
#include "cvmkit/kbsref.h"

#define CVM_KBS_BODY_MAX (1u << 20)
#define CVM_KBS_COOKIE_MAX 256
#define CVM_KBS_NONCE_MAX 128
#define CVM_KBS_REPORT_DATA_SIZE 48

/* ---------------------------------------------------------------- transport */

struct cvm_kbs_http_response {
	int status;    /* HTTP status code */
	uint8_t *body; /* malloc'd by the transport, owned (and freed) by the client */
	size_t body_len;
	/* The value of the Set-Cookie header carrying kbs-session-id (whole
	 * header value, attributes included), or "" when there was none. */
	char set_cookie[CVM_KBS_COOKIE_MAX];
};

/* Both calls return 0 with *ret filled for any HTTP status, or a negative
 * errno when no complete response arrived: -ECONNREFUSED, -ETIMEDOUT (the
 * transport enforces its deadlines), -ECONNRESET, -EFBIG (body above
 * CVM_KBS_BODY_MAX), -EPROTO (malformed HTTP), ...; then *ret is untouched.
 * PATH starts with "/kbs/v0/"; COOKIE is "kbs-session-id=<id>" or NULL and
 * goes into a Cookie header.  post_json sends Content-Type: application/json. */
struct cvm_kbs_transport {
	void *ctx;
	int (*post_json)(void *ctx, const char *path, const char *body, size_t body_len, const char *cookie,
			 struct cvm_kbs_http_response *ret);
	int (*get)(void *ctx, const char *path, const char *cookie, struct cvm_kbs_http_response *ret);
};

/* Produces the TEE's evidence JSON (the primary_evidence object, e.g. from
 * cvm_evidence_build) bound to REPORT_DATA (48 bytes).  For az-snp-vtpm and
 * az-tdx-vtpm the collector must (1) write the 48 bytes to vTPM NV index
 * 0x01400002 before reading the HCL report at 0x01400001, so they appear in
 * the var-data "user-data", and (2) pass them as TPM2_Quote qualifyingData,
 * so TPMS_ATTEST.extraData equals them exactly (azure-vtpm-evidence.md §2, §5).
 * Returns 0 with a malloc'd NUL-terminated JSON text in *ret_json, or a
 * negative errno (reported as step "evidence"). */
typedef int (*cvm_kbs_evidence_fn)(void *ctx, enum cvm_tee tee, const uint8_t *report_data, size_t report_data_len,
				   char **ret_json);

/* ---------------------------------------------------------------- client */

struct cvm_kbs_config {
	enum cvm_tee tee;
	bool legacy_tee_names;          /* "azsnpvtpm"/"aztdxvtpm" for Trustee < v0.16 */
	enum cvm_tee_key_type key_type; /* CVM_TEE_KEY_EC_P256 (default, 0) or _RSA */
	const struct cvm_kbs_transport *transport;
	cvm_kbs_evidence_fn evidence;
	void *evidence_ctx;
	/* Optional init-data TOML sent as {"format":"toml","body":...}; the
	 * guest must have extended PCR 8 with its SHA-256.  NULL: none. */
	const char *init_data_toml;
};

enum cvm_kbs_step {
	CVM_KBS_STEP_NONE,
	CVM_KBS_STEP_KEY,
	CVM_KBS_STEP_AUTH,
	CVM_KBS_STEP_EVIDENCE,
	CVM_KBS_STEP_ATTEST,
	CVM_KBS_STEP_RESOURCE,
	CVM_KBS_STEP_DECRYPT,
};

/* "key", "auth", "evidence", "attest", "resource", "decrypt"; "none". */
const char *cvm_kbs_step_name(enum cvm_kbs_step s);

struct cvm_kbs_error {
	enum cvm_kbs_step step;
	int code;        /* the negative errno returned */
	int http_status; /* 0 when no HTTP response was received */
	char type[160];  /* KBS error type URI verbatim, "" when not a KBS error body */
	char detail[512];/* KBS detail verbatim (truncated), else a short description */
};

/* Caller-owned; zero it or let cvm_kbs_init fill it.  Release with cvm_kbs_free. */
struct cvm_kbs_client {
	struct cvm_kbs_config cfg;
	struct cvm_tee_key key;
	char jwk[900];                        /* canonical public JWK of key */
	char nonce[CVM_KBS_NONCE_MAX];        /* challenge nonce, verbatim */
	char cookie[CVM_KBS_COOKIE_MAX];      /* "kbs-session-id=<id>" */
	uint8_t report_data[CVM_KBS_REPORT_DATA_SIZE];
	char *token;                          /* EAR JWT from /attest (not verified) */
	bool attested;
	struct cvm_kbs_error err;
};

/* Copies CFG (pointers are borrowed: they must outlive C) and generates the
 * TEE key.  Returns 0; -EINVAL without transport or evidence callback;
 * -EIO / -ENOMEM from key generation (step "key"). */
int cvm_kbs_init(struct cvm_kbs_client *c, const struct cvm_kbs_config *cfg);

/* Wipes the key and frees the token; safe on a zeroed client and twice. */
void cvm_kbs_free(struct cvm_kbs_client *c);

/* POST /kbs/v0/auth.  Returns 0; the transport's negative errno; -EACCES
 * (HTTP 401) / -ENOENT (404) / -EPROTO (any other non-200) with c->err
 * holding the KBS error; -EBADMSG for a malformed challenge, a missing or
 * malformed kbs-session-id cookie. */
int cvm_kbs_auth(struct cvm_kbs_client *c);

/* Builds the runtime data, calls the evidence callback, POSTs /kbs/v0/attest
 * and keeps the token.  Needs a successful cvm_kbs_auth (else -EINVAL).
 * Returns 0 or as cvm_kbs_auth (a refused attestation is -EACCES with the
 * KBS's AttestationError in c->err); the callback's errno at step evidence. */
int cvm_kbs_attest(struct cvm_kbs_client *c);

/* GET /kbs/v0/resource/PATH (PATH = "<repo>/<type>/<tag>", each segment
 * [A-Za-z0-9_-][A-Za-z0-9_.-]*) on the attested session and decrypts the JWE.
 * The plaintext is malloc'd with an extra NUL not counted in *ret_len; wipe
 * and free it with cvm_jose_free_secret(p, len + 1).  Returns 0; -EINVAL for
 * a bad path or no attested session; HTTP and transport errors as above;
 * cvm_jwe_decrypt's errors at step decrypt (-EKEYREJECTED for a response
 * not encrypted to our key). */
int cvm_kbs_get_resource(struct cvm_kbs_client *c, const char *path, uint8_t **ret, size_t *ret_len);

/* Convenience with the signature of cvm_sealed_fetch_fn (CTX is the client):
 * authenticates and attests when not yet attested, fetches PATH, and when the
 * KBS answers 401 TokenNotFound/TokenVerifierError (an expired session)
 * re-attests once and retries. */
int cvm_kbs_fetch(void *ctx, const char *path, uint8_t **ret, size_t *ret_len);

/* ---------------------------------------------------------------- ready-made transport and evidence */

struct cvm_http_client;
struct cvm_tpm2;

/* A transport over net/'s HTTP client (include/cvmkit/http.h): requests go
 * to BASE_URL ("https://host:port", no trailing slash, at most 255
 * characters) with client CL (TLS options, deadlines, retries: POSTs are
 * retried only while nothing was sent), whose body cap should be at most
 * CVM_KBS_BODY_MAX.  CTX is caller-owned and must outlive the transport.
 * HTTP errors map as http.h says; -EMSGSIZE becomes -EFBIG. */
struct cvm_kbs_http_ctx {
	const struct cvm_http_client *client;
	char base_url[256];
};
int cvm_kbs_http_transport(struct cvm_kbs_http_ctx *ctx, const char *base_url, const struct cvm_http_client *cl,
			   struct cvm_kbs_transport *ret);

/* Evidence from an Azure vTPM (include/cvmkit/azure.h): writes the
 * report_data to NV 0x01400002, reads the HCL report (re-reading it for up to
 * user_data_wait_ms until it carries report_data), quotes
 * PCRs 0-23 with it as qualifying data and builds evidence VERSION (1 or 2)
 * with the VCEK (SNP) or TD quote (TDX) the caller fetched from IMDS.  Pass
 * cvm_kbs_azure_evidence as the callback and a struct cvm_kbs_azure_ctx as
 * its context. */
struct cvm_kbs_azure_ctx {
	struct cvm_tpm2 *tpm;
	int version;            /* 1 or 2 */
	unsigned user_data_wait_ms; /* cvm_azure_collect_opts'; 0 against a static simulator */
	const uint8_t *vcek_der; size_t vcek_len;     /* SNP */
	const uint8_t *td_quote; size_t td_quote_len; /* TDX */
};
int cvm_kbs_azure_evidence(void *ctx, enum cvm_tee tee, const uint8_t *report_data, size_t report_data_len,
			   char **ret_json);

/* ---------------------------------------------------------------- pieces (tested and fuzzed on their own) */

/* TEE name on the wire. */
const char *cvm_kbs_tee_name(enum cvm_tee tee, bool legacy);

/* {"version":"0.4.0","tee":"<tee>","extra-params":""} into out (capacity
 * cap).  Returns the length or -ENOBUFS. */
int cvm_kbs_auth_body(const char *tee_name, char *out, size_t cap);

/* Parses a challenge {"nonce":"<standard base64 of 16..64 bytes>",
 * "extra-params":...}: copies the nonce verbatim to out (capacity cap).
 * Returns 0; -EFBIG; -EBADMSG; -ENOBUFS. */
int cvm_kbs_parse_challenge(const uint8_t *buf, size_t len, char *nonce, size_t cap);

/* From a Set-Cookie header value, the "kbs-session-id=<id>" pair (id of 1 to
 * 128 characters [A-Za-z0-9_-]).  Returns 0; -ENOENT when the header sets
 * another cookie; -EBADMSG for a malformed id; -ENOBUFS. */
int cvm_kbs_parse_set_cookie(const char *header, char *out, size_t cap);

/* The canonical (RFC 8785) runtime data
 * {"additional-evidence":"","nonce":"<nonce>","tee-pubkey":<jwk>} and its
 * SHA-384.  JWK must already be canonical (cvm_tee_key_jwk).  Returns 0 with
 * a malloc'd string; -EINVAL for a nonce that would need escaping; -ENOMEM. */
int cvm_kbs_runtime_data(const char *nonce, const char *jwk, char **ret_json,
			 uint8_t ret_hash[CVM_KBS_REPORT_DATA_SIZE]);

/* The /attest body with EVIDENCE (a JSON object text, checked to parse) as
 * primary_evidence and "" as additional_evidence.  Returns 0 with a malloc'd
 * string; -EBADMSG when EVIDENCE is not a JSON object; -ENOMEM. */
int cvm_kbs_attest_body(const char *nonce, const char *jwk, const char *evidence, const char *init_data_toml,
			char **ret_body);

/* {"token":"<JWT>"} -> malloc'd token.  0, -EFBIG, -EBADMSG, -ENOMEM. */
int cvm_kbs_parse_token(const uint8_t *buf, size_t len, char **ret_token);

/* A KBS error body {"type":"...","detail":"..."} into e->type / e->detail
 * (truncated to fit, control characters replaced by '?').  Returns 0;
 * -EBADMSG when the body is not such an object (e untouched). */
int cvm_kbs_parse_error(const uint8_t *buf, size_t len, struct cvm_kbs_error *e);

#endif
