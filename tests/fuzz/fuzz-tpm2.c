/* TPM 2.0 response parsing: the input is the TPM's answer to every command
 * of the command layer (and to the Azure collector built on it). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cvmkit/azure.h"
#include "cvmkit/tpm2.h"

struct input {
	const uint8_t *data;
	size_t size;
};

static int answer(void *userdata, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t cap)
{
	const struct input *in = userdata;
	size_t n = in->size < cap ? in->size : cap;

	(void)cmd;
	(void)cmd_len;
	memcpy(resp, in->data, n);
	return (int)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cvm_tpm2 t;
	static uint8_t pcrs[CVM_TPM2_PCR_COUNT][64], nv[256];
	static struct cvm_tpm2_quote q;
	struct input in = { data, size };
	struct cvm_tpm2_public pub;
	struct cvm_tpm2_nv_public nvp;
	struct cvm_azure_collected col;
	struct cvm_azure_collect_opts o = { .report_data = (const uint8_t *)"nonce", .report_data_len = 5 };
	uint8_t rnd[16];
	uint32_t v;
	char rc[128];

	cvm_tpm2_open_custom(answer, &in, &t);
	(void)cvm_tpm2_get_random(&t, rnd, sizeof(rnd));
	(void)cvm_tpm2_get_property(&t, CVM_TPM2_PT_NV_BUFFER_MAX, &v);
	(void)cvm_tpm2_pcr_read(&t, CVM_TPM2_ALG_SHA256, 0xffffff, pcrs);
	(void)cvm_tpm2_pcr_read(&t, CVM_TPM2_ALG_SHA384, 0x000f0f, pcrs);
	(void)cvm_tpm2_read_public(&t, CVM_TPM2_AZURE_AK, &pub);
	(void)cvm_tpm2_nv_read_public(&t, CVM_TPM2_AZURE_HCL_REPORT_NV, &nvp);
	t.nv_buffer_max = 64;
	(void)cvm_tpm2_nv_read(&t, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_HCL_REPORT_NV, 0, nv, sizeof(nv));
	(void)cvm_tpm2_nv_write(&t, CVM_TPM2_RH_OWNER, CVM_TPM2_AZURE_USER_DATA_NV, 0, nv, 100);
	(void)cvm_tpm2_nv_define(&t, CVM_TPM2_AZURE_USER_DATA_NV, CVM_TPMA_NV_OWNERREAD | CVM_TPMA_NV_OWNERWRITE, 64);
	(void)cvm_tpm2_nv_undefine(&t, CVM_TPM2_AZURE_USER_DATA_NV);
	(void)cvm_tpm2_quote(&t, CVM_TPM2_AZURE_AK, (const uint8_t *)"nonce", 5, CVM_TPM2_ALG_SHA256, 0xffffff, &q);
	cvm_tpm2_rc_describe(t.last_rc, rc, sizeof(rc));
	if (cvm_azure_collect(&t, &o, &col) == 0)
		cvm_azure_collected_free(&col);
	return 0;
}
