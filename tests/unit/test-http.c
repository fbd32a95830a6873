/* net/http.c: URL parser, response parser (framing, caps, malformed input),
 * cookies, request rendering, and the client against a canned loopback
 * server (retries, deadlines, resets). */
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
#include "cvmkit/http.h"
#include "cvmkit/net.h"
#include "testutil.h"

/* ------------------------------------------------------------------ parser */

static int parse_str(const char *s, size_t max_head, size_t max_body, struct cvm_http_response *rs)
{
	return cvm_http_parse_response((const uint8_t *)s, strlen(s), max_head, max_body, rs);
}

static void content_length(void **state)
{
	struct cvm_http_response rs;
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
			"Set-Cookie: kbs-session-id=abc\r\n\r\n{\"a\":1}trailing-garbage";

	assert_int_equal(parse_str(s, 0, 0, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.reason, "OK");
	assert_int_equal(rs.n_headers, 3);
	assert_string_equal(cvm_http_response_header(&rs, "content-type"), "application/json");
	assert_string_equal(cvm_http_response_header(&rs, "SET-COOKIE"), "kbs-session-id=abc");
	assert_null(cvm_http_response_header(&rs, "Location"));
	assert_int_equal(rs.body_len, 7);
	assert_memory_equal(rs.body, "{\"a\":1}", 7);
	assert_int_equal(rs.body[7], 0);
	cvm_http_response_free(&rs);
}

/* Feeding one byte at a time must give the same result as one buffer. */
static void byte_at_a_time(void **state)
{
	const char *s = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A:  spaced value \t\r\n\r\n"
			"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
	struct cvm_http_parser p;
	struct cvm_http_response rs;
	int r = 0;

	cvm_http_parser_init(&p, 0, 0, false);
	for (size_t i = 0; i < strlen(s); i++) {
		r = cvm_http_parser_feed(&p, (const uint8_t *)s + i, 1);
		if (i + 1 < strlen(s))
			assert_int_equal(r, 0);
	}
	assert_int_equal(r, 1);
	assert_int_equal(cvm_http_parser_take(&p, &rs), 0);
	cvm_http_parser_free(&p);
	assert_int_equal(rs.status, 201);
	assert_string_equal(cvm_http_response_header(&rs, "x-a"), "spaced value");
	/* The RFC 9112 / Wikipedia chunked example decodes to this. */
	assert_int_equal(rs.body_len, strlen("Wikipedia in\r\n\r\nchunks."));
	assert_memory_equal(rs.body, "Wikipedia in\r\n\r\nchunks.", rs.body_len);
	cvm_http_response_free(&rs);
}

/* require_framing (what the client sets over TLS): a body delimited by the
 * connection's end is refused at the head; framed or empty ones pass. */
static int feed_framed(const char *s)
{
	struct cvm_http_parser p;
	int r;

	cvm_http_parser_init(&p, 0, 0, false);
	p.require_framing = true;
	r = cvm_http_parser_feed(&p, (const uint8_t *)s, strlen(s));
	cvm_http_parser_free(&p);
	return r;
}

static void framing_required(void **state)
{
	assert_int_equal(feed_framed("HTTP/1.1 200 OK\r\n\r\nall of it"), -EBADMSG);
	assert_int_equal(feed_framed("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), -EBADMSG);
	assert_int_equal(feed_framed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 1);
	assert_int_equal(feed_framed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"), 1);
	assert_int_equal(feed_framed("HTTP/1.1 204 No Content\r\n\r\n"), 1);
	assert_int_equal(feed_framed("HTTP/1.1 304 Not Modified\r\n\r\n"), 1);
}

static void until_close_and_no_body(void **state)
{
	struct cvm_http_response rs;
	struct cvm_http_parser p;

	/* HTTP/1.0 style: the body runs to the end of the connection. */
	assert_int_equal(parse_str("HTTP/1.0 200 OK\r\n\r\nall of it", 0, 0, &rs), 0);
	assert_int_equal(rs.body_len, 9);
	assert_string_equal((char *)rs.body, "all of it");
	cvm_http_response_free(&rs);

	/* 204 has no body even without Content-Length; 100 Continue is skipped. */
	assert_int_equal(parse_str("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nA: b\r\n\r\n", 0, 0, &rs), 0);
	assert_int_equal(rs.status, 204);
	assert_int_equal(rs.body_len, 0);
	assert_non_null(rs.body);
	assert_string_equal(cvm_http_response_header(&rs, "a"), "b");
	cvm_http_response_free(&rs);

	/* HEAD: Content-Length describes the GET body that is not sent. */
	cvm_http_parser_init(&p, 0, 0, true);
	{
		const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
		assert_int_equal(cvm_http_parser_feed(&p, (const uint8_t *)h, strlen(h)), 1);
	}
	assert_int_equal(cvm_http_parser_take(&p, &rs), 0);
	assert_int_equal(rs.body_len, 0);
	cvm_http_response_free(&rs);
	cvm_http_parser_free(&p);

	/* Bare LF line endings are accepted (RFC 9112 §2.2). */
	assert_int_equal(parse_str("HTTP/1.1 404 Not Found\nContent-Length: 2\n\nno", 0, 0, &rs), 0);
	assert_int_equal(rs.status, 404);
	assert_string_equal((char *)rs.body, "no");
	cvm_http_response_free(&rs);
}

static void caps(void **state)
{
	struct cvm_http_response rs;
	char big[600];

	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memcpy(big + sizeof(big) - 5, "\r\n\r\n", 5);
	assert_int_equal(parse_str(big, 512, 0, &rs), -EMSGSIZE);
	/* Fits: no framing, so the (empty) body runs to the end of the buffer. */
	assert_int_equal(parse_str(big, 1024, 0, &rs), 0);
	assert_int_equal(rs.body_len, 0);
	cvm_http_response_free(&rs);
	assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n0123456789a", 0, 10, &rs), -EMSGSIZE);
	assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", 0, 10, &rs),
			 -EBADMSG);
	assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n",
				   0, 10, &rs),
			 -EMSGSIZE);
	assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 0, 10, &rs),
			 -EMSGSIZE);
	assert_int_equal(parse_str("HTTP/1.0 200 OK\r\n\r\n0123456789a", 0, 10, &rs), -EMSGSIZE);
	/* Exactly at the cap is fine. */
	assert_int_equal(parse_str("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 0, 10, &rs), 0);
	cvm_http_response_free(&rs);
}

static void malformed(void **state)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{ "HTTP/2 200 OK\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 20 OK\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 099 Low\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200OK\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", -EBADMSG },
		{ "http/1.1 200 OK\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n", -EBADMSG },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", -EBADMSG },
		{ "HTTP/1.1 101 Switching Protocols\r\n\r\n", -EBADMSG },
		/* Truncated: more bytes would be needed. */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", -EAGAIN },
		{ "HTTP/1.1 200 OK\r\nContent-Le", -EAGAIN },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", -EAGAIN },
		{ "", -EAGAIN },
	};
	struct cvm_http_response rs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_str(cases[i].text, 0, 0, &rs);

		if (r != cases[i].err)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].text, r, cases[i].err);
	}
	/* A NUL byte inside a header line. */
	{
		static const uint8_t nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\nContent-Length: 0\r\n\r\n";
		assert_int_equal(cvm_http_parse_response(nul, sizeof(nul) - 1, 0, 0, &rs), -EBADMSG);
	}
	/* finish() on a truncated Content-Length body: the peer cut it short. */
	{
		struct cvm_http_parser p;
		const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";

		cvm_http_parser_init(&p, 0, 0, false);
		assert_int_equal(cvm_http_parser_feed(&p, (const uint8_t *)s, strlen(s)), 0);
		assert_int_equal(cvm_http_parser_finish(&p), -EBADMSG);
		/* The error is sticky. */
		assert_int_equal(cvm_http_parser_feed(&p, (const uint8_t *)"abc", 3), -EBADMSG);
		cvm_http_parser_free(&p);
	}
}

/* ------------------------------------------------------------------ URL, cookies, rendering */

static void urls(void **state)
{
	struct cvm_url u;

	assert_int_equal(cvm_url_parse("https://10.0.2.2:8080/kbs/v0/auth", &u), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "10.0.2.2");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/kbs/v0/auth");
	assert_int_equal(cvm_url_parse("HTTP://169.254.169.254", &u), 0);
	assert_false(u.https);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");
	assert_int_equal(cvm_url_parse("https://kbs.example.com?x=1", &u), 0);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/?x=1");
	assert_int_equal(cvm_url_parse("http://h/metadata/THIM/amd/certification?a=b&c=%20", &u), 0);
	assert_string_equal(u.path, "/metadata/THIM/amd/certification?a=b&c=%20");

	assert_int_equal(cvm_url_parse("ftp://h/", &u), -EPROTONOSUPPORT);
	assert_int_equal(cvm_url_parse("h/path", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http:///path", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://user@h/", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h:0/", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h:65536/", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h:/", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://[::1]/", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h/a b", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h/a\r\nX: y", &u), -EINVAL);
	assert_int_equal(cvm_url_parse("http://h/a#frag", &u), -EINVAL);
}

static void cookies(void **state)
{
	struct cvm_http_cookies jar = { 0 };

	assert_int_equal(cvm_http_cookies_set(&jar, "kbs-session-id=1a2b; Path=/; HttpOnly; Expires=Wed, 21 Oct 2037 07:28:00 GMT"), 0);
	assert_string_equal(cvm_http_cookies_get(&jar, "kbs-session-id"), "1a2b");
	assert_int_equal(cvm_http_cookies_set(&jar, "other=\"quoted\""), 0);
	assert_string_equal(cvm_http_cookies_get(&jar, "other"), "quoted");
	assert_int_equal(cvm_http_cookies_set(&jar, "kbs-session-id=3c4d"), 0);
	assert_string_equal(cvm_http_cookies_get(&jar, "kbs-session-id"), "3c4d");
	assert_int_equal(jar.n, 2);
	assert_int_equal(cvm_http_cookies_set(&jar, "other=x; Max-Age=0"), 0);
	assert_null(cvm_http_cookies_get(&jar, "other"));
	assert_int_equal(jar.n, 1);

	assert_int_equal(cvm_http_cookies_set(&jar, "novalue"), -EINVAL);
	assert_int_equal(cvm_http_cookies_set(&jar, "=v"), -EINVAL);
	assert_int_equal(cvm_http_cookies_set(&jar, "a=b c"), -EINVAL);
	assert_int_equal(cvm_http_cookies_set(&jar, "a=b,c"), -EINVAL);
	assert_int_equal(cvm_http_cookies_set(&jar, "a b=c"), -EINVAL);
	for (int i = 1; i < CVM_HTTP_MAX_COOKIES; i++) {
		char s[32];
		snprintf(s, sizeof(s), "c%d=v", i);
		assert_int_equal(cvm_http_cookies_set(&jar, s), 0);
	}
	assert_int_equal(cvm_http_cookies_set(&jar, "onemore=v"), -E2BIG);
	{
		char *big = malloc(CVM_HTTP_MAX_COOKIE_VALUE + 10);
		memset(big, 'v', CVM_HTTP_MAX_COOKIE_VALUE + 9);
		memcpy(big, "k=", 2);
		big[CVM_HTTP_MAX_COOKIE_VALUE + 9] = 0;
		assert_int_equal(cvm_http_cookies_set(&jar, big), -E2BIG);
		free(big);
	}
	cvm_http_cookies_clear(&jar);
	assert_int_equal(jar.n, 0);
	assert_null(cvm_http_cookies_get(&jar, "kbs-session-id"));
}

static void render(void **state)
{
	struct cvm_url u;
	struct cvm_http_cookies jar = { 0 };
	struct cvm_http_header h[] = { { "Content-Type", "application/json" } };
	struct cvm_http_request rq = { .method = "POST", .url = "", .headers = h, .n_headers = 1,
				       .body = (const uint8_t *)"{}", .body_len = 2 };
	char buf[512];

	assert_int_equal(cvm_url_parse("http://10.0.2.2:8080/kbs/v0/attest", &u), 0);
	assert_int_equal(cvm_http_cookies_set(&jar, "kbs-session-id=abc"), 0);
	assert_int_equal(cvm_http_cookies_set(&jar, "b=2"), 0);
	const char *want = "POST /kbs/v0/attest HTTP/1.1\r\nHost: 10.0.2.2:8080\r\nUser-Agent: cvmkit\r\n"
			   "Connection: close\r\nContent-Length: 2\r\nCookie: kbs-session-id=abc; b=2\r\n"
			   "Content-Type: application/json\r\n\r\n";
	assert_int_equal(cvm_http_render_request(&rq, &u, &jar, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(cvm_http_render_request(&rq, &u, &jar, buf, 40), -ENOBUFS);

	/* GET on the default port: no port in Host, no Content-Length. */
	assert_int_equal(cvm_url_parse("http://169.254.169.254/metadata", &u), 0);
	struct cvm_http_header md[] = { { "Metadata", "true" } };
	struct cvm_http_request g = { .method = "GET", .url = "", .headers = md, .n_headers = 1 };
	want = "GET /metadata HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: cvmkit\r\nConnection: close\r\n"
	       "Metadata: true\r\n\r\n";
	assert_int_equal(cvm_http_render_request(&g, &u, NULL, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);

	/* Header injection is refused. */
	struct cvm_http_header bad[] = { { "X", "a\r\nEvil: 1" } };
	g.headers = bad;
	assert_int_equal(cvm_http_render_request(&g, &u, NULL, buf, sizeof(buf)), -EINVAL);
	struct cvm_http_header badn[] = { { "X Y", "a" } };
	g.headers = badn;
	assert_int_equal(cvm_http_render_request(&g, &u, NULL, buf, sizeof(buf)), -EINVAL);
	g.headers = md;
	g.method = "GE T";
	assert_int_equal(cvm_http_render_request(&g, &u, NULL, buf, sizeof(buf)), -EINVAL);
}

/* ------------------------------------------------------------------ client against a canned server */

/* Each connection gets the next script: a response to send, or one of the
 * actions below.  Requests are appended to reqlog. */
#define ACT_CLOSE "\001close"   /* close without answering */
#define ACT_STALL "\001stall"   /* never answer (until killed) */

struct server {
	pid_t pid;
	uint16_t port;
	char reqlog[256];
	char *dir;
};

static void serve(int lfd, const char **scripts, size_t n, const char *reqlog)
{
	for (size_t i = 0; i < n; i++) {
		char req[8192];
		size_t got = 0;
		int fd = accept(lfd, NULL, NULL);
		FILE *f;

		if (fd < 0)
			_exit(2);
		/* Read the head and, when announced, the body. */
		for (;;) {
			ssize_t k = recv(fd, req + got, sizeof(req) - 1 - got, 0);
			char *end, *cl;

			if (k <= 0)
				break;
			got += (size_t)k;
			req[got] = 0;
			end = strstr(req, "\r\n\r\n");
			if (!end)
				continue;
			cl = strstr(req, "Content-Length: ");
			if (!cl || got >= (size_t)(end + 4 - req) + (size_t)atoi(cl + 16))
				break;
		}
		f = fopen(reqlog, "a");
		if (f) {
			fprintf(f, "%s\n=====\n", req);
			fclose(f);
		}
		if (!strcmp(scripts[i], ACT_STALL))
			pause();
		if (strcmp(scripts[i], ACT_CLOSE))
			(void)!write(fd, scripts[i], strlen(scripts[i]));
		close(fd);
	}
	_exit(0);
}

static void server_start(struct server *s, const char **scripts, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	s->dir = tu_mkdtemp();
	snprintf(s->reqlog, sizeof(s->reqlog), "%s/requests", s->dir);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0)
		serve(lfd, scripts, n, s->reqlog);
	close(lfd);
}

/* Stops the server; returns the requests it logged (caller frees). */
static char *server_stop(struct server *s)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *text;

	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	if (cvm_read_file(s->reqlog, 1 << 20, &buf, &len) < 0) {
		buf = NULL;
		len = 0;
	}
	text = calloc(1, len + 1);
	if (buf)
		memcpy(text, buf, len);
	free(buf);
	tu_rmtree(s->dir);
	free(s->dir);
	return text;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static struct cvm_http_client plain_client(void)
{
	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;

	cl.allow_plain_http = true;
	cl.backoff_ms = 50;
	cl.connect_timeout_ms = 2000;
	cl.read_timeout_ms = 2000;
	cl.total_timeout_ms = 10000;
	return cl;
}

static void client_cookie_roundtrip(void **state)
{
	const char *scripts[] = {
		"HTTP/1.1 200 OK\r\nSet-Cookie: kbs-session-id=s3ss10n; Secure; HttpOnly\r\nContent-Length: 9\r\n\r\n{\"n\":\"x\"}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	};
	struct server s;
	struct cvm_http_cookies jar = { 0 };
	struct cvm_http_client cl = plain_client();
	struct cvm_http_response rs;
	char url[64];
	char *log;

	server_start(&s, scripts, 2);
	cl.cookies = &jar;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/kbs/v0/auth", s.port);
	struct cvm_http_request rq = { .method = "POST", .url = url, .body = (const uint8_t *)"{\"tee\":\"x\"}", .body_len = 11 };
	assert_int_equal(cvm_http_request(&cl, &rq, &rs), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal((char *)rs.body, "{\"n\":\"x\"}");
	cvm_http_response_free(&rs);
	assert_string_equal(cvm_http_cookies_get(&jar, "kbs-session-id"), "s3ss10n");

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/kbs/v0/resource/a/b/c", s.port);
	struct cvm_http_request g = { .method = "GET", .url = url };
	assert_int_equal(cvm_http_request(&cl, &g, &rs), 0);
	assert_string_equal((char *)rs.body, "abc");
	cvm_http_response_free(&rs);
	log = server_stop(&s);
	assert_non_null(strstr(log, "POST /kbs/v0/auth HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "Content-Length: 11\r\n\r\n{\"tee\":\"x\"}"));
	assert_non_null(strstr(log, "GET /kbs/v0/resource/a/b/c HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "Cookie: kbs-session-id=s3ss10n\r\n"));
	assert_int_equal(count(log, "Cookie:"), 1);
	free(log);
}

static void client_retries(void **state)
{
	const char *busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct cvm_http_client cl = plain_client();
	struct cvm_http_response rs;
	struct server s;
	char url[64], *log;

	/* GET: 503, then a reset, then 200. */
	{
		const char *scripts[] = { busy, ACT_CLOSE, ok };
		server_start(&s, scripts, 3);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", s.port);
		struct cvm_http_request g = { .method = "GET", .url = url };
		assert_int_equal(cvm_http_request(&cl, &g, &rs), 0);
		assert_int_equal(rs.status, 200);
		cvm_http_response_free(&rs);
		log = server_stop(&s);
		assert_int_equal(count(log, "GET /x"), 3);
		free(log);
	}
	/* POST: the 503 is returned as is, no second request. */
	{
		const char *scripts[] = { busy, ok };
		server_start(&s, scripts, 2);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/p", s.port);
		struct cvm_http_request p = { .method = "POST", .url = url };
		assert_int_equal(cvm_http_request(&cl, &p, &rs), 0);
		assert_int_equal(rs.status, 503);
		assert_string_equal((char *)rs.body, "busy");
		cvm_http_response_free(&rs);
		/* The next POST gets the next script. */
		assert_int_equal(cvm_http_request(&cl, &p, &rs), 0);
		assert_int_equal(rs.status, 200);
		cvm_http_response_free(&rs);
		log = server_stop(&s);
		assert_int_equal(count(log, "POST /p"), 2);
		free(log);
	}
	{
		const char *scripts[] = { ACT_CLOSE, ok };
		server_start(&s, scripts, 2);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/p", s.port);
		struct cvm_http_request p = { .method = "POST", .url = url };
		assert_int_equal(cvm_http_request(&cl, &p, &rs), -ECONNRESET);
		/* ... unless the caller allows it. */
		p.retry_unsafe = true;
		assert_int_equal(cvm_http_request(&cl, &p, &rs), 0);
		assert_int_equal(rs.status, 200);
		cvm_http_response_free(&rs);
		log = server_stop(&s);
		free(log);
	}
	/* Every attempt 503: after max_attempts, the last 503. */
	{
		const char *scripts[] = { busy, busy, busy };
		cl.max_attempts = 3;
		server_start(&s, scripts, 3);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", s.port);
		struct cvm_http_request g = { .method = "GET", .url = url };
		uint64_t t0 = cvm_net_now_ms();
		assert_int_equal(cvm_http_request(&cl, &g, &rs), 0);
		assert_int_equal(rs.status, 503);
		/* Backoff 50 + 100 ms between the three attempts. */
		assert_true(cvm_net_now_ms() - t0 >= 150);
		cvm_http_response_free(&rs);
		log = server_stop(&s);
		assert_int_equal(count(log, "GET /x"), 3);
		free(log);
	}
}

static void client_failures(void **state)
{
	struct cvm_http_client cl = plain_client();
	struct cvm_http_response rs;
	struct server s;
	char url[64], *log;
	uint64_t t0;

	/* Nobody listening: refused, retried max_attempts times. */
	{
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sin);
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/", ntohs(sin.sin_port));
		close(fd); /* bound, never listened: the port now refuses */
		cl.max_attempts = 3;
		struct cvm_http_request p = { .method = "POST", .url = url };
		t0 = cvm_net_now_ms();
		assert_int_equal(cvm_http_request(&cl, &p, &rs), -ECONNREFUSED);
		assert_true(cvm_net_now_ms() - t0 >= 150);
	}
	/* A server that never answers: the read deadline ends it. */
	{
		const char *scripts[] = { ACT_STALL };
		server_start(&s, scripts, 1);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", s.port);
		cl.max_attempts = 1;
		cl.read_timeout_ms = 300;
		struct cvm_http_request g = { .method = "GET", .url = url };
		t0 = cvm_net_now_ms();
		assert_int_equal(cvm_http_request(&cl, &g, &rs), -ETIMEDOUT);
		assert_true(cvm_net_now_ms() - t0 >= 300);
		assert_true(cvm_net_now_ms() - t0 < 2000);
		free(server_stop(&s));
	}
	/* A total deadline shorter than the read deadline wins. */
	{
		const char *scripts[] = { ACT_STALL };
		server_start(&s, scripts, 1);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/slow", s.port);
		cl.read_timeout_ms = 5000;
		cl.total_timeout_ms = 200;
		struct cvm_http_request g = { .method = "GET", .url = url };
		t0 = cvm_net_now_ms();
		assert_int_equal(cvm_http_request(&cl, &g, &rs), -ETIMEDOUT);
		assert_true(cvm_net_now_ms() - t0 < 1500);
		free(server_stop(&s));
		cl.total_timeout_ms = 10000;
	}
	/* Reset mid-response; an oversized body; a malformed response. */
	{
		const char *scripts[] = {
			"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part",
			"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		};
		server_start(&s, scripts, 3);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/r", s.port);
		struct cvm_http_request g = { .method = "GET", .url = url };
		assert_int_equal(cvm_http_request(&cl, &g, &rs), -ECONNRESET);
		cl.max_body = 10;
		assert_int_equal(cvm_http_request(&cl, &g, &rs), -EMSGSIZE);
		assert_int_equal(cvm_http_request(&cl, &g, &rs), -EBADMSG);
		log = server_stop(&s);
		assert_int_equal(count(log, "GET /r"), 3);
		free(log);
	}
	/* Policy: plain HTTP only when allowed; https needs TLS options. */
	{
		struct cvm_http_client strict = CVM_HTTP_CLIENT_DEFAULTS;
		struct cvm_http_request g = { .method = "GET", .url = "http://127.0.0.1:1/" };
		assert_int_equal(cvm_http_request(&strict, &g, &rs), -EPROTONOSUPPORT);
		g.url = "https://127.0.0.1:1/";
		assert_int_equal(cvm_http_request(&strict, &g, &rs), -EINVAL);
		g.url = "gopher://127.0.0.1:1/";
		assert_int_equal(cvm_http_request(&strict, &g, &rs), -EPROTONOSUPPORT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(content_length),
		cmocka_unit_test(byte_at_a_time),
		cmocka_unit_test(until_close_and_no_body),
		cmocka_unit_test(framing_required),
		cmocka_unit_test(caps),
		cmocka_unit_test(malformed),
		cmocka_unit_test(urls),
		cmocka_unit_test(cookies),
		cmocka_unit_test(render),
		cmocka_unit_test(client_cookie_roundtrip),
		cmocka_unit_test(client_retries),
		cmocka_unit_test(client_failures),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
