#include <errno.h>

#include "b64.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t cvm_b64_encoded_len(size_t len, bool pad)
{
	return pad ? (len + 2) / 3 * 4 : len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

void cvm_b64_encode(const uint8_t *buf, size_t len, bool url, bool pad, char *out)
{
	const char *a = url ? url_alpha : std_alpha;
	size_t i, o = 0;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)buf[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* 0..63, or -1 for a character outside both alphabets; *kind records
 * which alphabet-specific character was seen so mixing is refused. */
static int dec1(char c, int *kind)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/') {
		if (*kind == 2)
			return -1;
		*kind = 1;
		return c == '+' ? 62 : 63;
	}
	if (c == '-' || c == '_') {
		if (*kind == 1)
			return -1;
		*kind = 2;
		return c == '-' ? 62 : 63;
	}
	return -1;
}

int cvm_b64_decode(const char *s, size_t slen, uint8_t *out, size_t outcap)
{
	size_t n = slen, o = 0;
	uint32_t acc = 0;
	int bits = 0, kind = 0;

	/* At most two '=' and only as the last characters. */
	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n > 0 && s[n - 1] == '=')
		n--;
	if (n != slen && slen % 4 != 0)
		return -EINVAL;
	if (n % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int v = dec1(s[i], &kind);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return -ENOBUFS;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero, as a canonical encoder leaves them. */
	if (acc != 0)
		return -EINVAL;
	if (o > (size_t)INT32_MAX)
		return -EOVERFLOW;
	return (int)o;
}
