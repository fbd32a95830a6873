#include <stdarg.h>
#include <stdio.h>

#include "cvmkit/errbuf.h"

int cvm_errf(char *err, size_t size, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return code;
}
