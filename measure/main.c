/* cvm-measure: PCR prediction and event-log tools.  One function per verb,
 * dispatched from the verb table; the verbs live in measure/cli/.
 * Exit codes: 0 ok, 1 mismatch, 2 usage, 3 I/O or parse error. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} verbs[] = {
	{ "capture", verb_capture, "reference values from a golden boot's CVMKIT-MEASURED-BOOT line" },
	{ "corim", verb_corim, "the predicted reference values as a CoRIM (CBOR)" },
	{ "explain", verb_explain, "compare a prediction with a boot's event log and PCRs" },
	{ "initdata", cli_verb_initdata, "digest, PCR 8 and encodings of a CoCo initdata document" },
	{ "predict", verb_predict, "predict the PCRs a boot of an image (UKI, raw disk, VHD) produces" },
	{ "publish", verb_publish, "predict once, write measurements.json, reference-values.json, corim.cbor" },
	{ "reference-values", verb_reference_values, "Trustee RVPS reference values for an image" },
	{ "replay", verb_replay, "replay a TCG event log into PCR values" },
	{ "sign", verb_sign, "sign what publish wrote: signed CoRIM, detached signatures, provenance" },
	{ "verify", verb_verify, "check a signed bundle and its provenance against the files" },
};

static void help(FILE *f)
{
	fputs("usage: " PROG " VERB [OPTIONS...]\n\nverbs:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-18s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n" PROG " VERB --help shows a verb's options.\n"
	      "exit status: 0 ok, 1 mismatch, 2 usage, 3 I/O or parse error\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("unable to run: no verb given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		help(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	return usage_error("unable to run %s: unknown verb", argv[1]);
}
