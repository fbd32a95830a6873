/* image/cpio.c: newc writer, systemd-stub's .extra archive, tree archiver, parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/cpio.h"
#include "cvmkit/fileio.h"
#include "testutil.h"

#define Z8 "00000000"

/* Derived by hand from systemd src/boot/efi/cpio.c (pack_cpio_dir, pack_cpio_one,
 * pack_cpio_trailer) for pack_cpio_literal("ID=debian\n", ".extra", u"os-release",
 * 0555, 0444): ".extra" dir ino 1 mode 040555 = 0x416d, file ino 2 mode 0100444 =
 * 0x8124, namesizes 7 and 18, trailer namesize "0000000B". */
static const char stub_osrel[] =
	"070701" "00000001" "0000416d" Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "00000007" Z8
	".extra\0" "\0\0\0"
	"070701" "00000002" "00008124" Z8 Z8 "00000001" Z8 "0000000a" Z8 Z8 Z8 Z8 "00000012" Z8
	".extra/os-release\0"
	"ID=debian\n" "\0\0"
	"070701" Z8 Z8 Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "0000000B" Z8
	"TRAILER!!!\0" "\0\0\0";

static const char trailer_lower[] =
	"070701" Z8 Z8 Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "0000000b" Z8 "TRAILER!!!\0\0\0\0";

static void stub_extra_exact(void **state)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(sizeof(stub_osrel) - 1, 120 + 128 + 12 + 124);
	assert_int_equal(cvm_cpio_stub_extra(".extra", "os-release", 0444, (const uint8_t *)"ID=debian\n", 10, &buf, &len), 0);
	assert_int_equal(len, sizeof(stub_osrel) - 1);
	assert_memory_equal(buf, stub_osrel, len);
	/* The trailer alone is the 124 bytes the stub's static string holds. */
	assert_memory_equal(buf + len - 124, stub_osrel + sizeof(stub_osrel) - 1 - 124, 124);
	free(buf);
}

static void stub_extra_nested_and_empty(void **state)
{
	static const char want[] =
		"070701" "00000001" "0000416d" Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "00000002" Z8 "a\0"
		"070701" "00000002" "0000416d" Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "00000004" Z8 "a/b\0" "\0\0"
		"070701" "00000003" "00008124" Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "00000008" Z8 "a/b/ccc\0" "\0\0"
		"070701" Z8 Z8 Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "0000000B" Z8 "TRAILER!!!\0\0\0\0";
	uint8_t *buf;
	size_t len;

	assert_int_equal(cvm_cpio_stub_extra("a/b", "ccc", 0444, NULL, 0, &buf, &len), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(buf, want, len);
	free(buf);
	assert_int_equal(cvm_cpio_stub_extra("/a", "x", 0444, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(cvm_cpio_stub_extra("a//b", "x", 0444, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(cvm_cpio_stub_extra("a/", "x", 0444, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(cvm_cpio_stub_extra("a", "x/y", 0444, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(cvm_cpio_stub_extra("", "x", 0444, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(cvm_cpio_stub_extra("a", "x", 0444, NULL, 3, &buf, &len), -EINVAL);
}

static void writer_layout(void **state)
{
	static const char want[] =
		"070701" "00000001" "000081ed" "00000003" "00000004" "00000001" "5f5e1000" "00000005"
		"00000008" "00000009" "0000000a" "0000000b" "00000005" Z8 "init\0" "\0"
		"hello" "\0\0\0"
		"070701" "0000002a" "0000a1ff" Z8 Z8 "00000001" Z8 "00000004" Z8 Z8 Z8 Z8 "00000004" Z8
		"bin\0" "\0\0" "init"
		"070701" "00000002" "000041c0" Z8 Z8 "00000002" Z8 Z8 Z8 Z8 Z8 Z8 "00000002" Z8 "d\0"
		"070701" Z8 Z8 Z8 Z8 "00000001" Z8 Z8 Z8 Z8 Z8 Z8 "0000000b" Z8 "TRAILER!!!\0\0\0\0";
	struct cvm_cpio w;
	uint8_t *buf;
	size_t len;

	cvm_cpio_init(&w);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "init", .mode = S_IFREG | 0755, .uid = 3, .gid = 4,
		.nlink = 1, .mtime = 1600000000, .devmajor = 8, .devminor = 9, .rdevmajor = 10, .rdevminor = 11,
		.data = (const uint8_t *)"hello", .size = 5 }), 0);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "bin", .ino = 42, .mode = S_IFLNK | 0777,
		.nlink = 1, .data = (const uint8_t *)"init", .size = 4 }), 0);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "d", .mode = S_IFDIR | 0700, .nlink = 2 }), 0);
	/* Rejected entries leave the archive alone. */
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "/abs", .mode = S_IFREG }), -EINVAL);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "", .mode = S_IFREG }), -EINVAL);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = NULL }), -EINVAL);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "TRAILER!!!" }), -EINVAL);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "x", .size = 1 }), -EINVAL);
	assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = "x", .data = (const uint8_t *)"",
		.size = (size_t)UINT32_MAX + 1 }), -EINVAL);
	{
		char *longname = malloc(CVM_CPIO_NAME_MAX + 1);
		memset(longname, 'a', CVM_CPIO_NAME_MAX);
		longname[CVM_CPIO_NAME_MAX] = 0;
		assert_int_equal(cvm_cpio_add(&w, &(struct cvm_cpio_entry){ .name = longname }), -EINVAL);
		free(longname);
	}
	assert_int_equal(cvm_cpio_finish(&w, false, &buf, &len), 0);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(buf, want, len);
	free(buf);
	cvm_cpio_free(&w);

	/* An empty archive is just the trailer. */
	cvm_cpio_init(&w);
	assert_int_equal(cvm_cpio_finish(&w, false, &buf, &len), 0);
	assert_int_equal(len, 124);
	assert_memory_equal(buf, trailer_lower, 124);
	free(buf);
	cvm_cpio_free(&w);
}

static void reader_roundtrip(void **state)
{
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;
	const uint8_t *b = (const uint8_t *)stub_osrel;
	size_t n = sizeof(stub_osrel) - 1;

	cvm_cpio_reader_init(&r, b, n);
	assert_int_equal(cvm_cpio_next(&r, &e), 1);
	assert_string_equal(e.name, ".extra");
	assert_int_equal(e.ino, 1);
	assert_int_equal(e.mode, 040555);
	assert_int_equal(e.size, 0);
	assert_int_equal(cvm_cpio_next(&r, &e), 1);
	assert_string_equal(e.name, ".extra/os-release");
	assert_int_equal(e.mode, 0100444);
	assert_int_equal(e.nlink, 1);
	assert_int_equal(e.size, 10);
	assert_memory_equal(e.data, "ID=debian\n", 10);
	assert_int_equal(cvm_cpio_next(&r, &e), 0);
	assert_true(r.done);
	assert_int_equal(r.off, n);
	assert_int_equal(cvm_cpio_next(&r, &e), 0);

	/* Trailer padding missing at the very end is tolerated. */
	cvm_cpio_reader_init(&r, (const uint8_t *)trailer_lower, 121);
	assert_int_equal(cvm_cpio_next(&r, &e), 0);
}

static int count_entries(const uint8_t *b, size_t n)
{
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;
	int k = 0, ret;

	cvm_cpio_reader_init(&r, b, n);
	while ((ret = cvm_cpio_next(&r, &e)) == 1)
		k++;
	return ret < 0 ? ret : k;
}

static void reader_malformed(void **state)
{
	size_t n = sizeof(stub_osrel) - 1;
	uint8_t *b = malloc(n);
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;

#define CORRUPT(off, byte) do { memcpy(b, stub_osrel, n); b[off] = (byte); } while (0)
	/* bad magic */
	CORRUPT(0, '1');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	CORRUPT(5, '7');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* non-hex digit in the mode field */
	CORRUPT(6 + 8 + 3, 'g');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* name without NUL: namesize 7 -> 6 */
	CORRUPT(6 + 11 * 8 + 7, '6');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* name with an early NUL: namesize 7 -> 8 ("\0" of the name plus padding) */
	CORRUPT(6 + 11 * 8 + 7, '8');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* namesize 0 */
	CORRUPT(6 + 11 * 8 + 7, '0');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* file size past the end (second header's filesize 0xa -> 0xfa) */
	CORRUPT(120 + 6 + 6 * 8 + 6, 'f');
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* huge namesize */
	memcpy(b, stub_osrel, n);
	memcpy(b + 6 + 11 * 8, "ffffffff", 8);
	assert_int_equal(count_entries(b, n), -EBADMSG);
	/* truncations: inside a header, inside a name, inside data, before the trailer */
	memcpy(b, stub_osrel, n);
	assert_int_equal(count_entries(b, 50), -EBADMSG);
	assert_int_equal(count_entries(b, 114), -EBADMSG);
	assert_int_equal(count_entries(b, 120 + 128 + 5), -EBADMSG);
	assert_int_equal(count_entries(b, 120 + 128 + 12), -EBADMSG);
	assert_int_equal(count_entries(b, 0), -EBADMSG);
	/* errors latch */
	cvm_cpio_reader_init(&r, b, 50);
	assert_int_equal(cvm_cpio_next(&r, &e), -EBADMSG);
	assert_int_equal(cvm_cpio_next(&r, &e), -EBADMSG);
	/* uppercase hex digits are accepted (GNU cpio writes them) */
	memcpy(b, stub_osrel, n);
	memcpy(b + 6 + 8, "0000416D", 8);
	assert_int_equal(count_entries(b, n), 2);
	free(b);
#undef CORRUPT
}

static void write_file(const char *dir, const char *name, const char *content, mode_t mode)
{
	char p[2048];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(cvm_write_file_atomic(p, content, strlen(content), mode), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Runs a shell command built like printf (arguments are test-owned paths). */
#define run(...) ({ char *c_; int r_; assert_true(asprintf(&c_, __VA_ARGS__) >= 0); r_ = system(c_); free(c_); r_; })

static void from_tree(void **state)
{
	char *top = tu_mkdtemp(), src[1024], p[2048];
	uint8_t *buf, *buf2;
	size_t len, len2;
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;
	static const char *order[] = { "a", "a-b", "a/x", "a/y", "b", "b/l", "e" };
	size_t i = 0;

	snprintf(src, sizeof(src), "%s/src", top);
	assert_int_equal(mkdir(src, 0755), 0);
	snprintf(p, sizeof(p), "%s/a", src);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/b", src);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(src, "a/y", "yyy\n", 0640);
	write_file(src, "a/x", "x\n", 0755);
	write_file(src, "a-b", "", 0600);
	write_file(src, "e", "eeeee", 0644);
	snprintf(p, sizeof(p), "%s/b/l", src);
	assert_int_equal(symlink("../a/x", p), 0);

	assert_int_equal(cvm_cpio_from_tree(src, 1700000000, &buf, &len), 0);
	cvm_cpio_reader_init(&r, buf, len);
	while (cvm_cpio_next(&r, &e) == 1) {
		assert_true(i < 7);
		assert_string_equal(e.name, order[i]);
		assert_int_equal(e.ino, i + 1);
		assert_int_equal(e.uid, 0);
		assert_int_equal(e.gid, 0);
		assert_int_equal(e.mtime, 1700000000);
		if (strcmp(e.name, "a") == 0) {
			assert_int_equal(e.mode, 040750);
			assert_int_equal(e.nlink, 2);
		} else if (strcmp(e.name, "a/x") == 0) {
			assert_int_equal(e.mode, 0100755);
			assert_int_equal(e.size, 2);
			assert_memory_equal(e.data, "x\n", 2);
		} else if (strcmp(e.name, "b/l") == 0) {
			assert_int_equal(e.mode & 0170000, 0120000);
			assert_int_equal(e.size, 6);
			assert_memory_equal(e.data, "../a/x", 6);
		} else if (strcmp(e.name, "a-b") == 0) {
			assert_int_equal(e.mode, 0100600);
			assert_int_equal(e.size, 0);
		}
		i++;
	}
	assert_int_equal(i, 7);
	assert_true(r.done);
	assert_int_equal(r.off, len);

	/* Deterministic: a second run, after touching times, gives the same bytes. */
	assert_int_equal(run("touch '%s/a/x' '%s'", src, src), 0);
	assert_int_equal(cvm_cpio_from_tree(src, 1700000000, &buf2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);

	/* Independent check: GNU cpio lists and extracts it to an identical tree. */
	if (tu_have_tools("cpio", "extraction cross-check with GNU cpio")) {
		snprintf(p, sizeof(p), "%s/a.cpio", top);
		assert_int_equal(cvm_write_file_atomic(p, buf, len, 0644), 0);
		assert_int_equal(run("mkdir '%s/out' && cd '%s/out' && cpio -idm --quiet < ../a.cpio", top, top), 0);
		assert_int_equal(run("diff -r '%s/src' '%s/out' >/dev/null", top, top), 0);
		assert_int_equal(run("test \"$(stat -c %%a '%s/out/a/y')\" = 640 && test \"$(stat -c %%Y '%s/out/e')\" = 1700000000",
				     top, top), 0);
		assert_int_equal(run("test \"$(readlink '%s/out/b/l')\" = ../a/x && cd '%s' && test \"$(cpio -t --quiet < a.cpio | tr '\\n' ' ')\" = 'a a-b a/x a/y b b/l e '",
				     top, top), 0);
	}
	free(buf);

	/* A FIFO is refused. */
	snprintf(p, sizeof(p), "%s/fifo", src);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(cvm_cpio_from_tree(src, 0, &buf, &len), -EINVAL);
	snprintf(p, sizeof(p), "%s/missing", top);
	assert_int_equal(cvm_cpio_from_tree(p, 0, &buf, &len), -ENOENT);
	tu_rmtree(top);
}

/* GNU cpio's own archive (uppercase hex, 512-byte padding after the trailer) parses. */
static void reader_reads_gnu_cpio(void **state)
{
	char *top = tu_mkdtemp(), p[2048];
	uint8_t *buf;
	size_t len;
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;

	if (!tu_have_tools("cpio", "reading GNU cpio's archive")) {
		tu_rmtree(top);
		skip();
	}
	write_file(top, "f", "0123456789", 0644);
	assert_int_equal(run("cd '%s' && printf 'f\\n' | cpio -o -H newc --quiet -R 0:0 > a.cpio%s", top, ""), 0);
	snprintf(p, sizeof(p), "%s/a.cpio", top);
	buf = tu_read(p, &len);
	assert_int_equal(len % 512, 0);
	cvm_cpio_reader_init(&r, buf, len);
	assert_int_equal(cvm_cpio_next(&r, &e), 1);
	assert_string_equal(e.name, "f");
	assert_int_equal(e.size, 10);
	assert_memory_equal(e.data, "0123456789", 10);
	assert_int_equal(e.mode, 0100644);
	assert_int_equal(cvm_cpio_next(&r, &e), 0);
	assert_true(r.off < len);
	free(buf);
	tu_rmtree(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stub_extra_exact),
		cmocka_unit_test(stub_extra_nested_and_empty),
		cmocka_unit_test(writer_layout),
		cmocka_unit_test(reader_roundtrip),
		cmocka_unit_test(reader_malformed),
		cmocka_unit_test(from_tree),
		cmocka_unit_test(reader_reads_gnu_cpio),
	};
	return cmocka_run_group_tests_name("cpio", tests, NULL, NULL);
}
