/* Azure WireServer Ready report: a bounded XML subset walker, the goal-state
 * and versions parsers built on it, the health-report builder, and the
 * retrying client (see include/cvmkit/wireserver.h).
 *
 * The walker never allocates: it keeps the element path and the current
 * character data in a caller-stack struct with fixed caps, and hands every
 * closed element's text to a callback that picks out the few values the
 * report needs.  Everything the WireServer sends is untrusted (a CVM's host
 * is outside its trust boundary), so the ids are only ever copied into our
 * own report, escaped, and nothing else is acted on. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cvmkit/http.h"
#include "cvmkit/net.h"
#include "cvmkit/wireserver.h"

#define NAME_MAX_LEN 64
#define TEXT_MAX 1024
#define PATH_MAX_LEN (CVM_WIRESERVER_MAX_DEPTH * (NAME_MAX_LEN + 1))
#define MAX_RETRY_MS 5000u

/* ------------------------------------------------------------------ XML subset walker */

typedef int (*leaf_fn)(void *ctx, const char *path, const char *text, size_t len, bool overlong);

struct walker {
	const uint8_t *p, *end;
	char path[PATH_MAX_LEN + 1];
	size_t path_len[CVM_WIRESERVER_MAX_DEPTH + 1]; /* path length at each depth */
	unsigned depth;
	bool root_done;
	char root[NAME_MAX_LEN + 1];
	char text[TEXT_MAX + 4];  /* room for one UTF-8 sequence past the cap */
	size_t text_len;
	bool text_over;
	leaf_fn leaf;
	void *ctx;
};

static bool is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_name_start(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static bool is_name_char(uint8_t c) { return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

static bool starts(const struct walker *w, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(w->end - w->p) >= n && !memcmp(w->p, s, n);
}

static void skip_ws(struct walker *w)
{
	while (w->p < w->end && is_ws(*w->p))
		w->p++;
}

/* A name of at most NAME_MAX_LEN bytes into out (NUL-terminated). */
static int read_name(struct walker *w, char out[NAME_MAX_LEN + 1])
{
	size_t n = 0;

	if (w->p >= w->end || !is_name_start(*w->p))
		return -EBADMSG;
	while (w->p < w->end && is_name_char(*w->p)) {
		if (n == NAME_MAX_LEN)
			return -EBADMSG;
		out[n++] = (char)*w->p++;
	}
	out[n] = 0;
	return 0;
}

/* A reference after '&': the five predefined entities or &#N; / &#xH;.
 * Writes the code point; anything else (a general entity needs a DTD,
 * which is refused) is -EBADMSG. */
static int read_ref(struct walker *w, uint32_t *ret_cp)
{
	static const struct {
		const char *name;
		char ch;
	} ents[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
	uint32_t cp = 0;
	unsigned digits = 0;
	bool hex;

	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
		if (starts(w, ents[i].name)) {
			w->p += strlen(ents[i].name);
			*ret_cp = (uint8_t)ents[i].ch;
			return 0;
		}
	if (w->p >= w->end || *w->p != '#')
		return -EBADMSG;
	w->p++;
	hex = w->p < w->end && *w->p == 'x';
	if (hex)
		w->p++;
	for (; w->p < w->end && *w->p != ';'; w->p++, digits++) {
		uint8_t c = *w->p;
		int v = c >= '0' && c <= '9' ? c - '0' : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
						   : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0 || digits >= 7)
			return -EBADMSG;
		cp = cp * (hex ? 16u : 10u) + (uint32_t)v;
	}
	if (w->p >= w->end || !digits || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
	    (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r'))
		return -EBADMSG;
	w->p++; /* ';' */
	*ret_cp = cp;
	return 0;
}

static void text_add(struct walker *w, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | cp >> 12), b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)),
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | cp >> 18), b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)),
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (w->text_len + n > TEXT_MAX) {
		w->text_over = true;
		return;
	}
	memcpy(w->text + w->text_len, b, n);
	w->text_len += n;
}

/* Attributes up to '>' or '/>'; values are checked, never kept. */
static int skip_attributes(struct walker *w, bool *ret_empty)
{
	char name[NAME_MAX_LEN + 1];
	uint32_t cp;
	int r;

	for (;;) {
		bool ws = w->p < w->end && is_ws(*w->p);

		skip_ws(w);
		if (w->p >= w->end)
			return -EBADMSG;
		if (*w->p == '>' || starts(w, "/>")) {
			*ret_empty = *w->p == '/';
			w->p += *ret_empty ? 2 : 1;
			return 0;
		}
		if (!ws)
			return -EBADMSG;
		r = read_name(w, name);
		if (r < 0)
			return r;
		skip_ws(w);
		if (w->p >= w->end || *w->p++ != '=')
			return -EBADMSG;
		skip_ws(w);
		if (w->p >= w->end || (*w->p != '"' && *w->p != '\''))
			return -EBADMSG;
		uint8_t q = *w->p++;
		while (w->p < w->end && *w->p != q) {
			if (*w->p == '<')
				return -EBADMSG;
			if (*w->p++ == '&' && (r = read_ref(w, &cp)) < 0)
				return r;
		}
		if (w->p >= w->end)
			return -EBADMSG;
		w->p++;
	}
}

static int start_tag(struct walker *w)
{
	char name[NAME_MAX_LEN + 1];
	size_t at;
	bool empty;
	int r;

	if (w->root_done || w->depth >= CVM_WIRESERVER_MAX_DEPTH)
		return -EBADMSG;
	r = read_name(w, name);
	if (r < 0)
		return r;
	r = skip_attributes(w, &empty);
	if (r < 0)
		return r;
	if (w->depth == 0)
		memcpy(w->root, name, sizeof(name));
	at = w->path_len[w->depth];
	w->path[at] = w->depth ? '/' : 0;
	at += w->depth ? 1 : 0;
	memcpy(w->path + at, name, strlen(name) + 1);
	w->path_len[++w->depth] = at + strlen(name);
	w->text_len = 0;
	w->text_over = false;
	if (!empty)
		return 0;
	/* <X/>: an element with empty text. */
	r = w->leaf(w->ctx, w->path, "", 0, false);
	w->path[w->path_len[--w->depth]] = 0;
	w->root_done = w->depth == 0;
	return r;
}

static int end_tag(struct walker *w)
{
	char name[NAME_MAX_LEN + 1];
	const char *open;
	size_t b, e;
	int r;

	r = read_name(w, name);
	if (r < 0)
		return r;
	skip_ws(w);
	if (w->p >= w->end || *w->p++ != '>' || w->depth == 0)
		return -EBADMSG;
	open = w->path + w->path_len[w->depth - 1] + (w->depth > 1);
	if (strcmp(open, name))
		return -EBADMSG;
	/* Trim XML whitespace around the text. */
	for (b = 0; b < w->text_len && is_ws((uint8_t)w->text[b]); b++)
		;
	for (e = w->text_len; e > b && is_ws((uint8_t)w->text[e - 1]); e--)
		;
	w->text[e] = 0;
	r = w->leaf(w->ctx, w->path, w->text + b, e - b, w->text_over);
	if (r < 0)
		return r;
	w->path[w->path_len[--w->depth]] = 0;
	w->root_done = w->depth == 0;
	w->text_len = 0;
	w->text_over = false;
	return 0;
}

static int walk(const uint8_t *buf, size_t len, leaf_fn leaf, void *ctx, char ret_root[NAME_MAX_LEN + 1])
{
	struct walker w;
	uint32_t cp;
	int r;

	if (len > CVM_WIRESERVER_MAX_XML)
		return -EMSGSIZE;
	memset(&w, 0, sizeof(w));
	w.p = buf;
	w.end = buf + len;
	w.leaf = leaf;
	w.ctx = ctx;
	if (starts(&w, "\xEF\xBB\xBF"))
		w.p += 3;
	/* The XML declaration, only as the very first thing. */
	if (starts(&w, "<?xml") && w.end - w.p > 5 && is_ws(w.p[5])) {
		const uint8_t *q = w.p;
		while (q + 1 < w.end && !(q[0] == '?' && q[1] == '>'))
			q++;
		if (q + 1 >= w.end)
			return -EBADMSG;
		w.p = q + 2;
	}
	while (w.p < w.end) {
		uint8_t c = *w.p;

		if (c == '<') {
			w.p++;
			if (starts(&w, "!--")) {
				const uint8_t *q = w.p + 3;
				while (q + 2 < w.end && !(q[0] == '-' && q[1] == '-' && q[2] == '>'))
					q++;
				if (q + 2 >= w.end)
					return -EBADMSG;
				w.p = q + 3;
				continue;
			}
			if (starts(&w, "/")) {
				w.p++;
				r = end_tag(&w);
			} else {
				/* DOCTYPE, CDATA, processing instructions: refused. */
				r = start_tag(&w);
			}
			if (r < 0)
				return r;
			continue;
		}
		if (w.depth == 0) {
			/* Outside the root only whitespace. */
			if (!is_ws(c))
				return -EBADMSG;
			w.p++;
			continue;
		}
		w.p++;
		if (c == '&') {
			r = read_ref(&w, &cp);
			if (r < 0)
				return r;
			text_add(&w, cp);
		} else if (c < 0x20 && !is_ws(c)) {
			return -EBADMSG;
		} else if (c == '>' && w.p - buf >= 3 && !memcmp(w.p - 3, "]]>", 3)) {
			return -EBADMSG;
		} else {
			text_add(&w, c);
		}
	}
	if (w.depth || !w.root_done)
		return -EBADMSG;
	memcpy(ret_root, w.root, sizeof(w.root));
	return 0;
}

/* ------------------------------------------------------------------ versions */

static bool version_ok(const char *s, size_t len)
{
	if (!len || len > CVM_WIRESERVER_VERSION_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int on_version(void *ctx, const char *path, const char *text, size_t len, bool overlong)
{
	struct cvm_wireserver_versions *v = ctx;
	bool supported = !strcmp(path, "Versions/Supported/Version");

	if (!supported && strcmp(path, "Versions/Preferred/Version"))
		return 0;
	if (overlong || !version_ok(text, len))
		return -EBADMSG;
	if (!supported) {
		if (!v->preferred[0])
			memcpy(v->preferred, text, len + 1);
	} else if (v->n_supported < CVM_WIRESERVER_MAX_VERSIONS) {
		memcpy(v->supported[v->n_supported++], text, len + 1);
	}
	return 0;
}

int cvm_wireserver_parse_versions(const uint8_t *buf, size_t len, struct cvm_wireserver_versions *ret)
{
	struct cvm_wireserver_versions v;
	char root[NAME_MAX_LEN + 1];
	int r;

	memset(&v, 0, sizeof(v));
	r = walk(buf, len, on_version, &v, root);
	if (r < 0)
		return r;
	if (strcmp(root, "Versions"))
		return -EBADMSG;
	*ret = v;
	return 0;
}

const char *cvm_wireserver_pick_version(const struct cvm_wireserver_versions *v)
{
	static const char *const want[] = { CVM_WIRESERVER_VERSION, CVM_WIRESERVER_VERSION_ALT };

	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++)
		for (size_t i = 0; i < v->n_supported; i++)
			if (!strcmp(v->supported[i], want[w]))
				return want[w];
	return NULL;
}

/* ------------------------------------------------------------------ goal state */

static bool id_ok(const char *s, size_t len)
{
	if (!len || len > CVM_WIRESERVER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)s[i] < 0x21 || (uint8_t)s[i] > 0x7e)
			return false;
	return true;
}

static int on_goalstate(void *ctx, const char *path, const char *text, size_t len, bool overlong)
{
	struct cvm_wireserver_goalstate *g = ctx;
	char *dst;

	if (!strcmp(path, "GoalState/Incarnation")) {
		if (g->incarnation[0])
			return 0;
		if (overlong || !len || len > CVM_WIRESERVER_INCARNATION_LEN || strspn(text, "0123456789") != len)
			return -EBADMSG;
		memcpy(g->incarnation, text, len + 1);
		return 0;
	}
	if (!strcmp(path, "GoalState/Container/ContainerId"))
		dst = g->container_id;
	else if (!strcmp(path, "GoalState/Container/RoleInstanceList/RoleInstance/InstanceId"))
		dst = g->instance_id;
	else
		return 0;
	if (dst[0])
		return 0;
	if (overlong || !id_ok(text, len))
		return -EBADMSG;
	memcpy(dst, text, len + 1);
	return 0;
}

int cvm_wireserver_parse_goalstate(const uint8_t *buf, size_t len, struct cvm_wireserver_goalstate *ret)
{
	struct cvm_wireserver_goalstate g;
	char root[NAME_MAX_LEN + 1];
	int r;

	memset(&g, 0, sizeof(g));
	r = walk(buf, len, on_goalstate, &g, root);
	if (r < 0)
		return r;
	if (strcmp(root, "GoalState") || !g.incarnation[0] || !g.container_id[0] || !g.instance_id[0])
		return -EBADMSG;
	*ret = g;
	return 0;
}

/* ------------------------------------------------------------------ health report */

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n >= o->size) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void put_escaped(struct out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': puts_(o, "&amp;"); break;
		case '<': puts_(o, "&lt;"); break;
		case '>': puts_(o, "&gt;"); break;
		case '"': puts_(o, "&quot;"); break;
		case '\'': puts_(o, "&apos;"); break;
		default: put(o, s, 1);
		}
	}
}

int cvm_wireserver_build_health(const struct cvm_wireserver_goalstate *gs, char *buf, size_t size)
{
	struct out o = { buf, size, 0, false };
	size_t ni = strnlen(gs->incarnation, sizeof(gs->incarnation));
	size_t nc = strnlen(gs->container_id, sizeof(gs->container_id));
	size_t nn = strnlen(gs->instance_id, sizeof(gs->instance_id));

	if (!ni || ni > CVM_WIRESERVER_INCARNATION_LEN || strspn(gs->incarnation, "0123456789") != ni ||
	    !id_ok(gs->container_id, nc) || nc >= sizeof(gs->container_id) || !id_ok(gs->instance_id, nn) ||
	    nn >= sizeof(gs->instance_id))
		return -EINVAL;
	puts_(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Health><GoalStateIncarnation>");
	puts_(&o, gs->incarnation);
	puts_(&o, "</GoalStateIncarnation><Container><ContainerId>");
	put_escaped(&o, gs->container_id);
	puts_(&o, "</ContainerId><RoleInstanceList><Role><InstanceId>");
	put_escaped(&o, gs->instance_id);
	puts_(&o, "</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>");
	if (o.full)
		return -ENOBUFS;
	buf[o.len] = 0;
	return (int)o.len;
}

/* ------------------------------------------------------------------ client */

struct session {
	const struct cvm_wireserver_options *o;
	const char *base;
	struct cvm_wireserver_result *res;
};

/* One request, bounded by the per-request timeout and the deadline.  A
 * complete non-2xx answer is -EREMOTEIO with res->status set. */
static int call(struct session *s, const char *method, const char *path, const char *version, const char *body,
		struct cvm_http_response *ret)
{
	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
	struct cvm_http_header h[3];
	struct cvm_http_request rq = { .method = method, .headers = h };
	struct cvm_http_response rs;
	char url[256];
	int left = cvm_net_remaining_ms(s->o->deadline_ms), r;
	unsigned ms = s->o->request_timeout_ms ? s->o->request_timeout_ms : 10000;

	if (left <= 0)
		return -ETIMEDOUT;
	if ((unsigned)left < ms)
		ms = (unsigned)left;
	cl.allow_plain_http = true;
	cl.connect_timeout_ms = cl.read_timeout_ms = cl.total_timeout_ms = ms;
	cl.max_attempts = 1;
	cl.max_body = CVM_WIRESERVER_MAX_XML;
	if (snprintf(url, sizeof(url), "%s%s", s->base, path) >= (int)sizeof(url))
		return -EINVAL;
	rq.url = url;
	if (version)
		h[rq.n_headers++] = (struct cvm_http_header){ "x-ms-version", version };
	if (body) {
		h[rq.n_headers++] = (struct cvm_http_header){ "x-ms-agent-name",
							      s->o->agent_name ? s->o->agent_name
									       : CVM_WIRESERVER_AGENT_NAME };
		h[rq.n_headers++] = (struct cvm_http_header){ "Content-Type", "text/xml;charset=utf-8" };
		rq.body = (const uint8_t *)body;
		rq.body_len = strlen(body);
	}
	s->res->status = 0;
	r = cvm_http_request(&cl, &rq, &rs);
	if (r < 0)
		return r;
	s->res->status = rs.status;
	if (rs.status < 200 || rs.status > 299) {
		cvm_http_response_free(&rs);
		return -EREMOTEIO;
	}
	*ret = rs;
	return 0;
}

static int attempt(struct session *s)
{
	struct cvm_wireserver_result *res = s->res;
	struct cvm_wireserver_versions v;
	struct cvm_http_response rs;
	const char *ver;
	char body[2048]; /* ids of 255 bytes, each byte escaped to at most 6 */
	int r;

	res->step = CVM_WS_STEP_VERSIONS;
	r = call(s, "GET", "/?comp=versions", NULL, NULL, &rs);
	if (r < 0)
		return r;
	r = cvm_wireserver_parse_versions(rs.body, rs.body_len, &v);
	cvm_http_response_free(&rs);
	if (r < 0)
		return r;
	ver = cvm_wireserver_pick_version(&v);
	if (!ver)
		return -EPROTONOSUPPORT;
	snprintf(res->version, sizeof(res->version), "%s", ver);

	res->step = CVM_WS_STEP_GOALSTATE;
	r = call(s, "GET", "/machine/?comp=goalstate", ver, NULL, &rs);
	if (r < 0)
		return r;
	r = cvm_wireserver_parse_goalstate(rs.body, rs.body_len, &res->gs);
	cvm_http_response_free(&rs);
	if (r < 0)
		return r;

	res->step = CVM_WS_STEP_HEALTH;
	r = cvm_wireserver_build_health(&res->gs, body, sizeof(body));
	if (r < 0)
		return r;
	r = call(s, "POST", "/machine?comp=health", ver, body, &rs);
	if (r < 0)
		return r;
	cvm_http_response_free(&rs);
	return 0;
}

/* What retrying cannot fix: the WireServer's chosen answer is unusable. */
static bool permanent(int r)
{
	return r == -EBADMSG || r == -EMSGSIZE || r == -EPROTONOSUPPORT || r == -ENOMEM || r == -EINVAL;
}

int cvm_wireserver_report_ready(const struct cvm_wireserver_options *o, struct cvm_wireserver_result *res)
{
	struct session s = { o, o->base_url ? o->base_url : "http://" CVM_WIRESERVER_ADDRESS, res };
	unsigned wait = o->retry_ms ? o->retry_ms : 1000;
	int r;

	memset(res, 0, sizeof(*res));
	for (;;) {
		res->attempts++;
		r = attempt(&s);
		res->error = r;
		if (r == 0 || permanent(r))
			return r;
		if (cvm_net_sleep_until(wait, o->deadline_ms) < 0 || cvm_net_remaining_ms(o->deadline_ms) <= 0)
			return -ETIMEDOUT;
		wait = wait * 2 > MAX_RETRY_MS ? MAX_RETRY_MS : wait * 2;
	}
}
