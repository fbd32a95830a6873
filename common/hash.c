/* Two backends behind one interface.  The guest (CVM_GUEST, the static musl
 * init) hashes with mbedtls, which it links for TLS anyway.  Host tools hash
 * with OpenSSL's libcrypto: its SHA-256 uses the SHA extensions and its
 * SHA-512 AVX2 where the CPU has them, several times faster than mbedtls 3.6's
 * portable C, and cvm-measure spends most of its time hashing kernels.
 * libcrypto is OpenSSL's algorithm library, not its TLS library (libssl):
 * measure still never links TLS. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvmkit/hash.h"

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

#ifdef CVM_GUEST
#include <mbedtls/md.h>

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

#else /* host: OpenSSL libcrypto */
#include <pthread.h>

#include <openssl/evp.h>

/* Fetched once: OpenSSL 3's implicit fetch inside EVP_DigestInit_ex looks the
 * algorithm up in the provider store on every call, which costs more than
 * hashing a PCR extend's 64 bytes. */
static EVP_MD *fetched[4];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	static const char *const names[4] = { "SHA1", "SHA256", "SHA384", "SHA512" };

	for (size_t i = 0; i < 4; i++)
		fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

static const EVP_MD *evp_md(enum cvm_hash_alg alg)
{
	size_t i;

	switch (alg) {
	case CVM_HASH_SHA1: i = 0; break;
	case CVM_HASH_SHA256: i = 1; break;
	case CVM_HASH_SHA384: i = 2; break;
	case CVM_HASH_SHA512: i = 3; break;
	default: return NULL;
	}
	if (pthread_once(&fetch_once, fetch_all) != 0)
		return NULL;
	return fetched[i];
}

int cvm_hash_init(struct cvm_hash_ctx *ctx, enum cvm_hash_alg alg)
{
	const EVP_MD *md = evp_md(alg);
	EVP_MD_CTX *c;

	ctx->md = NULL;
	if (!md)
		return cvm_hash_size(alg) ? -ENOMEM : -EOPNOTSUPP;
	c = EVP_MD_CTX_new();
	if (!c)
		return -ENOMEM;
	if (EVP_DigestInit_ex(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -EIO;
	}
	ctx->alg = alg;
	ctx->md = c;
	return 0;
}

int cvm_hash_clone(struct cvm_hash_ctx *dst, const struct cvm_hash_ctx *src)
{
	EVP_MD_CTX *c;

	if (!src->md)
		return -EINVAL;
	c = EVP_MD_CTX_new();
	if (!c)
		return -ENOMEM;
	if (EVP_MD_CTX_copy_ex(c, src->md) != 1) {
		EVP_MD_CTX_free(c);
		return -EIO;
	}
	dst->alg = src->alg;
	dst->md = c;
	return 0;
}

int cvm_hash_update(struct cvm_hash_ctx *ctx, const void *buf, size_t len)
{
	if (!ctx->md)
		return -EINVAL;
	return EVP_DigestUpdate(ctx->md, buf, len) == 1 ? 0 : -EIO;
}

void cvm_hash_free(struct cvm_hash_ctx *ctx)
{
	if (ctx->md) {
		EVP_MD_CTX_free(ctx->md);
		ctx->md = NULL;
	}
}

int cvm_hash_final(struct cvm_hash_ctx *ctx, uint8_t *out)
{
	int r;

	if (!ctx->md)
		return -EINVAL;
	r = EVP_DigestFinal_ex(ctx->md, out, NULL) == 1 ? 0 : -EIO;
	cvm_hash_free(ctx);
	return r;
}

int cvm_hash(enum cvm_hash_alg alg, const void *buf, size_t len, uint8_t *out)
{
	const EVP_MD *md = evp_md(alg);

	if (!md)
		return cvm_hash_size(alg) ? -ENOMEM : -EOPNOTSUPP;
	return EVP_Digest(buf, len, out, NULL, md, NULL) == 1 ? 0 : -EIO;
}
#endif

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

/* 256 KiB reads: large enough that the syscalls cost nothing next to the
 * hashing, small enough for a heap buffer anywhere. */
#define HASH_FILE_CHUNK (256u << 10)

int cvm_hash_file(enum cvm_hash_alg alg, const char *path, uint8_t *out, uint64_t *ret_size)
{
	struct cvm_hash_ctx h = { 0 };
	uint8_t *buf = NULL, digest[CVM_HASH_MAX_SIZE];
	uint64_t total = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(HASH_FILE_CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	r = cvm_hash_init(&h, alg);
	if (r < 0)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, HASH_FILE_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		r = cvm_hash_update(&h, buf, (size_t)n);
		if (r < 0)
			goto out;
	}
	r = cvm_hash_final(&h, digest);
	if (r < 0)
		goto out;
	memcpy(out, digest, cvm_hash_size(alg));
	if (ret_size)
		*ret_size = total;
out:
	cvm_hash_free(&h);
	free(buf);
	close(fd);
	return r;
}
