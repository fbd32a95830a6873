/* Replays a fuzz corpus through a harness built without libFuzzer (gcc,
 * ASan/UBSan): every file named on the command line, or every file in every
 * directory named there.  Exits non-zero on the first crash (the sanitizers
 * abort), prints "N passed, 0 failed" otherwise. */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvmkit/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count)
{
	uint8_t *buf;
	size_t len;
	int r = cvm_read_file(path, 64u << 20, &buf, &len);

	if (r < 0) {
		fprintf(stderr, "replay: fatal: unable to read %s: %s\n", path, strerror(-r));
		return 1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: fatal: unable to stat %s\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], &count))
				return 1;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0;
		if (!d)
			return 1;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				names = realloc(names, (n + 1) * sizeof(*names));
				if (!names || asprintf(&names[n++], "%s/%s", argv[i], e->d_name) < 0)
					return 1;
			}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp);
		for (size_t k = 0; k < n; k++) {
			if (run_file(names[k], &count))
				return 1;
			free(names[k]);
		}
		free(names);
	}
	if (count == 0) {
		fprintf(stderr, "replay: fatal: empty corpus\n");
		return 1;
	}
	printf("%u passed, 0 failed\n", count);
	return 0;
}
