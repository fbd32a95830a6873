/* HTTP/1.1 client (RFC 9110/9112 subset) over TCP or TLS, for the init's
 * KBS and IMDS calls and for host tools.
 *
 * Three layers, usable separately:
 *   1. cvm_url_parse: "http[s]://host[:port][/path[?query]]".
 *   2. struct cvm_http_parser: an incremental parser of untrusted response
 *      bytes (status line, headers, Content-Length / chunked / until-close
 *      bodies) with hard caps; caller-owned state; fuzzed.
 *   3. cvm_http_request: one request with deadlines, TLS, cookies and
 *      bounded retries on transient failures.
 *
 * Every function returns 0 (or a count) or a negative errno, writes ret_*
 * only on success, and never prints.  One connection per request
 * ("Connection: close"): simple, and nothing is left half-open between the
 * KBS's auth, attest and resource calls (the session lives in the cookie).
 *
 * Typical use (the KBS client):
 *
 *	struct cvm_http_cookies jar = { 0 };
 *	struct cvm_tls_options tls = { .ca = ca_pem, .ca_len = n };   // server_name is taken from the URL
 *	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
 *	cl.tls = &tls; cl.cookies = &jar;
 *	struct cvm_http_header h[] = { { "Content-Type", "application/json" } };
 *	struct cvm_http_request rq = { .method = "POST", .url = "https://10.0.0.5:8080/kbs/v0/auth",
 *	                               .headers = h, .n_headers = 1, .body = json, .body_len = len };
 *	struct cvm_http_response rs;
 *	r = cvm_http_request(&cl, &rq, &rs);     // r < 0: transport failure (no response)
 *	if (r == 0 && rs.status == 200) ... rs.body, rs.body_len ...
 *	cvm_http_response_free(&rs);             // after r == 0 only
 */
#ifndef CVMKIT_HTTP_H
#define CVMKIT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/tls.h"

/* ------------------------------------------------------------------ URL */

#define CVM_URL_MAX_HOST 255
#define CVM_URL_MAX_PATH 2047

struct cvm_url {
	bool https;
	char host[CVM_URL_MAX_HOST + 1];  /* name or IPv4 literal, without brackets or port */
	uint16_t port;                    /* explicit, or 80 / 443 */
	char path[CVM_URL_MAX_PATH + 1];  /* "/" when the URL has none; includes "?query" */
};

/* Scheme is case-insensitive; userinfo ("user@"), fragments, IPv6 literals,
 * port 0 or > 65535, control characters, spaces, and over-long parts are
 * -EINVAL; an unknown scheme is -EPROTONOSUPPORT. */
int cvm_url_parse(const char *url, struct cvm_url *ret);

/* ------------------------------------------------------------------ response parser */

#define CVM_HTTP_MAX_HEADERS 64
#define CVM_HTTP_DEFAULT_MAX_HEAD (16u * 1024)
#define CVM_HTTP_DEFAULT_MAX_BODY (4u * 1024 * 1024)

struct cvm_http_header {
	const char *name;
	const char *value;
};

/* A received response.  head, body and the strings in headers[] are owned by
 * the response (free with cvm_http_response_free).  body is NUL-terminated
 * one byte past body_len for convenience (the NUL is not counted), and is
 * non-NULL even when empty. */
struct cvm_http_response {
	int status;                       /* 100..999 */
	char reason[64];                  /* reason phrase, truncated */
	struct cvm_http_header headers[CVM_HTTP_MAX_HEADERS];
	size_t n_headers;
	char *head;                       /* storage behind headers[] */
	uint8_t *body;
	size_t body_len;
};

/* Value of the first header called name (case-insensitive), or NULL. */
const char *cvm_http_response_header(const struct cvm_http_response *rs, const char *name);
void cvm_http_response_free(struct cvm_http_response *rs);

/* Incremental response parser: feed it bytes as they arrive.
 *   cvm_http_parser_init(&p, max_head, max_body, no_body)
 *     max_head: cap on status line + headers (0 = CVM_HTTP_DEFAULT_MAX_HEAD)
 *     max_body: cap on the decoded body (0 = CVM_HTTP_DEFAULT_MAX_BODY)
 *     no_body:  the request was HEAD (responses carry no body)
 *   cvm_http_parser_feed(&p, buf, len): consumes bytes; returns 1 when the
 *     response is complete (bytes after it are ignored), 0 when more are
 *     needed, or a negative errno (sticky: every later call returns it):
 *       -EBADMSG   malformed (status line, header line, chunk size, both
 *                  Content-Length and chunked, conflicting Content-Length, ...)
 *       -EMSGSIZE  head or body larger than its cap
 *       -ENOMEM
 *   cvm_http_parser_finish(&p): the peer closed the connection; returns 1
 *     when that completes the response (a body delimited by close), or
 *     -EBADMSG for a truncated one.
 *   cvm_http_parser_take(&p, &rs): after a 1, moves the response out.
 *   cvm_http_parser_free(&p): releases what was not taken.
 * 1xx interim responses (e.g. 100 Continue) are skipped; 1xx, 204 and 304
 * responses and no_body have no body.  Transfer codings other than chunked
 * are refused (-EBADMSG).  Everything is bounded by the caps: the parser
 * never reads outside the bytes it is given. */
struct cvm_http_parser {
	int state, error;
	size_t max_head, max_body;
	bool no_body, chunked, has_length;
	/* Set after init to refuse (-EBADMSG, at the head) a body that only the
	 * connection's end would delimit.  The client sets it over TLS: a TCP
	 * EOF there is not authenticated (no close_notify needed), so a machine
	 * on the path could cut the body short and be believed. */
	bool require_framing;
	uint64_t remaining;                /* Content-Length or current chunk */
	char *head;
	size_t head_len, head_cap, line_start;
	char line[128];                    /* chunk-size / trailer line being assembled */
	size_t line_len;
	size_t trailer_bytes;
	unsigned interim;                  /* 1xx responses skipped so far */
	struct cvm_http_response rs;
	size_t body_cap;
};

void cvm_http_parser_init(struct cvm_http_parser *p, size_t max_head, size_t max_body, bool no_body);
int cvm_http_parser_feed(struct cvm_http_parser *p, const uint8_t *buf, size_t len);
int cvm_http_parser_finish(struct cvm_http_parser *p);
int cvm_http_parser_take(struct cvm_http_parser *p, struct cvm_http_response *ret);
void cvm_http_parser_free(struct cvm_http_parser *p);

/* One-shot parse of a complete response held in memory (the fuzz entry): as
 * feed + finish.  -EAGAIN when buf ends before the response does. */
int cvm_http_parse_response(const uint8_t *buf, size_t len, size_t max_head, size_t max_body,
			    struct cvm_http_response *ret);

/* ------------------------------------------------------------------ cookies */

#define CVM_HTTP_MAX_COOKIES 8
#define CVM_HTTP_MAX_COOKIE_NAME 64
#define CVM_HTTP_MAX_COOKIE_VALUE 1024

/* A caller-owned jar for one server: Set-Cookie stores name=value (Domain,
 * Path, Secure and Expires are not interpreted: the jar is meant for one
 * origin, e.g. the KBS session cookie); "Max-Age=0" or an empty value
 * removes it.  Cookies are sent back as one "Cookie:" header.  Values are
 * wiped by cvm_http_cookies_clear. */
struct cvm_http_cookies {
	size_t n;
	struct {
		char name[CVM_HTTP_MAX_COOKIE_NAME + 1];
		char value[CVM_HTTP_MAX_COOKIE_VALUE + 1];
	} c[CVM_HTTP_MAX_COOKIES];
};

/* Applies one Set-Cookie header value.  -EINVAL when malformed (no '=',
 * empty name, bytes outside RFC 6265's cookie-octets), -E2BIG when too long
 * or the jar is full. */
int cvm_http_cookies_set(struct cvm_http_cookies *jar, const char *set_cookie);
/* The value of a cookie, or NULL. */
const char *cvm_http_cookies_get(const struct cvm_http_cookies *jar, const char *name);
void cvm_http_cookies_clear(struct cvm_http_cookies *jar);

/* ------------------------------------------------------------------ client */

struct cvm_http_client {
	/* Server authentication for https:// URLs.  tls->server_name NULL means
	 * "the URL's host".  NULL tls: https URLs fail with -EINVAL. */
	const struct cvm_tls_options *tls;
	/* http:// URLs are refused (-EPROTONOSUPPORT) unless this is set: plain
	 * HTTP only when the configuration says so explicitly. */
	bool allow_plain_http;
	unsigned connect_timeout_ms;  /* per attempt: TCP connect + TLS handshake */
	unsigned read_timeout_ms;     /* per attempt: from sending to the last response byte */
	unsigned total_timeout_ms;    /* all attempts and backoff together */
	unsigned max_attempts;        /* >= 1 */
	unsigned backoff_ms;          /* first wait; doubles per retry, capped at 8 s */
	size_t max_head, max_body;    /* response caps (0 = defaults above) */
	struct cvm_http_cookies *cookies; /* optional jar: sent, and updated from Set-Cookie */
};

#define CVM_HTTP_CLIENT_DEFAULTS                                                                               \
	((struct cvm_http_client){ .connect_timeout_ms = 5000, .read_timeout_ms = 15000, .total_timeout_ms = 60000, \
				   .max_attempts = 4, .backoff_ms = 500 })

struct cvm_http_request {
	const char *method;           /* "GET", "POST", ... (token characters only) */
	const char *url;
	const struct cvm_http_header *headers; /* extra headers; no CR/LF/NUL in names or values */
	size_t n_headers;
	const uint8_t *body;          /* sent with Content-Length (also 0 for POST/PUT) */
	size_t body_len;
	/* Retrying after the request may have reached the server is allowed for
	 * GET/HEAD/PUT/DELETE/OPTIONS; set this to allow it for others (POST). */
	bool retry_unsafe;
};

/* Sends the request and receives the whole response.
 *
 * Retries (up to max_attempts, waiting backoff_ms, 2x, 4x ... capped at 8 s,
 * never past total_timeout_ms):
 *   - always, when the request was never sent: connect refused, connect or
 *     TLS-handshake timeout, host/network unreachable;
 *   - only for idempotent methods (or retry_unsafe): 502, 503 and 504
 *     responses, a connection reset or closed before a complete response, a
 *     read timeout.
 * Never retried: TLS authentication failures, malformed or oversized
 * responses, any other status.
 *
 * Returns 0 with *ret filled whenever a complete response arrived, whatever
 * its status (after retries: the last one).  Otherwise:
 *   -EINVAL          bad request (URL, method, header bytes) or https without tls options
 *   -EPROTONOSUPPORT http:// without allow_plain_http, or an unknown scheme
 *   -EKEYREJECTED    the TLS server failed authentication (CA, name or pin)
 *   -ETIMEDOUT       a deadline passed (connect, read or total)
 *   -ECONNREFUSED, -ECONNRESET, -ENETUNREACH, -EHOSTUNREACH, -ENOENT (name)
 *   -EBADMSG         the response was malformed
 *   -EMSGSIZE        the response exceeded max_head or max_body
 *   -EPROTO          another TLS failure
 *   -ENOMEM */
int cvm_http_request(const struct cvm_http_client *cl, const struct cvm_http_request *rq,
		     struct cvm_http_response *ret);

/* Renders the request head ("METHOD path HTTP/1.1", Host, User-Agent,
 * Connection: close, Content-Length when there is a body or the method is
 * POST/PUT/PATCH, Cookie from jar, then rq->headers) into buf.  Returns the
 * length, -ENOBUFS when it does not fit, -EINVAL for unsafe bytes. */
int cvm_http_render_request(const struct cvm_http_request *rq, const struct cvm_url *u,
			    const struct cvm_http_cookies *jar, char *buf, size_t size);

#endif
