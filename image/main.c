/* cvm-image: assembles the image from its parts.
 *
 *   cvm-image build  [--config FILE] [--SECTION-KEY VALUE ...] --init FILE --stub FILE
 *                    --linux FILE --uname RELEASE [--modules DIR] [--out DIR] [--cache DIR] [--json]
 *   cvm-image config [--config FILE] [--SECTION-KEY VALUE ...] [--get SECTION.KEY]
 *   cvm-image sign   [--config FILE] [--secureboot-KEY VALUE ...] --in PE --out FILE
 *
 * Exit codes: 0 success, 1 build failure, 2 usage or configuration error.
 *
 * This file dispatches the verbs, which live in image/cli/ (see cli.h), and
 * owns the CLI's two ways of reporting: fail() and progress().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cvmkit/config.h"

#include "cli/cli.h"

static struct timespec t_start;

double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) + (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

void progress(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: [%7.3f s] ", PROG, elapsed());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: fatal: unable to ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int main(int argc, char **argv)
{
	static struct cvm_conf conf;
	struct args a = { .out = "out" };
	const char *verb;
	int code;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	cvm_conf_init(&conf);
	if (parse_args(argc - 1, argv + 1, &a, &conf) < 0) {
		cvm_conf_free(&conf);
		return 2;
	}
	if (!strcmp(verb, "build"))
		code = cmd_build(&a, &conf);
	else if (!strcmp(verb, "config"))
		code = cmd_config(&a, &conf);
	else if (!strcmp(verb, "sign"))
		code = cmd_sign(&a, &conf);
	else
		code = fail(2, "run '%s': unknown verb (try --help)", verb);
	cvm_conf_free(&conf);
	return code;
}
