/* Evidence JSON parse and build. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/x509_crt.h>

#include "cvmkit/evidence.h"
#include "cvmkit/hex.h"
#include "b64.h"

#define SMALL_MAX (64u << 10)

const char *cvm_tee_name(enum cvm_tee tee)
{
	return tee == CVM_TEE_AZ_TDX_VTPM ? "az-tdx-vtpm" : "az-snp-vtpm";
}

int cvm_tee_from_name(const char *name, enum cvm_tee *ret_tee)
{
	if (strcmp(name, "az-snp-vtpm") == 0)
		*ret_tee = CVM_TEE_AZ_SNP_VTPM;
	else if (strcmp(name, "az-tdx-vtpm") == 0)
		*ret_tee = CVM_TEE_AZ_TDX_VTPM;
	else
		return -EINVAL;
	return 0;
}

void cvm_evidence_free(struct cvm_evidence *ev)
{
	free(ev->signature);
	free(ev->message);
	free(ev->hcl_report);
	free(ev->vcek);
	free(ev->td_quote);
	memset(ev, 0, sizeof(*ev));
}

static int hex_member(const cJSON *o, const char *name, uint8_t **ret, size_t *ret_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t n;
	uint8_t *b;

	if (!cJSON_IsString(v))
		return -EBADMSG;
	n = strlen(v->valuestring);
	if (n % 2 != 0 || n == 0)
		return -EBADMSG;
	b = malloc(n / 2);
	if (!b)
		return -ENOMEM;
	if (cvm_hex_decode(v->valuestring, n, b, n / 2) < 0) {
		free(b);
		return -EBADMSG;
	}
	*ret = b;
	*ret_len = n / 2;
	return 0;
}

static int b64_string(const cJSON *v, uint8_t **ret, size_t *ret_len)
{
	size_t n;
	uint8_t *b;
	int r;

	if (!cJSON_IsString(v))
		return -EBADMSG;
	n = strlen(v->valuestring);
	b = malloc(cvm_b64_decoded_max(n));
	if (!b)
		return -ENOMEM;
	r = cvm_b64_decode(v->valuestring, n, b, cvm_b64_decoded_max(n));
	if (r <= 0) {
		free(b);
		return -EBADMSG;
	}
	*ret = b;
	*ret_len = (size_t)r;
	return 0;
}

/* A JSON array of integers 0..255 (the v0 encoding of Vec<u8>). */
static int byte_array(const cJSON *a, uint8_t **ret, size_t *ret_len)
{
	const cJSON *e;
	size_t n = 0;
	int count = cJSON_GetArraySize(a);
	uint8_t *b;

	if (!cJSON_IsArray(a) || count <= 0)
		return -EBADMSG;
	b = malloc((size_t)count);
	if (!b)
		return -ENOMEM;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 255 ||
		    e->valuedouble != (double)e->valueint) {
			free(b);
			return -EBADMSG;
		}
		b[n++] = (uint8_t)e->valueint;
	}
	*ret = b;
	*ret_len = n;
	return 0;
}

static int pcr_list(const cJSON *a, bool hex, struct cvm_evidence *ev)
{
	const cJSON *e;

	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > CVM_EVIDENCE_PCRS)
		return -EBADMSG;
	ev->pcr_count = 0;
	cJSON_ArrayForEach(e, a) {
		uint8_t *b;
		size_t n;
		int r;

		if (hex) {
			if (!cJSON_IsString(e) || strlen(e->valuestring) != 64 ||
			    cvm_hex_decode(e->valuestring, 64, ev->pcrs[ev->pcr_count], 32) < 0)
				return -EBADMSG;
		} else {
			r = byte_array(e, &b, &n);
			if (r < 0)
				return r;
			if (n != 32) {
				free(b);
				return -EBADMSG;
			}
			memcpy(ev->pcrs[ev->pcr_count], b, 32);
			free(b);
		}
		ev->pcr_count++;
	}
	return 0;
}

static int pem_to_der(const char *pem, uint8_t **ret, size_t *ret_len)
{
	mbedtls_x509_crt crt;
	uint8_t *b;
	int r = -EBADMSG;

	mbedtls_x509_crt_init(&crt);
	if (strlen(pem) > SMALL_MAX) {
		r = -EFBIG;
		goto out;
	}
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1) != 0)
		goto out;
	b = malloc(crt.raw.len);
	if (!b) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(b, crt.raw.p, crt.raw.len);
	*ret = b;
	*ret_len = crt.raw.len;
	r = 0;
out:
	mbedtls_x509_crt_free(&crt);
	return r;
}

static int parse_v12(const cJSON *root, struct cvm_evidence *ev)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "tpm_quote");
	int r;

	if (!cJSON_IsNumber(ver) || (ver->valuedouble != 1 && ver->valuedouble != 2) || !cJSON_IsObject(q))
		return -EBADMSG;
	ev->version = ver->valueint;
	if ((r = hex_member(q, "signature", &ev->signature, &ev->signature_len)) < 0 ||
	    (r = hex_member(q, "message", &ev->message, &ev->message_len)) < 0 ||
	    (r = pcr_list(cJSON_GetObjectItemCaseSensitive(q, "pcrs"), true, ev)) < 0 ||
	    (r = b64_string(cJSON_GetObjectItemCaseSensitive(root, "hcl_report"), &ev->hcl_report,
			    &ev->hcl_report_len)) < 0)
		return r;
	if (ev->tee == CVM_TEE_AZ_SNP_VTPM)
		return b64_string(cJSON_GetObjectItemCaseSensitive(root, "vcek"), &ev->vcek, &ev->vcek_len);
	return b64_string(cJSON_GetObjectItemCaseSensitive(root, "td_quote"), &ev->td_quote, &ev->td_quote_len);
}

static int parse_v0(const cJSON *root, struct cvm_evidence *ev)
{
	bool snp = ev->tee == CVM_TEE_AZ_SNP_VTPM;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, snp ? "quote" : "tpm_quote");
	int r;

	if (!cJSON_IsObject(q))
		return -EBADMSG;
	ev->version = 0;
	if ((r = byte_array(cJSON_GetObjectItemCaseSensitive(q, "signature"), &ev->signature, &ev->signature_len)) < 0 ||
	    (r = byte_array(cJSON_GetObjectItemCaseSensitive(q, "message"), &ev->message, &ev->message_len)) < 0 ||
	    (r = pcr_list(cJSON_GetObjectItemCaseSensitive(q, "pcrs"), false, ev)) < 0 ||
	    (r = byte_array(cJSON_GetObjectItemCaseSensitive(root, snp ? "report" : "hcl_report"), &ev->hcl_report,
			    &ev->hcl_report_len)) < 0)
		return r;
	if (snp) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "vcek");
		if (!cJSON_IsString(v))
			return -EBADMSG;
		return pem_to_der(v->valuestring, &ev->vcek, &ev->vcek_len);
	}
	return byte_array(cJSON_GetObjectItemCaseSensitive(root, "td_quote"), &ev->td_quote, &ev->td_quote_len);
}

int cvm_evidence_parse(enum cvm_tee tee, const uint8_t *buf, size_t len, struct cvm_evidence *ret)
{
	struct cvm_evidence ev;
	cJSON *root = NULL;
	int r = -EBADMSG;

	memset(&ev, 0, sizeof(ev));
	ev.tee = tee;
	if (len > CVM_EVIDENCE_MAX_SIZE)
		return -EFBIG;
	root = cJSON_ParseWithLength((const char *)buf, len);
	if (!root || !cJSON_IsObject(root))
		goto out;
	/* The shapes are distinguishable by their members, so trying v2/v1
	 * then v0 (Trustee's untagged order) reduces to looking at "version". */
	if (cJSON_GetObjectItemCaseSensitive(root, "version"))
		r = parse_v12(root, &ev);
	else
		r = parse_v0(root, &ev);
	if (r < 0)
		goto out;
	*ret = ev;
	memset(&ev, 0, sizeof(ev));
	r = 0;
out:
	cvm_evidence_free(&ev);
	cJSON_Delete(root);
	return r;
}

static cJSON *hex_string(const uint8_t *b, size_t n)
{
	char *s = malloc(2 * n + 1);
	cJSON *j;

	if (!s)
		return NULL;
	cvm_hex_encode(b, n, s);
	j = cJSON_CreateString(s);
	free(s);
	return j;
}

static cJSON *b64url_string(const uint8_t *b, size_t n)
{
	char *s = malloc(cvm_b64_encoded_len(n, true) + 1);
	cJSON *j;

	if (!s)
		return NULL;
	cvm_b64_encode(b, n, true, true, s);
	j = cJSON_CreateString(s);
	free(s);
	return j;
}

/* Adds ITEM (which may be NULL after a failed allocation) to O. */
static bool add(cJSON *o, const char *name, cJSON *item)
{
	return item && cJSON_AddItemToObject(o, name, item);
}

int cvm_evidence_build(const struct cvm_evidence *ev, char **ret_json)
{
	bool snp = ev->tee == CVM_TEE_AZ_SNP_VTPM;
	cJSON *root = NULL, *q, *pcrs;
	char *s;
	int r = -ENOMEM;

	if (ev->version != 1 && ev->version != 2)
		return -EOPNOTSUPP;
	if (!ev->signature || !ev->message || !ev->hcl_report || ev->pcr_count == 0 ||
	    ev->pcr_count > CVM_EVIDENCE_PCRS || (snp ? !ev->vcek : !ev->td_quote))
		return -EINVAL;
	root = cJSON_CreateObject();
	q = cJSON_CreateObject();
	pcrs = cJSON_CreateArray();
	if (!root || !add(root, "version", cJSON_CreateNumber(ev->version)) || !add(root, "tpm_quote", q)) {
		cJSON_Delete(q);
		cJSON_Delete(pcrs);
		goto out;
	}
	if (!add(q, "signature", hex_string(ev->signature, ev->signature_len)) ||
	    !add(q, "message", hex_string(ev->message, ev->message_len)) || !add(q, "pcrs", pcrs)) {
		cJSON_Delete(pcrs);
		goto out;
	}
	for (size_t i = 0; i < ev->pcr_count; i++) {
		cJSON *p = hex_string(ev->pcrs[i], 32);
		if (!p || !cJSON_AddItemToArray(pcrs, p)) {
			cJSON_Delete(p);
			goto out;
		}
	}
	if (!add(root, "hcl_report", b64url_string(ev->hcl_report, ev->hcl_report_len)))
		goto out;
	if (snp ? !add(root, "vcek", b64url_string(ev->vcek, ev->vcek_len))
		: !add(root, "td_quote", b64url_string(ev->td_quote, ev->td_quote_len)))
		goto out;
	s = cJSON_PrintUnformatted(root);
	if (!s)
		goto out;
	*ret_json = s;
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

int cvm_thim_vcek_der(const uint8_t *json, size_t len, uint8_t **ret_der, size_t *ret_len)
{
	cJSON *root;
	const cJSON *v;
	int r = -EBADMSG;

	if (len > SMALL_MAX)
		return -EFBIG;
	root = cJSON_ParseWithLength((const char *)json, len);
	v = cJSON_GetObjectItemCaseSensitive(root, "vcekCert");
	if (cJSON_IsString(v))
		r = pem_to_der(v->valuestring, ret_der, ret_len);
	cJSON_Delete(root);
	return r;
}

int cvm_imds_td_quote_request(const uint8_t td_report[1024], char **ret_json)
{
	static const char pre[] = "{\"report\":\"", post[] = "\"}";
	size_t n = cvm_b64_encoded_len(1024, false);
	char *s = malloc(sizeof(pre) - 1 + n + sizeof(post));

	if (!s)
		return -ENOMEM;
	memcpy(s, pre, sizeof(pre) - 1);
	cvm_b64_encode(td_report, 1024, true, false, s + sizeof(pre) - 1);
	memcpy(s + sizeof(pre) - 1 + n, post, sizeof(post));
	*ret_json = s;
	return 0;
}

int cvm_imds_td_quote_response(const uint8_t *json, size_t len, uint8_t **ret_quote, size_t *ret_len)
{
	cJSON *root;
	int r;

	if (len > 2 * SMALL_MAX)
		return -EFBIG;
	root = cJSON_ParseWithLength((const char *)json, len);
	r = b64_string(cJSON_GetObjectItemCaseSensitive(root, "quote"), ret_quote, ret_len);
	if (r == 0 && *ret_len > SMALL_MAX) {
		free(*ret_quote);
		r = -EFBIG;
	}
	cJSON_Delete(root);
	return r;
}
