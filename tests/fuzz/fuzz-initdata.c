/* Initdata: the input as an initdata TOML document, as an attestation-agent
 * configuration (aa.toml), and as IMDS userData whose decoded document is
 * parsed in turn (both forms: raw TOML, cloud-config with gzip). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/initdata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_initdata d;
	static uint8_t doc[CVM_INITDATA_MAX];
	char url[256], cert[4096];
	enum cvm_initdata_form form;
	size_t len;

	(void)cvm_initdata_parse(data, size, &d);
	(void)cvm_initdata_aa_kbs((const char *)data, size, url, sizeof(url), cert, sizeof(cert));
	if (cvm_initdata_from_userdata(data, size, doc, sizeof(doc), &len, &form) == 0 && len)
		(void)cvm_initdata_parse(doc, len, &d);
	return 0;
}
