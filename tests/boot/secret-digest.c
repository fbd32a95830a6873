/* Test workload for tests/boot/test-boot-kbs.sh: proves which secrets the
 * init delivered without ever printing them.  For each argument
 *   file:NAME  reads /run/secrets/NAME
 *   env:NAME   reads the environment variable NAME
 * and prints "secret file:NAME sha256 <hex> mode <octal> uid <n>" (files) or
 * "secret env:NAME sha256 <hex>"; a missing one prints "secret KIND:NAME
 * missing" and makes the exit status 1.  Also (tests/boot/test-boot-initdata.sh)
 *   path:/ABS  the same for any file ("secret path:/ABS sha256 <hex> mode ...")
 *   ro:/ABS    "readonly /ABS yes|no": whether opening it for writing fails
 *              with EROFS (the workload runs as root, so modes do not stop it)
 * Built static with musl-gcc by the
 * test script, linked with common/ (cvm_hash). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"

static int digest(const char *label, const uint8_t *p, size_t len, const char *extra)
{
	uint8_t d[32];
	char hex[65];

	if (cvm_hash(CVM_HASH_SHA256, p, len, d) < 0)
		return 1;
	cvm_hex_encode(d, 32, hex);
	printf("secret %s sha256 %s%s\n", label, hex, extra);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "env:", 4)) {
			const char *v = getenv(a + 4);
			if (!v) {
				printf("secret %s missing\n", a);
				status = 1;
				continue;
			}
			status |= digest(a, (const uint8_t *)v, strlen(v), "");
		} else if (!strncmp(a, "ro:/", 4)) {
			int fd = open(a + 3, O_WRONLY | O_CLOEXEC);
			printf("readonly %s %s\n", a + 3, fd < 0 && errno == EROFS ? "yes" : "no");
			if (fd >= 0)
				close(fd);
		} else if (!strncmp(a, "file:", 5) || !strncmp(a, "path:/", 6)) {
			char path[256], extra[64];
			struct stat st;
			uint8_t *buf;
			size_t len;

			if (a[0] == 'p')
				snprintf(path, sizeof(path), "%s", a + 5);
			else
				snprintf(path, sizeof(path), "/run/secrets/%s", a + 5);
			if (stat(path, &st) < 0 || cvm_read_file(path, 1u << 20, &buf, &len) < 0) {
				printf("secret %s missing\n", a);
				status = 1;
				continue;
			}
			snprintf(extra, sizeof(extra), " mode %04o uid %u", (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
			status |= digest(a, buf, len, extra);
			free(buf);
		} else {
			fprintf(stderr, "secret-digest: fatal: unable to parse %s: expected file:NAME, env:NAME, path:/ABS or ro:/ABS\n", a);
			return 2;
		}
	}
	fflush(stdout);
	return status;
}
