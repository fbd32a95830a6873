/* Endian helpers for parsers and writers of on-disk and on-wire formats.
 * All take unaligned pointers; none checks bounds (callers do). */
#ifndef CVMKIT_BYTES_H
#define CVMKIT_BYTES_H

#include <stdint.h>
#include <stddef.h>

static inline uint16_t cvm_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t cvm_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t cvm_le64(const uint8_t *p) { return cvm_le32(p) | (uint64_t)cvm_le32(p + 4) << 32; }
static inline uint16_t cvm_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t cvm_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t cvm_be64(const uint8_t *p) { return (uint64_t)cvm_be32(p) << 32 | cvm_be32(p + 4); }

static inline void cvm_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void cvm_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void cvm_put_le64(uint8_t *p, uint64_t v) { cvm_put_le32(p, (uint32_t)v); cvm_put_le32(p + 4, (uint32_t)(v >> 32)); }
static inline void cvm_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void cvm_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void cvm_put_be64(uint8_t *p, uint64_t v) { cvm_put_be32(p, (uint32_t)(v >> 32)); cvm_put_be32(p + 4, (uint32_t)v); }

/* Round v up to a multiple of a (a power of two). */
#define CVM_ALIGN_UP(v, a) (((v) + ((a) - 1)) & ~((__typeof__(v))(a) - 1))

#define CVM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
