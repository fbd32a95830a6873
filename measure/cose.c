/* COSE_Sign1 with ES256/ES384 (include/cvmkit/cose.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>

#include "cvmkit/cose.h"
#include "cvmkit/ecdsasig.h"
#include "cvmkit/hash.h"

#define HDR_ALG 1
#define HDR_CONTENT_TYPE 3
#define HDR_KID 4

static size_t alg_half(int alg) { return alg == CVM_COSE_ALG_ES384 ? 48 : 32; }
static mbedtls_md_type_t alg_md(int alg) { return alg == CVM_COSE_ALG_ES384 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256; }
static enum cvm_hash_alg alg_hash(int alg) { return alg == CVM_COSE_ALG_ES384 ? CVM_HASH_SHA384 : CVM_HASH_SHA256; }

int cvm_cose_alg_for_key(mbedtls_pk_context *key, int *ret_alg)
{
	if (!mbedtls_pk_can_do(key, MBEDTLS_PK_ECKEY))
		return -EINVAL;
	switch (mbedtls_pk_ec(*key)->MBEDTLS_PRIVATE(grp).id) {
	case MBEDTLS_ECP_DP_SECP256R1:
		*ret_alg = CVM_COSE_ALG_ES256;
		return 0;
	case MBEDTLS_ECP_DP_SECP384R1:
		*ret_alg = CVM_COSE_ALG_ES384;
		return 0;
	default:
		return -EINVAL;
	}
}

int cvm_cose_kid(mbedtls_pk_context *key, uint8_t ret_kid[32])
{
	uint8_t der[1024];
	/* mbedtls writes DER at the end of the buffer. */
	int n = mbedtls_pk_write_pubkey_der(key, der, sizeof(der));

	if (n <= 0)
		return -EINVAL;
	return cvm_hash(CVM_HASH_SHA256, der + sizeof(der) - n, (size_t)n, ret_kid) < 0 ? -EINVAL : 0;
}

/* The bytes of Sig_structure ["Signature1", protected, h'', payload], hashed. */
static int tbs_hash(int alg, const uint8_t *prot, size_t prot_len, const uint8_t *payload, size_t len, uint8_t *out)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	unsigned char *buf = NULL;
	size_t buf_size = 0, n;
	int r = -ENOMEM;

	if (!a)
		return -ENOMEM;
	if (!cbor_array_push(a, cbor_move(cbor_build_string("Signature1"))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, prot_len))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(NULL, 0))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, len))))
		goto out;
	n = cbor_serialize_alloc(a, &buf, &buf_size);
	if (n == 0)
		goto out;
	r = cvm_hash(alg_hash(alg), buf, n, out) < 0 ? -EIO : 0;
out:
	free(buf);
	cbor_decref(&a);
	return r;
}

static int protected_header(int alg, const char *content_type, const uint8_t kid[32], unsigned char **ret_buf,
			    size_t *ret_len)
{
	cbor_item_t *m = cbor_new_definite_map(3);
	unsigned char *buf = NULL;
	size_t size = 0, n;
	int r = -ENOMEM;

	if (!m)
		return -ENOMEM;
	/* Labels in ascending order: the deterministic encoding RFC 8949 §4.2.1 asks for. */
	if (!cbor_map_add(m, (struct cbor_pair){ cbor_move(cbor_build_uint8(HDR_ALG)),
						 cbor_move(cbor_build_negint8((uint8_t)(-alg - 1))) }) ||
	    !cbor_map_add(m, (struct cbor_pair){ cbor_move(cbor_build_uint8(HDR_CONTENT_TYPE)),
						 cbor_move(cbor_build_string(content_type)) }) ||
	    !cbor_map_add(m, (struct cbor_pair){ cbor_move(cbor_build_uint8(HDR_KID)),
						 cbor_move(cbor_build_bytestring(kid, 32)) }))
		goto out;
	n = cbor_serialize_alloc(m, &buf, &size);
	if (n == 0)
		goto out;
	*ret_buf = buf;
	*ret_len = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	cbor_decref(&m);
	return r;
}

int cvm_cose_sign1(mbedtls_pk_context *key, const char *content_type, const uint8_t *payload, size_t len,
		   bool detached, uint8_t **ret_buf, size_t *ret_len)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	uint8_t kid[32], hash[CVM_HASH_MAX_SIZE], der[MBEDTLS_PK_SIGNATURE_MAX_SIZE], raw[96];
	unsigned char *prot = NULL, *out = NULL;
	size_t prot_len = 0, der_len = 0, out_size = 0, n;
	cbor_item_t *msg = NULL, *arr = NULL;
	int alg, r;

	r = cvm_cose_alg_for_key(key, &alg);
	if (r < 0)
		return r;
	if (cvm_cose_kid(key, kid) < 0)
		return -EINVAL;
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	r = protected_header(alg, content_type, kid, &prot, &prot_len);
	if (r < 0)
		goto out;
	r = tbs_hash(alg, prot, prot_len, payload, len, hash);
	if (r < 0)
		goto out;
	/* The DRBG only blinds the private-key arithmetic: the nonce is RFC 6979's. */
	r = -EIO;
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"cvmkit-cose", 11) ||
	    mbedtls_pk_sign(key, alg_md(alg), hash, cvm_hash_size(alg_hash(alg)), der, sizeof(der), &der_len,
			    mbedtls_ctr_drbg_random, &drbg) ||
	    cvm_ecdsa_der_to_rs(der, der_len, alg_half(alg), raw) < 0)
		goto out;
	r = -ENOMEM;
	arr = cbor_new_definite_array(4);
	if (!arr || !cbor_array_push(arr, cbor_move(cbor_build_bytestring(prot, prot_len))) ||
	    !cbor_array_push(arr, cbor_move(cbor_new_definite_map(0))) ||
	    !cbor_array_push(arr, cbor_move(detached ? cbor_new_null() : cbor_build_bytestring(payload, len))) ||
	    !cbor_array_push(arr, cbor_move(cbor_build_bytestring(raw, 2 * alg_half(alg)))))
		goto out;
	msg = cbor_build_tag(CVM_COSE_TAG_SIGN1, arr);
	if (!msg)
		goto out;
	n = cbor_serialize_alloc(msg, &out, &out_size);
	if (n == 0)
		goto out;
	*ret_buf = out;
	*ret_len = n;
	out = NULL;
	r = 0;
out:
	explicit_bzero(hash, sizeof(hash));
	free(out);
	free(prot);
	if (msg)
		cbor_decref(&msg);
	if (arr)
		cbor_decref(&arr);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return r;
}

/* Parsing is a small bounded CBOR reader rather than libcbor's cbor_load:
 * libcbor allocates an array or map for the count its header claims before
 * reading any element, so a 9-byte header could ask for gigabytes (found by
 * fuzz-cose; pinned as tests/fuzz/corpus/cose/huge-array-count).  Here every
 * count is bounded by the bytes left, nesting by MAX_DEPTH, and the struct
 * points at the exact bytes that were signed. */
#define MAX_DEPTH 16

/* One item head at *OFF: major type, argument; definite lengths only. */
static int read_head(const uint8_t *buf, size_t len, size_t *off, unsigned *ret_major, uint64_t *ret_arg)
{
	uint8_t ib, ai;
	size_t hl;
	uint64_t v = 0;

	if (*off >= len)
		return -EBADMSG;
	ib = buf[*off];
	ai = ib & 0x1F;
	if (ai < 24)
		hl = 0;
	else if (ai <= 27)
		hl = (size_t)1 << (ai - 24);
	else
		return -EBADMSG; /* indefinite length or reserved */
	if (len - *off - 1 < hl)
		return -EBADMSG;
	v = hl ? 0 : ai;
	for (size_t i = 0; i < hl; i++)
		v = v << 8 | buf[*off + 1 + i];
	*off += 1 + hl;
	*ret_major = ib >> 5;
	*ret_arg = v;
	return 0;
}

/* Skips one item of any type; every element costs at least a byte, so the
 * loop counts are bounded by LEN. */
static int skip_item(const uint8_t *buf, size_t len, size_t *off, unsigned depth)
{
	unsigned major;
	uint64_t arg;
	int r;

	if (depth > MAX_DEPTH)
		return -EBADMSG;
	r = read_head(buf, len, off, &major, &arg);
	if (r < 0)
		return r;
	switch (major) {
	case 2:
	case 3:
		if (arg > len - *off)
			return -EBADMSG;
		*off += (size_t)arg;
		return 0;
	case 4:
	case 5:
		if (arg > len - *off)
			return -EBADMSG;
		for (uint64_t i = 0; i < arg * (major == 5 ? 2 : 1); i++)
			if ((r = skip_item(buf, len, off, depth + 1)) < 0)
				return r;
		return 0;
	case 6:
		return skip_item(buf, len, off, depth + 1);
	default:
		return 0; /* integers, simple values and floats: the head is all */
	}
}

/* The bytes of a bstr (or nil, when NIL_OK) at *OFF; advances *OFF. */
static int next_bstr(const uint8_t *buf, size_t len, size_t *off, const uint8_t **ret, size_t *ret_len, bool nil_ok)
{
	unsigned major;
	uint64_t n;
	int r;

	if (nil_ok && *off < len && buf[*off] == 0xF6) {
		*ret = NULL;
		*ret_len = 0;
		*off += 1;
		return 0;
	}
	r = read_head(buf, len, off, &major, &n);
	if (r < 0)
		return r;
	if (major != 2 || n > len - *off)
		return -EBADMSG;
	*ret = buf + *off;
	*ret_len = (size_t)n;
	*off += (size_t)n;
	return 0;
}

/* The protected header: a definite map with unsigned labels, each once. */
static int parse_protected(const uint8_t *buf, size_t len, struct cvm_cose_sign1 *m)
{
	size_t off = 0;
	uint64_t n, label, v, seen = 0;
	unsigned major;
	int r;

	r = read_head(buf, len, &off, &major, &n);
	if (r < 0)
		return r;
	if (major != 5 || n > len)
		return -EBADMSG;
	for (uint64_t i = 0; i < n; i++) {
		r = read_head(buf, len, &off, &major, &label);
		if (r < 0)
			return r;
		if (major != 0 || label > 63 || (seen >> label & 1))
			return -EBADMSG; /* text labels, big labels and duplicates are not ours */
		seen |= 1ull << label;
		switch (label) {
		case HDR_ALG:
			r = read_head(buf, len, &off, &major, &v);
			if (r < 0 || major != 1 || v > 1000)
				return -EBADMSG;
			m->alg = -1 - (int)v;
			if (m->alg != CVM_COSE_ALG_ES256 && m->alg != CVM_COSE_ALG_ES384)
				return -EBADMSG;
			break;
		case HDR_CONTENT_TYPE:
			r = read_head(buf, len, &off, &major, &v);
			if (r < 0 || major != 3 || v >= sizeof(m->content_type) || v > len - off ||
			    memchr(buf + off, 0, (size_t)v))
				return -EBADMSG;
			memcpy(m->content_type, buf + off, (size_t)v);
			m->content_type[v] = 0;
			off += (size_t)v;
			break;
		case HDR_KID:
			r = read_head(buf, len, &off, &major, &v);
			if (r < 0 || major != 2 || v != 32 || v > len - off)
				return -EBADMSG;
			memcpy(m->kid, buf + off, 32);
			m->has_kid = true;
			off += 32;
			break;
		default:
			/* Other labels are signed over but not interpreted. */
			r = skip_item(buf, len, &off, 1);
			if (r < 0)
				return r;
		}
	}
	if (off != len || !(seen >> HDR_ALG & 1))
		return -EBADMSG;
	return 0;
}

int cvm_cose_sign1_parse(const uint8_t *buf, size_t len, struct cvm_cose_sign1 *ret)
{
	struct cvm_cose_sign1 m = { 0 };
	size_t off = 0;
	int r;

	if (len > CVM_COSE_MAX_SIZE)
		return -E2BIG;
	if (len >= 1 && buf[0] == 0xD2) /* tag 18 */
		off = 1;
	if (off >= len || buf[off] != 0x84) /* array of 4 */
		return -EBADMSG;
	off++;
	r = next_bstr(buf, len, &off, &m.protected_hdr, &m.protected_len, false);
	if (r < 0)
		return r;
	/* The unprotected header: we write and accept only the empty map. */
	if (off >= len || buf[off] != 0xA0)
		return -EBADMSG;
	off++;
	r = next_bstr(buf, len, &off, &m.payload, &m.payload_len, true);
	if (r < 0)
		return r;
	r = next_bstr(buf, len, &off, &m.sig, &m.sig_len, false);
	if (r < 0)
		return r;
	if (off != len)
		return -EBADMSG;
	r = parse_protected(m.protected_hdr, m.protected_len, &m);
	if (r < 0)
		return r;
	if (m.sig_len != 2 * alg_half(m.alg))
		return -EBADMSG;
	*ret = m;
	return 0;
}

int cvm_cose_sign1_verify(const struct cvm_cose_sign1 *m, mbedtls_pk_context *key, const uint8_t *payload,
			  size_t len)
{
	uint8_t hash[CVM_HASH_MAX_SIZE], kid[32];
	uint8_t der[CVM_ECDSA_MAX_DER];
	size_t der_len;
	int alg, r;

	if (!payload) {
		payload = m->payload;
		len = m->payload_len;
	}
	if (!payload)
		return -EINVAL;
	if (cvm_cose_alg_for_key(key, &alg) < 0 || alg != m->alg)
		return -EKEYREJECTED;
	if (m->has_kid && (cvm_cose_kid(key, kid) < 0 || memcmp(kid, m->kid, 32) != 0))
		return -EKEYREJECTED;
	r = tbs_hash(alg, m->protected_hdr, m->protected_len, payload, len, hash);
	if (r < 0)
		return r;
	if (cvm_ecdsa_rs_to_der(m->sig, alg_half(alg), m->sig + alg_half(alg), alg_half(alg), der, sizeof(der),
				&der_len) < 0)
		return -EKEYREJECTED;
	if (mbedtls_pk_verify(key, alg_md(alg), hash, cvm_hash_size(alg_hash(alg)), der, der_len) != 0)
		return -EKEYREJECTED;
	return 0;
}
