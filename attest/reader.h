/* A bounds-checked reader for the binary structures attest/ receives from
 * places it does not control (TPM responses, TPMS_ATTEST, TD quotes).
 *
 * The error latches (BearSSL style): once a read would pass the end, every
 * later read returns zero or NULL and the reader stays failed, so a parser
 * reads a whole group of fields and checks `err` once.  A getter that fails
 * consumes nothing.  The reader never writes to or owns the bytes it reads;
 * pointers it returns point into the caller's buffer.
 *
 * Private to attest/: only the parsers here include it. */
#ifndef CVMKIT_ATTEST_READER_H
#define CVMKIT_ATTEST_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cvmkit/bytes.h"

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool err;
};

static inline struct rd rd_init(const uint8_t *p, size_t len) { return (struct rd){ .p = p, .len = len }; }

/* True when n more bytes are there; latches the error otherwise.  Written as
 * n > len - off, which cannot overflow since off <= len always holds. */
static inline bool rd_need(struct rd *r, size_t n)
{
	if (r->err || n > r->len - r->off) {
		r->err = true;
		return false;
	}
	return true;
}

/* The next n bytes, or NULL on error (never NULL on success while the
 * reader's buffer is non-NULL, even for n == 0). */
static inline const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (!rd_need(r, n))
		return NULL;
	p = r->p + r->off;
	r->off += n;
	return p;
}

static inline uint8_t rd_u8(struct rd *r) { return rd_need(r, 1) ? r->p[r->off++] : 0; }

#define CVM_RD_GETTER(name, type, size, decode)                  \
	static inline type name(struct rd *r)                    \
	{                                                        \
		const uint8_t *p = rd_take(r, size);             \
		return p ? decode(p) : 0;                        \
	}
CVM_RD_GETTER(rd_be16, uint16_t, 2, cvm_be16)
CVM_RD_GETTER(rd_be32, uint32_t, 4, cvm_be32)
CVM_RD_GETTER(rd_be64, uint64_t, 8, cvm_be64)
CVM_RD_GETTER(rd_le16, uint16_t, 2, cvm_le16)
CVM_RD_GETTER(rd_le32, uint32_t, 4, cvm_le32)
CVM_RD_GETTER(rd_le64, uint64_t, 8, cvm_le64)
#undef CVM_RD_GETTER

/* A TPM2B (big-endian u16 size, then that many bytes) of at most max bytes:
 * returns a pointer to its contents and sets *ret_len, or latches the error,
 * returns NULL and sets *ret_len to 0.  Always writes *ret_len, so callers
 * may ignore the return value and check `err` later. */
static inline const uint8_t *rd_tpm2b(struct rd *r, size_t max, size_t *ret_len)
{
	uint16_t n = rd_be16(r);

	*ret_len = 0;
	if (r->err || n > max || !rd_need(r, n)) {
		r->err = true;
		return NULL;
	}
	*ret_len = n;
	return rd_take(r, n);
}

/* rd_tpm2b() copied into out (max bytes of room); *ret_len is 0 on error. */
static inline void rd_copy2b(struct rd *r, uint8_t *out, size_t max, size_t *ret_len)
{
	size_t n;
	const uint8_t *p = rd_tpm2b(r, max, &n);

	if (p && n)
		memcpy(out, p, n);
	*ret_len = n;
}

/* A reader over the next n bytes, which r skips; a failed one if they are
 * not there (and r fails too).  Keeps a nested structure's reads inside its
 * declared size. */
static inline struct rd rd_sub(struct rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);

	if (!p)
		return (struct rd){ .err = true };
	return rd_init(p, n);
}

/* No error and every byte consumed: the structure had no trailing bytes. */
static inline bool rd_done(const struct rd *r) { return !r->err && r->off == r->len; }

#endif
