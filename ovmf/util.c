/* Hashing, hex/base64 and file helpers private to ovmf/: the module links
 * mbedtls only (not common/), so it carries its own small copies. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "cvmkit/ovmf.h"

void ovmf_sha256(const void *buf, size_t len, uint8_t out[OVMF_SHA256_SIZE])
{
	(void)mbedtls_sha256(buf, len, out, 0);
}

void ovmf_sha384(const void *buf, size_t len, uint8_t out[OVMF_SHA384_SIZE])
{
	(void)mbedtls_sha512(buf, len, out, 1);
}

void ovmf_hex(const uint8_t *buf, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * len] = 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ovmf_unhex(const char *hex, uint8_t *out, size_t len)
{
	if (!hex || strlen(hex) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void ovmf_base64(const uint8_t *buf, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i = 0;

	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)buf[i] << 16;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = 0;
}

int ovmf_read_file(const char *path, size_t max, uint8_t **ret_buf, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r;

	if (!path || !ret_buf || !ret_len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	/* One extra byte detects a file that grew past its stat size. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			r = -EFBIG;
			goto out;
		}
	}
	*ret_buf = buf;
	*ret_len = got;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int ovmf_hash_file(const char *path, unsigned alg, uint8_t *ret_digest, uint64_t *ret_size)
{
	mbedtls_sha256_context c256;
	mbedtls_sha512_context c512;
	uint8_t *buf = NULL, out[OVMF_SHA384_SIZE];
	uint64_t total = 0;
	int fd = -1, r;

	if (!path || !ret_digest || (alg != 256 && alg != 384))
		return -EINVAL;
	mbedtls_sha256_init(&c256);
	mbedtls_sha512_init(&c512);
	buf = malloc(1u << 20);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (alg == 256)
		(void)mbedtls_sha256_starts(&c256, 0);
	else
		(void)mbedtls_sha512_starts(&c512, 1);
	for (;;) {
		ssize_t n = read(fd, buf, 1u << 20);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (alg == 256)
			(void)mbedtls_sha256_update(&c256, buf, (size_t)n);
		else
			(void)mbedtls_sha512_update(&c512, buf, (size_t)n);
	}
	if (alg == 256)
		(void)mbedtls_sha256_finish(&c256, out);
	else
		(void)mbedtls_sha512_finish(&c512, out);
	memcpy(ret_digest, out, alg == 256 ? OVMF_SHA256_SIZE : OVMF_SHA384_SIZE);
	if (ret_size)
		*ret_size = total;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	mbedtls_sha256_free(&c256);
	mbedtls_sha512_free(&c512);
	return r;
}
