/* cvm-measure's error reporting and output helpers (measure/cli/cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/eventlog.h"
#include "cvmkit/hash.h"

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

void alg_label(uint16_t alg, char out[16])
{
	const char *name = cvm_hash_name((enum cvm_hash_alg)alg);

	if (name)
		snprintf(out, 16, "%s", name);
	else
		snprintf(out, 16, "0x%04x", alg);
}

void type_label(uint32_t type, char out[16], const char **ret)
{
	*ret = cvm_evlog_type_name(type);
	if (!*ret) {
		snprintf(out, 16, "0x%08x", type);
		*ret = out;
	}
}

int print_json(cJSON *root)
{
	char *text = root ? cJSON_Print(root) : NULL;

	if (!text)
		return -ENOMEM;
	puts(text);
	free(text);
	return 0;
}

int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fatal(EXIT_DATA, "unable to write output: %s", strerror(errno));
	return code;
}
