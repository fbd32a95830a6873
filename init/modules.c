/* The module phase, as udev's coldplug would do it: a module the image
 * carries is loaded only when a device present has a modalias matching one
 * of the module's aliases (load.alias, from the kernel's modules.alias at
 * build time), after the modules it depends on (load.list).  Loading a bus
 * driver (hv_vmbus) makes its devices appear, so the devices are read again
 * after every round that loaded something.  Loading modules that match no
 * device cost most of the phase, mostly in the kernel's relocation and
 * init of code that then returns ENODEV. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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

/* Appends the modalias in the file at path (up to its newline) and a NUL to
 * buf; files that are absent, empty or do not fit are left out.  A plain
 * read into the buffer: this runs for every device, twice per boot. */
static void add_alias(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *nl;

	if (fd < 0)
		return;
	n = cap > *len + 1 ? read(fd, buf + *len, cap - *len - 1) : -1;
	close(fd);
	if (n <= 0)
		return;
	nl = memchr(buf + *len, '\n', (size_t)n);
	if (nl)
		n = nl - (buf + *len);
	if (n == 0 || (size_t)n >= cap - *len - 1)
		return; /* empty, or possibly cut short */
	buf[*len + (size_t)n] = 0;
	*len += (size_t)n + 1;
}

int init_modaliases(const char *sys_root, char *buf, size_t cap, size_t *ret_len)
{
	char path[512];
	size_t len = 0;
	DIR *bus;
	struct dirent *b;

	if ((size_t)snprintf(path, sizeof(path), "%s/bus", sys_root) >= sizeof(path))
		return -ENAMETOOLONG;
	bus = opendir(path);
	if (!bus)
		return -errno;
	while ((b = readdir(bus))) {
		DIR *devs;
		struct dirent *d;

		if (b->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/bus/%s/devices", sys_root, b->d_name) >= sizeof(path))
			continue;
		devs = opendir(path);
		if (!devs)
			continue;
		while ((d = readdir(devs)))
			if (d->d_name[0] != '.' &&
			    (size_t)snprintf(path, sizeof(path), "%s/bus/%s/devices/%s/modalias", sys_root, b->d_name,
					     d->d_name) < sizeof(path))
				add_alias(path, buf, cap, &len);
		closedir(devs);
	}
	closedir(bus);
	/* CPUs have no per-device modalias file; the CPU subsystem has one
	 * (what tdx-guest's x86cpu alias matches). */
	if ((size_t)snprintf(path, sizeof(path), "%s/devices/system/cpu/modalias", sys_root) < sizeof(path))
		add_alias(path, buf, cap, &len);
	*ret_len = len;
	return 0;
}

bool init_modalias_match(const char *patterns, const char *aliases, size_t len)
{
	char pat[512];

	while (*patterns) {
		size_t n = strcspn(patterns, " ");

		if (n > 0 && n < sizeof(pat)) {
			memcpy(pat, patterns, n);
			pat[n] = 0;
			for (size_t off = 0; off < len; off += strlen(aliases + off) + 1)
				if (fnmatch(pat, aliases + off, 0) == 0)
					return true;
		}
		patterns += n;
		patterns += strspn(patterns, " ");
	}
	return false;
}

/* One line of load.list: the module, then every module it needs (load order). */
struct entry {
	char *mod;
	char *deps[32];
	size_t n_deps;
	int state; /* 0 not tried, 1 loaded, -errno skipped or failed */
};

#define MAX_ENTRIES 256
#define ALIAS_BUF (256u << 10)

struct phase {
	struct entry e[MAX_ENTRIES];
	size_t n;
	struct init_modules_result res;
};

static struct entry *find(struct phase *p, const char *mod)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->e[i].mod, mod))
			return &p->e[i];
	return NULL;
}

/* Loads e after its dependencies.  A dependency that does not apply
 * (ENODEV/ENXIO, e.g. hv_vmbus off Hyper-V) makes e not apply either. */
static int load_entry(struct phase *p, struct entry *e)
{
	int r = 0;

	if (e->state)
		return e->state > 0 ? 0 : e->state;
	for (size_t i = 0; i < e->n_deps && r == 0; i++) {
		struct entry *d = find(p, e->deps[i]);
		r = d ? load_entry(p, d) : load_one(e->deps[i]);
		if (r == -EEXIST)
			r = 0;
	}
	if (r == 0)
		r = load_one(e->mod);
	if (r == 0 || r == -EEXIST) {
		e->state = 1;
		p->res.loaded++;
		return 0;
	}
	e->state = r;
	if (r == -ENODEV || r == -ENXIO) {
		p->res.skipped++;
		return r;
	}
	if (!p->res.failed[0])
		snprintf(p->res.failed, sizeof(p->res.failed), "%s", e->mod);
	return r;
}

static int parse_list(char *text, struct phase *p)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct entry *e;
		char *dep, *save2 = NULL;

		if (!*line || *line == '#')
			continue;
		if (p->n >= MAX_ENTRIES)
			return -E2BIG;
		e = &p->e[p->n++];
		e->mod = strtok_r(line, " ", &save2);
		while ((dep = strtok_r(NULL, " ", &save2)))
			if (e->n_deps < sizeof(e->deps) / sizeof(e->deps[0]))
				e->deps[e->n_deps++] = dep;
	}
	return 0;
}

/* Without load.alias (an image built before it), every listed module. */
static int load_all(struct phase *p)
{
	for (size_t i = 0; i < p->n; i++) {
		int r = load_entry(p, &p->e[i]);
		if (r < 0 && r != -ENODEV && r != -ENXIO)
			return r;
	}
	return 0;
}

/* load.alias: one line per module the configuration asked for, its path then
 * its device aliases (fnmatch patterns).  A module without aliases drives no
 * device (a file system, say): it is always loaded. */
static int load_matching(struct phase *p, char *alias_text)
{
	char *wanted[MAX_ENTRIES], *pats[MAX_ENTRIES], *line, *save = NULL, *aliases;
	bool done[MAX_ENTRIES] = { false };
	size_t n = 0, len;
	int r = 0;

	for (line = strtok_r(alias_text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!*line || *line == '#')
			continue;
		if (n >= MAX_ENTRIES)
			return -E2BIG;
		wanted[n] = line;
		pats[n] = line + strcspn(line, " ");
		if (*pats[n])
			*pats[n]++ = 0;
		if (!*wanted[n])
			return -EBADMSG;
		n++;
	}
	aliases = malloc(ALIAS_BUF);
	if (!aliases)
		return -ENOMEM;
	/* Bounded rounds: each one that loads a bus driver may add devices. */
	for (int round = 0; round < 4; round++) {
		bool progress = false;

		r = init_modaliases("/sys", aliases, ALIAS_BUF, &len);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			struct entry *e;

			if (done[i] || (*pats[i] && !init_modalias_match(pats[i], aliases, len)))
				continue;
			done[i] = progress = true;
			e = find(p, wanted[i]);
			r = e ? load_entry(p, e) : load_one(wanted[i]);
			if (!e && (r == 0 || r == -EEXIST))
				p->res.loaded++;
			if (r < 0 && r != -EEXIST && r != -ENODEV && r != -ENXIO) {
				if (!p->res.failed[0])
					snprintf(p->res.failed, sizeof(p->res.failed), "%s", wanted[i]);
				goto out;
			}
		}
		if (!progress)
			break;
	}
	r = 0;
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			p->res.skipped++;
out:
	free(aliases);
	return r;
}

int init_load_modules(const char *list_path, struct init_modules_result *ret)
{
	struct phase *p = calloc(1, sizeof(*p));
	uint8_t *list = NULL, *alias = NULL;
	char alias_path[512];
	const char *slash = strrchr(list_path, '/');
	size_t len;
	int r;

	if (!p)
		return -ENOMEM;
	r = cvm_read_file(list_path, 1 << 20, &list, &len);
	if (r == -ENOENT) {
		*ret = p->res;
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	r = parse_list((char *)list, p);
	if (r < 0)
		goto out;
	snprintf(alias_path, sizeof(alias_path), "%.*s/load.alias", slash ? (int)(slash - list_path) : 1,
		 slash ? list_path : ".");
	r = cvm_read_file(alias_path, 1 << 20, &alias, &len);
	if (r == -ENOENT)
		r = load_all(p);
	else if (r == 0)
		r = load_matching(p, (char *)alias);
	if (r < 0) {
		snprintf(ret->failed, sizeof(ret->failed), "%s", p->res.failed[0] ? p->res.failed : "load.alias");
		goto out;
	}
	*ret = p->res;
out:
	free(alias);
	free(list);
	free(p);
	return r;
}
