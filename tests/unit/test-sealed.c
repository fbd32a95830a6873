/* attest/sealed: CoCo sealed secrets against sealed-secret-vectors.json and
 * the upstream payload samples (signed here with jwcrypto and test-key.json). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <cjson/cJSON.h>

#include "cvmkit/sealed.h"
#include "testutil.h"

/* A fake KBS resource store keyed by path. */
struct store {
	const char *path[4];
	const char *content[4];
	char log[8][128];
	int calls;
};

static int fake_fetch(void *ctx, const char *path, uint8_t **ret, size_t *ret_len)
{
	struct store *s = ctx;

	if (s->calls < 8)
		snprintf(s->log[s->calls], sizeof(s->log[0]), "%s", path);
	s->calls++;
	for (int i = 0; i < 4 && s->path[i]; i++) {
		if (strcmp(s->path[i], path) == 0) {
			*ret_len = strlen(s->content[i]);
			*ret = (uint8_t *)strdup(s->content[i]);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -EACCES; /* as a KBS refusing an unknown resource */
}

static cJSON *vectors(void)
{
	size_t len;
	uint8_t *b = tu_read(tu_vectors("trustee/generated/sealed-secret-vectors.json"), &len);
	cJSON *j = cJSON_ParseWithLength((const char *)b, len);

	free(b);
	assert_non_null(j);
	return j;
}

static const char *vs(const cJSON *v, const char *a, const char *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(v, a);
	if (b)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	assert_true(cJSON_IsString(o));
	return o->valuestring;
}

static int unseal(const char *s, struct store *st, uint8_t **pt, size_t *len)
{
	return cvm_sealed_unseal((const uint8_t *)s, strlen(s), fake_fetch, st, pt, len);
}

static void vault_vector(void **state)
{
	cJSON *v = vectors();
	char *pub = cJSON_PrintUnformatted(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "vault_kbs"), "verification_jwk_public"));
	const char *kpath = vs(v, "vault_kbs", "kbs_resource_to_fetch_for_signing_key") + strlen("/kbs/v0/resource/");
	const char *spath = vs(v, "vault_kbs", "kbs_resource_to_fetch_for_secret") + strlen("/kbs/v0/resource/");
	struct store st = { { kpath, spath }, { pub, "the sealed plaintext" } };
	struct cvm_sealed s;
	uint8_t *pt = NULL;
	size_t len;
	const char *sealed = vs(v, "vault_kbs", "sealed");

	assert_int_equal(cvm_sealed_parse((const uint8_t *)sealed, strlen(sealed), &s), 0);
	assert_string_equal(s.key_path, "default/signing-key/test-key");
	assert_int_equal(s.type, CVM_SEALED_VAULT);
	assert_string_equal(s.provider, "kbs");
	assert_string_equal(s.name, "kbs:///default/sealed-secret/test");
	cvm_sealed_free(&s);

	assert_int_equal(unseal(sealed, &st, &pt, &len), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(pt, "the sealed plaintext", 20);
	cvm_jose_free_secret(pt, len + 1);
	pt = NULL;
	/* The key is fetched, and verified, before the secret. */
	assert_int_equal(st.calls, 2);
	assert_string_equal(st.log[0], "default/signing-key/test-key");
	assert_string_equal(st.log[1], "default/sealed-secret/test");

	/* The wrong signing key: the secret is never fetched. */
	{
		size_t kl;
		uint8_t *k2 = tu_read(tu_vectors("trustee/sealed-secret/test-key-2.json"), &kl);
		char *k2s = strndup((char *)k2, kl);
		struct store bad = { { kpath, spath }, { k2s, "the sealed plaintext" } };
		assert_int_equal(unseal(sealed, &bad, &pt, &len), -EKEYREJECTED);
		assert_int_equal(bad.calls, 1);
		free(k2s);
		free(k2);
	}
	/* A key resource that is no JWK; a KBS refusing the key. */
	{
		struct store bad = { { kpath, spath }, { "-----BEGIN PUBLIC KEY-----", "x" } };
		assert_int_equal(unseal(sealed, &bad, &pt, &len), -EKEYREJECTED);
		struct store none = { { spath }, { "x" } };
		assert_int_equal(unseal(sealed, &none, &pt, &len), -EACCES);
	}
	assert_null(pt);
	free(pub);
	cJSON_Delete(v);
}

static void refused_forms(void **state)
{
	cJSON *v = vectors();
	struct store st = { 0 };
	uint8_t *pt = NULL;
	size_t len;
	struct cvm_sealed s;
	const char *env = vs(v, "envelope_example", "sealed");

	/* Envelope vector: its kid is a local key name, which this client has no store for. */
	assert_int_equal(cvm_sealed_parse((const uint8_t *)env, strlen(env), &s), 0);
	assert_int_equal(s.type, CVM_SEALED_ENVELOPE);
	assert_string_equal(s.jws.kid, "local-signing-key");
	assert_string_equal(s.key_path, "");
	cvm_sealed_free(&s);
	assert_int_equal(unseal(env, &st, &pt, &len), -ENOKEY);
	/* The unsigned legacy form is never accepted. */
	assert_int_equal(unseal(vs(v, "unsigned_legacy", NULL), &st, &pt, &len), -EBADMSG);
	/* Not sealed at all. */
	assert_int_equal(unseal("sealedx.a.b.c", &st, &pt, &len), -EBADMSG);
	assert_int_equal(unseal("", &st, &pt, &len), -EBADMSG);
	assert_int_equal(st.calls, 0);
	assert_null(pt);
	cJSON_Delete(v);
}

static void uri_paths(void **state)
{
	char out[CVM_SEALED_PATH_MAX];

	assert_int_equal(cvm_sealed_uri_path("kbs:///one/2/trois", out, sizeof(out)), 0);
	assert_string_equal(out, "one/2/trois");
	assert_int_equal(cvm_sealed_uri_path("kbs://kbs.example:8080/a/b/c", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(cvm_sealed_uri_path("kbs+plugin:///a/b/c", out, sizeof(out)), -EOPNOTSUPP);
	assert_int_equal(cvm_sealed_uri_path("kbs:///a/b", out, sizeof(out)), -EINVAL);
	assert_int_equal(cvm_sealed_uri_path("https://x/a/b/c", out, sizeof(out)), -EINVAL);
	assert_int_equal(cvm_sealed_uri_path("kbs:///a/b/../c", out, sizeof(out)), -EINVAL);
	assert_int_equal(cvm_sealed_uri_path("kbs:///a/b/c", out, 4), -ENOBUFS);
}

/* ---------------------------------------------------------------- signed here with jwcrypto */

static const char sign_py[] =
	"import json, sys\n"
	"from jwcrypto import jwk, jws\n"
	"from jwcrypto.common import json_encode\n"
	"key = jwk.JWK.from_json(open(sys.argv[1]).read())\n"
	"payload = open(sys.argv[2], 'rb').read()\n"
	"s = jws.JWS(payload)\n"
	"s.add_signature(key, None, json_encode({'alg': 'ES256', 'kid': sys.argv[3]}))\n"
	"print('sealed.' + s.serialize(compact=True))\n";

/* Signs the payload file PAYLOAD (path) with test-key.json. */
static char *sign(const char *payload, const char *kid)
{
	char *dir, py[512], cmd[1500], *out;
	FILE *f;

	tu_require_python_module("jwcrypto");
	out = calloc(1, 1 << 16);
	dir = tu_mkdtemp();
	snprintf(py, sizeof(py), "%s/sign.py", dir);
	f = fopen(py, "w");
	assert_non_null(f);
	fputs(sign_py, f);
	fclose(f);
	{
		/* tu_vectors() returns one static buffer, which PAYLOAD may be. */
		char pl[512];
		snprintf(pl, sizeof(pl), "%s", payload);
		snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s '%s'", py,
			 tu_vectors("trustee/sealed-secret/test-key.json"), pl, kid);
	}
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_true(fgets(out, (1 << 16) - 1, f) != NULL);
	assert_int_equal(pclose(f), 0);
	out[strcspn(out, "\n")] = 0;
	tu_rmtree(dir);
	free(dir);
	return out;
}

static char *sign_text(const char *text, const char *kid)
{
	char *dir = tu_mkdtemp(), path[512], *r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/p.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	r = sign(path, kid);
	tu_rmtree(dir);
	free(dir);
	return r;
}

static void upstream_payloads(void **state)
{
	cJSON *v = vectors();
	char *pub = cJSON_PrintUnformatted(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "vault_kbs"), "verification_jwk_public"));
	struct store st = { { "default/signing-key/test-key", "one/2/trois" }, { pub, "trois" } };
	const char *kid = "kbs:///default/signing-key/test-key";
	uint8_t *pt = NULL;
	size_t len;
	char *s;

	/* vault-2.json: provider kbs, name kbs:///one/2/trois. */
	s = sign(tu_vectors("trustee/sealed-secret/vault-2.json"), kid);
	assert_int_equal(unseal(s, &st, &pt, &len), 0);
	assert_memory_equal(pt, "trois", 5);
	assert_string_equal(st.log[1], "one/2/trois");
	cvm_jose_free_secret(pt, len + 1);
	pt = NULL;
	free(s);
	/* vault-1.json: provider aliyun -> refused after verification. */
	st.calls = 0;
	s = sign(tu_vectors("trustee/sealed-secret/vault-1.json"), kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EPROTONOSUPPORT);
	assert_int_equal(st.calls, 1);
	free(s);
	/* envelope-1.json, properly signed with a KBS key: envelopes need a KMS. */
	s = sign(tu_vectors("trustee/sealed-secret/envelope-1.json"), kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EOPNOTSUPP);
	free(s);
	/* Another version; an unknown type; a kbs+plugin name; a non-URI name. */
	s = sign_text("{\"version\":\"0.2.0\",\"type\":\"vault\",\"name\":\"kbs:///a/b/c\",\"provider\":\"kbs\"}", kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EPROTO);
	free(s);
	s = sign_text("{\"version\":\"0.1.0\",\"type\":\"magic\",\"name\":\"kbs:///a/b/c\",\"provider\":\"kbs\"}", kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EPROTO);
	free(s);
	s = sign_text("{\"version\":\"0.1.0\",\"type\":\"vault\",\"name\":\"kbs+x:///a/b/c\",\"provider\":\"KBS\"}", kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EOPNOTSUPP);
	free(s);
	s = sign_text("{\"version\":\"0.1.0\",\"type\":\"vault\",\"name\":\"/etc/shadow\",\"provider\":\"kbs\"}", kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EINVAL);
	free(s);
	/* A payload that is not an object. */
	s = sign_text("[1,2]", kid);
	assert_int_equal(unseal(s, &st, &pt, &len), -EBADMSG);
	free(s);
	assert_null(pt);
	free(pub);
	cJSON_Delete(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vault_vector),
		cmocka_unit_test(refused_forms),
		cmocka_unit_test(uri_paths),
		cmocka_unit_test(upstream_payloads),
	};
	return cmocka_run_group_tests_name("sealed", tests, NULL, NULL);
}
