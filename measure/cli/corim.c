/* cvm-measure corim: the predicted reference values as an unsigned CoRIM. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/corim.h"
#include "cvmkit/fileio.h"
#include "cvmkit/predict.h"

#include "cli.h"

int verb_corim(int argc, char **argv)
{
	struct cvm_predict_opts opts = { 0 };
	struct cvm_corim_opts co = { 0 };
	struct cvm_prediction *p = NULL;
	const char *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, code;
	const struct cli_opt table[] = {
		{ "output", CLI_STRING, .string = &out, .short_name = 'o' },
		{ "id", CLI_STRING, .string = &co.id },
		{ "vendor", CLI_STRING, .string = &co.vendor },
		{ "model", CLI_STRING, .string = &co.model },
		{ "with-profile-pcrs", CLI_FLAG, .flag = &co.with_profile },
		{ "with-pcr5", CLI_FLAG, .flag = &co.with_pcr5 },
		CLI_OPT_BANKS(&opts, NULL),
		CLI_OPT_STUB_VERSION(&opts, NULL),
		CLI_OPT_FAILED_BOOTS(&opts, NULL),
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " corim IMAGE -o FILE [--id ID] [--vendor NAME] [--model NAME]\n"
		"                [--with-profile-pcrs] [--with-pcr5] [--bank NAMES] [--stub-version N] [--failed-boot-options N]\n"
		"  The predicted image-determined PCRs as an unsigned CoRIM (CBOR, tag 501) holding one\n"
		"  CoMID (tag 506) with reference triples: mkey = PCR index, digests [alg-id, value]\n"
		"  (sha-256 = 1, sha-384 = 7).  -o - writes to stdout.\n",
		{ { .opts = table }, CLI_SB_GROUP },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc)
		return usage_error("unable to build a CoRIM: expected exactly one IMAGE argument");
	if (!out)
		return usage_error("unable to build a CoRIM: -o FILE is required");
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		return code;
	r = cvm_corim_build(p, &co, &buf, &len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to build a CoRIM for %s: %s", argv[optind],
			     r == -ENODATA ? "no predicted PCR in a bank CoRIM can name (sha256, sha384, sha512)"
					   : strerror(-r));
		goto out;
	}
	if (strcmp(out, "-") == 0) {
		r = cvm_write_all(1, buf, len);
	} else {
		r = cvm_write_file_atomic(out, buf, len, 0644);
	}
	if (r < 0)
		code = fatal(EXIT_DATA, "unable to write %s: %s", out, strerror(-r));
out:
	free(buf);
	free(p);
	return code;
}
