/* LZ4 legacy frames; see include/cvmkit/lz4legacy.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4hc.h>

#include "cvmkit/bytes.h"
#include "cvmkit/lz4legacy.h"

#define IN_MAX ((size_t)2 << 30)

_Static_assert(CVM_LZ4_LEGACY_LEVEL == LZ4HC_CLEVEL_DEFAULT, "the documented level is liblz4's default");

int cvm_lz4_legacy_blocks(const uint8_t *in, size_t len, int level, uint8_t **ret_buf, size_t *ret_len)
{
	size_t nblocks, cap, off = 0;
	uint8_t *out = NULL;
	int r = 0;

	if (!in && len)
		return -EINVAL;
	if (len > IN_MAX)
		return -EFBIG;
	if (level < 1 || level > LZ4HC_CLEVEL_MAX)
		return -EINVAL;
	nblocks = len / CVM_LZ4_LEGACY_BLOCK;
	/* Worst case per block is bounded by LZ4_compressBound of its own size;
	 * sizing for it up front means every LZ4_compress_HC call has room and
	 * cannot fail for space, without reserving 8 MiB for a small input. */
	cap = nblocks * (4 + (size_t)LZ4_compressBound((int)CVM_LZ4_LEGACY_BLOCK));
	if (len % CVM_LZ4_LEGACY_BLOCK)
		cap += 4 + (size_t)LZ4_compressBound((int)(len % CVM_LZ4_LEGACY_BLOCK));
	out = malloc(cap ? cap : 1);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += CVM_LZ4_LEGACY_BLOCK) {
		size_t n = len - i < CVM_LZ4_LEGACY_BLOCK ? len - i : CVM_LZ4_LEGACY_BLOCK;
		int c = LZ4_compress_HC((const char *)in + i, (char *)out + off + 4, (int)n,
					(int)(cap - off - 4 > INT32_MAX ? INT32_MAX : cap - off - 4), level);
		if (c <= 0) {
			r = -EIO;
			goto out;
		}
		cvm_put_le32(out + off, (uint32_t)c);
		off += 4 + (size_t)c;
	}
	*ret_buf = out;
	*ret_len = off;
	out = NULL;
out:
	free(out);
	return r;
}

int cvm_lz4_legacy_compress(const uint8_t *in, size_t len, uint8_t **ret_buf, size_t *ret_len)
{
	uint8_t *blocks = NULL, *out;
	size_t blen = 0;
	int r = cvm_lz4_legacy_blocks(in, len, CVM_LZ4_LEGACY_LEVEL, &blocks, &blen);

	if (r < 0)
		return r;
	out = malloc(4 + blen);
	if (!out) {
		free(blocks);
		return -ENOMEM;
	}
	cvm_put_le32(out, CVM_LZ4_LEGACY_MAGIC);
	memcpy(out + 4, blocks, blen);
	free(blocks);
	*ret_buf = out;
	*ret_len = 4 + blen;
	return 0;
}

int cvm_lz4_legacy_blocks_check(const uint8_t *blocks, size_t blen, const uint8_t *in, size_t len)
{
	const size_t bound = (size_t)LZ4_compressBound((int)CVM_LZ4_LEGACY_BLOCK);
	uint8_t *tmp = NULL;
	size_t off = 0, done = 0;
	int r = 0;

	if ((!blocks && blen) || (!in && len))
		return -EINVAL;
	/* Scratch for the largest block this input can need: a block must decode
	 * to exactly its share, so one decoding to more fails for space. */
	if (len) {
		tmp = malloc(len < CVM_LZ4_LEGACY_BLOCK ? len : CVM_LZ4_LEGACY_BLOCK);
		if (!tmp)
			return -ENOMEM;
	}
	/* Every block but the last holds exactly one writer's block of the input. */
	while (done < len) {
		size_t want = len - done < CVM_LZ4_LEGACY_BLOCK ? len - done : CVM_LZ4_LEGACY_BLOCK;
		uint32_t c;
		int n;

		if (blen - off < 4) {
			r = -EBADMSG;
			goto out;
		}
		c = cvm_le32(blocks + off);
		off += 4;
		if (c == 0 || c > bound || c > blen - off) {
			r = -EBADMSG;
			goto out;
		}
		n = LZ4_decompress_safe((const char *)blocks + off, (char *)tmp, (int)c, (int)want);
		if (n < 0 || (size_t)n != want || memcmp(tmp, in + done, want) != 0) {
			r = -EBADMSG;
			goto out;
		}
		off += c;
		done += want;
	}
	if (off != blen)
		r = -EBADMSG;
out:
	free(tmp);
	return r;
}

int cvm_lz4_legacy_decompress(const uint8_t *in, size_t len, size_t max_out, uint8_t **ret_buf, size_t *ret_len)
{
	const size_t bound = (size_t)LZ4_compressBound((int)CVM_LZ4_LEGACY_BLOCK);
	const size_t lim = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
	uint8_t *out = NULL;
	size_t off = 4, olen = 0, ocap = 0;
	int r = 0;

	if (!in || len < 4 || cvm_le32(in) != CVM_LZ4_LEGACY_MAGIC) {
		r = -EBADMSG;
		goto out;
	}
	while (off < len) {
		size_t left, room;
		uint32_t c;
		bool tight;
		int n;

		if (len - off < 4) {
			r = -EBADMSG;
			goto out;
		}
		c = cvm_le32(in + off);
		off += 4;
		if (c == CVM_LZ4_LEGACY_MAGIC)
			continue; /* a concatenated frame, as lz4(1) and the kernel allow */
		if (c == 0 || c > bound || c > len - off) {
			r = -EBADMSG;
			goto out;
		}
		/* Room for all the block can decode to, so a valid block never fails
		 * for space: at most 8 MiB, and at most 255 bytes per input byte (a
		 * token, a 2-byte offset and k length bytes of 255 give at most
		 * 19 + 255 k bytes).  Near the limit, room for one byte past it, so
		 * decoding (and memory) stops at MAX_OUT + 1 bytes however far a small
		 * block would expand. */
		left = max_out - olen;
		room = (size_t)c * 255 < CVM_LZ4_LEGACY_BLOCK ? (size_t)c * 255 : CVM_LZ4_LEGACY_BLOCK;
		tight = left < room;
		if (tight)
			room = left + 1;
		if (ocap - olen < room) {
			size_t want = ocap > lim / 2 ? lim : 2 * ocap;
			uint8_t *p;
			if (want < olen + room)
				want = olen + room;
			p = realloc(out, want);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			out = p;
			ocap = want;
		}
		n = LZ4_decompress_safe((const char *)in + off, (char *)out + olen, (int)c, (int)(tight ? left : room));
		if (n < 0) {
			/* Too big for what is left, or malformed: decoding one byte past
			 * the limit tells which. */
			r = tight && LZ4_decompress_safe_partial((const char *)in + off, (char *)out + olen, (int)c, (int)room,
								  (int)room) == (int)room
				    ? -EFBIG
				    : -EBADMSG;
			goto out;
		}
		olen += (size_t)n;
		off += c;
	}
	if (!out) {
		out = malloc(1);
		if (!out) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_buf = out;
	*ret_len = olen;
	out = NULL;
out:
	free(out);
	return r;
}
