/* HCL report parser, binding check, the runtime claims and (TDX) the TDREPORT
 * inside. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_hcl_report h;
	struct cvm_runtime_claims rc;
	struct cvm_td_report tdr;
	uint8_t d[32];

	if (cvm_hcl_report_parse(data, size, &h) < 0)
		return 0;
	(void)cvm_hcl_check_binding(&h, d);
	(void)cvm_runtime_claims_parse(h.var_data, h.var_data_size, &rc);
	(void)cvm_td_report_parse(h.hw_report, CVM_HCL_HW_REPORT_SIZE, &tdr);
	return 0;
}
