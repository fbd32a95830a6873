/* cvm-measure predict: the PCRs a boot of an image produces. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"
#include "cvmkit/predict.h"

#include "cli.h"

static void prediction_header(const struct cvm_prediction *p, const char *path)
{
	printf("image: %s (%s), systemd-stub %s (modelled as %u), Secure Boot %s\n", path, input_name(p->input),
	       p->stub_ident[0] ? p->stub_ident : "(version given)", p->stub_version, p->secure_boot ? "on" : "off");
	if (p->sb_source[0])
		printf("Secure Boot variables: %s%s\n", p->sb_source, p->sb_inferred ? " [inferred]" : "");
}

static void prediction_text(const struct cvm_prediction *p, const bool sel[CVM_PCR_COUNT])
{
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		const struct cvm_predict_pcr *x = &p->pcr[i];

		if (sel && !sel[i])
			continue;
		printf("PCR %u (%s): %s%s%s%s: %s\n", i, cvm_pcr_info(i)->name, status_name(x->status),
		       x->profile ? " [profile " : "", x->profile ? x->profile : "", x->profile ? "]" : "",
		       x->why ? x->why : "");
		if (x->status != CVM_PREDICT_PREDICTED)
			continue;
		for (size_t b = 0; b < p->n_banks; b++) {
			cvm_hex_encode(x->value[b], cvm_hash_size(p->banks[b]), hex);
			printf("  %-7s %s\n", cvm_hash_name(p->banks[b]), hex);
		}
		for (size_t k = 0; k < x->n_events; k++) {
			type_label(x->events[k].type, tbuf, &tname);
			printf("  event %zu %s: %s\n", k, tname, x->events[k].desc);
			for (size_t b = 0; b < p->n_banks; b++) {
				cvm_hex_encode(x->events[k].digest[b], cvm_hash_size(p->banks[b]), hex);
				printf("    %-7s %s\n", cvm_hash_name(p->banks[b]), hex);
			}
		}
	}
}

int verb_predict(int argc, char **argv)
{
	struct cvm_predict_opts opts = { 0 };
	struct cvm_prediction *p = NULL;
	struct cli_pcrs pcrs = { 0 };
	bool json = false;
	const struct cli_opt table[] = {
		{ "json", CLI_FLAG, .flag = &json, .help = "one JSON object (see measure/README.md)" },
		CLI_OPT_BANKS(&opts, "banks to predict (default sha256,sha384; also sha1, sha512)"),
		CLI_OPT_STUB_VERSION(&opts, "model systemd-stub N instead of the version the stub names"),
		CLI_OPT_FAILED_BOOTS(&opts, "boot options the firmware tries before the UKI's (default 0)"),
		{ "pcrs", CLI_PARSE, .parse = { cli_parse_pcrs, &pcrs }, .arg = "LIST",
		  .help = "text output: only these PCRs, e.g. 4,9,11", .why = "expected indices 0-23 like 4,9,11" },
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " predict IMAGE [--json] [--bank NAME[,NAME...]] [--stub-version N] [--pcrs LIST]\n"
		"  Predict the PCRs a boot of IMAGE (a UKI, a raw GPT disk or a fixed VHD) produces.\n",
		{ { .opts = table, .col = 20 }, CLI_SB_GROUP },
	};
	int code = cli_parse(&spec, argc, argv);

	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc)
		return usage_error("unable to predict: expected exactly one IMAGE argument");
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		return code;
	if (json) {
		cJSON *root = prediction_json(p);
		if (print_json(root) < 0)
			code = fatal(EXIT_DATA, "unable to print the prediction: %s", strerror(ENOMEM));
		cJSON_Delete(root);
	} else {
		prediction_header(p, argv[optind]);
		prediction_text(p, pcrs.any ? pcrs.sel : NULL);
	}
	free(p);
	return finish_stdout(code);
}
