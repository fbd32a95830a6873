/* The one table of PCR indices, shared by the init (which reports them) and
 * cvm-measure (which predicts them), so the two can never drift apart.
 * Names follow systemd's src/fundamental/tpm2-pcr.h where they exist. */
#ifndef CVMKIT_PCR_H
#define CVMKIT_PCR_H

#include <stdint.h>

enum cvm_pcr {
	CVM_PCR_PLATFORM_CODE = 0,
	CVM_PCR_PLATFORM_CONFIG = 1,
	CVM_PCR_EXTERNAL_CODE = 2,
	CVM_PCR_EXTERNAL_CONFIG = 3,
	CVM_PCR_BOOT_LOADER_CODE = 4,
	CVM_PCR_BOOT_LOADER_CONFIG = 5,
	CVM_PCR_HOST_PLATFORM = 6,
	CVM_PCR_SECURE_BOOT_POLICY = 7,
	CVM_PCR_INIT_DATA = 8,
	CVM_PCR_KERNEL_INITRD = 9,
	CVM_PCR_IMA = 10,
	CVM_PCR_KERNEL_BOOT = 11,
	CVM_PCR_KERNEL_CONFIG = 12,
	CVM_PCR_SYSEXTS = 13,
	CVM_PCR_SHIM_POLICY = 14,
	CVM_PCR_SYSTEM_IDENTITY = 15,
	CVM_PCR_DEBUG = 16,
	CVM_PCR_APPLICATION_SUPPORT = 23,
	CVM_PCR_COUNT = 24,
};

/* Who determines a PCR's final value on the target (UKI on an Azure CVM). */
enum cvm_pcr_class {
	CVM_PCR_CLASS_PLATFORM, /* firmware, VM identity, Azure security profile */
	CVM_PCR_CLASS_IMAGE,    /* determined by the image file alone */
	CVM_PCR_CLASS_RUNTIME,  /* extended after boot (IMA, init-data, DRTM) */
};

struct cvm_pcr_info {
	uint8_t index;
	const char *name;         /* e.g. "boot-loader-code" */
	enum cvm_pcr_class class;
	const char *why;          /* one line: what determines it */
};

/* Entry for index 0..CVM_PCR_COUNT-1 (never NULL for those). */
const struct cvm_pcr_info *cvm_pcr_info(unsigned index);

/* A PCR's reset value: 17..22 start all-0xFF, the others all-zero. */
static inline uint8_t cvm_pcr_reset_byte(unsigned index) { return index >= 17 && index <= 22 ? 0xff : 0x00; }

#endif
