/* One-sentence error messages written into a caller's buffer, for code that
 * must not print (libraries, the init's phases) but owes its caller a reason. */
#ifndef CVMKIT_ERRBUF_H
#define CVMKIT_ERRBUF_H

#include <stddef.h>

/* Formats into err (size bytes, NUL-terminated, truncated if needed; nothing
 * is written when err is NULL or size 0) and returns code, so that a parser
 * can `return cvm_errf(err, size, -EINVAL, "...", ...);`. */
__attribute__((format(printf, 4, 5))) int cvm_errf(char *err, size_t size, int code, const char *fmt, ...);

#endif
