/* Fuzzes the OVMF footer / ASEV / TDVF parser and everything that walks its
 * result: the SNP and SEV digests, the MRTD, and the PE Authenticode reader. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/ovmf.h"

/* Keeps one input's work bounded: metadata may legally describe GiBs, and
 * every measured page is a SHA-384 of 4 KiB.  The page loops do the same for
 * page 64 as for page 4096; 4096 made SHA-512 compression 72 % of the run. */
#define MAX_PAGES 64u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ovmf_image img;
	uint8_t d[OVMF_SHA384_SIZE];
	uint64_t pages = 0;
	static const struct ovmf_sev_hashes h;
	struct ovmf_snp_params p = { .vcpus = 2, .vcpu_sig = 0x800f12, .guest_features = 1,
				     .vmm = OVMF_VMM_EC2, .hashes = &h };
	const unsigned counts[2] = { 1, 3 };
	const uint32_t sigs[1] = { 0xa00f11 };
	uint8_t table[2][OVMF_SHA384_SIZE];

	(void)ovmf_authenticode_sha384(data, size, d);
	if (ovmf_parse(data, size, &img) < 0)
		return 0;
	for (unsigned i = 0; i < img.n_sev; i++)
		pages += img.sev[i].size / OVMF_PAGE_SIZE;
	if (pages <= MAX_PAGES && size <= (1u << 20)) {
		(void)ovmf_snp_digest(&img, &p, d);
		p.hashes = NULL;
		p.vmm = OVMF_VMM_GCE;
		(void)ovmf_snp_table(&img, &p, sigs, 1, counts, 2, table);
		(void)ovmf_sev_digest(&img, OVMF_MODE_SEV_ES, 2, 0, OVMF_VMM_QEMU, &h, d);
	}
	pages = 0;
	for (unsigned i = 0; i < img.n_tdvf; i++)
		pages += img.tdvf[i].memory_data_size / OVMF_PAGE_SIZE;
	if (pages <= MAX_PAGES) {
		(void)ovmf_tdx_mrtd(&img, OVMF_TDX_SINGLE_PASS, d);
		(void)ovmf_tdx_mrtd(&img, OVMF_TDX_TWO_PASS, d);
	}
	return 0;
}
