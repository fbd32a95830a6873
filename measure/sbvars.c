/* Secure Boot variables from a varstore or an Azure template, and the db
 * authority of a signed image; see include/cvmkit/sbvars.h. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/x509_crt.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fileio.h"
#include "cvmkit/pe.h"
#include "cvmkit/sbvars.h"

#include "efiguid.h"

/* GUIDs in on-disk (mixed-endian) order. */
static const uint8_t GUID_SB_ENABLE[16] = { 0xc7, 0x0b, 0xa3, 0xf0, 0x08, 0xaf, 0x56, 0x45,
					    0x99, 0xc4, 0x00, 0x10, 0x09, 0xc9, 0x3a, 0x44 };
static const uint8_t GUID_AUTH_STORE[16] = { 0x78, 0x2c, 0xf3, 0xaa, 0x7b, 0x94, 0x9a, 0x43,
					     0xa1, 0x80, 0x2e, 0x14, 0x4e, 0xc3, 0x77, 0x92 };
static const uint8_t GUID_PLAIN_STORE[16] = { 0x16, 0x36, 0xcf, 0xdd, 0x75, 0x32, 0x64, 0x41,
					      0x98, 0xb6, 0xfe, 0x85, 0x70, 0x7f, 0xfe, 0x7d };
static const uint8_t GUID_CERT_X509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
					    0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t GUID_CERT_SHA256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
					      0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };
/* MSFT_SECURE_BOOT_PRODUCTION_GUID 77fa9abd-0359-4d32-bd60-28f4e78f784b: the
 * owner the Hyper-V firmware writes on every template entry. */
static const uint8_t GUID_MS_OWNER[16] = { 0xbd, 0x9a, 0xfa, 0x77, 0x59, 0x03, 0x32, 0x4d,
					   0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b };

static const struct {
	const char *name;
	const uint8_t *guid;
} vars[CVM_SBVAR_COUNT] = {
	[CVM_SBVAR_PK] = { "PK", cvm_efi_guid_global },   [CVM_SBVAR_KEK] = { "KEK", cvm_efi_guid_global },
	[CVM_SBVAR_DB] = { "db", cvm_efi_guid_secdb },    [CVM_SBVAR_DBX] = { "dbx", cvm_efi_guid_secdb },
	[CVM_SBVAR_DBT] = { "dbt", cvm_efi_guid_secdb },
};

#define ESL_HEADER 28u
#define MAX_CERTS_PER_SIGNATURE 16
#define MAX_WIN_CERTS 8

void cvm_sbvars_init(struct cvm_sbvars *v)
{
	memset(v, 0, sizeof(*v));
	v->secure_boot = -1;
}

void cvm_sbvars_free(struct cvm_sbvars *v)
{
	for (int i = 0; i < CVM_SBVAR_COUNT; i++) {
		free(v->data[i]);
		v->data[i] = NULL;
		v->len[i] = 0;
		v->present[i] = false;
	}
}

const char *cvm_sbvar_name(enum cvm_sbvar i) { return i < CVM_SBVAR_COUNT ? vars[i].name : NULL; }

/* UTF-16LE with NUL, exactly n bytes, equal to ASCII s. */
static bool name_is(const uint8_t *u, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (n != 2 * (l + 1))
		return false;
	for (size_t i = 0; i <= l; i++)
		if (u[2 * i] != (uint8_t)s[i] || u[2 * i + 1])
			return false;
	return true;
}

/* ----------------------------------------------------------- varstore */

#define VAR_ADDED 0x3f
#define VAR_ADDED_IN_DELETE_TRANSITION 0x3e

struct found {
	const uint8_t *data;
	size_t len;
	uint8_t state;
	bool have;
};

int cvm_sbvars_from_varstore(const uint8_t *buf, size_t len, struct cvm_sbvars *v)
{
	struct found f[CVM_SBVAR_COUNT + 1] = { 0 }; /* the last one is SecureBootEnable */
	uint64_t fv_len, store, end, off;
	size_t hdr, name_off, size_off, guid_off;
	struct cvm_sbvars out;

	if (len < 64 || memcmp(buf + 40, "_FVH", 4) != 0)
		return -EBADMSG;
	fv_len = cvm_le64(buf + 32);
	store = cvm_le16(buf + 48);
	if (fv_len > len || fv_len < store + 28 || store < 56)
		return -EBADMSG;
	if (!memcmp(buf + store, GUID_AUTH_STORE, 16)) {
		hdr = 60, name_off = 36, size_off = 40, guid_off = 44;
	} else if (!memcmp(buf + store, GUID_PLAIN_STORE, 16)) {
		hdr = 32, name_off = 8, size_off = 12, guid_off = 16;
	} else {
		return -EBADMSG;
	}
	end = store + cvm_le32(buf + store + 16);
	if (end > fv_len || buf[store + 20] != 0x5a)
		return -EBADMSG;

	for (off = store + 28; off + hdr <= end; ) {
		const uint8_t *h = buf + off;
		uint32_t nsize = cvm_le32(h + name_off), dsize = cvm_le32(h + size_off);
		/* edk2 pads names only where ALIGNMENT > 1 (IPF): data follows the name. */
		uint64_t noff = off + hdr, doff = noff + nsize, next;
		uint8_t state = h[2];

		if (cvm_le16(h) != 0x55aa)
			break; /* erased space: the end of the variables */
		if (doff + dsize > end)
			return -EBADMSG;
		next = CVM_ALIGN_UP(doff + dsize, (uint64_t)4);
		if (state == VAR_ADDED || state == VAR_ADDED_IN_DELETE_TRANSITION) {
			for (int i = 0; i <= CVM_SBVAR_COUNT; i++) {
				const char *name = i < CVM_SBVAR_COUNT ? vars[i].name : "SecureBootEnable";
				const uint8_t *guid = i < CVM_SBVAR_COUNT ? vars[i].guid : GUID_SB_ENABLE;

				if (memcmp(h + guid_off, guid, 16) || !name_is(buf + noff, nsize, name))
					continue;
				/* A copy in transition counts only until the new one is added. */
				if (f[i].have && f[i].state == VAR_ADDED && state != VAR_ADDED)
					continue;
				if (dsize > CVM_SBVARS_MAX_VAR)
					return -EFBIG;
				f[i] = (struct found){ buf + doff, dsize, state, true };
			}
		}
		off = next;
	}

	cvm_sbvars_init(&out);
	for (int i = 0; i < CVM_SBVAR_COUNT; i++) {
		if (!f[i].have)
			continue;
		out.present[i] = true;
		if (f[i].len) {
			out.data[i] = malloc(f[i].len);
			if (!out.data[i]) {
				cvm_sbvars_free(&out);
				return -ENOMEM;
			}
			memcpy(out.data[i], f[i].data, f[i].len);
			out.len[i] = f[i].len;
		}
	}
	/* edk2 AuthVariableLib: user mode (PK enrolled) and not disabled. */
	out.secure_boot = out.len[CVM_SBVAR_PK] > 0 &&
			  (!f[CVM_SBVAR_COUNT].have || (f[CVM_SBVAR_COUNT].len == 1 && f[CVM_SBVAR_COUNT].data[0] == 1));
	snprintf(out.source, sizeof(out.source), "edk2 varstore (%s)", hdr == 60 ? "authenticated" : "plain");
	cvm_sbvars_free(v);
	*v = out;
	return 0;
}

/* ------------------------------------------------------ Azure template */

/* Appends n bytes to variable i. */
static int var_append(struct cvm_sbvars *v, int i, const void *b, size_t n)
{
	uint8_t *p;

	if (v->len[i] + n > CVM_SBVARS_MAX_VAR)
		return -EFBIG;
	p = realloc(v->data[i], v->len[i] + n);
	if (!p)
		return -ENOMEM;
	memcpy(p + v->len[i], b, n);
	v->data[i] = p;
	v->len[i] += n;
	v->present[i] = true;
	return 0;
}

/* One EFI_SIGNATURE_LIST header. */
static int esl_header(struct cvm_sbvars *v, int i, const uint8_t type[16], size_t n_sigs, size_t sig_size)
{
	uint8_t h[ESL_HEADER];

	if (sig_size > CVM_SBVARS_MAX_VAR || n_sigs * sig_size > CVM_SBVARS_MAX_VAR)
		return -EFBIG;
	memcpy(h, type, 16);
	cvm_put_le32(h + 16, (uint32_t)(ESL_HEADER + n_sigs * sig_size));
	cvm_put_le32(h + 20, 0);
	cvm_put_le32(h + 24, (uint32_t)sig_size);
	return var_append(v, i, h, sizeof(h));
}

/* One X509 list holding one certificate, appended to variable i. */
static int esl_x509(struct cvm_sbvars *v, int i, const uint8_t *der, size_t der_len)
{
	int r;

	if (!der_len)
		return -EINVAL;
	r = esl_header(v, i, GUID_CERT_X509, 1, 16 + der_len);
	if (r >= 0)
		r = var_append(v, i, GUID_MS_OWNER, 16);
	if (r >= 0)
		r = var_append(v, i, der, der_len);
	return r;
}

int cvm_sbvars_db_append_x509(struct cvm_sbvars *v, const uint8_t *der, size_t der_len)
{
	return esl_x509(v, CVM_SBVAR_DB, der, der_len);
}

static int b64(const char *s, uint8_t **ret, size_t *ret_len)
{
	size_t n = 0, cap = strlen(s);
	uint8_t *p = malloc(cap ? cap : 1);

	if (!p)
		return -ENOMEM;
	if (mbedtls_base64_decode(p, cap, &n, (const unsigned char *)s, cap) != 0 || n == 0) {
		free(p);
		return -EBADMSG;
	}
	*ret = p;
	*ret_len = n;
	return 0;
}

/* One {type, value[]} object into variable i, as the Hyper-V firmware lays it out. */
static int azure_signature(struct cvm_sbvars *v, int i, const cJSON *sig)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(sig, "type");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(sig, "value"), *e;
	bool x509;
	int n = 0, r = 0;

	if (!cJSON_IsString(type) || !cJSON_IsArray(vals))
		return -EBADMSG;
	if (!strcmp(type->valuestring, "x509"))
		x509 = true;
	else if (!strcmp(type->valuestring, "sha256"))
		x509 = false;
	else
		return -EBADMSG;
	cJSON_ArrayForEach(e, vals) {
		if (!cJSON_IsString(e))
			return -EBADMSG;
		n++;
	}
	if (!n)
		return 0;
	/* Every certificate gets a list of its own; a sha256 group shares one. */
	if (!x509 && (r = esl_header(v, i, GUID_CERT_SHA256, (size_t)n, 48)) < 0)
		return r;
	cJSON_ArrayForEach(e, vals) {
		uint8_t *d = NULL;
		size_t dl = 0;

		r = b64(e->valuestring, &d, &dl);
		if (r < 0)
			return r;
		if (x509) {
			r = esl_x509(v, i, d, dl);
		} else if (dl != 32) {
			r = -EBADMSG;
		} else {
			r = var_append(v, i, GUID_MS_OWNER, 16);
			if (r >= 0)
				r = var_append(v, i, d, 32);
		}
		free(d);
		if (r < 0)
			return r;
	}
	return 0;
}

int cvm_sbvars_from_azure_json(const uint8_t *buf, size_t len, struct cvm_sbvars *v)
{
	static const struct {
		const char *key;
		int var;
		bool single;
	} keys[] = { { "PK", CVM_SBVAR_PK, true }, { "KEK", CVM_SBVAR_KEK, false },
		     { "db", CVM_SBVAR_DB, false }, { "dbx", CVM_SBVAR_DBX, false } };
	struct cvm_sbvars out;
	cJSON *root;
	const cJSON *sigs;
	int r = -EBADMSG;

	if (len > CVM_SBVARS_MAX_FILE)
		return -EFBIG;
	root = cJSON_ParseWithLength((const char *)buf, len);
	if (!root)
		return -EBADMSG;
	cvm_sbvars_init(&out);
	sigs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(root, "properties"), "uefiSettings"), "signatures");
	if (!cJSON_IsObject(sigs))
		goto out;
	/* The firmware writes db's lists in this order too; only the variables
	 * that end up with data exist. */
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(sigs, keys[k].key), *e;

		if (!s)
			continue;
		if (keys[k].single) {
			r = azure_signature(&out, keys[k].var, s);
		} else if (cJSON_IsArray(s)) {
			r = 0;
			cJSON_ArrayForEach(e, s) {
				r = azure_signature(&out, keys[k].var, e);
				if (r < 0)
					break;
			}
		} else {
			r = -EBADMSG;
		}
		if (r < 0)
			goto out;
	}
	r = -EBADMSG;
	if (!out.present[CVM_SBVAR_PK] && !out.present[CVM_SBVAR_KEK] && !out.present[CVM_SBVAR_DB])
		goto out;
	out.inferred = true;
	snprintf(out.source, sizeof(out.source), "Azure template (Hyper-V firmware model, inferred)");
	cvm_sbvars_free(v);
	*v = out;
	out = (struct cvm_sbvars){ 0 };
	r = 0;
out:
	cvm_sbvars_free(&out);
	cJSON_Delete(root);
	return r;
}

/* ---------------------------------------------------------- authority */

/* The certificates of one PKCS#7 SignedData (ContentInfo DER). */
static int pkcs7_certs(const uint8_t *p7, size_t len, mbedtls_x509_crt *chain, size_t *ret_n)
{
	unsigned char *p = (unsigned char *)p7, *end = p + len, *sd_end, *certs_end;
	size_t l, n = 0;

	if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
	    mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_OID) || (p += l, false) ||
	    mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_CONTEXT_SPECIFIC) ||
	    mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return -EBADMSG;
	sd_end = p + l;
	/* version, digestAlgorithms, contentInfo */
	if (mbedtls_asn1_get_tag(&p, sd_end, &l, MBEDTLS_ASN1_INTEGER) || (p += l, false) ||
	    mbedtls_asn1_get_tag(&p, sd_end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) || (p += l, false) ||
	    mbedtls_asn1_get_tag(&p, sd_end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) || (p += l, false))
		return -EBADMSG;
	if (mbedtls_asn1_get_tag(&p, sd_end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_CONTEXT_SPECIFIC))
		return -EBADMSG; /* no certificates: nothing db could match */
	certs_end = p + l;
	while (p < certs_end) {
		unsigned char *start = p;

		if (mbedtls_asn1_get_tag(&p, certs_end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return -EBADMSG;
		p += l;
		if (++n > MAX_CERTS_PER_SIGNATURE || mbedtls_x509_crt_parse_der(chain, start, (size_t)(p - start)))
			return -EBADMSG;
	}
	*ret_n = n;
	return 0;
}

/* Whether the db certificate ca is one of chain's or issued one of them. */
static bool db_cert_matches(const uint8_t *der, size_t der_len, const mbedtls_x509_crt *chain)
{
	mbedtls_x509_crt ca;
	bool ok = false;

	for (const mbedtls_x509_crt *c = chain; c && c->raw.len; c = c->next)
		if (c->raw.len == der_len && !memcmp(c->raw.p, der, der_len))
			return true;
	mbedtls_x509_crt_init(&ca);
	if (mbedtls_x509_crt_parse_der(&ca, der, der_len) == 0) {
		for (const mbedtls_x509_crt *c = chain; c && c->raw.len && !ok; c = c->next) {
			mbedtls_x509_crt one;
			uint32_t flags = 0;

			if (c->issuer_raw.len != ca.subject_raw.len ||
			    memcmp(c->issuer_raw.p, ca.subject_raw.p, ca.subject_raw.len))
				continue;
			mbedtls_x509_crt_init(&one);
			/* edk2 ignores validity periods; so do we. */
			if (mbedtls_x509_crt_parse_der(&one, c->raw.p, c->raw.len) == 0 &&
			    (mbedtls_x509_crt_verify(&one, &ca, NULL, NULL, &flags, NULL, NULL) == 0 ||
			     !(flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))))
				ok = true;
			mbedtls_x509_crt_free(&one);
		}
	}
	mbedtls_x509_crt_free(&ca);
	return ok;
}

/* Calls match on each signature of type in db until it returns true. */
static int db_find(const struct cvm_sbvars *v, const uint8_t type[16],
		   bool (*match)(const uint8_t *sig, size_t n, const void *ctx), const void *ctx,
		   const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *db = v->data[CVM_SBVAR_DB];
	size_t off = 0, len = v->len[CVM_SBVAR_DB];

	while (off < len) {
		uint32_t lsize, hsize, ssize;

		if (len - off < ESL_HEADER)
			return -EBADMSG;
		lsize = cvm_le32(db + off + 16), hsize = cvm_le32(db + off + 20), ssize = cvm_le32(db + off + 24);
		if (lsize < ESL_HEADER || lsize > len - off || hsize > lsize - ESL_HEADER || ssize <= 16 ||
		    (lsize - ESL_HEADER - hsize) % ssize)
			return -EBADMSG;
		if (!memcmp(db + off, type, 16))
			for (size_t s = off + ESL_HEADER + hsize; s < off + lsize; s += ssize)
				if (match(db + s + 16, ssize - 16, ctx)) {
					*ret = db + s;
					*ret_len = ssize;
					return 0;
				}
		off += lsize;
	}
	return -ENOENT;
}

static bool match_cert(const uint8_t *sig, size_t n, const void *ctx) { return db_cert_matches(sig, n, ctx); }
static bool match_hash(const uint8_t *sig, size_t n, const void *ctx) { return n == 32 && !memcmp(sig, ctx, 32); }

int cvm_sbvars_authority(const struct cvm_sbvars *v, const uint8_t *pe, size_t len, const uint8_t auth256[32],
			 uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_pe *h = malloc(sizeof(*h));
	const uint8_t *found = NULL;
	size_t found_len = 0;
	int r;

	if (!h)
		return -ENOMEM;
	r = cvm_pe_parse(pe, len, h);
	if (r < 0)
		goto out;
	r = -ENOENT;
	for (uint64_t off = h->cert_table_offset, end = off + h->cert_table_size, k = 0;
	     h->cert_table_size && off + 8 <= end && k < MAX_WIN_CERTS && !found; k++) {
		uint32_t dw = cvm_le32(pe + off);
		mbedtls_x509_crt chain;
		size_t n = 0;

		if (dw < 8 || dw > end - off) {
			r = -EBADMSG;
			goto out;
		}
		if (cvm_le16(pe + off + 4) == 0x0200 && cvm_le16(pe + off + 6) == 0x0002) {
			mbedtls_x509_crt_init(&chain);
			if (pkcs7_certs(pe + off + 8, dw - 8, &chain, &n) == 0)
				r = db_find(v, GUID_CERT_X509, match_cert, &chain, &found, &found_len);
			mbedtls_x509_crt_free(&chain);
			if (r == -EBADMSG)
				goto out;
		}
		off += CVM_ALIGN_UP((uint64_t)dw, (uint64_t)8);
	}
	if (!found)
		r = db_find(v, GUID_CERT_SHA256, match_hash, auth256, &found, &found_len);
	if (r < 0)
		goto out;
	{
		uint8_t *copy = malloc(found_len);

		r = -ENOMEM;
		if (!copy)
			goto out;
		memcpy(copy, found, found_len);
		*ret_buf = copy;
		*ret_len = found_len;
		r = 0;
	}
out:
	free(h);
	return r;
}

/* Whether buf[0, len) is a sequence of well-formed signature lists. */
static bool esl_valid(const uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len;) {
		uint32_t lsize, hsize, ssize;

		if (len - off < ESL_HEADER)
			return false;
		lsize = cvm_le32(buf + off + 16), hsize = cvm_le32(buf + off + 20), ssize = cvm_le32(buf + off + 24);
		if (lsize < ESL_HEADER || lsize > len - off || hsize > lsize - ESL_HEADER || ssize <= 16 ||
		    (lsize - ESL_HEADER - hsize) % ssize)
			return false;
		off += lsize;
	}
	return true;
}

/* A folder with PK.esl, KEK.esl, db.esl, dbx.esl (dbt.esl): each the exact
 * variable contents; a missing file is an absent variable. */
static int from_esl_dir(const char *dir, struct cvm_sbvars *v)
{
	struct cvm_sbvars out;
	int r = 0, n = 0;

	cvm_sbvars_init(&out);
	for (int i = 0; i < CVM_SBVAR_COUNT && r >= 0; i++) {
		char path[4096];
		uint8_t *buf = NULL;
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s.esl", dir, vars[i].name);
		r = cvm_read_file(path, CVM_SBVARS_MAX_VAR, &buf, &len);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r >= 0 && !esl_valid(buf, len))
			r = -EBADMSG;
		if (r >= 0) {
			out.present[i] = true;
			out.data[i] = len ? buf : NULL;
			out.len[i] = len;
			buf = len ? NULL : buf;
			n++;
		}
		free(buf);
	}
	if (r >= 0 && !n)
		r = -EBADMSG;
	if (r < 0) {
		cvm_sbvars_free(&out);
		return r;
	}
	snprintf(out.source, sizeof(out.source), "signature lists (*.esl)");
	cvm_sbvars_free(v);
	*v = out;
	return 0;
}

int cvm_sbvars_load(const char *path, struct cvm_sbvars *v)
{
	const char *base = strrchr(path, '/');
	uint8_t *buf = NULL;
	size_t len = 0;
	char kind[CVM_SBVARS_SOURCE_MAX];
	struct stat st;
	int r;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		r = from_esl_dir(path, v);
	} else {
		r = cvm_read_file(path, CVM_SBVARS_MAX_FILE, &buf, &len);
		if (r < 0)
			return r;
		if (len >= 44 && !memcmp(buf + 40, "_FVH", 4))
			r = cvm_sbvars_from_varstore(buf, len, v);
		else
			r = cvm_sbvars_from_azure_json(buf, len, v);
		free(buf);
	}
	if (r < 0)
		return r;
	snprintf(kind, sizeof(kind), "%s", v->source);
	snprintf(v->source, sizeof(v->source), "%.60s: %.90s", base && base[1] ? base + 1 : path, kind);
	return 0;
}
