/* TD quote parser and the offline signature checks on whatever parses.
 *
 * The quote's own signature (cvm_td_quote_verify_signature: a P-256
 * verification over the quote with the key it carries) was 60 % of a run and
 * has no parser behind it; a mutated quote fails it the same way every time.
 * It runs for one input in eight, those whose first header user-data byte
 * (free-form, never parsed; zero in real quotes) has its low three bits set,
 * so the fuzzer still reaches it with a one-byte change.  The QE and PCK-chain checks, which parse certificates, run on
 * every input. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/tdquote.h"

#define USER_DATA_OFFSET 28

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_td_quote q;
	const char *step;

	if (cvm_td_quote_parse(data, size, &q) < 0)
		return 0;
	if ((data[USER_DATA_OFFSET] & 7) == 7)
		(void)cvm_td_quote_verify_signature(&q);
	(void)cvm_td_quote_verify_qe(&q, &step);
	(void)cvm_td_quote_verify_pck_chain(&q, NULL, &step);
	return 0;
}
