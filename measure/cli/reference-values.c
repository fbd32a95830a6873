/* cvm-measure reference-values: Trustee reference values for images. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fileio.h"
#include "cvmkit/predict.h"
#include "cvmkit/refvalues.h"

#include "cli.h"

int parse_format(const char *arg, int *ret)
{
	static const char *const names[] = { "rvps", "map", "local-json", "configmap" };

	for (int i = 0; i < (int)CVM_ARRAY_SIZE(names); i++)
		if (strcmp(arg, names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

int print_rvs(const struct cvm_rv_set *s, int format)
{
	char *text = NULL;
	int r = format == RV_MAP	 ? cvm_rv_map_json(s, true, &text)
		: format == RV_LOCAL_JSON ? cli_rv_local_json(s, &text)
		: format == RV_CONFIGMAP  ? cli_rv_configmap(s, &text)
					  : cvm_rv_rvps_message(s, &text);

	if (r < 0)
		return r;
	fputs(text, stdout);
	if (format == RV_RVPS || format == RV_MAP)
		putchar('\n');
	free(text);
	return 0;
}

static void rv_help(FILE *f)
{
	fputs("usage: " PROG " reference-values IMAGE... [--format=rvps|map|local-json|configmap] [--capture SERIAL_LOG]...\n"
	      "                [--with-profile-pcrs] [--with-pcr5] [--initdata FILE]... [--platform azure|none]\n"
	      "                [--stub-version N] [--failed-boot-options N]\n"
	      "  Trustee reference values for the image-determined PCRs (4, 8, 9, 11, 12, 13; 5 of a\n"
	      "  disk image with --with-pcr5): snp_pcrNN, tdx_pcrNN and tpm_pcrNN, arrays of lowercase hex\n"
	      "  SHA-256.  Several IMAGEs give several accepted values per name.\n"
	      "  --format=rvps       (default) the RVPS message {\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":base64}\n"
	      "  --format=map        the bare map\n"
	      "  --format=local-json the trustee-operator's LocalJson reference_value file\n"
	      "  --format=configmap  a ConfigMap (rvps-reference-values) carrying that file\n"
	      "  --capture FILE      also the PCRs of a golden boot (see capture)\n"
	      "  --with-profile-pcrs also PCR 7 as the QEMU/OVMF profile predicts it (not for Azure)\n"
	      "  --with-pcr5         also PCR 5 (GPT, ExitBootServices): left out by default, as firmware\n"
	      "                      measures ExitBootServices again when the loader retries it\n"

	      "  --initdata FILE     PCR 8 of this initdata document instead of zero (repeat for several;\n"
	      "                      \"none\" also accepts a boot without initdata)\n"
	      "  --platform azure    also PCR 3 as observed on Azure CVMs (separator only), so the\n"
	      "                      trustee-operator policy finds every name it queries\n" SB_HELP, f);
}

int verb_reference_values(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, 'F' },
		{ "capture", required_argument, NULL, 'c' },
		{ "with-profile-pcrs", no_argument, NULL, 'w' },
		{ "with-pcr5", no_argument, NULL, '5' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		{ "initdata", required_argument, NULL, 'i' },
		{ "platform", required_argument, NULL, 'P' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_rv_set *s = calloc(1, sizeof(*s));
	unsigned rv_flags = 0;
	const char *captures[16];
	size_t n_captures = 0;
	bool with_profile = false, azure = false;
	struct cli_initdata_opts io = { 0 };
	int format = RV_RVPS;
	int c, r, code = EXIT_OK;

	if (!s)
		return fatal(EXIT_DATA, "unable to build reference values: %s", strerror(ENOMEM));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			rv_help(stdout);
			goto out;
		case 'F':
			if (parse_format(optarg, &format) < 0) {
				code = usage_error("unable to parse --format=%s: expected rvps, map, local-json or configmap", optarg);
				goto out;
			}
			break;
		case 'c':
			if (n_captures == CVM_ARRAY_SIZE(captures)) {
				code = usage_error("unable to take more than %zu --capture files", CVM_ARRAY_SIZE(captures));
				goto out;
			}
			captures[n_captures++] = optarg;
			break;
		case 'w':
			with_profile = true;
			break;
		case 'i':
			if ((code = cli_initdata_option(&io, optarg)) != EXIT_OK)
				goto out;
			break;
		case 'P':
			if ((code = cli_platform_option(optarg, &azure)) != EXIT_OK)
				goto out;
			break;
		case '5':
			rv_flags |= CVM_RV_WITH_PCR5;
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0) {
				code = usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
				goto out;
			}
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0) {
				code = usage_error("unable to parse --failed-boot-options %s", optarg);
				goto out;
			}
			break;
		case 'S':
		case 'B':
		case 'A':
			if (sb_option(c, optarg) != EXIT_OK) {
				code = EXIT_USAGE;
				goto out;
			}
			break;
		default:
			code = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		code = usage_error("unable to build reference values: expected at least one IMAGE");
		goto out;
	}
	opts.n_banks = 1;
	opts.banks[0] = CVM_HASH_SHA256;
	for (int i = optind; i < argc; i++) {
		struct cvm_prediction *p = NULL;

		code = load_prediction(argv[i], &opts, &p);
		if (code != EXIT_OK)
			goto out;
		r = cvm_rv_add_prediction(s, p, rv_flags | (with_profile ? CVM_RV_WITH_PROFILE : 0));
		free(p);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to add the values of %s: %s", argv[i],
				     r == -ENOSPC ? "too many distinct values for one PCR" : strerror(-r));
			goto out;
		}
	}
	for (size_t i = 0; i < n_captures; i++) {
		code = add_capture_file(s, captures[i], NULL);
		if (code != EXIT_OK)
			goto out;
	}
	code = cli_initdata_apply(&io, s);
	if (code != EXIT_OK)
		goto out;
	cli_platform_apply(azure, s);
	if (sbcli.loaded)
		fprintf(stderr, PROG ": PCR 7 from the Secure Boot variables of %s (Secure Boot %s)\n", sbcli.v.source,
			sbcli.v.secure_boot ? "on" : "off");
	r = print_rvs(s, format);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print reference values: %s", strerror(-r));
		goto out;
	}
	code = finish_stdout(EXIT_OK);
out:
	free(s);
	return code;
}
