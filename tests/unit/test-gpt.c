/* image/gpt.c: GPT writer, reader and the PCR 5 EFI_GPT_DATA payload. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fat.h"
#include "cvmkit/fileio.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/vhd.h"
#include "testutil.h"

#define MIB (1024u * 1024u)

/* Bitwise CRC-32 (IEEE), written here so corruption tests can re-seal headers
 * without trusting the code under test. */
static uint32_t t_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static void reseal_header(uint8_t *disk)
{
	uint8_t *h = disk + 512;
	cvm_put_le32(h + 16, 0);
	cvm_put_le32(h + 16, t_crc32(h, cvm_le32(h + 12)));
}

static void reseal_entries(uint8_t *disk)
{
	uint8_t *h = disk + 512;
	uint64_t lba = cvm_le64(h + 72);
	cvm_put_le32(h + 88, t_crc32(disk + lba * 512, (size_t)cvm_le32(h + 80) * cvm_le32(h + 84)));
	reseal_header(disk);
}

static void guid_derive_and_format(void **state)
{
	static const uint8_t seed[4] = { 0, 1, 2, 3 };
	uint8_t g[16], g2[16];
	char s[37];

	/* sha256("disk" 00 01 02 03) = 0a5bdf2205a1bb1e0f13f5c7e1bd2238...; byte 7
	 * 1e -> 4e (version 4), byte 8 0f -> 8f (variant 10b). */
	cvm_guid_derive("disk", seed, 4, g);
	cvm_guid_format(g, s);
	assert_string_equal(s, "22DF5B0A-A105-4EBB-8F13-F5C7E1BD2238");
	/* sha256("espseed") = d49cb35d0ddae6b54c62e873...: b5 -> 45, 4c -> 8c. */
	cvm_guid_derive("esp", (const uint8_t *)"seed", 4, g);
	cvm_guid_format(g, s);
	assert_string_equal(s, "5DB39CD4-DA0D-45E6-8C62-E873CF727594");
	cvm_guid_format(CVM_GPT_TYPE_ESP, s);
	assert_string_equal(s, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
	assert_int_equal(cvm_guid_parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", g2), 0);
	assert_memory_equal(g2, CVM_GPT_TYPE_ESP, 16);
	assert_int_equal(cvm_guid_parse("c12a7328-f81f-11d2-ba4b-00a0c93ec93", g2), -EINVAL);
	assert_int_equal(cvm_guid_parse("c12a7328+f81f-11d2-ba4b-00a0c93ec93b", g2), -EINVAL);
	assert_int_equal(cvm_guid_parse("g12a7328-f81f-11d2-ba4b-00a0c93ec93b", g2), -EINVAL);
}

static void esp_part(struct cvm_gpt_partition *p, uint64_t first, uint64_t last)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->type_guid, CVM_GPT_TYPE_ESP, 16);
	cvm_guid_derive("esp", (const uint8_t *)"seed", 4, p->part_guid);
	p->first_lba = first;
	p->last_lba = last;
	strcpy(p->name, "EFI System Partition");
}

/* The project's own QEMU/OVMF capture (vectors/measured-boot/ovmf-swtpm-capture)
 * holds the EFI_GPT_DATA OVMF measured for a 66 MiB disk with one ESP at
 * 2048..133119 named "EFI System Partition".  Writing that disk must give the
 * logged payload byte for byte. */
static void matches_ovmf_capture(void **state)
{
	const char *dir = tu_vectors("measured-boot/ovmf-swtpm-capture");
	static const char *logs[] = { "eventlog-stub252-kernel6.1.bin", "eventlog-stub257-kernel6.12.bin" };
	struct cvm_gpt_partition p;
	uint8_t disk_guid[16], *disk, *ev;
	size_t disk_len = 135168u * 512, ev_len;

	assert_int_equal(cvm_guid_parse("5F1B7D1E-0000-4000-8000-000000000001", disk_guid), 0);
	esp_part(&p, 2048, 133119);
	assert_int_equal(cvm_guid_parse("5F1B7D1E-0000-4000-8000-000000000002", p.part_guid), 0);
	disk = calloc(1, disk_len);
	assert_non_null(disk);
	assert_int_equal(cvm_gpt_write(disk, disk_len, disk_guid, &p, 1), 0);
	assert_int_equal(cvm_gpt_event_data(disk, disk_len, &ev, &ev_len), 0);
	assert_int_equal(ev_len, 92 + 8 + 128);

	for (size_t i = 0; i < 2; i++) {
		char path[1024];
		size_t log_len;
		uint8_t *log;
		const uint8_t *hit;

		snprintf(path, sizeof(path), "%s/%s", dir, logs[i]);
		log = tu_read(path, &log_len);
		hit = memmem(log, log_len, "EFI PART", 8);
		assert_non_null(hit);
		/* TCG_PCR_EVENT2 EventSize precedes the event data. */
		assert_int_equal(cvm_le32(hit - 4), ev_len);
		assert_true((size_t)(hit - log) + ev_len <= log_len);
		assert_memory_equal(hit, ev, ev_len);
		free(log);
	}
	free(ev);
	free(disk);
}

/* Real EFI_GPT_DATA payloads from GCE logs (10 GiB Ubuntu cloud disks):
 * rebuild each header from the blob's decoded fields and compare bytes; the
 * payload's SHA-256 is the digest in the log (INDEX.txt).  Ubuntu numbers
 * its partitions 1, 14, 15 (and 16 on 24.04), so the non-empty entries sit in
 * slots 0, 13, 14, 15 of the array: the entry CRC only verifies that way. */
static void rebuild_gce_blobs(void **state)
{
	static const struct { const char *file, *disk_guid, *digest; size_t n; } blobs[] = {
		{ "gpt-ubuntu2104-gce.eventdata.bin", "CB2B7180-7317-44B2-B13D-EA395DABB1A7",
		  "2d1e69a4adbf5f58c957fdb6aedc86ea037a0f5016003c7513ada83525852362", 3 },
		{ "gpt-ubuntu2404-gce-snp.eventdata.bin", "9B3AA448-BE40-489B-B8C3-9C16FB4FB6A2",
		  "fd82ab355d8c39319eb5bc8bc1df726c9f92832531fc0240f78c8cec4c7c54c5", 4 },
	};
	static const size_t slot[4] = { 0, 13, 14, 15 };
	const char *dir = tu_vectors("measured-boot/event-blobs");

	for (size_t b = 0; b < CVM_ARRAY_SIZE(blobs); b++) {
		struct cvm_gpt_partition parts[8];
		uint8_t primary[92], backup[92], *entries, *placed, *blob, d[32], guid[16];
		char path[1024], hex[65], s[37];
		size_t len, n;

		snprintf(path, sizeof(path), "%s/%s", dir, blobs[b].file);
		blob = tu_read(path, &len);
		assert_int_equal(cvm_hash(CVM_HASH_SHA256, blob, len, d), 0);
		cvm_hex_encode(d, 32, hex);
		assert_string_equal(hex, blobs[b].digest);
		n = cvm_le64(blob + 92);
		assert_int_equal(n, blobs[b].n);
		assert_int_equal(len, 92 + 8 + n * 128);
		cvm_guid_format(blob + 56, s);
		assert_string_equal(s, blobs[b].disk_guid);

		for (size_t i = 0; i < n; i++) {
			const uint8_t *e = blob + 100 + i * 128;
			memset(&parts[i], 0, sizeof(parts[i]));
			memcpy(parts[i].type_guid, e, 16);
			memcpy(parts[i].part_guid, e + 16, 16);
			parts[i].first_lba = cvm_le64(e + 32);
			parts[i].last_lba = cvm_le64(e + 40);
			parts[i].attributes = cvm_le64(e + 48);
			for (size_t k = 0; k < 36 && cvm_le16(e + 56 + 2 * k); k++)
				parts[i].name[k] = (char)cvm_le16(e + 56 + 2 * k);
		}
		/* AlternateLBA 20971519 -> 20971520 sectors. */
		assert_true(cvm_le64(blob + 32) == 20971519);
		memcpy(guid, blob + 56, 16);
		entries = malloc(128 * 128);
		placed = calloc(128, 128);
		assert_non_null(entries);
		assert_non_null(placed);
		assert_int_equal(cvm_gpt_entries(20971520, parts, n, entries), 0);
		assert_memory_equal(entries, blob + 100, n * 128);
		for (size_t i = 0; i < n; i++)
			memcpy(placed + slot[i] * 128, entries + i * 128, 128);
		assert_int_equal(t_crc32(placed, 128 * 128), cvm_le32(blob + 88));
		assert_int_equal(cvm_gpt_headers(20971520, guid, placed, primary, backup), 0);
		assert_memory_equal(primary, blob, 92);
		/* Backup header: MyLBA/AlternateLBA swapped, entries at 20971519-32. */
		assert_true(cvm_le64(backup + 24) == 20971519);
		assert_true(cvm_le64(backup + 32) == 1);
		assert_true(cvm_le64(backup + 72) == 20971487);
		assert_int_equal(cvm_le32(backup + 88), cvm_le32(blob + 88));
		{
			uint8_t t[92];
			memcpy(t, backup, 92);
			cvm_put_le32(t + 16, 0);
			assert_int_equal(t_crc32(t, 92), cvm_le32(backup + 16));
		}
		free(placed);
		free(entries);
		free(blob);
	}
}

static uint8_t *make_disk(size_t len, struct cvm_gpt_partition *p)
{
	uint8_t *disk = calloc(1, len), g[16];

	assert_non_null(disk);
	cvm_guid_derive("disk", (const uint8_t *)"seed", 4, g);
	esp_part(p, 2048, len / 512 - 34);
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 1), 0);
	return disk;
}

static void write_layout(void **state)
{
	struct cvm_gpt_partition p;
	size_t len = 24 * MIB;
	uint8_t *disk = make_disk(len, &p), *h;
	uint64_t n = len / 512;

	/* Protective MBR (UEFI 2.10 §5.2.3). */
	assert_int_equal(disk[510], 0x55);
	assert_int_equal(disk[511], 0xaa);
	assert_int_equal(disk[446 + 4], 0xee);
	assert_int_equal(disk[446 + 2], 0x02);
	assert_int_equal(cvm_le32(disk + 446 + 8), 1);
	assert_int_equal(cvm_le32(disk + 446 + 12), n - 1);
	/* Primary header. */
	h = disk + 512;
	assert_memory_equal(h, "EFI PART", 8);
	assert_int_equal(cvm_le32(h + 8), 0x00010000);
	assert_int_equal(cvm_le32(h + 12), 92);
	assert_true(cvm_le64(h + 24) == 1);
	assert_true(cvm_le64(h + 32) == n - 1);
	assert_true(cvm_le64(h + 40) == 34);
	assert_true(cvm_le64(h + 48) == n - 34);
	assert_true(cvm_le64(h + 72) == 2);
	assert_int_equal(cvm_le32(h + 80), 128);
	assert_int_equal(cvm_le32(h + 84), 128);
	assert_int_equal(cvm_le32(h + 88), t_crc32(disk + 1024, 16384));
	/* Backup array is a copy; backup header at the last LBA. */
	assert_memory_equal(disk + (n - 33) * 512, disk + 1024, 16384);
	h = disk + (n - 1) * 512;
	assert_memory_equal(h, "EFI PART", 8);
	assert_true(cvm_le64(h + 24) == n - 1);
	assert_true(cvm_le64(h + 32) == 1);
	assert_true(cvm_le64(h + 72) == n - 33);
	/* The name is UTF-16LE. */
	assert_memory_equal(disk + 1024 + 56, "E\0F\0I\0 \0S\0", 10);
	free(disk);
}

/* sgdisk (gdisk) is an independent GPT implementation. */
static void sgdisk_agrees(void **state)
{
	struct cvm_gpt_partition p;
	size_t len = 24 * MIB, n;
	uint8_t *disk;
	char *dir, path[600], cmd[1400], out[8192];
	FILE *f;

	if (!tu_have_tools("sgdisk", "sgdisk cross-check")) {
		skip();
		return;
	}
	disk = make_disk(len, &p);
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	assert_int_equal(cvm_write_file_atomic(path, disk, len, 0644), 0);

	snprintf(cmd, sizeof(cmd), "sgdisk -v %s 2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	assert_non_null(strstr(out, "No problems found."));

	snprintf(cmd, sizeof(cmd), "sgdisk -p %s 2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	/* sha256("diskseed") = c43918b164f0deff125dc308...: ff -> 4f, 12 -> 92. */
	assert_non_null(strstr(out, "Disk identifier (GUID): B11839C4-F064-4FDE-925D-C308EE2E0F44"));
	assert_non_null(strstr(out, "   1            2048           49118"));
	assert_non_null(strstr(out, "EF00  EFI System Partition"));

	snprintf(cmd, sizeof(cmd), "sgdisk -i 1 %s 2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	assert_int_equal(pclose(f), 0);
	assert_non_null(strstr(out, "Partition unique GUID: 5DB39CD4-DA0D-45E6-8C62-E873CF727594"));
	free(disk);
	tu_rmtree(dir);
	free(dir);
}

static void parse_roundtrip(void **state)
{
	struct cvm_gpt_partition p;
	size_t len = 2 * MIB;
	uint8_t *disk = make_disk(len, &p), *ev;
	struct cvm_gpt *g = malloc(sizeof(*g));
	size_t ev_len;

	assert_non_null(g);
	assert_int_equal(cvm_gpt_parse(disk, len, g), 0);
	assert_memory_equal(g->header, disk + 512, 92);
	assert_true(g->first_usable == 34);
	assert_true(g->last_usable == len / 512 - 34);
	assert_true(g->alternate_lba == len / 512 - 1);
	assert_int_equal(g->n_entries, 128);
	assert_int_equal(g->entry_size, 128);
	assert_int_equal(g->n_parts, 1);
	assert_memory_equal(g->parts[0].type_guid, CVM_GPT_TYPE_ESP, 16);
	assert_memory_equal(g->parts[0].part_guid, p.part_guid, 16);
	assert_true(g->parts[0].first_lba == 2048);
	assert_true(g->parts[0].last_lba == len / 512 - 34);
	assert_string_equal(g->parts[0].name, "EFI System Partition");
	assert_int_equal(cvm_gpt_find(g, CVM_GPT_TYPE_ESP), 0);
	assert_int_equal(cvm_gpt_find(g, p.part_guid), -ENOENT);

	assert_int_equal(cvm_gpt_event_data(disk, len, &ev, &ev_len), 0);
	assert_int_equal(ev_len, 228);
	assert_memory_equal(ev, disk + 512, 92);
	assert_true(cvm_le64(ev + 92) == 1);
	assert_memory_equal(ev + 100, disk + 1024, 128);
	free(ev);

	/* Sectors are counted from len: one short and the backup header falls outside. */
	assert_int_equal(cvm_gpt_parse(disk, len - 100, g), -EBADMSG); /* alternate LBA now outside */
	free(g);
	free(disk);
}

/* Named corruptions, each re-sealed with independent CRCs where the point is
 * a semantic check rather than the checksum. */
static void parse_rejects_corruptions(void **state)
{
	struct cvm_gpt_partition p;
	size_t len = 2 * MIB;
	uint8_t *disk = make_disk(len, &p), *orig = malloc(len), *ev = NULL;
	struct cvm_gpt *g = malloc(sizeof(*g));
	size_t ev_len = 7;

	assert_non_null(g);
	assert_non_null(orig);
	memcpy(orig, disk, len);
#define RESTORE() memcpy(disk, orig, len)
	/* signature */
	disk[512] = 'X';
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* header CRC */
	disk[512 + 16] ^= 1;
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* a covered header byte (disk GUID) */
	disk[512 + 60] ^= 1;
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* entry array CRC */
	disk[1024 + 100] ^= 1;
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* header size too small / too large */
	cvm_put_le32(disk + 512 + 12, 91);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	cvm_put_le32(disk + 512 + 12, 513);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* partition beyond LastUsableLBA */
	cvm_put_le64(disk + 1024 + 40, len / 512 - 33);
	reseal_entries(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* partition first > last */
	cvm_put_le64(disk + 1024 + 32, 3000);
	cvm_put_le64(disk + 1024 + 40, 2999);
	reseal_entries(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* LastUsableLBA past the end of the disk */
	cvm_put_le64(disk + 512 + 48, len / 512);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* entry array past the end of the disk */
	cvm_put_le64(disk + 512 + 72, len / 512 - 1);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* huge entry count (array bigger than the cap) */
	cvm_put_le32(disk + 512 + 80, 0x80000000u);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* entry size not a power of two */
	cvm_put_le32(disk + 512 + 84, 136);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* MyLBA not 1 */
	cvm_put_le64(disk + 512 + 24, 2);
	reseal_header(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	RESTORE();
	/* truncated images */
	assert_int_equal(cvm_gpt_parse(disk, 1024 + 100, g), -EBADMSG);
	assert_int_equal(cvm_gpt_parse(disk, 600, g), -EBADMSG);
	assert_int_equal(cvm_gpt_parse(disk, 0, g), -EBADMSG);
	/* no GPT at all */
	memset(disk, 0, 4096);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -EBADMSG);
	assert_int_equal(cvm_gpt_event_data(disk, len, &ev, &ev_len), -EBADMSG);
	assert_null(ev);
	assert_int_equal(ev_len, 7);
#undef RESTORE
	free(g);
	free(orig);
	free(disk);
}

/* 129 non-empty entries in a 256-entry array: more than the struct holds. */
static void parse_too_many_partitions(void **state)
{
	size_t len = 2 * MIB;
	uint8_t *disk = calloc(1, len);
	struct cvm_gpt *g = malloc(sizeof(*g));
	uint8_t *h = disk + 512;

	assert_non_null(disk);
	assert_non_null(g);
	memcpy(h, "EFI PART", 8);
	cvm_put_le32(h + 8, 0x00010000);
	cvm_put_le32(h + 12, 92);
	cvm_put_le64(h + 24, 1);
	cvm_put_le64(h + 32, len / 512 - 1);
	cvm_put_le64(h + 40, 66);
	cvm_put_le64(h + 48, len / 512 - 66);
	cvm_put_le64(h + 72, 2);
	cvm_put_le32(h + 80, 256);
	cvm_put_le32(h + 84, 128);
	for (int i = 0; i < 129; i++) {
		uint8_t *e = disk + 1024 + i * 128;
		memcpy(e, CVM_GPT_TYPE_ESP, 16);
		cvm_put_le64(e + 32, 100 + i);
		cvm_put_le64(e + 40, 100 + i);
	}
	reseal_entries(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), -E2BIG);
	/* With 128 it fits. */
	memset(disk + 1024 + 128 * 128, 0, 128);
	reseal_entries(disk);
	assert_int_equal(cvm_gpt_parse(disk, len, g), 0);
	assert_int_equal(g->n_parts, 128);
	free(g);
	free(disk);
}

static void write_rejects_bad_input(void **state)
{
	size_t len = 2 * MIB;
	uint8_t *disk = calloc(1, len), g[16] = { 1 };
	struct cvm_gpt_partition p[2];

	assert_non_null(disk);
	esp_part(&p[0], 2048, 3000);
	esp_part(&p[1], 3000, 4000); /* overlaps p[0] by one sector */
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	p[1].first_lba = 3001;
	assert_int_equal(cvm_gpt_write(disk, len - 1, g, p, 2), -EINVAL);
	assert_int_equal(cvm_gpt_write(disk, 67 * 512, g, NULL, 0), -EINVAL);
	p[1].last_lba = len / 512 - 33; /* LastUsable + 1 */
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	p[1].last_lba = 4000;
	p[1].first_lba = 33; /* before FirstUsable */
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	p[1].first_lba = 4001; /* first > last */
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	p[1].first_lba = 3001;
	memset(p[1].type_guid, 0, 16);
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	memcpy(p[1].type_guid, CVM_GPT_TYPE_ESP, 16);
	p[1].name[3] = (char)0xe9;
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	memset(p[1].name, 'A', sizeof(p[1].name)); /* no NUL within 37 */
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), -EINVAL);
	/* Nothing was written by the failures. */
	for (size_t i = 0; i < len; i++)
		if (disk[i])
			fail_msg("byte %zu written by a failed cvm_gpt_write", i);
	/* 36 characters is the maximum and fits. */
	memset(p[1].name, 'A', 36);
	p[1].name[36] = 0;
	assert_int_equal(cvm_gpt_write(disk, len, g, p, 2), 0);
	assert_int_equal(cvm_le16(disk + 1024 + 128 + 56 + 70), 'A');
	free(disk);
}

static void deterministic(void **state)
{
	struct cvm_gpt_partition p;
	uint8_t *a = make_disk(2 * MIB, &p), *b = make_disk(2 * MIB, &p);

	assert_memory_equal(a, b, 2 * MIB);
	free(a);
	free(b);
}

/* The shipped layout end to end: 24 MiB fixed VHD = GPT + one ESP (FAT) with
 * the UKI, then found again the way cvm-measure does it (VHD -> GPT -> ESP ->
 * FAT -> file); mtools reads the ESP at its 1 MiB offset. */
static void whole_image_roundtrip(void **state)
{
	const size_t disk_len = 24 * MIB, uki_len = 2000003;
	struct cvm_gpt_partition p;
	struct cvm_vhd_info vi;
	struct cvm_fat_file f;
	struct cvm_gpt *g = malloc(sizeof(*g));
	uint8_t *vhd = calloc(1, disk_len + 512), *uki = malloc(uki_len), *esp, *back, dg[16];
	size_t esp_len, back_len;
	int i;

	assert_non_null(g);
	assert_non_null(vhd);
	assert_non_null(uki);
	for (size_t k = 0; k < uki_len; k++)
		uki[k] = (uint8_t)(k * 31 + (k >> 11));
	cvm_guid_derive("disk", (const uint8_t *)"seed", 4, dg);
	esp_part(&p, 2048, disk_len / 512 - 34);
	f = (struct cvm_fat_file){ "EFI/BOOT/BOOTX64.EFI", uki, uki_len };
	assert_int_equal(cvm_fat_build((p.last_lba - p.first_lba + 1) * 512, "ESP", 0x1234abcd, 1700000000, &f, 1,
				       &esp, &esp_len), 0);
	memcpy(vhd + p.first_lba * 512, esp, esp_len);
	assert_int_equal(cvm_gpt_write(vhd, disk_len, dg, &p, 1), 0);
	assert_int_equal(cvm_vhd_footer(disk_len, dg, 1700000000, vhd + disk_len), 0);

	assert_int_equal(cvm_vhd_parse(vhd, disk_len + 512, &vi), 0);
	assert_int_equal(cvm_gpt_parse(vhd, (size_t)vi.current_size, g), 0);
	i = cvm_gpt_find(g, CVM_GPT_TYPE_ESP);
	assert_int_equal(i, 0);
	assert_int_equal(cvm_fat_read_file(vhd + g->parts[i].first_lba * 512,
					   (g->parts[i].last_lba - g->parts[i].first_lba + 1) * 512,
					   "EFI/BOOT/BOOTX64.EFI", 32 * MIB, &back, &back_len), 0);
	assert_int_equal(back_len, uki_len);
	assert_memory_equal(back, uki, uki_len);
	free(back);

	if (tu_have_tools("mdir sgdisk", "sgdisk/mtools cross-check of the VHD")) {
		char *dir = tu_mkdtemp(), path[600], cmd[1400];
		/* The raw disk, as the VM sees it (the footer is not part of the disk). */
		snprintf(path, sizeof(path), "%s/disk.img", dir);
		assert_int_equal(cvm_write_file_atomic(path, vhd, disk_len, 0644), 0);
		snprintf(cmd, sizeof(cmd), "sgdisk -v %s 2>&1 | grep -q 'No problems found'", path);
		assert_int_equal(system(cmd), 0);
		snprintf(path, sizeof(path), "%s/disk.vhd", dir);
		assert_int_equal(cvm_write_file_atomic(path, vhd, disk_len + 512, 0644), 0);
		snprintf(cmd, sizeof(cmd),
			 "MTOOLS_SKIP_CHECK=1 mdir -i %s@@1M ::EFI/BOOT 2>&1 | grep -q 'BOOTX64  EFI   2000003'", path);
		assert_int_equal(system(cmd), 0);
		tu_rmtree(dir);
		free(dir);
	}
	free(esp);
	free(uki);
	free(vhd);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guid_derive_and_format),
		cmocka_unit_test(matches_ovmf_capture),
		cmocka_unit_test(rebuild_gce_blobs),
		cmocka_unit_test(write_layout),
		cmocka_unit_test(sgdisk_agrees),
		cmocka_unit_test(parse_roundtrip),
		cmocka_unit_test(parse_rejects_corruptions),
		cmocka_unit_test(parse_too_many_partitions),
		cmocka_unit_test(write_rejects_bad_input),
		cmocka_unit_test(deterministic),
		cmocka_unit_test(whole_image_roundtrip),
	};
	return cmocka_run_group_tests_name("gpt", tests, NULL, NULL);
}
