/* attest/jose: base64url, TEE keys and JWK, JWE (Trustee vectors and
 * jwcrypto-made messages), ES256 JWS. */
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
#include <cjson/cJSON.h>

#include "cvmkit/jose.h"
#include "testutil.h"

static cJSON *load_json(const char *sub)
{
	size_t len;
	uint8_t *b = tu_read(tu_vectors(sub), &len);
	cJSON *j = cJSON_ParseWithLength((const char *)b, len);

	free(b);
	assert_non_null(j);
	return j;
}

static const char *jstr(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL, *tok;
	const cJSON *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		v = cJSON_GetObjectItemCaseSensitive(v, tok);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static int decrypt_str(const struct cvm_tee_key *k, const char *jwe, uint8_t **pt, size_t *len)
{
	return cvm_jwe_decrypt(k, (const uint8_t *)jwe, strlen(jwe), pt, len);
}

static void b64url_strict(void **state)
{
	char out[16];
	uint8_t b[16];
	static const uint8_t in[] = { 0xfb, 0xff, 0xbf };

	/* RFC 4648 §10 vectors, URL alphabet without padding. */
	assert_int_equal(cvm_b64url_encode((const uint8_t *)"fo", 2, out, sizeof(out)), 3);
	assert_string_equal(out, "Zm8");
	assert_int_equal(cvm_b64url_encode((const uint8_t *)"foobar", 6, out, sizeof(out)), 8);
	assert_string_equal(out, "Zm9vYmFy");
	assert_int_equal(cvm_b64url_encode(in, 3, out, sizeof(out)), 4);
	assert_string_equal(out, "-_-_");
	assert_int_equal(cvm_b64url_encode(in, 3, out, 4), -ENOBUFS);
	assert_int_equal(cvm_b64url_decode("-_-_", 4, b, sizeof(b)), 3);
	assert_memory_equal(b, in, 3);
	assert_int_equal(cvm_b64url_decode("Zm8", 3, b, sizeof(b)), 2);
	assert_memory_equal(b, "fo", 2);
	assert_int_equal(cvm_b64url_decode("Zm8=", 4, b, sizeof(b)), -EINVAL);  /* padding */
	assert_int_equal(cvm_b64url_decode("+/+/", 4, b, sizeof(b)), -EINVAL);  /* standard alphabet */
	assert_int_equal(cvm_b64url_decode("Zm9vY", 5, b, sizeof(b)), -EINVAL); /* 1 mod 4 */
	assert_int_equal(cvm_b64url_decode("Zm9", 3, b, sizeof(b)), -EINVAL);   /* non-zero trailing bits */
	assert_int_equal(cvm_b64url_decode("Zm 8", 4, b, sizeof(b)), -EINVAL);
	assert_int_equal(cvm_b64url_decode("Zm9vYmFy", 8, b, 5), -ENOBUFS);
	assert_true(cvm_ct_equal("abc", "abc", 3));
	assert_false(cvm_ct_equal("abc", "abd", 3));
}

static void load_vector_key(const cJSON *v, const char *member, struct cvm_tee_key *k)
{
	const char *pem = jstr(v, member);
	assert_int_equal(cvm_tee_key_load((const uint8_t *)pem, strlen(pem), k), 0);
}

/* The TEE JWK of kbs-protocol-vectors.json, in the canonical member order the
 * vector's runtime_data_canonical_json shows. */
static void vector_jwk(void **state)
{
	cJSON *v = load_json("trustee/generated/kbs-protocol-vectors.json");
	struct cvm_tee_key k = { 0 };
	char jwk[900], want[900];
	const char *canon = jstr(v, "runtime_data_canonical_json"), *p = strstr(canon, "\"tee-pubkey\":");

	assert_non_null(p);
	snprintf(want, sizeof(want), "%s", p + strlen("\"tee-pubkey\":"));
	want[strlen(want) - 1] = 0; /* the closing brace of the outer object */
	load_vector_key(v, "tee_private_key_pkcs8_pem", &k);
	assert_int_equal(k.type, CVM_TEE_KEY_EC_P256);
	assert_int_equal(cvm_tee_key_jwk(&k, jwk, sizeof(jwk)), (int)strlen(want));
	assert_string_equal(jwk, want);
	assert_int_equal(cvm_tee_key_jwk(&k, jwk, 20), -ENOBUFS);
	cvm_tee_key_free(&k);

	/* RSA: alg, e, kty, n with the vector's n and e. */
	load_vector_key(v, "jwe_rsa_oaep256.tee_private_key_pkcs8_pem", &k);
	assert_int_equal(k.type, CVM_TEE_KEY_RSA);
	snprintf(want, sizeof(want), "{\"alg\":\"RSA-OAEP-256\",\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		 jstr(v, "jwe_rsa_oaep256.tee_pubkey_jwk.e"), jstr(v, "jwe_rsa_oaep256.tee_pubkey_jwk.n"));
	assert_true(cvm_tee_key_jwk(&k, jwk, sizeof(jwk)) >= 0);
	assert_string_equal(jwk, want);
	cvm_tee_key_free(&k);
	cvm_tee_key_free(&k); /* twice is fine */
	cJSON_Delete(v);
}

static void vector_jwe_ec_and_rsa(void **state)
{
	cJSON *v = load_json("trustee/generated/kbs-protocol-vectors.json");
	struct cvm_tee_key ec = { 0 }, rsa = { 0 };
	uint8_t *pt;
	size_t len;

	load_vector_key(v, "tee_private_key_pkcs8_pem", &ec);
	load_vector_key(v, "jwe_rsa_oaep256.tee_private_key_pkcs8_pem", &rsa);
	assert_int_equal(decrypt_str(&ec, jstr(v, "jwe_ecdh.response_body"), &pt, &len), 0);
	assert_int_equal(len, strlen(jstr(v, "jwe_ecdh.plaintext")));
	assert_memory_equal(pt, jstr(v, "jwe_ecdh.plaintext"), len);
	cvm_jose_free_secret(pt, len + 1);
	assert_int_equal(decrypt_str(&rsa, jstr(v, "jwe_rsa_oaep256.response_body"), &pt, &len), 0);
	assert_int_equal(len, strlen(jstr(v, "jwe_rsa_oaep256.plaintext")));
	assert_memory_equal(pt, jstr(v, "jwe_rsa_oaep256.plaintext"), len);
	cvm_jose_free_secret(pt, len + 1);
	/* Each response is for the other key type only. */
	assert_int_equal(decrypt_str(&rsa, jstr(v, "jwe_ecdh.response_body"), &pt, &len), -EOPNOTSUPP);
	assert_int_equal(decrypt_str(&ec, jstr(v, "jwe_rsa_oaep256.response_body"), &pt, &len), -EOPNOTSUPP);
	cvm_tee_key_free(&ec);
	cvm_tee_key_free(&rsa);
	cJSON_Delete(v);
}

/* Replaces the first occurrence of FROM in S with TO (malloc'd). */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	assert_non_null(p);
	r = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(r);
	sprintf(r, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

static void jwe_malformed(void **state)
{
	cJSON *v = load_json("trustee/generated/kbs-protocol-vectors.json");
	cJSON *body;
	struct cvm_tee_key ec = { 0 }, other = { 0 };
	const char *good = jstr(v, "jwe_ecdh.response_body");
	uint8_t *pt = NULL;
	size_t len;
	char *bad, tag[40];

	load_vector_key(v, "tee_private_key_pkcs8_pem", &ec);
	body = cJSON_Parse(good);
	snprintf(tag, sizeof(tag), "%s", jstr(body, "tag"));

	/* A different key: the AES key unwrap fails its integrity check. */
	assert_int_equal(cvm_tee_key_generate(CVM_TEE_KEY_EC_P256, &other), 0);
	assert_int_equal(decrypt_str(&other, good, &pt, &len), -EKEYREJECTED);
	/* Tampered tag, ciphertext and protected header (AAD). */
	tag[0] = tag[0] == 'A' ? 'B' : 'A';
	bad = subst(good, jstr(body, "tag"), tag);
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EKEYREJECTED);
	free(bad);
	bad = subst(good, "\"ciphertext\":\"b", "\"ciphertext\":\"c");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EKEYREJECTED);
	free(bad);
	/* An aad member changes the AAD (RFC 7516 §5.2 step 14). */
	bad = subst(good, "\"iv\"", "\"aad\":\"AAAA\",\"iv\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EKEYREJECTED);
	free(bad);
	/* Structure. */
	bad = subst(good, "\"iv\":\"IiIiIiIiIiIiIiIi\"", "\"iv\":\"IiIiIiIiIiIiIiI\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EBADMSG);
	free(bad);
	bad = subst(good, "\"iv\":\"IiIiIiIiIiIiIiIi\"", "\"iv\":\"IiIiIiIiIiIi\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EBADMSG);
	free(bad);
	bad = subst(good, "\"tag\"", "\"header\":{\"alg\":\"ECDH-ES+A256KW\"},\"tag\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EBADMSG); /* alg in two headers */
	free(bad);
	bad = subst(good, "\"tag\"", "\"unprotected\":{\"zip\":\"DEF\"},\"tag\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EOPNOTSUPP);
	free(bad);
	bad = subst(good, "\"encrypted_key\"", "\"encrypted_kez\"");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EBADMSG);
	free(bad);
	bad = subst(good, "\"protected\":\"", "\"protected\":\"=");
	assert_int_equal(decrypt_str(&ec, bad, &pt, &len), -EBADMSG);
	free(bad);
	assert_int_equal(decrypt_str(&ec, "{\"protected\":", &pt, &len), -EBADMSG);
	assert_int_equal(decrypt_str(&ec, "[]", &pt, &len), -EBADMSG);
	assert_int_equal(decrypt_str(&ec, "", &pt, &len), -EBADMSG);
	{
		size_t big = CVM_JOSE_MAX_SIZE + 1;
		uint8_t *b = calloc(1, big);
		assert_int_equal(cvm_jwe_decrypt(&ec, b, big, &pt, &len), -EFBIG);
		free(b);
	}
	assert_null(pt);
	cvm_tee_key_free(&ec);
	cvm_tee_key_free(&other);
	cJSON_Delete(body);
	cJSON_Delete(v);
}

/* ---------------------------------------------------------------- jwcrypto */

static const char jwcrypto_py[] =
	"import json, os, sys\n"
	"from jwcrypto import jwk, jwe, jws\n"
	"from jwcrypto.common import json_encode\n"
	"mode = sys.argv[1]\n"
	"if mode in ('ec', 'rsa', 'general'):\n"
	"    pub = jwk.JWK.from_json(os.environ['TU_JWK'])\n"
	"    alg = 'RSA-OAEP-256' if mode == 'rsa' else 'ECDH-ES+A256KW'\n"
	"    e = jwe.JWE(b'plaintext from jwcrypto', json_encode({'alg': alg, 'enc': 'A256GCM'}))\n"
	"    e.add_recipient(pub)\n"
	"    out = json.loads(e.serialize())\n"
	"    if mode == 'general':\n"
	"        r = {'encrypted_key': out.pop('encrypted_key')}\n"
	"        if 'header' in out: r['header'] = out.pop('header')\n"
	"        out['recipients'] = [r]\n"
	"    print(json.dumps(out))\n"
	"elif mode == 'jws':\n"
	"    k = jwk.JWK.generate(kty='EC', crv='P-256')\n"
	"    s = jws.JWS(b'{\"hello\":\"jws\"}')\n"
	"    s.add_signature(k, None, json_encode({'alg': 'ES256', 'kid': 'k1'}))\n"
	"    print(s.serialize(compact=True))\n"
	"    print(k.export_public())\n";

/* Runs the jwcrypto script; returns its stdout (malloc'd) or skips the test
 * when Debian's python3-jwcrypto is not there. */
static char *jwcrypto(const char *mode, const char *jwk)
{
	char *dir, path[512], cmd[700], *out;
	size_t n;
	FILE *f;

	tu_require_python_module("jwcrypto");
	out = malloc(1 << 16);
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/jw.py", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(jwcrypto_py, f);
	fclose(f);
	if (jwk)
		setenv("TU_JWK", jwk, 1);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s", path, mode);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, (1 << 16) - 1, f);
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	tu_rmtree(dir);
	free(dir);
	return out;
}

static void jwcrypto_jwe(void **state)
{
	struct cvm_tee_key ec = { 0 }, rsa = { 0 };
	char jwk[900], *m;
	uint8_t *pt;
	size_t len;

	assert_int_equal(cvm_tee_key_generate(CVM_TEE_KEY_EC_P256, &ec), 0);
	assert_true(cvm_tee_key_jwk(&ec, jwk, sizeof(jwk)) > 0);
	/* jwcrypto 1.1 puts epk in the per-recipient header, not the protected one. */
	m = jwcrypto("ec", jwk);
	assert_non_null(strstr(m, "\"header\""));
	assert_int_equal(decrypt_str(&ec, m, &pt, &len), 0);
	assert_int_equal(len, 23);
	assert_memory_equal(pt, "plaintext from jwcrypto", 23);
	cvm_jose_free_secret(pt, len + 1);
	free(m);
	m = jwcrypto("general", jwk);
	assert_non_null(strstr(m, "\"recipients\""));
	assert_int_equal(decrypt_str(&ec, m, &pt, &len), 0);
	assert_memory_equal(pt, "plaintext from jwcrypto", 23);
	cvm_jose_free_secret(pt, len + 1);
	free(m);

	assert_int_equal(cvm_tee_key_generate(CVM_TEE_KEY_RSA, &rsa), 0);
	assert_true(cvm_tee_key_jwk(&rsa, jwk, sizeof(jwk)) > 0);
	m = jwcrypto("rsa", jwk);
	assert_int_equal(decrypt_str(&rsa, m, &pt, &len), 0);
	assert_memory_equal(pt, "plaintext from jwcrypto", 23);
	cvm_jose_free_secret(pt, len + 1);
	free(m);
	cvm_tee_key_free(&ec);
	cvm_tee_key_free(&rsa);
}

static void jwcrypto_jws(void **state)
{
	char *m = jwcrypto("jws", NULL), *nl = strchr(m, '\n');
	struct cvm_jws j;
	uint8_t xy[64];

	assert_non_null(nl);
	*nl = 0;
	assert_int_equal(cvm_jwk_p256_parse((const uint8_t *)nl + 1, strlen(nl + 1), xy), 0);
	assert_int_equal(cvm_jws_parse((const uint8_t *)m, strlen(m), &j), 0);
	assert_string_equal(j.alg, "ES256");
	assert_string_equal(j.kid, "k1");
	assert_string_equal((char *)j.payload, "{\"hello\":\"jws\"}");
	assert_int_equal(cvm_jws_verify_es256(&j, xy), 0);
	xy[5] ^= 1; /* now almost surely off the curve or another key */
	assert_int_equal(cvm_jws_verify_es256(&j, xy), -EKEYREJECTED);
	cvm_jws_free(&j);
	free(m);
}

/* ---------------------------------------------------------------- JWS vectors */

static void sealed_vector_jws(void **state)
{
	cJSON *v = load_json("trustee/generated/sealed-secret-vectors.json");
	const cJSON *pub = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v, "vault_kbs"),
							    "verification_jwk_public");
	const char *sealed = jstr(v, "vault_kbs.sealed") + strlen("sealed.");
	char *pubs = cJSON_PrintUnformatted(pub), *bad;
	struct cvm_jws j;
	uint8_t xy[64], xy2[64];
	size_t klen;
	uint8_t *k2 = tu_read(tu_vectors("trustee/sealed-secret/test-key-2.json"), &klen);

	assert_int_equal(cvm_jwk_p256_parse((const uint8_t *)pubs, strlen(pubs), xy), 0);
	assert_int_equal(cvm_jwk_p256_parse(k2, klen, xy2), 0); /* private JWK: d ignored */
	assert_int_equal(cvm_jws_parse((const uint8_t *)sealed, strlen(sealed), &j), 0);
	assert_string_equal(j.kid, "kbs:///default/signing-key/test-key");
	assert_string_equal((char *)j.payload, jstr(v, "vault_kbs.payload_json"));
	assert_int_equal(cvm_jws_verify_es256(&j, xy), 0);
	assert_int_equal(cvm_jws_verify_es256(&j, xy2), -EKEYREJECTED);
	cvm_jws_free(&j);

	/* A flipped signature bit, and a payload swapped under the signature. */
	bad = strdup(sealed);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'Q' : 'A';
	assert_int_equal(cvm_jws_parse((const uint8_t *)bad, strlen(bad), &j), 0);
	assert_int_equal(cvm_jws_verify_es256(&j, xy), -EKEYREJECTED);
	cvm_jws_free(&j);
	free(bad);
	{
		const char *env = jstr(v, "envelope_example.sealed") + strlen("sealed.");
		const char *d1 = strchr(sealed, '.'), *d2 = strchr(d1 + 1, '.');
		const char *e1 = strchr(env, '.'), *e2 = strchr(e1 + 1, '.');
		char mix[4096];
		snprintf(mix, sizeof(mix), "%.*s%.*s%s", (int)(d1 - sealed + 1), sealed, (int)(e2 - e1 - 1), e1 + 1, d2);
		assert_int_equal(cvm_jws_parse((const uint8_t *)mix, strlen(mix), &j), 0);
		assert_int_equal(cvm_jws_verify_es256(&j, xy), -EKEYREJECTED);
		cvm_jws_free(&j);
	}
	/* Malformed. */
	assert_int_equal(cvm_jws_parse((const uint8_t *)"a.b", 3, &j), -EBADMSG);
	assert_int_equal(cvm_jws_parse((const uint8_t *)"a.b.c.d", 7, &j), -EBADMSG);
	{
		const char *legacy = jstr(v, "unsigned_legacy") + strlen("sealed.");
		assert_int_equal(cvm_jws_parse((const uint8_t *)legacy, strlen(legacy), &j), -EBADMSG);
	}
	/* alg none: {"alg":"none"} */
	assert_int_equal(cvm_jws_parse((const uint8_t *)"eyJhbGciOiJub25lIn0.e30.", 24, &j), 0);
	assert_int_equal(cvm_jws_verify_es256(&j, xy), -EOPNOTSUPP);
	cvm_jws_free(&j);
	/* {"alg":"ES256","crit":["x"]} */
	assert_int_equal(cvm_jws_parse((const uint8_t *)"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsieCJdfQ.e30.", 43, &j), -EBADMSG);
	/* RSA JWK and off-curve point. */
	assert_int_equal(cvm_jwk_p256_parse((const uint8_t *)"{\"kty\":\"RSA\",\"crv\":\"P-256\"}", 27, xy2), -EOPNOTSUPP);
	bad = subst(pubs, "\"x\":\"Q", "\"x\":\"R");
	assert_int_equal(cvm_jwk_p256_parse((const uint8_t *)bad, strlen(bad), xy2), -EBADMSG);
	free(bad);
	free(k2);
	free(pubs);
	cJSON_Delete(v);
}

static void key_load_errors(void **state)
{
	struct cvm_tee_key k = { 0 };
	static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

	assert_int_equal(cvm_tee_key_load((const uint8_t *)junk, strlen(junk), &k), -EBADMSG);
	assert_int_equal(cvm_tee_key_load((const uint8_t *)"", 0, &k), -EBADMSG);
	assert_int_equal(cvm_tee_key_generate((enum cvm_tee_key_type)7, &k), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url_strict),
		cmocka_unit_test(vector_jwk),
		cmocka_unit_test(vector_jwe_ec_and_rsa),
		cmocka_unit_test(jwe_malformed),
		cmocka_unit_test(jwcrypto_jwe),
		cmocka_unit_test(jwcrypto_jws),
		cmocka_unit_test(sealed_vector_jws),
		cmocka_unit_test(key_load_errors),
	};
	return cmocka_run_group_tests_name("jose", tests, NULL, NULL);
}
