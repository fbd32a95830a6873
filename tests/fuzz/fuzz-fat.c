/* FAT reader on untrusted images: look up a few paths (8.3, long name,
 * nested, missing) and read them, with and without a copy. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "cvmkit/fat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *paths[] = {
		"EFI/BOOT/BOOTX64.EFI", "efi/A Long File Name.data", "A/B/C/D.TXT", "README.TXT", "NOPE",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		uint8_t *buf;
		size_t len;

		const uint8_t *view;
		size_t vlen;
		int rv = cvm_fat_view_file(data, size, paths[i], 1u << 20, &view, &vlen);

		if (cvm_fat_read_file(data, size, paths[i], 1u << 20, &buf, &len) == 0) {
			if (buf[len] != 0)
				abort();
			/* The view, when there is one, is the same bytes, inside the input. */
			if (rv == 0 && (vlen != len || view < data || (size_t)(view - data) > size - vlen ||
					memcmp(view, buf, len) != 0))
				abort();
			if (rv < 0 && rv != -ENODATA)
				abort();
			free(buf);
		} else if (rv == 0) {
			abort();
		}
	}
	return 0;
}
