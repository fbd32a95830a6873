/* image/fat.c: FAT builder (checked with dosfstools and mtools) and reader
 * (checked on images made by mkfs.fat + mcopy). */
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
#include "testutil.h"

#define MIB (1024u * 1024u)

/* Deterministic filler (xorshift32) so data mismatches cannot hide in zeros. */
static uint8_t *pattern(size_t n, uint32_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed | 1;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static int have_tools(void)
{
	return tu_have_tools("fsck.fat mtype mkfs.fat", "dosfstools/mtools cross-check");
}

/* Runs cmd, returns its exit status; output (stdout+stderr) into out. */
static int capture(const char *cmd, char *out, size_t size)
{
	char full[2048];
	FILE *f;
	size_t n;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	f = popen(full, "r");
	assert_non_null(f);
	n = fread(out, 1, size - 1, f);
	out[n] = 0;
	return pclose(f);
}

static const char *fs_type(const uint8_t *img)
{
	static char t[9];
	/* FilSysType sits at 54 (FAT12/16) or 82 (FAT32) */
	memcpy(t, cvm_le16(img + 22) ? img + 54 : img + 82, 8);
	t[8] = 0;
	return t;
}

/* A 22 MiB ESP with a 15 MB UKI: fsck.fat is clean, mtools lists and reads
 * the file back byte-exactly, and our reader agrees. */
static void esp_checked_by_dosfstools_and_mtools(void **state)
{
	const size_t uki_len = 15 * 1000 * 1000 + 7;
	uint8_t *uki = pattern(uki_len, 1), *small = pattern(1000, 2), *img, *back;
	struct cvm_fat_file files[] = {
		{ "EFI/BOOT/BOOTX64.EFI", uki, uki_len },
		{ "EFI/LINUX/README.TXT", small, 1000 },
		{ "EMPTY", NULL, 0 },
	};
	char *dir, path[600], cmd[1400], out[16384];
	size_t len, blen;

	assert_int_equal(cvm_fat_build(22 * MIB, "CVMKIT ESP", 0x12345678, 1700000000, files, 3, &img, &len), 0);
	assert_int_equal(len, 22 * MIB);
	/* fatgen103: 45056 sectors -> FAT16 table row "<= 128 MiB: 4 sectors/cluster". */
	assert_string_equal(fs_type(img), "FAT16   ");
	assert_int_equal(img[13], 4);

	assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/BOOTX64.EFI", 64 * MIB, &back, &blen), 0);
	assert_int_equal(blen, uki_len);
	assert_memory_equal(back, uki, uki_len);
	free(back);
	assert_int_equal(cvm_fat_read_file(img, len, "efi/boot/bootx64.efi", 64 * MIB, &back, &blen), 0);
	free(back);
	assert_int_equal(cvm_fat_read_file(img, len, "EMPTY", 10, &back, &blen), 0);
	assert_int_equal(blen, 0);
	free(back);

	if (!have_tools()) {
		free(img);
		free(uki);
		free(small);
		skip();
		return;
	}
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/esp.img", dir);
	assert_int_equal(cvm_write_file_atomic(path, img, len, 0644), 0);

	snprintf(cmd, sizeof(cmd), "fsck.fat -n -v %s", path);
	assert_int_equal(capture(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "16 bit entries"));
	assert_non_null(strstr(out, "2048 bytes per cluster"));
	assert_null(strstr(out, "Free cluster summary wrong"));
	assert_null(strstr(out, "differ"));
	assert_null(strstr(out, "Dirty bit"));

	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mdir -i %s ::EFI/BOOT", path);
	assert_int_equal(capture(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "BOOTX64  EFI"));
	assert_non_null(strstr(out, "15000007"));
	/* 1700000000 = 2023-11-14 22:13:20 UTC */
	assert_non_null(strstr(out, "2023-11-14  22:13"));

	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mdir -i %s ::", path);
	assert_int_equal(capture(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Volume in drive : is CVMKIT ESP"));
	assert_non_null(strstr(out, "Volume Serial Number is 1234-5678"));

	snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mtype -i %s ::EFI/BOOT/BOOTX64.EFI > %s/out", path, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	back = tu_read(path, &blen);
	assert_int_equal(blen, uki_len);
	assert_memory_equal(back, uki, uki_len);
	free(back);

	tu_rmtree(dir);
	free(dir);
	free(img);
	free(uki);
	free(small);
}

/* Other sizes land on FAT12 and FAT32; fsck.fat accepts both. */
static void fat12_and_fat32_built(void **state)
{
	static const struct { uint64_t size; const char *type, *bits; } cases[] = {
		{ 2 * MIB, "FAT12   ", "12 bit entries" },
		{ 272 * MIB, "FAT32   ", "32 bit entries" },
	};
	uint8_t *data = pattern(300000, 3);
	struct cvm_fat_file files[] = {
		{ "EFI/BOOT/BOOTX64.EFI", data, 300000 },
		{ "A/B/C/D.TXT", data, 5 },
	};

	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		uint8_t *img, *back;
		size_t len, blen;
		char *dir, path[600], cmd[1400], out[16384];

		assert_int_equal(cvm_fat_build(cases[i].size, NULL, 1, 0, files, 2, &img, &len), 0);
		assert_string_equal(fs_type(img), cases[i].type);
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/BOOTX64.EFI", MIB, &back, &blen), 0);
		assert_int_equal(blen, 300000);
		assert_memory_equal(back, data, blen);
		free(back);
		assert_int_equal(cvm_fat_read_file(img, len, "/A/B/C/D.TXT", MIB, &back, &blen), 0);
		assert_int_equal(blen, 5);
		free(back);
		/* The writer lays each file out in one run: viewed in place. */
		{
			const uint8_t *v;
			size_t vlen;

			assert_int_equal(cvm_fat_view_file(img, len, "EFI/BOOT/BOOTX64.EFI", MIB, &v, &vlen), 0);
			assert_int_equal(vlen, 300000);
			assert_true(v > img && v + vlen <= img + len);
			assert_memory_equal(v, data, vlen);
			assert_int_equal(cvm_fat_view_file(img, len, "EFI/BOOT/BOOTX64.EFI", 1000, &v, &vlen), -EFBIG);
			assert_int_equal(cvm_fat_view_file(img, len, "EFI/BOOT/NOPE", MIB, &v, &vlen), -ENOENT);
		}
		if (have_tools()) {
			dir = tu_mkdtemp();
			snprintf(path, sizeof(path), "%s/esp.img", dir);
			assert_int_equal(cvm_write_file_atomic(path, img, len, 0644), 0);
			snprintf(cmd, sizeof(cmd), "fsck.fat -n -v %s", path);
			assert_int_equal(capture(cmd, out, sizeof(out)), 0);
			assert_non_null(strstr(out, cases[i].bits));
			assert_null(strstr(out, "Free cluster summary wrong"));
			snprintf(cmd, sizeof(cmd), "MTOOLS_SKIP_CHECK=1 mtype -i %s ::A/B/C/D.TXT", path);
			assert_int_equal(capture(cmd, out, sizeof(out)), 0);
			assert_memory_equal(out, data, 5);
			tu_rmtree(dir);
			free(dir);
		}
		free(img);
	}
	free(data);
}

static void deterministic(void **state)
{
	uint8_t *data = pattern(5000, 4), *a, *b, *c;
	struct cvm_fat_file files[] = { { "EFI/BOOT/BOOTX64.EFI", data, 5000 } };
	size_t la, lb, lc;

	assert_int_equal(cvm_fat_build(4 * MIB, "X", 7, 1700000000, files, 1, &a, &la), 0);
	assert_int_equal(cvm_fat_build(4 * MIB, "X", 7, 1700000000, files, 1, &b, &lb), 0);
	assert_int_equal(cvm_fat_build(4 * MIB, "X", 7, 1700000002, files, 1, &c, &lc), 0);
	assert_memory_equal(a, b, la);
	assert_memory_not_equal(a, c, la);
	free(a);
	free(b);
	free(c);
	free(data);
}

/* Timestamps: find the entry by name and decode the fields by hand. */
static void timestamps(void **state)
{
	static const struct { int64_t t; uint16_t date, time; uint8_t tenth; } cases[] = {
		/* 2023-11-14 22:13:20: (43<<9)|(11<<5)|14, (22<<11)|(13<<5)|10 */
		{ 1700000000, 0x576e, 0xb1aa, 0 },
		/* 2023-11-14 22:13:21: odd second -> tenth 100 */
		{ 1700000001, 0x576e, 0xb1aa, 100 },
		/* before 1980 clamps to 1980-01-01 00:00:00: (0<<9)|(1<<5)|1 */
		{ 0, 0x0021, 0, 0 },
		/* 2000-02-29 12:00:00 = 951825600: (20<<9)|(2<<5)|29 = 0x285d, 12<<11 */
		{ 951825600, 0x285d, 0x6000, 0 },
		/* far future clamps to 2107-12-31 23:59:58: (127<<9)|(12<<5)|31, (23<<11)|(59<<5)|29 */
		{ INT64_MAX, 0xff9f, 0xbf7d, 100 },
	};
	uint8_t data[1] = { 'x' };
	struct cvm_fat_file files[] = { { "TIME.TXT", data, 1 } };

	for (size_t i = 0; i < CVM_ARRAY_SIZE(cases); i++) {
		uint8_t *img, *e;
		size_t len;

		assert_int_equal(cvm_fat_build(MIB, NULL, 0, cases[i].t, files, 1, &img, &len), 0);
		e = memmem(img, len, "TIME    TXT", 11);
		assert_non_null(e);
		assert_int_equal(e[11], 0x20);
		assert_int_equal(cvm_le16(e + 24), cases[i].date);
		assert_int_equal(cvm_le16(e + 22), cases[i].time);
		assert_int_equal(cvm_le16(e + 16), cases[i].date);
		assert_int_equal(cvm_le16(e + 14), cases[i].time);
		assert_int_equal(cvm_le16(e + 18), cases[i].date);
		assert_int_equal(e[13], cases[i].tenth);
		assert_int_equal(cvm_le32(e + 28), 1);
		free(img);
	}
}

static void build_rejects(void **state)
{
	uint8_t d[4] = { 0 }, *img = (uint8_t *)0x1;
	size_t len = 99;
	struct cvm_fat_file f;
	static const char *bad_paths[] = {
		"efi/boot/bootx64.efi", "EFI/BOOT/BOOTX64.EFIX", "EFI/BOOT/VERYLONGNAME.EFI", "EFI//X",
		"/EFI/X", "EFI/", "", "A.B.C", ".", "EFI/BOOT/BOOT X64.EFI", "X.",
	};

	for (size_t i = 0; i < CVM_ARRAY_SIZE(bad_paths); i++) {
		f = (struct cvm_fat_file){ bad_paths[i], d, 4 };
		assert_int_equal(cvm_fat_build(MIB, NULL, 0, 0, &f, 1, &img, &len), -EINVAL);
	}
	f = (struct cvm_fat_file){ "X", d, 4 };
	assert_int_equal(cvm_fat_build(MIB + 1, NULL, 0, 0, &f, 1, &img, &len), -EINVAL);
	assert_int_equal(cvm_fat_build(512, NULL, 0, 0, &f, 1, &img, &len), -EINVAL);
	assert_int_equal(cvm_fat_build(MIB, "lower", 0, 0, &f, 1, &img, &len), -EINVAL);
	assert_int_equal(cvm_fat_build(MIB, "TWELVECHARSX", 0, 0, &f, 1, &img, &len), -EINVAL);
	{
		struct cvm_fat_file two[] = { { "A/B", d, 4 }, { "A/B", d, 4 } };
		assert_int_equal(cvm_fat_build(MIB, NULL, 0, 0, two, 2, &img, &len), -EINVAL);
	}
	{
		struct cvm_fat_file two[] = { { "A", d, 4 }, { "A/B", d, 4 } };
		assert_int_equal(cvm_fat_build(MIB, NULL, 0, 0, two, 2, &img, &len), -EINVAL);
	}
	/* Too big for the volume. */
	{
		uint8_t *big = calloc(1, 2 * MIB);
		assert_non_null(big);
		f = (struct cvm_fat_file){ "BIG", big, 2 * MIB };
		assert_int_equal(cvm_fat_build(2 * MIB, NULL, 0, 0, &f, 1, &img, &len), -ENOSPC);
		free(big);
	}
	/* 513 entries do not fit a FAT16 root of 512. */
	{
		struct cvm_fat_file *many = calloc(513, sizeof(*many));
		char (*names)[12] = calloc(513, 12);
		assert_non_null(many);
		assert_non_null(names);
		for (int i = 0; i < 513; i++) {
			snprintf(names[i], 12, "F%d", i);
			many[i] = (struct cvm_fat_file){ names[i], d, 1 };
		}
		assert_int_equal(cvm_fat_build(8 * MIB, NULL, 0, 0, many, 513, &img, &len), -ENOSPC);
		assert_int_equal(cvm_fat_build(8 * MIB, NULL, 0, 0, many, 512, &img, &len), 0);
		free(img);
		img = (uint8_t *)0x1;
		len = 99;
		assert_int_equal(cvm_fat_build(8 * MIB, "L", 0, 0, many, 512, &img, &len), -ENOSPC);
		free(names);
		free(many);
	}
	/* Outputs untouched by failures. */
	assert_ptr_equal(img, (uint8_t *)0x1);
	assert_int_equal(len, 99);
}

/* Images made by mkfs.fat + mcopy (lower-case and long names get LFN
 * entries): FAT12, FAT16 and FAT32. */
static void reads_mkfs_fat_images(void **state)
{
	static const struct { const char *opts; unsigned kib; } fs[] = {
		{ "-F 12", 2048 }, { "-F 16", 32768 }, { "-F 32 -s 1", 70000 },
	};
	uint8_t *data = pattern(123457, 5);
	char *dir, path[300], src[300], cmd[8192];

	if (!have_tools()) {
		free(data);
		skip();
		return;
	}
	dir = tu_mkdtemp();
	snprintf(src, sizeof(src), "%s/src", dir);
	assert_int_equal(cvm_write_file_atomic(src, data, 123457, 0644), 0);
	for (size_t i = 0; i < CVM_ARRAY_SIZE(fs); i++) {
		uint8_t *img, *back;
		size_t len, blen;

		snprintf(path, sizeof(path), "%s/fs%zu.img", dir, i);
		snprintf(cmd, sizeof(cmd),
			 "mkfs.fat -C %s -i 0 %s %u >/dev/null && export MTOOLS_SKIP_CHECK=1 && "
			 "mmd -i %s ::efi ::efi/boot ::Deep ::Deep/Er && "
			 "mcopy -i %s %s ::efi/boot/bootx64.efi && "
			 "mcopy -i %s %s '::efi/A Long File Name.data' && "
			 "mcopy -i %s %s ::Deep/Er/Mixed.Case && "
			 "mdel -i %s ::efi/boot/bootx64.efi && mcopy -i %s %s ::efi/boot/bootx64.efi && "
			 /* a hole before another file: the next file starts in it and continues after */
			 "head -c 2000 %s > %s.small && mcopy -i %s %s.small ::hole && mcopy -i %s %s.small ::keep && "
			 "mdel -i %s ::hole && mcopy -i %s %s ::frag.bin",
			 fs[i].opts, path, fs[i].kib, path, path, src, path, src, path, src, path, path, src,
			 src, src, path, src, path, src, path, path, src);
		assert_int_equal(system(cmd), 0);
		img = tu_read(path, &len);

		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/BOOTX64.EFI", MIB, &back, &blen), 0);
		assert_int_equal(blen, 123457);
		assert_memory_equal(back, data, blen);
		free(back);
		assert_int_equal(cvm_fat_read_file(img, len, "efi/A Long File Name.data", MIB, &back, &blen), 0);
		assert_int_equal(blen, 123457);
		assert_memory_equal(back, data, blen);
		free(back);
		/* mtools wrote this one in one run; frag.bin starts in a hole. */
		{
			const uint8_t *v;
			size_t vlen;
			int r;

			assert_int_equal(cvm_fat_view_file(img, len, "efi/A Long File Name.data", MIB, &v, &vlen), 0);
			assert_int_equal(vlen, 123457);
			assert_memory_equal(v, data, vlen);
			/* (FAT32's next-free hint makes mtools skip the hole there) */
			r = cvm_fat_view_file(img, len, "frag.bin", MIB, &v, &vlen);
			if (i < 2)
				assert_int_equal(r, -ENODATA);
			else if (r == 0)
				assert_memory_equal(v, data, 123457);
			assert_int_equal(cvm_fat_read_file(img, len, "frag.bin", MIB, &back, &blen), 0);
			assert_int_equal(blen, 123457);
			assert_memory_equal(back, data, blen);
			free(back);
		}
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/a long file NAME.DATA", MIB, &back, &blen), 0);
		free(back);
		assert_int_equal(cvm_fat_read_file(img, len, "deep/er/mixed.case", MIB, &back, &blen), 0);
		assert_memory_equal(back, data, blen);
		free(back);
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/BOOTX64.EFI", 1000, &back, &blen), -EFBIG);
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/MISSING.EFI", MIB, &back, &blen), -ENOENT);
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT", MIB, &back, &blen), -EISDIR);
		assert_int_equal(cvm_fat_read_file(img, len, "EFI/BOOT/BOOTX64.EFI/X", MIB, &back, &blen), -ENOENT);
		assert_int_equal(cvm_fat_read_file(img, len, "", MIB, &back, &blen), -EINVAL);
		free(img);
	}
	tu_rmtree(dir);
	free(dir);
	free(data);
}

/* Named corruptions of a small FAT16 image we build. */
static void reader_rejects_malformed(void **state)
{
	uint8_t *data = pattern(10000, 6), *img, *orig, *back = NULL, *e;
	struct cvm_fat_file files[] = { { "EFI/BOOT/BOOTX64.EFI", data, 10000 } };
	const char *p = "EFI/BOOT/BOOTX64.EFI";
	size_t len, blen = 5;
	uint32_t clus, fat_off;

	assert_int_equal(cvm_fat_build(20 * MIB, NULL, 0, 0, files, 1, &img, &len), 0);
	orig = malloc(len);
	assert_non_null(orig);
	memcpy(orig, img, len);
	e = memmem(img, len, "BOOTX64 EFI", 11);
	assert_non_null(e);
	clus = cvm_le16(e + 26);
	fat_off = cvm_le16(img + 14) * 512u;
#define RESTORE() memcpy(img, orig, len)
	/* boot signature */
	img[510] = 0;
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* bytes per sector 0, sectors per cluster 3 */
	cvm_put_le16(img + 11, 0);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	img[13] = 3;
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* FAT larger than the image */
	cvm_put_le16(img + 22, 0xffff);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* chain loops back on itself (the 10000-byte file needs 5 clusters of 2 KiB) */
	cvm_put_le16(img + fat_off + 2 * (clus + 1), (uint16_t)clus);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* chain runs into a free entry, past the cluster count, and ends early */
	cvm_put_le16(img + fat_off + 2 * clus, 0);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	cvm_put_le16(img + fat_off + 2 * clus, 0xfff0);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	cvm_put_le16(img + fat_off + 2 * clus, 0xffff);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* first cluster out of range */
	cvm_put_le16(e + 26, 0xfff0);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -EBADMSG);
	RESTORE();
	/* size bigger than the image */
	cvm_put_le32(e + 28, 0x7fffffff);
	assert_int_equal(cvm_fat_read_file(img, len, p, UINT32_MAX, &back, &blen), -EBADMSG);
	RESTORE();
	/* truncated: the file's clusters are past the end */
	assert_int_equal(cvm_fat_read_file(img, (size_t)(e - img) + 512, p, MIB, &back, &blen), -EBADMSG);
	assert_int_equal(cvm_fat_read_file(img, 100, p, MIB, &back, &blen), -EBADMSG);
	/* a file where a directory is expected */
	e[11] = 0x20;
	e = memmem(img, len, "BOOT       ", 11);
	assert_non_null(e);
	e[11] = 0x20;
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), -ENOENT);
	RESTORE();
	assert_null(back);
	assert_int_equal(blen, 5);
	assert_int_equal(cvm_fat_read_file(img, len, p, MIB, &back, &blen), 0);
	assert_memory_equal(back, data, 10000);
	free(back);
#undef RESTORE
	free(orig);
	free(img);
	free(data);
}

/* A long-name entry with ordinal 0 after a complete sequence (found by
 * bench/fuzz.sh): the reader stored its 13 characters at lfn[-13], over the
 * lookup's own fields.  It must end the long name instead; the short name
 * still finds the file. */
static void lfn_ordinal_zero(void **state)
{
	static const uint8_t offs[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
	static const char lname[] = "Long name.txt";
	uint8_t d[4] = { 1, 2, 3, 4 }, *img, *back, *e1, *e2, *t, sum = 0;
	struct cvm_fat_file files[] = { { "X1", d, 1 }, { "X2", d, 2 }, { "T.TXT", d, 4 } };
	size_t len, blen;

	(void)state;
	assert_int_equal(cvm_fat_build(MIB, NULL, 0, 0, files, 3, &img, &len), 0);
	e1 = memmem(img, len, "X1         ", 11);
	e2 = memmem(img, len, "X2         ", 11);
	t = memmem(img, len, "T       TXT", 11);
	assert_non_null(e1);
	assert_true(e2 == e1 + 32 && t == e2 + 32);
	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + t[i]);
	/* The one-entry long name of T.TXT, in X2's slot first. */
	memset(e1, 0xff, 32);
	e1[0] = 0x41;
	e1[11] = 0x0f;
	e1[12] = 0;
	e1[13] = sum;
	cvm_put_le16(e1 + 26, 0);
	for (int k = 0; k < 13; k++)
		cvm_put_le16(e1 + offs[k], (uint8_t)lname[k]);
	memcpy(e2, e1, 32);
	assert_int_equal(cvm_fat_read_file(img, len, "long NAME.txt", MIB, &back, &blen), 0);
	assert_int_equal(blen, 4);
	free(back);
	/* Moved to X1's slot, followed by a long-name entry with ordinal 0 and
	 * the right checksum. */
	e2[0] = 0x20;
	assert_int_equal(cvm_fat_read_file(img, len, "Long name.txt", MIB, &back, &blen), -ENOENT);
	assert_int_equal(cvm_fat_read_file(img, len, "T.TXT", MIB, &back, &blen), 0);
	assert_int_equal(blen, 4);
	free(back);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(esp_checked_by_dosfstools_and_mtools),
		cmocka_unit_test(fat12_and_fat32_built),
		cmocka_unit_test(deterministic),
		cmocka_unit_test(timestamps),
		cmocka_unit_test(build_rejects),
		cmocka_unit_test(reads_mkfs_fat_images),
		cmocka_unit_test(reader_rejects_malformed),
		cmocka_unit_test(lfn_ordinal_zero),
	};
	return cmocka_run_group_tests_name("fat", tests, NULL, NULL);
}
