/* What cvm-measure's verbs share: exit codes and the two ways main() reports.
 * The verbs live in measure/main.c and the files of measure/cli/ (linked into the CLI
 * only, never into libcvm-measure). */
#ifndef CVMKIT_MEASURE_CLI_H
#define CVMKIT_MEASURE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/refvalues.h"

#define PROG "cvm-measure"

enum {
	EXIT_OK = 0,
	EXIT_MISMATCH = 1,
	EXIT_USAGE = 2,
	EXIT_DATA = 3,
};

/* "cvm-measure: fatal: ... (see cvm-measure --help)"; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) int usage_error(const char *fmt, ...);
/* "cvm-measure: fatal: ..."; returns CODE. */
__attribute__((format(printf, 2, 3))) int fatal(int code, const char *fmt, ...);

struct cvm_sign_opts {
	const char *key;          /* PEM private key (EC P-256 or P-384) */
	const char *key_pass_file;
	const char *lock;         /* deps/lock, or NULL */
	const char *commit;       /* source commit, or NULL */
	const char *builder;      /* builder id, or NULL */
};

/* Signs what publish wrote to DIR (see `cvm-measure sign --help`). */
int sign_published(const char *dir, const struct cvm_sign_opts *o);

int verb_sign(int argc, char **argv);
int verb_verify(int argc, char **argv);

/* measure/cli/initdata.c */
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

/* measure/cli/capture.c: capture's authentication (include/cvmkit/capture-auth.h).
 * Options: --nonce HEX, --vcek FILE (PEM or DER), --amd-root FILE, --intel-root FILE,
 * --unauthenticated; cli_capture_option returns EXIT_OK or EXIT_USAGE (reported).
 * cli_capture_run: EXIT_OK; EXIT_MISMATCH (1) when the evidence is missing or
 * refused, naming the check; EXIT_USAGE; EXIT_DATA (unreadable input). */
enum { CLI_CAPTURE_NONCE = 0x100, CLI_CAPTURE_VCEK, CLI_CAPTURE_AMD_ROOT, CLI_CAPTURE_INTEL_ROOT, CLI_CAPTURE_UNAUTH };
#define CLI_CAPTURE_LONGOPTS                                                         \
	{ "nonce", required_argument, NULL, CLI_CAPTURE_NONCE },                     \
	{ "vcek", required_argument, NULL, CLI_CAPTURE_VCEK },                       \
	{ "amd-root", required_argument, NULL, CLI_CAPTURE_AMD_ROOT },               \
	{ "intel-root", required_argument, NULL, CLI_CAPTURE_INTEL_ROOT },           \
	{ "unauthenticated", no_argument, NULL, CLI_CAPTURE_UNAUTH }
struct cli_capture_auth {
	uint8_t nonce[64];
	size_t nonce_len;
	const char *vcek, *amd_root, *intel_root;
	bool unauthenticated;
};
int cli_capture_option(struct cli_capture_auth *o, int opt, const char *arg);
int cli_capture_run(const char *path, const bool *sel, bool rvps, const struct cli_capture_auth *o);
int cli_rv_configmap(const struct cvm_rv_set *s, char **ret_text);

#endif
