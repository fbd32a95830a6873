/* Fuzzes the cpio parser and feeds what it accepts back through the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_cpio_reader r;
	struct cvm_cpio_entry e;
	struct cvm_cpio w;
	unsigned n = 0, added = 0;
	uint8_t acc = 0, *out;
	size_t out_len;
	int ret;

	cvm_cpio_init(&w);
	cvm_cpio_reader_init(&r, data, size);
	while (n++ < 10000 && (ret = cvm_cpio_next(&r, &e)) == 1) {
		/* Touch every byte the parser hands out so ASan sees overreads. */
		acc ^= (uint8_t)e.name[strlen(e.name)];
		for (size_t i = 0; i < e.size; i++)
			acc ^= e.data[i];
		if (e.ino && cvm_cpio_add(&w, &e) == 0)
			added++;
	}
	if (cvm_cpio_finish(&w, acc & 1, &out, &out_len) == 0) {
		unsigned again = 0;
		cvm_cpio_reader_init(&r, out, out_len);
		while ((ret = cvm_cpio_next(&r, &e)) == 1)
			again++;
		/* What the writer produced must parse back completely. */
		if (ret != 0 || again != added)
			abort();
		free(out);
	}
	cvm_cpio_free(&w);
	return 0;
}
