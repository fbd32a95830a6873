/* Text buffer for rendered configuration (image/text.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

void text_printf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (t->err)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->err = -ENOMEM;
		return;
	}
	char *np = realloc(t->p, t->len + (size_t)n + 1);
	if (!np) {
		free(s);
		t->err = -ENOMEM;
		return;
	}
	t->p = np;
	memcpy(t->p + t->len, s, (size_t)n + 1);
	t->len += (size_t)n;
	free(s);
}
