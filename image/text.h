/* A growing NUL-terminated text buffer for what cvm-image renders (init.conf,
 * the container's [workload] section).  The first failure latches in err, so
 * a renderer appends freely and checks once at the end. */
#ifndef CVMKIT_IMAGE_TEXT_H
#define CVMKIT_IMAGE_TEXT_H

#include <stddef.h>

struct text {
	char *p;     /* malloc'd; the caller frees it */
	size_t len;
	int err;     /* 0, or the first -ENOMEM */
};

/* Appends the formatted string; does nothing once err is set. */
__attribute__((format(printf, 2, 3))) void text_printf(struct text *t, const char *fmt, ...);

#endif
