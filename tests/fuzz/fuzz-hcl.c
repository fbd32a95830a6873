/* HCL report parser, binding check and the runtime claims inside. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_hcl_report h;
	struct cvm_runtime_claims rc;
	uint8_t d[32];

	if (cvm_hcl_report_parse(data, size, &h) < 0)
		return 0;
	(void)cvm_hcl_check_binding(&h, d);
	(void)cvm_runtime_claims_parse(h.var_data, h.var_data_size, &rc);
	return 0;
}
