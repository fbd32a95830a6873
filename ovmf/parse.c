/* OVMF footer table, SEV metadata ("ASEV") and TDVF metadata parser.
 *
 * The image is untrusted input: every offset read from it is checked against
 * len in 64-bit arithmetic before use, and every count is capped, so a
 * hostile image can make the parse fail but never read outside buf. */
#include <errno.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/ovmf.h"

#define FOOTER_HDR 18u   /* u16 length + GUID */
#define RESET_AREA 32u   /* the reset vector occupies the last 32 bytes */

/* On-disk (bytes_le) GUIDs, see snp-tdx-launch.md §1. */
static const uint8_t guid_footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
					 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };

enum {
	G_RESET, G_HASH_TABLE, G_SECRET, G_SEV_META, G_TDX_META, G_IGVM, G_SVSM_INFO, G_COUNT
};

const struct ovmf_guid_name ovmf_footer_guids[] = {
	[G_RESET] = { { 0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f, 0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e },
		      "SEV_ES_RESET_BLOCK", "00f771de-1a7e-4fcb-890e-68c77e2fb44e" },
	[G_HASH_TABLE] = { { 0x1f, 0x37, 0x55, 0x72, 0x3b, 0x3a, 0x04, 0x4b, 0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54 },
			   "SEV_HASH_TABLE", "7255371f-3a3b-4b04-927b-1da6efa8d454" },
	[G_SECRET] = { { 0x61, 0xb3, 0x2e, 0x4c, 0x9b, 0x7d, 0xc3, 0x4c, 0x80, 0x81, 0x12, 0x7c, 0x90, 0xd3, 0xd2, 0x94 },
		       "SEV_SECRET_BLOCK", "4c2eb361-7d9b-4cc3-8081-127c90d3d294" },
	[G_SEV_META] = { { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47, 0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc },
			 "OVMF_SEV_METADATA_OFFSET", "dc886566-984a-4798-a75e-5585a7bf67cc" },
	[G_TDX_META] = { { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 },
			 "TDX_METADATA_OFFSET", "e47a6535-984a-4798-865e-4685a7bf8ec2" },
	[G_IGVM] = { { 0x0e, 0xa7, 0x4f, 0x78, 0x76, 0x31, 0x77, 0x46, 0x8a, 0x20, 0x04, 0xb6, 0x86, 0x99, 0xe3, 0x74 },
		     "IGVM_METADATA", "784fa70e-3176-4677-8a20-04b68699e374" },
	[G_SVSM_INFO] = { { 0x12, 0xa6, 0x89, 0xa7, 0x97, 0x05, 0x4b, 0x4c, 0xa4, 0x9f, 0xcb, 0xb1, 0xfe, 0x9d, 0x1d, 0xdd },
			  "SVSM_INFO", "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd" },
	[G_COUNT] = { { 0 }, NULL, NULL },
};

static int guid_index(const uint8_t g[16])
{
	for (int i = 0; i < G_COUNT; i++)
		if (memcmp(ovmf_footer_guids[i].guid, g, 16) == 0)
			return i;
	return -1;
}

const char *ovmf_footer_guid_name(const uint8_t guid[16])
{
	int i = guid_index(guid);

	return i < 0 ? NULL : ovmf_footer_guids[i].name;
}

void ovmf_guid_format(const uint8_t g[16], char out[37])
{
	/* The first three fields are stored little-endian, the rest as bytes. */
	static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char hex[] = "0123456789abcdef";
	char *o = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[g[order[i]] >> 4];
		*o++ = hex[g[order[i]] & 15];
	}
	*o = 0;
}

const char *ovmf_sev_section_name(uint32_t type)
{
	switch (type) {
	case OVMF_SEV_SEC_MEM: return "SNP_SEC_MEM";
	case OVMF_SEV_SECRETS: return "SNP_SECRETS";
	case OVMF_SEV_CPUID: return "CPUID";
	case OVMF_SEV_SVSM_CAA: return "SVSM_CAA";
	case OVMF_SEV_KERNEL_HASHES: return "SNP_KERNEL_HASHES";
	default: return "unknown";
	}
}

const char *ovmf_tdvf_section_name(uint32_t type)
{
	static const char *const names[] = { "BFV", "CFV", "TD_HOB", "TEMP_MEM", "PERM_MEM",
					     "PAYLOAD", "PAYLOAD_PARAM", "TD_INFO" };

	return type < CVM_ARRAY_SIZE(names) ? names[type] : "unknown";
}

static int fail(struct ovmf_image *img, int r, const char *what, uint64_t value)
{
	img->error = what;
	img->error_value = value;
	return r;
}

static int parse_footer(struct ovmf_image *img)
{
	const uint8_t *buf = img->buf;
	size_t len = img->len, end, start;
	uint16_t total;
	bool seen[G_COUNT] = { false };

	if (len < RESET_AREA + FOOTER_HDR)
		return fail(img, -EBADMSG, "image too small for the footer table", len);
	end = len - RESET_AREA - FOOTER_HDR;
	if (memcmp(buf + end + 2, guid_footer, 16) != 0)
		return 0;  /* no table: legacy or non-OVMF image */
	img->has_footer = true;
	total = cvm_le16(buf + end);
	if (total < FOOTER_HDR)
		return fail(img, -EBADMSG, "footer table length smaller than its header", total);
	if (total - FOOTER_HDR > end)
		return fail(img, -EBADMSG, "footer table extends before the image start", total);
	start = end - (total - FOOTER_HDR);

	/* Entries are read backwards: [data][u16 len][GUID] ending at `end`. */
	while (end > start) {
		struct ovmf_footer_entry *e;
		uint16_t elen;
		int gi;

		if (end - start < FOOTER_HDR)
			return fail(img, -EBADMSG, "footer table has trailing bytes shorter than an entry header", end - start);
		elen = cvm_le16(buf + end - FOOTER_HDR);
		if (elen < FOOTER_HDR || elen > end - start)
			return fail(img, -EBADMSG, "footer entry length out of range", elen);
		if (img->n_entries >= OVMF_MAX_FOOTER_ENTRIES)
			return fail(img, -E2BIG, "too many footer entries", img->n_entries);
		e = &img->entries[img->n_entries++];
		memcpy(e->guid, buf + end - 16, 16);
		e->data_offset = (uint32_t)(end - elen);
		e->data_len = elen - FOOTER_HDR;
		gi = guid_index(e->guid);
		if (gi >= 0) {
			if (seen[gi])
				return fail(img, -EBADMSG, "duplicate footer entry", (uint64_t)gi);
			seen[gi] = true;
			if (e->data_len < ((gi == G_HASH_TABLE || gi == G_SECRET) ? 8u : 4u))
				return fail(img, -EBADMSG, "footer entry data too short", e->data_len);
		}
		{
			const uint8_t *d = buf + e->data_offset;
			switch (gi) {
			case G_RESET:
				img->has_reset_block = true;
				img->sev_es_reset_eip = cvm_le32(d);
				break;
			case G_HASH_TABLE:
				img->has_hash_table = true;
				img->hash_table_gpa = cvm_le32(d);
				img->hash_table_size = cvm_le32(d + 4);
				break;
			case G_SECRET:
				img->has_secret_block = true;
				img->secret_gpa = cvm_le32(d);
				img->secret_size = cvm_le32(d + 4);
				break;
			case G_SEV_META:
				img->has_sev_metadata = true;
				img->sev_metadata_offset = cvm_le32(d);
				break;
			case G_TDX_META:
				img->has_tdvf = true;
				img->tdvf_offset = cvm_le32(d);
				break;
			case G_SVSM_INFO:
				img->has_svsm_info = true;
				img->svsm_entry_offset = cvm_le32(d);
				break;
			default:
				break;  /* unknown GUIDs carry no measured meaning; kept in entries[] */
			}
		}
		end -= elen;
	}
	return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

static int parse_sev_metadata(struct ovmf_image *img)
{
	const uint8_t *h;
	uint32_t off = img->sev_metadata_offset, hlen, n;

	if (off < 16 || off > img->len)
		return fail(img, -EBADMSG, "SEV metadata offset out of range", off);
	h = img->buf + img->len - off;
	if (memcmp(h, "ASEV", 4) != 0)
		return fail(img, -EBADMSG, "SEV metadata signature is not ASEV", off);
	hlen = cvm_le32(h + 4);
	if (cvm_le32(h + 8) != 1)
		return fail(img, -EBADMSG, "SEV metadata version is not 1", cvm_le32(h + 8));
	n = cvm_le32(h + 12);
	if (n > OVMF_MAX_SEV_SECTIONS)
		return fail(img, -E2BIG, "too many SEV metadata sections", n);
	if (hlen < 16 + 12 * n || hlen > off)
		return fail(img, -EBADMSG, "SEV metadata length inconsistent with its section count", hlen);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = h + 16 + 12 * i;
		struct ovmf_sev_section *s = &img->sev[i];

		s->gpa = cvm_le32(p);
		s->size = cvm_le32(p + 4);
		s->type = cvm_le32(p + 8);
		switch (s->type) {
		case OVMF_SEV_SEC_MEM:
		case OVMF_SEV_SVSM_CAA:
		case OVMF_SEV_KERNEL_HASHES:
			if (s->size % OVMF_PAGE_SIZE)
				return fail(img, -EBADMSG, "SEV metadata section size not a multiple of 4 KiB", s->size);
			break;
		case OVMF_SEV_SECRETS:
		case OVMF_SEV_CPUID:
			break;  /* one page at gpa whatever the size says */
		default:
			return fail(img, -EPROTONOSUPPORT, "unknown SEV metadata section type", s->type);
		}
		if (s->gpa % OVMF_PAGE_SIZE)
			return fail(img, -EBADMSG, "SEV metadata section GPA not 4 KiB aligned", s->gpa);
		for (uint32_t j = 0; j < i; j++)
			if (ranges_overlap(s->gpa, s->size, img->sev[j].gpa, img->sev[j].size))
				return fail(img, -EBADMSG, "overlapping SEV metadata sections", s->gpa);
	}
	img->n_sev = n;
	return 0;
}

static int parse_tdvf(struct ovmf_image *img)
{
	const uint8_t *h;
	uint32_t off = img->tdvf_offset, hlen, n;

	if (off < 16 || off > img->len)
		return fail(img, -EBADMSG, "TDVF metadata offset out of range", off);
	h = img->buf + img->len - off;
	if (memcmp(h, "TDVF", 4) != 0)
		return fail(img, -EBADMSG, "TDVF metadata signature is not TDVF", off);
	hlen = cvm_le32(h + 4);
	if (cvm_le32(h + 8) != 1)
		return fail(img, -EBADMSG, "TDVF metadata version is not 1", cvm_le32(h + 8));
	n = cvm_le32(h + 12);
	if (n > OVMF_MAX_TDVF_SECTIONS)
		return fail(img, -E2BIG, "too many TDVF sections", n);
	if (hlen < 16 + 32 * n || hlen > off)
		return fail(img, -EBADMSG, "TDVF metadata length inconsistent with its section count", hlen);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p = h + 16 + 32 * i;
		struct ovmf_tdvf_section *s = &img->tdvf[i];

		s->data_offset = cvm_le32(p);
		s->raw_data_size = cvm_le32(p + 4);
		s->memory_address = cvm_le64(p + 8);
		s->memory_data_size = cvm_le64(p + 16);
		s->type = cvm_le32(p + 24);
		s->attributes = cvm_le32(p + 28);
		if (s->type > OVMF_TDVF_TD_INFO)
			return fail(img, -EPROTONOSUPPORT, "unknown TDVF section type", s->type);
		if (s->attributes & ~(OVMF_TDVF_ATTR_MR_EXTEND | OVMF_TDVF_ATTR_PAGE_AUG))
			return fail(img, -EPROTONOSUPPORT, "unknown TDVF section attribute bits", s->attributes);
		if ((s->memory_address | s->memory_data_size) % OVMF_PAGE_SIZE)
			return fail(img, -EBADMSG, "TDVF section address or size not 4 KiB aligned", i);
		if (s->memory_data_size > OVMF_MAX_SECTION_SIZE)
			return fail(img, -E2BIG, "TDVF section too large", s->memory_data_size);
		if (s->memory_address > UINT64_MAX - s->memory_data_size)
			return fail(img, -EBADMSG, "TDVF section wraps the address space", i);
		if (s->memory_data_size < s->raw_data_size)
			return fail(img, -EBADMSG, "TDVF section raw data larger than its memory", i);
		/* data_offset + raw_data_size <= len is checked by ovmf_tdx_mrtd(): a
		 * firmware suffix (as in sev-snp-measure's fixtures) still parses. */
		for (uint32_t j = 0; j < i; j++)
			if (ranges_overlap(s->memory_address, s->memory_data_size,
					   img->tdvf[j].memory_address, img->tdvf[j].memory_data_size))
				return fail(img, -EBADMSG, "overlapping TDVF sections", i);
	}
	img->n_tdvf = n;
	return 0;
}

int ovmf_parse(const uint8_t *buf, size_t len, struct ovmf_image *img)
{
	int r;

	if (!img)
		return -EINVAL;
	memset(img, 0, sizeof(*img));
	if (!buf && len)
		return fail(img, -EINVAL, "no image", 0);
	if (len > OVMF_MAX_IMAGE_SIZE)
		return fail(img, -E2BIG, "image larger than the cap", len);
	img->buf = buf;
	img->len = len;
	img->gpa = (1ull << 32) - len;
	r = parse_footer(img);
	if (r < 0)
		goto out;
	if (img->has_sev_metadata) {
		r = parse_sev_metadata(img);
		if (r < 0)
			goto out;
	}
	if (img->has_tdvf)
		r = parse_tdvf(img);
out:
	return r;
}
