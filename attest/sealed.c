/* CoCo sealed secrets: verify the ES256 JWS, then fetch the vault secret. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cvmkit/kbs.h"
#include "cvmkit/sealed.h"

void cvm_sealed_free(struct cvm_sealed *s)
{
	cvm_jws_free(&s->jws);
	memset(s, 0, sizeof(*s));
}

static int copy_member(const cJSON *o, const char *name, char *out, size_t cap, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v)
		return required ? -EBADMSG : 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
		return -EBADMSG;
	strcpy(out, v->valuestring);
	return 0;
}

int cvm_sealed_parse(const uint8_t *buf, size_t len, struct cvm_sealed *ret)
{
	struct cvm_sealed s = { 0 };
	cJSON *p = NULL;
	char type[16] = "";
	int r = -EFBIG;

	if (len > CVM_SEALED_MAX)
		goto out;
	r = -EBADMSG;
	if (len < 7 || memcmp(buf, "sealed.", 7) != 0)
		goto out;
	r = cvm_jws_parse(buf + 7, len - 7, &s.jws);
	if (r < 0)
		goto out;
	r = -EBADMSG;
	p = cJSON_ParseWithLength((const char *)s.jws.payload, s.jws.payload_len);
	if (!cJSON_IsObject(p))
		goto out;
	if (copy_member(p, "version", s.version, sizeof(s.version), true) < 0 ||
	    copy_member(p, "type", type, sizeof(type), true) < 0 ||
	    copy_member(p, "provider", s.provider, sizeof(s.provider), false) < 0 ||
	    copy_member(p, "name", s.name, sizeof(s.name), false) < 0)
		goto out;
	s.type = strcmp(type, "vault") == 0 ? CVM_SEALED_VAULT
		 : strcmp(type, "envelope") == 0 ? CVM_SEALED_ENVELOPE
						 : CVM_SEALED_OTHER;
	if (cvm_sealed_uri_path(s.jws.kid, s.key_path, sizeof(s.key_path)) < 0)
		s.key_path[0] = 0;
	*ret = s;
	memset(&s, 0, sizeof(s));
	r = 0;
out:
	cJSON_Delete(p);
	cvm_sealed_free(&s);
	return r;
}

int cvm_sealed_unseal(const uint8_t *buf, size_t len, cvm_sealed_fetch_fn fetch, void *ctx, uint8_t **ret,
		      size_t *ret_len)
{
	struct cvm_sealed s;
	uint8_t *key = NULL, xy[64];
	size_t key_len = 0;
	char path[CVM_SEALED_PATH_MAX];
	int r;

	r = cvm_sealed_parse(buf, len, &s);
	if (r < 0)
		return r;
	r = -EOPNOTSUPP;
	if (strcmp(s.jws.alg, "ES256") != 0)
		goto out;
	r = -ENOKEY;
	if (!s.key_path[0])
		goto out;
	r = fetch(ctx, s.key_path, &key, &key_len);
	if (r < 0)
		goto out;
	r = -EKEYREJECTED;
	if (cvm_jwk_p256_parse(key, key_len, xy) < 0)
		goto out;
	r = cvm_jws_verify_es256(&s.jws, xy);
	if (r < 0)
		goto out;
	/* From here on the payload is authentic. */
	r = -EPROTO;
	if (strcmp(s.version, "0.1.0") != 0 || s.type == CVM_SEALED_OTHER)
		goto out;
	r = -EOPNOTSUPP;
	if (s.type == CVM_SEALED_ENVELOPE)
		goto out;
	r = -EPROTONOSUPPORT;
	if (strcasecmp(s.provider, "kbs") != 0)
		goto out;
	r = cvm_sealed_uri_path(s.name, path, sizeof(path));
	if (r < 0) {
		r = r == -EOPNOTSUPP ? r : -EINVAL;
		goto out;
	}
	r = fetch(ctx, path, ret, ret_len);
out:
	cvm_jose_free_secret(key, key ? key_len + 1 : 0);
	cvm_sealed_free(&s);
	return r;
}
