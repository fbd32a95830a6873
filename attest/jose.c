/* JOSE for the KBS client: base64url, TEE keys, JWE decryption, ES256 JWS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/nist_kw.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>

#include "cvmkit/hash.h"
#include "cvmkit/jose.h"
#include "b64.h"
#include "crypto.h"
#include "jose-internal.h"

#define KEY_FILE_MAX (16u << 10)

/* ---------------------------------------------------------------- base64url */

size_t cvm_b64url_len(size_t len)
{
	return cvm_b64_encoded_len(len, false);
}

int cvm_b64url_encode(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	size_t n = cvm_b64url_len(len);

	if (cap < n + 1 || n > (size_t)INT32_MAX)
		return -ENOBUFS;
	cvm_b64_encode(buf, len, true, false, out);
	return (int)n;
}

int cvm_b64url_decode(const char *s, size_t slen, uint8_t *out, size_t cap)
{
	/* The shared decoder is lenient about padding and alphabet (evidence needs
	 * that); JOSE is not, so screen the characters first. */
	for (size_t i = 0; i < slen; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -EINVAL;
	}
	return cvm_b64_decode(s, slen, out, cap);
}

void cvm_jose_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

int cvm_jose_rng(void *ctx, unsigned char *out, size_t len)
{
	while (len > 0) {
		ssize_t n = getrandom(out, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Decodes a base64url JSON string member into a malloc'd buffer (one spare
 * NUL byte).  -EBADMSG when absent, not a string or malformed. */
int cvm_jose_b64_member(const cJSON *o, const char *name, uint8_t **ret, size_t *ret_len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t n, cap;
	uint8_t *b;
	int r;

	if (!cJSON_IsString(v))
		return -EBADMSG;
	n = strlen(v->valuestring);
	cap = cvm_b64_decoded_max(n) + 1;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	r = cvm_b64url_decode(v->valuestring, n, b, cap - 1);
	if (r < 0) {
		free(b);
		return -EBADMSG;
	}
	b[r] = 0;
	*ret = b;
	*ret_len = (size_t)r;
	return 0;
}

/* Exactly-N-byte base64url member into out. */
static int b64_fixed(const cJSON *o, const char *name, uint8_t *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	uint8_t tmp[80];
	int r;

	if (!cJSON_IsString(v) || n > sizeof(tmp))
		return -EBADMSG;
	r = cvm_b64url_decode(v->valuestring, strlen(v->valuestring), tmp, sizeof(tmp));
	if (r < 0 || (size_t)r != n)
		return -EBADMSG;
	memcpy(out, tmp, n);
	return 0;
}

/* ---------------------------------------------------------------- TEE key */

void cvm_tee_key_free(struct cvm_tee_key *k)
{
	if (k->rsa) {
		mbedtls_rsa_free(k->rsa);
		free(k->rsa);
	}
	explicit_bzero(k, sizeof(*k));
}

static int ec_from_keypair(const mbedtls_ecp_keypair *kp, struct cvm_tee_key *k)
{
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	uint8_t pt[65];
	size_t olen;
	int ret = -EBADMSG;

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	mbedtls_ecp_point_init(&q);
	if (mbedtls_ecp_export(kp, &grp, &d, &q))
		goto out;
	if (grp.id != MBEDTLS_ECP_DP_SECP256R1) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (mbedtls_mpi_write_binary(&d, k->d, 32) ||
	    mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pt, sizeof(pt)) || olen != 65)
		goto out;
	memcpy(k->x, pt + 1, 32);
	memcpy(k->y, pt + 33, 32);
	k->type = CVM_TEE_KEY_EC_P256;
	ret = 0;
out:
	mbedtls_ecp_group_free(&grp);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	return ret;
}

int cvm_tee_key_generate(enum cvm_tee_key_type type, struct cvm_tee_key *ret)
{
	struct cvm_tee_key k = { .type = type };
	int r = -EIO;

	if (type == CVM_TEE_KEY_EC_P256) {
		mbedtls_ecp_keypair kp;
		mbedtls_ecp_keypair_init(&kp);
		if (mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &kp, cvm_jose_rng, NULL) == 0)
			r = ec_from_keypair(&kp, &k) == 0 ? 0 : -EIO;
		mbedtls_ecp_keypair_free(&kp);
	} else if (type == CVM_TEE_KEY_RSA) {
		k.rsa = malloc(sizeof(mbedtls_rsa_context));
		if (!k.rsa)
			return -ENOMEM;
		mbedtls_rsa_init(k.rsa);
		if (mbedtls_rsa_gen_key(k.rsa, cvm_jose_rng, NULL, 2048, 65537) == 0)
			r = 0;
	} else {
		return -EINVAL;
	}
	if (r < 0)
		goto out;
	*ret = k;
	return 0;
out:
	cvm_tee_key_free(&k);
	return r;
}

int cvm_tee_key_load(const uint8_t *buf, size_t len, struct cvm_tee_key *ret)
{
	struct cvm_tee_key k = { 0 };
	mbedtls_pk_context pk;
	uint8_t *copy = NULL;
	int r = -EBADMSG;

	mbedtls_pk_init(&pk);
	if (len == 0 || len > KEY_FILE_MAX)
		goto out;
	/* mbedtls wants PEM NUL-terminated and its length counting the NUL. */
	copy = malloc(len + 1);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(copy, buf, len);
	copy[len] = 0;
	if (mbedtls_pk_parse_key(&pk, copy, (len > 10 && memcmp(copy, "-----BEGIN", 10) == 0) ? len + 1 : len, NULL, 0, cvm_jose_rng, NULL) != 0)
		goto out;
	switch (mbedtls_pk_get_type(&pk)) {
	case MBEDTLS_PK_ECKEY:
	case MBEDTLS_PK_ECKEY_DH:
		r = ec_from_keypair(mbedtls_pk_ec(pk), &k);
		break;
	case MBEDTLS_PK_RSA: {
		size_t bits = mbedtls_pk_get_bitlen(&pk);
		r = -EOPNOTSUPP;
		if (bits < 2048 || bits > 4096)
			break;
		r = -ENOMEM;
		k.type = CVM_TEE_KEY_RSA;
		k.rsa = malloc(sizeof(mbedtls_rsa_context));
		if (!k.rsa)
			break;
		mbedtls_rsa_init(k.rsa);
		r = mbedtls_rsa_copy(k.rsa, mbedtls_pk_rsa(pk)) == 0 ? 0 : -ENOMEM;
		break;
	}
	default:
		r = -EOPNOTSUPP;
	}
	if (r < 0)
		goto out;
	*ret = k;
	memset(&k, 0, sizeof(k));
out:
	cvm_tee_key_free(&k);
	mbedtls_pk_free(&pk);
	cvm_jose_free_secret(copy, len + 1);
	return r;
}

int cvm_tee_key_jwk(const struct cvm_tee_key *k, char *out, size_t cap)
{
	char a[700], b[700], jwk[1600];
	int n;

	if (k->type == CVM_TEE_KEY_EC_P256) {
		cvm_b64_encode(k->x, 32, true, false, a);
		cvm_b64_encode(k->y, 32, true, false, b);
		n = snprintf(jwk, sizeof(jwk), "{\"alg\":\"ECDH-ES+A256KW\",\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", a, b);
	} else if (k->type == CVM_TEE_KEY_RSA && k->rsa) {
		uint8_t nb[512], eb[8];
		size_t nl = mbedtls_rsa_get_len(k->rsa), el;
		mbedtls_mpi e;

		if (nl == 0 || nl > sizeof(nb) || mbedtls_rsa_export_raw(k->rsa, nb, nl, NULL, 0, NULL, 0, NULL, 0, NULL, 0))
			return -EINVAL;
		mbedtls_mpi_init(&e);
		/* e as an unsigned big-endian integer without leading zeros. */
		if (mbedtls_rsa_export(k->rsa, NULL, NULL, NULL, NULL, &e) || (el = mbedtls_mpi_size(&e)) == 0 ||
		    el > sizeof(eb) || mbedtls_mpi_write_binary(&e, eb, el)) {
			mbedtls_mpi_free(&e);
			return -EINVAL;
		}
		mbedtls_mpi_free(&e);
		cvm_b64_encode(eb, el, true, false, a);
		cvm_b64_encode(nb, nl, true, false, b);
		n = snprintf(jwk, sizeof(jwk), "{\"alg\":\"RSA-OAEP-256\",\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", a, b);
	} else {
		return -EINVAL;
	}
	/* out is written only when the whole JWK fits. */
	if (n < 0 || (size_t)n >= sizeof(jwk) || (size_t)n >= cap)
		return -ENOBUFS;
	memcpy(out, jwk, (size_t)n + 1);
	return n;
}

/* ---------------------------------------------------------------- JWE */

/* The JOSE header is the union of up to three objects that must be
 * disjoint (RFC 7516 §7.2.1); look NAME up across them. */
static const cJSON *hdr_get(const cJSON *const h[3], const char *name)
{
	for (int i = 0; i < 3; i++) {
		const cJSON *v = h[i] ? cJSON_GetObjectItemCaseSensitive(h[i], name) : NULL;
		if (v)
			return v;
	}
	return NULL;
}

static int hdr_disjoint(const cJSON *const h[3])
{
	for (int i = 0; i < 3; i++) {
		const cJSON *m;
		if (!h[i])
			continue;
		if (!cJSON_IsObject(h[i]))
			return -EBADMSG;
		cJSON_ArrayForEach(m, h[i]) {
			if (!m->string)
				return -EBADMSG;
			for (int j = i + 1; j < 3; j++)
				if (h[j] && cJSON_GetObjectItemCaseSensitive(h[j], m->string))
					return -EBADMSG;
		}
	}
	return 0;
}

/* RFC 7518 §4.6.2 Concat KDF, one SHA-256 round, 256-bit output. */
static int concat_kdf(const uint8_t z[32], const char *alg, const uint8_t *apu, size_t apu_len,
		      const uint8_t *apv, size_t apv_len, uint8_t kek[32])
{
	struct cvm_hash_ctx c;
	uint8_t be[4];
	size_t alen = strlen(alg);
	int r;

#define PUT32(v) (be[0] = (uint8_t)((v) >> 24), be[1] = (uint8_t)((v) >> 16), be[2] = (uint8_t)((v) >> 8), be[3] = (uint8_t)(v))
	r = cvm_hash_init(&c, CVM_HASH_SHA256);
	if (r < 0)
		return r;
	PUT32(1u);
	r = cvm_hash_update(&c, be, 4);
	if (!r)
		r = cvm_hash_update(&c, z, 32);
	PUT32(alen);
	if (!r)
		r = cvm_hash_update(&c, be, 4);
	if (!r)
		r = cvm_hash_update(&c, alg, alen);
	PUT32(apu_len);
	if (!r)
		r = cvm_hash_update(&c, be, 4);
	if (!r && apu_len)
		r = cvm_hash_update(&c, apu, apu_len);
	PUT32(apv_len);
	if (!r)
		r = cvm_hash_update(&c, be, 4);
	if (!r && apv_len)
		r = cvm_hash_update(&c, apv, apv_len);
	PUT32(256u);
	if (!r)
		r = cvm_hash_update(&c, be, 4);
	if (!r)
		r = cvm_hash_final(&c, kek);
#undef PUT32
	cvm_hash_free(&c);
	return r < 0 ? -EIO : 0;
}

/* Optional base64url header member ("apu"/"apv"), at most 1 KiB decoded. */
static int opt_b64(const cJSON *const h[3], const char *name, uint8_t *out, size_t cap, size_t *ret_len)
{
	const cJSON *v = hdr_get(h, name);
	int r;

	*ret_len = 0;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return -EBADMSG;
	r = cvm_b64url_decode(v->valuestring, strlen(v->valuestring), out, cap);
	if (r < 0)
		return -EBADMSG;
	*ret_len = (size_t)r;
	return 0;
}

static int ecdh_es_unwrap(const struct cvm_tee_key *k, const cJSON *const h[3], const uint8_t *ek, size_t ek_len,
			  uint8_t cek[32])
{
	const cJSON *epk = hdr_get(h, "epk"), *kty, *crv;
	uint8_t pt[65], z[32], kek[32], apu[1024], apv[1024];
	size_t apu_len, apv_len, olen;
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d, zm;
	mbedtls_nist_kw_context kw;
	int r = -EBADMSG;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&zm);
	mbedtls_nist_kw_init(&kw);
	if (!cJSON_IsObject(epk) || ek_len != 40)
		goto out;
	kty = cJSON_GetObjectItemCaseSensitive(epk, "kty");
	crv = cJSON_GetObjectItemCaseSensitive(epk, "crv");
	if (!cJSON_IsString(kty) || !cJSON_IsString(crv))
		goto out;
	if (strcmp(kty->valuestring, "EC") != 0 || strcmp(crv->valuestring, "P-256") != 0) {
		r = -EOPNOTSUPP;
		goto out;
	}
	pt[0] = 0x04;
	if (b64_fixed(epk, "x", pt + 1, 32) < 0 || b64_fixed(epk, "y", pt + 33, 32) < 0)
		goto out;
	if (opt_b64(h, "apu", apu, sizeof(apu), &apu_len) < 0 || opt_b64(h, "apv", apv, sizeof(apv), &apv_len) < 0)
		goto out;
	/* An off-curve epk would leak the private key (invalid-curve attack). */
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) ||
	    mbedtls_ecp_point_read_binary(&grp, &q, pt, sizeof(pt)) || mbedtls_ecp_check_pubkey(&grp, &q))
		goto out;
	r = -EIO;
	if (mbedtls_mpi_read_binary(&d, k->d, 32) ||
	    mbedtls_ecdh_compute_shared(&grp, &zm, &q, &d, cvm_jose_rng, NULL) || mbedtls_mpi_write_binary(&zm, z, 32))
		goto out;
	if (concat_kdf(z, "ECDH-ES+A256KW", apu, apu_len, apv, apv_len, kek) < 0)
		goto out;
	if (mbedtls_nist_kw_setkey(&kw, MBEDTLS_CIPHER_ID_AES, kek, 256, 0))
		goto out;
	r = -EKEYREJECTED;
	if (mbedtls_nist_kw_unwrap(&kw, MBEDTLS_KW_MODE_KW, ek, ek_len, cek, &olen, 32) || olen != 32)
		goto out;
	r = 0;
out:
	explicit_bzero(z, sizeof(z));
	explicit_bzero(kek, sizeof(kek));
	mbedtls_nist_kw_free(&kw);
	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&q);
	mbedtls_mpi_free(&d);
	mbedtls_mpi_free(&zm);
	return r;
}

static int rsa_oaep_unwrap(const struct cvm_tee_key *k, const uint8_t *ek, size_t ek_len, uint8_t cek[32])
{
	uint8_t out[512];
	size_t olen = 0;
	int r = -EKEYREJECTED;

	if (!k->rsa || ek_len != mbedtls_rsa_get_len(k->rsa))
		return -EBADMSG;
	if (mbedtls_rsa_set_padding(k->rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256))
		return -EIO;
	if (mbedtls_rsa_rsaes_oaep_decrypt(k->rsa, cvm_jose_rng, NULL, NULL, 0, &olen, ek, out, sizeof(out)) == 0 &&
	    olen == 32) {
		memcpy(cek, out, 32);
		r = 0;
	}
	explicit_bzero(out, sizeof(out));
	return r;
}

int cvm_jwe_decrypt(const struct cvm_tee_key *k, const uint8_t *buf, size_t len, uint8_t **ret_pt,
		    size_t *ret_len)
{
	cJSON *root = NULL, *prot_hdr = NULL;
	const cJSON *rcpt, *prot, *aadm, *alg, *enc, *h[3] = { 0 };
	uint8_t *ek = NULL, *iv = NULL, *ct = NULL, *tag = NULL, *ph = NULL, *pt = NULL, *aad = NULL;
	size_t ek_len = 0, iv_len, ct_len = 0, tag_len, ph_len, aad_len = 0;
	uint8_t cek[32], calc_tag[16];
	mbedtls_gcm_context gcm;
	int r = -EFBIG;

	mbedtls_gcm_init(&gcm);
	if (len > CVM_JOSE_MAX_SIZE)
		goto out;
	r = -EBADMSG;
	root = cJSON_ParseWithLength((const char *)buf, len);
	if (!cJSON_IsObject(root))
		goto out;
	rcpt = root;
	if (cJSON_GetObjectItemCaseSensitive(root, "recipients")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "recipients");
		if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 1 || cJSON_GetObjectItemCaseSensitive(root, "header") ||
		    cJSON_GetObjectItemCaseSensitive(root, "encrypted_key"))
			goto out;
		rcpt = cJSON_GetArrayItem(a, 0);
		if (!cJSON_IsObject(rcpt))
			goto out;
	}
	prot = cJSON_GetObjectItemCaseSensitive(root, "protected");
	if (prot) {
		if (!cJSON_IsString(prot) || cvm_jose_b64_member(root, "protected", &ph, &ph_len) < 0)
			goto out;
		prot_hdr = cJSON_ParseWithLength((const char *)ph, ph_len);
		if (!cJSON_IsObject(prot_hdr))
			goto out;
	}
	h[0] = prot_hdr;
	h[1] = cJSON_GetObjectItemCaseSensitive(root, "unprotected");
	h[2] = cJSON_GetObjectItemCaseSensitive(rcpt, "header");
	if (hdr_disjoint(h) < 0)
		goto out;
	alg = hdr_get(h, "alg");
	enc = hdr_get(h, "enc");
	if (!cJSON_IsString(alg) || !cJSON_IsString(enc))
		goto out;
	r = -EOPNOTSUPP;
	if (strcmp(enc->valuestring, "A256GCM") != 0 || hdr_get(h, "zip") || hdr_get(h, "crit"))
		goto out;
	if (k->type == CVM_TEE_KEY_EC_P256 ? strcmp(alg->valuestring, "ECDH-ES+A256KW") != 0
					   : strcmp(alg->valuestring, "RSA-OAEP-256") != 0)
		goto out;
	r = -EBADMSG;
	if (cvm_jose_b64_member(rcpt, "encrypted_key", &ek, &ek_len) < 0 ||
	    cvm_jose_b64_member(root, "iv", &iv, &iv_len) < 0 || iv_len != 12 ||
	    cvm_jose_b64_member(root, "ciphertext", &ct, &ct_len) < 0 ||
	    cvm_jose_b64_member(root, "tag", &tag, &tag_len) < 0 || tag_len != 16)
		goto out;
	aadm = cJSON_GetObjectItemCaseSensitive(root, "aad");
	{
		size_t pl = prot ? strlen(prot->valuestring) : 0, al = 0;
		if (aadm) {
			if (!cJSON_IsString(aadm))
				goto out;
			al = strlen(aadm->valuestring);
		}
		aad = malloc(pl + al + 2);
		if (!aad) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(aad, prot ? prot->valuestring : "", pl);
		aad_len = pl;
		if (aadm) {
			aad[aad_len++] = '.';
			memcpy(aad + aad_len, aadm->valuestring, al);
			aad_len += al;
		}
	}
	r = k->type == CVM_TEE_KEY_EC_P256 ? ecdh_es_unwrap(k, h, ek, ek_len, cek) : rsa_oaep_unwrap(k, ek, ek_len, cek);
	if (r < 0)
		goto out;
	pt = malloc(ct_len + 1);
	if (!pt) {
		r = -ENOMEM;
		goto out;
	}
	r = -EIO;
	if (mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, cek, 256) ||
	    mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_DECRYPT, ct_len, iv, 12, aad, aad_len, ct, pt, 16, calc_tag))
		goto out;
	r = -EKEYREJECTED;
	if (!cvm_ct_equal(calc_tag, tag, 16))
		goto out;
	pt[ct_len] = 0;
	*ret_pt = pt;
	*ret_len = ct_len;
	pt = NULL;
	r = 0;
out:
	explicit_bzero(cek, sizeof(cek));
	explicit_bzero(calc_tag, sizeof(calc_tag));
	mbedtls_gcm_free(&gcm);
	cvm_jose_free_secret(pt, ct_len + 1);
	free(ek);
	free(iv);
	free(ct);
	free(tag);
	free(ph);
	free(aad);
	cJSON_Delete(prot_hdr);
	cJSON_Delete(root);
	return r;
}

/* ---------------------------------------------------------------- JWS */

void cvm_jws_free(struct cvm_jws *jws)
{
	free(jws->payload);
	memset(jws, 0, sizeof(*jws));
}

int cvm_jws_parse(const uint8_t *buf, size_t len, struct cvm_jws *ret)
{
	struct cvm_jws j = { 0 };
	const char *s = (const char *)buf, *d1, *d2;
	uint8_t *hdr = NULL;
	cJSON *h = NULL;
	const cJSON *alg, *kid;
	size_t hl;
	int r = -EFBIG;

	if (len > CVM_JOSE_MAX_SIZE)
		goto out;
	r = -EBADMSG;
	d1 = memchr(s, '.', len);
	if (!d1)
		goto out;
	d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - s));
	if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - s)))
		goto out;
	hl = (size_t)(d1 - s);
	hdr = malloc(cvm_b64_decoded_max(hl) + 1);
	j.payload = malloc(cvm_b64_decoded_max((size_t)(d2 - d1 - 1)) + 1);
	if (!hdr || !j.payload) {
		r = -ENOMEM;
		goto out;
	}
	{
		int n = cvm_b64url_decode(s, hl, hdr, cvm_b64_decoded_max(hl));
		int p = cvm_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), j.payload, cvm_b64_decoded_max((size_t)(d2 - d1 - 1)));
		int g = cvm_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - s), j.sig, sizeof(j.sig));
		if (n <= 0 || p < 0 || g < 0)
			goto out;
		j.payload[p] = 0;
		j.payload_len = (size_t)p;
		j.sig_len = (size_t)g;
		h = cJSON_ParseWithLength((const char *)hdr, (size_t)n);
	}
	if (!cJSON_IsObject(h))
		goto out;
	alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
	kid = cJSON_GetObjectItemCaseSensitive(h, "kid");
	if (!cJSON_IsString(alg) || strlen(alg->valuestring) >= sizeof(j.alg) || cJSON_GetObjectItemCaseSensitive(h, "crit"))
		goto out;
	strcpy(j.alg, alg->valuestring);
	if (kid) {
		if (!cJSON_IsString(kid) || strlen(kid->valuestring) >= sizeof(j.kid))
			goto out;
		strcpy(j.kid, kid->valuestring);
	}
	if (cvm_hash(CVM_HASH_SHA256, buf, (size_t)(d2 - s), j.digest) < 0) {
		r = -EIO;
		goto out;
	}
	*ret = j;
	memset(&j, 0, sizeof(j));
	r = 0;
out:
	cvm_jws_free(&j);
	free(hdr);
	cJSON_Delete(h);
	return r;
}

int cvm_jwk_p256_parse(const uint8_t *buf, size_t len, uint8_t ret_xy[64])
{
	cJSON *o = NULL;
	const cJSON *kty, *crv;
	uint8_t xy[64];
	int r = -EBADMSG;

	if (len > KEY_FILE_MAX)
		goto out;
	o = cJSON_ParseWithLength((const char *)buf, len);
	if (!cJSON_IsObject(o))
		goto out;
	kty = cJSON_GetObjectItemCaseSensitive(o, "kty");
	crv = cJSON_GetObjectItemCaseSensitive(o, "crv");
	if (!cJSON_IsString(kty) || !cJSON_IsString(crv))
		goto out;
	if (strcmp(kty->valuestring, "EC") != 0 || strcmp(crv->valuestring, "P-256") != 0) {
		r = -EOPNOTSUPP;
		goto out;
	}
	if (b64_fixed(o, "x", xy, 32) < 0 || b64_fixed(o, "y", xy + 32, 32) < 0)
		goto out;
	{
		mbedtls_ecp_group grp;
		mbedtls_ecp_point q;
		uint8_t pt[65] = { 0x04 };
		int bad;
		memcpy(pt + 1, xy, 64);
		mbedtls_ecp_group_init(&grp);
		mbedtls_ecp_point_init(&q);
		bad = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) ||
		      mbedtls_ecp_point_read_binary(&grp, &q, pt, sizeof(pt)) || mbedtls_ecp_check_pubkey(&grp, &q);
		mbedtls_ecp_group_free(&grp);
		mbedtls_ecp_point_free(&q);
		if (bad)
			goto out;
	}
	memcpy(ret_xy, xy, 64);
	r = 0;
out:
	cJSON_Delete(o);
	return r;
}

int cvm_jws_verify_es256(const struct cvm_jws *jws, const uint8_t key_xy[64])
{
	if (strcmp(jws->alg, "ES256") != 0)
		return -EOPNOTSUPP;
	if (jws->sig_len != 64)
		return -EBADMSG;
	return cvm_ecdsa_p256_verify_raw(key_xy, jws->digest, jws->sig) == 0 ? 0 : -EKEYREJECTED;
}
