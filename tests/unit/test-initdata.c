/* common/initdata: the TOML subset, digest and PCR 8 against the worked
 * values of ../shared/notes/initdata.md §3 (computed there with Python's
 * hashlib), the aa.toml KBS settings, and both IMDS userData forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/base64.h>
#include <zlib.h>

#include "cvmkit/initdata.h"
#include "testutil.h"

/* §1's minimal example, 116 bytes with its final newline. */
static const char example[] = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"aa.toml\" = '''\n"
			      "[token_configs.kbs]\nurl = \"http://10.0.0.4:8080\"\n'''\n";
/* CAA's dummy document, 66 bytes, no final newline (§3). */
static const char dummy[] = "algorithm = \"sha256\"\nversion = \"0.1.0\"\n\n[data]\n\"aa.toml\" = '''\n'''";

static struct cvm_initdata *parse_ok(const char *doc, size_t len)
{
	struct cvm_initdata *d = malloc(sizeof(*d));
	int r;

	assert_non_null(d);
	r = cvm_initdata_parse((const uint8_t *)doc, len, d);
	if (r != 0)
		fail_msg("parse: %d line %u: %s", r, d->err_line, d->err ? d->err : "?");
	return d;
}

static void check_worked(const char *doc, size_t len, const char *digest_hex, const char *pcr8_hex)
{
	struct cvm_initdata *d = parse_ok(doc, len);
	uint8_t dg[CVM_HASH_MAX_SIZE], ext[32], pcr[32];
	char first32[65] = { 0 };
	int n = cvm_initdata_digest(d->alg, (const uint8_t *)doc, len, dg);

	assert_int_equal(n, (int)strlen(digest_hex) / 2);
	tu_assert_hex(dg, (size_t)n, digest_hex);
	assert_int_equal(cvm_initdata_pcr8(dg, (size_t)n, ext, pcr), 0);
	memcpy(first32, digest_hex, 64); /* the extend is the digest's first 32 bytes */
	tu_assert_hex(ext, 32, first32);
	tu_assert_hex(pcr, 32, pcr8_hex);
	free(d);
}

static void worked_values(void **state)
{
	char sha384[sizeof(example)];
	struct cvm_initdata *d;
	size_t vl;
	const char *v;

	(void)state;
	assert_int_equal(sizeof(example) - 1, 116);
	assert_int_equal(sizeof(dummy) - 1, 66);
	check_worked(example, 116, "6eaa519990613257f47f1e812adde7a837de938fbf367d957a3451759aa21eb8",
		     "895e6117f8e0a3e265f29daf0f3d17e2ff8643cf54ccb1c3aca60e262c396f06");
	memcpy(sha384, example, sizeof(example));
	memcpy(strstr(sha384, "sha256"), "sha384", 6);
	check_worked(sha384, 116,
		     "cc52ccf8b307f248ffd3dfce5ac6e3729285a14ec02b5e28eecb7c88c84caaf344dc2dc7b3cc20f8f4ca71d686915a57",
		     "4478daf9e682eade14959dc4e69eb454e870f9d9fdf4f753f97f48b2ac1368c4");
	check_worked(dummy, 66, "adb48cc14fea9403d3d51f3b5f5068fd4d80445a14e94f1b3d5dbabaad66478d",
		     "4b58b30becd30d16f7f60d56b32661d921ae0d3310c6a89f5d552f9bfee921a9");

	d = parse_ok(example, 116);
	assert_string_equal(d->version, "0.1.0");
	assert_int_equal(d->alg, CVM_HASH_SHA256);
	assert_int_equal(d->n, 1);
	v = cvm_initdata_get(d, "aa.toml", &vl);
	assert_non_null(v);
	assert_string_equal(v, "[token_configs.kbs]\nurl = \"http://10.0.0.4:8080\"\n");
	assert_int_equal(vl, strlen(v));
	assert_null(cvm_initdata_get(d, "cdh.toml", &vl));
	free(d);
	d = parse_ok(dummy, 66);
	v = cvm_initdata_get(d, "aa.toml", &vl);
	assert_non_null(v);
	assert_int_equal(vl, 0);
	free(d);
}

static void strings(void **state)
{
	static const char doc[] = "# comment\r\nversion = '0.1.0'   # trailing\r\n\"algorithm\"\t=\t\"sha512\"\n"
				  "[ data ]\n"
				  "basic = \"a\\tb\\\"c\\\\d\\u00e9\\U0001F600\"\n"
				  "'lit' = 'C:\\path'\n"
				  "ml = \"\"\"\nline1\\\n   line2\"\"\"\"\n"
				  "mll = '''x''y'''''\n"
				  "crlf = '''\r\na\r\nb'''\n"
				  "\"\" = \"empty key\"\n";
	struct cvm_initdata *d = parse_ok(doc, sizeof(doc) - 1);
	size_t vl;

	(void)state;
	assert_int_equal(d->alg, CVM_HASH_SHA512);
	assert_int_equal(d->n, 6);
	assert_string_equal(cvm_initdata_get(d, "basic", &vl), "a\tb\"c\\d\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(cvm_initdata_get(d, "lit", &vl), "C:\\path");
	assert_string_equal(cvm_initdata_get(d, "ml", &vl), "line1line2\"");
	assert_string_equal(cvm_initdata_get(d, "mll", &vl), "x''y''");
	assert_string_equal(cvm_initdata_get(d, "crlf", &vl), "a\nb");
	assert_string_equal(cvm_initdata_get(d, "", &vl), "empty key");
	free(d);
}

struct refusal {
	const char *name, *doc;
	int err;
	const char *why;
	unsigned line;
};

#define HEAD "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n"
static const struct refusal refusals[] = {
	{ "no equals", HEAD "a \"b\"\n", -EBADMSG, "expected = after a key", 4 },
	{ "integer data", HEAD "a = 1\n", -EBADMSG, "[data] values must be strings", 4 },
	{ "boolean data", HEAD "a = true\n", -EBADMSG, "[data] values must be strings", 4 },
	{ "array data", HEAD "a = [\"x\",\n \"y\"]\n", -EBADMSG, "[data] values must be strings", 4 },
	{ "inline table", HEAD "a = { b = \"c\" }\n", -EBADMSG, "[data] values must be strings", 4 },
	{ "sha-256", "version = \"0.1.0\"\nalgorithm = \"sha-256\"\n[data]\n", -EOPNOTSUPP,
	  "algorithm is not sha256, sha384 or sha512", 0 },
	{ "SHA256", "version = \"0.1.0\"\nalgorithm = \"SHA256\"\n[data]\n", -EOPNOTSUPP,
	  "algorithm is not sha256, sha384 or sha512", 0 },
	{ "version", "version = \"0.2.0\"\nalgorithm = \"sha256\"\n[data]\n", -EPROTONOSUPPORT, "version is not \"0.1.0\"", 0 },
	{ "version number", "version = 0.1\nalgorithm = \"sha256\"\n[data]\n", -EBADMSG, "version and algorithm must be strings", 1 },
	{ "no version", "algorithm = \"sha256\"\n[data]\n", -EBADMSG, "no version", 0 },
	{ "no algorithm", "version = \"0.1.0\"\n[data]\n", -EBADMSG, "no algorithm", 0 },
	{ "no data", "version = \"0.1.0\"\nalgorithm = \"sha256\"\n", -EBADMSG, "no [data] table", 0 },
	{ "unknown key", "version = \"0.1.0\"\nalgorithm = \"sha256\"\nfoo = \"x\"\n[data]\n", -EBADMSG,
	  "unknown top-level key (initdata has version, algorithm and [data])", 3 },
	{ "other table", HEAD "[other]\n", -EBADMSG, "only the [data] table belongs in initdata", 4 },
	{ "sub table", HEAD "[data.x]\n", -EBADMSG, "only the [data] table belongs in initdata", 4 },
	{ "array table", HEAD "[[data]]\n", -EBADMSG, "only the [data] table belongs in initdata", 4 },
	{ "data twice", HEAD "[data]\n", -EBADMSG, "[data] defined twice", 4 },
	{ "duplicate", HEAD "a = 'x'\n\"a\" = 'y'\n", -EBADMSG, "duplicate key in [data]", 5 },
	{ "duplicate version", "version = \"0.1.0\"\nversion = \"0.1.0\"\n", -EBADMSG, "duplicate key", 2 },
	{ "dotted", HEAD "a.b = 'x'\n", -EBADMSG, "dotted keys are not part of initdata", 4 },
	{ "bad utf8", HEAD "a = '\xc3\x28'\n", -EBADMSG, "not valid UTF-8", 1 },
	{ "surrogate utf8", HEAD "a = '\xed\xa0\x80'\n", -EBADMSG, "not valid UTF-8", 1 },
	{ "bare cr", HEAD "a = 'x'\r", -EBADMSG, "expected the end of the line", 4 },
	{ "nul", HEAD "a = 'x\x01'\n", -EBADMSG, "control character in a string", 4 },
	{ "unterminated", HEAD "a = '''x\n", -EBADMSG, "unterminated string", 5 },
	{ "newline in string", HEAD "a = \"x\ny\"\n", -EBADMSG, "newline in a single-line string", 4 },
	{ "bad escape", HEAD "a = \"\\e\"\n", -EBADMSG, "invalid escape sequence in a string", 4 },
	{ "surrogate escape", HEAD "a = \"\\ud800\"\n", -EBADMSG,
	  "\\u or \\U escape of a value that is not a Unicode scalar", 4 },
	{ "six quotes", HEAD "a = '''x''''''\n", -EBADMSG, "too many quotes at the end of a multi-line string", 4 },
	{ "trailing junk", HEAD "a = 'x' y\n", -EBADMSG, "expected the end of the line", 4 },
	{ "control key", HEAD "\"a\\u0001\" = 'x'\n", -EBADMSG, "control character in a [data] key", 4 },
};

static void refused(void **state)
{
	struct cvm_initdata *d = malloc(sizeof(*d));

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *t = &refusals[i];
		int r = cvm_initdata_parse((const uint8_t *)t->doc, strlen(t->doc), d);

		if (r != t->err || !d->err || strcmp(d->err, t->why) || (t->line && d->err_line != t->line))
			fail_msg("%s: got %d line %u '%s', want %d line %u '%s'", t->name, r, d->err_line,
				 d->err ? d->err : "(null)", t->err, t->line, t->why);
		assert_int_equal(d->n, 0);
	}
	free(d);
}

static void caps(void **state)
{
	size_t big = CVM_INITDATA_MAX + 1, n;
	char *doc = malloc(big + 64);
	struct cvm_initdata *d = malloc(sizeof(*d));

	(void)state;
	assert_non_null(doc);
	assert_non_null(d);
	/* One byte over the cap. */
	n = (size_t)sprintf(doc, HEAD "a = '");
	memset(doc + n, 'x', big - n - 2);
	memcpy(doc + big - 2, "'\n", 2);
	assert_int_equal(cvm_initdata_parse((const uint8_t *)doc, big, d), -EFBIG);
	/* Exactly at the cap: accepted. */
	n = (size_t)sprintf(doc, HEAD "a = '");
	memset(doc + n, 'x', CVM_INITDATA_MAX - n - 2);
	memcpy(doc + CVM_INITDATA_MAX - 2, "'\n", 2);
	assert_int_equal(cvm_initdata_parse((const uint8_t *)doc, CVM_INITDATA_MAX, d), 0);
	/* 33 entries. */
	n = (size_t)sprintf(doc, HEAD);
	for (int i = 0; i < 33; i++)
		n += (size_t)sprintf(doc + n, "k%d = 'v'\n", i);
	assert_int_equal(cvm_initdata_parse((const uint8_t *)doc, n, d), -E2BIG);
	assert_string_equal(d->err, "more than 32 [data] entries");
	/* A 129-byte key. */
	n = (size_t)sprintf(doc, HEAD);
	memset(doc + n, 'k', 129);
	n += 129;
	n += (size_t)sprintf(doc + n, " = 'v'\n");
	assert_int_equal(cvm_initdata_parse((const uint8_t *)doc, n, d), -E2BIG);
	free(doc);
	free(d);
}

static void aa_kbs(void **state)
{
	static const char aa[] = "# AA configuration\n[eventlog_config]\nenable_eventlog = false\nlog_path = [1, 2]\n"
				 "[token_configs]\n[token_configs.coco_as]\nurl = \"http://as\"\n"
				 "[token_configs.kbs]\nurl = \"https://kbs.example:8080\"\n"
				 "cert = '''\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'''\n"
				 "[[x]]\nurl = \"not this\"\n";
	static const char dotted[] = "token_configs.kbs.url = \"https://dotted\"\n";
	char url[256] = "unchanged", cert[1024];

	(void)state;
	assert_int_equal(cvm_initdata_aa_kbs(aa, sizeof(aa) - 1, url, sizeof(url), cert, sizeof(cert)), 0);
	assert_string_equal(url, "https://kbs.example:8080");
	assert_string_equal(cert, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	assert_int_equal(cvm_initdata_aa_kbs(dotted, sizeof(dotted) - 1, url, sizeof(url), cert, sizeof(cert)), 0);
	assert_string_equal(url, "https://dotted");
	assert_string_equal(cert, "");
	strcpy(url, "unchanged");
	assert_int_equal(cvm_initdata_aa_kbs("[token_configs.kbs]\nurl = 5\n", 28, url, sizeof(url), cert, sizeof(cert)),
			 -EINVAL);
	assert_int_equal(cvm_initdata_aa_kbs("[token_configs.kbs]\nurl = \"https://x\"\n", 38, url, 5, cert, sizeof(cert)),
			 -ENOBUFS);
	assert_int_equal(cvm_initdata_aa_kbs("[token_configs.kbs\n", 19, url, sizeof(url), cert, sizeof(cert)), -EBADMSG);
	assert_string_equal(url, "unchanged");
}

/* ---------------------------------------------------------------- userData */

static char *b64(const uint8_t *buf, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1, n;
	char *s = malloc(cap);

	assert_non_null(s);
	assert_int_equal(mbedtls_base64_encode((unsigned char *)s, cap, &n, buf, len), 0);
	return s;
}

static uint8_t *gz(const uint8_t *buf, size_t len, size_t *ret_len)
{
	uLongf cap = compressBound(len) + 64;
	uint8_t *out = malloc(cap);
	z_stream z = { 0 };

	assert_non_null(out);
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)buf;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	*ret_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* cloud-api-adaptor's layout: apf.json first, then the initdata file. */
static char *cloud_config_userdata(const uint8_t *gzbuf, size_t gzlen, const char *extra)
{
	char *inner = b64(gzbuf, gzlen), *cc, *out;
	size_t n = strlen(inner) + 512;

	cc = malloc(n);
	assert_non_null(cc);
	snprintf(cc, n,
		 "#cloud-config\nwrite_files:\n  - path: /run/peerpod/apf.json\n    content: |\n      {\"tls\": \"x\"}\n"
		 "      - path: /run/peerpod/initdata\n"
		 "  - path: /run/peerpod/initdata\n    content: |\n      %.40s\n      %s\n%s",
		 inner, strlen(inner) > 40 ? inner + 40 : "", extra);
	out = b64((const uint8_t *)cc, strlen(cc));
	free(inner);
	free(cc);
	return out;
}

static void userdata_forms(void **state)
{
	uint8_t *out = malloc(CVM_INITDATA_MAX);
	enum cvm_initdata_form form;
	size_t len = 0, gl;
	char *ud, wrapped[400];
	uint8_t *g;

	(void)state;
	assert_non_null(out);
	/* Native, with the newline IMDS text may carry and line breaks. */
	ud = b64((const uint8_t *)example, 116);
	snprintf(wrapped, sizeof(wrapped), "%.20s\n%s\n", ud, ud + 20);
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)wrapped, strlen(wrapped), out, CVM_INITDATA_MAX, &len, &form), 0);
	assert_int_equal(form, CVM_INITDATA_FORM_NATIVE);
	assert_int_equal(len, 116);
	assert_memory_equal(out, example, 116);
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, 100, &len, &form), -EFBIG);
	free(ud);

	/* Peer-pod: the gzip'd document inside the cloud-config. */
	g = gz((const uint8_t *)dummy, 66, &gl);
	ud = cloud_config_userdata(g, gl, "");
	len = 0;
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), 0);
	assert_int_equal(form, CVM_INITDATA_FORM_PEERPOD);
	assert_int_equal(len, 66);
	assert_memory_equal(out, dummy, 66);
	free(ud);
	/* Keys cloud-api-adaptor never writes are refused. */
	ud = cloud_config_userdata(g, gl, "    encoding: b64\n");
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), -EBADMSG);
	free(ud);
	/* Trailing bytes after the gzip member. */
	g = realloc(g, gl + 4);
	memcpy(g + gl, "junk", 4);
	ud = cloud_config_userdata(g, gl + 4, "");
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), -EBADMSG);
	free(ud);
	/* Corrupt deflate data. */
	g[gl / 2] ^= 0xff;
	ud = cloud_config_userdata(g, gl, "");
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), -EBADMSG);
	free(ud);
	free(g);

	/* No userData, and a cloud-config without an initdata file. */
	assert_int_equal(cvm_initdata_from_userdata((const uint8_t *)"\n", 1, out, CVM_INITDATA_MAX, &len, &form), 0);
	assert_int_equal(form, CVM_INITDATA_FORM_NONE);
	assert_int_equal(len, 0);
	ud = b64((const uint8_t *)"#cloud-config\nwrite_files:\n  - path: /run/peerpod/apf.json\n    content: |\n      {}\n", 79);
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), 0);
	assert_int_equal(form, CVM_INITDATA_FORM_NONE);
	free(ud);
	/* Not base64; over Azure's limit. */
	assert_int_equal(cvm_initdata_from_userdata((const uint8_t *)"not*base64", 10, out, CVM_INITDATA_MAX, &len, &form),
			 -EBADMSG);
	ud = malloc(CVM_INITDATA_USERDATA_MAX + 4);
	memset(ud, 'A', CVM_INITDATA_USERDATA_MAX + 4);
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, CVM_INITDATA_USERDATA_MAX + 4, out, CVM_INITDATA_MAX,
						    &len, &form),
			 -EFBIG);
	free(ud);
	free(out);
}

/* 16 MiB of zeros deflate to ~16 KiB: inflating stops at the cap. */
static void gzip_bomb(void **state)
{
	size_t big = 16u << 20, gl, len = 7;
	uint8_t *zeros = calloc(1, big), *g, *out = malloc(CVM_INITDATA_MAX);
	enum cvm_initdata_form form = CVM_INITDATA_FORM_NATIVE;
	char *ud;

	(void)state;
	assert_non_null(zeros);
	assert_non_null(out);
	g = gz(zeros, big, &gl);
	free(zeros);
	ud = cloud_config_userdata(g, gl, "");
	assert_true(strlen(ud) < CVM_INITDATA_USERDATA_MAX);
	assert_int_equal(cvm_initdata_from_userdata((uint8_t *)ud, strlen(ud), out, CVM_INITDATA_MAX, &len, &form), -EFBIG);
	assert_int_equal(len, 7); /* untouched on failure */
	assert_int_equal(form, CVM_INITDATA_FORM_NATIVE);
	free(ud);
	free(g);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worked_values), cmocka_unit_test(strings),	   cmocka_unit_test(refused),
		cmocka_unit_test(caps),		 cmocka_unit_test(aa_kbs),	   cmocka_unit_test(userdata_forms),
		cmocka_unit_test(gzip_bomb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
