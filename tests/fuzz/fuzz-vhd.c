/* Fixed-VHD reader.  Valid files are at least 1 MiB, beyond corpus size, so
 * a 512-byte input is also tried as the footer of a zero-filled disk of the
 * size it claims (capped at 4 MiB) to reach the checks after the checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/vhd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_vhd_info info;

	(void)cvm_vhd_parse(data, size, &info);
	if (size == CVM_VHD_FOOTER_SIZE) {
		uint64_t disk = cvm_be64(data + 48);
		uint8_t *buf;

		if (disk > 4u * 1024 * 1024)
			disk = 1024 * 1024;
		buf = calloc(1, (size_t)disk + CVM_VHD_FOOTER_SIZE);
		if (!buf)
			return 0;
		memcpy(buf + disk, data, CVM_VHD_FOOTER_SIZE);
		if (cvm_vhd_parse(buf, (size_t)disk + CVM_VHD_FOOTER_SIZE, &info) == 0 && info.current_size != disk)
			abort();
		free(buf);
	}
	return 0;
}
