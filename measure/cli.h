/* cvm-measure verbs and helpers that live outside main.c (measure/cli-*.c,
 * linked into the CLI only, never into libcvm-measure).  Helpers return an
 * exit code (0 ok, 2 usage, 3 data) and print their own fatal line. */
#ifndef CVMKIT_MEASURE_CLI_H
#define CVMKIT_MEASURE_CLI_H

#include <stdbool.h>

#include "cvmkit/refvalues.h"

/* cvm-measure initdata FILE [--json] [--user-data FILE [--form native|peer-pod]] [--user-data-base64 FILE] */
int cli_verb_initdata(int argc, char **argv);

/* --initdata FILE (repeatable; "none" = no document, PCR 8 zero): replaces
 * the set's PCR 8 values by the PCR 8 of every document given. */
struct cli_initdata_opts {
	const char *files[CVM_RV_MAX_VALUES];
	size_t n;
};
int cli_initdata_option(struct cli_initdata_opts *o, const char *arg);
int cli_initdata_apply(const struct cli_initdata_opts *o, struct cvm_rv_set *s);

/* --platform azure: PCR 3 as observed on Azure SEV-SNP CVMs (separator only;
 * not predicted: ../shared/notes/azure-firmware.md).  "none" adds nothing. */
int cli_platform_option(const char *arg, bool *ret_azure);
void cli_platform_apply(bool azure, struct cvm_rv_set *s);

/* The trustee-operator's on-disk LocalJson `reference_value` file and a
 * ConfigMap manifest carrying it (../shared/notes/trustee-reference-values.md
 * §2).  Expiration: SOURCE_DATE_EPOCH (else now) plus 365 days. */
int cli_rv_local_json(const struct cvm_rv_set *s, char **ret_text);
int cli_rv_configmap(const struct cvm_rv_set *s, char **ret_text);

#endif
