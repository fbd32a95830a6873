/* KBS protocol 0.4.0 client state machine over an abstract transport. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/hash.h"
#include "cvmkit/kbs.h"
#include "b64.h"

#define ERR_PREFIX "https://github.com/confidential-containers/kbs/errors/"

const char *cvm_kbs_step_name(enum cvm_kbs_step s)
{
	static const char *const names[] = { "none", "key", "auth", "evidence", "attest", "resource", "decrypt" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "none";
}

const char *cvm_kbs_tee_name(enum cvm_tee tee, bool legacy)
{
	if (tee == CVM_TEE_AZ_TDX_VTPM)
		return legacy ? "aztdxvtpm" : "az-tdx-vtpm";
	return legacy ? "azsnpvtpm" : "az-snp-vtpm";
}

int cvm_kbs_auth_body(const char *tee_name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "{\"version\":\"0.4.0\",\"tee\":\"%s\",\"extra-params\":\"\"}", tee_name);
	return n < 0 || (size_t)n >= cap ? -ENOBUFS : n;
}

static bool is_b64_std(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		      c == '='))
			return false;
	}
	return true;
}

static cJSON *parse_object(const uint8_t *buf, size_t len, int *ret)
{
	cJSON *o;

	if (len > CVM_KBS_BODY_MAX) {
		*ret = -EFBIG;
		return NULL;
	}
	o = cJSON_ParseWithLength((const char *)buf, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		*ret = -EBADMSG;
		return NULL;
	}
	return o;
}

int cvm_kbs_parse_challenge(const uint8_t *buf, size_t len, char *nonce, size_t cap)
{
	cJSON *o;
	const cJSON *n;
	uint8_t raw[CVM_KBS_NONCE_MAX];
	size_t sl;
	int r = 0, d;

	o = parse_object(buf, len, &r);
	if (!o)
		return r;
	r = -EBADMSG;
	n = cJSON_GetObjectItemCaseSensitive(o, "nonce");
	if (!cJSON_IsString(n) || !cJSON_GetObjectItemCaseSensitive(o, "extra-params"))
		goto out;
	sl = strlen(n->valuestring);
	/* Trustee sends 32 random bytes in padded standard base64; anything that
	 * would need JSON escaping or is implausibly short is not a nonce. */
	if (sl == 0 || sl >= sizeof(raw) || !is_b64_std(n->valuestring, sl))
		goto out;
	d = cvm_b64_decode(n->valuestring, sl, raw, sizeof(raw));
	if (d < 16 || d > 64)
		goto out;
	r = -ENOBUFS;
	if (sl >= cap)
		goto out;
	memcpy(nonce, n->valuestring, sl + 1);
	r = 0;
out:
	cJSON_Delete(o);
	return r;
}

int cvm_kbs_parse_set_cookie(const char *header, char *out, size_t cap)
{
	static const char key[] = "kbs-session-id=";
	const char *p = header, *v, *rest;
	size_t id = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, key, sizeof(key) - 1) != 0)
		return -ENOENT;
	v = p + sizeof(key) - 1;
	for (;; id++) {
		char c = v[id];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			break;
	}
	rest = v + id;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (id == 0 || id > 128 || (*rest != 0 && *rest != ';'))
		return -EBADMSG;
	if (sizeof(key) - 1 + id >= cap)
		return -ENOBUFS;
	memcpy(out, key, sizeof(key) - 1);
	memcpy(out + sizeof(key) - 1, v, id);
	out[sizeof(key) - 1 + id] = 0;
	return 0;
}

int cvm_kbs_runtime_data(const char *nonce, const char *jwk, char **ret_json, uint8_t ret_hash[CVM_KBS_REPORT_DATA_SIZE])
{
	char *s;
	size_t n;
	int r;

	/* The nonce is embedded unescaped, which JCS allows only for plain
	 * printable characters other than '"' and '\'. */
	if (!is_b64_std(nonce, strlen(nonce)) || !*nonce)
		return -EINVAL;
	n = strlen(nonce) + strlen(jwk) + 64;
	s = malloc(n);
	if (!s)
		return -ENOMEM;
	snprintf(s, n, "{\"additional-evidence\":\"\",\"nonce\":\"%s\",\"tee-pubkey\":%s}", nonce, jwk);
	r = cvm_hash(CVM_HASH_SHA384, s, strlen(s), ret_hash);
	if (r < 0) {
		free(s);
		return -EIO;
	}
	*ret_json = s;
	return 0;
}

int cvm_kbs_attest_body(const char *nonce, const char *jwk, const char *evidence, const char *init_data_toml,
			char **ret_body)
{
	cJSON *ev = cJSON_Parse(evidence), *init = NULL;
	char *init_s = NULL, *s = NULL;
	size_t n;
	int r = -EBADMSG;

	if (!cJSON_IsObject(ev))
		goto out;
	r = -ENOMEM;
	if (init_data_toml) {
		/* cJSON escapes the TOML text for us. */
		init = cJSON_CreateObject();
		if (!init || !cJSON_AddStringToObject(init, "format", "toml") ||
		    !cJSON_AddStringToObject(init, "body", init_data_toml))
			goto out;
		init_s = cJSON_PrintUnformatted(init);
		if (!init_s)
			goto out;
	}
	n = strlen(nonce) + strlen(jwk) + strlen(evidence) + (init_s ? strlen(init_s) : 4) + 160;
	s = malloc(n);
	if (!s)
		goto out;
	snprintf(s, n,
		 "{\"init-data\":%s,\"runtime-data\":{\"nonce\":\"%s\",\"tee-pubkey\":%s},"
		 "\"tee-evidence\":{\"primary_evidence\":%s,\"additional_evidence\":\"\"}}",
		 init_s ? init_s : "null", nonce, jwk, evidence);
	*ret_body = s;
	s = NULL;
	r = 0;
out:
	free(s);
	free(init_s);
	cJSON_Delete(init);
	cJSON_Delete(ev);
	return r;
}

int cvm_kbs_parse_token(const uint8_t *buf, size_t len, char **ret_token)
{
	cJSON *o;
	const cJSON *t;
	int r = 0;

	o = parse_object(buf, len, &r);
	if (!o)
		return r;
	r = -EBADMSG;
	t = cJSON_GetObjectItemCaseSensitive(o, "token");
	if (cJSON_IsString(t) && t->valuestring[0]) {
		char *s = strdup(t->valuestring);
		r = s ? 0 : -ENOMEM;
		if (s)
			*ret_token = s;
	}
	cJSON_Delete(o);
	return r;
}

/* Copies SRC into DST (capacity cap) truncating, with control characters
 * replaced: the caller prints the text on a console. */
static void copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[i] = 0;
}

int cvm_kbs_parse_error(const uint8_t *buf, size_t len, struct cvm_kbs_error *e)
{
	cJSON *o;
	const cJSON *t, *d;
	int r = 0;

	o = parse_object(buf, len, &r);
	if (!o)
		return -EBADMSG;
	t = cJSON_GetObjectItemCaseSensitive(o, "type");
	d = cJSON_GetObjectItemCaseSensitive(o, "detail");
	r = -EBADMSG;
	if (cJSON_IsString(t) && cJSON_IsString(d)) {
		copy_printable(e->type, sizeof(e->type), t->valuestring);
		copy_printable(e->detail, sizeof(e->detail), d->valuestring);
		r = 0;
	}
	cJSON_Delete(o);
	return r;
}

/* ---------------------------------------------------------------- state machine */

static int fail(struct cvm_kbs_client *c, enum cvm_kbs_step step, int code, int http, const char *detail)
{
	memset(&c->err, 0, sizeof(c->err));
	c->err.step = step;
	c->err.code = code;
	c->err.http_status = http;
	copy_printable(c->err.detail, sizeof(c->err.detail), detail);
	return code;
}

static const char *errno_text(int code)
{
	switch (code) {
	case -ECONNREFUSED: return "connection refused";
	case -ETIMEDOUT: return "timed out";
	case -ECONNRESET: return "connection reset";
	case -EFBIG: return "response body too large";
	case -EPROTO: return "malformed HTTP response";
	case -EBADMSG: return "malformed response";
	case -EHOSTUNREACH: return "host unreachable";
	case -ENOMEM: return "out of memory";
	default: return "transport error";
	}
}

/* Turns a non-200 response into the error of STEP, keeping the KBS's words. */
static int http_fail(struct cvm_kbs_client *c, enum cvm_kbs_step step, const struct cvm_kbs_http_response *rsp)
{
	int code = rsp->status == 401 ? -EACCES : rsp->status == 404 ? -ENOENT : -EPROTO;
	char d[64];

	snprintf(d, sizeof(d), "HTTP status %d", rsp->status);
	fail(c, step, code, rsp->status, d);
	cvm_kbs_parse_error(rsp->body, rsp->body_len, &c->err);
	return code;
}

static void rsp_free(struct cvm_kbs_http_response *rsp)
{
	free(rsp->body);
	memset(rsp, 0, sizeof(*rsp));
}

int cvm_kbs_init(struct cvm_kbs_client *c, const struct cvm_kbs_config *cfg)
{
	int r;

	memset(c, 0, sizeof(*c));
	if (!cfg->transport || !cfg->transport->post_json || !cfg->transport->get || !cfg->evidence)
		return fail(c, CVM_KBS_STEP_KEY, -EINVAL, 0, "incomplete configuration");
	c->cfg = *cfg;
	r = cvm_tee_key_generate(cfg->key_type, &c->key);
	if (r < 0)
		return fail(c, CVM_KBS_STEP_KEY, r, 0, "cannot generate the TEE key");
	r = cvm_tee_key_jwk(&c->key, c->jwk, sizeof(c->jwk));
	if (r < 0) {
		cvm_tee_key_free(&c->key);
		return fail(c, CVM_KBS_STEP_KEY, r, 0, "cannot export the TEE key");
	}
	return 0;
}

void cvm_kbs_free(struct cvm_kbs_client *c)
{
	cvm_tee_key_free(&c->key);
	free(c->token);
	explicit_bzero(c, sizeof(*c));
}

int cvm_kbs_auth(struct cvm_kbs_client *c)
{
	struct cvm_kbs_http_response rsp = { 0 };
	char body[128], nonce[CVM_KBS_NONCE_MAX], cookie[CVM_KBS_COOKIE_MAX];
	int r, n;

	c->attested = false;
	free(c->token);
	c->token = NULL;
	c->cookie[0] = c->nonce[0] = 0;
	n = cvm_kbs_auth_body(cvm_kbs_tee_name(c->cfg.tee, c->cfg.legacy_tee_names), body, sizeof(body));
	if (n < 0)
		return fail(c, CVM_KBS_STEP_AUTH, n, 0, "auth request too long");
	r = c->cfg.transport->post_json(c->cfg.transport->ctx, "/kbs/v0/auth", body, (size_t)n, NULL, &rsp);
	if (r < 0)
		return fail(c, CVM_KBS_STEP_AUTH, r, 0, errno_text(r));
	if (rsp.status != 200) {
		r = http_fail(c, CVM_KBS_STEP_AUTH, &rsp);
		goto out;
	}
	r = cvm_kbs_parse_challenge(rsp.body, rsp.body_len, nonce, sizeof(nonce));
	if (r < 0) {
		fail(c, CVM_KBS_STEP_AUTH, r, rsp.status, "malformed challenge");
		goto out;
	}
	r = cvm_kbs_parse_set_cookie(rsp.set_cookie, cookie, sizeof(cookie));
	if (r < 0) {
		fail(c, CVM_KBS_STEP_AUTH, -EBADMSG, rsp.status, "no kbs-session-id cookie");
		r = -EBADMSG;
		goto out;
	}
	memcpy(c->nonce, nonce, sizeof(nonce));
	memcpy(c->cookie, cookie, sizeof(cookie));
	r = 0;
out:
	rsp_free(&rsp);
	return r;
}

int cvm_kbs_attest(struct cvm_kbs_client *c)
{
	struct cvm_kbs_http_response rsp = { 0 };
	char *rd = NULL, *evidence = NULL, *body = NULL, *token = NULL;
	int r;

	if (!c->nonce[0] || !c->cookie[0])
		return fail(c, CVM_KBS_STEP_ATTEST, -EINVAL, 0, "no session: authenticate first");
	r = cvm_kbs_runtime_data(c->nonce, c->jwk, &rd, c->report_data);
	if (r < 0) {
		fail(c, CVM_KBS_STEP_ATTEST, r, 0, "cannot build the runtime data");
		goto out;
	}
	r = c->cfg.evidence(c->cfg.evidence_ctx, c->cfg.tee, c->report_data, sizeof(c->report_data), &evidence);
	if (r < 0 || !evidence) {
		r = r < 0 ? r : -EIO;
		fail(c, CVM_KBS_STEP_EVIDENCE, r, 0, "evidence collection failed");
		goto out;
	}
	r = cvm_kbs_attest_body(c->nonce, c->jwk, evidence, c->cfg.init_data_toml, &body);
	if (r < 0) {
		fail(c, CVM_KBS_STEP_EVIDENCE, r, 0, "evidence is not a JSON object");
		goto out;
	}
	r = c->cfg.transport->post_json(c->cfg.transport->ctx, "/kbs/v0/attest", body, strlen(body), c->cookie, &rsp);
	if (r < 0) {
		fail(c, CVM_KBS_STEP_ATTEST, r, 0, errno_text(r));
		goto out;
	}
	if (rsp.status != 200) {
		r = http_fail(c, CVM_KBS_STEP_ATTEST, &rsp);
		goto out;
	}
	r = cvm_kbs_parse_token(rsp.body, rsp.body_len, &token);
	if (r < 0) {
		fail(c, CVM_KBS_STEP_ATTEST, r, rsp.status, "malformed attestation response");
		goto out;
	}
	free(c->token);
	c->token = token;
	c->attested = true;
	r = 0;
out:
	rsp_free(&rsp);
	free(rd);
	free(evidence);
	free(body);
	return r;
}

int cvm_kbs_get_resource(struct cvm_kbs_client *c, const char *path, uint8_t **ret, size_t *ret_len)
{
	struct cvm_kbs_http_response rsp = { 0 };
	char url[CVM_KBS_PATH_MAX];
	int r;

	if (!cvm_kbs_resource_path_valid(path))
		return fail(c, CVM_KBS_STEP_RESOURCE, -EINVAL, 0, "invalid resource path");
	if (!c->attested)
		return fail(c, CVM_KBS_STEP_RESOURCE, -EINVAL, 0, "no attested session");
	snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
	r = c->cfg.transport->get(c->cfg.transport->ctx, url, c->cookie, &rsp);
	if (r < 0)
		return fail(c, CVM_KBS_STEP_RESOURCE, r, 0, errno_text(r));
	if (rsp.status != 200) {
		r = http_fail(c, CVM_KBS_STEP_RESOURCE, &rsp);
		goto out;
	}
	if (rsp.body_len > CVM_KBS_BODY_MAX) {
		r = fail(c, CVM_KBS_STEP_RESOURCE, -EFBIG, rsp.status, errno_text(-EFBIG));
		goto out;
	}
	r = cvm_jwe_decrypt(&c->key, rsp.body, rsp.body_len, ret, ret_len);
	if (r < 0) {
		fail(c, CVM_KBS_STEP_DECRYPT, r, rsp.status,
		     r == -EKEYREJECTED ? "response not encrypted to our key, or tampered with"
		     : r == -EOPNOTSUPP ? "unsupported JWE algorithm"
					: "malformed JWE");
		goto out;
	}
out:
	rsp_free(&rsp);
	return r;
}

static bool session_expired(const struct cvm_kbs_error *e)
{
	static const char *const t[] = { ERR_PREFIX "TokenNotFound", ERR_PREFIX "TokenVerifierError" };

	if (e->http_status != 401 || e->step != CVM_KBS_STEP_RESOURCE)
		return false;
	return strcmp(e->type, t[0]) == 0 || strcmp(e->type, t[1]) == 0;
}

int cvm_kbs_fetch(void *ctx, const char *path, uint8_t **ret, size_t *ret_len)
{
	struct cvm_kbs_client *c = ctx;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!c->attested) {
			r = cvm_kbs_auth(c);
			if (r < 0)
				return r;
			r = cvm_kbs_attest(c);
			if (r < 0)
				return r;
		}
		r = cvm_kbs_get_resource(c, path, ret, ret_len);
		if (r >= 0 || !session_expired(&c->err))
			return r;
		c->attested = false;
	}
	return r;
}
