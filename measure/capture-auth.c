/* Authenticated golden capture (include/cvmkit/capture-auth.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "cvmkit/capture-auth.h"
#include "cvmkit/hash.h"
#include "cvmkit/hcl.h"
#include "cvmkit/hex.h"
#include "cvmkit/refvalues.h"
#include "cvmkit/snp.h"
#include "cvmkit/tdquote.h"
#include "cvmkit/verify.h"

void cvm_capture_evidence_free(struct cvm_capture_evidence *e)
{
	if (!e)
		return;
	free(e->json);
	e->json = NULL;
	e->json_len = 0;
}

static int hex_member(const cJSON *o, const char *name, uint8_t *out, size_t min, size_t max, size_t *ret_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t n;

	if (!cJSON_IsString(v))
		return -EBADMSG;
	n = strlen(v->valuestring);
	if (n % 2 || n / 2 < min || n / 2 > max || cvm_hex_decode(v->valuestring, n, out, n / 2) < 0)
		return -EBADMSG;
	if (ret_len)
		*ret_len = n / 2;
	return 0;
}

/* A decimal in [1, max] written the way the init writes it: no sign, no
 * leading zero; its length is returned, 0 for none. */
static size_t decimal(const uint8_t *p, const uint8_t *end, size_t max, size_t *ret)
{
	size_t v = 0, i = 0;

	if (p == end || *p == '0')
		return 0;
	for (; p + i < end && p[i] >= '0' && p[i] <= '9' && i < 8; i++)
		v = v * 10 + (size_t)(p[i] - '0');
	if (!i || v > max)
		return 0;
	*ret = v;
	return i;
}

/* Collects the K chunks after AFTER into b64 (K * CHUNK capacity). */
static int collect_lines(const uint8_t *after, const uint8_t *lim, size_t k, char *b64, size_t *ret_len)
{
	static const char prefix[] = CVM_CAPTURE_EVIDENCE_PREFIX;
	const size_t plen = sizeof(prefix) - 1, chunk = CVM_CAPTURE_EVIDENCE_CHUNK;
	uint8_t *seen = calloc(k, 1);
	size_t got = 0, total = 0, last_len = 0;
	const uint8_t *p = after;
	int r = -EBADMSG;

	if (!seen)
		return -ENOMEM;
	while ((size_t)(lim - p) >= plen) {
		const uint8_t *hit = memmem(p, (size_t)(lim - p), prefix, plen), *q, *end;
		size_t idx, cnt, n;

		if (!hit)
			break;
		q = hit + plen;
		end = cvm_capture_line_end(q, lim);
		p = end;
		if (!(n = decimal(q, end, k, &idx)) || q + n >= end || q[n] != '/')
			goto out;
		q += n + 1;
		if (!(n = decimal(q, end, CVM_CAPTURE_EVIDENCE_MAX_LINES, &cnt)) || cnt != k || q + n >= end || q[n] != ' ')
			goto out;
		q += n + 1;
		n = (size_t)(end - q);
		/* Every chunk but the last is full: a cut line is caught here,
		 * before base64 and the digest would catch it less clearly. */
		if (seen[idx - 1] || n == 0 || n > chunk || (idx < k && n != chunk))
			goto out;
		seen[idx - 1] = 1;
		memcpy(b64 + (idx - 1) * chunk, q, n);
		if (idx == k)
			last_len = n;
		got++;
	}
	if (got != k)
		goto out;
	total = (k - 1) * chunk + last_len;
	*ret_len = total;
	r = 0;
out:
	free(seen);
	return r;
}

/* A whole number in [1, max]: -EBADMSG when it is not one, -EFBIG above max
 * (compared as a double first: a cast of a huge value would be undefined). */
static int count_member(const cJSON *o, const char *name, size_t max, size_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 1))
		return -EBADMSG;
	if (v->valuedouble > (double)max)
		return -EFBIG;
	if (v->valuedouble != (double)(size_t)v->valuedouble)
		return -EBADMSG;
	*ret = (size_t)v->valuedouble;
	return 0;
}

static int parse_members(const char *json, size_t len, struct cvm_capture_evidence *e, size_t *ret_lines,
			 size_t *ret_size, uint8_t sha[32])
{
	cJSON *root = cJSON_ParseWithLength(json, len), *pl, *ev, *v;
	int r = -EBADMSG;

	if (!root)
		return -EBADMSG;
	pl = cJSON_GetObjectItemCaseSensitive(root, "platform");
	if (pl) {
		if (!cJSON_IsObject(pl))
			goto out;
		if (cJSON_GetObjectItemCaseSensitive(pl, "measurement")) {
			if (hex_member(pl, "measurement", e->measurement, 48, 48, NULL) < 0)
				goto out;
			e->have_measurement = true;
		}
		if (cJSON_GetObjectItemCaseSensitive(pl, "mrtd")) {
			if (hex_member(pl, "mrtd", e->mrtd, 48, 48, NULL) < 0)
				goto out;
			e->have_mrtd = true;
		}
	}
	ev = cJSON_GetObjectItemCaseSensitive(root, "evidence");
	if (!ev) {
		r = 0;
		goto out;
	}
	if (!cJSON_IsObject(ev))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(ev, "format");
	if (!cJSON_IsString(v) || cvm_tee_from_name(v->valuestring, &e->tee) < 0 ||
	    hex_member(ev, "nonce", e->nonce, CVM_CAPTURE_NONCE_MIN, CVM_CAPTURE_NONCE_MAX, &e->nonce_len) < 0 ||
	    hex_member(ev, "sha256", sha, 32, 32, NULL) < 0)
		goto out;
	r = count_member(ev, "size", CVM_EVIDENCE_MAX_SIZE, ret_size);
	if (r == 0)
		r = count_member(ev, "lines", CVM_CAPTURE_EVIDENCE_MAX_LINES, ret_lines);
	if (r < 0)
		goto out;
	e->present = true;
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

int cvm_capture_evidence_parse(const uint8_t *buf, size_t len, struct cvm_capture_evidence *ret)
{
	static const char prefix[] = CVM_CAPTURE_PREFIX;
	struct cvm_capture_evidence e = { 0 };
	const uint8_t *line, *end;
	size_t k = 0, size = 0, b64_len = 0, olen = 0;
	uint8_t sha[32], d[32];
	char *b64 = NULL;
	int r;

	if (len > CVM_CAPTURE_MAX_INPUT)
		return -EFBIG;
	r = cvm_capture_find_last(buf, len, prefix, &line, &end);
	if (r < 0)
		return r;
	r = parse_members((const char *)line, (size_t)(end - line), &e, &k, &size, sha);
	if (r < 0 || !e.present)
		goto done;
	/* The announced size bounds the text: no allocation beyond it. */
	r = -EBADMSG;
	if ((k - 1) * CVM_CAPTURE_EVIDENCE_CHUNK >= (size + 2) / 3 * 4 || k * CVM_CAPTURE_EVIDENCE_CHUNK < (size + 2) / 3 * 4)
		goto done;
	r = -ENOMEM;
	b64 = malloc(k * CVM_CAPTURE_EVIDENCE_CHUNK);
	e.json = malloc(size + 3);
	if (!b64 || !e.json)
		goto done;
	r = collect_lines(end, buf + len, k, b64, &b64_len);
	if (r < 0)
		goto done;
	r = -EBADMSG;
	if (b64_len != (size + 2) / 3 * 4 ||
	    mbedtls_base64_decode(e.json, size + 3, &olen, (const unsigned char *)b64, b64_len) != 0 || olen != size ||
	    cvm_hash(CVM_HASH_SHA256, e.json, olen, d) < 0 || memcmp(d, sha, 32) != 0)
		goto done;
	e.json_len = olen;
	r = 0;
done:
	free(b64);
	if (r < 0) {
		cvm_capture_evidence_free(&e);
		return r;
	}
	*ret = e;
	return 0;
}

int cvm_capture_report_data(const uint8_t *nonce, size_t len, uint8_t ret[48])
{
	enum { DL = sizeof(CVM_CAPTURE_NONCE_DOMAIN) - 1 };
	uint8_t buf[DL + CVM_CAPTURE_NONCE_MAX];

	if (len < CVM_CAPTURE_NONCE_MIN || len > CVM_CAPTURE_NONCE_MAX)
		return -EINVAL;
	memcpy(buf, CVM_CAPTURE_NONCE_DOMAIN, DL);
	memcpy(buf + DL, nonce, len);
	return cvm_hash(CVM_HASH_SHA384, buf, DL + len, ret);
}

__attribute__((format(printf, 3, 4))) static int refuse(struct cvm_capture_auth_result *res, const char *check,
							 const char *fmt, ...)
{
	va_list ap;

	snprintf(res->check, sizeof(res->check), "%s", check);
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return -EKEYREJECTED;
}

/* The platform value of the verified evidence: SNP MEASUREMENT of the HCL
 * report's hardware report (its signature was checked), TD MRTD of the TD
 * quote (its signature and PCK chain were checked). */
static int verified_platform(const struct cvm_evidence *ev, struct cvm_capture_auth_result *res)
{
	if (ev->tee == CVM_TEE_AZ_SNP_VTPM) {
		struct cvm_hcl_report h;
		struct cvm_snp_report s;

		if (cvm_hcl_report_parse(ev->hcl_report, ev->hcl_report_len, &h) < 0 ||
		    cvm_snp_report_parse(h.hw_report, CVM_HCL_HW_REPORT_SIZE, &s) < 0)
			return -EBADMSG;
		memcpy(res->measurement, s.measurement, 48);
		res->have_measurement = true;
	} else {
		struct cvm_td_quote q;

		if (cvm_td_quote_parse(ev->td_quote, ev->td_quote_len, &q) < 0)
			return -EBADMSG;
		memcpy(res->mrtd, q.mr_td, 48);
		res->have_mrtd = true;
	}
	return 0;
}

int cvm_capture_authenticate(const struct cvm_capture *cap, const struct cvm_capture_evidence *e,
			     const struct cvm_capture_auth_opts *o, struct cvm_capture_auth_result *res)
{
	struct cvm_evidence ev = { 0 };
	struct cvm_verify_result vr = { 0 };
	struct cvm_verify_opts vo = { 0 };
	const struct cvm_capture_bank *b = cvm_capture_bank(cap, CVM_HASH_SHA256);
	uint8_t rd[48], *vcek = NULL;
	size_t vcek_len = 0;
	char hex[97], hex2[97];
	int r;

	memset(res, 0, sizeof(*res));
	if (!o->nonce || cvm_capture_report_data(o->nonce, o->nonce_len, rd) < 0)
		return -EINVAL;
	if (!e->present)
		return refuse(res, "evidence", "the CVMKIT-MEASURED-BOOT line carries no evidence (the image's [init] "
				    "report_evidence and a nonce in initdata or [init] report_nonce make the init add it)");
	res->tee = e->tee;
	/* The line's claim first: a clearer message than the quote's. */
	if (e->nonce_len != o->nonce_len || memcmp(e->nonce, o->nonce, o->nonce_len) != 0)
		return refuse(res, "nonce", "the line's evidence was made for another nonce than --nonce");
	r = cvm_evidence_parse(e->tee, e->json, e->json_len, &ev);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return refuse(res, "evidence-format", "the %s evidence JSON does not parse (%s)", cvm_tee_name(e->tee),
			      strerror(-r));
	if (o->vcek_der) {
		vcek = ev.vcek;
		vcek_len = ev.vcek_len;
		ev.vcek = (uint8_t *)o->vcek_der;
		ev.vcek_len = o->vcek_len;
	}
	vo.report_data = rd;
	vo.report_data_len = sizeof(rd);
	vo.amd_root_pem = o->amd_root_pem;
	vo.intel_root_pem = o->intel_root_pem;
	r = cvm_verify_evidence(&ev, &vo, &vr);
	if (r == -EKEYREJECTED) {
		enum cvm_check c = (enum cvm_check)vr.first_failure;
		r = refuse(res, cvm_check_name(c), "%s", vr.checks[c].detail);
		goto out;
	}
	if (r < 0)
		goto out;
	if (ev.tee == CVM_TEE_AZ_SNP_VTPM && !ev.vcek) {
		r = refuse(res, "amd-vcek-chain", "no VCEK in the evidence (IMDS THIM was unavailable): give --vcek FILE");
		goto out;
	}
	if (ev.pcr_count != CVM_EVIDENCE_PCRS) {
		r = refuse(res, "pcr-values", "the quote carries %zu PCRs, not 24", ev.pcr_count);
		goto out;
	}
	memcpy(res->pcrs, ev.pcrs, sizeof(res->pcrs));
	if (verified_platform(&ev, res) < 0) {
		r = refuse(res, "hw-report-format", "the verified hardware report does not parse");
		goto out;
	}
	/* What the line says must be what was quoted and signed. */
	for (unsigned i = 0; b && i < CVM_PCR_COUNT; i++)
		if (b->have[i] && memcmp(b->pcr[i], ev.pcrs[i], 32) != 0) {
			cvm_hex_encode(b->pcr[i], 32, hex);
			cvm_hex_encode(ev.pcrs[i], 32, hex2);
			r = refuse(res, "pcr-values", "PCR %u: the line says %s, the quote %s", i, hex, hex2);
			goto out;
		}
	if (!b) {
		r = refuse(res, "pcr-values", "the line has no SHA-256 PCRs");
		goto out;
	}
	if (e->have_measurement && (!res->have_measurement || memcmp(e->measurement, res->measurement, 48) != 0)) {
		cvm_hex_encode(e->measurement, 48, hex);
		r = refuse(res, "measurement", "the line's SNP measurement %s is not the verified report's", hex);
		goto out;
	}
	if (e->have_mrtd && (!res->have_mrtd || memcmp(e->mrtd, res->mrtd, 48) != 0)) {
		cvm_hex_encode(e->mrtd, 48, hex);
		r = refuse(res, "mr-td", "the line's MRTD %s is not the verified TD quote's", hex);
		goto out;
	}
	r = 0;
out:
	if (o->vcek_der) {
		ev.vcek = vcek;
		ev.vcek_len = vcek_len;
	}
	cvm_evidence_free(&ev);
	cvm_verify_result_free(&vr);
	return r;
}

int cvm_capture_rv_output(const struct cvm_rv_set *s, bool rvps, const uint8_t *measurement, const uint8_t *mrtd,
			  bool label_unauth, char **ret_text)
{
	char *map = NULL, *text = NULL, hex[97];
	unsigned char m64[65];
	size_t olen = 0;
	cJSON *root = NULL, *arr;
	int r;

	r = cvm_rv_map_json(s, false, &map);
	if (r == -ENODATA && (measurement || mrtd)) {
		map = strdup("{}");
		r = map ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	r = -ENOMEM;
	root = cJSON_Parse(map);
	if (!root)
		goto out;
	if (measurement) {
		if (mbedtls_base64_encode(m64, sizeof(m64), &olen, measurement, 48) != 0 ||
		    !(arr = cJSON_AddArrayToObject(root, "measurement")))
			goto out;
		cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)m64));
	}
	if (mrtd) {
		cvm_hex_encode(mrtd, 48, hex);
		if (!(arr = cJSON_AddArrayToObject(root, "mr_td")))
			goto out;
		cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
	}
	if (label_unauth && !cJSON_AddStringToObject(root, "cvmkit_capture", "unauthenticated"))
		goto out;
	if (!rvps) {
		text = cJSON_Print(root);
	} else {
		char *compact = cJSON_PrintUnformatted(root);

		if (!compact)
			goto out;
		r = cvm_rv_rvps_wrap(compact, &text);
		free(compact);
		if (r < 0)
			goto out;
		r = -ENOMEM;
	}
	if (!text)
		goto out;
	*ret_text = text;
	r = 0;
out:
	cJSON_Delete(root);
	free(map);
	return r;
}
