/* cvm-measure sign / verify: a signed bundle of what publish writes.
 *
 *   DIR/corim.signed.cbor          COSE_Sign1 (tag 18) around corim.cbor's bytes
 *   DIR/reference-values.json.cose detached COSE_Sign1 over reference-values.json
 *   DIR/provenance.json            in-toto Statement v1 / SLSA Provenance v1
 *   DIR/provenance.json.cose       detached COSE_Sign1 over provenance.json
 *
 * Signing is deterministic (RFC 6979 nonces), so a signed bundle is as
 * reproducible as the build. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "cvmkit/cose.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/provenance.h"

#include "cli.h"

#define CT_CORIM "application/rim+cbor"
#define CT_JSON "application/json"
#define CT_INTOTO "application/vnd.in-toto+json"
#define SMALL_MAX (64u << 20)

/* Files a bundle names when present, in the order the statement lists them. */
static const char *const subject_files[] = {
	"measurements.json", "reference-values.json", "corim.cbor", "corim.signed.cbor",
	"uki.efi",           "disk.raw",              "disk.vhd",
};

static int load_key(const char *path, const char *pass_file, bool private_key, mbedtls_pk_context *pk)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	uint8_t *pass = NULL;
	size_t pass_len = 0;
	int r = 0;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (pass_file) {
		r = cvm_read_file(pass_file, 4096, &pass, &pass_len);
		if (r < 0)
			goto out;
		/* cvm_read_file NUL-terminates; the final newline is not part of it. */
		while (pass_len && (pass[pass_len - 1] == '\n' || pass[pass_len - 1] == '\r'))
			pass[--pass_len] = 0;
	}
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0)) {
		r = -EIO;
		goto out;
	}
	if (private_key)
		r = mbedtls_pk_parse_keyfile(pk, path, pass ? (const char *)pass : NULL, mbedtls_ctr_drbg_random, &drbg);
	else if ((r = mbedtls_pk_parse_public_keyfile(pk, path)) != 0) {
		/* A private key file holds the public key too. */
		mbedtls_pk_free(pk);
		mbedtls_pk_init(pk);
		r = mbedtls_pk_parse_keyfile(pk, path, NULL, mbedtls_ctr_drbg_random, &drbg);
	}
	r = r ? -EINVAL : 0;
out:
	if (pass) {
		explicit_bzero(pass, pass_len);
		free(pass);
	}
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return r;
}

static int sign_file(mbedtls_pk_context *key, const char *dir, const char *name, const char *ctype, bool detached,
		     const char *out_name)
{
	char path[4096];
	uint8_t *buf = NULL, *sig = NULL;
	size_t len = 0, sig_len = 0;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	r = cvm_read_file(path, SMALL_MAX, &buf, &len);
	if (r < 0)
		return fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(-r));
	r = cvm_cose_sign1(key, ctype, buf, len, detached, &sig, &sig_len);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, out_name);
		r = cvm_write_file_atomic(path, sig, sig_len, 0644);
	}
	free(buf);
	free(sig);
	return r < 0 ? fatal(EXIT_DATA, "unable to sign %s/%s into %s: %s", dir, name, out_name, strerror(-r)) : EXIT_OK;
}

int sign_published(const char *dir, const struct cvm_sign_opts *o)
{
	struct cvm_provenance prov = { .commit = o->commit, .builder = o->builder };
	mbedtls_pk_context key;
	uint8_t *lock = NULL;
	size_t lock_len = 0;
	char path[4096], *json = NULL;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int code, r;

	mbedtls_pk_init(&key);
	r = load_key(o->key, o->key_pass_file, true, &key);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to load the signing key %s: not a PEM private key (or wrong passphrase)",
			     o->key);
		goto out;
	}
	int alg;
	if (cvm_cose_alg_for_key(&key, &alg) < 0) {
		code = fatal(EXIT_DATA, "unable to sign with %s: only EC P-256 (ES256) and P-384 (ES384) keys are supported",
			     o->key);
		goto out;
	}
	code = sign_file(&key, dir, "corim.cbor", CT_CORIM, false, "corim.signed.cbor");
	if (code == EXIT_OK)
		code = sign_file(&key, dir, "reference-values.json", CT_JSON, true, "reference-values.json.cose");
	if (code != EXIT_OK)
		goto out;
	if (o->lock) {
		r = cvm_read_file(o->lock, CVM_PROVENANCE_LOCK_MAX, &lock, &lock_len);
		if (r < 0 || memchr(lock, 0, lock_len)) {
			code = fatal(EXIT_DATA, "unable to read %s: %s", o->lock, r < 0 ? strerror(-r) : "not text");
			goto out;
		}
		char *t = realloc(lock, lock_len + 1);
		if (!t) {
			code = fatal(EXIT_DATA, "unable to read %s: %s", o->lock, strerror(ENOMEM));
			goto out;
		}
		lock = (uint8_t *)t;
		lock[lock_len] = 0;
		prov.lock = (const char *)lock;
	}
	prov.source_date_epoch = sde ? strtoll(sde, NULL, 10) : 0;
	for (size_t i = 0; i < sizeof(subject_files) / sizeof(subject_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subject_files[i]);
		if (access(path, F_OK) != 0)
			continue;
		struct cvm_provenance_subject *s = &prov.subjects[prov.n_subjects];
		snprintf(s->name, sizeof(s->name), "%s", subject_files[i]);
		r = cvm_hash_file(CVM_HASH_SHA256, path, s->sha256, NULL);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to hash %s: %s", path, strerror(-r));
			goto out;
		}
		prov.n_subjects++;
	}
	r = cvm_provenance_build(&prov, &json);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to build the provenance record: %s%s", strerror(-r),
			     r == -EINVAL ? " (a deps/lock line, or --source-commit, is malformed)" : "");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/provenance.json", dir);
	r = cvm_write_file_atomic(path, json, strlen(json), 0644);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to write %s: %s", path, strerror(-r));
		goto out;
	}
	code = sign_file(&key, dir, "provenance.json", CT_INTOTO, true, "provenance.json.cose");
out:
	free(json);
	free(lock);
	mbedtls_pk_free(&key);
	return code;
}

int verb_sign(int argc, char **argv)
{
	struct cvm_sign_opts o = { 0 };
	const struct cli_opt table[] = {
		{ "key", CLI_STRING, .string = &o.key },
		CLI_OPTS_PROVENANCE(&o),
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " sign DIR --key KEY.pem [--key-pass-file FILE] [--lock deps/lock]\n"
		"                   [--source-commit SHA] [--builder ID]\n"
		"  Signs what publish wrote to DIR with an EC key (P-256: ES256, P-384: ES384):\n"
		"  DIR/corim.signed.cbor (COSE_Sign1 around corim.cbor), DIR/reference-values.json.cose\n"
		"  (detached COSE_Sign1), DIR/provenance.json (in-toto Statement v1, SLSA Provenance v1:\n"
		"  the digests of DIR's published files and image, the pinned inputs of --lock with their\n"
		"  sha256, the source commit, SOURCE_DATE_EPOCH, the builder) and its signature\n"
		"  DIR/provenance.json.cose.  Deterministic: the same inputs give the same bytes.\n"
		"  publish --sign-key KEY does the same right after publishing.\n",
		{ { .opts = table } },
	};
	int code = cli_parse(&spec, argc, argv);

	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc || !o.key)
		return usage_error("unable to sign: expected one DIR and --key KEY.pem");
	return sign_published(argv[optind], &o);
}

/* ---------------------------------------------------------------- verify */

struct vctx {
	const char *dir;
	mbedtls_pk_context *key;
	unsigned failed, passed;
};

__attribute__((format(printf, 4, 5)))
static void report(struct vctx *v, bool ok, const char *check, const char *fmt, ...)
{
	va_list ap;

	printf("%s: %s: ", ok ? "ok" : "FAILED", check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		v->passed++;
	else
		v->failed++;
}

/* Verifies DIR/SIG_NAME over DIR/NAME (detached) or against it (attached).
 * Returns <0 only for what makes the whole bundle unreadable. */
static void check_sig(struct vctx *v, const char *check, const char *sig_name, const char *name, bool attached)
{
	char path[4096];
	uint8_t *sig = NULL, *data = NULL;
	size_t sig_len = 0, len = 0;
	struct cvm_cose_sign1 m;
	int r;

	snprintf(path, sizeof(path), "%s/%s", v->dir, sig_name);
	r = cvm_read_file(path, CVM_COSE_MAX_SIZE, &sig, &sig_len);
	if (r < 0) {
		report(v, false, check, "unable to read %s", sig_name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	r = cvm_read_file(path, SMALL_MAX, &data, &len);
	if (r < 0) {
		report(v, false, check, "unable to read %s", name);
		goto out;
	}
	if (cvm_cose_sign1_parse(sig, sig_len, &m) < 0) {
		report(v, false, check, "%s is not a COSE_Sign1 with ES256/ES384", sig_name);
		goto out;
	}
	if (attached) {
		if (!m.payload || m.payload_len != len || memcmp(m.payload, data, len) != 0) {
			report(v, false, check, "the signed payload differs from %s", name);
			goto out;
		}
		r = cvm_cose_sign1_verify(&m, v->key, NULL, 0);
	} else {
		if (m.payload) {
			report(v, false, check, "%s is not detached", sig_name);
			goto out;
		}
		r = cvm_cose_sign1_verify(&m, v->key, data, len);
	}
	if (r < 0)
		report(v, false, check, "the signature does not verify with this key over %s", name);
	else
		report(v, true, check, "%s", m.alg == CVM_COSE_ALG_ES384 ? "ES384" : "ES256");
out:
	free(sig);
	free(data);
}

static void check_subjects(struct vctx *v)
{
	struct cvm_provenance_subject subj[CVM_PROVENANCE_MAX_SUBJECTS];
	char path[4096];
	uint8_t *json = NULL, digest[32];
	size_t len = 0, n = 0;
	bool has_rv = false, has_corim = false;

	snprintf(path, sizeof(path), "%s/provenance.json", v->dir);
	if (cvm_read_file(path, SMALL_MAX, &json, &len) < 0 ||
	    cvm_provenance_subjects((const char *)json, len, subj, CVM_PROVENANCE_MAX_SUBJECTS, &n) < 0) {
		report(v, false, "provenance-subjects", "%s is not an in-toto statement", "provenance.json");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", v->dir, subj[i].name);
		has_rv |= strcmp(subj[i].name, "reference-values.json") == 0;
		has_corim |= strcmp(subj[i].name, "corim.cbor") == 0;
		if (cvm_hash_file(CVM_HASH_SHA256, path, digest, NULL) < 0)
			report(v, false, "provenance-subject", "%s: unable to read it", subj[i].name);
		else if (memcmp(digest, subj[i].sha256, 32) != 0)
			report(v, false, "provenance-subject", "%s: sha256 differs from the provenance record", subj[i].name);
		else
			report(v, true, "provenance-subject", "%s", subj[i].name);
	}
	if (!has_rv || !has_corim)
		report(v, false, "provenance-subjects", "%s", "the record does not name reference-values.json and corim.cbor");
out:
	free(json);
}

int verb_verify(int argc, char **argv)
{
	const char *keyfile = NULL;
	mbedtls_pk_context key;
	const struct cli_opt table[] = {
		{ "key", CLI_STRING, .string = &keyfile },
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " verify DIR --key PUBKEY.pem\n"
		"  Checks a bundle written by sign: the signatures of corim.signed.cbor (and that\n"
		"  it carries corim.cbor's bytes), reference-values.json.cose and\n"
		"  provenance.json.cose with the publisher's public key, then every file the\n"
		"  provenance record names against its sha256.  One line per check on stdout.\n"
		"  Exit status: 0 all hold, 1 a check failed, 2 usage, 3 the key is unreadable.\n",
		{ { .opts = table } },
	};
	int code = cli_parse(&spec, argc, argv);

	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc || !keyfile)
		return usage_error("unable to verify: expected one DIR and --key PUBKEY.pem");
	mbedtls_pk_init(&key);
	if (load_key(keyfile, NULL, false, &key) < 0) {
		mbedtls_pk_free(&key);
		return fatal(EXIT_DATA, "unable to load the public key %s: not a PEM public or private key", keyfile);
	}
	struct vctx v = { .dir = argv[optind], .key = &key };
	check_sig(&v, "corim-signature", "corim.signed.cbor", "corim.cbor", true);
	check_sig(&v, "reference-values-signature", "reference-values.json.cose", "reference-values.json", false);
	check_sig(&v, "provenance-signature", "provenance.json.cose", "provenance.json", false);
	check_subjects(&v);
	printf("%s: %u passed, %u failed\n", v.failed ? "bundle does not verify" : "bundle verified", v.passed, v.failed);
	code = v.failed ? EXIT_MISMATCH : EXIT_OK;
	mbedtls_pk_free(&key);
	return code;
}
