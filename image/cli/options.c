/* cvm-image's command line: the fixed options, one option per schema key
 * ("--section-key", the key's underscores spelled as dashes), --set, and
 * --help, which lists them all. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/config.h"

#include "cli.h"

void usage(FILE *f)
{
	fprintf(f,
		"usage: %s build  [--config FILE] [OPTIONS] --init FILE --stub FILE --linux FILE --uname RELEASE\n"
		"                        [--modules DIR] [--out DIR] [--cache DIR] [--json]\n"
		"                        (--cache: keep the compressed init and modules there, keyed by content)\n"
		"       %s config [--config FILE] [OPTIONS] [--check] [--get SECTION.KEY]\n"
		"       %s sign   [--config FILE] [OPTIONS] --in PE --out FILE   (Authenticode, [secureboot] key and cert)\n"
		"\n"
		"Configuration options (each is also a key of the config file; the command line wins):\n",
		PROG, PROG, PROG);
	for (const struct cvm_conf_key *k = cvm_conf_schema; k->section; k++) {
		char opt[80];
		/* The option spells the key's underscores as dashes, as parse_args() registers it. */
		snprintf(opt, sizeof(opt), "%s-%s", k->section, k->key);
		for (char *p = opt; *p; p++)
			if (*p == '_')
				*p = '-';
		fprintf(f, "  --%s VALUE%s\n      %s%s%s\n", opt, k->multi ? " (repeatable)" : "", k->help,
			k->def ? "; default: " : "", k->def ? k->def : "");
	}
	fprintf(f, "  --set SECTION.KEY=VALUE   the same, by name\n"
		   "  --workload FILE           short for --workload-binary\n"
		   "  --cmdline STRING          short for --kernel-cmdline\n"
		   "  --check                   (config) validate the whole configuration; with --get, then print\n"
		   "\nExit codes: 0 success, 1 build failure, 2 usage or configuration error.\n"
		   "SOURCE_DATE_EPOCH sets every timestamp in the image (default 0).\n");
}

/* ------------------------------------------------------------------ options */

enum { OPT_CONFIG = 1000, OPT_SET, OPT_INIT, OPT_STUB, OPT_LINUX, OPT_UNAME, OPT_MODULES, OPT_OUT, OPT_JSON,
       OPT_GET, OPT_HELP, OPT_WORKLOAD, OPT_CMDLINE, OPT_CHECK, OPT_IN, OPT_CACHE, OPT_SCHEMA };

/* Options: fixed ones plus one per schema key ("--section-key"). */
int parse_args(int argc, char **argv, struct args *a, struct cvm_conf *c)
{
	enum { MAX_KEYS = 96 };
	static struct option opts[MAX_KEYS + 24];
	static char names[MAX_KEYS][80];
	struct { const char *name; char *value; } sets[256];
	size_t n_opts = 0, n_sets = 0;
	int o, idx, r;

	static const struct option fixed[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },   { "set", required_argument, NULL, OPT_SET },
		{ "init", required_argument, NULL, OPT_INIT },       { "stub", required_argument, NULL, OPT_STUB },
		{ "linux", required_argument, NULL, OPT_LINUX },     { "uname", required_argument, NULL, OPT_UNAME },
		{ "modules", required_argument, NULL, OPT_MODULES }, { "out", required_argument, NULL, OPT_OUT },
		{ "json", no_argument, NULL, OPT_JSON },             { "get", required_argument, NULL, OPT_GET },
		{ "help", no_argument, NULL, OPT_HELP },             { "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE }, { "check", no_argument, NULL, OPT_CHECK },
		{ "in", required_argument, NULL, OPT_IN },          { "cache", required_argument, NULL, OPT_CACHE },
	};
	_Static_assert(sizeof(fixed) / sizeof(fixed[0]) < 24, "opts[] has room for 23 fixed options");
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		opts[n_opts++] = fixed[i];
	for (size_t i = 0; cvm_conf_schema[i].section; i++) {
		/* Every test run stops here the day the schema outgrows the table. */
		if (i == MAX_KEYS)
			return fail(1, "parse options: the configuration schema has more than %d keys", MAX_KEYS);
		snprintf(names[i], sizeof(names[i]), "%s-%s", cvm_conf_schema[i].section, cvm_conf_schema[i].key);
		for (char *p = names[i]; *p; p++)
			if (*p == '_')
				*p = '-';
		opts[n_opts++] = (struct option){ names[i], required_argument, NULL, OPT_SCHEMA + (int)i };
	}
	opts[n_opts] = (struct option){ 0 };

	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, &idx)) != -1) {
		const struct cvm_conf_key *k = NULL;
		char dotted[160];
		const char *value = optarg;

		switch (o) {
		case OPT_CONFIG: a->config = optarg; continue;
		case OPT_INIT: a->init = optarg; continue;
		case OPT_STUB: a->stub = optarg; continue;
		case OPT_LINUX: a->linux_ = optarg; continue;
		case OPT_UNAME: a->uname = optarg; continue;
		case OPT_MODULES: a->modules = optarg; continue;
		case OPT_OUT: a->out = optarg; a->out_set = true; continue;
		case OPT_IN: a->in = optarg; continue;
		case OPT_CACHE: a->cache = optarg; continue;
		case OPT_JSON: a->json = true; continue;
		case OPT_GET: a->get = optarg; continue;
		case OPT_CHECK: a->check = true; continue;
		case 'h':
		case OPT_HELP: usage(stdout); exit(0);
		case OPT_WORKLOAD: k = cvm_conf_lookup("workload.binary"); break;
		case OPT_CMDLINE: k = cvm_conf_lookup("kernel.cmdline"); break;
		case OPT_SET: {
			const char *eq = strchr(optarg, '=');
			if (!eq || (size_t)(eq - optarg) >= sizeof(dotted)) {
				fprintf(stderr, "%s: fatal: unable to parse --set %s: expected SECTION.KEY=VALUE\n", PROG, optarg);
				return -EINVAL;
			}
			snprintf(dotted, sizeof(dotted), "%.*s", (int)(eq - optarg), optarg);
			k = cvm_conf_lookup(dotted);
			if (!k) {
				fprintf(stderr, "%s: fatal: unable to set %s: no such configuration key\n", PROG, dotted);
				return -EINVAL;
			}
			value = eq + 1;
			break;
		}
		default:
			if (o >= OPT_SCHEMA && o < OPT_SCHEMA + 64) {
				k = &cvm_conf_schema[o - OPT_SCHEMA];
				break;
			}
			/* One sentence naming the option, not getopt's line and the whole usage. */
			fprintf(stderr, "%s: fatal: unable to parse arguments: %s '%s' (options are --SECTION-KEY, see --help)\n",
				PROG, o == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
			return -EINVAL;
		}
		if (n_sets >= sizeof(sets) / sizeof(sets[0]))
			return -E2BIG;
		snprintf(dotted, sizeof(dotted), "%s.%s", k->section, k->key);
		sets[n_sets].name = k->section; /* placeholder, replaced below */
		sets[n_sets].value = NULL;
		if (asprintf(&sets[n_sets].value, "%s=%s", dotted, value) < 0)
			return -ENOMEM;
		n_sets++;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: fatal: unable to parse arguments: unexpected '%s'\n", PROG, argv[optind]);
		return -EINVAL;
	}
	/* The file first, then the command line, so the command line wins. */
	if (a->config) {
		r = cvm_conf_load(c, a->config);
		if (r < 0) {
			fprintf(stderr, "%s: fatal: unable to load the configuration: %s\n", PROG, c->error);
			goto out;
		}
	}
	r = 0;
	for (size_t i = 0; i < n_sets; i++) {
		char *eq = strchr(sets[i].value, '=');
		*eq = 0;
		if (r == 0) {
			r = cvm_conf_set(c, sets[i].value, eq + 1);
			if (r < 0)
				fprintf(stderr, "%s: fatal: unable to configure: %s\n", PROG, c->error);
		}
	}
out:
	for (size_t i = 0; i < n_sets; i++)
		free(sets[i].value);
	return r;
}
