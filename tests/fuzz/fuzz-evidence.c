/* Evidence JSON parser for both TEEs, then the full verifier, the builder and
 * the reference-value appraisal on whatever parses.  The first byte picks the
 * TEE. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cvmkit/evidence.h"
#include "cvmkit/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_evidence ev;
	struct cvm_verify_opts o = { 0 };
	struct cvm_verify_result res;
	struct cvm_rv_report rep;
	enum cvm_tee tee;
	char *json;

	if (size < 1)
		return 0;
	tee = data[0] & 1 ? CVM_TEE_AZ_TDX_VTPM : CVM_TEE_AZ_SNP_VTPM;
	if (cvm_evidence_parse(tee, data + 1, size - 1, &ev) < 0)
		return 0;
	o.report_data = data;
	o.report_data_len = 1;
	(void)cvm_verify_evidence(&ev, &o, &res);
	if (res.claims_json)
		(void)cvm_rv_appraise(tee, res.claims_json, data + 1, size - 1, &rep);
	cvm_verify_result_free(&res);
	if (cvm_evidence_build(&ev, &json) == 0)
		free(json);
	cvm_evidence_free(&ev);
	return 0;
}
