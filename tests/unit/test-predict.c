/* measure/predict.c: PCR prediction from UKIs, raw disks and VHDs.
 * Expected values come from the vectors (systemd TEST-70, recurring
 * constants, the fedora37 PCR 12 event, the OVMF + swtpm capture) or are
 * recomputed here from the known inputs with plain hashing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/cpio.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/fat.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pe.h"
#include "cvmkit/predict.h"
#include "cvmkit/ukibuild.h"
#include "cvmkit/vhd.h"
#include "testutil.h"

static const char SDMAGIC[] = "#### LoaderInfo: systemd-stub 257.13-1~deb13u1 ####";

/* Hand-built PE32+ EFI application: headers 0x400, .text (raw 0x400, RVA
 * 0x1000) and, when sdmagic is given, .sdmagic (raw 0x600, RVA 0x2000,
 * VirtualSize = the text length). */
static uint8_t *make_pe(const char *sdmagic, size_t *ret_len)
{
	const uint32_t opt = 0x58, soh = 0x400;
	const size_t len = soh + 0x400;
	uint16_t nsec = sdmagic ? 2 : 1;
	uint8_t *b = calloc(1, len);

	assert_non_null(b);
	for (size_t i = soh; i < soh + 0x200; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	b[0] = 'M';
	b[1] = 'Z';
	cvm_put_le32(b + 0x3c, 0x40);
	memcpy(b + 0x40, "PE\0\0", 4);
	cvm_put_le16(b + 0x44, 0x8664);
	cvm_put_le16(b + 0x46, nsec);
	cvm_put_le16(b + 0x54, 240);
	cvm_put_le16(b + 0x56, 0x22e);
	cvm_put_le16(b + opt, 0x20b);
	cvm_put_le32(b + opt + 16, 0x1000);
	cvm_put_le64(b + opt + 24, 0x140000000ull);
	cvm_put_le32(b + opt + 32, 0x1000);
	cvm_put_le32(b + opt + 36, 0x200);
	cvm_put_le32(b + opt + 56, 0x3000);
	cvm_put_le32(b + opt + 60, soh);
	cvm_put_le16(b + opt + 68, 10);
	cvm_put_le32(b + opt + 108, 16);
	memcpy(b + 0x148, ".text", 5);
	cvm_put_le32(b + 0x148 + 8, 0x200);
	cvm_put_le32(b + 0x148 + 12, 0x1000);
	cvm_put_le32(b + 0x148 + 16, 0x200);
	cvm_put_le32(b + 0x148 + 20, soh);
	cvm_put_le32(b + 0x148 + 36, 0x60000020);
	if (sdmagic) {
		memcpy(b + 0x170, ".sdmagic", 8);
		cvm_put_le32(b + 0x170 + 8, (uint32_t)strlen(sdmagic));
		cvm_put_le32(b + 0x170 + 12, 0x2000);
		cvm_put_le32(b + 0x170 + 16, 0x200);
		cvm_put_le32(b + 0x170 + 20, soh + 0x200);
		cvm_put_le32(b + 0x170 + 36, 0x40000040);
		memcpy(b + soh + 0x200, sdmagic, strlen(sdmagic));
	}
	*ret_len = len;
	return b;
}

static const char osrel[] = "ID=cvmkit\nVERSION_ID=1\n";
static const char cmdline[] = "console=ttyS0 quiet";
static const char uname_[] = "6.12.117+deb13-cloud-amd64";
static const char initrd[] = "foobar\n"; /* 7 bytes: padded to 8 in the blob */

struct fixture {
	uint8_t *stub, *kernel, *uki;
	size_t stub_len, kernel_len, uki_len;
};

static uint8_t *build_uki(struct fixture *f, const char *magic, const char *cmd, bool profile)
{
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { { 0 } };

	f->stub = make_pe(magic, &f->stub_len);
	f->kernel = make_pe(NULL, &f->kernel_len);
	parts[CVM_UKI_LINUX] = (struct cvm_uki_part){ f->kernel, f->kernel_len };
	parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)osrel, strlen(osrel) };
	parts[CVM_UKI_CMDLINE] = (struct cvm_uki_part){ (const uint8_t *)cmd, strlen(cmd) };
	parts[CVM_UKI_UNAME] = (struct cvm_uki_part){ (const uint8_t *)uname_, strlen(uname_) };
	parts[CVM_UKI_INITRD] = (struct cvm_uki_part){ (const uint8_t *)initrd, strlen(initrd) };
	if (profile)
		parts[CVM_UKI_PROFILE] = (struct cvm_uki_part){ (const uint8_t *)"ID=x\n", 5 };
	assert_int_equal(cvm_uki_build(f->stub, f->stub_len, parts, &f->uki, &f->uki_len), 0);
	return f->uki;
}

static void free_fixture(struct fixture *f)
{
	free(f->stub);
	free(f->kernel);
	free(f->uki);
}

static void extend_data(enum cvm_hash_alg alg, uint8_t *pcr, const void *data, size_t len)
{
	uint8_t d[CVM_HASH_MAX_SIZE];

	assert_int_equal(cvm_hash(alg, data, len, d), 0);
	assert_int_equal(cvm_pcr_extend(alg, pcr, d), 0);
}

/* systemd TEST-70: systemd-measure calculate --linux=HALLO\n --initrd=foobar\n. */
static void test70_vector(void **state)
{
	static const struct { enum cvm_hash_alg alg; const char *key; } banks[] = {
		{ CVM_HASH_SHA1, "11:sha1=" }, { CVM_HASH_SHA256, "11:sha256=" },
		{ CVM_HASH_SHA384, "11:sha384=" }, { CVM_HASH_SHA512, "11:sha512=" },
	};
	const char *dir = tu_vectors("measured-boot/systemd/measure-test70");
	char path[4096];
	uint8_t *lx, *rd, *exp;
	size_t lxl, rdl, expl;

	snprintf(path, sizeof(path), "%s/tpmdata1.linux", dir);
	lx = tu_read(path, &lxl);
	snprintf(path, sizeof(path), "%s/tpmdata2.initrd", dir);
	rd = tu_read(path, &rdl);
	snprintf(path, sizeof(path), "%s/expected-calculate.txt", dir);
	exp = tu_read(path, &expl);
	for (size_t i = 0; i < 4; i++) {
		uint8_t pcr[CVM_HASH_MAX_SIZE] = { 0 };
		const char *line = strstr((const char *)exp, banks[i].key);
		char want[2 * CVM_HASH_MAX_SIZE + 1];
		size_t sz = cvm_hash_size(banks[i].alg);

		assert_non_null(line);
		memcpy(want, line + strlen(banks[i].key), 2 * sz);
		want[2 * sz] = '\0';
		assert_int_equal(cvm_predict_section_extend(banks[i].alg, ".linux", lx, lxl, pcr), 0);
		assert_int_equal(cvm_predict_section_extend(banks[i].alg, ".initrd", rd, rdl, pcr), 0);
		tu_assert_hex(pcr, sz, want);
	}
	free(lx);
	free(rd);
	free(exp);
}

/* fedora37 PCR 12 event: UTF-16LE " console=ttyS0 console=tty0 efi=debug " + NUL,
 * digest 62cc3c5f...; stub 252 hands LoadOptions over verbatim. */
static void load_options_vectors(void **state)
{
	const char *dir = tu_vectors("measured-boot/event-blobs");
	const char *s = " console=ttyS0 console=tty0 efi=debug ";
	char path[4096];
	uint8_t *blob, *lo, d[32];
	size_t bl, lol;

	snprintf(path, sizeof(path), "%s/ipl-pcr12-cmdline-fedora37.eventdata.bin", dir);
	blob = tu_read(path, &bl);
	assert_int_equal(cvm_predict_load_options(252, (const uint8_t *)s, strlen(s), &lo, &lol), 0);
	assert_int_equal(lol, bl);
	assert_memory_equal(lo, blob, bl);
	assert_int_equal(cvm_hash(CVM_HASH_SHA256, lo, lol, d), 0);
	tu_assert_hex(d, 32, "62cc3c5f754ef8711f11140d0ed199e1b36b9bdac7df0c261498f2b07d0f91eb");
	free(lo);
	/* 257 trims both ends and turns control characters into spaces. */
	assert_int_equal(cvm_predict_load_options(257, (const uint8_t *)" \ta\nb\x7f ", 7, &lo, &lol), 0);
	assert_int_equal(lol, 8);
	assert_memory_equal(lo, "a\0 \0b\0\0\0", 8);
	free(lo);
	/* Stops at the first NUL; refuses non-ASCII. */
	assert_int_equal(cvm_predict_load_options(257, (const uint8_t *)"ab\0cd", 5, &lo, &lol), 0);
	assert_int_equal(lol, 6);
	free(lo);
	assert_int_equal(cvm_predict_load_options(257, (const uint8_t *)"caf\xc3\xa9", 5, &lo, &lol), -EOPNOTSUPP);
	free(blob);
}

/* PCR 7 as the OVMF + swtpm capture logged it (vector pcrs file, PCR 7), and
 * the PK (empty) event digest of the fedora37 fixture. */
static void pcr7_profile_vector(void **state)
{
	const char *dir = tu_vectors("measured-boot/ovmf-swtpm-capture");
	static const uint8_t global[16] = { 0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11,
					    0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c };
	struct fixture f = { 0 };
	struct cvm_prediction *p = calloc(1, sizeof(*p));
	char path[4096], *line;
	uint8_t *txt, *var, d[32];
	size_t tl, vl;

	assert_non_null(p);
	snprintf(path, sizeof(path), "%s/pcrs-sha256-stub257-kernel6.12.txt", dir);
	txt = tu_read(path, &tl);
	line = strstr((char *)txt, "\n7 ");
	assert_non_null(line);
	line[3 + 64] = '\0';
	build_uki(&f, SDMAGIC, cmdline, false);
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, NULL, p), 0);
	assert_int_equal(p->pcr[7].status, CVM_PREDICT_PREDICTED);
	assert_string_equal(p->pcr[7].profile, "qemu-ovmf");
	assert_int_equal(p->pcr[7].n_events, 6);
	tu_assert_hex(p->pcr[7].value[0], 32, line + 3);
	tu_assert_hex(p->pcr[7].events[1].digest[0], 32, "dea7b80ab53a3daaa24d5cc46c64e1fa9ffd03739f90aadbd8c0867c4a5b4890");
	assert_int_equal(cvm_predict_uefi_variable(global, "PK", NULL, 0, &var, &vl), 0);
	assert_int_equal(cvm_hash(CVM_HASH_SHA256, var, vl, d), 0);
	tu_assert_hex(d, 32, "dea7b80ab53a3daaa24d5cc46c64e1fa9ffd03739f90aadbd8c0867c4a5b4890");
	free(var);
	free(txt);
	free(p);
	free_fixture(&f);
}

static cJSON *constants(void)
{
	const char *dir = tu_vectors("measured-boot");
	char path[4096];
	uint8_t *buf;
	size_t len;
	cJSON *root;

	snprintf(path, sizeof(path), "%s/expected.json", dir);
	buf = tu_read(path, &len);
	root = cJSON_ParseWithLength((const char *)buf, len);
	free(buf);
	assert_non_null(root);
	return root;
}

static const char *constant(cJSON *root, const char *bank, const char *name)
{
	cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "constants"), bank), name);

	assert_true(cJSON_IsString(c));
	return c->valuestring;
}

/* A disk like cvm-image writes: GPT with one ESP holding EFI/BOOT/BOOTX64.EFI. */
static uint8_t *make_disk(const uint8_t *uki, size_t uki_len, size_t *ret_len)
{
	const uint64_t sectors = 8192; /* 4 MiB */
	struct cvm_fat_file file = { "EFI/BOOT/BOOTX64.EFI", uki, uki_len };
	struct cvm_gpt_partition part = { .first_lba = 2048, .last_lba = 8192 - 34 };
	uint8_t *disk = calloc(1, sectors * 512), *fat, guid[16];
	size_t fat_len;

	assert_non_null(disk);
	memcpy(part.type_guid, CVM_GPT_TYPE_ESP, 16);
	cvm_guid_derive("esp", (const uint8_t *)"t", 1, part.part_guid);
	snprintf(part.name, sizeof(part.name), "ESP");
	assert_int_equal(cvm_fat_build((part.last_lba - part.first_lba + 1) * 512, "ESP", 1, 0, &file, 1, &fat, &fat_len), 0);
	memcpy(disk + part.first_lba * 512, fat, fat_len);
	free(fat);
	cvm_guid_derive("disk", (const uint8_t *)"t", 1, guid);
	assert_int_equal(cvm_gpt_write(disk, sectors * 512, guid, &part, 1), 0);
	*ret_len = sectors * 512;
	return disk;
}

/* The whole prediction of a synthetic UKI on a disk and in a VHD, every PCR
 * recomputed here from the known parts with plain hashing. */
static void synthetic_disk_prediction(void **state)
{
	static const enum cvm_uki_section order[] = { CVM_UKI_LINUX, CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_INITRD,
						      CVM_UKI_UNAME };
	struct fixture f = { 0 };
	struct cvm_predict_opts o = { .n_banks = 2, .banks = { CVM_HASH_SHA256, CVM_HASH_SHA384 } };
	struct cvm_prediction *p = calloc(1, sizeof(*p)), *q = calloc(1, sizeof(*q));
	cJSON *k = constants();
	uint8_t *disk, *vhd, *gpt, *cpio, *lo, *blob;
	size_t dlen, glen, clen, lol;

	assert_non_null(p);
	assert_non_null(q);
	build_uki(&f, SDMAGIC, cmdline, false);
	disk = make_disk(f.uki, f.uki_len, &dlen);
	assert_int_equal(cvm_predict_image(disk, dlen, &o, p), 0);
	assert_int_equal(p->input, CVM_PREDICT_INPUT_DISK);
	assert_int_equal(p->stub_version, 257);
	assert_string_equal(p->stub_ident, "257.13-1~deb13u1");
	assert_int_equal(cvm_gpt_event_data(disk, dlen, &gpt, &glen), 0);
	assert_int_equal(cvm_cpio_stub_extra(".extra", "os-release", 0444, (const uint8_t *)osrel, strlen(osrel), &cpio, &clen), 0);
	assert_int_equal(cvm_predict_load_options(257, (const uint8_t *)cmdline, strlen(cmdline), &lo, &lol), 0);
	blob = calloc(1, 8 + clen);
	assert_non_null(blob);
	memcpy(blob, initrd, 7);
	memcpy(blob + 8, cpio, clen);

	for (size_t b = 0; b < 2; b++) {
		enum cvm_hash_alg alg = o.banks[b];
		size_t sz = cvm_hash_size(alg);
		const char *bank = cvm_hash_name(alg);
		uint8_t pcr[CVM_HASH_MAX_SIZE], d[CVM_HASH_MAX_SIZE];
		char hex[2 * CVM_HASH_MAX_SIZE + 1];

		/* PCR 4: action, separator, UKI, .linux; SHA-256 event digests as the vector constants. */
		if (alg == CVM_HASH_SHA256) {
			cvm_hex_encode(p->pcr[4].events[0].digest[b], sz, hex);
			assert_string_equal(hex, constant(k, bank, "EV_EFI_ACTION Calling EFI Application from Boot Option"));
			cvm_hex_encode(p->pcr[4].events[1].digest[b], sz, hex);
			assert_string_equal(hex, constant(k, bank, "EV_SEPARATOR 00000000"));
			cvm_hex_encode(p->pcr[5].events[2].digest[b], sz, hex);
			assert_string_equal(hex, constant(k, bank, "EV_EFI_ACTION Exit Boot Services Invocation"));
			cvm_hex_encode(p->pcr[5].events[3].digest[b], sz, hex);
			assert_string_equal(hex, constant(k, bank, "EV_EFI_ACTION Exit Boot Services Returned with Success"));
		}
		assert_int_equal(p->pcr[4].n_events, 4);
		memset(pcr, 0, sz);
		extend_data(alg, pcr, "Calling EFI Application from Boot Option", 40);
		extend_data(alg, pcr, "\0\0\0\0", 4);
		assert_int_equal(cvm_pe_authenticode(f.uki, f.uki_len, alg, d), 0);
		assert_int_equal(cvm_pcr_extend(alg, pcr, d), 0);
		assert_int_equal(cvm_pe_authenticode(f.kernel, f.kernel_len, alg, d), 0);
		assert_int_equal(cvm_pcr_extend(alg, pcr, d), 0);
		assert_memory_equal(p->pcr[4].value[b], pcr, sz);

		/* PCR 5: separator, GPT, the two ExitBootServices strings. */
		memset(pcr, 0, sz);
		extend_data(alg, pcr, "\0\0\0\0", 4);
		extend_data(alg, pcr, gpt, glen);
		extend_data(alg, pcr, "Exit Boot Services Invocation", 29);
		extend_data(alg, pcr, "Exit Boot Services Returned with Success", 40);
		assert_memory_equal(p->pcr[5].value[b], pcr, sz);

		/* PCR 9: LoadOptions, then .initrd padded to 4 + the .osrel cpio. */
		memset(pcr, 0, sz);
		extend_data(alg, pcr, lo, lol);
		extend_data(alg, pcr, blob, 8 + clen);
		assert_memory_equal(p->pcr[9].value[b], pcr, sz);

		/* PCR 11: stub 257 order, name with NUL then content. */
		memset(pcr, 0, sz);
		for (size_t i = 0; i < CVM_ARRAY_SIZE(order); i++) {
			const char *name = cvm_uki_section_name(order[i]);
			const void *data = order[i] == CVM_UKI_LINUX ? (const void *)f.kernel
					 : order[i] == CVM_UKI_OSREL ? (const void *)osrel
					 : order[i] == CVM_UKI_CMDLINE ? (const void *)cmdline
					 : order[i] == CVM_UKI_INITRD ? (const void *)initrd : (const void *)uname_;
			size_t len = order[i] == CVM_UKI_LINUX ? f.kernel_len : strlen(data);

			extend_data(alg, pcr, name, strlen(name) + 1);
			extend_data(alg, pcr, data, len);
		}
		assert_memory_equal(p->pcr[11].value[b], pcr, sz);

		/* Nothing measured into 8, 12, 13. */
		memset(pcr, 0, sz);
		assert_memory_equal(p->pcr[8].value[b], pcr, sz);
		assert_memory_equal(p->pcr[12].value[b], pcr, sz);
		assert_memory_equal(p->pcr[13].value[b], pcr, sz);
	}
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		bool image = i == 4 || i == 5 || i == 7 || i == 8 || i == 9 || i == 11 || i == 12 || i == 13;
		assert_int_equal(p->pcr[i].status, image ? CVM_PREDICT_PREDICTED : CVM_PREDICT_PLATFORM);
	}

	/* The same disk as a fixed VHD predicts the same; the bare UKI lacks PCR 5. */
	vhd = malloc(dlen + 512);
	assert_non_null(vhd);
	memcpy(vhd, disk, dlen);
	assert_int_equal(cvm_vhd_footer(dlen, (const uint8_t *)"0123456789abcdef", 0, vhd + dlen), 0);
	assert_int_equal(cvm_predict_image(vhd, dlen + 512, &o, q), 0);
	assert_int_equal(q->input, CVM_PREDICT_INPUT_VHD);
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		assert_memory_equal(q->pcr[i].value, p->pcr[i].value, sizeof(p->pcr[i].value));
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, q), 0);
	assert_int_equal(q->pcr[5].status, CVM_PREDICT_NEEDS_DISK);
	assert_memory_equal(q->pcr[11].value, p->pcr[11].value, sizeof(p->pcr[11].value));
	assert_memory_equal(q->pcr[4].value, p->pcr[4].value, sizeof(p->pcr[4].value));

	/* A failed boot option first: Returning + Calling after the separator. */
	o.failed_boot_options = 1;
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, q), 0);
	assert_int_equal(q->pcr[4].n_events, 6);
	assert_string_equal(q->pcr[4].events[2].desc, "Returning from EFI Application from Boot Option");
	assert_memory_equal(q->pcr[4].events[3].digest, p->pcr[4].events[0].digest, sizeof(q->pcr[4].events[3].digest));

	free(blob);
	free(lo);
	free(cpio);
	free(gpt);
	free(vhd);
	free(disk);
	cJSON_Delete(k);
	free(p);
	free(q);
	free_fixture(&f);
}

static void stub_version_parse(void **state)
{
	static const struct { const char *text; int r; unsigned major; } cases[] = {
		{ "#### LoaderInfo: systemd-stub 257.13-1~deb13u1 ####", 0, 257 },
		{ "#### LoaderInfo: systemd-stub 252 ####", 0, 252 },
		{ "#### LoaderInfo: systemd-boot 257.13 ####", -ENOENT, 0 },
		{ "#### LoaderInfo: systemd-stub  ####", -EBADMSG, 0 },
		{ "#### LoaderInfo: systemd-stub 257.13", -EBADMSG, 0 },
		{ "#### LoaderInfo: systemd-stub abc ####", -EBADMSG, 0 },
		{ "hello", -EBADMSG, 0 },
	};
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		struct cvm_pe pe;
		size_t len;
		uint8_t *b = make_pe(cases[i].text, &len);
		unsigned major = 0;
		char ident[64];

		assert_int_equal(cvm_pe_parse(b, len, &pe), 0);
		assert_int_equal(cvm_predict_stub_version(b, len, &pe, &major, ident), cases[i].r);
		if (cases[i].r == 0)
			assert_int_equal(major, cases[i].major);
		free(b);
	}
	{
		struct cvm_pe pe;
		size_t len;
		uint8_t *b = make_pe(NULL, &len);
		unsigned major;
		char ident[64];

		assert_int_equal(cvm_pe_parse(b, len, &pe), 0);
		assert_int_equal(cvm_predict_stub_version(b, len, &pe, &major, ident), -ENOENT);
		free(b);
	}
}

static void malformed_and_unmodelled(void **state)
{
	struct cvm_prediction *p = calloc(1, sizeof(*p));
	struct cvm_predict_opts o = { 0 };
	struct fixture f = { 0 };
	uint8_t junk[4096];

	assert_non_null(p);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(cvm_predict_image(junk, sizeof(junk), NULL, p), -EBADMSG);
	assert_int_equal(cvm_predict_image(junk, 0, NULL, p), -EBADMSG);
	/* Unmodelled stub versions, with and without an override. */
	build_uki(&f, "#### LoaderInfo: systemd-stub 258.1 ####", cmdline, false);
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, NULL, p), -EOPNOTSUPP);
	o.stub_version = 257;
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, p), 0);
	assert_int_equal(p->stub_ident[0], '\0');
	o.stub_version = 251;
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, p), -EOPNOTSUPP);
	/* Truncated UKI. */
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len / 2, NULL, p), -EBADMSG);
	free_fixture(&f);
	/* No .sdmagic and no override. */
	memset(&f, 0, sizeof(f));
	build_uki(&f, NULL, cmdline, false);
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, NULL, p), -EBADMSG);
	free_fixture(&f);
	/* Multi-profile UKI; non-ASCII command line. */
	memset(&f, 0, sizeof(f));
	build_uki(&f, SDMAGIC, cmdline, true);
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, NULL, p), -EOPNOTSUPP);
	free_fixture(&f);
	memset(&f, 0, sizeof(f));
	build_uki(&f, SDMAGIC, "quiet caf\xc3\xa9", false);
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, NULL, p), -EOPNOTSUPP);
	free_fixture(&f);
	/* Bad options. */
	memset(&f, 0, sizeof(f));
	build_uki(&f, SDMAGIC, cmdline, false);
	o = (struct cvm_predict_opts){ .n_banks = 2, .banks = { CVM_HASH_SHA256, CVM_HASH_SHA256 } };
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, p), -EINVAL);
	o = (struct cvm_predict_opts){ .failed_boot_options = CVM_PREDICT_MAX_FAILED_BOOTS + 1 };
	assert_int_equal(cvm_predict_image(f.uki, f.uki_len, &o, p), -EINVAL);
	/* A disk whose GPT has no ESP, or whose ESP lacks the file. */
	{
		size_t dlen;
		uint8_t *disk = make_disk(f.uki, f.uki_len, &dlen);
		disk[2048 * 512 + 510] ^= 0xff; /* break the FAT boot sector signature */
		assert_int_equal(cvm_predict_image(disk, dlen, NULL, p), -EBADMSG);
		disk[512 + 20] ^= 0xff;         /* break the GPT header CRC */
		assert_int_equal(cvm_predict_image(disk, dlen, NULL, p), -EBADMSG);
		free(disk);
	}
	free_fixture(&f);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test70_vector),
		cmocka_unit_test(load_options_vectors),
		cmocka_unit_test(pcr7_profile_vector),
		cmocka_unit_test(synthetic_disk_prediction),
		cmocka_unit_test(stub_version_parse),
		cmocka_unit_test(malformed_and_unmodelled),
	};
	return cmocka_run_group_tests_name("predict", tests, NULL, NULL);
}
