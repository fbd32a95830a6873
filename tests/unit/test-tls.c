/* net/tls.c: HTTPS against a python3 ssl server on 127.0.0.1 with a
 * throwaway CA made by openssl for this run: CA mode (IP and DNS SANs),
 * pinned-key mode, TLS 1.2 and 1.3, and the failures (wrong CA, wrong name,
 * wrong pin, no TLS on the other end, a silent server). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "cvmkit/http.h"
#include "cvmkit/net.h"
#include "cvmkit/tls.h"
#include "testutil.h"

static const char server_py[] =
	"import socket, ssl, sys\n"
	"cert, key, lo, hi = sys.argv[1:5]\n"
	"v = {'1.2': ssl.TLSVersion.TLSv1_2, '1.3': ssl.TLSVersion.TLSv1_3}\n"
	"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"ctx.load_cert_chain(cert, key)\n"
	"ctx.minimum_version = v[lo]; ctx.maximum_version = v[hi]\n"
	"s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16)\n"
	"print(s.getsockname()[1], flush=True)\n"
	"while True:\n"
	"    c, _ = s.accept()\n"
	"    try:\n"
	"        t = ctx.wrap_socket(c, server_side=True)\n"
	"        data = b''\n"
	"        while b'\\r\\n\\r\\n' not in data:\n"
	"            d = t.recv(4096)\n"
	"            if not d: break\n"
	"            data += d\n"
	"        body = ('hello ' + t.version()).encode()\n"
	"        if data.startswith(b'GET /unframed '):\n"
	"            # No Content-Length, no chunks: the body ends with a TCP FIN\n"
	"            # (Python closes without close_notify), as a truncation would.\n"
	"            t.sendall(b'HTTP/1.1 200 OK\\r\\n\\r\\n' + body)\n"
	"        else:\n"
	"            t.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n' % len(body) + body)\n"
	"        t.close()\n"
	"    except Exception:\n"
	"        c.close()\n";

struct fixture {
	char *dir;
	uint8_t *ca, *wrong_ca;
	size_t ca_len, wrong_ca_len;
	uint8_t pin[32];
	pid_t pid13, pid12;
	uint16_t port13, port12;
	bool ok;
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static pid_t start_server(const char *dir, const char *lo, const char *hi, uint16_t *port)
{
	int fds[2];
	char line[32] = "";
	pid_t pid;
	FILE *f;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char cert[512], key[512];

		dup2(fds[1], 1);
		close(fds[0]);
		snprintf(cert, sizeof(cert), "%s/server.pem", dir);
		snprintf(key, sizeof(key), "%s/server.key", dir);
		execlp("python3", "python3", "-c", server_py, cert, key, lo, hi, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*port = (uint16_t)atoi(line);
	return *port ? pid : -1;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	uint8_t *pinhex;
	size_t n;
	const char *d;

	*state = fx;
	if (sh("command -v openssl >/dev/null && command -v python3 >/dev/null") != 0)
		return 0;
	fx->dir = tu_mkdtemp();
	d = fx->dir;
	/* A CA, a server certificate for 127.0.0.1 and kbs.test, a second
	 * unrelated CA, and the server key's SPKI SHA-256 computed by openssl. */
	if (sh("cd %s && exec >log 2>&1 && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem "
	       "-days 2 -subj /CN=test-ca && "
	       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout wrong.key -out wrong.pem "
	       "-days 2 -subj /CN=test-ca && "
	       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr "
	       "-subj /CN=server && "
	       "printf 'subjectAltName=IP:127.0.0.1,DNS:kbs.test\\n' >ext && "
	       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext "
	       "-out server.pem && "
	       "openssl x509 -in server.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | "
	       "cut -c1-64 | tr -d '\\n' >pin.hex",
	       d) != 0)
		return 0;
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/ca.pem", d);
		fx->ca = tu_read(p, &fx->ca_len);
		snprintf(p, sizeof(p), "%s/wrong.pem", d);
		fx->wrong_ca = tu_read(p, &fx->wrong_ca_len);
		snprintf(p, sizeof(p), "%s/pin.hex", d);
		pinhex = tu_read(p, &n);
		if (n != 64 || cvm_hex_decode((const char *)pinhex, 64, fx->pin, 32) < 0) {
			free(pinhex);
			return 0;
		}
		free(pinhex);
	}
	fx->pid13 = start_server(d, "1.2", "1.3", &fx->port13);
	fx->pid12 = start_server(d, "1.2", "1.2", &fx->port12);
	fx->ok = fx->pid13 > 0 && fx->pid12 > 0;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->pid13 > 0)
		kill(fx->pid13, SIGKILL), waitpid(fx->pid13, NULL, 0);
	if (fx->pid12 > 0)
		kill(fx->pid12, SIGKILL), waitpid(fx->pid12, NULL, 0);
	if (fx->dir) {
		tu_rmtree(fx->dir);
		free(fx->dir);
	}
	free(fx->ca);
	free(fx->wrong_ca);
	free(fx);
	return 0;
}

static struct fixture *need(void **state)
{
	struct fixture *fx = *state;

	if (!fx->ok) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("openssl/python3 TLS fixture unavailable");
		skip();
	}
	return fx;
}

/* GETs https://127.0.0.1:port/PATH and returns the status (or the error). */
static int get_path(uint16_t port, const char *path, const struct cvm_tls_options *o, char *body, size_t size)
{
	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
	struct cvm_http_response rs;
	char url[64];
	int r;

	cl.tls = o;
	cl.max_attempts = 1;
	cl.connect_timeout_ms = 5000;
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/%s", port, path);
	struct cvm_http_request rq = { .method = "GET", .url = url };
	r = cvm_http_request(&cl, &rq, &rs);
	if (r < 0)
		return r;
	snprintf(body, size, "%s", (char *)rs.body);
	r = rs.status;
	cvm_http_response_free(&rs);
	return r;
}

static int get(uint16_t port, const struct cvm_tls_options *o, char *body, size_t size)
{
	return get_path(port, "", o, body, size);
}

/* Over TLS a body must be framed (Content-Length or chunked): one that only
 * the TCP EOF ends could have been cut short by anyone on the path. */
static void unframed_refused(void **state)
{
	struct fixture *fx = need(state);
	struct cvm_tls_options o = { 0 };
	char body[64];

	o.ca = fx->ca;
	o.ca_len = fx->ca_len;
	assert_int_equal(get_path(fx->port13, "", &o, body, sizeof(body)), 200);
	assert_int_equal(get_path(fx->port13, "unframed", &o, body, sizeof(body)), -EBADMSG);
	assert_int_equal(get_path(fx->port12, "unframed", &o, body, sizeof(body)), -EBADMSG);
}

static void ca_mode(void **state)
{
	struct fixture *fx = need(state);
	struct cvm_tls_options o = { .ca = fx->ca, .ca_len = fx->ca_len };
	char body[64];

	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), 200);
	assert_string_equal(body, "hello TLSv1.3");
	assert_int_equal(get(fx->port12, &o, body, sizeof(body)), 200);
	assert_string_equal(body, "hello TLSv1.2");
	/* The client can insist on 1.2 or on 1.3. */
	o.max_version = CVM_TLS_1_2;
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), 200);
	assert_string_equal(body, "hello TLSv1.2");
	o.max_version = 0;
	o.min_version = CVM_TLS_1_3;
	assert_int_equal(get(fx->port12, &o, body, sizeof(body)), -EPROTO);
	o.min_version = 0;
	/* The DNS SAN matches when that is the name expected. */
	o.server_name = "kbs.test";
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), 200);
	/* DER CA works too. */
	{
		char p[512];
		uint8_t *der;
		size_t n;

		assert_int_equal(sh("openssl x509 -in %s/ca.pem -outform DER -out %s/ca.der", fx->dir, fx->dir), 0);
		snprintf(p, sizeof(p), "%s/ca.der", fx->dir);
		der = tu_read(p, &n);
		struct cvm_tls_options od = { .ca = der, .ca_len = n };
		assert_int_equal(get(fx->port13, &od, body, sizeof(body)), 200);
		free(der);
	}
}

static void ca_mode_rejects(void **state)
{
	struct fixture *fx = need(state);
	struct cvm_tls_options o = { .ca = fx->wrong_ca, .ca_len = fx->wrong_ca_len };
	char body[64];

	/* Same subject name, different key: must fail. */
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), -EKEYREJECTED);
	assert_int_equal(get(fx->port12, &o, body, sizeof(body)), -EKEYREJECTED);
	o.ca = fx->ca;
	o.ca_len = fx->ca_len;
	o.server_name = "other.test";
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), -EKEYREJECTED);
	o.server_name = "127.0.0.2";
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), -EKEYREJECTED);
	/* Garbage CA bytes are an option error. */
	struct cvm_tls_options g = { .ca = (const uint8_t *)"not a cert", .ca_len = 10 };
	assert_int_equal(get(fx->port13, &g, body, sizeof(body)), -EINVAL);
	/* No CA and no pin: refused before connecting. */
	struct cvm_tls_options none = { 0 };
	assert_int_equal(get(fx->port13, &none, body, sizeof(body)), -EINVAL);
}

static void pin_mode(void **state)
{
	struct fixture *fx = need(state);
	struct cvm_tls_options o = { .pin_sha256 = fx->pin };
	uint8_t d[32], wrong[32];
	char p[512], body[64];
	uint8_t *pem;
	size_t n;

	/* Our SPKI digest equals openssl's. */
	snprintf(p, sizeof(p), "%s/server.pem", fx->dir);
	pem = tu_read(p, &n);
	assert_int_equal(cvm_tls_spki_sha256(pem, n, d), 0);
	assert_memory_equal(d, fx->pin, 32);
	free(pem);
	assert_int_equal(cvm_tls_spki_sha256((const uint8_t *)"junk", 4, d), -EINVAL);

	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), 200);
	assert_string_equal(body, "hello TLSv1.3");
	assert_int_equal(get(fx->port12, &o, body, sizeof(body)), 200);
	assert_string_equal(body, "hello TLSv1.2");
	memcpy(wrong, fx->pin, 32);
	wrong[31] ^= 1;
	o.pin_sha256 = wrong;
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), -EKEYREJECTED);
	assert_int_equal(get(fx->port12, &o, body, sizeof(body)), -EKEYREJECTED);
	/* CA and pin together: both must hold. */
	o.ca = fx->ca;
	o.ca_len = fx->ca_len;
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), -EKEYREJECTED);
	o.pin_sha256 = fx->pin;
	assert_int_equal(get(fx->port13, &o, body, sizeof(body)), 200);
}

/* A listener that accepts nothing (the kernel completes the TCP handshake
 * from the backlog) or answers with plain HTTP. */
static void not_tls(void **state)
{
	struct fixture *fx = need(state);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct cvm_tls_options o = { .pin_sha256 = fx->pin };
	struct cvm_tls *t;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
	uint64_t t0;
	pid_t pid;

	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(cvm_net_tcp_connect("127.0.0.1", ntohs(sin.sin_port), cvm_net_deadline(1000), &fd), 0);
	t0 = cvm_net_now_ms();
	assert_int_equal(cvm_tls_connect(fd, &o, cvm_net_deadline(300), &t), -ETIMEDOUT);
	assert_true(cvm_net_now_ms() - t0 >= 300 && cvm_net_now_ms() - t0 < 2000);
	close(fd);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The first connection in the backlog is the abandoned one above. */
		for (int i = 0; i < 2; i++) {
			int c = accept(lfd, NULL, NULL);
			char junk[512];

			(void)!read(c, junk, sizeof(junk));
			(void)!write(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 47);
			close(c);
		}
		_exit(0);
	}
	assert_int_equal(cvm_net_tcp_connect("127.0.0.1", ntohs(sin.sin_port), cvm_net_deadline(1000), &fd), 0);
	{
		int r = cvm_tls_connect(fd, &o, cvm_net_deadline(3000), &t);
		assert_true(r == -EPROTO || r == -ECONNRESET);
	}
	close(fd);
	waitpid(pid, NULL, 0);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ca_mode),
		cmocka_unit_test(ca_mode_rejects),
		cmocka_unit_test(pin_mode),
		cmocka_unit_test(unframed_refused),
		cmocka_unit_test(not_tls),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("tls", tests, setup, teardown);
}
