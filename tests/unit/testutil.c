#include <errno.h>
#include <limits.h>
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

#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "testutil.h"

const char *tu_vectors(const char *sub)
{
	static char path[PATH_MAX];
	const char *base = getenv("CVMKIT_VECTORS");
	const char *ci = getenv("CI");
	struct stat st;

	if (!base || !*base)
		base = "../shared/vectors";
	snprintf(path, sizeof(path), "%s/%s", base, sub);
	if (stat(path, &st) == 0)
		return path;
	if (ci && strcmp(ci, "true") == 0)
		fail_msg("test vectors %s are missing (required under CI=true)", path);
	print_message("SKIP: test vectors %s are absent\n", path);
	skip();
	return NULL;
}

void tu_require_python_module(const char *module)
{
	char cmd[256];
	const char *ci = getenv("CI");

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c 'import %s' 2>/dev/null", module);
	if (access("/usr/bin/python3", X_OK) == 0 && system(cmd) == 0)
		return;
	if (ci && strcmp(ci, "true") == 0)
		fail_msg("python3-%s is missing (required under CI=true; apt-get install python3-%s)", module, module);
	print_message("SKIP: python3-%s is not installed\n", module);
	skip();
}

bool tu_have_tools(const char *tools, const char *what)
{
	const char *ci = getenv("CI"), *p = tools;
	char tool[64], cmd[160];

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n && n < sizeof(tool)) {
			memcpy(tool, p, n);
			tool[n] = 0;
			snprintf(cmd, sizeof(cmd), "command -v '%s' >/dev/null 2>&1", tool);
			if (system(cmd) != 0) {
				if (ci && strcmp(ci, "true") == 0)
					fail_msg("%s: %s is not installed (required under CI=true)", what, tool);
				print_message("SKIP: %s: %s not installed\n", what, tool);
				return false;
			}
		}
		p += n + (p[n] == ' ');
	}
	return true;
}

void tu_skip_or_fail(const char *fmt, ...)
{
	const char *ci = getenv("CI");
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (ci && strcmp(ci, "true") == 0)
		fail_msg("%s (required under CI=true)", why);
	print_message("SKIP: %s\n", why);
	skip();
	abort(); /* skip() longjmps out of the test */
}

uint8_t *tu_read(const char *path, size_t *ret_len)
{
	uint8_t *buf = NULL;
	int r = cvm_read_file(path, (size_t)1 << 30, &buf, ret_len);

	if (r < 0)
		fail_msg("cannot read %s: %s", path, strerror(-r));
	return buf;
}

uint8_t *tu_vector_file(const char *sub, size_t *ret_len)
{
	return tu_read(tu_vectors(sub), ret_len);
}

void tu_assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
	char *s = malloc(2 * len + 1);

	assert_non_null(s);
	cvm_hex_encode(buf, len, s);
	assert_string_equal(s, hex);
	free(s);
}

uint8_t *tu_unhex(const char *hex, size_t *ret_len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *buf = malloc(n + 1);

	assert_non_null(buf);
	assert_int_equal(cvm_hex_decode(hex, strlen(hex), buf, n), 0);
	*ret_len = n;
	return buf;
}

char *tu_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *d;

	if (asprintf(&d, "%s/cvmkit-test.XXXXXX", t && *t ? t : "/tmp") < 0)
		fail();
	assert_non_null(mkdtemp(d));
	return d;
}

void tu_rmtree(const char *dir)
{
	char *cmd;

	if (!dir)
		return;
	if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		if (system(cmd) != 0)
			print_message("warning: could not remove %s\n", dir);
		free(cmd);
	}
}
