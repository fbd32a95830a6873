/* What Azure IMDS answers the guest: the /acc/tdquote JSON (then the TD quote
 * it carries, as a verifier would read it) and the THIM certification JSON.
 * The first byte picks the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/evidence.h"
#include "cvmkit/tdquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_td_quote q;
	uint8_t *out;
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (cvm_thim_vcek_der(data + 1, size - 1, &out, &len) == 0)
			free(out);
		return 0;
	}
	if (cvm_imds_td_quote_response(data + 1, size - 1, &out, &len) < 0)
		return 0;
	(void)cvm_td_quote_parse(out, len, &q);
	free(out);
	return 0;
}
