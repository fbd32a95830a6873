/* Parsers of captured measured-boot reports (include/cvmkit/capture.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>

#include "cvmkit/capture.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"

void cvm_capture_free(struct cvm_capture *c)
{
	if (!c)
		return;
	free(c->eventlog);
	c->eventlog = NULL;
	c->eventlog_len = 0;
}

const struct cvm_capture_bank *cvm_capture_bank(const struct cvm_capture *c, enum cvm_hash_alg alg)
{
	for (size_t i = 0; i < c->n_banks; i++)
		if (c->banks[i].alg == alg)
			return &c->banks[i];
	return NULL;
}

static struct cvm_capture_bank *bank_for(struct cvm_capture *c, enum cvm_hash_alg alg)
{
	for (size_t i = 0; i < c->n_banks; i++)
		if (c->banks[i].alg == alg)
			return &c->banks[i];
	if (c->n_banks >= CVM_CAPTURE_MAX_BANKS)
		return NULL;
	c->banks[c->n_banks].alg = alg;
	return &c->banks[c->n_banks++];
}

/* "0".."23" without sign, spaces or leading zeros; -1 otherwise. */
static int pcr_index(const char *s)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	if (s[1] == '\0')
		return s[0] - '0';
	if (s[0] == '0' || s[1] < '0' || s[1] > '9' || s[2] != '\0')
		return -1;
	int v = (s[0] - '0') * 10 + (s[1] - '0');
	return v < CVM_PCR_COUNT ? v : -1;
}

static int parse_json(const char *json, size_t len, struct cvm_capture *c)
{
	cJSON *root = cJSON_ParseWithLength(json, len), *pcrs, *bank, *ev, *item;
	int r = -EBADMSG;

	if (!root)
		return -EBADMSG;
	item = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(item) || item->valuedouble != 1)
		goto out;
	pcrs = cJSON_GetObjectItemCaseSensitive(root, "pcrs");
	if (!cJSON_IsObject(pcrs))
		goto out;
	cJSON_ArrayForEach(bank, pcrs) {
		enum cvm_hash_alg alg;
		struct cvm_capture_bank *b;
		size_t sz;

		if (!cJSON_IsObject(bank) || !bank->string)
			goto out;
		if (cvm_hash_from_name(bank->string, &alg) < 0)
			continue;
		if (cvm_capture_bank(c, alg) || !(b = bank_for(c, alg)))
			goto out;
		sz = cvm_hash_size(alg);
		cJSON_ArrayForEach(item, bank) {
			int i = item->string ? pcr_index(item->string) : -1;

			if (i < 0 || b->have[i] || !cJSON_IsString(item) ||
			    cvm_hex_decode(item->valuestring, strlen(item->valuestring), b->pcr[i], sz) < 0)
				goto out;
			b->have[i] = true;
		}
	}
	ev = cJSON_GetObjectItemCaseSensitive(root, "eventlog");
	if (ev) {
		cJSON *size = cJSON_GetObjectItemCaseSensitive(ev, "size");
		cJSON *sha = cJSON_GetObjectItemCaseSensitive(ev, "sha256");
		cJSON *b64 = cJSON_GetObjectItemCaseSensitive(ev, "base64");

		if (!cJSON_IsObject(ev) || !cJSON_IsNumber(size) || size->valuedouble < 0 ||
		    size->valuedouble > (double)CVM_CAPTURE_MAX_EVENTLOG || !cJSON_IsString(sha) ||
		    cvm_hex_decode(sha->valuestring, strlen(sha->valuestring), c->eventlog_sha256, 32) < 0)
			goto out;
		c->eventlog_size = (uint64_t)size->valuedouble;
		if ((double)c->eventlog_size != size->valuedouble)
			goto out;
		c->have_eventlog_digest = true;
		if (b64) {
			const unsigned char *src;
			size_t slen, olen = 0;
			uint8_t d[32];

			if (!cJSON_IsString(b64))
				goto out;
			src = (const unsigned char *)b64->valuestring;
			slen = strlen(b64->valuestring);
			if (slen / 4 * 3 > CVM_CAPTURE_MAX_EVENTLOG) {
				r = -EFBIG;
				goto out;
			}
			c->eventlog = malloc(slen / 4 * 3 + 3);
			if (!c->eventlog) {
				r = -ENOMEM;
				goto out;
			}
			if (mbedtls_base64_decode(c->eventlog, slen / 4 * 3 + 3, &olen, src, slen) != 0)
				goto out;
			c->eventlog_len = olen;
			if (olen != c->eventlog_size || cvm_hash(CVM_HASH_SHA256, c->eventlog, olen, d) < 0 ||
			    memcmp(d, c->eventlog_sha256, 32) != 0)
				goto out;
		}
	}
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

const uint8_t *cvm_capture_line_end(const uint8_t *p, const uint8_t *lim)
{
	const uint8_t *nl = memchr(p, '\n', (size_t)(lim - p)), *end = nl ? nl : lim;

	while (end > p && (end[-1] == '\r' || end[-1] == ' '))
		end--;
	return end;
}

int cvm_capture_find_last(const uint8_t *buf, size_t len, const char *prefix, const uint8_t **ret_start,
			  const uint8_t **ret_end)
{
	const size_t plen = strlen(prefix);
	const uint8_t *last = NULL, *p = buf;

	while ((size_t)(buf + len - p) >= plen) {
		const uint8_t *hit = memmem(p, (size_t)(buf + len - p), prefix, plen);

		if (!hit)
			break;
		last = hit;
		p = hit + plen;
	}
	if (!last)
		return -ENOENT;
	*ret_start = last + plen;
	*ret_end = cvm_capture_line_end(last + plen, buf + len);
	return 0;
}

int cvm_capture_parse_line(const uint8_t *buf, size_t len, struct cvm_capture *ret)
{
	struct cvm_capture c = { 0 };
	const uint8_t *p, *end;
	int r;

	if (len > CVM_CAPTURE_MAX_INPUT)
		return -EFBIG;
	r = cvm_capture_find_last(buf, len, CVM_CAPTURE_PREFIX, &p, &end);
	if (r < 0)
		return r;
	r = parse_json((const char *)p, (size_t)(end - p), &c);
	if (r < 0) {
		cvm_capture_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}

int cvm_capture_parse_pcr_lines(const uint8_t *buf, size_t len, struct cvm_capture *ret)
{
	struct cvm_capture c = { 0 };
	size_t off = 0, count = 0;

	if (len > CVM_CAPTURE_MAX_INPUT)
		return -EFBIG;
	while (off < len) {
		const uint8_t *line = buf + off, *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off, i = 0, hs, he;
		unsigned idx = 0, digits = 0;
		enum cvm_hash_alg alg;
		struct cvm_capture_bank *b;

		off += n + (nl ? 1 : 0);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == n || line[i] == '#')
			continue;
		if (n - i > 3 && memcmp(line + i, "pcr", 3) == 0)
			i += 3;
		while (i < n && line[i] >= '0' && line[i] <= '9' && digits < 3) {
			idx = idx * 10 + (unsigned)(line[i++] - '0');
			digits++;
		}
		if (digits == 0 || idx >= CVM_PCR_COUNT)
			return -EBADMSG;
		if (i < n && line[i] == ':')
			i++;
		if (i == n || (line[i] != ' ' && line[i] != '\t' && line[i - 1] != ':'))
			return -EBADMSG;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		hs = i;
		he = n;
		switch (he - hs) {
		case 40: alg = CVM_HASH_SHA1; break;
		case 64: alg = CVM_HASH_SHA256; break;
		case 96: alg = CVM_HASH_SHA384; break;
		case 128: alg = CVM_HASH_SHA512; break;
		default: return -EBADMSG;
		}
		b = bank_for(&c, alg);
		if (!b || b->have[idx] ||
		    cvm_hex_decode((const char *)line + hs, he - hs, b->pcr[idx], cvm_hash_size(alg)) < 0)
			return -EBADMSG;
		b->have[idx] = true;
		count++;
	}
	if (count == 0)
		return -EBADMSG;
	*ret = c;
	return 0;
}

int cvm_capture_parse(const uint8_t *buf, size_t len, struct cvm_capture *ret)
{
	int r = cvm_capture_parse_line(buf, len, ret);

	return r == -ENOENT ? cvm_capture_parse_pcr_lines(buf, len, ret) : r;
}
