/* INI-style configuration: "[section]" headers, "key = value" lines, '#' or
 * ';' comments, blank lines.  Keys may repeat (e.g. "arg" for each argument);
 * values run to the end of the line with surrounding blanks trimmed.  Shared
 * by the image builder (cvm-image) and the init, so both read one format. */
#ifndef CVMKIT_INI_H
#define CVMKIT_INI_H

#include <stddef.h>
#include <stdint.h>

#define CVM_INI_MAX_LINE 4096
#define CVM_INI_MAX_NAME 64

/* Called for every key.  section is "" before the first header.  Returning a
 * negative errno stops the parse and is returned by cvm_ini_parse. */
typedef int (*cvm_ini_cb)(const char *section, const char *key, const char *value, unsigned line, void *userdata);

/* Parses buf[0..len).  Returns 0, the callback's error, or -EBADMSG for a
 * malformed line (its 1-based number stored in *ret_line when ret_line is
 * non-NULL): an unterminated header, a line without '=', an empty key, a
 * name longer than CVM_INI_MAX_NAME, a line longer than CVM_INI_MAX_LINE, or a
 * NUL byte. */
int cvm_ini_parse(const uint8_t *buf, size_t len, cvm_ini_cb cb, void *userdata, unsigned *ret_line);

#endif
