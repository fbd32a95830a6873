/* The LZ4 "legacy" frame, the only LZ4 framing the kernel's initramfs
 * unpacker (lib/decompress_unlz4.c) reads:
 *
 *   u32 LE magic 0x184C2102, then blocks of { u32 LE compressed size, LZ4 block },
 *   each block holding at most 8 MiB of uncompressed data, no checksums,
 *   no end marker (the frame ends with the input).
 *
 * The writer splits the input into 8 MiB blocks and compresses each with
 * LZ4_compress_HC at its default level (9), which is deterministic for a given
 * liblz4.  Level 12 saves under 1 % on an initramfs of kernel modules and costs
 * ten times the time (0.8 s instead of 0.08 s for 2.6 MiB), most of a rebuild. */
#ifndef CVMKIT_LZ4LEGACY_H
#define CVMKIT_LZ4LEGACY_H

#include <stddef.h>
#include <stdint.h>

#define CVM_LZ4_LEGACY_MAGIC 0x184C2102u
#define CVM_LZ4_LEGACY_BLOCK ((size_t)8 << 20)

/* The writer's compression level: LZ4HC's default. */
#define CVM_LZ4_LEGACY_LEVEL 9

/* The blocks alone (no magic) of LEN bytes compressed at LEVEL (1..12): the
 * input in 8 MiB blocks from its start, each compressed on its own.  Blocks
 * never refer to each other, so the blocks of A followed by the blocks of B
 * decode to A || B (with a short block in the middle, which lz4(1) and the
 * kernel accept); this is how a part of the initramfs that did not change
 * keeps its compressed bytes (initrd.h).  LEN 0 gives no bytes.  Returns 0
 * with *ret_buf malloc'd (caller frees; never NULL) and *ret_len, -EINVAL (in
 * NULL with len > 0, bad level), -EFBIG (len > 2 GiB), -ENOMEM or -EIO. */
int cvm_lz4_legacy_blocks(const uint8_t *in, size_t len, int level, uint8_t **ret_buf, size_t *ret_len);

/* Checks that BLOCKS (no magic) decode to exactly IN, block for block as
 * cvm_lz4_legacy_blocks() cuts it.  Returns 0, -EBADMSG (anything else:
 * a size field out of bounds, a block that does not decode, decodes to other
 * bytes or another length, or bytes left over), -EINVAL or -ENOMEM. */
int cvm_lz4_legacy_blocks_check(const uint8_t *blocks, size_t blen, const uint8_t *in, size_t len);

/* Compresses LEN bytes at CVM_LZ4_LEGACY_LEVEL: the magic, then
 * cvm_lz4_legacy_blocks() (LEN may be 0: the result is the bare magic).
 * Returns 0 with *ret_buf malloc'd (caller frees) and *ret_len, -EINVAL for
 * in == NULL with len > 0, -EFBIG for len > 2 GiB, -ENOMEM, or -EIO if liblz4
 * fails. */
int cvm_lz4_legacy_compress(const uint8_t *in, size_t len, uint8_t **ret_buf, size_t *ret_len);

/* Decompresses an untrusted legacy frame.  Accepts what lz4(1) and the kernel
 * accept: blocks until the end of the input, and a repeated magic number in a
 * size field starting a further concatenated frame.  Returns 0 with
 * *ret_buf malloc'd (caller frees; never NULL) and *ret_len; -EBADMSG for a
 * wrong magic, a truncated size field or block, a block size of 0 or above
 * LZ4_compressBound(8 MiB), or a block that does not decode to at most 8 MiB;
 * -EFBIG if the output would exceed MAX_OUT (a block that crosses the limit
 * is judged on the bytes up to it); -ENOMEM.  Decoding stops, and memory use
 * is bounded, at MAX_OUT + 1 bytes, so a small block that expands to 8 MiB
 * costs no more than the limit. */
int cvm_lz4_legacy_decompress(const uint8_t *in, size_t len, size_t max_out, uint8_t **ret_buf, size_t *ret_len);

#endif
