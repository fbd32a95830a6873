/* Where a boot departed from the prediction: for one PCR in one bank, the
 * predicted value, the value the event log replays to and the value the TPM
 * quoted, whether they agree, and for a disagreement the first event at
 * which the log leaves the prediction (and what the image expected there).
 * `cvm-measure explain` prints one row per PCR and bank.
 *
 * The log is untrusted: it is read only through eventlog.h, which bounds
 * every record.  The caller replays it first (cvm_evlog_replay()), so a log
 * that reaches these functions has already parsed whole.
 *
 * Ownership: every struct is caller-owned; a row holds copies, never
 * pointers into the prediction, the log or the quote.  Functions return 0
 * or a negative errno, write *ret only on success and never print. */
#ifndef CVMKIT_EXPLAIN_H
#define CVMKIT_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/capture.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/hash.h"
#include "cvmkit/predict.h"

#define CVM_EXPLAIN_DESC_MAX 160

/* One event of the PCR, predicted or logged, in the row's bank. */
struct cvm_explain_event {
	uint32_t type;                    /* TCG event type (eventlog.h CVM_EV_*) */
	char desc[CVM_EXPLAIN_DESC_MAX];  /* cvm_evlog_describe() text, or the prediction's */
	uint8_t digest[CVM_HASH_MAX_SIZE];
	size_t log_index;                 /* logged only: the record's position in the log, header = 0 */
};

struct cvm_explain_row {
	unsigned pcr;
	enum cvm_hash_alg alg;
	bool have_pred;       /* the prediction's status is CVM_PREDICT_PREDICTED */
	bool logged_touched;  /* the log extended this PCR */
	/* The log accounts for the PCR: it extended it, or the PCR is predicted
	 * and the log has the bank (an untouched PCR is then at its reset value). */
	bool have_log;
	bool have_quote;
	bool match;           /* every pair of values present agrees */
	uint8_t pred[CVM_HASH_MAX_SIZE], logged[CVM_HASH_MAX_SIZE], quoted[CVM_HASH_MAX_SIZE];

	/* For a mismatch of a predicted PCR whose bank the log has: the events
	 * of this PCR (the log's without EV_NO_ACTION, those carrying this
	 * bank's digest, in log order) compared one by one with the
	 * prediction's; diff_at is the first index where they differ or one
	 * side has run out.  No diff when both sequences are equal (the
	 * quote alone disagrees). */
	bool diff;
	size_t diff_at;
	bool have_expected;   /* false: the prediction has no event at diff_at */
	struct cvm_explain_event expected;
	bool have_logged;     /* false: the log has no event at diff_at */
	struct cvm_explain_event logged_event;
};

/* What one comparison reads; all of it stays the caller's. */
struct cvm_explain_input {
	const struct cvm_prediction *p;
	const struct cvm_pcr_bank_values *banks;  /* cvm_evlog_replay() of log */
	size_t n_banks;
	const uint8_t *log;                        /* the binary event log */
	size_t log_len;
	const struct cvm_capture *quote;           /* the quoted PCRs, or NULL */
};

/* The row of PCR pcr in the prediction's bank b (in->p->banks[b]).
 * Returns 0 and fills *ret; -EINVAL for b or pcr out of range; the errors
 * of cvm_evlog_open()/cvm_evlog_next() should the log not parse. */
int cvm_explain_row(const struct cvm_explain_input *in, size_t b, unsigned pcr, struct cvm_explain_row *ret);

#endif
