/* OVMF launch measurements: the GUIDed footer table, SEV metadata ("ASEV"),
 * TDVF metadata, the SEV-SNP launch digest, the SEV / SEV-ES launch digests,
 * the TDX MRTD and the firmware-independent parts of RTMR 1 and 2.
 *
 * Reference: ../shared/notes/snp-tdx-launch.md; results match
 * virtee/sev-snp-measure (0.0.13+, including the EC2 rdx = 0x600 VMSA) and the
 * TDX tools (single-pass and two-pass MRTD).
 *
 * Ownership: every function borrows its inputs; nothing here allocates except
 * ovmf_snp_table()'s caller buffer, which the caller owns.
 * struct ovmf_image keeps a pointer to the firmware bytes it was parsed from:
 * those bytes must outlive it.
 *
 * Errors (all functions): 0 or a non-negative count on success, otherwise a
 * negative errno; out-parameters named ret_* are written only on success.
 *   -EINVAL           bad argument (NULL, zero vCPUs, unknown enum value)
 *   -EBADMSG          malformed firmware: truncated footer, bad lengths or
 *                     offsets, bad signature or version, misaligned or
 *                     overlapping sections
 *   -EPROTONOSUPPORT  a metadata section type this code does not know
 *                     (never skipped: a new type changes the measurement)
 *   -ENOENT           the firmware lacks what the computation needs (no
 *                     SEV-ES reset block, no SEV metadata, no TDVF metadata,
 *                     a kernel without a KERNEL_HASHES section / hash table)
 *   -E2BIG            a hard cap below is exceeded
 *   -EOPNOTSUPP       the combination is not implemented (e.g. a TDVF
 *                     section type QEMU does not load)
 *   -ENOMEM, -EIO...  from allocation and file I/O
 * After a failed ovmf_parse(), img->error and img->error_value say what was
 * wrong in one phrase (static string) and which value (type, offset, length).
 * Nothing in this module prints. */
#ifndef CVMKIT_OVMF_H
#define CVMKIT_OVMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVMF_PAGE_SIZE           4096u
#define OVMF_SHA384_SIZE         48u
#define OVMF_SHA256_SIZE         32u
#define OVMF_MAX_IMAGE_SIZE      (64u << 20)  /* firmware images (OVMF.fd is 2-4 MiB) */
#define OVMF_MAX_FOOTER_ENTRIES  32u
#define OVMF_MAX_SEV_SECTIONS    64u
#define OVMF_MAX_TDVF_SECTIONS   64u
#define OVMF_MAX_SECTION_SIZE    (1ull << 30) /* per metadata section (pages are hashed one by one) */
#define OVMF_MAX_VCPUS           4096u

/* ---------------------------------------------------------------- parsing */

/* SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.nasm.inc). */
enum ovmf_sev_section_type {
	OVMF_SEV_SEC_MEM      = 1,
	OVMF_SEV_SECRETS      = 2,
	OVMF_SEV_CPUID        = 3,
	OVMF_SEV_SVSM_CAA     = 4,
	OVMF_SEV_KERNEL_HASHES = 0x10,
};

/* TDVF section types (TDVF design guide; 4-7 are td-shim types QEMU refuses). */
enum ovmf_tdvf_section_type {
	OVMF_TDVF_BFV = 0, OVMF_TDVF_CFV = 1, OVMF_TDVF_TD_HOB = 2, OVMF_TDVF_TEMP_MEM = 3,
	OVMF_TDVF_PERM_MEM = 4, OVMF_TDVF_PAYLOAD = 5, OVMF_TDVF_PAYLOAD_PARAM = 6, OVMF_TDVF_TD_INFO = 7,
};
#define OVMF_TDVF_ATTR_MR_EXTEND 0x1u
#define OVMF_TDVF_ATTR_PAGE_AUG  0x2u

struct ovmf_footer_entry {
	uint8_t guid[16];        /* on-disk (mixed-endian) bytes */
	uint32_t data_offset;    /* file offset of the entry's data */
	uint32_t data_len;
};

struct ovmf_sev_section {
	uint32_t gpa, size, type;
};

struct ovmf_tdvf_section {
	uint32_t data_offset, raw_data_size;
	uint64_t memory_address, memory_data_size;
	uint32_t type, attributes;
};

/* Parse result and context; caller-owned, filled by ovmf_parse(). */
struct ovmf_image {
	const uint8_t *buf;      /* borrowed firmware bytes */
	size_t len;
	uint64_t gpa;            /* 4 GiB - len: where -bios maps the image */

	bool has_footer;         /* false: no GUIDed table (legacy or non-OVMF image) */
	unsigned n_entries;
	struct ovmf_footer_entry entries[OVMF_MAX_FOOTER_ENTRIES];

	bool has_reset_block;    /* SEV-ES reset block: AP entry point */
	uint32_t sev_es_reset_eip;
	bool has_hash_table;     /* SEV hash-table entry (GPA 0 in stock OvmfPkgX64) */
	uint32_t hash_table_gpa, hash_table_size;
	bool has_secret_block;
	uint32_t secret_gpa, secret_size;
	bool has_svsm_info;
	uint32_t svsm_entry_offset;

	bool has_sev_metadata;
	uint32_t sev_metadata_offset;   /* from image end */
	unsigned n_sev;
	struct ovmf_sev_section sev[OVMF_MAX_SEV_SECTIONS];

	bool has_tdvf;
	uint32_t tdvf_offset;           /* from image end, of the "TDVF" descriptor */
	unsigned n_tdvf;
	struct ovmf_tdvf_section tdvf[OVMF_MAX_TDVF_SECTIONS];

	const char *error;       /* after a failure: what was wrong (static), else NULL */
	uint64_t error_value;    /* the offending value (type, offset, length, index) */
};

/* Parses footer table, SEV metadata and TDVF metadata of the firmware image
 * buf[0..len) (len <= OVMF_MAX_IMAGE_SIZE).  An image without the footer GUID
 * parses successfully with has_footer = false.  img keeps buf. */
int ovmf_parse(const uint8_t *buf, size_t len, struct ovmf_image *img);

/* Static names: "SNP_SEC_MEM"..., "BFV"...; "unknown" for others. */
const char *ovmf_sev_section_name(uint32_t type);
const char *ovmf_tdvf_section_name(uint32_t type);

/* Known footer GUIDs (on-disk bytes) and their names, NULL-terminated by name. */
struct ovmf_guid_name { uint8_t guid[16]; const char *name; const char *text; };
extern const struct ovmf_guid_name ovmf_footer_guids[];
const char *ovmf_footer_guid_name(const uint8_t guid[16]);  /* NULL if unknown */
/* Formats 16 on-disk GUID bytes as the canonical 36-character string + NUL. */
void ovmf_guid_format(const uint8_t guid[16], char out[37]);

/* ---------------------------------------------------------------- SEV family */

enum ovmf_vmm { OVMF_VMM_QEMU = 1, OVMF_VMM_EC2 = 2, OVMF_VMM_GCE = 3 };
enum ovmf_sev_mode { OVMF_MODE_SEV = 1, OVMF_MODE_SEV_ES, OVMF_MODE_SNP };

/* "QEMU", "ec2", "gce" (sev-snp-measure spellings; case-insensitive). */
int ovmf_vmm_from_name(const char *name, enum ovmf_vmm *ret_vmm);
const char *ovmf_vmm_name(enum ovmf_vmm vmm);

/* CPUID Fn0000_0001_EAX signature from family/model/stepping (each masked as
 * the AMD CPUID spec does). */
uint32_t ovmf_cpu_sig(unsigned family, unsigned model, unsigned stepping);
/* QEMU CPU model name ("EPYC-v4", "EPYC-Milan", ...) to its signature. */
int ovmf_cpu_sig_from_name(const char *name, uint32_t *ret_sig);
/* The i-th known model name, NULL past the end (for --help and --table). */
const char *ovmf_cpu_model_name(unsigned i);

/* The three hashes of QEMU's kernel-hashes table (SHA-256 each). */
struct ovmf_sev_hashes {
	uint8_t kernel[OVMF_SHA256_SIZE];
	uint8_t initrd[OVMF_SHA256_SIZE];   /* SHA-256("") when there is no initrd */
	uint8_t cmdline[OVMF_SHA256_SIZE];  /* SHA-256(cmdline || NUL), SHA-256("\0") if none */
};
#define OVMF_SEV_HASH_TABLE_SIZE 176u   /* 168 bytes padded to 16 */

/* cmdline NULL or "" hashes a single NUL. */
void ovmf_sev_hashes_set_cmdline(struct ovmf_sev_hashes *h, const char *cmdline);
/* The 176-byte padded table exactly as QEMU writes it. */
void ovmf_sev_hash_table(const struct ovmf_sev_hashes *h, uint8_t out[OVMF_SEV_HASH_TABLE_SIZE]);

#define OVMF_VMSA_BSP_EIP 0xFFFFFFF0u
/* Builds the 4096-byte initial VMSA of a vCPU starting at eip. */
int ovmf_vmsa_build(uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
		    enum ovmf_vmm vmm, uint8_t page[OVMF_PAGE_SIZE]);

struct ovmf_snp_params {
	unsigned vcpus;                        /* 1..OVMF_MAX_VCPUS */
	uint32_t vcpu_sig;                     /* ignored (rdx = 0x600) for EC2 and GCE */
	uint64_t guest_features;               /* VMSA SEV_FEATURES; sev-snp-measure default 0x1 */
	enum ovmf_vmm vmm;
	const uint8_t *ovmf_hash;              /* optional 48-byte seed replacing the firmware pages */
	const struct ovmf_sev_hashes *hashes;  /* NULL: no kernel (KERNEL_HASHES page stays ZERO) */
};

/* The launch digest after the firmware pages only (sev-snp-measure
 * "snp:ovmf-hash").  Needs only a 4 KiB-multiple image. */
int ovmf_snp_ovmf_hash(const struct ovmf_image *img, uint8_t ret_ld[OVMF_SHA384_SIZE]);

/* SEV-SNP MEASUREMENT: firmware pages (or the seed), metadata sections in
 * binary order, one VMSA per vCPU. */
int ovmf_snp_digest(const struct ovmf_image *img, const struct ovmf_snp_params *p,
		    uint8_t ret_ld[OVMF_SHA384_SIZE]);

/* Digests for every (signature, vCPU count) pair: out[s * n_counts + c] for
 * sigs[s] and counts[c] (each 1..OVMF_MAX_VCPUS).  p->vcpus and p->vcpu_sig
 * are ignored.  The firmware pages and metadata are hashed once, so a table
 * costs one digest plus one PAGE_INFO per extra vCPU.  Returns the number of
 * digests written (n_sigs * n_counts). */
int ovmf_snp_table(const struct ovmf_image *img, const struct ovmf_snp_params *p,
		   const uint32_t *sigs, size_t n_sigs, const unsigned *counts, size_t n_counts,
		   uint8_t (*out)[OVMF_SHA384_SIZE]);

/* SEV (mode OVMF_MODE_SEV) or SEV-ES (OVMF_MODE_SEV_ES) GCTX.LD, SHA-256 of
 * firmware || [hash table] || [VMSAs]; vcpus/vcpu_sig/vmm matter for SEV-ES only. */
int ovmf_sev_digest(const struct ovmf_image *img, enum ovmf_sev_mode mode, unsigned vcpus,
		    uint32_t vcpu_sig, enum ovmf_vmm vmm, const struct ovmf_sev_hashes *hashes,
		    uint8_t ret_ld[OVMF_SHA256_SIZE]);

/* ---------------------------------------------------------------- TDX */

enum ovmf_tdx_order {
	OVMF_TDX_SINGLE_PASS = 1,  /* per page: MEM.PAGE.ADD, then its 16 MR.EXTENDs (QEMU >= 9, upstream KVM) */
	OVMF_TDX_TWO_PASS = 2,     /* per section: all ADDs, then all EXTENDs (QEMU 8.x TDX stacks) */
};

/* MRTD from the TDVF metadata.  Sections of type 4..7 give -EOPNOTSUPP. */
int ovmf_tdx_mrtd(const struct ovmf_image *img, enum ovmf_tdx_order order,
		  uint8_t ret_mrtd[OVMF_SHA384_SIZE]);

/* ---------------------------------------------------------------- TDX RTMRs */

/* RTMR = SHA-384(RTMR || digest), from zero. */
void ovmf_rtmr_extend(uint8_t rtmr[OVMF_SHA384_SIZE], const uint8_t digest[OVMF_SHA384_SIZE]);

/* Patches the bzImage setup header the way QEMU's x86_load_linux() does
 * before handing the kernel to OVMF over fw_cfg: loader type, heap end,
 * command-line pointer, vga= mode and, with an initrd, its address (which
 * depends on below_4g_mem, QEMU's below-4G RAM) and size.  kernel must be
 * writable, len >= 0x1000 with "HdrS" at 0x202 (else -EOPNOTSUPP);
 * cmdline NULL = none.  -E2BIG when the initrd does not fit below initrd_max. */
int ovmf_tdx_patch_kernel(uint8_t *kernel, size_t len, const char *cmdline, uint64_t below_4g_mem,
			  bool has_initrd, uint64_t initrd_size);

/* QEMU q35 below-4G RAM for a given -m size in bytes. */
uint64_t ovmf_q35_below_4g(uint64_t mem_size);

/* PE/COFF Authenticode digest (SHA-384) as edk2 computes it. */
int ovmf_authenticode_sha384(const uint8_t *pe, size_t len, uint8_t ret_digest[OVMF_SHA384_SIZE]);

/* edk2 version switches that change the RTMR events. */
enum ovmf_edk2_era {
	OVMF_EDK2_202411_TO_202505 = 1, /* separators in RTMR1, "<cmdline> initrd=initrd" (Debian trixie 2025.02) */
	OVMF_EDK2_202508_PLUS,          /* "initrd=initrd <cmdline>" */
	OVMF_EDK2_202302_TO_202408,     /* ReadyToBoot separator went to RTMR0, not RTMR1 */
};

/* RTMR1 of an OVMF direct kernel boot from the patched kernel's Authenticode
 * digest.  RTMR2 from the LoadOptions the firmware builds and the initrd's
 * SHA-384 (initrd_sha384 NULL: no initrd).  cmdline NULL = none.  Also
 * returns the LoadOptions event digest (Trustee "tdvfkernelparams");
 * ret_loadopts may be NULL.  With neither cmdline nor initrd RTMR2 is zero. */
int ovmf_tdx_rtmr1(const uint8_t kernel_authenticode[OVMF_SHA384_SIZE], enum ovmf_edk2_era era,
		   uint8_t ret_rtmr1[OVMF_SHA384_SIZE]);
int ovmf_tdx_rtmr2(const char *cmdline, const uint8_t *initrd_sha384, enum ovmf_edk2_era era,
		   uint8_t ret_rtmr2[OVMF_SHA384_SIZE], uint8_t ret_loadopts[OVMF_SHA384_SIZE]);

/* ---------------------------------------------------------------- helpers */

/* Hex, reading and hashing files: common/'s hex.h, fileio.h, hash.h. */
/* SHA-256 / SHA-384 one-shot. */
void ovmf_sha256(const void *buf, size_t len, uint8_t out[OVMF_SHA256_SIZE]);
void ovmf_sha384(const void *buf, size_t len, uint8_t out[OVMF_SHA384_SIZE]);
/* Standard base64 with padding (out holds 4 * ((len + 2) / 3) + 1). */
void ovmf_base64(const uint8_t *buf, size_t len, char *out);

#endif
