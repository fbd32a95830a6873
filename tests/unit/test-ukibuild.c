/* image/ukibuild.c: the UKI assembler, checked by re-parsing, by objdump(1)
 * and, when installed, by pesign/sbverify. */
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
#include "cvmkit/hex.h"
#include "cvmkit/pe.h"
#include "cvmkit/ukibuild.h"
#include "testutil.h"

#define run(...) ({ char *c_; int r_; assert_true(asprintf(&c_, __VA_ARGS__) >= 0); r_ = system(c_); free(c_); r_; })

static char *real_file(const char *env, const char *pkg, const char *member, char **ret_tmpdir)
{
	const char *e = getenv(env);
	char *dir, *path;

	*ret_tmpdir = NULL;
	if (e && *e)
		return strdup(e);
	if (access("scripts/deps.sh", X_OK) != 0 || system("command -v dpkg-deb >/dev/null 2>&1") != 0)
		return NULL;
	dir = tu_mkdtemp();
	assert_true(asprintf(&path, "%s/file", dir) >= 0);
	if (run("deb=$(scripts/deps.sh path %s 2>/dev/null) && dpkg-deb --fsys-tarfile \"$deb\" | tar -xOf - --wildcards '%s' > '%s' && test -s '%s'",
		pkg, member, path, path) != 0) {
		tu_rmtree(dir);
		free(dir);
		free(path);
		return NULL;
	}
	*ret_tmpdir = dir;
	return path;
}

/* Hand-built PE32+ EFI application: e_lfanew 0x40, optional header at 0x58,
 * section table at 0x148, SizeOfHeaders SOH, .text (file 0x400/0x200 bytes,
 * RVA 0x1000) and .data (RVA 0x2000, VirtualSize 0x1800 > raw 0x200). */
#define OPT 0x58
static uint8_t *synthetic_stub(uint32_t soh, size_t *ret_len)
{
	const size_t len = soh + 0x400 + 0x20; /* + 0x20 bytes of trailing junk */
	uint8_t *b = calloc(1, len);

	assert_non_null(b);
	for (size_t i = soh; i < len; i++)
		b[i] = (uint8_t)(i * 13 + 1);
	b[0] = 'M';
	b[1] = 'Z';
	cvm_put_le32(b + 0x3c, 0x40);
	memcpy(b + 0x40, "PE\0\0", 4);
	cvm_put_le16(b + 0x44, 0x8664);
	cvm_put_le16(b + 0x46, 2);
	cvm_put_le32(b + 0x4c, soh + 0x400); /* PointerToSymbolTable -> the junk */
	cvm_put_le32(b + 0x50, 1);
	cvm_put_le16(b + 0x54, 240);
	cvm_put_le16(b + 0x56, 0x22e);
	cvm_put_le16(b + OPT, 0x20b);
	cvm_put_le32(b + OPT + 8, 0x400);
	cvm_put_le32(b + OPT + 16, 0x1000);
	cvm_put_le64(b + OPT + 24, 0x140000000ull);
	cvm_put_le32(b + OPT + 32, 0x1000);
	cvm_put_le32(b + OPT + 36, 0x200);
	cvm_put_le32(b + OPT + 56, 0x4000);
	cvm_put_le32(b + OPT + 60, soh);
	cvm_put_le16(b + OPT + 68, 10);
	cvm_put_le32(b + OPT + 108, 16);
	memcpy(b + 0x148, ".text", 5);
	cvm_put_le32(b + 0x148 + 8, 0x1f0);
	cvm_put_le32(b + 0x148 + 12, 0x1000);
	cvm_put_le32(b + 0x148 + 16, 0x200);
	cvm_put_le32(b + 0x148 + 20, soh);
	cvm_put_le32(b + 0x148 + 36, 0x60000020);
	memcpy(b + 0x170, ".data", 5);
	cvm_put_le32(b + 0x170 + 8, 0x1800);
	cvm_put_le32(b + 0x170 + 12, 0x2000);
	cvm_put_le32(b + 0x170 + 16, 0x200);
	cvm_put_le32(b + 0x170 + 20, soh + 0x200);
	cvm_put_le32(b + 0x170 + 36, 0xc0000040);
	*ret_len = len;
	return b;
}

static const char osrel[] = "ID=cvmkit\nVERSION_ID=1\n";
static const char cmdline[] = "console=ttyS0 quiet";
static const char uname_[] = "6.12.117+deb13-cloud-amd64";

static void set_parts(struct cvm_uki_part *p, const uint8_t *initrd, size_t initrd_len, const uint8_t *linux_, size_t linux_len)
{
	memset(p, 0, sizeof(*p) * CVM_UKI_SECTION_MAX);
	p[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)osrel, strlen(osrel) };
	p[CVM_UKI_CMDLINE] = (struct cvm_uki_part){ (const uint8_t *)cmdline, strlen(cmdline) };
	p[CVM_UKI_UNAME] = (struct cvm_uki_part){ (const uint8_t *)uname_, strlen(uname_) };
	p[CVM_UKI_INITRD] = (struct cvm_uki_part){ initrd, initrd_len };
	p[CVM_UKI_LINUX] = (struct cvm_uki_part){ linux_, linux_len };
}

/* Shared checks on a built UKI against its stub and parts. */
static void check_uki(const uint8_t *stub, size_t stub_len, const uint8_t *u, size_t ulen, const struct cvm_uki_part *parts)
{
	static const char *order[] = { ".osrel", ".cmdline", ".uname", ".initrd", ".linux" };
	static const enum cvm_uki_section sec[] = { CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_UNAME, CVM_UKI_INITRD, CVM_UKI_LINUX };
	struct cvm_pe sp, up;
	uint32_t prev_va_end = 0;

	assert_int_equal(cvm_pe_parse(stub, stub_len, &sp), 0);
	assert_int_equal(cvm_pe_parse(u, ulen, &up), 0);
	assert_int_equal(up.n_sections, sp.n_sections + 5);
	/* Stub sections keep RVA, sizes and content. */
	for (unsigned i = 0; i < sp.n_sections; i++) {
		uint8_t *a, *b;
		size_t al, bl;
		assert_string_equal(up.sections[i].name, sp.sections[i].name);
		assert_int_equal(up.sections[i].virtual_address, sp.sections[i].virtual_address);
		assert_int_equal(up.sections[i].virtual_size, sp.sections[i].virtual_size);
		assert_int_equal(cvm_pe_section_memory(stub, stub_len, &sp.sections[i], &a, &al), 0);
		assert_int_equal(cvm_pe_section_memory(u, ulen, &up.sections[i], &b, &bl), 0);
		assert_int_equal(al, bl);
		assert_memory_equal(a, b, al);
		free(a);
		free(b);
		if (sp.sections[i].virtual_address + sp.sections[i].virtual_size > prev_va_end)
			prev_va_end = sp.sections[i].virtual_address + sp.sections[i].virtual_size;
	}
	for (unsigned k = 0; k < 5; k++) {
		const struct cvm_pe_section *s = &up.sections[sp.n_sections + k];
		uint8_t *m;
		size_t ml;
		assert_string_equal(s->name, order[k]);
		assert_ptr_equal(cvm_pe_find_section(&up, order[k]), s);
		assert_int_equal(s->virtual_size, parts[sec[k]].len);
		assert_int_equal(s->virtual_address % up.section_alignment, 0);
		assert_true(s->virtual_address >= prev_va_end);
		assert_int_equal(s->pointer_to_raw_data % up.file_alignment, 0);
		assert_int_equal(s->size_of_raw_data % up.file_alignment, 0);
		assert_true(s->size_of_raw_data >= s->virtual_size && s->size_of_raw_data - s->virtual_size < up.file_alignment);
		for (size_t i = s->virtual_size; i < s->size_of_raw_data; i++)
			assert_int_equal(u[s->pointer_to_raw_data + i], 0);
		assert_int_equal(s->characteristics, k == 4 ? 0x40000020 : 0x40000040);
		assert_int_equal(cvm_pe_section_memory(u, ulen, s, &m, &ml), 0);
		assert_int_equal(ml, parts[sec[k]].len);
		assert_memory_equal(m, parts[sec[k]].data, ml);
		free(m);
		prev_va_end = s->virtual_address + s->virtual_size;
	}
	/* No overlaps anywhere (cvm_pe_parse checks too; spelled out here). */
	for (unsigned i = 0; i < up.n_sections; i++)
		for (unsigned j = i + 1; j < up.n_sections; j++) {
			const struct cvm_pe_section *a = &up.sections[i], *b = &up.sections[j];
			assert_true(a->pointer_to_raw_data + a->size_of_raw_data <= b->pointer_to_raw_data ||
				    b->pointer_to_raw_data + b->size_of_raw_data <= a->pointer_to_raw_data);
			assert_true(a->virtual_address + a->virtual_size <= b->virtual_address ||
				    b->virtual_address + b->virtual_size <= a->virtual_address);
		}
	assert_int_equal(up.size_of_image, (prev_va_end + up.section_alignment - 1) & ~(up.section_alignment - 1));
	/* The file ends with the last section's raw data. */
	assert_int_equal(up.sections[up.n_sections - 1].pointer_to_raw_data + up.sections[up.n_sections - 1].size_of_raw_data, ulen);
	assert_int_equal(up.machine, sp.machine);
	assert_int_equal(up.subsystem, sp.subsystem);
	assert_int_equal(up.image_base, sp.image_base);
}

/* objdump -h (binutils) lists every section with its VirtualSize. */
static void check_objdump(const char *dir, const uint8_t *u, size_t ulen, const struct cvm_uki_part *parts)
{
	char p[1024];

	if (!tu_have_tools("objdump", "objdump section cross-check"))
		return;
	snprintf(p, sizeof(p), "%s/uki.efi", dir);
	assert_int_equal(cvm_write_file_atomic(p, u, ulen, 0644), 0);
	assert_int_equal(run("cd '%s' && objdump -h uki.efi | awk '$2 ~ /^\\./ { print $2, $3 }' > sec.txt && "
			     "grep -qx '.osrel %08zx' sec.txt && grep -qx '.cmdline %08zx' sec.txt && grep -qx '.uname %08zx' sec.txt",
			     dir, parts[CVM_UKI_OSREL].len, parts[CVM_UKI_CMDLINE].len, parts[CVM_UKI_UNAME].len), 0);
	assert_int_equal(run("cd '%s' && grep -qx '.initrd %08zx' sec.txt && grep -qx '.linux %08zx' sec.txt && "
			     "test \"$(awk '{print $1}' sec.txt | tail -5 | tr '\\n' ' ')\" = '.osrel .cmdline .uname .initrd .linux '",
			     dir, parts[CVM_UKI_INITRD].len, parts[CVM_UKI_LINUX].len), 0);
	/* osslsigncode recomputes the PE CheckSum and warns when the header's differs. */
	if (tu_have_tools("osslsigncode", "osslsigncode CheckSum cross-check")) {
		struct cvm_pe pe;
		assert_int_equal(cvm_pe_parse(u, ulen, &pe), 0);
		assert_int_equal(run("cd '%s' && osslsigncode verify -in uki.efi > ossl.txt 2>&1; "
				     "grep -q 'PE checksum *: %08X' ossl.txt && ! grep -qi 'invalid PE checksum' ossl.txt",
				     dir, pe.checksum), 0);
	}
}

static void synthetic(void **state)
{
	size_t sl, ul, ul2;
	uint8_t *stub = synthetic_stub(0x400, &sl), *u, *u2, initrd[5000], linux_[3000];
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX];
	char *dir = tu_mkdtemp();
	struct cvm_pe up;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < sizeof(linux_); i++)
		linux_[i] = (uint8_t)(i * 3);
	set_parts(parts, initrd, sizeof(initrd), linux_, sizeof(linux_));
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u, &ul), 0);
	check_uki(stub, sl, u, ul, parts);
	assert_int_equal(cvm_pe_parse(u, ul, &up), 0);
	/* Headers had room: nothing moved; the trailing junk and symbol table are gone. */
	assert_int_equal(up.size_of_headers, 0x400);
	assert_int_equal(up.sections[0].pointer_to_raw_data, 0x400);
	assert_int_equal(cvm_le32(u + 0x4c), 0);
	assert_int_equal(cvm_le32(u + 0x50), 0);
	/* Hand-computed layout: .osrel first at file 0x800 (after the stub's 0x800
	 * bytes of headers+sections), RVA 0x4000 (after .data's end 0x3800). */
	assert_int_equal(up.sections[2].pointer_to_raw_data, 0x800);
	assert_int_equal(up.sections[2].virtual_address, 0x4000);
	assert_int_equal(up.sections[3].virtual_address, 0x5000);
	/* .initrd 5000 bytes at 0x7000 -> .linux at 0x9000, image ends at 0xa000 */
	assert_int_equal(up.sections[5].virtual_address, 0x7000);
	assert_int_equal(up.sections[6].virtual_address, 0x9000);
	assert_int_equal(up.size_of_image, 0xa000);
	assert_int_equal(cvm_le32(u + OPT + 8), 0x400 + 0x200 * 3 + 0x1400 + 0xc00);
	/* CheckSum: recomputed, and the one a second computation over the file finds. */
	assert_int_equal(up.checksum, cvm_pe_checksum(u, ul, OPT + 64));
	assert_int_not_equal(up.checksum, 0);
	/* Deterministic. */
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u2, &ul2), 0);
	assert_int_equal(ul, ul2);
	assert_memory_equal(u, u2, ul);
	free(u2);
	check_objdump(dir, u, ul, parts);
	free(u);
	free(stub);
	tu_rmtree(dir);
	free(dir);
}

static void synthetic_header_move(void **state)
{
	/* SizeOfHeaders 0x200: the table (0x148 + 7 * 40 = 0x260) does not fit, so
	 * headers grow to 0x400 and the stub's raw data moves by 0x200. */
	size_t sl, ul;
	uint8_t *stub = synthetic_stub(0x200, &sl), *u, initrd[10] = "initrd!!!", linux_[7] = "kernel";
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX];
	struct cvm_pe up;

	set_parts(parts, initrd, sizeof(initrd), linux_, sizeof(linux_));
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u, &ul), 0);
	check_uki(stub, sl, u, ul, parts);
	assert_int_equal(cvm_pe_parse(u, ul, &up), 0);
	assert_int_equal(up.size_of_headers, 0x400);
	assert_int_equal(up.sections[0].pointer_to_raw_data, 0x400);
	assert_int_equal(up.sections[1].pointer_to_raw_data, 0x600);
	assert_int_equal(up.sections[0].virtual_address, 0x1000);
	free(u);
	free(stub);
}

static void errors(void **state)
{
	size_t sl, ul;
	uint8_t *stub = synthetic_stub(0x400, &sl), *b = malloc(sl), *u;
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX];
	uint8_t x[4] = "abc";

	set_parts(parts, x, 3, x, 3);
#define TRY(stmt, want) do { memcpy(b, stub, sl); stmt; assert_int_equal(cvm_uki_build(b, sl, parts, &u, &ul), want); } while (0)
	TRY(b[0] = 'X', -EINVAL);                           /* not a PE */
	TRY(cvm_put_le16(b + 0x44, 0xaa64), -EINVAL);       /* arm64 */
	TRY(cvm_put_le16(b + OPT + 68, 3), -EINVAL);        /* console subsystem */
	TRY(cvm_put_le32(b + OPT + 144, 0x800); cvm_put_le32(b + OPT + 148, 0x20), -EINVAL); /* signed */
	TRY(memcpy(b + 0x170, ".osrel\0\0", 8), -EEXIST);   /* stub already has .osrel */
	TRY(b[0x1f0] = 1, -ENOSPC);                         /* junk where the new headers go */
#undef TRY
	/* headers that cannot grow: first section RVA right after SizeOfHeaders */
	{
		uint8_t *s2 = synthetic_stub(0x200, &sl);
		cvm_put_le32(s2 + 0x148 + 12, 0x200);
		cvm_put_le32(s2 + 0x148 + 8, 0x100);
		assert_int_equal(cvm_uki_build(s2, sl, parts, &u, &ul), -ENOSPC);
		free(s2);
	}
	parts[CVM_UKI_SPLASH] = (struct cvm_uki_part){ NULL, 5 };
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u, &ul), -EINVAL);
	free(b);
	free(stub);
}

/* Fuzzer finding (corpus pe/regress-zero-image-size): a stub whose sections
 * map nothing and whose SizeOfImage is 0 made the first new section start at
 * RVA 0, over the headers. */
static void regress_zero_image_size(void **state)
{
	size_t sl, ul;
	uint8_t *stub = synthetic_stub(0x400, &sl), *u;
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { 0 };
	struct cvm_pe up;

	memset(stub + 0x148 + 8, 0, 16);
	memset(stub + 0x170 + 8, 0, 16);
	cvm_put_le32(stub + OPT + 56, 0);
	parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)"ID=x\n", 5 };
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u, &ul), 0);
	assert_int_equal(cvm_pe_parse(u, ul, &up), 0);
	assert_int_equal(up.sections[2].virtual_address, 0x1000);
	assert_int_equal(up.size_of_image, 0x2000);
	free(u);
	free(stub);
}

/* The real systemd-stub 257 + the real signed kernel (or small parts). */
static void real_stub(void **state)
{
	char *tmp = NULL, *ktmp = NULL, *spath = real_file("CVMKIT_STUB", "systemd-boot-efi", "./usr/lib/systemd/boot/efi/linuxx64.efi.stub", &tmp);
	char *kpath, *dir, p[1024];
	size_t sl, kl, ul, ul2;
	uint8_t *stub, *kernel, *u, *u2, initrd[300];
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX];
	struct cvm_pe up;

	if (!spath)
		tu_skip_or_fail("$CVMKIT_STUB unset and systemd-boot-efi not in the deps cache");
	kpath = real_file("CVMKIT_VMLINUZ", "linux-image-cloud-amd64", "./boot/vmlinuz-*", &ktmp);
	stub = tu_read(spath, &sl);
	if (kpath) {
		kernel = tu_read(kpath, &kl);
	} else {
		print_message("note: no vmlinuz available; using a small .linux payload\n");
		kernel = (uint8_t *)strdup("not a kernel");
		kl = strlen((char *)kernel);
	}
	memset(initrd, 0x11, sizeof(initrd));
	set_parts(parts, initrd, sizeof(initrd), kernel, kl);
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u, &ul), 0);
	check_uki(stub, sl, u, ul, parts);
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u2, &ul2), 0);
	assert_int_equal(ul, ul2);
	assert_memory_equal(u, u2, ul);
	free(u2);
	assert_int_equal(cvm_pe_parse(u, ul, &up), 0);
	assert_int_equal(up.size_of_headers, 0x600); /* the stub's table had room */

	/* The stub's own .sbat cannot be duplicated. */
	parts[CVM_UKI_SBAT] = (struct cvm_uki_part){ (const uint8_t *)"sbat,1\n", 7 };
	assert_int_equal(cvm_uki_build(stub, sl, parts, &u2, &ul2), -EEXIST);
	parts[CVM_UKI_SBAT].len = 0;

	dir = tu_mkdtemp();
	check_objdump(dir, u, ul, parts);
	snprintf(p, sizeof(p), "%s/uki.efi", dir);
	if (system("command -v sbverify >/dev/null 2>&1") == 0)
		assert_int_equal(run("sbverify --list '%s' >/dev/null 2>&1", p), 0);
	if (system("command -v pesign >/dev/null 2>&1") == 0) {
		/* pesign's Authenticode of our file equals ours. */
		uint8_t d[32];
		char hex[65];
		assert_int_equal(cvm_pe_authenticode(u, ul, CVM_HASH_SHA256, d), 0);
		cvm_hex_encode(d, 32, hex);
		assert_int_equal(run("test \"$(pesign -h -i '%s' 2>/dev/null)\" = 'hash: %s'", p, hex), 0);
	}
	tu_rmtree(dir);
	free(dir);
	free(u);
	free(kernel);
	free(stub);
	free(spath);
	free(kpath);
	tu_rmtree(tmp);
	tu_rmtree(ktmp);
	free(tmp);
	free(ktmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(synthetic),
		cmocka_unit_test(synthetic_header_move),
		cmocka_unit_test(errors),
		cmocka_unit_test(regress_zero_image_size),
		cmocka_unit_test(real_stub),
	};
	return cmocka_run_group_tests_name("ukibuild", tests, NULL, NULL);
}
