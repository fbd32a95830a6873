/* Prediction against log and quote, one PCR and bank at a time (cvmkit/explain.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cvmkit/explain.h"

static void copy_expected(const struct cvm_predict_event *e, size_t b, size_t sz, struct cvm_explain_event *out)
{
	out->type = e->type;
	snprintf(out->desc, sizeof(out->desc), "%s", e->desc);
	memcpy(out->digest, e->digest[b], sz);
	out->log_index = 0;
}

/* Walks the log's events of pcr in step with the prediction's and stops at
 * the first that differs: no copy of the log's events is needed. */
static int first_difference(const struct cvm_explain_input *in, size_t b, unsigned pcr,
			    struct cvm_explain_row *row)
{
	const struct cvm_predict_pcr *x = &in->p->pcr[pcr];
	enum cvm_hash_alg alg = in->p->banks[b];
	size_t sz = cvm_hash_size(alg), idx = 0, k = 0;
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	int r;

	r = cvm_evlog_open(&log, in->log, in->log_len);
	if (r < 0)
		return r;
	while ((r = cvm_evlog_next(&log, &ev)) > 0) {
		size_t i = idx++;

		if (ev.pcr != pcr || ev.type == CVM_EV_NO_ACTION)
			continue;
		/* Each digest of this bank counts as one event, as replay extends each. */
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (ev.digests[d].alg != (uint16_t)alg)
				continue;
			if (k < x->n_events && memcmp(x->events[k].digest[b], ev.digests[d].digest, sz) == 0) {
				k++;
				continue;
			}
			row->diff = true;
			row->diff_at = k;
			row->have_expected = k < x->n_events;
			if (row->have_expected)
				copy_expected(&x->events[k], b, sz, &row->expected);
			row->have_logged = true;
			row->logged_event.type = ev.type;
			row->logged_event.log_index = i;
			cvm_evlog_describe(&ev, row->logged_event.desc, sizeof(row->logged_event.desc));
			memcpy(row->logged_event.digest, ev.digests[d].digest, sz);
			return 0;
		}
	}
	if (r < 0)
		return r;
	if (k < x->n_events) {
		/* The log ran out first. */
		row->diff = true;
		row->diff_at = k;
		row->have_expected = true;
		copy_expected(&x->events[k], b, sz, &row->expected);
	}
	return 0;
}

int cvm_explain_row(const struct cvm_explain_input *in, size_t b, unsigned pcr, struct cvm_explain_row *ret)
{
	struct cvm_explain_row row = { .pcr = pcr, .match = true };
	const struct cvm_pcr_bank_values *lv = NULL;
	const struct cvm_capture_bank *qv;
	const struct cvm_predict_pcr *x;
	size_t sz;
	int r;

	if (!in->p || b >= in->p->n_banks || pcr >= CVM_PCR_COUNT)
		return -EINVAL;
	x = &in->p->pcr[pcr];
	row.alg = in->p->banks[b];
	sz = cvm_hash_size(row.alg);
	for (size_t k = 0; k < in->n_banks; k++)
		if (in->banks[k].alg == (uint16_t)row.alg)
			lv = &in->banks[k];
	qv = in->quote ? cvm_capture_bank(in->quote, row.alg) : NULL;

	row.have_pred = x->status == CVM_PREDICT_PREDICTED;
	if (row.have_pred)
		memcpy(row.pred, x->value[b], sz);
	row.logged_touched = lv && lv->touched[pcr];
	/* The log covers a PCR fully only when it has the bank: an untouched
	 * PCR is then at its reset value, which replay left in lv. */
	row.have_log = row.logged_touched || (row.have_pred && lv);
	if (row.have_log)
		memcpy(row.logged, lv->pcr[pcr], sz);
	row.have_quote = qv && qv->have[pcr];
	if (row.have_quote)
		memcpy(row.quoted, qv->pcr[pcr], sz);

	if (row.have_pred && row.have_log && memcmp(row.pred, row.logged, sz) != 0)
		row.match = false;
	if (row.have_pred && row.have_quote && memcmp(row.pred, row.quoted, sz) != 0)
		row.match = false;
	if (row.logged_touched && row.have_quote && memcmp(row.logged, row.quoted, sz) != 0)
		row.match = false;
	if (!row.match && row.have_pred && lv) {
		r = first_difference(in, b, pcr, &row);
		if (r < 0)
			return r;
	}
	*ret = row;
	return 0;
}
