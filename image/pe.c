/* PE parser, edk2-equivalent Authenticode, section contents; see include/cvmkit/pe.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/pe.h"

#define OPT_CHECKSUM 64u        /* same offset in PE32 and PE32+ */
#define OPT_SUBSYSTEM 68u
#define OPT32_NDIRS 92u
#define OPT64_NDIRS 108u
#define SECTION_HEADER_SIZE 40u
#define DIR_SECURITY 4u

static bool pow2(uint32_t v) { return v && !(v & (v - 1)); }

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int cvm_pe_parse(const uint8_t *buf, size_t len, struct cvm_pe *ret)
{
	struct cvm_pe pe;
	uint64_t sec_table, dirs;
	uint16_t magic;

	memset(&pe, 0, sizeof(pe));
	if (!buf || len < 64 || buf[0] != 'M' || buf[1] != 'Z')
		return -EBADMSG;
	pe.pe_offset = cvm_le32(buf + 0x3c);
	if ((uint64_t)pe.pe_offset + 24 > len || memcmp(buf + pe.pe_offset, "PE\0\0", 4) != 0)
		return -EBADMSG;
	pe.machine = cvm_le16(buf + pe.pe_offset + 4);
	pe.n_sections = cvm_le16(buf + pe.pe_offset + 6);
	pe.opt_size = cvm_le16(buf + pe.pe_offset + 20);
	pe.opt_offset = pe.pe_offset + 24;
	if (pe.n_sections > CVM_PE_MAX_SECTIONS || (uint64_t)pe.opt_offset + pe.opt_size > len || pe.opt_size < 2)
		return -EBADMSG;

	const uint8_t *o = buf + pe.opt_offset;
	magic = cvm_le16(o);
	if (magic == 0x20b) {
		pe.pe32plus = true;
		if (pe.opt_size < OPT64_NDIRS + 4)
			return -EBADMSG;
		pe.image_base = cvm_le64(o + 24);
		pe.n_data_dirs = cvm_le32(o + OPT64_NDIRS);
		dirs = OPT64_NDIRS + 4;
	} else if (magic == 0x10b) {
		if (pe.opt_size < OPT32_NDIRS + 4)
			return -EBADMSG;
		pe.image_base = cvm_le32(o + 28);
		pe.n_data_dirs = cvm_le32(o + OPT32_NDIRS);
		dirs = OPT32_NDIRS + 4;
	} else {
		return -EBADMSG;
	}
	if (pe.n_data_dirs > 16 || dirs + 8ull * pe.n_data_dirs > pe.opt_size)
		return -EBADMSG;
	pe.section_alignment = cvm_le32(o + 32);
	pe.file_alignment = cvm_le32(o + 36);
	pe.size_of_image = cvm_le32(o + 56);
	pe.size_of_headers = cvm_le32(o + 60);
	pe.checksum = cvm_le32(o + OPT_CHECKSUM);
	pe.subsystem = cvm_le16(o + OPT_SUBSYSTEM);
	/* The PE spec bounds FileAlignment to 512..64 KiB; above that, a 1 KiB
	 * stub could make the UKI builder lay out gigabytes of padding (found by
	 * the fuzz campaign: corpus/pe/file-alignment-256mib).  Smaller values
	 * than 512 occur in EFI binaries and do no harm. */
	if (!pow2(pe.section_alignment) || !pow2(pe.file_alignment) || pe.file_alignment > 65536 ||
	    pe.size_of_headers > len)
		return -EBADMSG;
	if (pe.n_data_dirs > DIR_SECURITY) {
		pe.cert_table_offset = cvm_le32(o + dirs + 8 * DIR_SECURITY);
		pe.cert_table_size = cvm_le32(o + dirs + 8 * DIR_SECURITY + 4);
		if (pe.cert_table_size && (uint64_t)pe.cert_table_offset + pe.cert_table_size > len)
			return -EBADMSG;
	}

	sec_table = (uint64_t)pe.opt_offset + pe.opt_size;
	if (sec_table + (uint64_t)SECTION_HEADER_SIZE * pe.n_sections > pe.size_of_headers)
		return -EBADMSG;
	for (unsigned i = 0; i < pe.n_sections; i++) {
		const uint8_t *h = buf + sec_table + (size_t)SECTION_HEADER_SIZE * i;
		struct cvm_pe_section *s = &pe.sections[i];

		memcpy(s->name, h, 8);
		s->name[8] = '\0';
		s->virtual_size = cvm_le32(h + 8);
		s->virtual_address = cvm_le32(h + 12);
		s->size_of_raw_data = cvm_le32(h + 16);
		s->pointer_to_raw_data = cvm_le32(h + 20);
		s->characteristics = cvm_le32(h + 36);
		if (s->size_of_raw_data &&
		    ((uint64_t)s->pointer_to_raw_data + s->size_of_raw_data > len || s->pointer_to_raw_data < pe.size_of_headers))
			return -EBADMSG;
		if (s->virtual_size && ((uint64_t)s->virtual_address + s->virtual_size > pe.size_of_image ||
					s->virtual_address < pe.size_of_headers))
			return -EBADMSG;
		for (unsigned j = 0; j < i; j++) {
			const struct cvm_pe_section *t = &pe.sections[j];
			if (s->size_of_raw_data && t->size_of_raw_data &&
			    ranges_overlap(s->pointer_to_raw_data, s->size_of_raw_data, t->pointer_to_raw_data, t->size_of_raw_data))
				return -EBADMSG;
			if (s->virtual_size && t->virtual_size &&
			    ranges_overlap(s->virtual_address, s->virtual_size, t->virtual_address, t->virtual_size))
				return -EBADMSG;
		}
	}
	*ret = pe;
	return 0;
}

int cvm_pe_authenticode(const uint8_t *buf, size_t len, enum cvm_hash_alg alg, uint8_t *out)
{
	struct cvm_hash_ctx ctx = { 0 };
	struct cvm_pe *pe = NULL;
	unsigned order[CVM_PE_MAX_SECTIONS];
	uint64_t sum, cert;
	size_t csum, dir4;
	int r;

	pe = malloc(sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	r = cvm_pe_parse(buf, len, pe);
	if (r < 0)
		goto out;
	r = cvm_hash_init(&ctx, alg);
	if (r < 0)
		goto out;

	csum = (size_t)pe->opt_offset + OPT_CHECKSUM;
	r = cvm_hash_update(&ctx, buf, csum);
	if (r < 0)
		goto out;
	if (pe->n_data_dirs > DIR_SECURITY) {
		/* The parser put the whole directory array, hence entry 4, inside
		 * the optional header and the section table after it, so both
		 * slices below lie within SizeOfHeaders. */
		dir4 = (size_t)pe->opt_offset + (pe->pe32plus ? OPT64_NDIRS : OPT32_NDIRS) + 4 + 8 * DIR_SECURITY;
		r = cvm_hash_update(&ctx, buf + csum + 4, dir4 - (csum + 4));
		if (r >= 0)
			r = cvm_hash_update(&ctx, buf + dir4 + 8, pe->size_of_headers - (dir4 + 8));
		cert = pe->cert_table_size;
	} else {
		r = cvm_hash_update(&ctx, buf + csum + 4, pe->size_of_headers - (csum + 4));
		cert = 0;
	}
	if (r < 0)
		goto out;

	/* edk2 sorts by PointerToRawData with a stable insertion sort. */
	for (unsigned i = 0; i < pe->n_sections; i++) {
		unsigned j = i;
		while (j > 0 && pe->sections[order[j - 1]].pointer_to_raw_data > pe->sections[i].pointer_to_raw_data) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	sum = pe->size_of_headers;
	for (unsigned i = 0; i < pe->n_sections; i++) {
		const struct cvm_pe_section *s = &pe->sections[order[i]];
		if (!s->size_of_raw_data)
			continue;
		r = cvm_hash_update(&ctx, buf + s->pointer_to_raw_data, s->size_of_raw_data);
		if (r < 0)
			goto out;
		sum += s->size_of_raw_data;
	}
	/* Trailing data starts at SUM, a byte count rather than an offset:
	 * edk2's quirk, reproduced because it is what gets measured. */
	if (len > sum) {
		if (len > sum + cert) {
			r = cvm_hash_update(&ctx, buf + sum, (size_t)(len - sum - cert));
			if (r < 0)
				goto out;
		} else if (len < sum + cert) {
			r = -EBADMSG;
			goto out;
		}
	}
	r = cvm_hash_final(&ctx, out);
out:
	cvm_hash_free(&ctx);
	free(pe);
	return r;
}

const struct cvm_pe_section *cvm_pe_find_section(const struct cvm_pe *pe, const char *name)
{
	for (unsigned i = 0; i < pe->n_sections && i < CVM_PE_MAX_SECTIONS; i++)
		if (strcmp(pe->sections[i].name, name) == 0)
			return &pe->sections[i];
	return NULL;
}

int cvm_pe_section_memory(const uint8_t *buf, size_t len, const struct cvm_pe_section *s, uint8_t **ret_buf,
			  size_t *ret_len)
{
	size_t n = s->virtual_size < s->size_of_raw_data ? s->virtual_size : s->size_of_raw_data;
	uint8_t *m;

	if (s->virtual_size > CVM_PE_SECTION_MEMORY_MAX)
		return -EFBIG;
	if (n && (uint64_t)s->pointer_to_raw_data + n > len)
		return -EBADMSG;
	m = calloc(1, s->virtual_size ? s->virtual_size : 1);
	if (!m)
		return -ENOMEM;
	if (n)
		memcpy(m, buf + s->pointer_to_raw_data, n);
	*ret_buf = m;
	*ret_len = s->virtual_size;
	return 0;
}

uint32_t cvm_pe_checksum(const uint8_t *buf, size_t len, size_t checksum_offset)
{
	/* Adding 16-bit words with the carry folded back after each one (the
	 * definition) is a ones' complement sum: the plain sum of the words,
	 * reduced mod 0xffff at the end, with 0xffff standing for a non-zero
	 * multiple of it.  Plain sums go four words at a time; a fold per
	 * word was 6 % of a warm build (13 MB UKI). */
	uint64_t total = 0;
	size_t i = 0, n = len & ~(size_t)1;

	/* Four words per 64-bit load, in two accumulators of two 32-bit lanes
	 * each; 65536 adds of at most 0xffff cannot overflow a lane. */
	while (n - i >= 8) {
		size_t end = i + ((n - i) / 8 < 65536 ? (n - i) / 8 : 65536) * 8;
		uint64_t even = 0, odd = 0;

		for (; i < end; i += 8) {
			uint64_t w = cvm_le64(buf + i);
			even += w & 0x0000ffff0000ffffull;
			odd += (w >> 16) & 0x0000ffff0000ffffull;
		}
		total += (even & 0xffffffff) + (even >> 32) + (odd & 0xffffffff) + (odd >> 32);
	}
	for (; i < n; i += 2)
		total += (uint32_t)buf[i] | (uint32_t)buf[i + 1] << 8;
	if (len & 1)
		total += buf[len - 1];
	/* The CheckSum field itself counts as zero. */
	for (size_t k = checksum_offset; k < len && k - checksum_offset < 4; k++)
		total -= (uint64_t)buf[k] << (8 * (k & 1));
	total = total ? (total - 1) % 0xffff + 1 : 0;
	return (uint32_t)(total + len);
}
