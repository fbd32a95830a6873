/* Provenance record reader (measure/provenance.c): the subjects verify hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/provenance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_provenance_subject s[CVM_PROVENANCE_MAX_SUBJECTS];
	size_t n = 0;

	if (cvm_provenance_subjects((const char *)data, size, s, CVM_PROVENANCE_MAX_SUBJECTS, &n) == 0)
		for (size_t i = 0; i < n; i++)
			if (!s[i].name[0] || strchr(s[i].name, '/'))
				abort();
	return 0;
}
