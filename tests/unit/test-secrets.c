/* init/secrets.c: delivery of secrets to files and the environment, the
 * helpers that decode IMDS answers and word errors, and the failures of the
 * secrets phase that need no network.  The file is included so its static
 * helpers can be reached; INIT_SECRETS_DIR points at a scratch folder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char secrets_dir[32];
#define INIT_SECRETS_DIR secrets_dir
#include "../../init/secrets.c"
#include "cvmkit/evidence.h"
#include "testutil.h"

static int setup(void **state)
{
	strcpy(secrets_dir, "/tmp/secXXXXXX");
	return mkdtemp(secrets_dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", secrets_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static uint8_t *slurp(const char *name, size_t *len)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", secrets_dir, name);
	return tu_read(p, len);
}

/* Whole or not at all: a file of mode 0400 owned as asked, replacing an
 * older one, no temporary left behind. */
static void secret_file(void **state)
{
	static const uint8_t v1[] = "first\0value", v2[] = "second";
	char p[128];
	struct stat st;
	uint8_t *got;
	size_t len;

	assert_int_equal(write_secret_file("DB", v1, sizeof(v1) - 1, getuid(), getgid()), 0);
	got = slurp("DB", &len);
	assert_int_equal(len, sizeof(v1) - 1);
	assert_memory_equal(got, v1, len); /* binary secrets are fine in files */
	free(got);
	/* A stale temporary from an interrupted write does not stop the next one. */
	snprintf(p, sizeof(p), "%s/.DB.tmp", secrets_dir);
	assert_int_equal(cvm_write_file_atomic(p, "junk", 4, 0600), 0);
	assert_int_equal(write_secret_file("DB", v2, sizeof(v2) - 1, getuid(), getgid()), 0);
	got = slurp("DB", &len);
	assert_int_equal(len, sizeof(v2) - 1);
	assert_memory_equal(got, v2, len);
	free(got);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/DB", secrets_dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0400);
	if (geteuid() == 0) {
		/* Owned by the workload's user, as root hands it over. */
		assert_int_equal(write_secret_file("OWNED", v2, 6, 1000, 1001), 0);
		snprintf(p, sizeof(p), "%s/OWNED", secrets_dir);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_uid, 1000);
		assert_int_equal(st.st_gid, 1001);
	}
	/* A symlink where the temporary goes is not followed. */
	snprintf(p, sizeof(p), "%s/.LINK.tmp", secrets_dir);
	assert_int_equal(symlink("/tmp/should-not-exist-cvmkit", p), 0);
	assert_int_equal(write_secret_file("LINK", v2, 6, getuid(), getgid()), 0);
	assert_int_equal(access("/tmp/should-not-exist-cvmkit", F_OK), -1);
}

static void secret_file_no_dir(void **state)
{
	char saved[sizeof(secrets_dir)];

	memcpy(saved, secrets_dir, sizeof(saved));
	strcpy(secrets_dir, "/nonexistent-cvmkit");
	assert_int_equal(write_secret_file("X", (const uint8_t *)"v", 1, getuid(), getgid()), -ENOENT);
	memcpy(secrets_dir, saved, sizeof(saved));
}

/* NAME=value appended after the configured variables; a NUL byte would cut
 * the value silently, so it is refused; the table has a fixed size; wiping
 * zeroes exactly the secrets' entries. */
static void environment(void **state)
{
	struct init_config c = { 0 };
	static const uint8_t bin[] = { 'a', 0, 'b' };

	c.envp[0] = strdup("PATH=/bin");
	assert_non_null(c.envp[0]);
	c.envc = 1;
	c.kbs.env_first = 1;
	assert_int_equal(add_env(&c, "TOKEN", (const uint8_t *)"s3cr3t", 6), 0);
	assert_int_equal(c.envc, 2);
	assert_string_equal(c.envp[1], "TOKEN=s3cr3t");
	assert_null(c.envp[2]);
	assert_int_equal(add_env(&c, "EMPTY", (const uint8_t *)"", 0), 0);
	assert_string_equal(c.envp[2], "EMPTY=");
	assert_int_equal(add_env(&c, "BIN", bin, sizeof(bin)), -EILSEQ);
	assert_int_equal(c.envc, 3);

	init_secrets_wipe_env(&c);
	assert_string_equal(c.envp[0], "PATH=/bin");
	assert_int_equal(c.envp[1][0], 0);
	assert_memory_equal(c.envp[1], "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(c.envp[2][0], 0);
	for (size_t i = 0; i < c.envc; i++)
		free(c.envp[i]);

	memset(&c, 0, sizeof(c));
	c.envc = INIT_MAX_ENV;
	assert_int_equal(add_env(&c, "FULL", (const uint8_t *)"x", 1), -E2BIG);
}

/* IMDS answers in standard or URL-safe base64, padded or not (the init's
 * decoding now lives in attest/evidence.c's cvm_imds_td_quote_response). */
static void imds_base64(void **state)
{
	/* Bytes whose encodings use '+' and '/' (or '-' and '_'), from Python's base64. */
	static const uint8_t want[] = { 0x68, 0x69, 0xfb, 0xff, 0xbe, 0xfe };
	static const char *const forms[] = { "{\"quote\":\"aGn7/77+\"}", "{\"quote\":\"aGn7_77-\"}" };
	uint8_t *q = NULL;
	size_t n = 0;

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(cvm_imds_td_quote_response((const uint8_t *)forms[i], strlen(forms[i]), &q, &n), 0);
		assert_int_equal(n, 6);
		assert_memory_equal(q, want, 6);
		free(q);
	}
	assert_true(cvm_imds_td_quote_response((const uint8_t *)"{\"quote\":\"a$b=\"}", 16, &q, &n) < 0);
}

/* Error lines name the step, the HTTP status and the KBS's words, or the
 * transport's reason; sealed-secret failures say why in plain words. */
static void error_lines(void **state)
{
	struct cvm_kbs_client kc;
	char err[256];

	memset(&kc, 0, sizeof(kc));
	kc.err.step = CVM_KBS_STEP_ATTEST;
	kc.err.code = -EACCES;
	kc.err.http_status = 401;
	strcpy(kc.err.type, "https://github.com/confidential-containers/kbs/errors/AttestationFailed");
	strcpy(kc.err.detail, "policy denied");
	kbs_err(&kc, "fetch secret A", err, sizeof(err));
	assert_string_equal(err, "fetch secret A: step attest: HTTP 401 "
				 "https://github.com/confidential-containers/kbs/errors/AttestationFailed: policy denied");
	memset(&kc, 0, sizeof(kc));
	kc.err.step = CVM_KBS_STEP_AUTH;
	kc.err.code = -ECONNREFUSED;
	strcpy(kc.err.detail, "connect");
	kbs_err(&kc, "fetch secret A", err, sizeof(err));
	assert_string_equal(err, "fetch secret A: step auth: connect (Connection refused)");

	assert_string_equal(sealed_reason(-EKEYREJECTED), "its signature does not verify");
	assert_string_equal(sealed_reason(-ENOKEY), "its signing key is not a kbs:// resource");
	assert_string_equal(sealed_reason(-EPROTONOSUPPORT), "its provider is not kbs");
	assert_string_equal(sealed_reason(-EBADMSG), "malformed");
	assert_string_equal(sealed_reason(-ENOMEM), strerror(ENOMEM));
}

/* The secrets phase fails closed, with one line, before any network use,
 * when the KBS CA cannot be read or the url cannot be used; nothing is
 * delivered. */
static void fetch_fails_closed(void **state)
{
	struct init_config c = { 0 };
	struct init_attest a = { 0 };
	char err[256];
	char p[128];

	strcpy(c.kbs.url, "https://kbs.invalid:8443");
	strcpy(c.kbs.ca, "/nonexistent/kbs-ca.pem");
	c.kbs.n_secrets = 1;
	strcpy(c.kbs.secrets[0].name, "A");
	c.kbs.secrets[0].source = "kbs:///r/t/x";
	c.kbs.secrets[0].dest = INIT_SECRET_FILE | INIT_SECRET_ENV;
	c.kbs.timeout = 1;
	a.tee = CVM_TEE_AZ_SNP_VTPM;
	assert_int_equal(init_secrets_fetch(&c, &a, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "read the KBS CA /nonexistent/kbs-ca.pem: No such file or directory");

	c.kbs.ca[0] = 0;
	c.kbs.has_pin = true;
	/* A url no transport speaks fails at the first request, never reaching
	 * the network, and the line names the secret and the step. */
	strcpy(c.kbs.url, "ftp://kbs.invalid");
	assert_true(init_secrets_fetch(&c, &a, err, sizeof(err)) < 0);
	assert_int_equal(strncmp(err, "fetch secret A from the KBS: step auth: ", 40), 0);
	assert_int_equal(c.envc, 0);
	snprintf(p, sizeof(p), "%s/A", secrets_dir);
	assert_int_equal(access(p, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(secret_file),
		cmocka_unit_test(secret_file_no_dir),
		cmocka_unit_test(environment),
		cmocka_unit_test(imds_base64),
		cmocka_unit_test(error_lines),
		cmocka_unit_test(fetch_fails_closed),
	};
	return cmocka_run_group_tests_name("secrets", tests, setup, teardown);
}
