/* GPT reader on untrusted disk images: parse, ESP lookup, PCR 5 payload.
 * Mutated headers and entry arrays almost never keep their CRC-32s, so the
 * checks after them would only see the seeds: when bit 0 of the first byte
 * (in the protective MBR, which the reader ignores) is set, the harness first
 * rewrites both CRCs in a copy, the way a deliberate attacker would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "cvmkit/bytes.h"
#include "cvmkit/gpt.h"

static void repair_crcs(uint8_t *d, size_t size)
{
	uint8_t *h = d + CVM_GPT_SECTOR;
	uint32_t hsize = cvm_le32(h + 12), n = cvm_le32(h + 80), esize = cvm_le32(h + 84);
	uint64_t lba = cvm_le64(h + 72), bytes = (uint64_t)n * esize;

	if (lba < size / CVM_GPT_SECTOR && bytes <= size - lba * CVM_GPT_SECTOR)
		cvm_put_le32(h + 88, (uint32_t)crc32_z(0, d + lba * CVM_GPT_SECTOR, (size_t)bytes));
	if (hsize >= 20 && hsize <= CVM_GPT_SECTOR) {
		memset(h + 16, 0, 4);
		cvm_put_le32(h + 16, (uint32_t)crc32_z(0, h, hsize));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_gpt g;
	uint8_t *ev, *copy = NULL;
	size_t ev_len;

	if (size >= 2 * CVM_GPT_SECTOR && (data[0] & 1)) {
		copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		repair_crcs(copy, size);
		data = copy;
	}
	if (cvm_gpt_parse(data, size, &g) == 0) {
		(void)cvm_gpt_find(&g, CVM_GPT_TYPE_ESP);
		if (cvm_gpt_event_data(data, size, &ev, &ev_len) == 0) {
			/* The payload must be the header the parser reported. */
			if (ev_len < 100 || memcmp(ev, g.header, 92) != 0)
				abort();
			free(ev);
		}
	}
	free(copy);
	return 0;
}
