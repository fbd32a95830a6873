/* Fuzzes the LZ4 legacy frame reader; small outputs are re-compressed and
 * must round-trip.  The 1 MiB limit keeps a 4-byte block that expands to
 * 8 MiB from costing 8 MiB of page faults per run; the limit's own code path
 * (a block crossing it) is reached either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/lz4legacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out, *z, *back;
	size_t ol, zl, bl;

	if (cvm_lz4_legacy_decompress(data, size, 1u << 20, &out, &ol) < 0)
		return 0;
	if (ol <= 65536 && cvm_lz4_legacy_compress(out, ol, &z, &zl) == 0) {
		if (cvm_lz4_legacy_decompress(z, zl, ol, &back, &bl) < 0 || bl != ol || memcmp(back, out, ol) != 0)
			abort();
		free(back);
		free(z);
	}
	free(out);
	return 0;
}
