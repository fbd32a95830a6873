/* KBS evidence callback over the Azure vTPM collector (attest/azure.c). */
#include <errno.h>
#include <string.h>

#include "cvmkit/azure.h"
#include "cvmkit/kbs.h"
#include "cvmkit/tpm2.h"

int cvm_kbs_azure_evidence(void *vctx, enum cvm_tee tee, const uint8_t *report_data, size_t report_data_len,
			   char **ret_json)
{
	struct cvm_kbs_azure_ctx *ctx = vctx;
	/* Writing report_data to the user-data index (so it lands in the HCL
	 * report's var data) and quoting with it as qualifying data are both
	 * done by cvm_azure_collect: the two places Trustee checks. */
	struct cvm_azure_collect_opts o = { .report_data = report_data, .report_data_len = report_data_len,
					    .user_data_wait_ms = ctx->user_data_wait_ms };
	struct cvm_azure_collected col = { 0 };
	int r;

	if (!ctx->tpm || (ctx->version != 1 && ctx->version != 2))
		return -EINVAL;
	r = cvm_azure_collect(ctx->tpm, &o, &col);
	if (r < 0)
		goto out;
	r = -EPROTO;
	if (col.tee != tee) /* an SNP vTPM asked for TDX evidence, or the reverse */
		goto out;
	r = cvm_azure_evidence_build(&col, ctx->version, ctx->vcek_der, ctx->vcek_len, ctx->td_quote, ctx->td_quote_len,
				     ret_json);
out:
	cvm_azure_collected_free(&col);
	return r;
}
