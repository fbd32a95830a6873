/* cvm-measure explain: a prediction compared with a boot's event log and PCRs. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/capture.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/explain.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"
#include "cvmkit/predict.h"

#include "cli.h"

static void hexs(const uint8_t *d, enum cvm_hash_alg alg, char *out)
{
	cvm_hex_encode(d, cvm_hash_size(alg), out);
}

static cJSON *explain_row_json(const struct cvm_explain_row *x, const struct cvm_prediction *p)
{
	cJSON *o = cJSON_CreateObject(), *fd, *e;
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pcr", x->pcr);
	cJSON_AddStringToObject(o, "bank", cvm_hash_name(x->alg));
	cJSON_AddStringToObject(o, "status", status_name(p->pcr[x->pcr].status));
	if (x->have_pred) {
		hexs(x->pred, x->alg, hex);
		cJSON_AddStringToObject(o, "predicted", hex);
	}
	if (x->have_log) {
		hexs(x->logged, x->alg, hex);
		cJSON_AddStringToObject(o, "logged", hex);
	}
	if (x->have_quote) {
		hexs(x->quoted, x->alg, hex);
		cJSON_AddStringToObject(o, "quoted", hex);
	}
	cJSON_AddBoolToObject(o, "match", x->match);
	if (!x->diff)
		return o;
	fd = cJSON_AddObjectToObject(o, "first_difference");
	if (!fd)
		return o;
	cJSON_AddNumberToObject(fd, "event", (double)x->diff_at);
	if (x->have_expected && (e = cJSON_AddObjectToObject(fd, "expected"))) {
		type_label(x->expected.type, tbuf, &tname);
		cJSON_AddStringToObject(e, "type", tname);
		cJSON_AddStringToObject(e, "description", x->expected.desc);
		hexs(x->expected.digest, x->alg, hex);
		cJSON_AddStringToObject(e, "digest", hex);
	}
	if (x->have_logged && (e = cJSON_AddObjectToObject(fd, "logged"))) {
		type_label(x->logged_event.type, tbuf, &tname);
		cJSON_AddNumberToObject(e, "index", (double)x->logged_event.log_index);
		cJSON_AddStringToObject(e, "type", tname);
		cJSON_AddStringToObject(e, "description", x->logged_event.desc);
		hexs(x->logged_event.digest, x->alg, hex);
		cJSON_AddStringToObject(e, "digest", hex);
	}
	return o;
}

static void explain_row_text(const struct cvm_explain_row *x, const struct cvm_prediction *p)
{
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	printf("PCR %2u %-6s %-8s %s\n", x->pcr, cvm_hash_name(x->alg), x->match ? "match" : "MISMATCH",
	       status_name(p->pcr[x->pcr].status));
	if (x->have_pred) {
		hexs(x->pred, x->alg, hex);
		printf("  predicted %s\n", hex);
	}
	if (x->have_log) {
		hexs(x->logged, x->alg, hex);
		printf("  logged    %s\n", hex);
	}
	if (x->have_quote) {
		hexs(x->quoted, x->alg, hex);
		printf("  quoted    %s\n", hex);
	}
	if (!x->diff)
		return;
	printf("  first difference at event %zu of PCR %u:\n", x->diff_at, x->pcr);
	if (x->have_expected) {
		type_label(x->expected.type, tbuf, &tname);
		hexs(x->expected.digest, x->alg, hex);
		printf("    expected %s: %s\n             %s\n", tname, x->expected.desc, hex);
	} else {
		printf("    expected no further event\n");
	}
	if (x->have_logged) {
		type_label(x->logged_event.type, tbuf, &tname);
		hexs(x->logged_event.digest, x->alg, hex);
		printf("    logged   %s (log event %zu): %s\n             %s\n", tname, x->logged_event.log_index,
		       x->logged_event.desc, hex);
	} else {
		printf("    logged   no further event\n");
	}
}

int verb_explain(int argc, char **argv)
{
	struct cvm_predict_opts opts = { 0 };
	struct cvm_prediction *p = NULL;
	struct cvm_capture cap = { 0 }, quote = { 0 };
	struct cvm_pcr_bank_values *v = NULL;
	const char *evpath = NULL, *pcrpath = NULL;
	uint8_t *evbuf = NULL, *pbuf = NULL;
	const uint8_t *log = NULL;
	size_t evlen = 0, plen = 0, loglen = 0, nv = 0;
	bool json = false, all = false, have_quote = false, any_mismatch = false;
	cJSON *root = NULL, *rows = NULL;
	struct cvm_explain_input in;
	int r, code;
	const struct cli_opt table[] = {
		{ "json", CLI_FLAG, .flag = &json },
		{ "eventlog", CLI_STRING, .string = &evpath, .arg = "FILE",
		  .help = "binary_bios_measurements, or a serial log / file holding the\n"
			  "init's CVMKIT-MEASURED-BOOT line with the event log (base64)" },
		{ "pcrs", CLI_STRING, .string = &pcrpath, .arg = "FILE",
		  .help = "quoted PCRs: a CVMKIT-MEASURED-BOOT line (serial log) or\n"
			  "\"N: hex\" lines; default: the line in --eventlog, if any" },
		{ "all", CLI_FLAG, .flag = &all, .help = "also list PCRs that are neither predicted nor in the log" },
		CLI_OPT_BANKS(&opts, NULL),
		CLI_OPT_STUB_VERSION(&opts, NULL),
		CLI_OPT_FAILED_BOOTS(&opts, NULL),
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " explain IMAGE --eventlog FILE [--pcrs FILE] [--json] [--all]\n"
		"                [--bank NAMES] [--stub-version N] [--failed-boot-options N]\n"
		"  Compare the prediction for IMAGE with a boot's event log (and the PCRs the TPM\n"
		"  reported): per PCR predicted / logged / quoted, and for a mismatch the first\n"
		"  event that differs and what the image expected there.\n",
		{ { .opts = table, .col = 19, .after = "  exit status 1 when any compared value differs\n" }, CLI_SB_GROUP },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	code = EXIT_OK;
	if (optind + 1 != argc)
		return usage_error("unable to explain: expected exactly one IMAGE argument");
	if (!evpath)
		return usage_error("unable to explain: --eventlog FILE is required");

	r = cvm_read_file(evpath, CVM_CAPTURE_MAX_INPUT, &evbuf, &evlen);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", evpath, strerror(-r));
		goto out;
	}
	/* A binary log starts with the PCR 0 header record; anything else is
	 * taken as a serial log carrying the init's line. */
	{
		struct cvm_evlog probe;

		if (cvm_evlog_open(&probe, evbuf, evlen) == 0 && evlen >= 8 && cvm_le32(evbuf) == 0) {
			log = evbuf;
			loglen = evlen;
		} else {
			r = cvm_capture_parse_line(evbuf, evlen, &cap);
			if (r < 0 || !cap.eventlog) {
				code = fatal(EXIT_DATA, "unable to read an event log from %s: %s", evpath,
					     r < 0 ? (r == -ENOENT ? "neither a binary event log nor a CVMKIT-MEASURED-BOOT line"
								   : "malformed CVMKIT-MEASURED-BOOT line")
						   : "the CVMKIT-MEASURED-BOOT line carries no event log (dump_eventlog = yes)");
				goto out;
			}
			log = cap.eventlog;
			loglen = cap.eventlog_len;
			have_quote = !pcrpath;
			if (have_quote)
				quote = cap, cap.eventlog = NULL;
		}
	}
	if (pcrpath) {
		r = cvm_read_file(pcrpath, CVM_CAPTURE_MAX_INPUT, &pbuf, &plen);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to read %s: %s", pcrpath, strerror(-r));
			goto out;
		}
		r = cvm_capture_parse(pbuf, plen, &quote);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to parse %s: neither a CVMKIT-MEASURED-BOOT line nor \"N: hex\" lines",
				     pcrpath);
			goto out;
		}
		have_quote = true;
	}
	v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	if (!v) {
		code = fatal(EXIT_DATA, "unable to explain: %s", strerror(ENOMEM));
		goto out;
	}
	r = cvm_evlog_replay(log, loglen, v, CVM_EVLOG_MAX_BANKS, &nv);
	if (r < 0) {
		char why[256];
		explain_failure(log, loglen, r, why, sizeof(why));
		code = fatal(EXIT_DATA, "unable to replay the event log of %s: %s", evpath, why);
		goto out;
	}
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		goto out;
	in = (struct cvm_explain_input){ .p = p, .banks = v, .n_banks = nv, .log = log, .log_len = loglen,
					 .quote = have_quote ? &quote : NULL };
	if (json) {
		root = cJSON_CreateObject();
		rows = root ? cJSON_AddArrayToObject(root, "pcrs") : NULL;
		if (!rows) {
			code = fatal(EXIT_DATA, "unable to explain: %s", strerror(ENOMEM));
			goto out;
		}
	}
	for (size_t b = 0; b < p->n_banks; b++) {
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			struct cvm_explain_row row;

			r = cvm_explain_row(&in, b, i, &row);
			if (r < 0) {
				code = fatal(EXIT_DATA, "unable to explain: %s", strerror(-r));
				goto out;
			}
			if (!row.have_pred && !row.logged_touched && !all)
				continue;
			any_mismatch |= !row.match;
			if (json) {
				cJSON *o = explain_row_json(&row, p);
				if (o)
					cJSON_AddItemToArray(rows, o);
			} else {
				explain_row_text(&row, p);
			}
		}
	}
	if (json) {
		cJSON_AddBoolToObject(root, "match", !any_mismatch);
		if (print_json(root) < 0) {
			code = fatal(EXIT_DATA, "unable to print: %s", strerror(ENOMEM));
			goto out;
		}
	} else {
		printf("%s\n", any_mismatch ? "result: MISMATCH" : "result: match");
	}
	code = finish_stdout(any_mismatch ? EXIT_MISMATCH : EXIT_OK);
out:
	cJSON_Delete(root);
	cvm_capture_free(&cap);
	cvm_capture_free(&quote);
	free(v);
	free(p);
	free(pbuf);
	free(evbuf);
	return code;
}
