/* Initdata: a strict TOML-subset reader, the digest and PCR 8 rule, and the
 * IMDS userData forms (include/cvmkit/initdata.h, ../shared/notes/initdata.md).
 *
 * One walker reads TOML 1.0 statement by statement and hands each table
 * header and key/value pair to a callback.  Strings (all four forms) are
 * decoded exactly as TOML 1.0 says; other values (numbers, booleans, dates,
 * arrays, inline tables) are only skipped, so the initdata callback refuses
 * them and the aa.toml reader can step over what it does not need. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <zlib.h>

#include "cvmkit/hex.h"
#include "cvmkit/initdata.h"

#define MAX_COMPS 4

struct key {
	size_t n;
	char c[MAX_COMPS][CVM_INITDATA_KEY_MAX + 1];
	bool ctl; /* a component holds a control character (from an escape) */
};

enum vtype { V_STRING, V_OTHER };

struct walker {
	const uint8_t *b;
	size_t len, off;
	unsigned line, stmt_line;
	const char *err;
	char *out; /* string values are decoded here, each NUL-terminated */
	size_t out_len, out_cap;
	int (*on_table)(struct walker *w, const struct key *k, bool array);
	int (*on_kv)(struct walker *w, const struct key *k, enum vtype t, const char *v, size_t vlen);
	void *ctx;
};

static int bad(struct walker *w, const char *why)
{
	if (!w->err)
		w->err = why;
	return -EBADMSG;
}

/* TOML documents are UTF-8: refuse overlong forms, surrogates and code
 * points above U+10FFFF, as Python's strict decoder does. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			k = 1, cp = c & 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			k = 2, cp = c & 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

static bool at_end(const struct walker *w) { return w->off >= w->len; }
static int peek(const struct walker *w, size_t ahead)
{
	return w->off + ahead < w->len ? w->b[w->off + ahead] : -1;
}

/* 1 for LF, 2 for CRLF, 0 otherwise (a bare CR is no newline in TOML). */
static size_t newline_len(const struct walker *w)
{
	if (peek(w, 0) == '\n')
		return 1;
	if (peek(w, 0) == '\r' && peek(w, 1) == '\n')
		return 2;
	return 0;
}

static bool is_ctl(int c) { return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F; }

static void skip_ws(struct walker *w)
{
	while (peek(w, 0) == ' ' || peek(w, 0) == '\t')
		w->off++;
}

static int skip_comment(struct walker *w)
{
	if (peek(w, 0) != '#')
		return 0;
	while (!at_end(w) && !newline_len(w)) {
		if (is_ctl(peek(w, 0)))
			return bad(w, "control character in a comment");
		w->off++;
	}
	return 0;
}

/* Whitespace, an optional comment, then a newline or the end. */
static int end_of_line(struct walker *w)
{
	size_t nl;
	int r;

	skip_ws(w);
	r = skip_comment(w);
	if (r < 0)
		return r;
	if (at_end(w))
		return 0;
	nl = newline_len(w);
	if (!nl)
		return bad(w, "expected the end of the line");
	w->off += nl;
	w->line++;
	return 0;
}

/* Appends to DST (capacity cap, NULL to validate only). */
static int put(char *dst, size_t cap, size_t *n, const void *p, size_t k)
{
	if (dst) {
		if (k > cap - *n)
			return -ENOBUFS;
		memcpy(dst + *n, p, k);
	}
	*n += k;
	return 0;
}

static int escape(struct walker *w, char *dst, size_t cap, size_t *n)
{
	int c = peek(w, 1), digits = 0;
	uint32_t cp = 0;
	uint8_t u[4];
	size_t k;
	char ch;

	switch (c) {
	case 'b': ch = '\b'; break;
	case 't': ch = '\t'; break;
	case 'n': ch = '\n'; break;
	case 'f': ch = '\f'; break;
	case 'r': ch = '\r'; break;
	case '"': ch = '"'; break;
	case '\\': ch = '\\'; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default: return bad(w, "invalid escape sequence in a string");
	}
	if (!digits) {
		w->off += 2;
		return put(dst, cap, n, &ch, 1);
	}
	for (int i = 0; i < digits; i++) {
		int h = cvm_hex_digit(peek(w, 2 + (size_t)i));
		if (h < 0)
			return bad(w, "invalid \\u or \\U escape");
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return bad(w, "\\u or \\U escape of a value that is not a Unicode scalar");
	w->off += 2 + (size_t)digits;
	if (cp < 0x80)
		u[0] = (uint8_t)cp, k = 1;
	else if (cp < 0x800)
		u[0] = (uint8_t)(0xC0 | cp >> 6), u[1] = (uint8_t)(0x80 | (cp & 0x3F)), k = 2;
	else if (cp < 0x10000)
		u[0] = (uint8_t)(0xE0 | cp >> 12), u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)),
		u[2] = (uint8_t)(0x80 | (cp & 0x3F)), k = 3;
	else
		u[0] = (uint8_t)(0xF0 | cp >> 18), u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)),
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), u[3] = (uint8_t)(0x80 | (cp & 0x3F)), k = 4;
	return put(dst, cap, n, u, k);
}

/* A string of any of the four forms at w->off (which is a quote).
 * MULTI: whether multi-line forms are allowed (values yes, keys no). */
static int string(struct walker *w, bool multi, char *dst, size_t cap, size_t *ret_len)
{
	char q = (char)peek(w, 0);
	bool basic = q == '"', ml = multi && peek(w, 1) == q && peek(w, 2) == q;
	size_t n = 0, nl;
	int r;

	w->off += ml ? 3 : 1;
	if (ml && (nl = newline_len(w))) { /* a newline right after the opening delimiter is trimmed */
		w->off += nl;
		w->line++;
	}
	for (;;) {
		int c = peek(w, 0);

		if (c < 0)
			return bad(w, "unterminated string");
		if (c == q) {
			size_t run = 1;

			if (!ml) {
				w->off++;
				break;
			}
			while (peek(w, run) == q)
				run++;
			if (run < 3) {
				r = put(dst, cap, &n, w->b + w->off, run);
				if (r < 0)
					return r;
				w->off += run;
				continue;
			}
			/* Up to two quotes may end the content right before the delimiter. */
			if (run > 5)
				return bad(w, "too many quotes at the end of a multi-line string");
			r = put(dst, cap, &n, w->b + w->off, run - 3);
			if (r < 0)
				return r;
			w->off += run;
			break;
		}
		if (ml && (nl = newline_len(w))) {
			/* CRLF arrives as LF, as Python's tomllib decodes it. */
			r = put(dst, cap, &n, "\n", 1);
			if (r < 0)
				return r;
			w->off += nl;
			w->line++;
			continue;
		}
		if (is_ctl(c))
			return bad(w, c == '\n' || c == '\r' ? "newline in a single-line string" : "control character in a string");
		if (basic && c == '\\') {
			if (ml) {
				/* A line-ending backslash trims the newline and all
				 * whitespace up to the next other character. */
				size_t k = 1;
				while (peek(w, k) == ' ' || peek(w, k) == '\t')
					k++;
				if (peek(w, k) == '\n' || (peek(w, k) == '\r' && peek(w, k + 1) == '\n')) {
					w->off += k;
					for (;;) {
						if ((nl = newline_len(w))) {
							w->off += nl;
							w->line++;
						} else if (peek(w, 0) == ' ' || peek(w, 0) == '\t') {
							w->off++;
						} else {
							break;
						}
					}
					continue;
				}
			}
			r = escape(w, dst, cap, &n);
			if (r < 0)
				return r;
			continue;
		}
		r = put(dst, cap, &n, w->b + w->off, 1);
		if (r < 0)
			return r;
		w->off++;
	}
	*ret_len = n;
	return 0;
}

static bool bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A key, possibly dotted; each component bare or quoted (single-line). */
static int key(struct walker *w, struct key *k)
{
	memset(k, 0, sizeof(*k));
	for (;;) {
		char *c;
		size_t len = 0;
		int r;

		skip_ws(w);
		if (k->n == MAX_COMPS)
			return bad(w, "key with too many dotted parts");
		c = k->c[k->n];
		if (peek(w, 0) == '"' || peek(w, 0) == '\'') {
			r = string(w, false, c, CVM_INITDATA_KEY_MAX, &len);
			if (r == -ENOBUFS) {
				w->err = "key longer than 128 bytes";
				return -E2BIG;
			}
			if (r < 0)
				return r;
			for (size_t i = 0; i < len; i++)
				if (is_ctl((unsigned char)c[i]) || c[i] == '\t')
					k->ctl = true;
		} else {
			while (bare_key_char(peek(w, 0))) {
				if (len == CVM_INITDATA_KEY_MAX) {
					w->err = "key longer than 128 bytes";
					return -E2BIG;
				}
				c[len++] = (char)w->b[w->off++];
			}
			if (!len)
				return bad(w, "expected a key");
		}
		c[len] = 0;
		if (strlen(c) != len)
			k->ctl = true;
		k->n++;
		skip_ws(w);
		if (peek(w, 0) != '.')
			return 0;
		w->off++;
	}
}

/* Steps over an array or inline table, strings and comments included. */
static int skip_compound(struct walker *w)
{
	unsigned depth = 0;
	size_t nl, n;
	int r;

	do {
		int c = peek(w, 0);

		if (c < 0)
			return bad(w, "unterminated array or inline table");
		if (c == '[' || c == '{') {
			if (++depth > 64)
				return bad(w, "arrays nested too deeply");
			w->off++;
		} else if (c == ']' || c == '}') {
			depth--;
			w->off++;
		} else if (c == '"' || c == '\'') {
			r = string(w, true, NULL, 0, &n);
			if (r < 0)
				return r;
		} else if (c == '#') {
			r = skip_comment(w);
			if (r < 0)
				return r;
		} else if ((nl = newline_len(w))) {
			w->off += nl;
			w->line++;
		} else if (is_ctl(c)) {
			return bad(w, "control character in an array");
		} else {
			w->off++;
		}
	} while (depth);
	return 0;
}

static int value(struct walker *w, enum vtype *ret_t, const char **ret_v, size_t *ret_vlen)
{
	int c = peek(w, 0), r;
	size_t n = 0, start = w->off;

	if (c == '"' || c == '\'') {
		char *dst = w->out + w->out_len;

		if (w->out_len + 1 >= w->out_cap)
			return -ENOBUFS;
		r = string(w, true, dst, w->out_cap - w->out_len - 1, &n);
		if (r < 0)
			return r;
		dst[n] = 0;
		w->out_len += n + 1;
		*ret_t = V_STRING;
		*ret_v = dst;
		*ret_vlen = n;
		return 0;
	}
	*ret_t = V_OTHER;
	*ret_v = NULL;
	*ret_vlen = 0;
	if (c == '[' || c == '{')
		return skip_compound(w);
	/* Numbers, booleans, dates and times: one token, spaces only inside a date-time. */
	while ((c = peek(w, 0)) >= 0 && c != '#' && !newline_len(w)) {
		if (!bare_key_char(c) && c != '+' && c != '.' && c != ':' && c != ' ' && c != '\t')
			return bad(w, "expected a value");
		w->off++;
	}
	if (w->off == start)
		return bad(w, "expected a value");
	return 0;
}

static int walk(struct walker *w)
{
	struct key k;
	int r;

	w->line = 1;
	if (!utf8_valid(w->b, w->len))
		return bad(w, "not valid UTF-8");
	while (!at_end(w)) {
		skip_ws(w);
		w->stmt_line = w->line;
		if (at_end(w))
			break;
		if (peek(w, 0) == '#' || newline_len(w) || peek(w, 0) == '\r') {
			r = end_of_line(w);
		} else if (peek(w, 0) == '[') {
			bool array = peek(w, 1) == '[';

			w->off += array ? 2 : 1;
			r = key(w, &k);
			if (r == 0 && (peek(w, 0) != ']' || (array && peek(w, 1) != ']')))
				r = bad(w, "expected ] after a table name");
			if (r == 0) {
				w->off += array ? 2 : 1;
				r = end_of_line(w);
			}
			if (r == 0 && (r = w->on_table(w, &k, array)) < 0)
				w->line = w->stmt_line;
		} else {
			enum vtype t;
			const char *v;
			size_t vlen;

			r = key(w, &k);
			if (r == 0 && peek(w, 0) != '=')
				r = bad(w, "expected = after a key");
			if (r == 0) {
				w->off++;
				skip_ws(w);
				r = value(w, &t, &v, &vlen);
			}
			if (r == 0)
				r = end_of_line(w);
			if (r == 0 && (r = w->on_kv(w, &k, t, v, vlen)) < 0)
				w->line = w->stmt_line;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---------------------------------------------------------------- initdata */

struct idctx {
	struct cvm_initdata *d;
	bool in_data, seen_data;
	const char *version, *algorithm;
};

static int id_table(struct walker *w, const struct key *k, bool array)
{
	struct idctx *x = w->ctx;

	if (array || k->n != 1 || strcmp(k->c[0], "data"))
		return bad(w, "only the [data] table belongs in initdata");
	if (x->seen_data)
		return bad(w, "[data] defined twice");
	x->in_data = x->seen_data = true;
	return 0;
}

static int id_kv(struct walker *w, const struct key *k, enum vtype t, const char *v, size_t vlen)
{
	struct idctx *x = w->ctx;
	struct cvm_initdata *d = x->d;
	struct cvm_initdata_entry *e;

	if (k->n != 1)
		return bad(w, "dotted keys are not part of initdata");
	if (!x->in_data) {
		const char **slot = !strcmp(k->c[0], "version") ? &x->version : !strcmp(k->c[0], "algorithm") ? &x->algorithm : NULL;

		if (!slot)
			return bad(w, "unknown top-level key (initdata has version, algorithm and [data])");
		if (*slot)
			return bad(w, "duplicate key");
		if (t != V_STRING)
			return bad(w, "version and algorithm must be strings");
		*slot = v;
		return 0;
	}
	if (t != V_STRING)
		return bad(w, "[data] values must be strings");
	if (k->ctl)
		return bad(w, "control character in a [data] key");
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->data[i].key, k->c[0]))
			return bad(w, "duplicate key in [data]");
	if (d->n == CVM_INITDATA_MAX_ENTRIES) {
		w->err = "more than 32 [data] entries";
		return -E2BIG;
	}
	e = &d->data[d->n++];
	strcpy(e->key, k->c[0]);
	e->value_off = (size_t)(v - d->values);
	e->value_len = vlen;
	return 0;
}

int cvm_initdata_parse(const uint8_t *buf, size_t len, struct cvm_initdata *d)
{
	struct idctx x = { .d = d };
	struct walker w = { .b = buf, .len = len, .on_table = id_table, .on_kv = id_kv, .ctx = &x };
	int r;

	d->n = 0;
	d->values_len = 0;
	d->err = NULL;
	d->err_line = 0;
	d->version[0] = 0;
	if (len > CVM_INITDATA_MAX) {
		d->err = "document larger than 64 KiB";
		return -EFBIG;
	}
	w.out = d->values;
	w.out_cap = sizeof(d->values);
	r = walk(&w);
	if (r == 0 && !x.version)
		r = bad(&w, "no version");
	if (r == 0 && !x.algorithm)
		r = bad(&w, "no algorithm");
	if (r == 0 && !x.seen_data)
		r = bad(&w, "no [data] table");
	if (r == 0 && strcmp(x.version, "0.1.0")) {
		w.err = "version is not \"0.1.0\"";
		r = -EPROTONOSUPPORT;
	}
	if (r == 0) {
		if (!strcmp(x.algorithm, "sha256"))
			d->alg = CVM_HASH_SHA256;
		else if (!strcmp(x.algorithm, "sha384"))
			d->alg = CVM_HASH_SHA384;
		else if (!strcmp(x.algorithm, "sha512"))
			d->alg = CVM_HASH_SHA512;
		else {
			w.err = "algorithm is not sha256, sha384 or sha512";
			r = -EOPNOTSUPP;
		}
	}
	if (r < 0) {
		d->err = w.err ? w.err : "malformed";
		d->err_line = w.line;
		d->n = 0;
		return r;
	}
	strcpy(d->version, x.version);
	d->values_len = w.out_len;
	return 0;
}

const char *cvm_initdata_get(const struct cvm_initdata *d, const char *key, size_t *ret_len)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->data[i].key, key)) {
			*ret_len = d->data[i].value_len;
			return d->values + d->data[i].value_off;
		}
	return NULL;
}

int cvm_initdata_digest(enum cvm_hash_alg alg, const uint8_t *doc, size_t len, uint8_t out[CVM_HASH_MAX_SIZE])
{
	size_t n = cvm_hash_size(alg);

	if (alg == CVM_HASH_SHA1 || !n || cvm_hash(alg, doc, len, out) < 0)
		return -EINVAL;
	return (int)n;
}

int cvm_initdata_pcr8(const uint8_t *digest, size_t digest_len, uint8_t ret_extend[32], uint8_t ret_pcr8[32])
{
	uint8_t pcr[32] = { 0 };

	if (digest_len < 32 || cvm_pcr_extend(CVM_HASH_SHA256, pcr, digest) < 0)
		return -EINVAL;
	memcpy(ret_extend, digest, 32);
	memcpy(ret_pcr8, pcr, 32);
	return 0;
}

/* ---------------------------------------------------------------- aa.toml */

struct aactx {
	struct key table;
	bool table_array;
	char *url, *cert;
	size_t url_cap, cert_cap;
	int err;
};

static int aa_table(struct walker *w, const struct key *k, bool array)
{
	struct aactx *x = w->ctx;

	x->table = *k;
	x->table_array = array;
	return 0;
}

static int aa_kv(struct walker *w, const struct key *k, enum vtype t, const char *v, size_t vlen)
{
	static const char *const want[] = { "token_configs", "kbs" };
	struct aactx *x = w->ctx;
	const char *path[2 * MAX_COMPS];
	size_t n = 0;
	char *dst;
	size_t cap;

	if (x->table_array)
		return 0;
	for (size_t i = 0; i < x->table.n; i++)
		path[n++] = x->table.c[i];
	for (size_t i = 0; i < k->n; i++)
		path[n++] = k->c[i];
	if (n != 3 || strcmp(path[0], want[0]) || strcmp(path[1], want[1]))
		return 0;
	if (!strcmp(path[2], "url"))
		dst = x->url, cap = x->url_cap;
	else if (!strcmp(path[2], "cert"))
		dst = x->cert, cap = x->cert_cap;
	else
		return 0;
	if (t != V_STRING || memchr(v, 0, vlen))
		return -EINVAL;
	if (vlen >= cap)
		return -ENOBUFS;
	memcpy(dst, v, vlen + 1);
	return 0;
}

int cvm_initdata_aa_kbs(const char *value, size_t len, char *url_out, size_t url_cap, char *cert_out, size_t cert_cap)
{
	struct aactx x = { .url = url_out, .cert = cert_out, .url_cap = url_cap, .cert_cap = cert_cap };
	struct walker w = { .b = (const uint8_t *)value, .len = len, .on_table = aa_table, .on_kv = aa_kv, .ctx = &x };
	char *tmp_url = NULL, *tmp_cert = NULL;
	int r;

	if (len > CVM_INITDATA_MAX || !url_cap || !cert_cap)
		return -EINVAL;
	/* Decode into scratch copies so the outputs change only on success. */
	tmp_url = calloc(1, url_cap);
	tmp_cert = calloc(1, cert_cap);
	w.out = malloc(len + 1);
	w.out_cap = len + 1;
	r = -ENOMEM;
	if (!tmp_url || !tmp_cert || !w.out)
		goto out;
	x.url = tmp_url;
	x.cert = tmp_cert;
	r = walk(&w);
	if (r < 0)
		goto out;
	memcpy(url_out, tmp_url, url_cap);
	memcpy(cert_out, tmp_cert, cert_cap);
out:
	free(tmp_url);
	free(tmp_cert);
	free(w.out);
	return r;
}

/* ---------------------------------------------------------------- userData */

static bool space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Standard base64 with padding, whitespace anywhere ignored.  Decodes into a
 * malloc'd buffer. */
static int b64_decode(const uint8_t *s, size_t len, uint8_t **ret, size_t *ret_len)
{
	uint8_t *compact = malloc(len + 1), *out = NULL;
	size_t n = 0, olen = 0;
	int r = -ENOMEM;

	if (!compact)
		goto out;
	for (size_t i = 0; i < len; i++)
		if (!space(s[i]))
			compact[n++] = s[i];
	out = malloc(n / 4 * 3 + 3);
	if (!out)
		goto out;
	r = -EBADMSG;
	if (n % 4 || mbedtls_base64_decode(out, n / 4 * 3 + 3, &olen, compact, n) != 0)
		goto out;
	*ret = out;
	*ret_len = olen;
	out = NULL;
	r = 0;
out:
	free(compact);
	free(out);
	return r;
}

static int gunzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *ret_len)
{
	z_stream z = { 0 };
	int zr, r;

	if (len < 18 || in[0] != 0x1f || in[1] != 0x8b)
		return -EBADMSG;
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	zr = inflate(&z, Z_FINISH);
	if (zr == Z_STREAM_END)
		r = z.avail_in ? -EBADMSG : 0; /* nothing may follow the one member */
	else if ((zr == Z_BUF_ERROR || zr == Z_OK) && z.avail_out == 0)
		r = -EFBIG; /* more than cap: a bomb stops here */
	else
		r = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
	if (r == 0)
		*ret_len = z.total_out;
	inflateEnd(&z);
	return r;
}

struct line {
	const char *p;
	size_t len, indent;
};

static bool next_line(const char **cur, const char *end, struct line *l)
{
	const char *p = *cur, *nl;

	if (p >= end)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	l->p = p;
	l->len = (size_t)((nl ? nl : end) - p);
	*cur = nl ? nl + 1 : end;
	if (l->len && l->p[l->len - 1] == '\r')
		l->len--;
	for (l->indent = 0; l->indent < l->len && l->p[l->indent] == ' '; l->indent++)
		;
	return true;
}

static bool blank(const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!space((uint8_t)l->p[i]))
			return false;
	return true;
}

/* "KEY: VALUE" at s[0..n): splits, trims the value and strips one pair of
 * quotes.  Returns false when there is no "KEY:". */
static bool yaml_kv(const char *s, size_t n, const char **k, size_t *kl, const char **v, size_t *vl)
{
	const char *colon = memchr(s, ':', n);

	if (!colon || colon == s)
		return false;
	*k = s;
	*kl = (size_t)(colon - s);
	*v = colon + 1;
	*vl = n - *kl - 1;
	while (*vl && space((uint8_t)**v))
		(*v)++, (*vl)--;
	while (*vl && space((uint8_t)(*v)[*vl - 1]))
		(*vl)--;
	if (*vl >= 2 && (**v == '"' || **v == '\'') && (*v)[*vl - 1] == **v)
		(*v)++, *vl -= 2;
	return *vl == 0 || (*v)[0] != ' ';
}

/* cloud-api-adaptor's cloud-config: `write_files:` with entries of `path`
 * and `content` only (its own parser is as strict).  Copies the non-space
 * characters of the /run/peerpod/initdata content into *ret (malloc'd). */
static int cloud_config_initdata(const char *doc, size_t len, uint8_t **ret, size_t *ret_len)
{
	const char *cur = doc, *end = doc + len;
	struct line l;
	bool in_wf = false, entry_is_initdata = false, have = false;
	size_t entry_key_indent = 0;
	uint8_t *content = malloc(len + 1), *entry = NULL;
	size_t n = 0, en = 0;
	int r = -EBADMSG;

	if (!content)
		return -ENOMEM;
	entry = malloc(len + 1);
	if (!entry) {
		r = -ENOMEM;
		goto out;
	}
	next_line(&cur, end, &l); /* "#cloud-config", checked by the caller */
	while (next_line(&cur, end, &l)) {
		const char *s = l.p + l.indent, *k, *v;
		size_t sl = l.len - l.indent, kl, vl;

		if (blank(&l) || s[0] == '#')
			continue;
		if (l.indent == 0) {
			if (!yaml_kv(s, sl, &k, &kl, &v, &vl) || kl != 11 || memcmp(k, "write_files", 11) || vl)
				goto out; /* only write_files, as cloud-api-adaptor writes it */
			in_wf = true;
			continue;
		}
		if (!in_wf)
			goto out;
		if (sl >= 2 && s[0] == '-' && s[1] == ' ') {
			/* A new entry; its first key follows the dash. */
			if (entry_is_initdata) {
				if (have)
					goto out; /* the file twice */
				have = true;
				memcpy(content, entry, en);
				n = en;
			}
			entry_is_initdata = false;
			en = 0;
			entry_key_indent = l.indent + 2;
			while (entry_key_indent < l.len && l.p[entry_key_indent] == ' ')
				entry_key_indent++;
			s = l.p + entry_key_indent;
			sl = l.len - entry_key_indent;
		} else if (l.indent != entry_key_indent || !entry_key_indent) {
			goto out;
		}
		if (!yaml_kv(s, sl, &k, &kl, &v, &vl))
			goto out;
		if (kl == 4 && !memcmp(k, "path", 4)) {
			entry_is_initdata = vl == strlen(CVM_INITDATA_PEERPOD_PATH) && !memcmp(v, CVM_INITDATA_PEERPOD_PATH, vl);
		} else if (kl == 7 && !memcmp(k, "content", 7)) {
			if ((vl == 1 && v[0] == '|') || (vl == 2 && v[0] == '|' && v[1] == '-')) {
				/* A literal block: every following line indented deeper
				 * (or blank) belongs to it. */
				const char *save = cur;
				struct line b;

				while (next_line(&cur, end, &b) && (blank(&b) || b.indent > entry_key_indent)) {
					for (size_t i = 0; i < b.len; i++)
						if (!space((uint8_t)b.p[i]))
							entry[en++] = (uint8_t)b.p[i];
					save = cur;
				}
				cur = save;
			} else {
				for (size_t i = 0; i < vl; i++)
					if (!space((uint8_t)v[i]))
						entry[en++] = (uint8_t)v[i];
			}
		} else {
			goto out; /* encoding, permissions, ...: not what cloud-api-adaptor writes */
		}
	}
	if (entry_is_initdata) {
		if (have)
			goto out;
		have = true;
		memcpy(content, entry, en);
		n = en;
	}
	*ret = have ? content : NULL;
	*ret_len = have ? n : 0;
	if (have)
		content = NULL;
	r = 0;
out:
	free(content);
	free(entry);
	return r;
}

int cvm_initdata_from_userdata(const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *ret_len,
			       enum cvm_initdata_form *ret_form)
{
	static const char cc[] = "#cloud-config";
	uint8_t *dec = NULL, *content = NULL, *gz = NULL;
	size_t dlen = 0, clen = 0, glen = 0, n = 0;
	enum cvm_initdata_form form = CVM_INITDATA_FORM_NONE;
	int r;

	if (len > CVM_INITDATA_USERDATA_MAX)
		return -EFBIG;
	r = b64_decode(buf, len, &dec, &dlen);
	if (r < 0)
		goto out;
	if (dlen >= sizeof(cc) - 1 && !memcmp(dec, cc, sizeof(cc) - 1)) {
		r = cloud_config_initdata((const char *)dec, dlen, &content, &clen);
		if (r < 0 || !content)
			goto out;
		r = b64_decode(content, clen, &gz, &glen);
		if (r == 0)
			r = gunzip(gz, glen, out, cap, &n);
		if (r < 0)
			goto out;
		form = CVM_INITDATA_FORM_PEERPOD;
	} else if (dlen) {
		r = -EFBIG;
		if (dlen > cap)
			goto out;
		memcpy(out, dec, dlen);
		n = dlen;
		form = CVM_INITDATA_FORM_NATIVE;
	}
	r = 0;
out:
	if (r == 0) {
		*ret_len = n;
		*ret_form = form;
	}
	free(dec);
	free(content);
	free(gz);
	return r;
}
