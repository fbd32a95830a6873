/* What cvm-measure's verbs share: exit codes, the two ways a verb reports,
 * output helpers, and the option-table rows several verbs take.  main.c
 * holds the verb table; each verb is a file of measure/cli/ (linked into the
 * CLI only, never into libcvm-measure) and reads its options with
 * cli_parse() (opts.h). */
#ifndef CVMKIT_MEASURE_CLI_H
#define CVMKIT_MEASURE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cvmkit/pcr.h"
#include "cvmkit/predict.h"
#include "cvmkit/refvalues.h"
#include "cvmkit/sbvars.h"

#include "opts.h"

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

/* --key-pass-file, --lock, --source-commit, --builder: sign's and publish's. */
#define CLI_OPTS_PROVENANCE(SO)                                   \
	{ "key-pass-file", CLI_STRING, .string = &(SO)->key_pass_file }, \
	{ "lock", CLI_STRING, .string = &(SO)->lock },                   \
	{ "source-commit", CLI_STRING, .string = &(SO)->commit },        \
	{ "builder", CLI_STRING, .string = &(SO)->builder }

/* The verbs: int verb(argc, argv) with argv[0] the verb's name; each returns
 * the exit code. */
int verb_capture(int argc, char **argv);          /* capture.c */
int verb_corim(int argc, char **argv);            /* corim.c */
int verb_explain(int argc, char **argv);          /* explain.c */
int cli_verb_initdata(int argc, char **argv);     /* initdata.c */
int verb_predict(int argc, char **argv);          /* predict.c */
int verb_publish(int argc, char **argv);          /* publish.c */
int verb_reference_values(int argc, char **argv); /* reference-values.c */
int verb_replay(int argc, char **argv);           /* replay.c */
int verb_sign(int argc, char **argv);             /* bundle.c */
int verb_verify(int argc, char **argv);           /* bundle.c */

/* Signs what publish wrote to DIR (see `cvm-measure sign --help`). */
int sign_published(const char *dir, const struct cvm_sign_opts *o);

/* measure/cli/report.c: labels for output */
/* A hash algorithm's name, or 0xNNNN. */
void alg_label(uint16_t alg, char out[16]);
/* An event type's name (static), or 0xNNNNNNNN written to out. */
void type_label(uint32_t type, char out[16], const char **ret);
/* Prints root as indented JSON and a newline; -ENOMEM when root is NULL. */
int print_json(cJSON *root);
/* The exit code, or EXIT_DATA (reported) when stdout could not be written. */
int finish_stdout(int code);

/* measure/cli/replay.c */
/* Why cvm_evlog_replay() refused buf (its error err), in one phrase. */
void explain_failure(const uint8_t *buf, size_t len, int err, char *why, size_t n);

/* measure/cli/prediction.c: what every verb that predicts shares */
const char *status_name(enum cvm_predict_status s);
const char *input_name(enum cvm_predict_input in);
/* --bank NAME[,NAME...] into a struct cvm_predict_opts: replaces the banks. */
int parse_predict_banks(const char *arg, void *opts);

/* The options every predicting verb takes, for its table. */
#define CLI_OPT_BANKS(OPTS, HELP)                                                                   \
	{ "bank", CLI_PARSE, .parse = { parse_predict_banks, (OPTS) }, .arg = "NAMES", .help = (HELP), \
	  .why = "unknown or repeated bank" }
#define CLI_OPT_STUB_VERSION(OPTS, HELP)                                                                   \
	{ "stub-version", CLI_NUMBER, .num = { &(OPTS)->stub_version, 1, 100000 }, .arg = "N", .help = (HELP), \
	  .why = "expected a number like 257" }
#define CLI_OPT_FAILED_BOOTS(OPTS, HELP)                                                          \
	{ "failed-boot-options", CLI_NUMBER,                                                      \
	  .num = { &(OPTS)->failed_boot_options, 0, CVM_PREDICT_MAX_FAILED_BOOTS }, .arg = "N", \
	  .help = (HELP) }

/* --secureboot-vars SOURCE, --secure-boot on|off, --secureboot-db-append CERT:
 * shared by every verb that predicts (its second group, listed at column 20),
 * applied in load_prediction(). */
extern const struct cli_opt cli_sb_opts[];
#define CLI_SB_GROUP { .opts = cli_sb_opts, .col = 20 }

struct cli_sb {
	const char *vars, *append[8];
	size_t n_append;
	int state; /* -1 unset */
	bool loaded;
	struct cvm_sbvars v;
};
extern struct cli_sb sbcli;
/* Reads and predicts PATH; prints the fatal message itself and returns an exit code. */
int load_prediction(const char *path, const struct cvm_predict_opts *opts_in, struct cvm_prediction **ret);
cJSON *prediction_json(const struct cvm_prediction *p);

/* measure/cli/reference-values.c */
enum rv_format { RV_RVPS, RV_MAP, RV_LOCAL_JSON, RV_CONFIGMAP };
/* --format: rvps, map, local-json, configmap (enum rv_format) */
extern const struct cli_value cli_format_values[];
/* Prints the set in that format; 0 or -errno. */
int print_rvs(const struct cvm_rv_set *s, int format);

/* measure/cli/initdata.c */
/* --initdata FILE (repeatable; "none" = no document, PCR 8 zero): replaces
 * the set's PCR 8 values by the PCR 8 of every document given. */
struct cli_initdata_opts {
	const char *files[CVM_RV_MAX_VALUES];
	size_t n;
};
#define CLI_OPT_INITDATA(IO, HELP)                                                                  \
	{ "initdata", CLI_LIST, .list = { (IO)->files, &(IO)->n, CVM_RV_MAX_VALUES, "documents" }, .arg = "FILE", \
	  .help = (HELP) }
int cli_initdata_apply(const struct cli_initdata_opts *o, struct cvm_rv_set *s);

/* --platform azure: PCR 3 as observed on Azure SEV-SNP CVMs (separator only;
 * not predicted: ../shared/notes/azure-firmware.md).  "none" adds nothing. */
extern const struct cli_value cli_platform_values[];
#define CLI_OPT_PLATFORM(AZURE, HELP) \
	{ "platform", CLI_ENUM, .enm = { (AZURE), cli_platform_values }, .arg = "azure", .help = (HELP) }
void cli_platform_apply(bool azure, struct cvm_rv_set *s);

/* The trustee-operator's on-disk LocalJson `reference_value` file and a
 * ConfigMap manifest carrying it (../shared/notes/trustee-reference-values.md
 * §2).  Expiration: SOURCE_DATE_EPOCH (else now) plus 365 days. */
int cli_rv_local_json(const struct cvm_rv_set *s, char **ret_text);
int cli_rv_configmap(const struct cvm_rv_set *s, char **ret_text);

/* measure/cli/capture-auth.c: capture's authentication (include/cvmkit/capture-auth.h):
 * --nonce HEX (cli_parse_capture_nonce), --vcek FILE (PEM or DER), --amd-root FILE,
 * --intel-root FILE, --unauthenticated.  cli_capture_run: EXIT_OK; EXIT_MISMATCH (1)
 * when the evidence is missing or refused, naming the check; EXIT_USAGE; EXIT_DATA
 * (unreadable input). */
struct cli_capture_auth {
	uint8_t nonce[64];
	size_t nonce_len;
	const char *vcek, *amd_root, *intel_root;
	bool unauthenticated;
};
int cli_parse_capture_nonce(const char *arg, void *auth);
int cli_capture_run(const char *path, const bool *sel, bool rvps, const struct cli_capture_auth *o);
/* As cli_capture_run, adding the verified PCRs to s instead of printing
 * them: reference-values --capture. */
int cli_capture_add(const char *path, const bool *sel, const struct cli_capture_auth *o, struct cvm_rv_set *s);
struct cli_capture_platform {
	bool have_measurement, have_mrtd;
	uint8_t measurement[48], mrtd[48];
};

#endif
