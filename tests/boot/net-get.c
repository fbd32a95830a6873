/* Test workload for tests/boot/test-boot-net.sh: proves from inside the guest
 * that the init brought the network up, using cvmkit's own HTTP/TLS client.
 *
 *   net-get [--pin SHA256HEX] URL EXPECT [[--pin HEX] URL EXPECT ...]
 *
 * GETs each URL (https URLs authenticated by the pinned key given before
 * them) and checks that the body contains EXPECT.  Prints one line per URL,
 * "net-get: ok URL" or "net-get: fatal: unable to get URL: reason", and
 * exits 0 only when every URL succeeded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvmkit/hex.h"
#include "cvmkit/http.h"

int main(int argc, char **argv)
{
	uint8_t pin[32];
	struct cvm_tls_options tls = { 0 };
	int failures = 0, i = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: net-get [--pin SHA256HEX] URL EXPECT ...\n");
		return 2;
	}
	while (i < argc) {
		struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
		struct cvm_http_response rs;
		int r;

		if (!strcmp(argv[i], "--pin") && i + 1 < argc) {
			if (cvm_hex_decode(argv[i + 1], strlen(argv[i + 1]), pin, sizeof(pin)) < 0) {
				fprintf(stderr, "net-get: fatal: unable to parse --pin %s\n", argv[i + 1]);
				return 2;
			}
			tls.pin_sha256 = pin;
			i += 2;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "net-get: fatal: unable to parse arguments: %s has no EXPECT\n", argv[i]);
			return 2;
		}
		cl.allow_plain_http = true;
		cl.tls = tls.pin_sha256 ? &tls : NULL;
		cl.total_timeout_ms = 20000;
		struct cvm_http_request rq = { .method = "GET", .url = argv[i] };
		r = cvm_http_request(&cl, &rq, &rs);
		if (r < 0) {
			printf("net-get: fatal: unable to get %s: %s\n", argv[i], strerror(-r));
			failures++;
		} else {
			if (rs.status == 200 && strstr((const char *)rs.body, argv[i + 1]))
				printf("net-get: ok %s%s\n", argv[i],
				       !strncmp(argv[i], "https", 5) ? " (TLS, pinned key)" : "");
			else {
				printf("net-get: fatal: unable to get %s: status %d, %zu bytes, expected text absent\n",
				       argv[i], rs.status, rs.body_len);
				failures++;
			}
			cvm_http_response_free(&rs);
		}
		fflush(stdout);
		i += 2;
	}
	return failures ? 1 : 0;
}
