/* Fuzzes cvm_explain_row() on an untrusted event log: a log that replays is
 * compared, every PCR in two banks, with a fixed prediction whose events carry
 * the digests gen-corpus-explain.py writes (so inputs reach both the matching
 * walk and every kind of first difference) and a quote of every PCR. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cvmkit/explain.h"

/* PCR i's events k = 0, 1, 2: every byte 0x10 * (k + 1) + i % 16, the value 0x01. */
static void init(struct cvm_prediction *p, struct cvm_capture *q)
{
	p->n_banks = 2;
	p->banks[0] = CVM_HASH_SHA256;
	p->banks[1] = CVM_HASH_SHA384;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		struct cvm_predict_pcr *x = &p->pcr[i];

		x->status = i % 5 == 3 ? CVM_PREDICT_PLATFORM : CVM_PREDICT_PREDICTED;
		x->n_events = 3;
		for (size_t k = 0; k < 3; k++) {
			x->events[k].type = 0x80000007u;
			memcpy(x->events[k].desc, "fuzz", 5);
			for (size_t b = 0; b < 2; b++)
				memset(x->events[k].digest[b], (int)(0x10 * (k + 1) + i % 16), CVM_HASH_MAX_SIZE);
		}
		for (size_t b = 0; b < 2; b++)
			memset(x->value[b], 0x01, CVM_HASH_MAX_SIZE);
	}
	q->n_banks = 1;
	q->banks[0].alg = CVM_HASH_SHA256;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		q->banks[0].have[i] = i % 2 == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_pcr_bank_values banks[CVM_EVLOG_MAX_BANKS];
	static struct cvm_prediction p;
	static struct cvm_capture q;
	struct cvm_explain_row row;
	size_t n;

	if (!p.n_banks)
		init(&p, &q);
	if (cvm_evlog_replay(data, size, banks, CVM_EVLOG_MAX_BANKS, &n) < 0)
		return 0;
	struct cvm_explain_input in = { &p, banks, n, data, size, &q };
	for (size_t b = 0; b < p.n_banks; b++)
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
			(void)cvm_explain_row(&in, b, i, &row);
	return 0;
}
