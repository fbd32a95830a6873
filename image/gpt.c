/* GPT writer and reader.  Layout facts: UEFI 2.10 §5.2.3 (protective MBR),
 * §5.3.2 (header), §5.3.3 (entries); the PCR 5 payload is edk2's
 * Tcg2MeasureGptTable (EFI_GPT_DATA). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "cvmkit/bytes.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hex.h"
#include "cvmkit/hash.h"

const uint8_t CVM_GPT_TYPE_ESP[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				       0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };

/* Header field offsets. */
enum {
	H_SIGNATURE = 0,
	H_REVISION = 8,
	H_SIZE = 12,
	H_CRC = 16,
	H_MY_LBA = 24,
	H_ALT_LBA = 32,
	H_FIRST_USABLE = 40,
	H_LAST_USABLE = 48,
	H_DISK_GUID = 56,
	H_ENTRY_LBA = 72,
	H_N_ENTRIES = 80,
	H_ENTRY_SIZE = 84,
	H_ENTRY_CRC = 88,
};

/* Entry field offsets. */
enum {
	E_TYPE = 0,
	E_GUID = 16,
	E_FIRST = 32,
	E_LAST = 40,
	E_ATTR = 48,
	E_NAME = 56,
	E_NAME_CHARS = 36,
};

#define ARRAY_SECTORS (CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE / CVM_GPT_SECTOR)

static const uint8_t signature[8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };

/* CRC-32 as UEFI uses it (IEEE 802.3, reflected, init and final xor ~0) is
 * zlib's, which cvm-image and cvm-measure link anyway; a bit-at-a-time loop
 * here cost 60 % of a GPT parse. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32_z(crc, p, n);
}

/* Header CRC: over header_size bytes with the CRC field taken as zero. */
static uint32_t header_crc(const uint8_t *h, uint32_t size)
{
	static const uint8_t zero[4];
	uint32_t crc = crc32_update(0, h, H_CRC);

	crc = crc32_update(crc, zero, 4);
	return crc32_update(crc, h + H_CRC + 4, size - H_CRC - 4);
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

void cvm_guid_derive(const char *label, const uint8_t *seed, size_t seed_len, uint8_t out[16])
{
	struct cvm_hash_ctx c;
	uint8_t d[32] = { 0 };

	/* SHA-256 over memory cannot fail short of allocation failure inside
	 * mbedtls; a zeroed digest still yields a well-formed GUID then. */
	if (cvm_hash_init(&c, CVM_HASH_SHA256) == 0) {
		cvm_hash_update(&c, label, strlen(label));
		cvm_hash_update(&c, seed, seed_len);
		cvm_hash_final(&c, d);
		cvm_hash_free(&c);
	}
	memcpy(out, d, 16);
	/* time_hi_and_version is stored little-endian: its version nibble is the
	 * high nibble of byte 7; clock_seq_hi (byte 8) carries the variant. */
	out[7] = (uint8_t)((out[7] & 0x0f) | 0x40);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* Textual position i (0..15) -> on-disk byte index. */
static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

void cvm_guid_format(const uint8_t guid[16], char *out)
{
	static const char digits[] = "0123456789ABCDEF";
	char *p = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = digits[guid[guid_order[i]] >> 4];
		*p++ = digits[guid[guid_order[i]] & 15];
	}
	*p = 0;
}

int cvm_guid_parse(const char *s, uint8_t out[16])
{
	uint8_t g[16], b;
	size_t pos = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (s[pos++] != '-')
				return -EINVAL;
		}
		if (cvm_hex_decode(s + pos, 2, &b, 1) < 0)
			return -EINVAL;
		pos += 2;
		g[guid_order[i]] = b;
	}
	memcpy(out, g, 16);
	return 0;
}

static int check_partitions(uint64_t last_usable, const struct cvm_gpt_partition *parts, size_t n)
{
	if (n > CVM_GPT_ENTRIES || (n && !parts))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const struct cvm_gpt_partition *p = &parts[i];
		size_t nl = strnlen(p->name, sizeof(p->name));

		if (nl > E_NAME_CHARS || is_zero(p->type_guid, 16))
			return -EINVAL;
		for (size_t k = 0; k < nl; k++)
			if ((unsigned char)p->name[k] > 0x7f)
				return -EINVAL;
		if (p->first_lba > p->last_lba || p->first_lba < CVM_GPT_FIRST_USABLE || p->last_lba > last_usable)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (p->first_lba <= parts[j].last_lba && parts[j].first_lba <= p->last_lba)
				return -EINVAL;
	}
	return 0;
}

static void put_header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t last_usable,
		       const uint8_t disk_guid[16], uint64_t entry_lba, uint32_t entry_crc)
{
	memset(h, 0, CVM_GPT_HEADER_SIZE);
	memcpy(h + H_SIGNATURE, signature, 8);
	cvm_put_le32(h + H_REVISION, 0x00010000);
	cvm_put_le32(h + H_SIZE, CVM_GPT_HEADER_SIZE);
	cvm_put_le64(h + H_MY_LBA, my_lba);
	cvm_put_le64(h + H_ALT_LBA, alt_lba);
	cvm_put_le64(h + H_FIRST_USABLE, CVM_GPT_FIRST_USABLE);
	cvm_put_le64(h + H_LAST_USABLE, last_usable);
	memcpy(h + H_DISK_GUID, disk_guid, 16);
	cvm_put_le64(h + H_ENTRY_LBA, entry_lba);
	cvm_put_le32(h + H_N_ENTRIES, CVM_GPT_ENTRIES);
	cvm_put_le32(h + H_ENTRY_SIZE, CVM_GPT_ENTRY_SIZE);
	cvm_put_le32(h + H_ENTRY_CRC, entry_crc);
	cvm_put_le32(h + H_CRC, header_crc(h, CVM_GPT_HEADER_SIZE));
}

int cvm_gpt_entries(uint64_t n_sectors, const struct cvm_gpt_partition *parts, size_t n_parts,
		    uint8_t ret_entries[CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE])
{
	int r;

	if (n_sectors < CVM_GPT_MIN_SECTORS)
		return -EINVAL;
	r = check_partitions(n_sectors - 1 - ARRAY_SECTORS - 1, parts, n_parts);
	if (r < 0)
		return r;
	memset(ret_entries, 0, CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE);
	for (size_t i = 0; i < n_parts; i++) {
		uint8_t *e = ret_entries + i * CVM_GPT_ENTRY_SIZE;
		const char *name = parts[i].name;

		memcpy(e + E_TYPE, parts[i].type_guid, 16);
		memcpy(e + E_GUID, parts[i].part_guid, 16);
		cvm_put_le64(e + E_FIRST, parts[i].first_lba);
		cvm_put_le64(e + E_LAST, parts[i].last_lba);
		cvm_put_le64(e + E_ATTR, parts[i].attributes);
		for (size_t k = 0; k < E_NAME_CHARS && name[k]; k++)
			cvm_put_le16(e + E_NAME + 2 * k, (uint8_t)name[k]);
	}
	return 0;
}

int cvm_gpt_headers(uint64_t n_sectors, const uint8_t disk_guid[16],
		    const uint8_t entries[CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE],
		    uint8_t ret_primary[CVM_GPT_HEADER_SIZE], uint8_t ret_backup[CVM_GPT_HEADER_SIZE])
{
	uint64_t last_lba, last_usable;
	uint32_t crc;

	if (n_sectors < CVM_GPT_MIN_SECTORS)
		return -EINVAL;
	last_lba = n_sectors - 1;
	last_usable = last_lba - ARRAY_SECTORS - 1;
	crc = crc32_update(0, entries, CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE);
	put_header(ret_primary, 1, last_lba, last_usable, disk_guid, 2, crc);
	put_header(ret_backup, last_lba, 1, last_usable, disk_guid, last_lba - ARRAY_SECTORS, crc);
	return 0;
}

int cvm_gpt_write(uint8_t *disk, size_t disk_len, const uint8_t disk_guid[16],
		  const struct cvm_gpt_partition *parts, size_t n_parts)
{
	uint8_t primary[CVM_GPT_HEADER_SIZE], backup[CVM_GPT_HEADER_SIZE];
	uint8_t *entries = NULL, *mbr;
	uint64_t n_sectors = disk_len / CVM_GPT_SECTOR, last_lba;
	size_t array_bytes = CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE;
	int r;

	if (!disk || disk_len % CVM_GPT_SECTOR)
		return -EINVAL;
	entries = malloc(array_bytes);
	if (!entries)
		return -ENOMEM;
	r = cvm_gpt_entries(n_sectors, parts, n_parts, entries);
	if (r < 0)
		goto out;
	r = cvm_gpt_headers(n_sectors, disk_guid, entries, primary, backup);
	if (r < 0)
		goto out;
	last_lba = n_sectors - 1;

	/* Protective MBR: one 0xEE record covering the disk from LBA 1, capped
	 * at 32 bits; CHS fields are the "not representable" values UEFI allows. */
	mbr = disk;
	memset(mbr, 0, CVM_GPT_SECTOR);
	mbr[446 + 1] = 0x00;
	mbr[446 + 2] = 0x02;
	mbr[446 + 3] = 0x00;
	mbr[446 + 4] = 0xee;
	mbr[446 + 5] = 0xff;
	mbr[446 + 6] = 0xff;
	mbr[446 + 7] = 0xff;
	cvm_put_le32(mbr + 446 + 8, 1);
	cvm_put_le32(mbr + 446 + 12, last_lba > UINT32_MAX ? UINT32_MAX : (uint32_t)last_lba);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;

	memset(disk + CVM_GPT_SECTOR, 0, CVM_GPT_SECTOR);
	memcpy(disk + CVM_GPT_SECTOR, primary, sizeof(primary));
	memcpy(disk + 2 * CVM_GPT_SECTOR, entries, array_bytes);
	memcpy(disk + (last_lba - ARRAY_SECTORS) * CVM_GPT_SECTOR, entries, array_bytes);
	memset(disk + last_lba * CVM_GPT_SECTOR, 0, CVM_GPT_SECTOR);
	memcpy(disk + last_lba * CVM_GPT_SECTOR, backup, sizeof(backup));
	r = 0;
out:
	free(entries);
	return r;
}

/* Validates the primary GPT into *g (caller scratch) and returns the entry
 * array's position in disk. */
static int parse(const uint8_t *disk, size_t len, struct cvm_gpt *g, const uint8_t **ret_array)
{
	const uint8_t *h, *array;
	uint64_t n_sectors, entry_lba, array_bytes;
	uint32_t hsize;

	if (!disk)
		return -EBADMSG;
	n_sectors = len / CVM_GPT_SECTOR;
	if (n_sectors < 3)
		return -EBADMSG;
	h = disk + CVM_GPT_SECTOR;
	if (memcmp(h + H_SIGNATURE, signature, 8) != 0)
		return -EBADMSG;
	hsize = cvm_le32(h + H_SIZE);
	if (hsize < CVM_GPT_HEADER_SIZE || hsize > CVM_GPT_SECTOR)
		return -EBADMSG;
	if (cvm_le32(h + H_CRC) != header_crc(h, hsize))
		return -EBADMSG;
	if (cvm_le64(h + H_MY_LBA) != 1)
		return -EBADMSG;

	memset(g, 0, sizeof(*g));
	memcpy(g->header, h, CVM_GPT_HEADER_SIZE);
	memcpy(g->disk_guid, h + H_DISK_GUID, 16);
	g->first_usable = cvm_le64(h + H_FIRST_USABLE);
	g->last_usable = cvm_le64(h + H_LAST_USABLE);
	g->alternate_lba = cvm_le64(h + H_ALT_LBA);
	g->n_entries = cvm_le32(h + H_N_ENTRIES);
	g->entry_size = cvm_le32(h + H_ENTRY_SIZE);
	entry_lba = cvm_le64(h + H_ENTRY_LBA);

	if (g->first_usable > g->last_usable || g->last_usable >= n_sectors)
		return -EBADMSG;
	if (g->alternate_lba == 0 || g->alternate_lba >= n_sectors)
		return -EBADMSG;
	if (g->entry_size < CVM_GPT_ENTRY_SIZE || g->entry_size > CVM_GPT_MAX_ENTRY_SIZE ||
	    (g->entry_size & (g->entry_size - 1)))
		return -EBADMSG;
	if (g->n_entries == 0 || g->n_entries > CVM_GPT_MAX_ARRAY_BYTES / g->entry_size)
		return -EBADMSG;
	array_bytes = (uint64_t)g->n_entries * g->entry_size;
	/* Both operands are bounded (n_sectors <= SIZE_MAX/512, array <= 1 MiB),
	 * so the end-of-array computation below cannot overflow. */
	if (entry_lba < 2 || entry_lba >= n_sectors ||
	    array_bytes > (n_sectors - entry_lba) * CVM_GPT_SECTOR)
		return -EBADMSG;
	array = disk + entry_lba * CVM_GPT_SECTOR;
	if (crc32_update(0, array, array_bytes) != cvm_le32(h + H_ENTRY_CRC))
		return -EBADMSG;

	for (uint32_t i = 0; i < g->n_entries; i++) {
		const uint8_t *e = array + (size_t)i * g->entry_size;
		struct cvm_gpt_partition *p;

		if (is_zero(e + E_TYPE, 16))
			continue;
		if (g->n_parts == CVM_GPT_ENTRIES)
			return -E2BIG;
		p = &g->parts[g->n_parts++];
		memcpy(p->type_guid, e + E_TYPE, 16);
		memcpy(p->part_guid, e + E_GUID, 16);
		p->first_lba = cvm_le64(e + E_FIRST);
		p->last_lba = cvm_le64(e + E_LAST);
		p->attributes = cvm_le64(e + E_ATTR);
		if (p->first_lba > p->last_lba || p->first_lba < g->first_usable || p->last_lba > g->last_usable)
			return -EBADMSG;
		for (size_t k = 0; k < E_NAME_CHARS; k++) {
			uint16_t c = cvm_le16(e + E_NAME + 2 * k);
			if (!c)
				break;
			p->name[k] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
	}
	*ret_array = array;
	return 0;
}

int cvm_gpt_parse(const uint8_t *disk, size_t len, struct cvm_gpt *ret)
{
	struct cvm_gpt *g;
	const uint8_t *array;
	int r;

	g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = parse(disk, len, g, &array);
	if (r < 0)
		goto out;
	memcpy(ret, g, sizeof(*g));
out:
	free(g);
	return r;
}

int cvm_gpt_find(const struct cvm_gpt *g, const uint8_t type_guid[16])
{
	for (size_t i = 0; i < g->n_parts && i < CVM_GPT_ENTRIES; i++)
		if (memcmp(g->parts[i].type_guid, type_guid, 16) == 0)
			return (int)i;
	return -ENOENT;
}

int cvm_gpt_event_data(const uint8_t *disk, size_t len, uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_gpt *g;
	const uint8_t *array;
	uint8_t *buf = NULL, *p;
	size_t n;
	int r;

	g = malloc(sizeof(*g));
	if (!g)
		return -ENOMEM;
	r = parse(disk, len, g, &array);
	if (r < 0)
		goto out;
	n = CVM_GPT_HEADER_SIZE + 8 + g->n_parts * g->entry_size;
	buf = malloc(n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(buf, g->header, CVM_GPT_HEADER_SIZE);
	cvm_put_le64(buf + CVM_GPT_HEADER_SIZE, g->n_parts);
	p = buf + CVM_GPT_HEADER_SIZE + 8;
	for (uint32_t i = 0; i < g->n_entries; i++) {
		const uint8_t *e = array + (size_t)i * g->entry_size;
		if (is_zero(e + E_TYPE, 16))
			continue;
		memcpy(p, e, g->entry_size);
		p += g->entry_size;
	}
	*ret_buf = buf;
	*ret_len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	free(g);
	return r;
}
