/* Fuzzes the LZ4 legacy frame reader; small outputs are re-compressed and
 * must round-trip.  The input after the magic is also checked as bare blocks
 * (the initramfs cache's check, initrd.h) against what the reader decoded:
 * the check may accept only blocks that decode to exactly those bytes.  The
 * 1 MiB limit keeps a 4-byte block that expands to 8 MiB from costing 8 MiB
 * of page faults per run; the limit's own code path (a block crossing it) is
 * reached either way. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/lz4legacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out, *z, *back;
	size_t ol, zl, bl;
	int rc;

	if (cvm_lz4_legacy_decompress(data, size, 1u << 20, &out, &ol) < 0)
		return 0;
	rc = size >= 4 ? cvm_lz4_legacy_blocks_check(data + 4, size - 4, out, ol) : -EBADMSG;
	if (rc != 0 && rc != -EBADMSG && rc != -ENOMEM)
		abort();
	/* A one-byte change of what they decode to is always refused. */
	if (rc == 0 && ol > 0) {
		out[ol / 2] ^= 1;
		if (cvm_lz4_legacy_blocks_check(data + 4, size - 4, out, ol) != -EBADMSG)
			abort();
		out[ol / 2] ^= 1;
	}
	if (ol <= 65536 && cvm_lz4_legacy_compress(out, ol, &z, &zl) == 0) {
		if (cvm_lz4_legacy_decompress(z, zl, ol, &back, &bl) < 0 || bl != ol || memcmp(back, out, ol) != 0)
			abort();
		/* Our own blocks always pass the check. */
		if (cvm_lz4_legacy_blocks_check(z + 4, zl - 4, out, ol) != 0)
			abort();
		free(back);
		free(z);
	}
	free(out);
	return 0;
}
