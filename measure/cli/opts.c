/* The one option parser of cvm-measure's verbs (measure/cli/opts.h). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/pcr.h"

#include "cli.h"

/* "0,4,9" or "0-7,11"; 0 or -EINVAL. */
static int parse_pcr_list(const char *arg, bool sel[CVM_PCR_COUNT])
{
	const char *p = arg;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;

		if (end == p || a >= CVM_PCR_COUNT)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b >= CVM_PCR_COUNT || b < a)
				return -EINVAL;
		}
		for (unsigned long i = a; i <= b; i++)
			sel[i] = true;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}

int cli_parse_pcrs(const char *arg, void *pcrs)
{
	struct cli_pcrs *p = pcrs;
	int r = parse_pcr_list(arg, p->sel);

	if (r == 0)
		p->any = true;
	return r;
}

/* "expected a, b or c" */
static void enum_why(const struct cli_value *v, char *out, size_t n)
{
	size_t at = (size_t)snprintf(out, n, "expected");

	for (size_t i = 0; v[i].name && at < n; i++)
		at += (size_t)snprintf(out + at, n - at, "%s%s", i == 0 ? " " : v[i + 1].name ? ", " : " or ",
				       v[i].name);
}

/* Stores arg as o says; returns CLI_RUN or EXIT_USAGE (reported). */
static int take(const struct cli_opt *o, const char *arg)
{
	char why[160];
	const char *sep = o->eq ? "=" : " ";

	switch (o->kind) {
	case CLI_FLAG:
		*o->flag = true;
		return CLI_RUN;
	case CLI_STRING:
		*o->string = arg;
		return CLI_RUN;
	case CLI_LIST:
		if (*o->list.n == o->list.cap)
			return usage_error("unable to take more than %zu --%s %s", o->list.cap, o->name, o->list.noun);
		o->list.items[(*o->list.n)++] = arg;
		return CLI_RUN;
	case CLI_ENUM:
		for (const struct cli_value *v = o->enm.values; v->name; v++)
			if (strcmp(arg, v->name) == 0) {
				*o->enm.dest = v->value;
				return CLI_RUN;
			}
		enum_why(o->enm.values, why, sizeof(why));
		return usage_error("unable to parse --%s%s%s: %s", o->name, sep, arg, why);
	case CLI_NUMBER: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (end != arg && !*end && v >= o->num.min && v <= o->num.max) {
			*o->num.dest = (unsigned)v;
			return CLI_RUN;
		}
		if (!o->why)
			snprintf(why, sizeof(why), "expected %lu-%lu", o->num.min, o->num.max);
		return usage_error("unable to parse --%s%s%s: %s", o->name, sep, arg, o->why ? o->why : why);
	}
	case CLI_PARSE:
		if (o->parse.fn(arg, o->parse.ctx) >= 0)
			return CLI_RUN;
		return usage_error("unable to parse --%s%s%s: %s", o->name, sep, arg, o->why);
	}
	return EXIT_USAGE;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv)
{
	struct option lo[CLI_MAX_OPTS + 2] = { { "help", no_argument, NULL, 'h' } };
	const struct cli_opt *by_val[CLI_MAX_OPTS];
	char shorts[2 * CLI_MAX_OPTS + 2] = "h";
	size_t n = 0, ns = 1;
	int c;

	for (size_t g = 0; g < CLI_MAX_GROUPS; g++)
		for (const struct cli_opt *o = spec->groups[g].opts; o && o->name; o++) {
			if (n == CLI_MAX_OPTS)
				return fatal(EXIT_USAGE, "unable to parse options: more than %d in one verb", CLI_MAX_OPTS);
			by_val[n] = o;
			/* Values above any char: a long option is found by its index. */
			lo[n + 1] = (struct option){ o->name, o->kind == CLI_FLAG ? no_argument : required_argument, NULL,
						     256 + (int)n };
			n++;
			if (o->short_name) {
				shorts[ns++] = o->short_name;
				if (o->kind != CLI_FLAG)
					shorts[ns++] = ':';
			}
		}
	lo[n + 1] = (struct option){ 0 };
	shorts[ns] = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct cli_opt *o = NULL;
		int code;

		if (c == 'h') {
			cli_help(spec, stdout);
			return EXIT_OK;
		}
		if (c >= 256 && (size_t)(c - 256) < n)
			o = by_val[c - 256];
		for (size_t i = 0; !o && c != '?' && i < n; i++)
			if (by_val[i]->short_name == c)
				o = by_val[i];
		if (!o)
			return EXIT_USAGE; /* getopt_long said why */
		code = take(o, optarg);
		if (code != CLI_RUN)
			return code;
	}
	return CLI_RUN;
}

static void help_line(FILE *f, const struct cli_opt *o, const char *arg, const char *help, unsigned col)
{
	int n = fprintf(f, "  --%s%s%s", o->name, arg ? (o->eq ? "=" : " ") : "", arg ? arg : "");

	fprintf(f, "%*s", n < (int)col ? (int)col - n : 2, "");
	for (const char *p = help; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "%*s", (int)col, "");
	}
	fputc('\n', f);
}

void cli_help(const struct cli_spec *spec, FILE *f)
{
	fputs(spec->usage, f);
	for (size_t g = 0; g < CLI_MAX_GROUPS; g++) {
		const struct cli_group *gr = &spec->groups[g];

		for (const struct cli_opt *o = gr->opts; o && o->name; o++) {
			if (o->kind == CLI_ENUM && o->each) {
				for (const struct cli_value *v = o->enm.values; v->name; v++)
					if (v->help)
						help_line(f, o, v->name, v->help, gr->col);
			} else if (o->help) {
				help_line(f, o, o->arg, o->help, gr->col);
			}
		}
		if (gr->after)
			fputs(gr->after, f);
	}
}
