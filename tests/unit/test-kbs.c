/* attest/kbs: KBS protocol 0.4.0 client against a scripted transport, with
 * the values of kbs-protocol-vectors.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Scripted responses are compound literals that name only what they need. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <cjson/cJSON.h>

#include "cvmkit/hex.h"
#include "cvmkit/kbs.h"
#include "testutil.h"

#define COOKIE_ID "0123456789abcdef0123456789abcdef"
#define ERRT "https://github.com/confidential-containers/kbs/errors/"

/* ---------------------------------------------------------------- scripted KBS */

struct canned {
	int rc; /* transport result; 0 = send status/body */
	int status;
	const char *body;
	const char *set_cookie;
};

struct fake {
	cJSON *vec;
	struct canned auth, attest, resource, resource2;
	int auth_calls, attest_calls, resource_calls;
	char last_auth[256];
	cJSON *last_attest;
	char last_cookie[256];
	char last_path[256];
};

static int answer(const struct canned *c, struct cvm_kbs_http_response *ret)
{
	if (c->rc)
		return c->rc;
	memset(ret, 0, sizeof(*ret));
	ret->status = c->status;
	ret->body_len = strlen(c->body);
	ret->body = malloc(ret->body_len + 1);
	assert_non_null(ret->body);
	memcpy(ret->body, c->body, ret->body_len + 1);
	snprintf(ret->set_cookie, sizeof(ret->set_cookie), "%s", c->set_cookie ? c->set_cookie : "");
	return 0;
}

static int fake_post(void *ctx, const char *path, const char *body, size_t body_len, const char *cookie,
		     struct cvm_kbs_http_response *ret)
{
	struct fake *f = ctx;

	assert_int_equal(strlen(body), body_len);
	if (strcmp(path, "/kbs/v0/auth") == 0) {
		f->auth_calls++;
		assert_null(cookie);
		snprintf(f->last_auth, sizeof(f->last_auth), "%s", body);
		return answer(&f->auth, ret);
	}
	assert_string_equal(path, "/kbs/v0/attest");
	f->attest_calls++;
	assert_non_null(cookie);
	snprintf(f->last_cookie, sizeof(f->last_cookie), "%s", cookie);
	cJSON_Delete(f->last_attest);
	f->last_attest = cJSON_Parse(body);
	assert_non_null(f->last_attest);
	return answer(&f->attest, ret);
}

static int fake_get(void *ctx, const char *path, const char *cookie, struct cvm_kbs_http_response *ret)
{
	struct fake *f = ctx;

	f->resource_calls++;
	snprintf(f->last_path, sizeof(f->last_path), "%s", path);
	assert_string_equal(cookie, "kbs-session-id=" COOKIE_ID);
	return answer(f->resource_calls > 1 && f->resource2.status ? &f->resource2 : &f->resource, ret);
}

struct evctx {
	const uint8_t *want; /* expected report_data, or NULL */
	int rc;
	int calls;
};

static int fake_evidence(void *ctx, enum cvm_tee tee, const uint8_t *rd, size_t rd_len, char **ret)
{
	struct evctx *e = ctx;

	e->calls++;
	assert_int_equal(rd_len, 48);
	if (e->want)
		assert_memory_equal(rd, e->want, 48);
	if (e->rc)
		return e->rc;
	*ret = strdup("{\"svn\":\"1\",\"report_data\":\"lr2djeyo/C2Va5lVuZXdBFS/eyuNTyCmY4W9MNSyMP6wiAnG0gokUrK3BHvkaFjD\"}");
	return 0;
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static char challenge_body[256];

static void setup_fake(struct fake *f, const struct cvm_kbs_transport *t)
{
	size_t len;
	uint8_t *b = tu_read(tu_vectors("trustee/generated/kbs-protocol-vectors.json"), &len);

	memset(f, 0, sizeof(*f));
	f->vec = cJSON_ParseWithLength((const char *)b, len);
	free(b);
	assert_non_null(f->vec);
	snprintf(challenge_body, sizeof(challenge_body), "{\"nonce\":\"%s\",\"extra-params\":\"\"}",
		 jstr(f->vec, "challenge", "nonce"));
	f->auth = (struct canned){ 0, 200, challenge_body,
				   "kbs-session-id=" COOKIE_ID "; Expires=Tue, 01 Jan 2030 00:00:00 GMT" };
	f->attest = (struct canned){ 0, 200, "{\"token\":\"eyJhbGciOiJFUzI1NiJ9.e30.c2ln\"}", NULL };
	f->resource = (struct canned){ 0, 200, jstr(f->vec, "jwe_ecdh", "response_body"), NULL };
	(void)t;
}

/* A client whose TEE key is the vector's fixed key, so the vector's JWE and
 * runtime-data hash apply. */
static void client_with_vector_key(struct cvm_kbs_client *c, struct fake *f, const struct cvm_kbs_transport *t,
				   struct evctx *ev, bool legacy)
{
	struct cvm_kbs_config cfg = { .tee = CVM_TEE_AZ_SNP_VTPM, .legacy_tee_names = legacy, .transport = t,
				      .evidence = fake_evidence, .evidence_ctx = ev };
	const char *pem = jstr(f->vec, "tee_private_key_pkcs8_pem", NULL);

	assert_int_equal(cvm_kbs_init(c, &cfg), 0);
	cvm_tee_key_free(&c->key);
	assert_int_equal(cvm_tee_key_load((const uint8_t *)pem, strlen(pem), &c->key), 0);
	assert_true(cvm_tee_key_jwk(&c->key, c->jwk, sizeof(c->jwk)) > 0);
}

static void teardown_fake(struct fake *f)
{
	cJSON_Delete(f->last_attest);
	cJSON_Delete(f->vec);
}

/* ---------------------------------------------------------------- tests */

static void runtime_data_vector(void **state)
{
	struct fake f;
	struct cvm_kbs_transport t = { &f, fake_post, fake_get };
	char *rd, hex[97];
	uint8_t h[48];
	const cJSON *jwk;
	struct cvm_kbs_client c;
	struct evctx ev = { 0 };

	setup_fake(&f, &t);
	client_with_vector_key(&c, &f, &t, &ev, false);
	jwk = cJSON_GetObjectItemCaseSensitive(f.vec, "tee_pubkey_jwk");
	assert_non_null(jwk);
	assert_int_equal(cvm_kbs_runtime_data(jstr(f.vec, "challenge", "nonce"), c.jwk, &rd, h), 0);
	assert_string_equal(rd, jstr(f.vec, "runtime_data_canonical_json", NULL));
	cvm_hex_encode(h, 48, hex);
	assert_string_equal(hex, jstr(f.vec, "runtime_data_sha384_hex", NULL));
	free(rd);
	assert_int_equal(cvm_kbs_runtime_data("a\"b", c.jwk, &rd, h), -EINVAL);
	assert_int_equal(cvm_kbs_runtime_data("", c.jwk, &rd, h), -EINVAL);
	cvm_kbs_free(&c);
	teardown_fake(&f);
}

static void happy_path(void **state)
{
	struct fake f;
	struct cvm_kbs_transport t = { &f, fake_post, fake_get };
	struct cvm_kbs_client c;
	uint8_t want[48], *pt;
	size_t len;
	struct evctx ev = { .want = want };
	cJSON *req;

	setup_fake(&f, &t);
	assert_int_equal(cvm_hex_decode(jstr(f.vec, "runtime_data_sha384_hex", NULL), 96, want, 48), 0);
	client_with_vector_key(&c, &f, &t, &ev, false);
	assert_int_equal(cvm_kbs_auth(&c), 0);
	assert_string_equal(f.last_auth, "{\"version\":\"0.4.0\",\"tee\":\"az-snp-vtpm\",\"extra-params\":\"\"}");
	assert_string_equal(c.nonce, jstr(f.vec, "challenge", "nonce"));
	assert_int_equal(cvm_kbs_attest(&c), 0);
	assert_int_equal(ev.calls, 1);
	assert_string_equal(f.last_cookie, "kbs-session-id=" COOKIE_ID);
	/* The body matches the vector's /attest body member by member (plus a null init-data). */
	req = cJSON_GetObjectItemCaseSensitive(f.vec, "attestation_request_body");
	assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(req, "runtime-data"),
				  cJSON_GetObjectItemCaseSensitive(f.last_attest, "runtime-data"), true));
	assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(req, "tee-evidence"),
				  cJSON_GetObjectItemCaseSensitive(f.last_attest, "tee-evidence"), true));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f.last_attest, "init-data")));
	assert_string_equal(c.token, "eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
	assert_int_equal(cvm_kbs_get_resource(&c, "default/key/1", &pt, &len), 0);
	assert_string_equal(f.last_path, "/kbs/v0/resource/default/key/1");
	assert_int_equal(len, strlen(jstr(f.vec, "jwe_ecdh", "plaintext")));
	assert_memory_equal(pt, jstr(f.vec, "jwe_ecdh", "plaintext"), len);
	cvm_jose_free_secret(pt, len + 1);
	cvm_kbs_free(&c);
	teardown_fake(&f);
}

static void legacy_names_and_init_data(void **state)
{
	struct fake f;
	struct cvm_kbs_transport t = { &f, fake_post, fake_get };
	struct cvm_kbs_client c;
	struct evctx ev = { 0 };
	const cJSON *id;

	setup_fake(&f, &t);
	client_with_vector_key(&c, &f, &t, &ev, true);
	c.cfg.init_data_toml = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n";
	assert_int_equal(cvm_kbs_auth(&c), 0);
	assert_string_equal(f.last_auth, "{\"version\":\"0.4.0\",\"tee\":\"azsnpvtpm\",\"extra-params\":\"\"}");
	assert_int_equal(cvm_kbs_attest(&c), 0);
	id = cJSON_GetObjectItemCaseSensitive(f.last_attest, "init-data");
	assert_string_equal(jstr(id, "format", NULL), "toml");
	assert_string_equal(jstr(id, "body", NULL), "version = \"0.1.0\"\nalgorithm = \"sha256\"\n");
	assert_string_equal(cvm_kbs_tee_name(CVM_TEE_AZ_TDX_VTPM, false), "az-tdx-vtpm");
	assert_string_equal(cvm_kbs_tee_name(CVM_TEE_AZ_TDX_VTPM, true), "aztdxvtpm");
	cvm_kbs_free(&c);
	teardown_fake(&f);
}

static void kbs_errors_verbatim(void **state)
{
	struct fake f;
	struct cvm_kbs_transport t = { &f, fake_post, fake_get };
	struct cvm_kbs_client c;
	struct evctx ev = { 0 };
	uint8_t *pt = NULL;
	size_t len;

	setup_fake(&f, &t);
	client_with_vector_key(&c, &f, &t, &ev, false);
	/* Version mismatch, as Trustee words it. */
	f.auth = (struct canned){ 0, 401,
				  "{\"type\":\"" ERRT "AttestationError\",\"detail\":\"KBS Client Protocol Version Mismatch: "
				  "expect =0.4.0 while the request is 0.1.0\"}" };
	assert_int_equal(cvm_kbs_auth(&c), -EACCES);
	assert_int_equal(c.err.step, CVM_KBS_STEP_AUTH);
	assert_string_equal(cvm_kbs_step_name(c.err.step), "auth");
	assert_int_equal(c.err.http_status, 401);
	assert_int_equal(c.err.code, -EACCES);
	assert_string_equal(c.err.type, ERRT "AttestationError");
	assert_string_equal(c.err.detail, "KBS Client Protocol Version Mismatch: expect =0.4.0 while the request is 0.1.0");
	/* 404 with a non-KBS body: status kept, type empty. */
	f.auth = (struct canned){ 0, 404, "<html>not found</html>" };
	assert_int_equal(cvm_kbs_auth(&c), -ENOENT);
	assert_int_equal(c.err.http_status, 404);
	assert_string_equal(c.err.type, "");
	/* Transport failures. */
	f.auth = (struct canned){ -ECONNREFUSED };
	assert_int_equal(cvm_kbs_auth(&c), -ECONNREFUSED);
	assert_int_equal(c.err.http_status, 0);
	assert_string_equal(c.err.detail, "connection refused");
	f.auth = (struct canned){ -ETIMEDOUT };
	assert_int_equal(cvm_kbs_auth(&c), -ETIMEDOUT);
	/* Malformed challenges and cookies. */
	f.auth = (struct canned){ 0, 200, "{\"nonce\":\"AAEC", "kbs-session-id=" COOKIE_ID };
	assert_int_equal(cvm_kbs_auth(&c), -EBADMSG);
	f.auth = (struct canned){ 0, 200, "{\"nonce\":\"AAAA\",\"extra-params\":\"\"}", "kbs-session-id=" COOKIE_ID };
	assert_int_equal(cvm_kbs_auth(&c), -EBADMSG); /* 3 bytes is no nonce */
	f.auth = (struct canned){ 0, 200, challenge_body, "other=1" };
	assert_int_equal(cvm_kbs_auth(&c), -EBADMSG);
	assert_int_equal(cvm_kbs_attest(&c), -EINVAL); /* no session */

	/* Attestation refused; evidence collection failing. */
	f.auth = (struct canned){ 0, 200, challenge_body, "kbs-session-id=" COOKIE_ID };
	f.attest = (struct canned){ 0, 401, "{\"type\":\"" ERRT "AttestationError\",\"detail\":\"RCAR handshake Attest failed\"}" };
	assert_int_equal(cvm_kbs_auth(&c), 0);
	assert_int_equal(cvm_kbs_attest(&c), -EACCES);
	assert_int_equal(c.err.step, CVM_KBS_STEP_ATTEST);
	assert_string_equal(c.err.detail, "RCAR handshake Attest failed");
	assert_false(c.attested);
	assert_int_equal(cvm_kbs_get_resource(&c, "a/b/c", &pt, &len), -EINVAL);
	ev.rc = -EIO;
	assert_int_equal(cvm_kbs_attest(&c), -EIO);
	assert_int_equal(c.err.step, CVM_KBS_STEP_EVIDENCE);
	ev.rc = 0;
	f.attest = (struct canned){ 0, 200, "{\"token\":17}" };
	assert_int_equal(cvm_kbs_attest(&c), -EBADMSG);

	/* Resource denied by policy; a JWE to another key; a bad path. */
	f.attest = (struct canned){ 0, 200, "{\"token\":\"t\"}" };
	assert_int_equal(cvm_kbs_attest(&c), 0);
	f.resource = (struct canned){ 0, 401, "{\"type\":\"" ERRT "PolicyDeny\",\"detail\":\"Resource policy denied\"}" };
	assert_int_equal(cvm_kbs_get_resource(&c, "a/b/c", &pt, &len), -EACCES);
	assert_int_equal(c.err.step, CVM_KBS_STEP_RESOURCE);
	assert_string_equal(c.err.type, ERRT "PolicyDeny");
	f.resource = (struct canned){ 0, 200, jstr(f.vec, "jwe_rsa_oaep256", "response_body") };
	assert_int_equal(cvm_kbs_get_resource(&c, "a/b/c", &pt, &len), -EOPNOTSUPP);
	assert_int_equal(c.err.step, CVM_KBS_STEP_DECRYPT);
	cvm_tee_key_free(&c.key);
	assert_int_equal(cvm_tee_key_generate(CVM_TEE_KEY_EC_P256, &c.key), 0);
	f.resource = (struct canned){ 0, 200, jstr(f.vec, "jwe_ecdh", "response_body") };
	assert_int_equal(cvm_kbs_get_resource(&c, "a/b/c", &pt, &len), -EKEYREJECTED);
	assert_int_equal(c.err.step, CVM_KBS_STEP_DECRYPT);
	assert_int_equal(cvm_kbs_get_resource(&c, "a/../c", &pt, &len), -EINVAL);
	assert_null(pt);
	cvm_kbs_free(&c);
	teardown_fake(&f);
}

static void fetch_reattests_expired_session(void **state)
{
	struct fake f;
	struct cvm_kbs_transport t = { &f, fake_post, fake_get };
	struct cvm_kbs_client c;
	struct evctx ev = { 0 };
	uint8_t *pt;
	size_t len;

	setup_fake(&f, &t);
	client_with_vector_key(&c, &f, &t, &ev, false);
	f.resource2 = f.resource;
	f.resource = (struct canned){ 0, 401, "{\"type\":\"" ERRT "TokenNotFound\",\"detail\":\"Token not found\"}" };
	assert_int_equal(cvm_kbs_fetch(&c, "default/key/1", &pt, &len), 0);
	assert_int_equal(f.auth_calls, 2);
	assert_int_equal(f.attest_calls, 2);
	assert_int_equal(f.resource_calls, 2);
	cvm_jose_free_secret(pt, len + 1);
	/* PolicyDeny is final: no second attestation. */
	f.auth_calls = f.attest_calls = f.resource_calls = 0;
	f.resource2 = (struct canned){ 0 };
	f.resource = (struct canned){ 0, 401, "{\"type\":\"" ERRT "PolicyDeny\",\"detail\":\"no\"}" };
	assert_int_equal(cvm_kbs_fetch(&c, "default/key/1", &pt, &len), -EACCES);
	assert_int_equal(f.resource_calls, 1);
	assert_int_equal(f.auth_calls, 0);
	cvm_kbs_free(&c);
	teardown_fake(&f);
}

static void pieces(void **state)
{
	char out[256];
	struct cvm_kbs_error e = { 0 };
	char *tok;
	static const char nonce44[] = "{\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\",\"extra-params\":\"\"}";

	assert_int_equal(cvm_kbs_parse_set_cookie("kbs-session-id=" COOKIE_ID "; Expires=Wed, 21 Oct 2015 07:28:00 GMT",
						  out, sizeof(out)), 0);
	assert_string_equal(out, "kbs-session-id=" COOKIE_ID);
	assert_int_equal(cvm_kbs_parse_set_cookie("kbs-session-id=abc", out, sizeof(out)), 0);
	assert_string_equal(out, "kbs-session-id=abc");
	assert_int_equal(cvm_kbs_parse_set_cookie("kbs-session-id=; Path=/", out, sizeof(out)), -EBADMSG);
	assert_int_equal(cvm_kbs_parse_set_cookie("kbs-session-id=a\"b", out, sizeof(out)), -EBADMSG);
	assert_int_equal(cvm_kbs_parse_set_cookie("session=abc", out, sizeof(out)), -ENOENT);
	assert_int_equal(cvm_kbs_parse_set_cookie("kbs-session-id=abc", out, 10), -ENOBUFS);

	assert_int_equal(cvm_kbs_parse_challenge((const uint8_t *)nonce44, strlen(nonce44), out, sizeof(out)), 0);
	assert_string_equal(out, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_int_equal(cvm_kbs_parse_challenge((const uint8_t *)nonce44, strlen(nonce44), out, 20), -ENOBUFS);
	assert_int_equal(cvm_kbs_parse_challenge((const uint8_t *)"{\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
						 54, out, sizeof(out)), -EBADMSG); /* extra-params missing */
	assert_int_equal(cvm_kbs_parse_challenge((const uint8_t *)"[1]", 3, out, sizeof(out)), -EBADMSG);

	assert_int_equal(cvm_kbs_parse_token((const uint8_t *)"{\"token\":\"a.b.c\"}", 17, &tok), 0);
	assert_string_equal(tok, "a.b.c");
	free(tok);
	assert_int_equal(cvm_kbs_parse_token((const uint8_t *)"{\"token\":\"\"}", 12, &tok), -EBADMSG);

	{
		static const char eb[] = "{\"type\":\"t\",\"detail\":\"line1\\nline2\"}";
		assert_int_equal(cvm_kbs_parse_error((const uint8_t *)eb, strlen(eb), &e), 0);
	}
	assert_string_equal(e.detail, "line1?line2");
	assert_int_equal(cvm_kbs_parse_error((const uint8_t *)"{\"type\":1}", 10, &e), -EBADMSG);

	assert_int_equal(cvm_kbs_auth_body("az-tdx-vtpm", out, sizeof(out)), 57);
	assert_string_equal(out, "{\"version\":\"0.4.0\",\"tee\":\"az-tdx-vtpm\",\"extra-params\":\"\"}");

	assert_true(cvm_kbs_resource_path_valid("default/key/1"));
	assert_true(cvm_kbs_resource_path_valid("one/2/trois.v1"));
	assert_true(cvm_kbs_resource_path_valid("_a/-b/c_d"));
	assert_false(cvm_kbs_resource_path_valid("a/b"));
	assert_false(cvm_kbs_resource_path_valid("a/b/c/d"));
	assert_false(cvm_kbs_resource_path_valid(".a/b/c"));
	assert_false(cvm_kbs_resource_path_valid("a//c"));
	assert_false(cvm_kbs_resource_path_valid("a/b/c?x=1"));
	assert_false(cvm_kbs_resource_path_valid("a/b/c d"));

	{
		char *body;
		assert_int_equal(cvm_kbs_attest_body("n", "{}", "[1]", NULL, &body), -EBADMSG);
		assert_int_equal(cvm_kbs_attest_body("n", "{}", "{\"a\":", NULL, &body), -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runtime_data_vector),
		cmocka_unit_test(happy_path),
		cmocka_unit_test(legacy_names_and_init_data),
		cmocka_unit_test(kbs_errors_verbatim),
		cmocka_unit_test(fetch_reattests_expired_session),
		cmocka_unit_test(pieces),
	};
	return cmocka_run_group_tests_name("kbs", tests, NULL, NULL);
}
