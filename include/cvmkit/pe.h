/* PE/COFF images (EFI applications, UKIs, signed kernels) as untrusted input:
 * header parser, the Authenticode digest exactly as edk2 measures it into
 * PCR 4, and section contents as the loader maps them.
 *
 * Nothing here allocates except cvm_pe_section_memory(); struct cvm_pe is
 * caller-owned (about 3.5 KiB) and holds copies, never pointers into buf. */
#ifndef CVMKIT_PE_H
#define CVMKIT_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"

#define CVM_PE_MAX_SECTIONS 96
/* Largest section cvm_pe_section_memory() materialises. */
#define CVM_PE_SECTION_MEMORY_MAX ((size_t)1 << 30)

#define CVM_PE_MACHINE_X86_64 0x8664
#define CVM_PE_SUBSYSTEM_EFI_APPLICATION 10
#define CVM_PE_SCN_CNT_CODE 0x00000020u
#define CVM_PE_SCN_CNT_INITIALIZED_DATA 0x00000040u
#define CVM_PE_SCN_MEM_READ 0x40000000u

struct cvm_pe_section {
	char name[9]; /* the 8 name bytes, NUL-terminated */
	uint32_t virtual_size, virtual_address, size_of_raw_data, pointer_to_raw_data, characteristics;
};

struct cvm_pe {
	uint16_t machine, n_sections;
	bool pe32plus;                      /* optional header magic 0x20b (else 0x10b, PE32) */
	uint32_t pe_offset /* e_lfanew */, opt_offset, opt_size;
	uint32_t section_alignment, file_alignment, size_of_image, size_of_headers, checksum;
	uint64_t image_base;
	uint32_t n_data_dirs, cert_table_offset, cert_table_size;   /* data directory 4 (0 when absent) */
	uint16_t subsystem;
	struct cvm_pe_section sections[CVM_PE_MAX_SECTIONS];  /* in section-table order */
};

/* Parses and validates the headers of the image in buf[0, len).  Returns 0
 * and fills *ret, or -EBADMSG when any of these fails:
 *   - len >= 64, "MZ", e_lfanew + 24 <= len, "PE\0\0";
 *   - NumberOfSections <= CVM_PE_MAX_SECTIONS;
 *   - the optional header lies inside the file, has magic 0x10b or 0x20b and is
 *     long enough for its fixed part and NumberOfRvaAndSizes (<= 16) entries;
 *   - SectionAlignment and FileAlignment are non-zero powers of two;
 *   - the section table lies inside SizeOfHeaders, and SizeOfHeaders <= len;
 *   - every section with raw data lies inside the file, at or after
 *     SizeOfHeaders, and overlaps no other section's raw data;
 *   - every section with a VirtualSize lies inside [SizeOfHeaders, SizeOfImage)
 *     in memory and overlaps no other section there;
 *   - a non-empty certificate table lies inside the file.
 * *ret is written only on success. */
int cvm_pe_parse(const uint8_t *buf, size_t len, struct cvm_pe *ret);

/* The Authenticode digest the way edk2 computes it when it measures an image
 * into PCR 4 (SecurityPkg DxeTpm2MeasureBootLib / Tcg2Dxe MeasurePeImageAndExtend;
 * ../shared/notes/measured-boot.md §3): headers without CheckSum and the
 * certificate-table directory entry, section raw data sorted by
 * PointerToRawData, then bytes [SUM, len - certificate table size) where SUM
 * is SizeOfHeaders plus the sum of all SizeOfRawData.  Writes
 * cvm_hash_size(alg) bytes to out.  Returns 0, -EBADMSG (cvm_pe_parse() fails,
 * or the file is shorter than SUM + certificate table size, which edk2 refuses
 * too), or the error of cvm_hash_init() for an unknown alg. */
int cvm_pe_authenticode(const uint8_t *buf, size_t len, enum cvm_hash_alg alg, uint8_t *out);

/* First section whose NUL-terminated name equals NAME exactly, or NULL. */
const struct cvm_pe_section *cvm_pe_find_section(const struct cvm_pe *pe, const char *name);

/* The section as the loader maps it (and as systemd-stub measures it):
 * VirtualSize bytes, the first min(VirtualSize, SizeOfRawData) from
 * PointerToRawData, zero-filled after that.  *ret_buf is malloc'd (at least one
 * byte even when VirtualSize is 0) and owned by the caller; *ret_len =
 * VirtualSize.  Returns 0, -EBADMSG if those raw bytes are not inside
 * buf[0, len), -EFBIG for VirtualSize > CVM_PE_SECTION_MEMORY_MAX, -ENOMEM. */
int cvm_pe_section_memory(const uint8_t *buf, size_t len, const struct cvm_pe_section *s, uint8_t **ret_buf,
			  size_t *ret_len);

/* The PE CheckSum of buf[0, len) (16-bit one's-complement-style sum with
 * carries folded, plus the file length), treating the 4 bytes at
 * checksum_offset as zero.  Used by the UKI builder. */
uint32_t cvm_pe_checksum(const uint8_t *buf, size_t len, size_t checksum_offset);

#endif
