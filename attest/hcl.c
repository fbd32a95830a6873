/* Azure HCL report and runtime claims. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/hcl.h"
#include "cvmkit/hex.h"
#include "b64.h"

int cvm_hcl_report_parse(const uint8_t *buf, size_t len, struct cvm_hcl_report *ret)
{
	struct cvm_hcl_report r;

	if (len > CVM_HCL_MAX_SIZE)
		return -EFBIG;
	if (!buf || len < CVM_HCL_VAR_DATA_OFFSET || cvm_le32(buf) != CVM_HCL_SIGNATURE)
		return -EBADMSG;
	memset(&r, 0, sizeof(r));
	r.version = cvm_le32(buf + 4);
	r.report_size = cvm_le32(buf + 8);
	r.request_type = cvm_le32(buf + 12);
	r.status = cvm_le32(buf + 16);
	r.igvm_data_size = cvm_le32(buf + CVM_HCL_IGVM_OFFSET);
	r.igvm_version = cvm_le32(buf + CVM_HCL_IGVM_OFFSET + 4);
	r.report_type = cvm_le32(buf + CVM_HCL_IGVM_OFFSET + 8);
	r.hash_type = cvm_le32(buf + CVM_HCL_IGVM_OFFSET + 12);
	r.var_data_size = cvm_le32(buf + CVM_HCL_IGVM_OFFSET + 16);
	/* Both sizes are 32-bit and len is capped, so the sums cannot wrap in size_t. */
	if ((size_t)r.var_data_size > len - CVM_HCL_VAR_DATA_OFFSET)
		return -EBADMSG;
	r.hw_report = buf + CVM_HCL_HW_REPORT_OFFSET;
	r.var_data = buf + CVM_HCL_VAR_DATA_OFFSET;
	*ret = r;
	return 0;
}

int cvm_hcl_report_data(const struct cvm_hcl_report *r, const uint8_t **ret_report_data)
{
	switch (r->report_type) {
	case CVM_HCL_REPORT_SNP:
		*ret_report_data = r->hw_report + 0x50;
		return 0;
	case CVM_HCL_REPORT_TDX:
		*ret_report_data = r->hw_report + 128;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int cvm_hcl_check_binding(const struct cvm_hcl_report *r, uint8_t ret_sha256[32])
{
	const uint8_t *rd;
	uint8_t d[32];
	int ret;

	if (r->hash_type != CVM_HCL_HASH_SHA256)
		return -EOPNOTSUPP;
	ret = cvm_hcl_report_data(r, &rd);
	if (ret < 0)
		return ret;
	ret = cvm_hash(CVM_HASH_SHA256, r->var_data, r->var_data_size, d);
	if (ret < 0)
		return ret;
	if (ret_sha256)
		memcpy(ret_sha256, d, 32);
	return memcmp(d, rd, 32) == 0 ? 0 : -EKEYREJECTED;
}

int cvm_td_report_parse(const uint8_t *buf, size_t len, struct cvm_td_report *ret)
{
	/* REPORTMACSTRUCT at 0, TEE_TCB_INFO at 256, TDINFO at 512. */
	static const struct {
		size_t off, ret_off, size;
	} f[] = {
#define F(off, field) { off, offsetof(struct cvm_td_report, field), sizeof(((struct cvm_td_report *)0)->field) }
		F(0, report_type), F(16, cpusvn), F(32, tee_tcb_info_hash), F(80, tee_info_hash),
		F(128, report_data), F(224, mac), F(264, tee_tcb_svn), F(280, mr_seam), F(328, mrsigner_seam),
		F(376, seam_attributes), F(512, td_attributes), F(520, xfam), F(528, mr_td), F(576, mr_config_id),
		F(624, mr_owner), F(672, mr_owner_config), F(720, rtmr),
#undef F
	};
	struct cvm_td_report r;

	if (!buf || len < CVM_TD_REPORT_SIZE || buf[0] != CVM_TD_REPORT_TYPE_TDX)
		return -EBADMSG;
	for (size_t i = 0; i < CVM_ARRAY_SIZE(f); i++)
		memcpy((uint8_t *)&r + f[i].ret_off, buf + f[i].off, f[i].size);
	*ret = r;
	return 0;
}

static int b64_member(const cJSON *o, const char *name, uint8_t *out, size_t cap, size_t *ret_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	int n;

	if (!cJSON_IsString(v))
		return -EBADMSG;
	n = cvm_b64_decode(v->valuestring, strlen(v->valuestring), out, cap);
	if (n <= 0)
		return -EBADMSG;
	*ret_len = (size_t)n;
	return 0;
}

static int json_bool(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (cJSON_IsTrue(v))
		return 1;
	if (cJSON_IsFalse(v))
		return 0;
	return -1;
}

int cvm_runtime_claims_parse(const uint8_t *buf, size_t len, struct cvm_runtime_claims *ret)
{
	struct cvm_runtime_claims c;
	cJSON *root = NULL;
	const cJSON *keys, *k, *cfg, *ud;
	bool found = false;
	int r = -EBADMSG;

	if (len > CVM_RUNTIME_CLAIMS_MAX_SIZE)
		return -EFBIG;
	memset(&c, 0, sizeof(c));
	c.console_enabled = c.secure_boot = c.tpm_enabled = c.tpm_persisted = -1;
	root = cJSON_ParseWithLength((const char *)buf, len);
	if (!root || !cJSON_IsObject(root))
		goto out;
	keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
	if (!cJSON_IsArray(keys))
		goto out;
	cJSON_ArrayForEach(k, keys) {
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "kid");
		const cJSON *kty = cJSON_GetObjectItemCaseSensitive(k, "kty");
		const cJSON *ops, *op;

		if (!cJSON_IsString(kid))
			continue;
		if (strcmp(kid->valuestring, "HCLEkPub") == 0)
			c.has_ek = true;
		if (strcmp(kid->valuestring, "HCLAkPub") != 0 || found)
			continue;
		if (!cJSON_IsString(kty) || strcmp(kty->valuestring, "RSA") != 0)
			continue;
		if (b64_member(k, "n", c.ak_n, sizeof(c.ak_n), &c.ak_n_len) < 0 ||
		    b64_member(k, "e", c.ak_e, sizeof(c.ak_e), &c.ak_e_len) < 0)
			goto out;
		ops = cJSON_GetObjectItemCaseSensitive(k, "key_ops");
		cJSON_ArrayForEach(op, ops)
			if (cJSON_IsString(op) && strcmp(op->valuestring, "sign") == 0)
				c.ak_sign = true;
		found = true;
	}
	cfg = cJSON_GetObjectItemCaseSensitive(root, "vm-configuration");
	if (cJSON_IsObject(cfg)) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(cfg, "vmUniqueId");
		c.console_enabled = json_bool(cfg, "console-enabled");
		c.secure_boot = json_bool(cfg, "secure-boot");
		c.tpm_enabled = json_bool(cfg, "tpm-enabled");
		c.tpm_persisted = json_bool(cfg, "tpm-persisted");
		if (cJSON_IsString(id) && strlen(id->valuestring) < sizeof(c.vm_unique_id))
			strcpy(c.vm_unique_id, id->valuestring);
	}
	ud = cJSON_GetObjectItemCaseSensitive(root, "user-data");
	if (ud) {
		size_t n;
		if (!cJSON_IsString(ud))
			goto out;
		n = strlen(ud->valuestring);
		if (n % 2 != 0 || n / 2 > sizeof(c.user_data) ||
		    cvm_hex_decode(ud->valuestring, n, c.user_data, n / 2) < 0)
			goto out;
		c.user_data_len = n / 2;
		c.has_user_data = true;
	}
	if (!found) {
		r = -ENOKEY;
		goto out;
	}
	*ret = c;
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}
