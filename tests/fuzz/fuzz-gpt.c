/* GPT reader on untrusted disk images: parse, ESP lookup, PCR 5 payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_gpt g;
	uint8_t *ev;
	size_t ev_len;

	if (cvm_gpt_parse(data, size, &g) == 0) {
		(void)cvm_gpt_find(&g, CVM_GPT_TYPE_ESP);
		if (cvm_gpt_event_data(data, size, &ev, &ev_len) == 0) {
			/* The payload must be the header the parser reported. */
			if (ev_len < 100 || memcmp(ev, g.header, 92) != 0)
				abort();
			free(ev);
		}
	}
	return 0;
}
