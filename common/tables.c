/* The PCR and UKI section tables (include/cvmkit/pcr.h, uki.h). */
#include <errno.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/pcr.h"
#include "cvmkit/uki.h"

static const struct cvm_pcr_info pcrs[CVM_PCR_COUNT] = {
	{ 0, "platform-code", CVM_PCR_CLASS_PLATFORM, "firmware code (Hyper-V UEFI / OVMF build)" },
	{ 1, "platform-config", CVM_PCR_CLASS_PLATFORM, "firmware configuration, boot variables" },
	{ 2, "external-code", CVM_PCR_CLASS_PLATFORM, "option ROMs" },
	{ 3, "external-config", CVM_PCR_CLASS_PLATFORM, "option ROM configuration" },
	{ 4, "boot-loader-code", CVM_PCR_CLASS_IMAGE, "UKI and embedded kernel Authenticode hashes" },
	{ 5, "boot-loader-config", CVM_PCR_CLASS_IMAGE, "GPT header and entries, ExitBootServices" },
	{ 6, "host-platform", CVM_PCR_CLASS_PLATFORM, "VM identity (Hyper-V UUID event)" },
	{ 7, "secure-boot-policy", CVM_PCR_CLASS_PLATFORM, "Secure Boot state and key databases" },
	{ 8, "init-data", CVM_PCR_CLASS_RUNTIME, "nothing in a UKI boot; init-data when an attester extends it" },
	{ 9, "kernel-initrd", CVM_PCR_CLASS_IMAGE, "kernel command line and initrd (Linux EFI stub)" },
	{ 10, "ima", CVM_PCR_CLASS_RUNTIME, "IMA" },
	{ 11, "kernel-boot", CVM_PCR_CLASS_IMAGE, "UKI sections (systemd-stub)" },
	{ 12, "kernel-config", CVM_PCR_CLASS_IMAGE, "command-line overrides, credentials, addons" },
	{ 13, "sysexts", CVM_PCR_CLASS_IMAGE, "system extension images" },
	{ 14, "shim-policy", CVM_PCR_CLASS_IMAGE, "shim MOK lists" },
	{ 15, "system-identity", CVM_PCR_CLASS_RUNTIME, "machine identity (systemd userspace)" },
	{ 16, "debug", CVM_PCR_CLASS_RUNTIME, "debug" },
	{ 17, "drtm-17", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 18, "drtm-18", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 19, "drtm-19", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 20, "drtm-20", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 21, "drtm-21", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 22, "drtm-22", CVM_PCR_CLASS_RUNTIME, "dynamic root of trust" },
	{ 23, "application-support", CVM_PCR_CLASS_RUNTIME, "application use" },
};

const struct cvm_pcr_info *cvm_pcr_info(unsigned index)
{
	return index < CVM_PCR_COUNT ? &pcrs[index] : NULL;
}

static const char *const section_names[CVM_UKI_SECTION_MAX] = {
	[CVM_UKI_LINUX] = ".linux",
	[CVM_UKI_OSREL] = ".osrel",
	[CVM_UKI_CMDLINE] = ".cmdline",
	[CVM_UKI_INITRD] = ".initrd",
	[CVM_UKI_UCODE] = ".ucode",
	[CVM_UKI_SPLASH] = ".splash",
	[CVM_UKI_DTB] = ".dtb",
	[CVM_UKI_UNAME] = ".uname",
	[CVM_UKI_SBAT] = ".sbat",
	[CVM_UKI_PCRSIG] = ".pcrsig",
	[CVM_UKI_PCRPKEY] = ".pcrpkey",
	[CVM_UKI_PROFILE] = ".profile",
	[CVM_UKI_DTBAUTO] = ".dtbauto",
	[CVM_UKI_HWIDS] = ".hwids",
	[CVM_UKI_EFIFW] = ".efifw",
};

/* A section added to the enum without a name breaks the build here. */
_Static_assert(CVM_UKI_SECTION_MAX == 15, "new UKI section: name it in section_names and place it in the stub lists");

const char *cvm_uki_section_name(enum cvm_uki_section s)
{
	return (unsigned)s < CVM_UKI_SECTION_MAX ? section_names[s] : NULL;
}

int cvm_uki_section_from_name(const char *name)
{
	for (int i = 0; i < CVM_UKI_SECTION_MAX; i++)
		if (strcmp(section_names[i], name) == 0)
			return i;
	return -1;
}

static const enum cvm_uki_section list_252[] = {
	CVM_UKI_LINUX, CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_INITRD, CVM_UKI_SPLASH, CVM_UKI_DTB,
	CVM_UKI_PCRPKEY,
};
static const enum cvm_uki_section list_254[] = {
	CVM_UKI_LINUX, CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_INITRD, CVM_UKI_SPLASH, CVM_UKI_DTB,
	CVM_UKI_UNAME, CVM_UKI_SBAT, CVM_UKI_PCRPKEY,
};
static const enum cvm_uki_section list_256[] = {
	CVM_UKI_LINUX, CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_INITRD, CVM_UKI_UCODE, CVM_UKI_SPLASH,
	CVM_UKI_DTB, CVM_UKI_UNAME, CVM_UKI_SBAT, CVM_UKI_PCRPKEY,
};
static const enum cvm_uki_section list_257[] = {
	CVM_UKI_LINUX, CVM_UKI_OSREL, CVM_UKI_CMDLINE, CVM_UKI_INITRD, CVM_UKI_UCODE, CVM_UKI_SPLASH,
	CVM_UKI_DTB, CVM_UKI_UNAME, CVM_UKI_SBAT, CVM_UKI_PCRPKEY, CVM_UKI_PROFILE, CVM_UKI_DTBAUTO,
	CVM_UKI_HWIDS,
};

int cvm_uki_measured_sections(unsigned stub, const enum cvm_uki_section **ret_list)
{
	switch (stub) {
	case 252: case 253:
		*ret_list = list_252;
		return (int)CVM_ARRAY_SIZE(list_252);
	case 254: case 255:
		*ret_list = list_254;
		return (int)CVM_ARRAY_SIZE(list_254);
	case 256:
		*ret_list = list_256;
		return (int)CVM_ARRAY_SIZE(list_256);
	case 257:
		*ret_list = list_257;
		return (int)CVM_ARRAY_SIZE(list_257);
	}
	return -EOPNOTSUPP;
}
