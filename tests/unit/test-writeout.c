/* image/writeout.c: sparse, all-or-nothing artifact writer.  The expected
 * bytes are the buffers given; holes are checked with the kernel's own
 * SEEK_HOLE/SEEK_DATA and st_blocks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/writeout.h"
#include "testutil.h"

#define MIB (1024u * 1024u)

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A 4 MiB "disk": data at the start, one odd byte in the middle, data at the
 * end, zeros elsewhere; the "VHD" is the same buffer plus a 512-byte tail. */
static uint8_t *make_disk(size_t *ret_len)
{
	size_t len = 4 * MIB;
	uint8_t *d = calloc(1, len);

	assert_non_null(d);
	memset(d, 0xA5, 10000);
	d[2 * MIB + 123] = 1;
	memset(d + len - 8192, 0x5A, 8192);
	*ret_len = len;
	return d;
}

static void sparse_pair_reads_back(void **state)
{
	char *dir = tu_mkdtemp(), raw[600], vhd[600];
	uint8_t tail[512], *disk, *back;
	size_t len, blen;
	struct stat st;
	int fd;

	disk = make_disk(&len);
	memset(tail, 0xEE, sizeof(tail));
	snprintf(raw, sizeof(raw), "%s/disk.raw", dir);
	snprintf(vhd, sizeof(vhd), "%s/disk.vhd", dir);
	struct cvm_file_out outs[] = {
		{ raw, disk, len, NULL, 0 },
		{ vhd, disk, len, tail, sizeof(tail) },
	};
	assert_int_equal(cvm_write_files_atomic(outs, 2, 0640), 0);

	back = tu_read(raw, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(back, disk, len);
	free(back);
	back = tu_read(vhd, &blen);
	assert_int_equal(blen, len + sizeof(tail));
	assert_memory_equal(back, disk, len);
	assert_memory_equal(back + len, tail, sizeof(tail));
	free(back);

	assert_int_equal(stat(raw, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* Holes (ext4, XFS, btrfs, tmpfs): far fewer blocks than bytes, and the
	 * kernel reports a hole right after the first data run. */
	assert_true((uint64_t)st.st_blocks * 512 < len / 2);
	fd = open(raw, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_HOLE), 12288);
	assert_int_equal(lseek(fd, 12288, SEEK_DATA), 2 * MIB);
	close(fd);
	assert_int_equal(count_entries(dir), 2);
	free(disk);
	tu_rmtree(dir);
	free(dir);
}

/* One unwritable file: nothing is renamed, no temporary is left, and the
 * files already there keep their bytes. */
static void all_or_nothing(void **state)
{
	char *dir = tu_mkdtemp(), a[600], b[600];
	uint8_t *back;
	size_t blen;
	static const uint8_t data[] = "new contents";

	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/missing/b", dir);
	{
		struct cvm_file_out old[] = { { a, (const uint8_t *)"old", 3, NULL, 0 } };
		assert_int_equal(cvm_write_files_atomic(old, 1, 0644), 0);
	}
	struct cvm_file_out outs[] = {
		{ a, data, sizeof(data), NULL, 0 },
		{ b, data, sizeof(data), NULL, 0 },
	};
	assert_int_equal(cvm_write_files_atomic(outs, 2, 0644), -ENOENT);
	back = tu_read(a, &blen);
	assert_int_equal(blen, 3);
	assert_memory_equal(back, "old", 3);
	free(back);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(cvm_write_files_atomic(outs, CVM_WRITEOUT_MAX + 1, 0644), -E2BIG);
	tu_rmtree(dir);
	free(dir);
}

/* Sizes that are not a multiple of the block size, all-zero data, empty files. */
static void odd_sizes(void **state)
{
	char *dir = tu_mkdtemp(), p[3][600];
	uint8_t buf[5000] = { 0 }, *back;
	size_t blen;
	static const uint8_t tail[3] = { 1, 2, 3 };

	buf[4999] = 7;
	for (int i = 0; i < 3; i++)
		snprintf(p[i], sizeof(p[i]), "%s/f%d", dir, i);
	struct cvm_file_out outs[] = {
		{ p[0], buf, sizeof(buf), tail, sizeof(tail) },
		{ p[1], buf, 4096, NULL, 0 }, /* zeros only: a file that is all hole */
		{ p[2], buf, 0, NULL, 0 },
	};
	assert_int_equal(cvm_write_files_atomic(outs, 3, 0644), 0);
	back = tu_read(p[0], &blen);
	assert_int_equal(blen, sizeof(buf) + 3);
	assert_memory_equal(back, buf, sizeof(buf));
	assert_memory_equal(back + sizeof(buf), tail, 3);
	free(back);
	back = tu_read(p[1], &blen);
	assert_int_equal(blen, 4096);
	assert_memory_equal(back, buf, 4096);
	free(back);
	back = tu_read(p[2], &blen);
	assert_int_equal(blen, 0);
	free(back);
	tu_rmtree(dir);
	free(dir);
}

/* Replacing a big file: the new bytes are in place when the call returns,
 * the old inode is never written to (a reader holding it open keeps its
 * bytes), and its extra name, and a leftover one, are gone soon after. */
static void replace_big_file(void **state)
{
	char *dir = tu_mkdtemp(), a[600], stale[600];
	size_t len = 2 * MIB, blen;
	uint8_t *x = malloc(len), *y = malloc(len), *back;
	int fd;

	memset(x, 'x', len);
	memset(y, 'y', len);
	snprintf(a, sizeof(a), "%s/disk.raw", dir);
	snprintf(stale, sizeof(stale), "%s/.disk.raw.old", dir);
	{
		struct cvm_file_out o[] = { { a, x, len, NULL, 0 } };
		assert_int_equal(cvm_write_files_atomic(o, 1, 0644), 0);
	}
	fd = open(a, O_RDONLY);
	assert_true(fd >= 0);
	{
		struct cvm_file_out o[] = { { stale, (const uint8_t *)"left over", 9, NULL, 0 } };
		assert_int_equal(cvm_write_files_atomic(o, 1, 0644), 0);
	}
	{
		struct cvm_file_out o[] = { { a, y, len, NULL, 0 } };
		assert_int_equal(cvm_write_files_atomic(o, 1, 0644), 0);
	}
	back = tu_read(a, &blen);
	assert_int_equal(blen, len);
	assert_memory_equal(back, y, len);
	free(back);
	back = malloc(len);
	assert_int_equal(pread(fd, back, len, 0), (ssize_t)len);
	assert_memory_equal(back, x, len);
	free(back);
	close(fd);
	for (int i = 0; i < 500 && count_entries(dir) != 1; i++)
		usleep(10000);
	assert_int_equal(count_entries(dir), 1);
	free(x);
	free(y);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sparse_pair_reads_back),
		cmocka_unit_test(all_or_nothing),
		cmocka_unit_test(odd_sizes),
		cmocka_unit_test(replace_big_file),
	};
	return cmocka_run_group_tests_name("writeout", tests, NULL, NULL);
}
