/* KBS JSON parsers (challenge, token, error body, Set-Cookie), then a whole
 * client round trip in which every KBS response body is the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/kbs.h"

static const uint8_t *in;
static size_t in_len;

static int reply(struct cvm_kbs_http_response *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->status = in_len && in[0] == '!' ? 401 : 200;
	ret->body = malloc(in_len + 1);
	if (!ret->body)
		return -12;
	memcpy(ret->body, in, in_len);
	ret->body_len = in_len;
	strcpy(ret->set_cookie, "kbs-session-id=0123456789abcdef0123456789abcdef");
	return 0;
}

static int post(void *ctx, const char *path, const char *body, size_t len, const char *cookie,
		struct cvm_kbs_http_response *ret)
{
	return reply(ret);
}

static int get(void *ctx, const char *path, const char *cookie, struct cvm_kbs_http_response *ret)
{
	return reply(ret);
}

static int evidence(void *ctx, enum cvm_tee tee, const uint8_t *rd, size_t len, char **ret)
{
	*ret = strdup("{\"version\":2}");
	return *ret ? 0 : -12;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cvm_kbs_transport t = { NULL, post, get };
	struct cvm_kbs_config cfg = { .tee = CVM_TEE_AZ_SNP_VTPM, .transport = &t, .evidence = evidence };
	static struct cvm_kbs_client c; /* the key is made once: keygen is not under test */
	static int ready;
	struct cvm_kbs_error e;
	char nonce[CVM_KBS_NONCE_MAX], cookie[CVM_KBS_COOKIE_MAX], *s, *tok;
	uint8_t *pt;
	size_t len;

	in = data;
	in_len = size;
	(void)cvm_kbs_parse_challenge(data, size, nonce, sizeof(nonce));
	if (cvm_kbs_parse_token(data, size, &tok) == 0)
		free(tok);
	(void)cvm_kbs_parse_error(data, size, &e);
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	(void)cvm_kbs_parse_set_cookie(s, cookie, sizeof(cookie));
	(void)cvm_kbs_resource_path_valid(s);
	free(s);

	if (!ready) {
		if (cvm_kbs_init(&c, &cfg) < 0)
			return 0;
		ready = 1;
	}
	if (cvm_kbs_auth(&c) == 0 && cvm_kbs_attest(&c) == 0 && cvm_kbs_get_resource(&c, "a/b/c", &pt, &len) == 0)
		cvm_jose_free_secret(pt, len + 1);
	return 0;
}
