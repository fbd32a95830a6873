/* TPMS_ATTEST parser. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/tpmquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_tpms_attest a;

	(void)cvm_tpms_attest_parse(data, size, &a);
	return 0;
}
