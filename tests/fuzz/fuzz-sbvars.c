/* Fuzzes the Secure Boot variable sources and the db authority search.
 * The first byte picks the parser: 0 an edk2 variable store, 1 an Azure
 * template JSON, 2 the authority of a PE: two bytes of db length, that many
 * bytes of signature lists, then the PE with its certificate table. */
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/bytes.h"
#include "cvmkit/sbvars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_sbvars v;
	uint8_t auth[32] = { 0 }, *sig = NULL;
	size_t slen = 0, dlen;

	if (size < 1)
		return 0;
	cvm_sbvars_init(&v);
	switch (data[0]) {
	case 0:
		if (cvm_sbvars_from_varstore(data + 1, size - 1, &v) == 0 &&
		    (v.secure_boot < 0 || v.secure_boot > 1))
			abort();
		break;
	case 1:
		if (cvm_sbvars_from_azure_json(data + 1, size - 1, &v) == 0 && !v.inferred)
			abort();
		break;
	case 2:
		if (size < 3)
			break;
		dlen = cvm_le16(data + 1);
		if (dlen > size - 3)
			break;
		v.data[CVM_SBVAR_DB] = malloc(dlen ? dlen : 1);
		if (!v.data[CVM_SBVAR_DB])
			break;
		for (size_t i = 0; i < dlen; i++)
			v.data[CVM_SBVAR_DB][i] = data[3 + i];
		v.len[CVM_SBVAR_DB] = dlen;
		v.present[CVM_SBVAR_DB] = true;
		if (cvm_sbvars_authority(&v, data + 3 + dlen, size - 3 - dlen, auth, &sig, &slen) == 0) {
			if (slen <= 16)
				abort();
			free(sig);
		}
		break;
	}
	cvm_sbvars_free(&v);
	return 0;
}
