/* include/cvmkit/kbsref.h: one set of rules for build time and boot time. */
#include <errno.h>
#include <string.h>

#include "cvmkit/kbsref.h"

static bool is_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static bool seg_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_' || s[i] == '-' || (i > 0 && s[i] == '.')))
			return false;
	return true;
}

bool cvm_kbs_resource_path_valid(const char *path)
{
	const char *a = strchr(path, '/'), *b;

	if (!a || strlen(path) >= CVM_KBS_PATH_MAX - 32)
		return false;
	b = strchr(a + 1, '/');
	if (!b || strchr(b + 1, '/'))
		return false;
	return seg_ok(path, (size_t)(a - path)) && seg_ok(a + 1, (size_t)(b - a - 1)) && seg_ok(b + 1, strlen(b + 1));
}

int cvm_sealed_uri_path(const char *uri, char *out, size_t cap)
{
	const char *p;
	size_t n;

	if (strncmp(uri, "kbs+", 4) == 0 && strstr(uri, "://"))
		return -EOPNOTSUPP;
	if (strncmp(uri, "kbs://", 6) != 0)
		return -EINVAL;
	p = strchr(uri + 6, '/');
	if (!p)
		return -EINVAL;
	p++;
	if (!cvm_kbs_resource_path_valid(p))
		return -EINVAL;
	n = strlen(p);
	if (n >= cap)
		return -ENOBUFS;
	memcpy(out, p, n + 1);
	return 0;
}

bool cvm_secret_name_valid(const char *s, size_t n)
{
	if (!n || n > CVM_SECRET_NAME_MAX || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(is_alnum(s[i]) || s[i] == '_'))
			return false;
	return true;
}

bool cvm_sealed_ref_valid(const char *s, size_t n)
{
	unsigned dots = 0;
	size_t run = 0;

	if (n > CVM_SEALED_REF_MAX || n < 7 || strncmp(s, "sealed.", 7))
		return false;
	for (size_t i = 7; i < n; i++) {
		if (s[i] == '.') {
			if (!run)
				return false;
			dots++;
			run = 0;
		} else if (is_alnum(s[i]) || s[i] == '-' || s[i] == '_') {
			run++;
		} else {
			return false;
		}
	}
	return dots == 2 && run;
}
