/* The one table of UKI sections, shared by the image builder (which writes
 * them), cvm-measure (which predicts what systemd-stub measures) and the init.
 * Order and membership per stub version follow systemd's src/fundamental/uki.c
 * (see ../shared/notes/measured-boot.md §5). */
#ifndef CVMKIT_UKI_H
#define CVMKIT_UKI_H

#include <stddef.h>

enum cvm_uki_section {
	CVM_UKI_LINUX,
	CVM_UKI_OSREL,
	CVM_UKI_CMDLINE,
	CVM_UKI_INITRD,
	CVM_UKI_UCODE,
	CVM_UKI_SPLASH,
	CVM_UKI_DTB,
	CVM_UKI_UNAME,
	CVM_UKI_SBAT,
	CVM_UKI_PCRSIG,
	CVM_UKI_PCRPKEY,
	CVM_UKI_PROFILE,
	CVM_UKI_DTBAUTO,
	CVM_UKI_HWIDS,
	CVM_UKI_EFIFW,
	CVM_UKI_SECTION_MAX,
};

/* PE section name, e.g. ".linux" (at most 8 characters). */
const char *cvm_uki_section_name(enum cvm_uki_section s);
/* Section for a PE name (exact match), or -1. */
int cvm_uki_section_from_name(const char *name);

/* Oldest and newest systemd-stub major versions cvmkit models. */
#define CVM_UKI_STUB_MIN 252
#define CVM_UKI_STUB_MAX 257

/* Sections systemd-stub version STUB measures into PCR 11, in the order it
 * measures them (.pcrsig is never measured and never listed).  Returns the
 * count and sets *ret_list, or -EOPNOTSUPP for a version outside
 * [CVM_UKI_STUB_MIN, CVM_UKI_STUB_MAX]. */
int cvm_uki_measured_sections(unsigned stub, const enum cvm_uki_section **ret_list);

#endif
