/* cvm_explain_row(): predicted / logged / quoted values and the first
 * difference, on predictions, logs, replayed values and quotes built here by
 * hand.  Digests are fill patterns (0xa1...) rather than hashes, so every
 * expected value below is written out, never computed by the code under test. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/bytes.h"
#include "cvmkit/explain.h"

#include "testutil.h"

/* One record of a hand-made crypto-agile log with banks sha1 and sha256;
 * each digest is its fill byte repeated. */
struct rec {
	uint32_t pcr, type;
	uint8_t sha1, sha256;
	const char *data;
};

static size_t put32(uint8_t *b, size_t at, uint32_t v)
{
	cvm_put_le32(b + at, v);
	return at + 4;
}

static size_t put16(uint8_t *b, size_t at, uint16_t v)
{
	cvm_put_le16(b + at, v);
	return at + 2;
}

static size_t fill(uint8_t *b, size_t at, uint8_t byte, size_t n)
{
	memset(b + at, byte, n);
	return at + n;
}

/* The header record (index 0) is the Spec ID event; recs follow as indices 1... */
static uint8_t *make_log(const struct rec *recs, size_t n, size_t *ret_len)
{
	uint8_t *b = calloc(1, 8192);
	size_t at = 0;

	assert_non_null(b);
	at = put32(b, at, 0);
	at = put32(b, at, CVM_EV_NO_ACTION);
	at = fill(b, at, 0, 20);
	at = put32(b, at, 16 + 4 + 4 + 4 + 2 * 4 + 1);
	memcpy(b + at, "Spec ID Event03", 16);
	at += 16;
	at = put32(b, at, 0);                       /* platformClass */
	memcpy(b + at, "\x00\x02\x00\x02", 4);      /* spec 2.0, errata 0, uintn 2 */
	at += 4;
	at = put32(b, at, 2);
	at = put16(b, at, CVM_HASH_SHA1);
	at = put16(b, at, 20);
	at = put16(b, at, CVM_HASH_SHA256);
	at = put16(b, at, 32);
	b[at++] = 0;                                /* vendorInfoSize */
	for (size_t i = 0; i < n; i++) {
		size_t dl = strlen(recs[i].data);

		at = put32(b, at, recs[i].pcr);
		at = put32(b, at, recs[i].type);
		at = put32(b, at, 2);
		at = put16(b, at, CVM_HASH_SHA1);
		at = fill(b, at, recs[i].sha1, 20);
		at = put16(b, at, CVM_HASH_SHA256);
		at = fill(b, at, recs[i].sha256, 32);
		at = put32(b, at, (uint32_t)dl);
		memcpy(b + at, recs[i].data, dl);
		at += dl;
		assert_true(at < 8000);
	}
	*ret_len = at;
	return b;
}

/* A one-bank (sha256) prediction: PCR 4 with the events whose fill bytes
 * ev4 lists, PCR 9 predicted without events, every other PCR platform-dependent. */
static struct cvm_prediction *make_prediction(const uint8_t *ev4, size_t n4, uint8_t value4, uint8_t value9)
{
	static const char *const descs[] = { "first", "second", "third", "fourth" };
	struct cvm_prediction *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	assert_true(n4 <= 4);
	p->n_banks = 1;
	p->banks[0] = CVM_HASH_SHA256;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		p->pcr[i].status = CVM_PREDICT_PLATFORM;
	p->pcr[4].status = CVM_PREDICT_PREDICTED;
	p->pcr[4].n_events = n4;
	for (size_t k = 0; k < n4; k++) {
		p->pcr[4].events[k].type = CVM_EV_EFI_ACTION;
		snprintf(p->pcr[4].events[k].desc, sizeof(p->pcr[4].events[k].desc), "%s", descs[k]);
		memset(p->pcr[4].events[k].digest[0], ev4[k], 32);
	}
	memset(p->pcr[4].value[0], value4, 32);
	p->pcr[9].status = CVM_PREDICT_PREDICTED;
	memset(p->pcr[9].value[0], value9, 32);
	return p;
}

/* Replayed values as a caller would pass them: sha256 bank, PCR 4 touched
 * with value4, every other PCR at its reset value (zero here). */
static void make_bank(struct cvm_pcr_bank_values *v, uint8_t value4)
{
	memset(v, 0, sizeof(*v));
	v->alg = CVM_HASH_SHA256;
	v->touched[4] = true;
	memset(v->pcr[4], value4, 32);
}

static void assert_filled(const uint8_t *d, uint8_t byte, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(d[i], byte);
}

/* What every case compares: the prediction, the replayed sha256 bank, a
 * quote (sha256, no PCR until a case sets one) and the log below. */
struct fx {
	struct cvm_prediction *p;
	struct cvm_pcr_bank_values v;
	struct cvm_capture q;
	uint8_t *log;
	struct cvm_explain_input in;
	struct cvm_explain_row row;
};

static const struct rec log_ab[4];

static void fx_init(struct fx *f, const uint8_t *ev4, size_t n4, uint8_t pred4, uint8_t logged4)
{
	memset(f, 0, sizeof(*f));
	f->p = make_prediction(ev4, n4, pred4, 0x00);
	make_bank(&f->v, logged4);
	f->q.n_banks = 1;
	f->q.banks[0].alg = CVM_HASH_SHA256;
	f->in = (struct cvm_explain_input){ .p = f->p, .banks = &f->v, .n_banks = 1, .quote = &f->q };
	f->log = make_log(log_ab, 4, &f->in.log_len);
	f->in.log = f->log;
}

static void fx_quote(struct fx *f, unsigned pcr, uint8_t value)
{
	f->q.banks[0].have[pcr] = true;
	memset(f->q.banks[0].pcr[pcr], value, 32);
}

static void fx_free(struct fx *f)
{
	free(f->log);
	free(f->p);
}

/* Log: 1 PCR 4 a1, 2 PCR 0 (ignored), 3 PCR 4 NO_ACTION (ignored), 4 PCR 4 b2. */
static const struct rec log_ab[4] = {
	{ 4, CVM_EV_EFI_ACTION, 0x11, 0xa1, "Calling EFI Application from Boot Option" },
	{ 0, CVM_EV_SEPARATOR, 0x12, 0xa1, "\xff" },
	{ 4, CVM_EV_NO_ACTION, 0x13, 0xee, "not extended" },
	{ 4, CVM_EV_SEPARATOR, 0x14, 0xb2, "\x01\x02" },
};

static void all_agree(void **state)
{
	static const uint8_t ev[] = { 0xa1, 0xb2 };
	struct fx f;

	fx_init(&f, ev, 2, 0x44, 0x44);
	fx_quote(&f, 4, 0x44);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_int_equal(f.row.pcr, 4);
	assert_int_equal(f.row.alg, CVM_HASH_SHA256);
	assert_true(f.row.have_pred && f.row.have_log && f.row.logged_touched && f.row.have_quote);
	assert_true(f.row.match);
	assert_false(f.row.diff);
	assert_filled(f.row.pred, 0x44, 32);
	assert_filled(f.row.logged, 0x44, 32);
	assert_filled(f.row.quoted, 0x44, 32);
	fx_free(&f);
}

/* The log's second PCR 4 event is b2 where c3 was expected. */
static void log_departs(void **state)
{
	static const uint8_t ev[] = { 0xa1, 0xc3, 0xd4 };
	struct fx f;

	fx_init(&f, ev, 3, 0x44, 0x55);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_false(f.row.match);
	assert_false(f.row.have_quote);
	assert_filled(f.row.logged, 0x55, 32);
	assert_true(f.row.diff);
	assert_int_equal(f.row.diff_at, 1);
	assert_true(f.row.have_expected);
	assert_int_equal(f.row.expected.type, CVM_EV_EFI_ACTION);
	assert_string_equal(f.row.expected.desc, "second");
	assert_filled(f.row.expected.digest, 0xc3, 32);
	assert_true(f.row.have_logged);
	assert_int_equal(f.row.logged_event.log_index, 4);
	assert_int_equal(f.row.logged_event.type, CVM_EV_SEPARATOR);
	assert_string_equal(f.row.logged_event.desc, "0102");
	assert_filled(f.row.logged_event.digest, 0xb2, 32);
	fx_free(&f);
}

/* The prediction has a third event the log never reaches. */
static void log_runs_out(void **state)
{
	static const uint8_t ev[] = { 0xa1, 0xb2, 0xd4 };
	struct fx f;

	fx_init(&f, ev, 3, 0x44, 0x55);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_true(f.row.diff);
	assert_int_equal(f.row.diff_at, 2);
	assert_true(f.row.have_expected);
	assert_string_equal(f.row.expected.desc, "third");
	assert_filled(f.row.expected.digest, 0xd4, 32);
	assert_false(f.row.have_logged);
	fx_free(&f);
}

/* The log has an event the prediction does not: expected none, logged the first one. */
static void prediction_runs_out(void **state)
{
	static const uint8_t ev[] = { 0xa1 };
	struct fx f;

	fx_init(&f, ev, 1, 0x44, 0x55);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_true(f.row.diff);
	assert_int_equal(f.row.diff_at, 1);
	assert_false(f.row.have_expected);
	assert_true(f.row.have_logged);
	assert_int_equal(f.row.logged_event.log_index, 4);
	assert_filled(f.row.logged_event.digest, 0xb2, 32);
	fx_free(&f);
}

/* Log and prediction agree event by event, the TPM quoted another value:
 * a mismatch without a first difference. */
static void only_quote_differs(void **state)
{
	static const uint8_t ev[] = { 0xa1, 0xb2 };
	struct fx f;

	fx_init(&f, ev, 2, 0x44, 0x44);
	fx_quote(&f, 4, 0x66);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_false(f.row.match);
	assert_false(f.row.diff);
	assert_filled(f.row.quoted, 0x66, 32);
	fx_free(&f);
}

/* PCR 9: predicted, not in the log, whose bank the log has: logged is the
 * reset value; a prediction of that value matches, another does not (with
 * no events on either side, there is no first difference to show). */
static void untouched_is_reset(void **state)
{
	struct fx f;

	fx_init(&f, NULL, 0, 0x44, 0x44);
	assert_int_equal(cvm_explain_row(&f.in, 0, 9, &f.row), 0);
	assert_true(f.row.have_log);
	assert_false(f.row.logged_touched);
	assert_filled(f.row.logged, 0x00, 32);
	assert_true(f.row.match);
	memset(f.p->pcr[9].value[0], 0x77, 32);
	assert_int_equal(cvm_explain_row(&f.in, 0, 9, &f.row), 0);
	assert_false(f.row.match);
	assert_false(f.row.diff);
	fx_free(&f);
}

/* The log lacks the prediction's bank: nothing logged to compare, no
 * first difference even when the quote disagrees. */
static void log_without_bank(void **state)
{
	static const uint8_t ev[] = { 0xa1 };
	struct fx f;

	fx_init(&f, ev, 1, 0x44, 0x44);
	f.v.alg = CVM_HASH_SHA384;
	fx_quote(&f, 4, 0x66);
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), 0);
	assert_false(f.row.have_log);
	assert_false(f.row.logged_touched);
	assert_false(f.row.match);
	assert_false(f.row.diff);
	fx_free(&f);
}

/* A platform PCR the log extended: compared with the quote only. */
static void platform_pcr(void **state)
{
	struct fx f;

	fx_init(&f, NULL, 0, 0x44, 0x44);
	f.v.touched[0] = true;
	memset(f.v.pcr[0], 0x10, 32);
	fx_quote(&f, 0, 0x10);
	assert_int_equal(cvm_explain_row(&f.in, 0, 0, &f.row), 0);
	assert_false(f.row.have_pred);
	assert_true(f.row.have_log && f.row.logged_touched && f.row.have_quote && f.row.match);
	f.q.banks[0].pcr[0][31] = 0x11;
	assert_int_equal(cvm_explain_row(&f.in, 0, 0, &f.row), 0);
	assert_false(f.row.match);
	assert_false(f.row.diff);
	/* Neither predicted nor logged nor quoted: nothing to disagree. */
	assert_int_equal(cvm_explain_row(&f.in, 0, 1, &f.row), 0);
	assert_false(f.row.have_pred || f.row.have_log || f.row.have_quote);
	assert_true(f.row.match);
	fx_free(&f);
}

static void bad_arguments(void **state)
{
	static const uint8_t junk[] = "not an event log";
	struct fx f;

	fx_init(&f, NULL, 0, 0x44, 0x55);
	f.row.pcr = 99;
	assert_int_equal(cvm_explain_row(&f.in, 1, 4, &f.row), -EINVAL);
	assert_int_equal(cvm_explain_row(&f.in, 0, CVM_PCR_COUNT, &f.row), -EINVAL);
	/* A mismatch sends it to the log, which does not parse: the error, row untouched. */
	f.in.log = junk;
	f.in.log_len = sizeof(junk);
	assert_true(cvm_explain_row(&f.in, 0, 4, &f.row) < 0);
	assert_int_equal(f.row.pcr, 99);
	f.in.p = NULL;
	assert_int_equal(cvm_explain_row(&f.in, 0, 4, &f.row), -EINVAL);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_agree),
		cmocka_unit_test(log_departs),
		cmocka_unit_test(log_runs_out),
		cmocka_unit_test(prediction_runs_out),
		cmocka_unit_test(only_quote_differs),
		cmocka_unit_test(untouched_is_reset),
		cmocka_unit_test(log_without_bank),
		cmocka_unit_test(platform_pcr),
		cmocka_unit_test(bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
