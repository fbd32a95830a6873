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

static void corim_help(FILE *f)
{
	fputs("usage: " PROG " corim IMAGE -o FILE [--id ID] [--vendor NAME] [--model NAME]\n"
	      "                [--with-profile-pcrs] [--with-pcr5] [--bank NAMES] [--stub-version N] [--failed-boot-options N]\n"
	      "  The predicted image-determined PCRs as an unsigned CoRIM (CBOR, tag 501) holding one\n"
	      "  CoMID (tag 506) with reference triples: mkey = PCR index, digests [alg-id, value]\n"
	      "  (sha-256 = 1, sha-384 = 7).  -o - writes to stdout.\n" SB_HELP, f);
}

int verb_corim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "vendor", required_argument, NULL, 'V' },
		{ "model", required_argument, NULL, 'M' },
		{ "with-profile-pcrs", no_argument, NULL, 'w' },
		{ "with-pcr5", no_argument, NULL, '5' },
		{ "bank", required_argument, NULL, 'b' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_corim_opts co = { 0 };
	struct cvm_prediction *p = NULL;
	const char *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int c, r, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			corim_help(stdout);
			return EXIT_OK;
		case 'o':
			out = optarg;
			break;
		case 'i':
			co.id = optarg;
			break;
		case 'V':
			co.vendor = optarg;
			break;
		case 'M':
			co.model = optarg;
			break;
		case 'w':
			co.with_profile = true;
			break;
		case '5':
			co.with_pcr5 = true;
			break;
		case 'b':
			if (parse_predict_banks(optarg, &opts) < 0)
				return usage_error("unable to parse --bank %s: unknown or repeated bank", optarg);
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0)
				return usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0)
				return usage_error("unable to parse --failed-boot-options %s", optarg);
			break;
		case 'S':
		case 'B':
		case 'A':
			if (sb_option(c, optarg) != EXIT_OK)
				return EXIT_USAGE;
			break;
		default:
			return EXIT_USAGE;
		}
	}
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
