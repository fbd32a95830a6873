/* TDX MRTD from TDVF metadata (snp-tdx-launch.md §4).
 *
 * MRTD is one running SHA-384 that the TDX module finalises, not a chain:
 * every TDH.MEM.PAGE.ADD and TDH.MR.EXTEND feeds a 128-byte record (and an
 * extend also its 256 content bytes).  The two page orders seen in the wild
 * differ only in when the ADD records of a section are fed. */
#include <errno.h>
#include <string.h>

#include <mbedtls/sha512.h>

#include "cvmkit/bytes.h"
#include "cvmkit/ovmf.h"

#define CHUNK 256u

static void feed_add(mbedtls_sha512_context *c, uint64_t gpa)
{
	uint8_t rec[128] = { 0 };

	memcpy(rec, "MEM.PAGE.ADD", 12);
	cvm_put_le64(rec + 16, gpa);
	(void)mbedtls_sha512_update(c, rec, sizeof(rec));
}

/* The page's content as QEMU loads it: raw data, zero beyond raw_data_size. */
static void feed_extend(mbedtls_sha512_context *c, const struct ovmf_image *img,
			const struct ovmf_tdvf_section *s, uint64_t page)
{
	for (unsigned i = 0; i < OVMF_PAGE_SIZE / CHUNK; i++) {
		uint8_t rec[128] = { 0 }, data[CHUNK] = { 0 };
		uint64_t off = page * OVMF_PAGE_SIZE + (uint64_t)i * CHUNK;

		memcpy(rec, "MR.EXTEND", 9);
		cvm_put_le64(rec + 16, s->memory_address + off);
		(void)mbedtls_sha512_update(c, rec, sizeof(rec));
		if (off + CHUNK <= s->raw_data_size) {
			(void)mbedtls_sha512_update(c, img->buf + s->data_offset + off, CHUNK);
			continue;
		}
		if (off < s->raw_data_size)
			memcpy(data, img->buf + s->data_offset + off, s->raw_data_size - off);
		(void)mbedtls_sha512_update(c, data, CHUNK);
	}
}

int ovmf_tdx_mrtd(const struct ovmf_image *img, enum ovmf_tdx_order order,
		  uint8_t ret_mrtd[OVMF_SHA384_SIZE])
{
	mbedtls_sha512_context c;
	uint8_t out[OVMF_SHA384_SIZE];
	int r;

	if (!img || (order != OVMF_TDX_SINGLE_PASS && order != OVMF_TDX_TWO_PASS))
		return -EINVAL;
	if (!img->has_tdvf || img->n_tdvf == 0)
		return -ENOENT;
	for (unsigned i = 0; i < img->n_tdvf; i++) {
		if (img->tdvf[i].type > OVMF_TDVF_TEMP_MEM)
			return -EOPNOTSUPP;  /* QEMU's tdvf.c refuses td-shim section types */
		if ((uint64_t)img->tdvf[i].data_offset + img->tdvf[i].raw_data_size > img->len)
			return -EBADMSG;
	}
	mbedtls_sha512_init(&c);
	(void)mbedtls_sha512_starts(&c, 1);
	for (unsigned i = 0; i < img->n_tdvf; i++) {
		const struct ovmf_tdvf_section *s = &img->tdvf[i];
		uint64_t pages = s->memory_data_size / OVMF_PAGE_SIZE;
		bool add = !(s->attributes & OVMF_TDVF_ATTR_PAGE_AUG);
		bool extend = s->attributes & OVMF_TDVF_ATTR_MR_EXTEND;

		if (order == OVMF_TDX_SINGLE_PASS) {
			for (uint64_t p = 0; p < pages; p++) {
				if (add)
					feed_add(&c, s->memory_address + p * OVMF_PAGE_SIZE);
				if (extend)
					feed_extend(&c, img, s, p);
			}
			continue;
		}
		if (add)
			for (uint64_t p = 0; p < pages; p++)
				feed_add(&c, s->memory_address + p * OVMF_PAGE_SIZE);
		if (extend)
			for (uint64_t p = 0; p < pages; p++)
				feed_extend(&c, img, s, p);
	}
	(void)mbedtls_sha512_finish(&c, out);
	mbedtls_sha512_free(&c);
	memcpy(ret_mrtd, out, sizeof(out));
	r = 0;
	return r;
}
