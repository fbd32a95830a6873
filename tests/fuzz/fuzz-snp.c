/* SEV-SNP report parser, VCEK parser and report verification on fuzzed bytes:
 * the first 1184 bytes are the report, the rest a candidate VCEK (DER). */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_snp_report r;
	struct cvm_vcek_info vi;
	enum cvm_amd_gen gen;

	if (cvm_snp_report_parse(data, size, &r) < 0)
		return 0;
	(void)cvm_snp_report_generation(&r, &gen);
	if (size > CVM_SNP_REPORT_SIZE) {
		(void)cvm_vcek_parse(data + CVM_SNP_REPORT_SIZE, size - CVM_SNP_REPORT_SIZE, &vi);
		(void)cvm_snp_report_verify(&r, data + CVM_SNP_REPORT_SIZE, size - CVM_SNP_REPORT_SIZE);
	}
	return 0;
}
