#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cvmkit/ini.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CVM_INI_MAX_NAME)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int cvm_ini_parse(const uint8_t *buf, size_t len, cvm_ini_cb cb, void *userdata, unsigned *ret_line)
{
	char section[CVM_INI_MAX_NAME + 1] = "", line[CVM_INI_MAX_LINE + 1];
	unsigned lineno = 0;
	size_t off = 0;
	int r = 0;

	while (off < len) {
		const uint8_t *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		char *s, *eq;

		lineno++;
		if (n > CVM_INI_MAX_LINE || memchr(buf + off, 0, n)) {
			r = -EBADMSG;
			goto out;
		}
		memcpy(line, buf + off, n);
		line[n] = 0;
		off += n + (nl ? 1 : 0);
		s = trim(line);
		if (*s == 0 || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || *trim(end + 1) != 0) {
				r = -EBADMSG;
				goto out;
			}
			*end = 0;
			s = trim(s + 1);
			if (!valid_name(s)) {
				r = -EBADMSG;
				goto out;
			}
			strcpy(section, s);
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			r = -EBADMSG;
			goto out;
		}
		*eq = 0;
		s = trim(s);
		if (!valid_name(s)) {
			r = -EBADMSG;
			goto out;
		}
		r = cb(section, s, trim(eq + 1), lineno, userdata);
		if (r < 0)
			goto out;
	}
	return 0;
out:
	if (ret_line)
		*ret_line = lineno;
	return r;
}
