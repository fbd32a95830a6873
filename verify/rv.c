/* Reference-value appraisal with the names Trustee's policies query. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/verify.h"
#include "../attest/b64.h"

#define RV_MAX_SIZE (1u << 20)

struct rv_rule {
	const char *claim;  /* dotted path under the TEE object */
	const char *rv;     /* RV name, or NULL for a fixed value */
	const char *fixed;  /* expected value when rv is NULL */
	bool required;      /* queried by Trustee's default policy */
};

static const struct rv_rule snp_rules[] = {
	{ "measurement", "measurement", NULL, true },
	{ "tpm.pcr11", "snp_pcr11", NULL, true },
	{ "reported_tcb_bootloader", "tcb_bootloader", NULL, true },
	{ "reported_tcb_microcode", "tcb_microcode", NULL, true },
	{ "reported_tcb_snp", "tcb_snp", NULL, true },
	{ "reported_tcb_tee", "tcb_tee", NULL, true },
	{ "platform_smt_enabled", "smt_enabled", NULL, true },
	{ "platform_tsme_enabled", "tsme_enabled", NULL, true },
	{ "policy_abi_major", "abi_major", NULL, true },
	{ "policy_abi_minor", "abi_minor", NULL, true },
	{ "policy_single_socket", "single_socket", NULL, true },
	{ "policy_smt_allowed", "smt_allowed", NULL, true },
	{ "tpm.pcr03", "snp_pcr03", NULL, false },
	{ "tpm.pcr08", "snp_pcr08", NULL, false },
	{ "tpm.pcr09", "snp_pcr09", NULL, false },
	{ "tpm.pcr12", "snp_pcr12", NULL, false },
};

static const struct rv_rule tdx_rules[] = {
	{ "tpm.pcr11", "tdx_pcr11", NULL, true },
	{ "quote.header.tee_type", NULL, "81000000", true },
	{ "quote.header.vendor_id", NULL, "939a7233f79c4ca9940a0db3957f0607", true },
	{ "tcb_status", NULL, "UpToDate", true },
	{ "quote.body.mr_td", "mr_td", NULL, true },
	{ "quote.body.xfam", "xfam", NULL, true },
	{ "tpm.pcr03", "tdx_pcr03", NULL, false },
	{ "tpm.pcr08", "tdx_pcr08", NULL, false },
	{ "tpm.pcr09", "tdx_pcr09", NULL, false },
	{ "tpm.pcr12", "tdx_pcr12", NULL, false },
};

static const cJSON *path_get(const cJSON *o, const char *path)
{
	char seg[48];

	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, seg);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

/* Decodes base64 text holding JSON (either alphabet); NULL when it is not. */
static cJSON *b64_json(const char *s)
{
	size_t n = strlen(s), cap = cvm_b64_decoded_max(n);
	uint8_t *b = malloc(cap);
	cJSON *j = NULL;
	int len;

	if (!b)
		return NULL;
	len = cvm_b64_decode(s, n, b, cap);
	if (len > 0)
		j = cJSON_ParseWithLength((const char *)b, (size_t)len);
	free(b);
	return j;
}

/* Normalises the three accepted RV file shapes into {"name": value}. */
static int load_rvs(const uint8_t *buf, size_t len, cJSON **ret)
{
	cJSON *root = cJSON_ParseWithLength((const char *)buf, len), *out = NULL, *e;
	const cJSON *type, *payload;
	int r = -EBADMSG;

	if (!cJSON_IsObject(root))
		goto out;
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
	if (cJSON_IsString(type) && cJSON_IsString(payload)) {
		const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
		if (strcmp(type->valuestring, "sample") != 0 ||
		    (ver && (!cJSON_IsString(ver) || strcmp(ver->valuestring, "0.1.0") != 0)))
			goto out;
		out = b64_json(payload->valuestring);
		if (!cJSON_IsObject(out))
			goto out;
		*ret = out;
		out = NULL;
		r = 0;
		goto out;
	}
	/* LocalJson storage: every value a base64url string of {"name",..,"value"}. */
	for (e = root->child; e;) {
		cJSON *stored, *v, *next = e->next;
		if (!cJSON_IsString(e)) {
			e = next;
			continue;
		}
		stored = b64_json(e->valuestring);
		v = cJSON_DetachItemFromObjectCaseSensitive(stored, "value");
		cJSON_Delete(stored);
		if (v && !cJSON_ReplaceItemInObjectCaseSensitive(root, e->string, v)) {
			cJSON_Delete(v);
			r = -ENOMEM;
			goto out;
		}
		e = next;
	}
	*ret = root;
	root = NULL;
	r = 0;
out:
	cJSON_Delete(out);
	cJSON_Delete(root);
	return r;
}

static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int cvm_rv_appraise(enum cvm_tee tee, const char *claims_json, const uint8_t *rv, size_t rv_len,
		    struct cvm_rv_report *ret)
{
	const struct rv_rule *rules = tee == CVM_TEE_AZ_SNP_VTPM ? snp_rules : tdx_rules;
	size_t nrules = tee == CVM_TEE_AZ_SNP_VTPM ? CVM_ARRAY_SIZE(snp_rules) : CVM_ARRAY_SIZE(tdx_rules);
	struct cvm_rv_report rep;
	cJSON *claims = NULL, *rvs = NULL;
	const cJSON *tc;
	int r;

	if (rv_len > RV_MAX_SIZE)
		return -EFBIG;
	memset(&rep, 0, sizeof(rep));
	rep.affirming = true;
	claims = cJSON_Parse(claims_json);
	tc = cJSON_GetObjectItemCaseSensitive(claims, cvm_tee_name(tee));
	if (!cJSON_IsObject(tc)) {
		r = -EBADMSG;
		goto out;
	}
	r = load_rvs(rv, rv_len, &rvs);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nrules; i++) {
		const struct rv_rule *ru = &rules[i];
		const cJSON *c = path_get(tc, ru->claim), *ref = ru->rv ? cJSON_GetObjectItemCaseSensitive(rvs, ru->rv) : NULL;
		struct cvm_rv_verdict *v = &rep.verdicts[rep.count];

		if (ru->rv && !ref && !ru->required)
			continue;
		copy(v->claim, sizeof(v->claim), ru->claim);
		copy(v->rv_name, sizeof(v->rv_name), ru->rv ? ru->rv : "(fixed)");
		copy(v->found, sizeof(v->found), cJSON_IsString(c) ? c->valuestring : "");
		if (!ru->rv && strcmp(ru->claim, "tcb_status") == 0 && !c) {
			v->status = CVM_RV_NOT_CHECKED;
			copy(v->found, sizeof(v->found), "not checked (needs Intel collateral)");
		} else if (!ru->rv) {
			v->status = cJSON_IsString(c) && strcmp(c->valuestring, ru->fixed) == 0 ? CVM_RV_MATCH : CVM_RV_MISMATCH;
		} else if (!ref) {
			v->status = CVM_RV_MISSING;
		} else {
			/* Trustee's "claim in rv": rv must be an array with an
			 * element of the same JSON type and value. */
			const cJSON *el;
			v->status = CVM_RV_MISMATCH;
			if (cJSON_IsArray(ref) && c)
				cJSON_ArrayForEach(el, ref)
					if (cJSON_Compare(el, c, true))
						v->status = CVM_RV_MATCH;
		}
		if (v->status == CVM_RV_MISMATCH || v->status == CVM_RV_MISSING)
			rep.affirming = false;
		rep.count++;
	}
	*ret = rep;
	r = 0;
out:
	cJSON_Delete(claims);
	cJSON_Delete(rvs);
	return r;
}
