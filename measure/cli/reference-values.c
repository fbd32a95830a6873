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

const struct cli_value cli_format_values[] = {
	{ "rvps", RV_RVPS, "(default) the RVPS message {\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":base64}" },
	{ "map", RV_MAP, "the bare map" },
	{ "local-json", RV_LOCAL_JSON, "the trustee-operator's LocalJson reference_value file" },
	{ "configmap", RV_CONFIGMAP, "a ConfigMap (rvps-reference-values) carrying that file" },
	{ NULL },
};

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

int verb_reference_values(int argc, char **argv)
{
	struct cvm_predict_opts opts = { 0 };
	struct cvm_rv_set *s = NULL;
	const char *captures[16];
	size_t n_captures = 0;
	bool with_profile = false, with_pcr5 = false;
	struct cli_initdata_opts io = { 0 };
	struct cli_capture_auth auth = { 0 };
	int format = RV_RVPS, azure = 0;
	int r, code;
	const struct cli_opt table[] = {
		{ "format", CLI_ENUM, .enm = { &format, cli_format_values }, .eq = true, .each = true },
		{ "capture", CLI_LIST, .list = { captures, &n_captures, CVM_ARRAY_SIZE(captures), "files" }, .arg = "FILE",
		  .help = "also the PCRs of a golden boot, verified as capture verifies them" },
		{ "nonce", CLI_PARSE, .parse = { cli_parse_capture_nonce, &auth }, .arg = "HEX",
		  .why = "expected 16 to 128 hex digits", .help = "the nonce the --capture evidence must be bound to" },
		{ "vcek", CLI_STRING, .string = &auth.vcek, .arg = "FILE", .help = "as for capture" },
		{ "amd-root", CLI_STRING, .string = &auth.amd_root, .arg = "FILE", .help = "as for capture" },
		{ "intel-root", CLI_STRING, .string = &auth.intel_root, .arg = "FILE", .help = "as for capture" },
		{ "with-profile-pcrs", CLI_FLAG, .flag = &with_profile,
		  .help = "also PCR 7 as the QEMU/OVMF profile predicts it (not for Azure)" },
		{ "with-pcr5", CLI_FLAG, .flag = &with_pcr5,
		  .help = "also PCR 5 (GPT, ExitBootServices): left out by default, as firmware\n"
			  "measures ExitBootServices again when the loader retries it" },
		CLI_OPT_STUB_VERSION(&opts, NULL),
		CLI_OPT_FAILED_BOOTS(&opts, NULL),
		CLI_OPT_INITDATA(&io, "PCR 8 of this initdata document instead of zero (repeat for several;\n"
				      "\"none\" also accepts a boot without initdata)"),
		CLI_OPT_PLATFORM(&azure, "also PCR 3 as observed on Azure CVMs (separator only), so the\n"
					 "trustee-operator policy finds every name it queries"),
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " reference-values IMAGE... [--format=rvps|map|local-json|configmap]\n"
		"                [--with-profile-pcrs] [--with-pcr5] [--initdata FILE]... [--platform azure|none]\n"
		"                [--stub-version N] [--failed-boot-options N]\n"
		"                [--capture SERIAL_LOG... --nonce HEX [--vcek FILE] [--amd-root FILE] [--intel-root FILE]]\n"
		"  Trustee reference values for the image-determined PCRs (4, 8, 9, 11, 12, 13; 5 of a\n"
		"  disk image with --with-pcr5): snp_pcrNN, tdx_pcrNN and tpm_pcrNN, arrays of lowercase hex\n"
		"  SHA-256.  Several IMAGEs give several accepted values per name.  --capture adds the PCRs\n"
		"  of golden boots only after their evidence verifies against --nonce (see capture);\n"
		"  unauthenticated values come only from `capture --unauthenticated`, whose output says so.\n",
		{ { .opts = table, .col = 22 }, CLI_SB_GROUP },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	s = calloc(1, sizeof(*s));
	if (!s)
		return fatal(EXIT_DATA, "unable to build reference values: %s", strerror(ENOMEM));
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
		r = cvm_rv_add_prediction(s, p, (with_pcr5 ? CVM_RV_WITH_PCR5 : 0) | (with_profile ? CVM_RV_WITH_PROFILE : 0));
		free(p);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to add the values of %s: %s", argv[i],
				     r == -ENOSPC ? "too many distinct values for one PCR" : strerror(-r));
			goto out;
		}
	}
	if (n_captures && !auth.nonce_len) {
		code = usage_error("unable to take --capture: give --nonce HEX (the deployment's nonce) so its evidence can "
				   "be verified; unauthenticated values come only from capture --unauthenticated");
		goto out;
	}
	if (!n_captures && (auth.nonce_len || auth.vcek || auth.amd_root || auth.intel_root)) {
		code = usage_error("unable to use --nonce, --vcek, --amd-root or --intel-root: they verify --capture files");
		goto out;
	}
	for (size_t i = 0; i < n_captures; i++) {
		code = cli_capture_add(captures[i], NULL, &auth, s);
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
