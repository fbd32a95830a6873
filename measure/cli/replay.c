/* cvm-measure replay: a TCG event log parsed and replayed into PCR values. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/eventlog.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"

#include "cli.h"

/* Event logs are tens of KiB; anything near this is not one. */
#define MAX_LOG_SIZE (16u << 20)

struct replay_opts {
	const char *path;
	bool json;
	uint16_t want_alg[CVM_EVLOG_MAX_BANKS];
	size_t n_want;
	struct cli_pcrs pcrs;
};

/* --bank NAME[,NAME...], added to those of earlier --bank options. */
static int parse_bank_list(const char *arg, void *opts)
{
	struct replay_opts *o = opts;
	char *copy = strdup(arg), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum cvm_hash_alg alg;

		if (cvm_hash_from_name(tok, &alg) < 0 || o->n_want >= CVM_EVLOG_MAX_BANKS) {
			r = -EINVAL;
			break;
		}
		o->want_alg[o->n_want++] = (uint16_t)alg;
	}
	free(copy);
	return r;
}

static bool alg_wanted(const struct replay_opts *o, uint16_t alg)
{
	if (o->n_want == 0)
		return true;
	for (size_t i = 0; i < o->n_want; i++)
		if (o->want_alg[i] == alg)
			return true;
	return false;
}

static size_t bank_size(const struct cvm_evlog *log, uint16_t alg)
{
	for (size_t i = 0; i < log->n_banks; i++)
		if (log->banks[i].alg == alg)
			return log->banks[i].size;
	return 0;
}

/* The PCRs shown: the selection if given, else those the log touched. */
static bool pcr_shown(const struct replay_opts *o, const struct cvm_pcr_bank_values *v, unsigned i)
{
	return o->pcrs.any ? o->pcrs.sel[i] : v->touched[i];
}

static int replay_text(const struct replay_opts *o, struct cvm_evlog *log,
		       const struct cvm_pcr_bank_values *v, size_t nv)
{
	struct cvm_evlog_event ev;
	char desc[512], hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16], abuf[16];
	const char *tname;
	size_t idx = 0;
	int r;

	while ((r = cvm_evlog_next(log, &ev)) > 0) {
		size_t i = idx++;

		if (o->pcrs.any && !o->pcrs.sel[ev.pcr])
			continue;
		type_label(ev.type, tbuf, &tname);
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		printf("event %zu: PCR %u %s: %s\n", i, ev.pcr, tname, desc);
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (!alg_wanted(o, ev.digests[d].alg))
				continue;
			alg_label(ev.digests[d].alg, abuf);
			cvm_hex_encode(ev.digests[d].digest, bank_size(log, ev.digests[d].alg), hex);
			printf("  %-7s %s\n", abuf, hex);
		}
	}
	if (r < 0)
		return r;
	for (size_t b = 0; b < nv; b++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)v[b].alg);

		if (!alg_wanted(o, v[b].alg))
			continue;
		alg_label(v[b].alg, abuf);
		printf("pcrs %s:\n", abuf);
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			if (!pcr_shown(o, &v[b], i))
				continue;
			cvm_hex_encode(v[b].pcr[i], sz, hex);
			printf("  %2u: %s\n", i, hex);
		}
	}
	return 0;
}

static int replay_json(const struct replay_opts *o, struct cvm_evlog *log,
		       const struct cvm_pcr_bank_values *v, size_t nv)
{
	cJSON *root = cJSON_CreateObject(), *banks, *events;
	struct cvm_evlog_event ev;
	char desc[512], hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16], abuf[16], num[8];
	const char *tname;
	char *text = NULL;
	size_t idx = 0;
	int r = -ENOMEM;

	if (!root)
		goto out;
	banks = cJSON_AddObjectToObject(root, "banks");
	events = cJSON_AddArrayToObject(root, "events");
	if (!banks || !events)
		goto out;
	for (size_t b = 0; b < nv; b++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)v[b].alg);
		cJSON *bank;

		if (!alg_wanted(o, v[b].alg))
			continue;
		alg_label(v[b].alg, abuf);
		bank = cJSON_AddObjectToObject(banks, abuf);
		if (!bank)
			goto out;
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			if (!pcr_shown(o, &v[b], i))
				continue;
			snprintf(num, sizeof(num), "%u", i);
			cvm_hex_encode(v[b].pcr[i], sz, hex);
			if (!cJSON_AddStringToObject(bank, num, hex))
				goto out;
		}
	}
	while ((r = cvm_evlog_next(log, &ev)) > 0) {
		size_t i = idx++;
		cJSON *e, *digests;

		r = -ENOMEM;
		if (o->pcrs.any && !o->pcrs.sel[ev.pcr])
			continue;
		type_label(ev.type, tbuf, &tname);
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		e = cJSON_CreateObject();
		if (!e)
			goto out;
		cJSON_AddItemToArray(events, e);
		if (!cJSON_AddNumberToObject(e, "index", (double)i) ||
		    !cJSON_AddNumberToObject(e, "pcr", ev.pcr) ||
		    !cJSON_AddStringToObject(e, "type", tname) ||
		    !(digests = cJSON_AddObjectToObject(e, "digests")))
			goto out;
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (!alg_wanted(o, ev.digests[d].alg))
				continue;
			alg_label(ev.digests[d].alg, abuf);
			cvm_hex_encode(ev.digests[d].digest, bank_size(log, ev.digests[d].alg), hex);
			if (!cJSON_AddStringToObject(digests, abuf, hex))
				goto out;
		}
		if (!cJSON_AddStringToObject(e, "description", desc))
			goto out;
	}
	if (r < 0)
		goto out;
	r = -ENOMEM;
	text = cJSON_Print(root);
	if (!text)
		goto out;
	puts(text);
	r = 0;
out:
	free(text);
	cJSON_Delete(root);
	return r;
}

/* Re-parses a log that failed to replay to say where it went wrong. */
void explain_failure(const uint8_t *buf, size_t len, int err, char *why, size_t n)
{
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	int r;

	if (err == -ENODATA) {
		struct cvm_evlog_event bad;
		size_t idx, at = 0;
		char missing[80] = "", tbuf[16];
		const char *tname;

		if (cvm_evlog_first_incomplete(buf, len, &bad, &idx) != 1 || cvm_evlog_open(&log, buf, len) < 0) {
			snprintf(why, n, "an event lacks the digest of a bank the log declares");
			return;
		}
		for (size_t b = 0; b < log.n_banks; b++) {
			bool have = false;
			char a[16];

			for (size_t d = 0; d < bad.n_digests; d++)
				have |= bad.digests[d].alg == log.banks[b].alg;
			if (have)
				continue;
			alg_label(log.banks[b].alg, a);
			at += (size_t)snprintf(missing + at, sizeof(missing) - at, "%s%s", at ? "," : "", a);
			if (at >= sizeof(missing))
				break;
		}
		type_label(bad.type, tbuf, &tname);
		snprintf(why, n, "event %zu (PCR %u, %s) at offset %zu has no %s digest, though the log declares that bank",
			 idx, bad.pcr, tname, bad.offset, missing);
		return;
	}
	if (err != -EBADMSG && err != -E2BIG) {
		snprintf(why, n, "%s", strerror(-err));
		return;
	}
	if (cvm_evlog_open(&log, buf, len) < 0) {
		snprintf(why, n, "malformed log header");
		return;
	}
	while ((r = cvm_evlog_next(&log, &ev)) > 0)
		;
	if (r == -E2BIG)
		snprintf(why, n, "more than %u events", CVM_EVLOG_MAX_EVENTS);
	else if (r < 0)
		snprintf(why, n, "malformed event %zu at offset %zu", log.n_events, log.off);
	else
		snprintf(why, n, "StartupLocality or H-CRTM event out of place");
}

int verb_replay(int argc, char **argv)
{
	struct replay_opts o = { 0 };
	struct cvm_pcr_bank_values *v = NULL;
	struct cvm_evlog log;
	uint8_t *buf = NULL;
	size_t len = 0, nv = 0;
	int r, code;
	const struct cli_opt opts[] = {
		{ "json", CLI_FLAG, .flag = &o.json, .help = "one JSON object: {\"banks\":{...},\"events\":[...]}" },
		{ "bank", CLI_PARSE, .parse = { parse_bank_list, &o }, .arg = "NAMES",
		  .help = "only these banks (sha1, sha256, sha384, sha512)", .why = "unknown bank" },
		{ "pcrs", CLI_PARSE, .parse = { cli_parse_pcrs, &o.pcrs }, .arg = "LIST",
		  .help = "only these PCRs, e.g. 0,4,9 or 0-7,11", .why = "expected indices 0-23 like 0,4,9" },
		{ 0 },
	};
	const struct cli_spec spec = {
		"usage: " PROG " replay EVENTLOG [--json] [--bank NAME[,NAME...]] [--pcrs LIST]\n"
		"  Parse a TCG event log (binary_bios_measurements) and replay it.\n",
		{ { .opts = opts, .col = 18 } },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	code = EXIT_OK;
	if (optind + 1 != argc)
		return usage_error("unable to replay: expected exactly one EVENTLOG argument");
	o.path = argv[optind];

	r = cvm_read_file(o.path, MAX_LOG_SIZE, &buf, &len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", o.path, strerror(-r));
		goto out;
	}
	v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	if (!v) {
		code = fatal(EXIT_DATA, "unable to replay %s: %s", o.path, strerror(ENOMEM));
		goto out;
	}
	r = cvm_evlog_replay(buf, len, v, CVM_EVLOG_MAX_BANKS, &nv);
	if (r < 0) {
		char why[256];
		explain_failure(buf, len, r, why, sizeof(why));
		code = fatal(EXIT_DATA, "unable to replay %s: %s", o.path, why);
		goto out;
	}
	for (size_t i = 0; i < o.n_want; i++) {
		bool found = false;
		for (size_t b = 0; b < nv; b++)
			found |= v[b].alg == o.want_alg[i];
		if (!found) {
			char abuf[16];
			alg_label(o.want_alg[i], abuf);
			code = fatal(EXIT_DATA, "unable to select bank %s: not in %s", abuf, o.path);
			goto out;
		}
	}
	/* The replay above validated the whole log, so the second pass cannot fail on parsing. */
	r = cvm_evlog_open(&log, buf, len);
	if (r >= 0)
		r = o.json ? replay_json(&o, &log, v, nv) : replay_text(&o, &log, v, nv);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print %s: %s", o.path, strerror(-r));
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		code = fatal(EXIT_DATA, "unable to write output: %s", strerror(errno));
out:
	free(v);
	free(buf);
	return code;
}
