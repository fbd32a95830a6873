/* SEV-SNP launch digest (SHA-384 PAGE_INFO chain), SEV / SEV-ES GCTX.LD,
 * the initial VMSA and QEMU's kernel-hashes table.  Layouts and the order of
 * the steps: snp-tdx-launch.md §3; parity target: virtee/sev-snp-measure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "cvmkit/bytes.h"
#include "cvmkit/ovmf.h"

enum page_type { PT_NORMAL = 1, PT_VMSA = 2, PT_ZERO = 3, PT_UNMEASURED = 4, PT_SECRETS = 5, PT_CPUID = 6 };

/* The RMP records VMSA pages at GPA (u64)-1, page-aligned and cut to 52 bits. */
#define VMSA_GPA 0x0000FFFFFFFFF000ull
#define PAGE_INFO_LEN 0x70u

static const uint8_t zero48[OVMF_SHA384_SIZE];

static void gctx_update(uint8_t ld[OVMF_SHA384_SIZE], enum page_type type, uint64_t gpa,
			const uint8_t contents[OVMF_SHA384_SIZE])
{
	uint8_t pi[PAGE_INFO_LEN] = { 0 };

	memcpy(pi, ld, OVMF_SHA384_SIZE);
	memcpy(pi + 0x30, contents, OVMF_SHA384_SIZE);
	cvm_put_le16(pi + 0x60, PAGE_INFO_LEN);
	pi[0x62] = (uint8_t)type;
	cvm_put_le64(pi + 0x68, gpa);
	ovmf_sha384(pi, sizeof(pi), ld);
}

static void gctx_pages(uint8_t ld[OVMF_SHA384_SIZE], enum page_type type, uint64_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += OVMF_PAGE_SIZE)
		gctx_update(ld, type, gpa + off, zero48);
}

int ovmf_vmm_from_name(const char *name, enum ovmf_vmm *ret_vmm)
{
	enum ovmf_vmm v;

	if (!name || !ret_vmm)
		return -EINVAL;
	if (strcasecmp(name, "qemu") == 0)
		v = OVMF_VMM_QEMU;
	else if (strcasecmp(name, "ec2") == 0)
		v = OVMF_VMM_EC2;
	else if (strcasecmp(name, "gce") == 0)
		v = OVMF_VMM_GCE;
	else
		return -EINVAL;
	*ret_vmm = v;
	return 0;
}

const char *ovmf_vmm_name(enum ovmf_vmm vmm)
{
	switch (vmm) {
	case OVMF_VMM_QEMU: return "QEMU";
	case OVMF_VMM_EC2: return "ec2";
	case OVMF_VMM_GCE: return "gce";
	}
	return "unknown";
}

uint32_t ovmf_cpu_sig(unsigned family, unsigned model, unsigned stepping)
{
	uint32_t fam_lo = family > 0xf ? 0xf : family, fam_hi = family > 0xf ? (family - 0xf) & 0xff : 0;

	return fam_hi << 20 | ((model >> 4) & 0xf) << 16 | (fam_lo & 0xf) << 8 | (model & 0xf) << 4 | (stepping & 0xf);
}

/* QEMU's builtin_x86_defs AMD EPYC models (family, model, stepping). */
static const struct { const char *name; unsigned f, m, s; } cpu_models[] = {
	{ "EPYC", 23, 1, 2 }, { "EPYC-v1", 23, 1, 2 }, { "EPYC-v2", 23, 1, 2 }, { "EPYC-IBPB", 23, 1, 2 },
	{ "EPYC-v3", 23, 1, 2 }, { "EPYC-v4", 23, 1, 2 },
	{ "EPYC-Rome", 23, 49, 0 }, { "EPYC-Rome-v1", 23, 49, 0 }, { "EPYC-Rome-v2", 23, 49, 0 },
	{ "EPYC-Rome-v3", 23, 49, 0 },
	{ "EPYC-Milan", 25, 1, 1 }, { "EPYC-Milan-v1", 25, 1, 1 }, { "EPYC-Milan-v2", 25, 1, 1 },
	{ "EPYC-Genoa", 25, 17, 0 }, { "EPYC-Genoa-v1", 25, 17, 0 },
	{ "EPYC-Turin", 26, 0, 0 },
};

int ovmf_cpu_sig_from_name(const char *name, uint32_t *ret_sig)
{
	if (!name || !ret_sig)
		return -EINVAL;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(cpu_models); i++)
		if (strcmp(cpu_models[i].name, name) == 0) {
			*ret_sig = ovmf_cpu_sig(cpu_models[i].f, cpu_models[i].m, cpu_models[i].s);
			return 0;
		}
	return -ENOENT;
}

const char *ovmf_cpu_model_name(unsigned i)
{
	return i < CVM_ARRAY_SIZE(cpu_models) ? cpu_models[i].name : NULL;
}

/* ---------------------------------------------------------------- kernel hashes */

static const uint8_t guid_ht[16] = { 0x06, 0xd6, 0x38, 0x94, 0x22, 0x4f, 0xc9, 0x4c,
				     0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21 };
static const uint8_t guid_cmdline[16] = { 0xd8, 0x2d, 0xd0, 0x97, 0x20, 0xbd, 0x94, 0x4c,
					  0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a };
static const uint8_t guid_initrd[16] = { 0x31, 0xf7, 0xba, 0x44, 0x2f, 0x3a, 0xd7, 0x4b,
					 0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d };
static const uint8_t guid_kernel[16] = { 0x37, 0x94, 0xe7, 0x4d, 0xd2, 0xab, 0x7f, 0x42,
					 0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b };

void ovmf_sev_hashes_set_cmdline(struct ovmf_sev_hashes *h, const char *cmdline)
{
	/* QEMU hashes the command line with its terminating NUL. */
	size_t n = cmdline ? strlen(cmdline) + 1 : 1;

	(void)mbedtls_sha256((const unsigned char *)(cmdline ? cmdline : ""), n, h->cmdline, 0);
}

void ovmf_sev_hash_table(const struct ovmf_sev_hashes *h, uint8_t out[OVMF_SEV_HASH_TABLE_SIZE])
{
	const uint8_t *guids[3] = { guid_cmdline, guid_initrd, guid_kernel };
	const uint8_t *hashes[3] = { h->cmdline, h->initrd, h->kernel };

	memset(out, 0, OVMF_SEV_HASH_TABLE_SIZE);
	memcpy(out, guid_ht, 16);
	cvm_put_le16(out + 16, 168);
	for (int i = 0; i < 3; i++) {
		uint8_t *e = out + 18 + 50 * i;
		memcpy(e, guids[i], 16);
		cvm_put_le16(e + 16, 50);
		memcpy(e + 18, hashes[i], OVMF_SHA256_SIZE);
	}
}

/* ---------------------------------------------------------------- VMSA */

static void put_seg(uint8_t *p, uint16_t sel, uint16_t attr, uint32_t limit, uint64_t base)
{
	cvm_put_le16(p, sel);
	cvm_put_le16(p + 2, attr);
	cvm_put_le32(p + 4, limit);
	cvm_put_le64(p + 8, base);
}

int ovmf_vmsa_build(uint32_t eip, uint64_t sev_features, uint32_t vcpu_sig,
		    enum ovmf_vmm vmm, uint8_t page[OVMF_PAGE_SIZE])
{
	uint16_t cs_attr = 0x9b, ss_attr = 0x93, tr_attr = 0x8b, fcw = 0x37f;
	uint64_t g_pat = 0x0007040600070406ull, rdx = vcpu_sig;
	uint32_t mxcsr = 0x1f80;

	if (!page)
		return -EINVAL;
	switch (vmm) {
	case OVMF_VMM_QEMU:
		break;
	case OVMF_VMM_EC2:
		if (eip == OVMF_VMSA_BSP_EIP)
			cs_attr = 0x9a;
		ss_attr = 0x92;
		tr_attr = 0x83;
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
		break;
	case OVMF_VMM_GCE:
		g_pat = 0x00070106;  /* the GCE hypervisor overwrites the default PAT */
		rdx = 0x600;
		mxcsr = 0;
		fcw = 0;
		break;
	default:
		return -EINVAL;
	}
	memset(page, 0, OVMF_PAGE_SIZE);
	put_seg(page + 0x000, 0, 0x93, 0xffff, 0);                    /* es */
	put_seg(page + 0x010, 0xf000, cs_attr, 0xffff, eip & 0xffff0000u);
	put_seg(page + 0x020, 0, ss_attr, 0xffff, 0);
	put_seg(page + 0x030, 0, 0x93, 0xffff, 0);                    /* ds */
	put_seg(page + 0x040, 0, 0x93, 0xffff, 0);                    /* fs */
	put_seg(page + 0x050, 0, 0x93, 0xffff, 0);                    /* gs */
	put_seg(page + 0x060, 0, 0, 0xffff, 0);                       /* gdtr */
	put_seg(page + 0x070, 0, 0x82, 0xffff, 0);                    /* ldtr */
	put_seg(page + 0x080, 0, 0, 0xffff, 0);                       /* idtr */
	put_seg(page + 0x090, 0, tr_attr, 0xffff, 0);
	cvm_put_le64(page + 0x0d0, 0x1000);      /* efer: KVM sets SVME */
	cvm_put_le64(page + 0x148, 0x40);        /* cr4: KVM sets MCE */
	cvm_put_le64(page + 0x158, 0x10);        /* cr0 */
	cvm_put_le64(page + 0x160, 0x400);       /* dr7 */
	cvm_put_le64(page + 0x168, 0xffff0ff0);  /* dr6 */
	cvm_put_le64(page + 0x170, 0x2);         /* rflags */
	cvm_put_le64(page + 0x178, eip & 0xffff);
	cvm_put_le64(page + 0x268, g_pat);
	cvm_put_le64(page + 0x310, rdx);
	cvm_put_le64(page + 0x3b0, sev_features);
	cvm_put_le64(page + 0x3e8, 0x1);         /* xcr0 */
	cvm_put_le32(page + 0x408, mxcsr);
	cvm_put_le16(page + 0x410, fcw);
	return 0;
}

/* SHA-384 of the BSP and AP VMSA pages (all APs share one). */
static int vmsa_hashes(const struct ovmf_image *img, uint64_t features, uint32_t sig, enum ovmf_vmm vmm,
		       uint8_t bsp[OVMF_SHA384_SIZE], uint8_t ap[OVMF_SHA384_SIZE])
{
	uint8_t page[OVMF_PAGE_SIZE];
	int r;

	r = ovmf_vmsa_build(OVMF_VMSA_BSP_EIP, features, sig, vmm, page);
	if (r < 0)
		return r;
	ovmf_sha384(page, sizeof(page), bsp);
	r = ovmf_vmsa_build(img->sev_es_reset_eip, features, sig, vmm, page);
	if (r < 0)
		return r;
	ovmf_sha384(page, sizeof(page), ap);
	return 0;
}

/* ---------------------------------------------------------------- SNP */

static int check_pages(const struct ovmf_image *img)
{
	if (!img || !img->buf || img->len == 0 || img->len % OVMF_PAGE_SIZE)
		return -EBADMSG;
	return 0;
}

int ovmf_snp_ovmf_hash(const struct ovmf_image *img, uint8_t ret_ld[OVMF_SHA384_SIZE])
{
	uint8_t ld[OVMF_SHA384_SIZE] = { 0 }, h[OVMF_SHA384_SIZE];
	int r = check_pages(img);

	if (r < 0)
		return r;
	for (size_t off = 0; off < img->len; off += OVMF_PAGE_SIZE) {
		ovmf_sha384(img->buf + off, OVMF_PAGE_SIZE, h);
		gctx_update(ld, PT_NORMAL, img->gpa + off, h);
	}
	memcpy(ret_ld, ld, sizeof(ld));
	return 0;
}

static bool has_kernel_hashes_section(const struct ovmf_image *img)
{
	for (unsigned i = 0; i < img->n_sev; i++)
		if (img->sev[i].type == OVMF_SEV_KERNEL_HASHES)
			return true;
	return false;
}

/* LD after firmware pages and metadata: everything but the VMSAs. */
static int snp_prefix(const struct ovmf_image *img, const struct ovmf_snp_params *p,
		      uint8_t ld[OVMF_SHA384_SIZE])
{
	int r;

	if (!p || (p->vmm != OVMF_VMM_QEMU && p->vmm != OVMF_VMM_EC2 && p->vmm != OVMF_VMM_GCE))
		return -EINVAL;
	if (!img)
		return -EINVAL;
	if (!img->has_sev_metadata)
		return -ENOENT;
	if (!img->has_reset_block)
		return -ENOENT;
	if (p->hashes && (!has_kernel_hashes_section(img) || !img->has_hash_table))
		return -ENOENT;
	if (p->ovmf_hash)
		memcpy(ld, p->ovmf_hash, OVMF_SHA384_SIZE);
	else {
		r = ovmf_snp_ovmf_hash(img, ld);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < img->n_sev; i++) {
		const struct ovmf_sev_section *s = &img->sev[i];

		switch (s->type) {
		case OVMF_SEV_SEC_MEM:
			gctx_pages(ld, p->vmm == OVMF_VMM_GCE ? PT_UNMEASURED : PT_ZERO, s->gpa, s->size);
			break;
		case OVMF_SEV_SECRETS:
			gctx_update(ld, PT_SECRETS, s->gpa, zero48);
			break;
		case OVMF_SEV_CPUID:
			if (p->vmm != OVMF_VMM_EC2)  /* EC2 appends all CPUID pages at the end */
				gctx_update(ld, PT_CPUID, s->gpa, zero48);
			break;
		case OVMF_SEV_SVSM_CAA:
			gctx_pages(ld, PT_ZERO, s->gpa, s->size);
			break;
		case OVMF_SEV_KERNEL_HASHES:
			if (p->hashes) {
				uint8_t page[OVMF_PAGE_SIZE] = { 0 }, h[OVMF_SHA384_SIZE];
				uint32_t in_page = img->hash_table_gpa & (OVMF_PAGE_SIZE - 1);

				if (s->size != OVMF_PAGE_SIZE || in_page + OVMF_SEV_HASH_TABLE_SIZE > OVMF_PAGE_SIZE)
					return -EBADMSG;
				ovmf_sev_hash_table(p->hashes, page + in_page);
				ovmf_sha384(page, sizeof(page), h);
				gctx_update(ld, PT_NORMAL, s->gpa, h);
			} else
				gctx_pages(ld, PT_ZERO, s->gpa, s->size);
			break;
		default:
			return -EPROTONOSUPPORT;  /* unreachable: ovmf_parse() refuses it */
		}
	}
	if (p->vmm == OVMF_VMM_EC2)
		for (unsigned i = 0; i < img->n_sev; i++)
			if (img->sev[i].type == OVMF_SEV_CPUID)
				gctx_update(ld, PT_CPUID, img->sev[i].gpa, zero48);
	return 0;
}

int ovmf_snp_digest(const struct ovmf_image *img, const struct ovmf_snp_params *p,
		    uint8_t ret_ld[OVMF_SHA384_SIZE])
{
	uint8_t ld[OVMF_SHA384_SIZE], bsp[OVMF_SHA384_SIZE], ap[OVMF_SHA384_SIZE];
	int r;

	if (!p || p->vcpus == 0 || p->vcpus > OVMF_MAX_VCPUS)
		return -EINVAL;
	r = snp_prefix(img, p, ld);
	if (r < 0)
		return r;
	r = vmsa_hashes(img, p->guest_features, p->vcpu_sig, p->vmm, bsp, ap);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < p->vcpus; i++)
		gctx_update(ld, PT_VMSA, VMSA_GPA, i == 0 ? bsp : ap);
	memcpy(ret_ld, ld, sizeof(ld));
	return 0;
}

int ovmf_snp_table(const struct ovmf_image *img, const struct ovmf_snp_params *p,
		   const uint32_t *sigs, size_t n_sigs, const unsigned *counts, size_t n_counts,
		   uint8_t (*out)[OVMF_SHA384_SIZE])
{
	uint8_t prefix[OVMF_SHA384_SIZE];
	unsigned max = 0;
	int r;

	if (!sigs || !counts || !out || n_sigs == 0 || n_counts == 0 || n_sigs > 4096 || n_counts > OVMF_MAX_VCPUS)
		return -EINVAL;
	for (size_t c = 0; c < n_counts; c++) {
		if (counts[c] == 0 || counts[c] > OVMF_MAX_VCPUS)
			return -EINVAL;
		if (counts[c] > max)
			max = counts[c];
	}
	r = snp_prefix(img, p, prefix);
	if (r < 0)
		return r;
	for (size_t s = 0; s < n_sigs; s++) {
		uint8_t ld[OVMF_SHA384_SIZE], bsp[OVMF_SHA384_SIZE], ap[OVMF_SHA384_SIZE];

		r = vmsa_hashes(img, p->guest_features, sigs[s], p->vmm, bsp, ap);
		if (r < 0)
			return r;
		memcpy(ld, prefix, sizeof(ld));
		/* Each extra vCPU only appends one PAGE_INFO to the chain. */
		for (unsigned k = 1; k <= max; k++) {
			gctx_update(ld, PT_VMSA, VMSA_GPA, k == 1 ? bsp : ap);
			for (size_t c = 0; c < n_counts; c++)
				if (counts[c] == k)
					memcpy(out[s * n_counts + c], ld, sizeof(ld));
		}
	}
	return (int)(n_sigs * n_counts);
}

/* ---------------------------------------------------------------- SEV, SEV-ES */

int ovmf_sev_digest(const struct ovmf_image *img, enum ovmf_sev_mode mode, unsigned vcpus,
		    uint32_t vcpu_sig, enum ovmf_vmm vmm, const struct ovmf_sev_hashes *hashes,
		    uint8_t ret_ld[OVMF_SHA256_SIZE])
{
	mbedtls_sha256_context c;
	uint8_t page[OVMF_PAGE_SIZE], out[OVMF_SHA256_SIZE];
	int r;

	if (!img || !img->buf || (mode != OVMF_MODE_SEV && mode != OVMF_MODE_SEV_ES))
		return -EINVAL;
	if (mode == OVMF_MODE_SEV_ES && (vcpus == 0 || vcpus > OVMF_MAX_VCPUS))
		return -EINVAL;
	if (hashes && (!img->has_hash_table || img->hash_table_gpa == 0))
		return -ENOENT;
	if (mode == OVMF_MODE_SEV_ES && !img->has_reset_block)
		return -ENOENT;
	mbedtls_sha256_init(&c);
	(void)mbedtls_sha256_starts(&c, 0);
	(void)mbedtls_sha256_update(&c, img->buf, img->len);
	if (hashes) {
		uint8_t table[OVMF_SEV_HASH_TABLE_SIZE];
		ovmf_sev_hash_table(hashes, table);
		(void)mbedtls_sha256_update(&c, table, sizeof(table));
	}
	if (mode == OVMF_MODE_SEV_ES)
		for (unsigned i = 0; i < vcpus; i++) {
			/* SEV-ES VMSAs carry no SEV_FEATURES. */
			r = ovmf_vmsa_build(i == 0 ? OVMF_VMSA_BSP_EIP : img->sev_es_reset_eip, 0, vcpu_sig, vmm, page);
			if (r < 0)
				goto out;
			(void)mbedtls_sha256_update(&c, page, sizeof(page));
		}
	(void)mbedtls_sha256_finish(&c, out);
	memcpy(ret_ld, out, sizeof(out));
	r = 0;
out:
	mbedtls_sha256_free(&c);
	return r;
}
