/* HTTP/1.1 client.  The response parser is a byte-at-a-time state machine
 * over caller-owned state, so the same code handles a response that arrives
 * in one read or one byte per read, and every cap is checked before memory
 * grows. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvmkit/http.h"
#include "cvmkit/net.h"

enum { ST_HEAD, ST_BODY_LEN, ST_BODY_EOF, ST_CHUNK_SIZE, ST_CHUNK_DATA, ST_CHUNK_CRLF, ST_TRAILERS, ST_DONE };

#define MAX_INTERIM 8
#define MAX_BACKOFF_MS 8000u

/* ------------------------------------------------------------------ URL */

static bool is_tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_host_char(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
	       c == '_';
}

int cvm_url_parse(const char *url, struct cvm_url *ret)
{
	struct cvm_url u;
	const char *p = strstr(url, "://"), *h, *path;
	size_t hl;

	memset(&u, 0, sizeof(u));
	if (!p)
		return -EINVAL;
	if ((size_t)(p - url) == 5 && !strncasecmp(url, "https", 5))
		u.https = true;
	else if ((size_t)(p - url) != 4 || strncasecmp(url, "http", 4))
		return (p - url) > 0 ? -EPROTONOSUPPORT : -EINVAL;
	u.port = u.https ? 443 : 80;
	h = p + 3;
	for (hl = 0; is_host_char((unsigned char)h[hl]); hl++)
		;
	if (!hl || hl > CVM_URL_MAX_HOST)
		return -EINVAL;
	memcpy(u.host, h, hl);
	p = h + hl;
	if (*p == ':') {
		unsigned long port = 0;
		size_t digits = 0;

		for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (!digits || port == 0 || port > 65535)
			return -EINVAL;
		u.port = (uint16_t)port;
	}
	if (*p && *p != '/' && *p != '?')
		return -EINVAL;
	path = p;
	for (const char *q = path; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f || *q == '#')
			return -EINVAL;
	if (!*path)
		strcpy(u.path, "/");
	else if (snprintf(u.path, sizeof(u.path), "%s%s", *path == '?' ? "/" : "", path) >= (int)sizeof(u.path))
		return -EINVAL;
	*ret = u;
	return 0;
}

/* ------------------------------------------------------------------ response parser */

void cvm_http_parser_init(struct cvm_http_parser *p, size_t max_head, size_t max_body, bool no_body)
{
	memset(p, 0, sizeof(*p));
	p->max_head = max_head ? max_head : CVM_HTTP_DEFAULT_MAX_HEAD;
	p->max_body = max_body ? max_body : CVM_HTTP_DEFAULT_MAX_BODY;
	p->no_body = no_body;
	p->state = ST_HEAD;
}

void cvm_http_response_free(struct cvm_http_response *rs)
{
	free(rs->head);
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}

void cvm_http_parser_free(struct cvm_http_parser *p)
{
	free(p->head);
	if (p->rs.head == p->head)
		p->rs.head = NULL;
	cvm_http_response_free(&p->rs);
	memset(p, 0, sizeof(*p));
}

const char *cvm_http_response_header(const struct cvm_http_response *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_headers; i++)
		if (!strcasecmp(rs->headers[i].name, name))
			return rs->headers[i].value;
	return NULL;
}

static int fail(struct cvm_http_parser *p, int err)
{
	p->error = err;
	return err;
}

/* Grows the body buffer to hold need more bytes (and a NUL). */
static int body_reserve(struct cvm_http_parser *p, size_t need)
{
	size_t want, cap;
	uint8_t *nb;

	if (need > p->max_body - p->rs.body_len)
		return -EMSGSIZE;
	want = p->rs.body_len + need + 1;
	if (p->rs.body && want <= p->body_cap)
		return 0;
	cap = p->body_cap ? p->body_cap : 256;
	while (cap < want)
		cap = cap > (SIZE_MAX / 2) ? want : cap * 2;
	if (cap > p->max_body + 1)
		cap = p->max_body + 1;
	if (cap < want)
		cap = want;
	nb = realloc(p->rs.body, cap);
	if (!nb)
		return -ENOMEM;
	p->rs.body = nb;
	p->body_cap = cap;
	return 0;
}

static int body_append(struct cvm_http_parser *p, const uint8_t *b, size_t n)
{
	int r = body_reserve(p, n);

	if (r < 0)
		return r;
	memcpy(p->rs.body + p->rs.body_len, b, n);
	p->rs.body_len += n;
	p->rs.body[p->rs.body_len] = 0;
	return 0;
}

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static int parse_decimal(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return -EBADMSG;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* The head is complete in p->head[0..head_len): split it into lines in place,
 * check the status line and headers, and decide how the body is framed. */
static int parse_head(struct cvm_http_parser *p)
{
	struct cvm_http_response *rs = &p->rs;
	char *s = p->head, *end = p->head + p->head_len, *line, *te = NULL;
	bool first = true;
	uint64_t length = 0;

	rs->n_headers = 0;
	rs->reason[0] = 0;
	p->has_length = p->chunked = false;
	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s)), *colon, *v, *ve;

		size_t ll;

		if (!nl)
			return -EBADMSG;
		ll = (size_t)(nl - s);
		*nl = 0;
		if (ll && s[ll - 1] == '\r')
			s[--ll] = 0;
		line = s;
		s = nl + 1;
		if (strlen(line) != ll)
			return -EBADMSG; /* a NUL inside the line */
		if (first) {
			first = false;
			if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
			    !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
			    !isdigit((unsigned char)line[11]) || line[9] == '0' || (line[12] && line[12] != ' '))
				return -EBADMSG;
			rs->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
			if (line[12])
				snprintf(rs->reason, sizeof(rs->reason), "%s", line + 13);
			for (char *c = rs->reason; *c; c++)
				if ((unsigned char)*c < 0x20 && *c != '\t')
					return -EBADMSG;
			continue;
		}
		if (!*line)
			break; /* the empty line ending the head */
		colon = strchr(line, ':');
		if (!colon || colon == line)
			return -EBADMSG;
		for (char *c = line; c < colon; c++)
			if (!is_tchar((unsigned char)*c))
				return -EBADMSG; /* also refuses obs-fold (leading blank) */
		*colon = 0;
		for (v = colon + 1; is_ows(*v); v++)
			;
		for (ve = v + strlen(v); ve > v && is_ows(ve[-1]); ve--)
			;
		*ve = 0;
		for (char *c = v; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return -EBADMSG;
		if (rs->n_headers >= CVM_HTTP_MAX_HEADERS)
			return -EMSGSIZE;
		rs->headers[rs->n_headers].name = line;
		rs->headers[rs->n_headers].value = v;
		rs->n_headers++;
		if (!strcasecmp(line, "Content-Length")) {
			uint64_t n;

			if (parse_decimal(v, &n) < 0 || (p->has_length && n != length))
				return -EBADMSG;
			p->has_length = true;
			length = n;
		} else if (!strcasecmp(line, "Transfer-Encoding")) {
			if (te)
				return -EBADMSG;
			te = v;
		}
	}
	if (first)
		return -EBADMSG;
	if (te) {
		if (strcasecmp(te, "chunked") || p->has_length)
			return -EBADMSG;
		p->chunked = true;
	}
	if (p->no_body || rs->status < 200 || rs->status == 204 || rs->status == 304) {
		p->state = ST_DONE;
		return 0;
	}
	if (p->chunked) {
		p->state = ST_CHUNK_SIZE;
		p->line_len = 0;
		return 0;
	}
	if (p->has_length) {
		if (length > p->max_body)
			return -EMSGSIZE;
		p->remaining = length;
		p->state = length ? ST_BODY_LEN : ST_DONE;
		if (length)
			return body_reserve(p, (size_t)length);
		return 0;
	}
	if (p->require_framing)
		return -EBADMSG;
	p->state = ST_BODY_EOF;
	return 0;
}

static int parse_chunk_size(struct cvm_http_parser *p)
{
	uint64_t v = 0;
	size_t i = 0;

	p->line[p->line_len] = 0;
	if (p->line_len && p->line[p->line_len - 1] == '\r')
		p->line[--p->line_len] = 0;
	for (; i < p->line_len && isxdigit((unsigned char)p->line[i]); i++) {
		if (v > (UINT64_MAX >> 4))
			return -EMSGSIZE;
		v = v << 4 | (uint64_t)(isdigit((unsigned char)p->line[i]) ? p->line[i] - '0' : (tolower(p->line[i]) - 'a' + 10));
	}
	if (!i)
		return -EBADMSG;
	while (i < p->line_len && is_ows(p->line[i]))
		i++;
	if (i < p->line_len && p->line[i] != ';')
		return -EBADMSG;
	for (; i < p->line_len; i++)
		if ((unsigned char)p->line[i] < 0x20 && p->line[i] != '\t')
			return -EBADMSG;
	if (v > p->max_body - p->rs.body_len)
		return -EMSGSIZE;
	p->remaining = v;
	p->line_len = 0;
	p->state = v ? ST_CHUNK_DATA : ST_TRAILERS;
	return 0;
}

static int feed_head(struct cvm_http_parser *p, const uint8_t *buf, size_t len, size_t *used)
{
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		char c = (char)buf[i];

		if (p->head_len + 1 > p->max_head)
			return -EMSGSIZE;
		if (p->head_len + 1 >= p->head_cap) {
			size_t cap = p->head_cap ? p->head_cap * 2 : 1024;
			char *nh;

			if (cap > p->max_head + 1)
				cap = p->max_head + 1;
			nh = realloc(p->head, cap);
			if (!nh)
				return -ENOMEM;
			p->head = nh;
			p->head_cap = cap;
		}
		p->head[p->head_len++] = c;
		if (c != '\n')
			continue;
		/* A line ended: an empty one ("\n" or "\r\n") ends the head, unless
		 * nothing but blank lines came so far (tolerated before the status). */
		{
			size_t ll = p->head_len - p->line_start;
			bool empty = ll == 1 || (ll == 2 && p->head[p->line_start] == '\r');

			if (empty && p->line_start == 0) {
				p->head_len = 0;
				continue;
			}
			p->line_start = p->head_len;
			if (!empty)
				continue;
		}
		p->head[p->head_len] = 0;
		r = parse_head(p);
		if (r < 0)
			return r;
		if (p->rs.status < 200 && p->rs.status != 101) {
			/* Interim response: forget it, the final one follows. */
			if (++p->interim > MAX_INTERIM)
				return -EBADMSG;
			p->head_len = p->line_start = 0;
			p->rs.n_headers = 0;
			p->state = ST_HEAD;
			continue;
		}
		if (p->rs.status == 101)
			return -EBADMSG; /* we never ask to switch protocols */
		p->rs.head = p->head;
		*used = i + 1;
		return 0;
	}
	*used = len;
	return 0;
}

int cvm_http_parser_feed(struct cvm_http_parser *p, const uint8_t *buf, size_t len)
{
	size_t i = 0, n;
	int r;

	if (p->error)
		return p->error;
	while (i < len && p->state != ST_DONE) {
		switch (p->state) {
		case ST_HEAD:
			r = feed_head(p, buf + i, len - i, &n);
			if (r < 0)
				return fail(p, r);
			i += n;
			break;
		case ST_BODY_LEN:
		case ST_CHUNK_DATA:
			n = len - i < p->remaining ? len - i : (size_t)p->remaining;
			r = body_append(p, buf + i, n);
			if (r < 0)
				return fail(p, r);
			i += n;
			p->remaining -= n;
			if (!p->remaining)
				p->state = p->state == ST_BODY_LEN ? ST_DONE : ST_CHUNK_CRLF;
			break;
		case ST_BODY_EOF:
			r = body_append(p, buf + i, len - i);
			if (r < 0)
				return fail(p, r);
			i = len;
			break;
		case ST_CHUNK_SIZE:
			if (buf[i] == '\n') {
				r = parse_chunk_size(p);
				if (r < 0)
					return fail(p, r);
			} else if (p->line_len + 1 >= sizeof(p->line)) {
				return fail(p, -EBADMSG);
			} else {
				p->line[p->line_len++] = (char)buf[i];
			}
			i++;
			break;
		case ST_CHUNK_CRLF:
			if (buf[i] == '\n') {
				p->state = ST_CHUNK_SIZE;
				p->line_len = 0;
			} else if (buf[i] != '\r' || p->line_len) {
				return fail(p, -EBADMSG);
			} else {
				p->line_len = 1;
			}
			i++;
			break;
		case ST_TRAILERS:
			if (++p->trailer_bytes > p->max_head)
				return fail(p, -EMSGSIZE);
			if (buf[i] == '\n') {
				if (!p->line_len)
					p->state = ST_DONE;
				p->line_len = 0;
			} else if (buf[i] != '\r') {
				p->line_len = 1;
			}
			i++;
			break;
		default:
			return fail(p, -EBADMSG);
		}
	}
	if (p->state != ST_DONE)
		return 0;
	/* An empty body still gets a buffer, so body is never NULL. */
	r = body_reserve(p, 0);
	if (r < 0)
		return fail(p, r);
	p->rs.body[p->rs.body_len] = 0;
	return 1;
}

int cvm_http_parser_finish(struct cvm_http_parser *p)
{
	if (p->error)
		return p->error;
	if (p->state == ST_BODY_EOF)
		p->state = ST_DONE;
	if (p->state != ST_DONE)
		return fail(p, -EBADMSG);
	return cvm_http_parser_feed(p, NULL, 0);
}

int cvm_http_parser_take(struct cvm_http_parser *p, struct cvm_http_response *ret)
{
	if (p->error)
		return p->error;
	if (p->state != ST_DONE || !p->rs.body)
		return -EAGAIN;
	*ret = p->rs;
	memset(&p->rs, 0, sizeof(p->rs));
	p->head = NULL;
	p->head_cap = p->head_len = 0;
	p->body_cap = 0;
	return 0;
}

int cvm_http_parse_response(const uint8_t *buf, size_t len, size_t max_head, size_t max_body,
			    struct cvm_http_response *ret)
{
	struct cvm_http_parser p;
	int r;

	cvm_http_parser_init(&p, max_head, max_body, false);
	r = cvm_http_parser_feed(&p, buf, len);
	if (r == 0)
		r = p.state == ST_BODY_EOF ? cvm_http_parser_finish(&p) : -EAGAIN;
	if (r == 1)
		r = cvm_http_parser_take(&p, ret);
	cvm_http_parser_free(&p);
	return r;
}

/* ------------------------------------------------------------------ cookies */

static bool is_cookie_octet(int c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e);
}

static void jar_remove(struct cvm_http_cookies *jar, size_t i)
{
	explicit_bzero(&jar->c[i], sizeof(jar->c[i]));
	memmove(&jar->c[i], &jar->c[i + 1], (jar->n - i - 1) * sizeof(jar->c[0]));
	jar->n--;
	explicit_bzero(&jar->c[jar->n], sizeof(jar->c[0]));
}

int cvm_http_cookies_set(struct cvm_http_cookies *jar, const char *s)
{
	const char *eq, *v, *ve, *semi, *a;
	size_t nl, vl, i;
	bool remove = false;

	while (is_ows(*s))
		s++;
	eq = strchr(s, '=');
	semi = strchr(s, ';');
	if (!eq || (semi && semi < eq) || eq == s)
		return -EINVAL;
	nl = (size_t)(eq - s);
	while (nl && is_ows(s[nl - 1]))
		nl--;
	if (!nl)
		return -EINVAL;
	for (i = 0; i < nl; i++)
		if (!is_tchar((unsigned char)s[i]))
			return -EINVAL;
	for (v = eq + 1; is_ows(*v); v++)
		;
	ve = semi ? semi : v + strlen(v);
	while (ve > v && is_ows(ve[-1]))
		ve--;
	if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
		v++;
		ve--;
	}
	vl = (size_t)(ve - v);
	for (i = 0; i < vl; i++)
		if (!is_cookie_octet((unsigned char)v[i]))
			return -EINVAL;
	if (nl > CVM_HTTP_MAX_COOKIE_NAME || vl > CVM_HTTP_MAX_COOKIE_VALUE)
		return -E2BIG;
	for (a = semi; a && *a;) {
		a++;
		while (is_ows(*a))
			a++;
		if (!strncasecmp(a, "Max-Age=", 8) && (a[8] == '0' || a[8] == '-'))
			remove = true;
		a = strchr(a, ';');
	}
	if (!vl)
		remove = true;
	for (i = 0; i < jar->n; i++)
		if (strlen(jar->c[i].name) == nl && !memcmp(jar->c[i].name, s, nl))
			break;
	if (remove) {
		if (i < jar->n)
			jar_remove(jar, i);
		return 0;
	}
	if (i == jar->n) {
		if (jar->n >= CVM_HTTP_MAX_COOKIES)
			return -E2BIG;
		jar->n++;
	}
	memcpy(jar->c[i].name, s, nl);
	jar->c[i].name[nl] = 0;
	explicit_bzero(jar->c[i].value, sizeof(jar->c[i].value));
	memcpy(jar->c[i].value, v, vl);
	return 0;
}

const char *cvm_http_cookies_get(const struct cvm_http_cookies *jar, const char *name)
{
	for (size_t i = 0; i < jar->n && i < CVM_HTTP_MAX_COOKIES; i++)
		if (!strcmp(jar->c[i].name, name))
			return jar->c[i].value;
	return NULL;
}

void cvm_http_cookies_clear(struct cvm_http_cookies *jar) { explicit_bzero(jar, sizeof(*jar)); }

/* ------------------------------------------------------------------ requests */

static bool safe_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 ? *s != '\t' : *s == 0x7f)
			return false;
	return true;
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

struct out {
	char *p;
	size_t size, len;
	int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->err = -ENOBUFS;
	else
		o->len += (size_t)n;
}

static bool method_has_body(const char *m) { return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH"); }

int cvm_http_render_request(const struct cvm_http_request *rq, const struct cvm_url *u,
			    const struct cvm_http_cookies *jar, char *buf, size_t size)
{
	struct out o = { buf, size, 0, 0 };

	if (!size)
		return -ENOBUFS;
	if (!rq->method || !is_token(rq->method))
		return -EINVAL;
	for (size_t i = 0; i < rq->n_headers; i++)
		if (!rq->headers[i].name || !rq->headers[i].value || !is_token(rq->headers[i].name) ||
		    !safe_value(rq->headers[i].value))
			return -EINVAL;
	put(&o, "%s %s HTTP/1.1\r\n", rq->method, u->path);
	if (u->port == (u->https ? 443 : 80))
		put(&o, "Host: %s\r\n", u->host);
	else
		put(&o, "Host: %s:%u\r\n", u->host, u->port);
	put(&o, "User-Agent: cvmkit\r\nConnection: close\r\n");
	if (rq->body_len || method_has_body(rq->method))
		put(&o, "Content-Length: %zu\r\n", rq->body_len);
	if (jar && jar->n) {
		put(&o, "Cookie: ");
		for (size_t i = 0; i < jar->n && i < CVM_HTTP_MAX_COOKIES; i++)
			put(&o, "%s%s=%s", i ? "; " : "", jar->c[i].name, jar->c[i].value);
		put(&o, "\r\n");
	}
	for (size_t i = 0; i < rq->n_headers; i++)
		put(&o, "%s: %s\r\n", rq->headers[i].name, rq->headers[i].value);
	put(&o, "\r\n");
	return o.err ? o.err : (int)o.len;
}

struct conn {
	int fd;
	struct cvm_tls *tls;
};

static int conn_write(struct conn *c, const void *buf, size_t len, uint64_t deadline)
{
	const uint8_t *p = buf;

	if (c->tls)
		return cvm_tls_write(c->tls, buf, len, deadline);
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			int r;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return errno == EPIPE ? -ECONNRESET : -errno;
			r = cvm_net_wait(c->fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t conn_read(struct conn *c, void *buf, size_t len, uint64_t deadline)
{
	if (c->tls)
		return cvm_tls_read(c->tls, buf, len, deadline);
	for (;;) {
		ssize_t n = recv(c->fd, buf, len, 0);
		int r;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		r = cvm_net_wait(c->fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* One attempt.  *sent becomes true once any request byte may have left. */
static int attempt(const struct cvm_http_client *cl, const struct cvm_http_request *rq, const struct cvm_url *u,
		   uint64_t total_deadline, bool *sent, struct cvm_http_response *ret)
{
	struct conn c = { .fd = -1 };
	struct cvm_http_parser p;
	uint64_t dl;
	size_t head_size = 4096 + strlen(u->path) + sizeof(struct cvm_http_cookies);
	char *head = NULL;
	uint8_t buf[16384];
	int r, n;

	for (size_t i = 0; i < rq->n_headers; i++)
		head_size += strlen(rq->headers[i].name) + strlen(rq->headers[i].value) + 4;
	/* Room for the body after the head: both leave in one write. */
	if (rq->body_len > SIZE_MAX - head_size) {
		r = -ENOMEM;
		cvm_http_parser_init(&p, cl->max_head, cl->max_body, false);
		goto out;
	}
	head_size += rq->body_len;
	cvm_http_parser_init(&p, cl->max_head, cl->max_body, !strcmp(rq->method, "HEAD"));
	p.require_framing = u->https;
	head = malloc(head_size);
	if (!head) {
		r = -ENOMEM;
		goto out;
	}
	n = cvm_http_render_request(rq, u, cl->cookies, head, head_size - rq->body_len);
	if (n < 0) {
		r = n;
		goto out;
	}
	if (rq->body_len)
		memcpy(head + n, rq->body, rq->body_len);
	dl = min_u64(cvm_net_deadline(cl->connect_timeout_ms), total_deadline);
	r = cvm_net_tcp_connect(u->host, u->port, dl, &c.fd);
	if (r < 0)
		goto out;
	/* Each request is one write followed by a wait for the answer: Nagle
	 * would hold a small trailing segment back until the peer's delayed ACK
	 * (about 40 ms per request on Linux). */
	(void)setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (u->https) {
		struct cvm_tls_options o = *cl->tls;

		if (!o.server_name)
			o.server_name = u->host;
		r = cvm_tls_connect(c.fd, &o, dl, &c.tls);
		if (r < 0)
			goto out;
	}
	dl = min_u64(cvm_net_deadline(cl->read_timeout_ms), total_deadline);
	*sent = true;
	r = conn_write(&c, head, (size_t)n + rq->body_len, dl);
	if (r < 0)
		goto out;
	for (;;) {
		ssize_t got = conn_read(&c, buf, sizeof(buf), dl);

		if (got < 0) {
			r = (int)got;
			goto out;
		}
		r = got ? cvm_http_parser_feed(&p, buf, (size_t)got) : cvm_http_parser_finish(&p);
		if (r < 0) {
			/* A close before the response completed is a reset, not garbage. */
			if (!got && r == -EBADMSG)
				r = -ECONNRESET;
			goto out;
		}
		if (r == 1)
			break;
	}
	r = cvm_http_parser_take(&p, ret);
	if (r == 0 && cl->cookies)
		for (size_t i = 0; i < ret->n_headers; i++)
			if (!strcasecmp(ret->headers[i].name, "Set-Cookie"))
				(void)cvm_http_cookies_set(cl->cookies, ret->headers[i].value);
out:
	explicit_bzero(buf, sizeof(buf));
	if (head) {
		explicit_bzero(head, head_size);
		free(head);
	}
	cvm_http_parser_free(&p);
	cvm_tls_free(c.tls);
	if (c.fd >= 0)
		close(c.fd);
	return r;
}

static bool idempotent(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") ||
	       !strcmp(m, "OPTIONS");
}

static bool transient_before_send(int r)
{
	return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ENETUNREACH || r == -EHOSTUNREACH || r == -ECONNRESET ||
	       r == -EAGAIN;
}

int cvm_http_request(const struct cvm_http_client *cl, const struct cvm_http_request *rq,
		     struct cvm_http_response *ret)
{
	struct cvm_url u;
	uint64_t total_deadline = cvm_net_deadline(cl->total_timeout_ms);
	unsigned attempts = cl->max_attempts ? cl->max_attempts : 1;
	uint64_t wait = cl->backoff_ms;
	bool may_retry_sent;
	int r;

	r = cvm_url_parse(rq->url, &u);
	if (r < 0)
		return r;
	if (u.https && !cl->tls)
		return -EINVAL;
	if (!u.https && !cl->allow_plain_http)
		return -EPROTONOSUPPORT;
	if (!rq->method || !is_token(rq->method) || (rq->body_len && !rq->body))
		return -EINVAL;
	may_retry_sent = idempotent(rq->method) || rq->retry_unsafe;
	for (unsigned i = 0;; i++) {
		struct cvm_http_response rs;
		bool sent = false, retry;

		r = attempt(cl, rq, &u, total_deadline, &sent, &rs);
		if (r == 0)
			retry = may_retry_sent && (rs.status == 502 || rs.status == 503 || rs.status == 504);
		else if (!sent)
			retry = transient_before_send(r);
		else
			retry = may_retry_sent && (r == -ECONNRESET || r == -ETIMEDOUT);
		if (retry && i + 1 < attempts && (uint64_t)cvm_net_remaining_ms(total_deadline) > wait) {
			if (r == 0)
				cvm_http_response_free(&rs);
			cvm_net_sleep_until(wait, total_deadline);
			wait = wait * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : wait * 2;
			continue;
		}
		if (r == 0)
			*ret = rs;
		return r;
	}
}
