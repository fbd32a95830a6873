/* FAT reader on untrusted images: look up a few paths (8.3, long name,
 * nested, missing) and read them. */
#include <stdint.h>
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

		if (cvm_fat_read_file(data, size, paths[i], 1u << 20, &buf, &len) == 0) {
			if (buf[len] != 0)
				abort();
			free(buf);
		}
	}
	return 0;
}
