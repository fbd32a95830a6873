/* cvm-measure's error reporting (measure/cli/cli.h). */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see " PROG " --help)\n", stderr);
	return EXIT_USAGE;
}

int fatal(int code, const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}
