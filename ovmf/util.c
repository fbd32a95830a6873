/* One-shot SHA-256/384 over mbedtls, which the launch-digest code uses
 * directly, and base64 for the RVPS message.  Hex, file reading and file
 * hashing are common/'s (hex.h, fileio.h, hash.h). */

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
