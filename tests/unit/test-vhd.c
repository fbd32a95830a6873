/* image/vhd.c: fixed-VHD footer writer and reader. */
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
#include "cvmkit/fileio.h"
#include "cvmkit/vhd.h"
#include "testutil.h"

#define MIB (1024ull * 1024)

static const uint8_t test_uuid[16] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
				       0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

/* Expected CHS values, worked by hand through the algorithm in the VHD
 * specification (Appendix "CHS Calculation"):
 *   1 MiB = 2048 sectors: spt 17, cth = 2048/17 = 120, heads = (120+1023)/1024 = 1 -> 4;
 *     cth < 4*1024, so C = 120/4 = 30, H 4, S 17.
 *   24 MiB = 49152: cth = 2891, heads = 3914/1024 = 3 -> 4; C = 2891/4 = 722.
 *   64 MiB = 131072: cth = 7710, heads = 8733/1024 = 8; 7710 < 8192; C = 7710/8 = 963.
 *   1 GiB = 2097152: cth = 123361, heads = 121 > 16 -> spt 31, heads 16, cth = 67650
 *     >= 16384 -> spt 63, cth = 33288; C = 33288/16 = 2080.
 *   40 GiB = 83886080 >= 65535*16*63 = 66059280 -> spt 255, heads 16,
 *     cth = 83886080/255 = 328965; C = 328965/16 = 20560.
 *   200 GiB is clamped to 65535*16*255 sectors: cth = 1048560, C = 65535. */
static void chs_worked_examples(void **state)
{
	static const struct { uint64_t size; uint16_t c; uint8_t h, s; } cases[] = {
		{ 1 * MIB, 30, 4, 17 },      { 24 * MIB, 722, 4, 17 },     { 64 * MIB, 963, 8, 17 },
		{ 1024 * MIB, 2080, 16, 63 }, { 40960 * MIB, 20560, 16, 255 }, { 204800 * MIB, 65535, 16, 255 },
	};

	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		uint8_t f[512];
		uint16_t c;
		uint8_t h, s;

		cvm_vhd_chs(cases[i].size, &c, &h, &s);
		assert_int_equal(c, cases[i].c);
		assert_int_equal(h, cases[i].h);
		assert_int_equal(s, cases[i].s);
		assert_int_equal(cvm_vhd_footer(cases[i].size, test_uuid, 0, f), 0);
		assert_int_equal(cvm_be16(f + 56), cases[i].c);
		assert_int_equal(f[58], cases[i].h);
		assert_int_equal(f[59], cases[i].s);
	}
}

/* Field by field against the specification's table (big-endian). */
static void footer_layout(void **state)
{
	uint8_t f[512];
	uint32_t sum = 0;

	assert_int_equal(cvm_vhd_footer(24 * MIB, test_uuid, 1700000000, f), 0);
	assert_memory_equal(f, "conectix", 8);
	assert_int_equal(cvm_be32(f + 8), 2);
	assert_int_equal(cvm_be32(f + 12), 0x00010000);
	assert_true(cvm_be64(f + 16) == UINT64_MAX);
	/* 1700000000 - 946684800 = 753315200 */
	assert_int_equal(cvm_be32(f + 24), 753315200u);
	assert_memory_equal(f + 28, "cvmk", 4);
	assert_memory_equal(f + 36, "Wi2k", 4);
	assert_true(cvm_be64(f + 40) == 24 * MIB);
	assert_true(cvm_be64(f + 48) == 24 * MIB);
	assert_int_equal(cvm_be32(f + 60), 2);
	assert_memory_equal(f + 68, test_uuid, 16);
	assert_int_equal(f[84], 0);
	for (size_t i = 85; i < 512; i++)
		assert_int_equal(f[i], 0);
	/* Checksum = one's complement of the byte sum with the field itself excluded. */
	for (size_t i = 0; i < 512; i++)
		if (i < 64 || i >= 68)
			sum += f[i];
	assert_int_equal(cvm_be32(f + 64), (uint32_t)~sum);
}

static void timestamp_clamped(void **state)
{
	uint8_t f[512];

	assert_int_equal(cvm_vhd_footer(MIB, test_uuid, 946684800, f), 0);
	assert_int_equal(cvm_be32(f + 24), 0);
	assert_int_equal(cvm_vhd_footer(MIB, test_uuid, 0, f), 0);
	assert_int_equal(cvm_be32(f + 24), 0);
	assert_int_equal(cvm_vhd_footer(MIB, test_uuid, -5, f), 0);
	assert_int_equal(cvm_be32(f + 24), 0);
	assert_int_equal(cvm_vhd_footer(MIB, test_uuid, 946684801, f), 0);
	assert_int_equal(cvm_be32(f + 24), 1);
	assert_int_equal(cvm_vhd_footer(MIB, test_uuid, INT64_MAX, f), 0);
	assert_int_equal(cvm_be32(f + 24), UINT32_MAX);
}

static void footer_rejects_bad_size(void **state)
{
	uint8_t f[512], before[512];

	memset(f, 0xa5, sizeof(f));
	memcpy(before, f, sizeof(f));
	assert_int_equal(cvm_vhd_footer(0, test_uuid, 0, f), -EINVAL);
	assert_int_equal(cvm_vhd_footer(MIB + 512, test_uuid, 0, f), -EINVAL);
	assert_int_equal(cvm_vhd_footer(MIB - 512, test_uuid, 0, f), -EINVAL);
	assert_memory_equal(f, before, sizeof(f));
}

static uint8_t *make_vhd(uint64_t size, size_t *ret_len)
{
	uint8_t *buf = calloc(1, size + 512);

	assert_non_null(buf);
	for (uint64_t i = 0; i < size; i += 4096)
		buf[i] = (uint8_t)(i >> 12);
	assert_int_equal(cvm_vhd_footer(size, test_uuid, 1700000000, buf + size), 0);
	*ret_len = size + 512;
	return buf;
}

static void parse_roundtrip_and_corruptions(void **state)
{
	struct cvm_vhd_info info, untouched;
	size_t len;
	uint8_t *v = make_vhd(2 * MIB, &len);

	assert_int_equal(cvm_vhd_parse(v, len, &info), 0);
	assert_true(info.current_size == 2 * MIB);
	assert_true(info.original_size == 2 * MIB);
	assert_int_equal(info.disk_type, 2);
	assert_int_equal(info.timestamp, 753315200u);
	/* 4096 sectors: cth = 240, heads = 1 -> 4, C = 60. */
	assert_int_equal(info.cyl, 60);
	assert_int_equal(info.heads, 4);
	assert_int_equal(info.spt, 17);
	assert_memory_equal(info.uuid, test_uuid, 16);

	memset(&untouched, 0x5a, sizeof(untouched));
	info = untouched;
	/* Cookie */
	v[len - 512] ^= 1;
	assert_int_equal(cvm_vhd_parse(v, len, &info), -EBADMSG);
	v[len - 512] ^= 1;
	/* Checksum field itself */
	v[len - 512 + 67] ^= 0x80;
	assert_int_equal(cvm_vhd_parse(v, len, &info), -EBADMSG);
	v[len - 512 + 67] ^= 0x80;
	/* A covered byte (uuid) */
	v[len - 512 + 70] ^= 0x01;
	assert_int_equal(cvm_vhd_parse(v, len, &info), -EBADMSG);
	v[len - 512 + 70] ^= 0x01;
	assert_memory_equal(&info, &untouched, sizeof(info));
	/* Truncated file: the footer is no longer at the end. */
	assert_int_equal(cvm_vhd_parse(v, len - 1, &info), -EBADMSG);
	assert_int_equal(cvm_vhd_parse(v, 511, &info), -EBADMSG);
	assert_int_equal(cvm_vhd_parse(v, 0, &info), -EBADMSG);
	/* Only the footer: current_size disagrees with the file. */
	assert_int_equal(cvm_vhd_parse(v + len - 512, 512, &info), -EBADMSG);
	assert_int_equal(cvm_vhd_parse(v, len, &info), 0);
	free(v);
}

/* A correctly checksummed footer with a wrong field must still be refused. */
static void parse_rejects_semantics(void **state)
{
	struct cvm_vhd_info info;
	size_t len;
	uint8_t *v = make_vhd(MIB, &len);
	uint8_t *f = v + len - 512;
	uint8_t saved[512];

	memcpy(saved, f, 512);
	cvm_put_be32(f + 60, 3); /* dynamic */
	cvm_put_be32(f + 64, 0);
	{
		uint32_t sum = 0;
		for (size_t i = 0; i < 512; i++)
			sum += f[i];
		cvm_put_be32(f + 64, ~sum);
	}
	assert_int_equal(cvm_vhd_parse(v, len, &info), -EBADMSG);
	memcpy(f, saved, 512);

	/* A 1 MiB + 512 disk with a self-consistent footer: not Azure-aligned. */
	{
		uint8_t *w = calloc(1, MIB + 1024);
		uint32_t sum = 0;
		assert_non_null(w);
		memcpy(w + MIB + 512, saved, 512);
		cvm_put_be64(w + MIB + 512 + 48, MIB + 512);
		cvm_put_be32(w + MIB + 512 + 64, 0);
		for (size_t i = 0; i < 512; i++)
			sum += w[MIB + 512 + i];
		cvm_put_be32(w + MIB + 512 + 64, ~sum);
		assert_int_equal(cvm_vhd_parse(w, MIB + 1024, &info), -EBADMSG);
		free(w);
	}
	free(v);
}

/* qemu-img (an independent VHD reader) must see a fixed vpc image of the right size. */
static void qemu_img_agrees(void **state)
{
	char *dir, path[600], cmd[1400], out[4096];
	size_t len, n;
	uint8_t *v;
	FILE *p;

	if (!tu_have_tools("qemu-img", "qemu-img cross-check")) {
		skip();
		return;
	}
	dir = tu_mkdtemp();
	v = make_vhd(24 * MIB, &len);
	snprintf(path, sizeof(path), "%s/disk.vhd", dir);
	assert_int_equal(cvm_write_file_atomic(path, v, len, 0644), 0);
	/* qemu sizes vpc images by CHS unless told to trust current_size, as Azure does. */
	snprintf(cmd, sizeof(cmd),
		 "qemu-img info --output=json --image-opts driver=vpc,force_size_calc=current_size,file.filename=%s 2>&1",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "\"virtual-size\": 25165824"));
	assert_non_null(strstr(out, "\"format\": \"vpc\""));
	assert_null(strstr(out, "checksum"));
	free(v);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chs_worked_examples),
		cmocka_unit_test(footer_layout),
		cmocka_unit_test(timestamp_clamped),
		cmocka_unit_test(footer_rejects_bad_size),
		cmocka_unit_test(parse_roundtrip_and_corruptions),
		cmocka_unit_test(parse_rejects_semantics),
		cmocka_unit_test(qemu_img_agrees),
	};
	return cmocka_run_group_tests_name("vhd", tests, NULL, NULL);
}
