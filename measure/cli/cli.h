/* What cvm-measure's verbs share: exit codes and the two ways main() reports.
 * The verbs live in measure/main.c and the files of measure/cli/ (linked into the CLI
 * only, never into libcvm-measure). */
#ifndef CVMKIT_MEASURE_CLI_H
#define CVMKIT_MEASURE_CLI_H

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

#endif
