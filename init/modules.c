#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cvmkit/fileio.h"
#include "init.h"

/* Not in musl's headers; the kernel ABI value (include/uapi/linux/module.h). */
#define MODULE_INIT_COMPRESSED_FILE 4

static int load_one(const char *rel)
{
	char path[512];
	size_t n = strlen(rel);
	int fd, flags = 0, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "/lib/modules/%s", rel) >= sizeof(path))
		return -ENAMETOOLONG;
	if (n > 3 && (!strcmp(rel + n - 3, ".xz") || !strcmp(rel + n - 3, ".gz")))
		flags |= MODULE_INIT_COMPRESSED_FILE;
	if (n > 4 && !strcmp(rel + n - 4, ".zst"))
		flags |= MODULE_INIT_COMPRESSED_FILE;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", flags) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Loaded or skipped modules, by path, for dependency checks.  Bounded: an
 * image carries a few dozen modules. */
#define MAX_TRACKED 256

static bool listed(char *const *set, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(set[i], path))
			return true;
	return false;
}

int init_load_modules(const char *list_path, struct init_modules_result *ret)
{
	struct init_modules_result res = { 0 };
	char *skipped[MAX_TRACKED];
	size_t n_skipped = 0;
	uint8_t *buf = NULL;
	size_t len;
	char *line, *save = NULL;
	int r;

	r = cvm_read_file(list_path, 1 << 20, &buf, &len);
	if (r == -ENOENT) {
		*ret = res;
		return 0;
	}
	if (r < 0)
		goto out;
	/* Each line: the module, then the modules it needs.  A module whose
	 * dependency did not apply (e.g. hv_netvsc without Hyper-V's vmbus) does
	 * not apply either. */
	for (line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *mod, *dep, *save2 = NULL;
		bool skip = false;

		if (!*line || *line == '#')
			continue;
		mod = strtok_r(line, " ", &save2);
		while ((dep = strtok_r(NULL, " ", &save2)))
			skip = skip || listed(skipped, n_skipped, dep);
		r = skip ? -ENODEV : load_one(mod);
		if (r == 0 || r == -EEXIST) {
			res.loaded++;
		} else if (r == -ENODEV || r == -ENXIO) {
			res.skipped++;
			if (n_skipped < MAX_TRACKED)
				skipped[n_skipped++] = mod;
		} else {
			snprintf(ret->failed, sizeof(ret->failed), "%s", mod);
			goto out;
		}
	}
	*ret = res;
	r = 0;
out:
	free(buf);
	return r;
}
