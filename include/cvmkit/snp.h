/* AMD SEV-SNP attestation reports (SEV-SNP ABI spec, ATTESTATION_REPORT) and
 * their VCEK → ASK → ARK certificate chain.
 *
 * Parsing copies every field into a caller-owned struct; nothing is
 * allocated and nothing points into the input.  Parsing, generation and TCB
 * decoding are attest/snp.c (the guest links them); the VCEK, the chain and
 * the report signature are verify/snp-chain.c (host only), with mbedtls and
 * the AMD roots compiled in there (verify/certs/, the bundles Trustee
 * compiles in).  No function prints.  Certificate validity dates are not
 * checked (no trustworthy clock offline; Trustee does not check them either). */
#ifndef CVMKIT_SNP_H
#define CVMKIT_SNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVM_SNP_REPORT_SIZE 1184
#define CVM_SNP_SIGNED_SIZE 0x2A0 /* the signature covers report[0..0x2A0) */
#define CVM_SNP_SIG_ALGO_ECDSA_P384_SHA384 1

struct cvm_snp_report {
	uint32_t version;
	uint32_t guest_svn;
	uint64_t policy;
	uint8_t family_id[16];
	uint8_t image_id[16];
	uint32_t vmpl;
	uint32_t sig_algo;
	uint64_t current_tcb;
	uint64_t platform_info;
	uint32_t key_info; /* author_key_en, mask_chip_key, signing_key */
	uint8_t report_data[64];
	uint8_t measurement[48];
	uint8_t host_data[32];
	uint8_t id_key_digest[48];
	uint8_t author_key_digest[48];
	uint8_t report_id[32];
	uint8_t report_id_ma[32];
	uint64_t reported_tcb;
	bool has_cpuid; /* version >= 3 */
	uint8_t cpuid_fam_id, cpuid_mod_id, cpuid_step;
	uint8_t chip_id[64];
	uint64_t committed_tcb;
	uint8_t current_build, current_minor, current_major;
	uint8_t committed_build, committed_minor, committed_major;
	uint64_t launch_tcb;
	uint8_t sig_r[72], sig_s[72]; /* little-endian, as in the report */
	uint8_t raw[CVM_SNP_REPORT_SIZE];
};

/* Policy bits (POLICY field). */
#define CVM_SNP_POLICY_ABI_MINOR(p) ((unsigned)((p) & 0xff))
#define CVM_SNP_POLICY_ABI_MAJOR(p) ((unsigned)(((p) >> 8) & 0xff))
#define CVM_SNP_POLICY_SMT (1ull << 16)
#define CVM_SNP_POLICY_MIGRATE_MA (1ull << 18)
#define CVM_SNP_POLICY_DEBUG (1ull << 19)
#define CVM_SNP_POLICY_SINGLE_SOCKET (1ull << 20)
/* PLATFORM_INFO bits. */
#define CVM_SNP_PLATFORM_SMT_EN (1ull << 0)
#define CVM_SNP_PLATFORM_TSME_EN (1ull << 1)

/* Parses the first CVM_SNP_REPORT_SIZE bytes of buf (trailing bytes, as in
 * the 1184-byte HCL slot, are fine).
 * Returns 0; -EBADMSG when len is too short; -EPROTONOSUPPORT for a report
 * version other than 2..5. */
int cvm_snp_report_parse(const uint8_t *buf, size_t len, struct cvm_snp_report *ret);

enum cvm_amd_gen {
	CVM_AMD_GEN_UNKNOWN = 0,
	CVM_AMD_GEN_MILAN,
	CVM_AMD_GEN_GENOA,
	CVM_AMD_GEN_TURIN,
};

/* "Milan", "Genoa", "Turin" or "unknown". */
const char *cvm_amd_gen_name(enum cvm_amd_gen gen);

/* The processor generation from the report's CPUID bytes, with Trustee's
 * ranges (family 0x19 model 0x00-0x0F Milan, 0x10-0x1F / 0xA0-0xAE Genoa;
 * family 0x1A model 0x00-0x11 Turin).  Returns 0; -ENODATA for a version-2
 * report (no CPUID bytes); -EOPNOTSUPP for any other family/model. */
int cvm_snp_report_generation(const struct cvm_snp_report *r, enum cvm_amd_gen *ret_gen);

/* A TCB_VERSION split into its SPL fields; the byte layout differs for Turin.
 * fmc is 0 before Turin. */
struct cvm_snp_tcb {
	uint8_t fmc, bootloader, tee, snp, microcode;
};
void cvm_snp_tcb_decode(uint64_t tcb, enum cvm_amd_gen gen, struct cvm_snp_tcb *ret);

/* What a VCEK certificate says about the chip and TCB it was issued for
 * (AMD's 1.3.6.1.4.1.3704.1.* extensions).  Absent SPL extensions are -1. */
struct cvm_vcek_info {
	char cn[32];           /* "SEV-VCEK" or "SEV-VLEK" */
	bool has_hwid;
	uint8_t hwid[64];
	int bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
};

/* Parses a DER certificate of at most 16 KiB.  Returns 0; -EBADMSG when
 * it is not a certificate or an AMD extension is malformed. */
int cvm_vcek_parse(const uint8_t *der, size_t len, struct cvm_vcek_info *ret);

/* Verifies the VCEK (DER) → ASK → ARK chain of GEN against the compiled-in
 * AMD bundle: ARK self-signed, ASK signed by ARK, VCEK signed by ASK
 * (RSASSA-PSS SHA-384).  Returns 0; -EBADMSG for an unparsable VCEK;
 * -EINVAL for an unknown generation; -EKEYREJECTED when a signature or
 * issuer name does not match.  When the chain fails, *ret_step (if not NULL)
 * names the failing link ("ark-self-signature", "ask-signed-by-ark",
 * "vcek-signed-by-ask"). */
int cvm_amd_verify_vcek_chain(const uint8_t *der, size_t len, enum cvm_amd_gen gen, const char **ret_step);

/* The same links and step names against a caller-supplied PEM bundle (ASK,
 * then ARK: private roots, the simulated vTPM's test chain).  -EINVAL when
 * PEM is NULL or not a bundle of at least two certificates; otherwise as
 * above. */
int cvm_amd_verify_vcek_chain_pem(const uint8_t *der, size_t len, const char *pem, const char **ret_step);

/* The compiled-in PEM bundle (ASK, ARK, ASVK) of GEN, or NULL. */
const char *cvm_amd_builtin_pem(enum cvm_amd_gen gen);

/* Verifies the report signature (ECDSA P-384 over SHA-384 of the first
 * 0x2A0 bytes) with the public key of the VCEK (DER).  Returns 0; -EBADMSG
 * for an unparsable certificate or a key that is not P-384; -EOPNOTSUPP when
 * sig_algo is not 1; -EKEYREJECTED for a signature that does not verify. */
int cvm_snp_report_verify(const struct cvm_snp_report *r, const uint8_t *vcek_der, size_t len);

#endif
