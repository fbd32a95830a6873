/* libFuzzer harness: the CVMKIT-MEASURED-BOOT line and "N: hex" parsers. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_capture c = { 0 };

	if (cvm_capture_parse(data, size, &c) == 0)
		cvm_capture_free(&c);
	if (cvm_capture_parse_pcr_lines(data, size, &c) == 0)
		cvm_capture_free(&c);
	return 0;
}
