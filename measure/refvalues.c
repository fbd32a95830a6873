/* Trustee reference values (include/cvmkit/refvalues.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "cvmkit/hex.h"
#include "cvmkit/refvalues.h"

/* The TEE prefixes whose policies query "<prefix>_pcrNN". */
static const char *const prefixes[] = { "snp", "tdx", "tpm" };

int cvm_rv_add(struct cvm_rv_set *s, unsigned pcr, const uint8_t value[32])
{
	if (pcr >= CVM_PCR_COUNT)
		return -EINVAL;
	for (size_t i = 0; i < s->n[pcr]; i++)
		if (memcmp(s->v[pcr][i], value, 32) == 0)
			return 0;
	if (s->n[pcr] >= CVM_RV_MAX_VALUES)
		return -ENOSPC;
	memcpy(s->v[pcr][s->n[pcr]++], value, 32);
	return 0;
}

bool cvm_rv_takes(const struct cvm_prediction *p, unsigned i, unsigned flags)
{
	const struct cvm_predict_pcr *x = &p->pcr[i];

	if (x->status != CVM_PREDICT_PREDICTED || (x->profile && !(flags & CVM_RV_WITH_PROFILE)))
		return false;
	return i != CVM_PCR_BOOT_LOADER_CONFIG || (flags & CVM_RV_WITH_PCR5);
}

int cvm_rv_add_prediction(struct cvm_rv_set *s, const struct cvm_prediction *p, unsigned flags)
{
	size_t b;
	int count = 0;

	for (b = 0; b < p->n_banks && p->banks[b] != CVM_HASH_SHA256; b++)
		;
	if (b == p->n_banks)
		return -EINVAL;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		int r;

		if (!cvm_rv_takes(p, i, flags))
			continue;
		r = cvm_rv_add(s, i, p->pcr[i].value[b]);
		if (r < 0)
			return r;
		count++;
	}
	return count;
}

int cvm_rv_add_capture(struct cvm_rv_set *s, const struct cvm_capture *c, const bool sel[CVM_PCR_COUNT])
{
	const struct cvm_capture_bank *b = cvm_capture_bank(c, CVM_HASH_SHA256);
	int count = 0;

	if (!b)
		return -EINVAL;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		int r;

		if (!b->have[i] || (sel ? !sel[i] : i == CVM_PCR_HOST_PLATFORM))
			continue;
		r = cvm_rv_add(s, i, b->pcr[i]);
		if (r < 0)
			return r;
		count++;
	}
	return count;
}

static cJSON *build_map(const struct cvm_rv_set *s)
{
	cJSON *map = cJSON_CreateObject();
	size_t total = 0;

	if (!map)
		return NULL;
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		if (!s->n[i])
			continue;
		total++;
		for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
			char name[16], hex[65];
			cJSON *arr;

			snprintf(name, sizeof(name), "%s_pcr%02u", prefixes[k], i);
			arr = cJSON_AddArrayToObject(map, name);
			if (!arr)
				goto fail;
			for (size_t v = 0; v < s->n[i]; v++) {
				cJSON *str;

				cvm_hex_encode(s->v[i][v], 32, hex);
				str = cJSON_CreateString(hex);
				if (!str)
					goto fail;
				cJSON_AddItemToArray(arr, str);
			}
		}
	}
	if (total)
		return map;
fail:
	cJSON_Delete(map);
	return NULL;
}

static bool empty(const struct cvm_rv_set *s)
{
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++)
		if (s->n[i])
			return false;
	return true;
}

int cvm_rv_map_json(const struct cvm_rv_set *s, bool pretty, char **ret_json)
{
	cJSON *map;
	char *text;

	if (empty(s))
		return -ENODATA;
	map = build_map(s);
	if (!map)
		return -ENOMEM;
	text = pretty ? cJSON_Print(map) : cJSON_PrintUnformatted(map);
	cJSON_Delete(map);
	if (!text)
		return -ENOMEM;
	*ret_json = text;
	return 0;
}

int cvm_rv_rvps_wrap(const char *payload, char **ret_json)
{
	size_t plen = strlen(payload), cap = 4 * ((plen + 2) / 3) + 1, blen = 0;
	unsigned char *b64 = malloc(cap);
	char *text = NULL;
	cJSON *msg = NULL;
	int r = -ENOMEM;

	if (!b64 || mbedtls_base64_encode(b64, cap, &blen, (const unsigned char *)payload, plen) != 0)
		goto out;
	msg = cJSON_CreateObject();
	if (!msg || !cJSON_AddStringToObject(msg, "version", "0.1.0") || !cJSON_AddStringToObject(msg, "type", "sample") ||
	    !cJSON_AddStringToObject(msg, "payload", (const char *)b64))
		goto out;
	text = cJSON_PrintUnformatted(msg);
	if (!text)
		goto out;
	*ret_json = text;
	r = 0;
out:
	cJSON_Delete(msg);
	free(b64);
	return r;
}

int cvm_rv_rvps_message(const struct cvm_rv_set *s, char **ret_json)
{
	char *map = NULL;
	int r = cvm_rv_map_json(s, false, &map);

	if (r < 0)
		return r;
	r = cvm_rv_rvps_wrap(map, ret_json);
	free(map);
	return r;
}
