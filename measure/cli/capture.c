/* cvm-measure capture: reference values from a golden boot's
 * CVMKIT-MEASURED-BOOT line (or "N: hex" lines); its file reader also serves
 * reference-values --capture. */
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

/* Reads a serial log (or "N: hex" file) and adds its SHA-256 PCRs. */
int add_capture_file(struct cvm_rv_set *s, const char *path, const bool *sel)
{
	struct cvm_capture c = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, code = EXIT_OK;

	r = cvm_read_file(path, CVM_CAPTURE_MAX_INPUT, &buf, &len);
	if (r < 0)
		return fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(-r));
	r = cvm_capture_parse(buf, len, &c);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to parse %s: %s", path,
			     r == -EBADMSG ? "no CVMKIT-MEASURED-BOOT line and not \"N: hex\" lines (or malformed)"
					   : strerror(-r));
		goto out;
	}
	r = cvm_rv_add_capture(s, &c, sel);
	if (r < 0)
		code = fatal(EXIT_DATA, "unable to take reference values from %s: %s", path,
			     r == -EINVAL ? "no SHA-256 PCRs" : "too many distinct values for one PCR");
out:
	cvm_capture_free(&c);
	free(buf);
	return code;
}

int verb_capture(int argc, char **argv)
{
	struct cvm_rv_set *s = NULL;
	struct cli_pcrs pcrs = { 0 };
	int format = RV_RVPS;
	int r, code;
	const struct cli_opt table[] = {
		{ "format", CLI_ENUM, .enm = { &format, cli_format_values }, .eq = true },
		{ "pcrs", CLI_PARSE, .parse = { cli_parse_pcrs, &pcrs }, .why = "expected indices 0-23 like 0-3,6,7" },
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " capture SERIAL_LOG [--format=rvps|map] [--pcrs LIST]\n"
		"  Reference values from a golden boot: the last CVMKIT-MEASURED-BOOT line in\n"
		"  SERIAL_LOG (or a file of \"N: hex\" lines).  Every SHA-256 PCR it holds but 6 becomes\n"
		"  snp_pcrNN / tdx_pcrNN / tpm_pcrNN, including the platform PCRs 0-3 and 7 that no\n"
		"  image prediction can supply.  PCR 6 holds the VM's identity on Azure (a value for\n"
		"  one VM only): --pcrs LIST keeps exactly those PCRs (e.g. 0-3,7, or 6 to have it).\n",
		{ { .opts = table } },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc)
		return usage_error("unable to capture: expected exactly one SERIAL_LOG argument");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fatal(EXIT_DATA, "unable to capture: %s", strerror(ENOMEM));
	code = add_capture_file(s, argv[optind], pcrs.any ? pcrs.sel : NULL);
	if (code != EXIT_OK)
		goto out;
	r = print_rvs(s, format);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print reference values: %s",
			     r == -ENODATA ? "no PCR selected" : strerror(-r));
		goto out;
	}
	code = finish_stdout(EXIT_OK);
out:
	free(s);
	return code;
}
