/* Fuzzes the TCG event-log parser: open/next over every record, a description
 * of each event, and a full replay. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_pcr_bank_values banks[CVM_EVLOG_MAX_BANKS];
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	char desc[256];
	size_t n;

	if (cvm_evlog_open(&log, data, size) == 0) {
		while (cvm_evlog_next(&log, &ev) > 0) {
			cvm_evlog_describe(&ev, desc, sizeof(desc));
			cvm_evlog_describe(&ev, desc, 3);
			cvm_evlog_describe(&ev, desc, 0);
			(void)cvm_evlog_type_name(ev.type);
		}
	}
	(void)cvm_evlog_replay(data, size, banks, CVM_EVLOG_MAX_BANKS, &n);
	return 0;
}
