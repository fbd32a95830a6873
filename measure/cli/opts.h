/* One option table per verb, read by one parser (measure/cli/opts.c).
 *
 * A verb describes each option once: its name, what kind of argument it
 * takes, where the value goes and how --help describes it.  cli_parse() runs
 * getopt_long over the table (so abbreviations, "--name=value", "--" and
 * getopt's own messages are the same for every verb), stores the values,
 * refuses a bad one in one sentence and prints --help from the same table.
 * Tables are usually built on the verb's stack, pointing at its locals. */
#ifndef CVMKIT_MEASURE_CLI_OPTS_H
#define CVMKIT_MEASURE_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cvmkit/pcr.h"

enum cli_kind {
	CLI_FLAG,   /* no argument: *flag = true */
	CLI_STRING, /* *string = the argument (the last one given wins) */
	CLI_LIST,   /* repeatable: appended to list.items; more than list.cap is refused */
	CLI_ENUM,   /* one of enm.values (by name): *enm.dest = its value */
	CLI_NUMBER, /* a decimal in [num.min, num.max]: *num.dest */
	CLI_PARSE,  /* parse.fn(argument, parse.ctx) < 0 refuses it */
};

/* One accepted value of a CLI_ENUM; a table of them ends with { NULL }. */
struct cli_value {
	const char *name;
	int value;
	const char *help; /* its own --help line when the option sets .each */
};

struct cli_opt {
	const char *name; /* the long option without "--"; NULL ends a table */
	enum cli_kind kind;
	union {
		bool *flag;
		const char **string;
		struct {
			const char **items;
			size_t *n;
			size_t cap;
			const char *noun; /* "unable to take more than CAP --NAME NOUN" */
		} list;
		struct {
			int *dest;
			const struct cli_value *values;
		} enm;
		struct {
			unsigned *dest;
			unsigned long min, max;
		} num;
		struct {
			int (*fn)(const char *arg, void *ctx);
			void *ctx;
		} parse;
	};
	char short_name;  /* also -C, or 0 */
	bool eq;          /* spelt --NAME=ARG in --help and in messages */
	bool each;        /* CLI_ENUM: --help lists each value that has help instead */
	const char *arg;  /* the argument's name in --help ("FILE") */
	const char *help; /* --help's description, "\n" between lines; NULL: not listed */
	const char *why;  /* "unable to parse --NAME ARG: WHY" (CLI_PARSE; CLI_NUMBER
	                   * defaults to "expected MIN-MAX", CLI_ENUM lists the values) */
};

/* A verb's options as --help lists them: descriptions start at column col
 * (two spaces after a longer option), continuation lines are indented to it;
 * after, if not NULL, is printed below the list. */
struct cli_group {
	const struct cli_opt *opts;
	unsigned col;
	const char *after;
};

#define CLI_MAX_GROUPS 2
#define CLI_MAX_OPTS 32

struct cli_spec {
	const char *usage; /* --help up to the option list */
	struct cli_group groups[CLI_MAX_GROUPS];
};

/* cli_parse(): carry on with the verb; optind is its first operand. */
#define CLI_RUN (-1)

/* Parses argv[1..argc) (argv[0] is the verb) against every group of spec,
 * plus -h/--help.  Returns CLI_RUN, EXIT_OK after printing --help, or
 * EXIT_USAGE once the refusal is printed. */
int cli_parse(const struct cli_spec *spec, int argc, char **argv);
void cli_help(const struct cli_spec *spec, FILE *f);

/* --pcrs LIST for CLI_PARSE: "0,4,9" or "0-7,11" into sel, any set. */
struct cli_pcrs {
	bool sel[CVM_PCR_COUNT];
	bool any;
};
int cli_parse_pcrs(const char *arg, void *pcrs);

#endif
