/* libFuzzer harness: the evidence lines after the CVMKIT-MEASURED-BOOT line
 * (cvm_capture_evidence_parse), and what authentication does with them. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/capture-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t nonce[8] = { 0 };
	struct cvm_capture_evidence ev = { 0 };
	struct cvm_capture cap = { 0 };
	struct cvm_capture_auth_opts o = { .nonce = nonce, .nonce_len = sizeof(nonce) };
	struct cvm_capture_auth_result res;

	if (cvm_capture_evidence_parse(data, size, &ev) != 0)
		return 0;
	if (cvm_capture_parse_line(data, size, &cap) == 0) {
		(void)cvm_capture_authenticate(&cap, &ev, &o, &res);
		cvm_capture_free(&cap);
	}
	cvm_capture_evidence_free(&ev);
	return 0;
}
