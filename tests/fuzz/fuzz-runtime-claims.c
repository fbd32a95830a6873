/* Runtime-claims (HCL var data) JSON parser. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hcl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_runtime_claims rc;

	(void)cvm_runtime_claims_parse(data, size, &rc);
	return 0;
}
