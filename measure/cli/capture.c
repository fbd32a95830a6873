/* cvm-measure capture: reference values from a golden boot's
 * CVMKIT-MEASURED-BOOT line (or "N: hex" lines); the verification, shared
 * with reference-values --capture, is in capture-auth.c. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/capture.h"
#include "cvmkit/fileio.h"
#include "cvmkit/pcr.h"
#include "cvmkit/refvalues.h"

#include "cli.h"

int verb_capture(int argc, char **argv)
{
	struct cli_capture_auth auth = { 0 };
	struct cli_pcrs pcrs = { 0 };
	int format = RV_RVPS;
	int code;
	const struct cli_opt table[] = {
		{ "nonce", CLI_PARSE, .parse = { cli_parse_capture_nonce, &auth }, .arg = "HEX",
		  .why = "expected 16 to 128 hex digits", .help = "the deployment's nonce the evidence must be bound to" },
		{ "vcek", CLI_STRING, .string = &auth.vcek, .arg = "FILE", .help = "VCEK (PEM or DER) replacing the evidence's" },
		{ "amd-root", CLI_STRING, .string = &auth.amd_root, .arg = "FILE",
		  .help = "PEM bundle (ASK then ARK) replacing AMD's compiled-in roots" },
		{ "intel-root", CLI_STRING, .string = &auth.intel_root, .arg = "FILE",
		  .help = "PEM root replacing Intel's compiled-in SGX Root CA" },
		{ "unauthenticated", CLI_FLAG, .flag = &auth.unauthenticated,
		  .help = "verify nothing; the output is labelled \"cvmkit_capture\": \"unauthenticated\"" },
		{ "format", CLI_ENUM, .enm = { &format, cli_format_values }, .eq = true },
		{ "pcrs", CLI_PARSE, .parse = { cli_parse_pcrs, &pcrs }, .why = "expected indices 0-23 like 0-3,6,7" },
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " capture SERIAL_LOG --nonce HEX [--vcek FILE] [--amd-root FILE] [--intel-root FILE]\n"
		"                [--format=rvps|map] [--pcrs LIST]\n"
		"       " PROG " capture SERIAL_LOG --unauthenticated [--format=rvps|map] [--pcrs LIST]\n"
		"  Reference values from a golden boot: the last CVMKIT-MEASURED-BOOT line in\n"
		"  SERIAL_LOG (or a file of \"N: hex\" lines).  Every SHA-256 PCR it holds but 6 becomes\n"
		"  snp_pcrNN / tdx_pcrNN / tpm_pcrNN, including the platform PCRs 0-3 and 7 that no\n"
		"  image prediction can supply, plus measurement (SNP) or mr_td (TDX).  PCR 6 holds the\n"
		"  VM's identity on Azure (a value for one VM only): --pcrs LIST keeps exactly those PCRs.\n"
		"  The console is the host's: nothing is emitted before the vTPM evidence after the line\n"
		"  verifies (AK from the HCL report, SNP report + VCEK chain or TD quote + PCK chain, quote\n"
		"  signature, --nonce, PCR digest) and every value the line claims equals the verified one.\n"
		"  Exit: 0 ok, 1 evidence missing or refused (stderr names the check), 2 usage, 3 unreadable\n"
		"  input.\n",
		{ { .opts = table, .col = 22 } },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc)
		return usage_error("unable to capture: expected exactly one SERIAL_LOG argument");
	if (format != RV_RVPS && format != RV_MAP)
		return usage_error("unable to parse --format: capture prints rvps or map");
	code = cli_capture_run(argv[optind], pcrs.any ? pcrs.sel : NULL, format == RV_RVPS, &auth);
	return code == EXIT_OK ? finish_stdout(EXIT_OK) : code;
}
