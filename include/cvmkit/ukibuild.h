/* The UKI assembler: a deterministic PE writer that appends the UKI payload
 * sections to a systemd-stub, in the manner of systemd's ukify
 * (src/ukify/ukify.py, pe_add_sections), so the same inputs always give the
 * same bytes and hence the same PCR 4 / PCR 11 values.
 *
 * Layout of the result:
 *   - the stub's headers, with the new section headers after the stub's own.
 *     If they do not fit below SizeOfHeaders, SizeOfHeaders grows by a
 *     FileAlignment multiple and the stub's raw data moves down by the same
 *     amount; RVAs never change.
 *   - the stub's section raw data; bytes after the stub's last section (a COFF
 *     symbol table or other trailing data) are dropped and
 *     PointerToSymbolTable/NumberOfSymbols zeroed.
 *   - the new sections, in this order (ukify's, with .linux and .pcrsig last
 *     as ukify adds them): .profile .osrel .cmdline .dtb .dtbauto .hwids
 *     .uname .sbat .splash .pcrpkey .initrd .efifw .ucode .linux .pcrsig.
 *     Each starts at the next FileAlignment boundary in the file (zero padded
 *     to SizeOfRawData = len rounded up to FileAlignment) and at the next
 *     SectionAlignment boundary in memory after the previous section (the
 *     first after the stub's highest section end or SizeOfImage);
 *     VirtualSize = exact payload length, so systemd-stub measures exactly
 *     the payload (measured-boot.md §5).  Characteristics
 *     IMAGE_SCN_CNT_INITIALIZED_DATA|IMAGE_SCN_MEM_READ, except .linux, which
 *     gets IMAGE_SCN_CNT_CODE|IMAGE_SCN_MEM_READ like ukify (edk2's image
 *     protection then maps it executable, which kernels started through the
 *     EFI handover protocol need).
 *   - NumberOfSections, SizeOfHeaders, SizeOfImage (end of the last section
 *     rounded to SectionAlignment), SizeOfInitializedData (+= every new
 *     SizeOfRawData) and CheckSum (the PE checksum of the final file) updated.
 */
#ifndef CVMKIT_UKIBUILD_H
#define CVMKIT_UKIBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "cvmkit/uki.h"

struct cvm_uki_part { const uint8_t *data; size_t len; };   /* len 0 = section absent */

/* Builds a UKI from STUB and PARTS (indexed by enum cvm_uki_section).
 * Returns 0 with *ret_buf (malloc'd, caller frees) and *ret_len, or
 *   -EINVAL  the stub is not a well-formed (cvm_pe_parse) PE32+ x86-64 EFI
 *            application, or it is signed (has a certificate table: appending
 *            would invalidate the signature anyway), or a part has data NULL;
 *   -EEXIST  a part's section name already exists in the stub (e.g. .sbat);
 *   -E2BIG   more than CVM_PE_MAX_SECTIONS sections in total;
 *   -ENOSPC  the grown headers would reach the stub's first section in memory,
 *            or the header bytes needed for the new section table are not zero;
 *   -EFBIG   the image would exceed 4 GiB in memory or in the file;
 *   -ENOMEM. */
int cvm_uki_build(const uint8_t *stub, size_t stub_len, const struct cvm_uki_part parts[CVM_UKI_SECTION_MAX],
		  uint8_t **ret_buf, size_t *ret_len);

#endif
