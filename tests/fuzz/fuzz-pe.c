/* Fuzzes the PE parser, Authenticode, section memory and the UKI builder
 * (which takes the input as its stub). */
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/hash.h"
#include "cvmkit/pe.h"
#include "cvmkit/ukibuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_pe pe;
	uint8_t d[CVM_HASH_MAX_SIZE], *m, *u;
	size_t ml, ul;
	struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { 0 };

	if (cvm_pe_parse(data, size, &pe) < 0)
		return 0;
	(void)cvm_pe_authenticode(data, size, CVM_HASH_SHA256, d);
	(void)cvm_pe_find_section(&pe, ".linux");
	for (unsigned i = 0; i < pe.n_sections; i++) {
		/* Large in-memory sections are legal; skip them to keep the fuzzer fast. */
		if (pe.sections[i].virtual_size > (16u << 20))
			continue;
		if (cvm_pe_section_memory(data, size, &pe.sections[i], &m, &ml) == 0)
			free(m);
	}
	parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)"ID=fuzz\n", 8 };
	parts[CVM_UKI_LINUX] = (struct cvm_uki_part){ data, size < 4096 ? size : 4096 };
	if (cvm_uki_build(data, size, parts, &u, &ul) == 0) {
		/* The builder's output must be a valid PE again. */
		if (cvm_pe_parse(u, ul, &pe) < 0)
			abort();
		free(u);
	}
	return 0;
}
