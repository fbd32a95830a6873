/* TDX RTMR 1 and 2 of an OVMF direct kernel boot (snp-tdx-launch.md §5).
 *
 * RTMR0 is deliberately absent: it covers QEMU's ACPI tables and TD HOB,
 * which depend on the machine type, devices, memory and QEMU version, not on
 * the image (the CLI says so instead of guessing). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha512.h>

#include "cvmkit/bytes.h"
#include "cvmkit/ovmf.h"

void ovmf_rtmr_extend(uint8_t rtmr[OVMF_SHA384_SIZE], const uint8_t digest[OVMF_SHA384_SIZE])
{
	uint8_t buf[2 * OVMF_SHA384_SIZE];

	memcpy(buf, rtmr, OVMF_SHA384_SIZE);
	memcpy(buf + OVMF_SHA384_SIZE, digest, OVMF_SHA384_SIZE);
	ovmf_sha384(buf, sizeof(buf), rtmr);
}

/* ---------------------------------------------------------------- Authenticode */

struct pe_section { uint32_t ptr, size; };

static int cmp_section(const void *a, const void *b)
{
	const struct pe_section *x = a, *y = b;

	return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

int ovmf_authenticode_sha384(const uint8_t *pe, size_t len, uint8_t ret_digest[OVMF_SHA384_SIZE])
{
	mbedtls_sha512_context c;
	struct pe_section *secs = NULL;
	uint8_t out[OVMF_SHA384_SIZE];
	uint64_t opt, checksum, cert_dir = 0, headers, sum, cert_size = 0, sectab;
	uint32_t lfanew, nrva;
	uint16_t nsec, optsize, magic;
	size_t n = 0;
	int r;

	mbedtls_sha512_init(&c);
	if (!pe || len < 0x40) {
		r = -EBADMSG;
		goto out;
	}
	lfanew = cvm_le32(pe + 0x3c);
	if ((uint64_t)lfanew + 24 + 2 > len || memcmp(pe + lfanew, "PE\0\0", 4) != 0) {
		r = -EBADMSG;
		goto out;
	}
	nsec = cvm_le16(pe + lfanew + 6);
	optsize = cvm_le16(pe + lfanew + 20);
	opt = (uint64_t)lfanew + 24;
	magic = cvm_le16(pe + opt);
	if (magic != 0x10b && magic != 0x20b) {
		r = -EBADMSG;
		goto out;
	}
	/* Fields up to the data directories must lie inside the optional header. */
	if ((magic == 0x10b ? 96u : 112u) > optsize || opt + optsize > len) {
		r = -EBADMSG;
		goto out;
	}
	checksum = opt + 64;
	nrva = cvm_le32(pe + opt + (magic == 0x10b ? 92 : 108));
	headers = cvm_le32(pe + opt + 60);
	if (nrva > 4) {
		cert_dir = opt + (magic == 0x10b ? 128 : 144);
		if (cert_dir + 8 > opt + optsize) {
			r = -EBADMSG;
			goto out;
		}
		cert_size = cvm_le32(pe + cert_dir + 4);
	}
	if (headers > len || headers < (cert_dir ? cert_dir + 8 : checksum + 4)) {
		r = -EBADMSG;
		goto out;
	}
	(void)mbedtls_sha512_starts(&c, 1);
	(void)mbedtls_sha512_update(&c, pe, checksum);
	if (cert_dir) {
		(void)mbedtls_sha512_update(&c, pe + checksum + 4, cert_dir - (checksum + 4));
		(void)mbedtls_sha512_update(&c, pe + cert_dir + 8, headers - (cert_dir + 8));
	} else
		(void)mbedtls_sha512_update(&c, pe + checksum + 4, headers - (checksum + 4));
	sum = headers;

	sectab = opt + optsize;
	if (sectab + 40ull * nsec > len) {
		r = -EBADMSG;
		goto out;
	}
	secs = calloc(nsec ? nsec : 1, sizeof(*secs));
	if (!secs) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < nsec; i++) {
		const uint8_t *s = pe + sectab + 40ull * i;
		uint32_t size = cvm_le32(s + 16), ptr = cvm_le32(s + 20);

		if (size == 0)
			continue;
		if ((uint64_t)ptr + size > len) {
			r = -EBADMSG;
			goto out;
		}
		secs[n].ptr = ptr;
		secs[n++].size = size;
	}
	qsort(secs, n, sizeof(*secs), cmp_section);
	for (size_t i = 0; i < n; i++) {
		(void)mbedtls_sha512_update(&c, pe + secs[i].ptr, secs[i].size);
		sum += secs[i].size;
	}
	if (len > sum) {
		if (len < sum + cert_size) {
			r = -EBADMSG;
			goto out;
		}
		(void)mbedtls_sha512_update(&c, pe + sum, len - sum - cert_size);
	}
	(void)mbedtls_sha512_finish(&c, out);
	memcpy(ret_digest, out, sizeof(out));
	r = 0;
out:
	free(secs);
	mbedtls_sha512_free(&c);
	return r;
}

/* ---------------------------------------------------------------- QEMU kernel patch */

uint64_t ovmf_q35_below_4g(uint64_t mem_size)
{
	/* pc_q35_init(): lowmem is 2 GiB once the guest has >= 2.75 GiB. */
	uint64_t lowmem = mem_size >= 0xB0000000ull ? 0x80000000ull : 0xB0000000ull;

	return mem_size >= lowmem ? lowmem : mem_size;
}

#define ACPI_DATA_SIZE 0x28000u  /* QEMU pc/q35: 0x20000 + 0x8000 */

static int vga_mode(const char *cmdline, uint16_t *ret_mode)
{
	const char *v = cmdline ? strstr(cmdline, "vga=") : NULL;

	if (!v)
		return 0;
	v += 4;
	if (strncmp(v, "normal", 6) == 0)
		*ret_mode = 0xffff;
	else if (strncmp(v, "ext", 3) == 0)
		*ret_mode = 0xfffe;
	else if (strncmp(v, "ask", 3) == 0)
		*ret_mode = 0xfffd;
	else
		*ret_mode = (uint16_t)strtol(v, NULL, 0);
	return 1;
}

int ovmf_tdx_patch_kernel(uint8_t *k, size_t len, const char *cmdline, uint64_t below_4g_mem,
			  bool has_initrd, uint64_t initrd_size)
{
	uint32_t real_addr, cmdline_addr, initrd_max;
	uint64_t avail;
	uint16_t protocol, mode;
	size_t clen = cmdline ? strlen(cmdline) : 0;

	if (!k)
		return -EINVAL;
	if (len < 0x1000 || memcmp(k + 0x202, "HdrS", 4) != 0)
		return -EOPNOTSUPP;  /* not a bzImage: QEMU would take its multiboot/ELF paths */
	protocol = cvm_le16(k + 0x206);
	if (protocol < 0x200 || !(k[0x211] & 0x01)) {
		real_addr = 0x90000;
		cmdline_addr = 0x9a000 - (uint32_t)((clen + 16) & ~15u);
	} else if (protocol < 0x202) {
		real_addr = 0x90000;
		cmdline_addr = 0x9a000 - (uint32_t)((clen + 16) & ~15u);
	} else {
		real_addr = 0x10000;
		cmdline_addr = 0x20000;
	}
	if (protocol >= 0x20c && (cvm_le16(k + 0x236) & 0x40))  /* XLF_CAN_BE_LOADED_ABOVE_4G */
		initrd_max = UINT32_MAX;
	else if (protocol >= 0x203)
		initrd_max = cvm_le32(k + 0x22c);
	else
		initrd_max = 0x37ffffff;
	if (below_4g_mem <= ACPI_DATA_SIZE)
		return -EINVAL;
	avail = below_4g_mem - ACPI_DATA_SIZE;
	if (initrd_max >= avail)
		initrd_max = (uint32_t)(avail - 1);

	if (protocol >= 0x202)
		cvm_put_le32(k + 0x228, cmdline_addr);
	else {
		cvm_put_le16(k + 0x20, 0xa33f);
		cvm_put_le16(k + 0x22, (uint16_t)(cmdline_addr - real_addr));
	}
	if (vga_mode(cmdline, &mode))
		cvm_put_le16(k + 0x1fa, mode);
	if (protocol >= 0x200)
		k[0x210] = 0xb0;  /* type_of_loader: QEMU */
	if (protocol >= 0x201) {
		k[0x211] |= 0x80;  /* CAN_USE_HEAP */
		cvm_put_le16(k + 0x224, (uint16_t)(cmdline_addr - real_addr - 0x200));
	}
	if (has_initrd) {
		if (protocol < 0x200)
			return -EOPNOTSUPP;
		if (initrd_size >= initrd_max)
			return -E2BIG;
		cvm_put_le32(k + 0x218, (uint32_t)((initrd_max - initrd_size) & ~4095ull));
		cvm_put_le32(k + 0x21c, (uint32_t)initrd_size);
	}
	return 0;
}

/* ---------------------------------------------------------------- RTMR 1, 2 */

static void extend_str(uint8_t rtmr[OVMF_SHA384_SIZE], const void *s, size_t n)
{
	uint8_t d[OVMF_SHA384_SIZE];

	ovmf_sha384(s, n, d);
	ovmf_rtmr_extend(rtmr, d);
}

int ovmf_tdx_rtmr1(const uint8_t kernel_authenticode[OVMF_SHA384_SIZE], enum ovmf_edk2_era era,
		   uint8_t ret_rtmr1[OVMF_SHA384_SIZE])
{
	static const uint8_t separator[4] = { 0 };
	static const char *const calling = "Calling EFI Application from Boot Option";
	static const char *const ebs = "Exit Boot Services Invocation";
	static const char *const ebs_ok = "Exit Boot Services Returned with Success";
	uint8_t rtmr[OVMF_SHA384_SIZE] = { 0 };

	if (!kernel_authenticode || !ret_rtmr1)
		return -EINVAL;
	if (era != OVMF_EDK2_202411_TO_202505 && era != OVMF_EDK2_202508_PLUS && era != OVMF_EDK2_202302_TO_202408)
		return -EINVAL;
	ovmf_rtmr_extend(rtmr, kernel_authenticode);
	extend_str(rtmr, calling, strlen(calling));
	/* edk2 202302..202408.01 put the ReadyToBoot separator into RTMR0. */
	if (era != OVMF_EDK2_202302_TO_202408)
		extend_str(rtmr, separator, sizeof(separator));
	extend_str(rtmr, ebs, strlen(ebs));
	extend_str(rtmr, ebs_ok, strlen(ebs_ok));
	memcpy(ret_rtmr1, rtmr, sizeof(rtmr));
	return 0;
}

int ovmf_tdx_rtmr2(const char *cmdline, const uint8_t *initrd_sha384, enum ovmf_edk2_era era,
		   uint8_t ret_rtmr2[OVMF_SHA384_SIZE], uint8_t ret_loadopts[OVMF_SHA384_SIZE])
{
	static const char initrd_opt[] = "initrd=initrd";
	uint8_t rtmr[OVMF_SHA384_SIZE] = { 0 }, lo[OVMF_SHA384_SIZE] = { 0 }, *u16 = NULL;
	char *opts = NULL;
	size_t clen = cmdline ? strlen(cmdline) : 0, n;
	int r;

	if (!ret_rtmr2)
		return -EINVAL;
	if (era != OVMF_EDK2_202411_TO_202505 && era != OVMF_EDK2_202508_PLUS && era != OVMF_EDK2_202302_TO_202408)
		return -EINVAL;
	if (clen > (1u << 20)) {
		r = -E2BIG;
		goto out;
	}
	if (clen == 0 && !initrd_sha384)
		goto done;  /* OVMF installs no LoadOptions: the stub measures nothing */
	opts = malloc(clen + sizeof(initrd_opt) + 2);
	if (!opts) {
		r = -ENOMEM;
		goto out;
	}
	if (!initrd_sha384) {
		memcpy(opts, cmdline, clen + 1);
	} else if (era == OVMF_EDK2_202508_PLUS) {
		/* edk2 a2ac0fea puts initrd= first; with no command line nothing follows it [inferred] */
		memcpy(opts, initrd_opt, sizeof(initrd_opt));
		if (clen) {
			strcat(opts, " ");
			strcat(opts, cmdline);
		}
	} else {
		/* "%a%a" of the command line and " initrd=initrd" */
		memcpy(opts, cmdline ? cmdline : "", clen);
		opts[clen] = ' ';
		memcpy(opts + clen + 1, initrd_opt, sizeof(initrd_opt));
	}
	/* LoadOptions are UTF-16LE with the terminating NUL; the command line is ASCII. */
	n = strlen(opts) + 1;
	u16 = calloc(n, 2);
	if (!u16) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		u16[2 * i] = (uint8_t)opts[i];
	ovmf_sha384(u16, 2 * n, lo);
	ovmf_rtmr_extend(rtmr, lo);
	if (initrd_sha384)
		ovmf_rtmr_extend(rtmr, initrd_sha384);
done:
	memcpy(ret_rtmr2, rtmr, sizeof(rtmr));
	if (ret_loadopts)
		memcpy(ret_loadopts, lo, sizeof(lo));
	r = 0;
out:
	free(opts);
	free(u16);
	return r;
}
