/* The KBS transport over net/'s HTTP/1.1 client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/http.h"
#include "cvmkit/kbs.h"

/* The response's kbs-session-id Set-Cookie header, if any. */
static void take_cookie(const struct cvm_http_response *rs, struct cvm_kbs_http_response *ret)
{
	ret->set_cookie[0] = 0;
	for (size_t i = 0; i < rs->n_headers; i++) {
		const struct cvm_http_header *h = &rs->headers[i];
		const char *v = h->value;
		if (strcasecmp(h->name, "Set-Cookie") != 0)
			continue;
		while (*v == ' ')
			v++;
		if (strncmp(v, "kbs-session-id=", 15) == 0 && strlen(v) < sizeof(ret->set_cookie)) {
			strcpy(ret->set_cookie, v);
			return;
		}
	}
}

static int request(void *vctx, const char *method, const char *path, const char *body, size_t body_len,
		   const char *cookie, struct cvm_kbs_http_response *ret)
{
	struct cvm_kbs_http_ctx *ctx = vctx;
	struct cvm_http_header h[2];
	struct cvm_http_request rq = { .method = method, .headers = h, .body = (const uint8_t *)body, .body_len = body_len };
	struct cvm_http_response rs;
	char url[CVM_KBS_PATH_MAX + 300];
	size_t n = 0;
	int r;

	if (snprintf(url, sizeof(url), "%s%s", ctx->base_url, path) >= (int)sizeof(url))
		return -EINVAL;
	rq.url = url;
	if (body)
		h[n++] = (struct cvm_http_header){ "Content-Type", "application/json" };
	if (cookie)
		h[n++] = (struct cvm_http_header){ "Cookie", cookie };
	rq.n_headers = n;
	r = cvm_http_request(ctx->client, &rq, &rs);
	if (r < 0)
		return r == -EMSGSIZE ? -EFBIG : r;
	memset(ret, 0, sizeof(*ret));
	ret->status = rs.status;
	take_cookie(&rs, ret);
	/* Hand the body over: the client frees it with free(). */
	ret->body = malloc(rs.body_len + 1);
	if (!ret->body) {
		cvm_http_response_free(&rs);
		return -ENOMEM;
	}
	memcpy(ret->body, rs.body, rs.body_len);
	ret->body[rs.body_len] = 0;
	ret->body_len = rs.body_len;
	explicit_bzero(rs.body, rs.body_len);
	cvm_http_response_free(&rs);
	return 0;
}

static int post_json(void *ctx, const char *path, const char *body, size_t body_len, const char *cookie,
		     struct cvm_kbs_http_response *ret)
{
	return request(ctx, "POST", path, body, body_len, cookie, ret);
}

static int get(void *ctx, const char *path, const char *cookie, struct cvm_kbs_http_response *ret)
{
	return request(ctx, "GET", path, NULL, 0, cookie, ret);
}

int cvm_kbs_http_transport(struct cvm_kbs_http_ctx *ctx, const char *base_url, const struct cvm_http_client *cl,
			   struct cvm_kbs_transport *ret)
{
	size_t n = strlen(base_url);

	if (!cl || n == 0 || n >= sizeof(ctx->base_url) || base_url[n - 1] == '/')
		return -EINVAL;
	ctx->client = cl;
	memcpy(ctx->base_url, base_url, n + 1);
	*ret = (struct cvm_kbs_transport){ ctx, post_json, get };
	return 0;
}
