/* TD quote parser and the offline signature checks on whatever parses. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/tdquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_td_quote q;
	const char *step;

	if (cvm_td_quote_parse(data, size, &q) < 0)
		return 0;
	(void)cvm_td_quote_verify_signature(&q);
	(void)cvm_td_quote_verify_qe(&q, &step);
	(void)cvm_td_quote_verify_pck_chain(&q, NULL, &step);
	return 0;
}
