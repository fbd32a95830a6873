/* measure/cose.c (COSE_Sign1 ES256/ES384) and measure/provenance.c.  Messages
 * signed by an independent implementation (python3-cbor2 + python3-cryptography)
 * must verify here, and ours there (tests/cli/test-measure-bundle.sh). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "cvmkit/cose.h"
#include "cvmkit/provenance.h"
#include "testutil.h"

/* Writes DIR/msg.cose (attached), DIR/detached.cose (over "detached payload"),
 * DIR/key.pem and DIR/pub.pem, all made by cbor2 + cryptography. */
static const char py_sign[] =
	"import cbor2, hashlib, sys\n"
	"from cryptography.hazmat.primitives import hashes, serialization\n"
	"from cryptography.hazmat.primitives.asymmetric import ec\n"
	"from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature\n"
	"d, curve = sys.argv[1], sys.argv[2]\n"
	"c, alg, h, n = (ec.SECP384R1(), -35, hashes.SHA384(), 48) if curve == '384' else (ec.SECP256R1(), -7, hashes.SHA256(), 32)\n"
	"k = ec.generate_private_key(c)\n"
	"open(d + '/key.pem', 'wb').write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))\n"
	"pub = k.public_key()\n"
	"open(d + '/pub.pem', 'wb').write(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))\n"
	"kid = hashlib.sha256(pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()\n"
	"prot = cbor2.dumps({1: alg, 3: 'text/plain', 4: kid})\n"
	"def sign(payload, detached):\n"
	"    r, s = decode_dss_signature(k.sign(cbor2.dumps(['Signature1', prot, b'', payload]), ec.ECDSA(h)))\n"
	"    return cbor2.dumps(cbor2.CBORTag(18, [prot, {}, None if detached else payload, r.to_bytes(n, 'big') + s.to_bytes(n, 'big')]))\n"
	"open(d + '/msg.cose', 'wb').write(sign(b'hello, cose', False))\n"
	"open(d + '/detached.cose', 'wb').write(sign(b'detached payload', True))\n";

static char *make_vectors(const char *curve)
{
	char *dir = tu_mkdtemp(), cmd[8192], script[4096];
	FILE *f;

	snprintf(script, sizeof(script), "%s/sign.py", dir);
	f = fopen(script, "w");
	assert_non_null(f);
	fputs(py_sign, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s", script, dir, curve);
	assert_int_equal(system(cmd), 0);
	return dir;
}

static void load_pk(const char *dir, const char *name, bool priv, mbedtls_pk_context *pk)
{
	mbedtls_entropy_context e;
	mbedtls_ctr_drbg_context d;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mbedtls_pk_init(pk);
	mbedtls_entropy_init(&e);
	mbedtls_ctr_drbg_init(&d);
	assert_int_equal(mbedtls_ctr_drbg_seed(&d, mbedtls_entropy_func, &e, NULL, 0), 0);
	if (priv)
		assert_int_equal(mbedtls_pk_parse_keyfile(pk, path, NULL, mbedtls_ctr_drbg_random, &d), 0);
	else
		assert_int_equal(mbedtls_pk_parse_public_keyfile(pk, path), 0);
	mbedtls_ctr_drbg_free(&d);
	mbedtls_entropy_free(&e);
}

static uint8_t *read_in(const char *dir, const char *name, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return tu_read(path, len);
}

static void independent_messages_verify(const char *curve, int alg)
{
	tu_require_python_module("cbor2");
	tu_require_python_module("cryptography");
	char *dir = make_vectors(curve);
	mbedtls_pk_context pub;
	struct cvm_cose_sign1 m;
	size_t len, dlen;
	uint8_t *msg = read_in(dir, "msg.cose", &len), *det = read_in(dir, "detached.cose", &dlen);
	static const char payload[] = "detached payload";

	load_pk(dir, "pub.pem", false, &pub);
	assert_int_equal(cvm_cose_sign1_parse(msg, len, &m), 0);
	assert_int_equal(m.alg, alg);
	assert_string_equal(m.content_type, "text/plain");
	assert_true(m.has_kid);
	assert_int_equal(m.payload_len, 11);
	assert_memory_equal(m.payload, "hello, cose", 11);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, NULL, 0), 0);
	/* One byte of the payload changed: the signature no longer holds. */
	msg[m.payload - msg] ^= 1;
	assert_int_equal(cvm_cose_sign1_parse(msg, len, &m), 0);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, NULL, 0), -EKEYREJECTED);

	assert_int_equal(cvm_cose_sign1_parse(det, dlen, &m), 0);
	assert_null(m.payload);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, NULL, 0), -EINVAL);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, (const uint8_t *)payload, strlen(payload)), 0);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, (const uint8_t *)payload, strlen(payload) - 1), -EKEYREJECTED);
	mbedtls_pk_free(&pub);
	free(msg);
	free(det);
	tu_rmtree(dir);
	free(dir);
}

static void python_es256_verifies(void **state) { independent_messages_verify("256", CVM_COSE_ALG_ES256); }
static void python_es384_verifies(void **state) { independent_messages_verify("384", CVM_COSE_ALG_ES384); }

static void sign_is_deterministic_and_checks_key(void **state)
{
	tu_require_python_module("cbor2");
	tu_require_python_module("cryptography");
	char *dir = make_vectors("256"), *dir2 = make_vectors("384");
	mbedtls_pk_context key, pub, other;
	struct cvm_cose_sign1 m;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	static const uint8_t data[] = "reference values";

	load_pk(dir, "key.pem", true, &key);
	load_pk(dir, "pub.pem", false, &pub);
	load_pk(dir2, "pub.pem", false, &other);
	assert_int_equal(cvm_cose_sign1(&key, "application/json", data, sizeof(data), false, &a, &alen), 0);
	assert_int_equal(cvm_cose_sign1(&key, "application/json", data, sizeof(data), false, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen); /* RFC 6979 nonces */
	assert_int_equal(a[0], 0xD2);    /* tag 18 */
	assert_int_equal(cvm_cose_sign1_parse(a, alen, &m), 0);
	assert_int_equal(cvm_cose_sign1_verify(&m, &pub, NULL, 0), 0);
	/* A P-384 key has another algorithm and kid: rejected before any arithmetic. */
	assert_int_equal(cvm_cose_sign1_verify(&m, &other, NULL, 0), -EKEYREJECTED);
	free(a);
	free(b);
	mbedtls_pk_free(&key);
	mbedtls_pk_free(&pub);
	mbedtls_pk_free(&other);
	tu_rmtree(dir);
	tu_rmtree(dir2);
	free(dir);
	free(dir2);
}

static void parse_rejects_malformed(void **state)
{
	struct cvm_cose_sign1 m;
	uint8_t sig64[64] = { 0 };
	/* tag 18, [ <<{1:-7}>>, {}, h'', sig ] */
	uint8_t good[8 + 2 + 64];
	size_t n = 0;

	good[n++] = 0xD2;
	good[n++] = 0x84;
	good[n++] = 0x43; good[n++] = 0xA1; good[n++] = 0x01; good[n++] = 0x26;
	good[n++] = 0xA0;
	good[n++] = 0x40;
	good[n++] = 0x58; good[n++] = 64;
	memcpy(good + n, sig64, 64);
	n += 64;
	assert_int_equal(cvm_cose_sign1_parse(good, n, &m), 0);
	assert_int_equal(m.alg, CVM_COSE_ALG_ES256);
	assert_int_equal(cvm_cose_sign1_parse(good + 1, n - 1, &m), 0); /* untagged */

	uint8_t t[sizeof(good) + 1];
#define BAD(expect, mutate)                                                                                            \
	do {                                                                                                           \
		size_t tl = n;                                                                                         \
		memcpy(t, good, n);                                                                                    \
		mutate;                                                                                                \
		assert_int_equal(cvm_cose_sign1_parse(t, tl, &m), expect);                                             \
	} while (0)
	BAD(-EBADMSG, tl = 5);                       /* truncated */
	BAD(-EBADMSG, tl = n - 1);                   /* signature cut short */
	BAD(-EBADMSG, t[tl++] = 0);                  /* trailing byte */
	BAD(-EBADMSG, t[0] = 0xD1);                  /* tag 17 (COSE_Mac0) */
	BAD(-EBADMSG, t[1] = 0x83);                  /* array of 3 */
	BAD(-EBADMSG, t[5] = 0x27);                  /* alg -8 (EdDSA) */
	BAD(-EBADMSG, t[5] = 0x38; t[4] = 0x01);     /* alg as a truncated negint */
	BAD(-EBADMSG, t[6] = 0xA1);                  /* non-empty unprotected header */
	BAD(-EBADMSG, t[7] = 0x5F);                  /* indefinite-length payload */
	BAD(-EBADMSG, t[9] = 63);                    /* 63-byte signature for ES256 */
	BAD(-EBADMSG, t[3] = 0xA0; t[4] = 0xF6; t[5] = 0xF6); /* protected {} + junk */
#undef BAD
	assert_int_equal(cvm_cose_sign1_parse(good, (size_t)CVM_COSE_MAX_SIZE + 1, &m), -E2BIG);
}

static void provenance_build_and_read(void **state)
{
	struct cvm_provenance p = { .commit = "0123456789abcdef0123456789abcdef01234567", .source_date_epoch = 7 };
	struct cvm_provenance_subject back[4];
	char *json = NULL;
	size_t n = 0;

	p.lock = "# comment\n\ndeb t pkg 1.0 pool/main/p/pkg.deb "
		 "e9893e5295d0549b8852611f12a4b8b5f6cc4b8128dcc2086b9847793b904ab7 12\n";
	snprintf(p.subjects[0].name, sizeof(p.subjects[0].name), "corim.cbor");
	memset(p.subjects[0].sha256, 0xAB, 32);
	p.n_subjects = 1;
	assert_int_equal(cvm_provenance_build(&p, &json), 0);
	assert_non_null(strstr(json, "\"https://slsa.dev/provenance/v1\""));
	assert_non_null(strstr(json, "\"e9893e5295d0549b8852611f12a4b8b5f6cc4b8128dcc2086b9847793b904ab7\""));
	assert_non_null(strstr(json, "\"https://deb.debian.org/debian/pool/main/p/pkg.deb\""));
	assert_int_equal(cvm_provenance_subjects(json, strlen(json), back, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(back[0].name, "corim.cbor");
	assert_memory_equal(back[0].sha256, p.subjects[0].sha256, 32);
	assert_int_equal(cvm_provenance_subjects(json, strlen(json), back, 0, &n), -EBADMSG);
	free(json);

	static const char *const bad_locks[] = {
		"deb t pkg 1.0 pool/x.deb 00 12\n",                       /* short sha256 */
		"deb t pkg 1.0 pool/x.deb\n",                             /* fields missing */
		"deb t pkg 1.0 pool/../x e9893e5295d0549b8852611f12a4b8b5f6cc4b8128dcc2086b9847793b904ab7 1\n",
	};
	for (size_t i = 0; i < sizeof(bad_locks) / sizeof(bad_locks[0]); i++) {
		p.lock = bad_locks[i];
		assert_int_equal(cvm_provenance_build(&p, &json), -EINVAL);
	}
	p.lock = NULL;
	p.commit = "main";
	assert_int_equal(cvm_provenance_build(&p, &json), -EINVAL);

	static const char *const bad_docs[] = {
		"{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"subject\":[]}",
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"../x\",\"digest\":{\"sha256\":"
		"\"abababababababababababababababababababababababababababababababab\"}}]}",
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"a/b\",\"digest\":{\"sha256\":"
		"\"abababababababababababababababababababababababababababababababab\"}}]}",
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"x\",\"digest\":{\"sha256\":\"ab\"}}]}",
		"[",
	};
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
		assert_int_equal(cvm_provenance_subjects(bad_docs[i], strlen(bad_docs[i]), back, 4, &n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(python_es256_verifies),
		cmocka_unit_test(python_es384_verifies),
		cmocka_unit_test(sign_is_deterministic_and_checks_key),
		cmocka_unit_test(parse_rejects_malformed),
		cmocka_unit_test(provenance_build_and_read),
	};
	return cmocka_run_group_tests_name("cose", tests, NULL, NULL);
}
