#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "cvmkit/hash.h"

static mbedtls_md_type_t md_type(enum cvm_hash_alg alg)
{
	switch (alg) {
	case CVM_HASH_SHA1: return MBEDTLS_MD_SHA1;
	case CVM_HASH_SHA256: return MBEDTLS_MD_SHA256;
	case CVM_HASH_SHA384: return MBEDTLS_MD_SHA384;
	case CVM_HASH_SHA512: return MBEDTLS_MD_SHA512;
	}
	return MBEDTLS_MD_NONE;
}

size_t cvm_hash_size(enum cvm_hash_alg alg)
{
	switch (alg) {
	case CVM_HASH_SHA1: return 20;
	case CVM_HASH_SHA256: return 32;
	case CVM_HASH_SHA384: return 48;
	case CVM_HASH_SHA512: return 64;
	}
	return 0;
}

static const struct {
	enum cvm_hash_alg alg;
	const char *name;
} names[] = {
	{ CVM_HASH_SHA1, "sha1" },
	{ CVM_HASH_SHA256, "sha256" },
	{ CVM_HASH_SHA384, "sha384" },
	{ CVM_HASH_SHA512, "sha512" },
};

const char *cvm_hash_name(enum cvm_hash_alg alg)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].alg == alg)
			return names[i].name;
	return NULL;
}

int cvm_hash_from_name(const char *name, enum cvm_hash_alg *ret_alg)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0) {
			*ret_alg = names[i].alg;
			return 0;
		}
	return -EINVAL;
}

int cvm_hash_init(struct cvm_hash_ctx *ctx, enum cvm_hash_alg alg)
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md_type(alg));
	mbedtls_md_context_t *md;

	ctx->md = NULL;
	if (!info)
		return -EOPNOTSUPP;
	md = malloc(sizeof(*md));
	if (!md)
		return -ENOMEM;
	mbedtls_md_init(md);
	if (mbedtls_md_setup(md, info, 0) != 0 || mbedtls_md_starts(md) != 0) {
		mbedtls_md_free(md);
		free(md);
		return -ENOMEM;
	}
	ctx->alg = alg;
	ctx->md = md;
	return 0;
}

int cvm_hash_clone(struct cvm_hash_ctx *dst, const struct cvm_hash_ctx *src)
{
	int r;

	if (!src->md)
		return -EINVAL;
	r = cvm_hash_init(dst, src->alg);
	if (r < 0)
		return r;
	if (mbedtls_md_clone(dst->md, src->md) != 0) {
		cvm_hash_free(dst);
		return -EIO;
	}
	return 0;
}

int cvm_hash_update(struct cvm_hash_ctx *ctx, const void *buf, size_t len)
{
	if (!ctx->md)
		return -EINVAL;
	return mbedtls_md_update(ctx->md, buf, len) == 0 ? 0 : -EIO;
}

void cvm_hash_free(struct cvm_hash_ctx *ctx)
{
	if (ctx->md) {
		mbedtls_md_free(ctx->md);
		free(ctx->md);
		ctx->md = NULL;
	}
}

int cvm_hash_final(struct cvm_hash_ctx *ctx, uint8_t *out)
{
	int r;

	if (!ctx->md)
		return -EINVAL;
	r = mbedtls_md_finish(ctx->md, out) == 0 ? 0 : -EIO;
	cvm_hash_free(ctx);
	return r;
}

int cvm_hash(enum cvm_hash_alg alg, const void *buf, size_t len, uint8_t *out)
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(md_type(alg));

	if (!info)
		return -EOPNOTSUPP;
	return mbedtls_md(info, buf, len, out) == 0 ? 0 : -EIO;
}

int cvm_pcr_extend(enum cvm_hash_alg alg, uint8_t *pcr, const uint8_t *digest)
{
	uint8_t buf[2 * CVM_HASH_MAX_SIZE];
	size_t n = cvm_hash_size(alg);

	if (n == 0)
		return -EOPNOTSUPP;
	memcpy(buf, pcr, n);
	memcpy(buf + n, digest, n);
	return cvm_hash(alg, buf, 2 * n, pcr);
}
