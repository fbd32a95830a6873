/* Authenticode signing; see include/cvmkit/sign.h.
 *
 * The PKCS#7 is written by hand: it is a fixed shape with four variable
 * parts (digest, certificate, issuer and serial, signature), and writing it
 * here keeps every byte under our control, which is what makes the output
 * reproducible.  mbedtls does the key and certificate parsing and the
 * signature. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/pe.h"
#include "cvmkit/sign.h"

struct cvm_signer {
	mbedtls_pk_context key;
	mbedtls_x509_crt crt;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg; /* blinding only: the signatures are deterministic */
};

/* ------------------------------------------------------------ DER writer */

struct der {
	uint8_t *p;
	size_t len;
	int err;
};

static void put(struct der *d, const void *b, size_t n)
{
	uint8_t *np;

	if (d->err || !n)
		return;
	np = realloc(d->p, d->len + n);
	if (!np) {
		d->err = -ENOMEM;
		return;
	}
	d->p = np;
	memcpy(d->p + d->len, b, n);
	d->len += n;
}

static void put_hdr(struct der *d, uint8_t tag, size_t n)
{
	uint8_t h[6];
	size_t k = 0;

	h[k++] = tag;
	if (n < 0x80) {
		h[k++] = (uint8_t)n;
	} else {
		unsigned bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;

		if (n > UINT32_MAX) {
			d->err = -EFBIG;
			return;
		}
		h[k++] = (uint8_t)(0x80 | bytes);
		while (bytes--)
			h[k++] = (uint8_t)(n >> (8 * bytes));
	}
	put(d, h, k);
}

static void put_tlv(struct der *d, uint8_t tag, const void *b, size_t n)
{
	put_hdr(d, tag, n);
	put(d, b, n);
}

/* Appends TAG { inner } and frees inner. */
static void wrap(struct der *d, uint8_t tag, struct der *inner)
{
	if (inner->err && !d->err)
		d->err = inner->err;
	put_tlv(d, tag, inner->p, inner->len);
	free(inner->p);
	*inner = (struct der){ 0 };
}

#define SEQ 0x30
#define SET 0x31
#define CTX0 0xa0

static const uint8_t ALG_SHA256[] = { 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
				      0x03, 0x04, 0x02, 0x01, 0x05, 0x00 };
static const uint8_t ALG_RSA[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
				   0x0d, 0x01, 0x01, 0x01, 0x05, 0x00 };
static const uint8_t ALG_ECDSA_SHA256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t OID_SIGNED_DATA[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const uint8_t OID_SPC_INDIRECT[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x04 };
static const uint8_t OID_SPC_PE_IMAGE[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f };
static const uint8_t OID_CONTENT_TYPE[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03 };
static const uint8_t OID_MESSAGE_DIGEST[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 };
/* SpcPeImageData: flags = empty BIT STRING, file = [0] { [2] { [0] BMPString
 * "<<<Obsolete>>>" } }, as every Authenticode signer writes it. */
static const uint8_t SPC_PE_IMAGE_DATA[] = {
	0x30, 0x25, 0x03, 0x01, 0x00, 0xa0, 0x20, 0xa2, 0x1e, 0x80, 0x1c, 0, '<', 0, '<', 0, '<', 0, 'O', 0,
	'b',  0,    's',  0,    'o',  0,    'l',  0,    'e',  0,    't',  0, 'e', 0, '>', 0, '>', 0, '>',
};

/* --------------------------------------------------------------- signer */

static int map_pk_error(int e)
{
	switch (e) {
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
	case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
		return -EACCES;
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
		return -ENOMEM;
	default:
		return -EBADMSG;
	}
}

/* mbedtls parses PEM only from a NUL-terminated buffer counted with its NUL. */
static int with_nul(const uint8_t *buf, size_t len, uint8_t **ret)
{
	uint8_t *p = malloc(len + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, buf, len);
	p[len] = 0;
	*ret = p;
	return 0;
}

int cvm_signer_from_pem(const uint8_t *key, size_t key_len, const char *pass, const uint8_t *cert, size_t cert_len,
			struct cvm_signer **ret)
{
	struct cvm_signer *s = calloc(1, sizeof(*s));
	uint8_t *k = NULL, *c = NULL;
	int r;

	if (!s)
		return -ENOMEM;
	mbedtls_pk_init(&s->key);
	mbedtls_x509_crt_init(&s->crt);
	mbedtls_entropy_init(&s->entropy);
	mbedtls_ctr_drbg_init(&s->drbg);
	r = -EIO;
	if (mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy, (const unsigned char *)"cvm-sign", 8))
		goto out;
	r = with_nul(key, key_len, &k);
	if (r >= 0)
		r = with_nul(cert, cert_len, &c);
	if (r < 0)
		goto out;
	r = mbedtls_pk_parse_key(&s->key, k, key_len + 1, (const unsigned char *)pass, pass ? strlen(pass) : 0,
				 mbedtls_ctr_drbg_random, &s->drbg);
	if (r) {
		r = map_pk_error(r);
		goto out;
	}
	if (mbedtls_x509_crt_parse(&s->crt, c, cert_len + 1) != 0) {
		r = -EBADMSG;
		goto out;
	}
	if (!mbedtls_pk_can_do(&s->key, MBEDTLS_PK_RSA) && !mbedtls_pk_can_do(&s->key, MBEDTLS_PK_ECDSA)) {
		r = -EOPNOTSUPP;
		goto out;
	}
	if (mbedtls_pk_check_pair(&s->crt.pk, &s->key, mbedtls_ctr_drbg_random, &s->drbg) != 0) {
		r = -EKEYREJECTED;
		goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	if (k) {
		explicit_bzero(k, key_len + 1);
		free(k);
	}
	free(c);
	cvm_signer_free(s);
	return r;
}

void cvm_signer_free(struct cvm_signer *s)
{
	if (!s)
		return;
	mbedtls_pk_free(&s->key); /* mbedtls zeroises the key material */
	mbedtls_x509_crt_free(&s->crt);
	mbedtls_ctr_drbg_free(&s->drbg);
	mbedtls_entropy_free(&s->entropy);
	free(s);
}

const uint8_t *cvm_signer_cert(const struct cvm_signer *s, size_t *ret_len)
{
	*ret_len = s->crt.raw.len;
	return s->crt.raw.p;
}

int cvm_signer_authorised_by(const struct cvm_signer *s, const uint8_t *der, size_t len)
{
	const uint32_t dates = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
	mbedtls_x509_crt ca, leaf;
	uint32_t flags = 0;
	int r = -EBADMSG;

	mbedtls_x509_crt_init(&ca);
	mbedtls_x509_crt_init(&leaf);
	if (mbedtls_x509_crt_parse_der(&ca, der, len) != 0)
		goto out;
	r = 1;
	if (len == s->crt.raw.len && memcmp(der, s->crt.raw.p, len) == 0)
		goto out;
	/* The leaf alone: certificates after it in the signer's PEM are not in
	 * the signature, so the firmware never sees them. */
	r = -EBADMSG;
	if (mbedtls_x509_crt_parse_der(&leaf, s->crt.raw.p, s->crt.raw.len) != 0)
		goto out;
	r = mbedtls_x509_crt_verify(&leaf, &ca, NULL, NULL, &flags, NULL, NULL) == 0 ||
	    (flags && (flags & ~dates) == 0);
out:
	mbedtls_x509_crt_free(&leaf);
	mbedtls_x509_crt_free(&ca);
	return r;
}

int cvm_signer_sign_digest(struct cvm_signer *s, const uint8_t digest[32], uint8_t *sig, size_t cap,
			   size_t *ret_len)
{
	size_t n = 0;
	int r;

	r = mbedtls_pk_sign(&s->key, MBEDTLS_MD_SHA256, digest, 32, sig, cap, &n, mbedtls_ctr_drbg_random, &s->drbg);
	if (r == MBEDTLS_ERR_PK_BUFFER_TOO_SMALL || r == MBEDTLS_ERR_ECP_BUFFER_TOO_SMALL)
		return -ENOSPC;
	if (r)
		return -EIO;
	*ret_len = n;
	return 0;
}

/* ------------------------------------------------------------- PKCS#7 */

/* ContentInfo { signedData, SignedData } for an image digest. */
static int build_pkcs7(struct cvm_signer *s, const uint8_t digest[32], struct der *out)
{
	struct der idc = { 0 }, t = { 0 }, attrs = { 0 }, set = { 0 }, si = { 0 }, sis = { 0 }, sd = { 0 },
		   sdx = { 0 }, ci = { 0 };
	uint8_t h[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
	size_t sig_len = 0;
	int r;

	/* SpcIndirectDataContent's contents octets (idc): its messageDigest
	 * attribute covers these, without the SEQUENCE header. */
	put(&t, OID_SPC_PE_IMAGE, sizeof(OID_SPC_PE_IMAGE));
	put(&t, SPC_PE_IMAGE_DATA, sizeof(SPC_PE_IMAGE_DATA));
	wrap(&idc, SEQ, &t);
	put(&t, ALG_SHA256, sizeof(ALG_SHA256));
	put_tlv(&t, 0x04, digest, 32);
	wrap(&idc, SEQ, &t);
	r = idc.err;
	if (r >= 0)
		r = cvm_hash(CVM_HASH_SHA256, idc.p, idc.len, h);
	if (r < 0)
		goto out;

	/* Authenticated attributes.  DER orders a SET OF by encoding: the
	 * contentType attribute (25 content bytes) sorts before messageDigest
	 * (47), both starting 30 then their length. */
	put(&t, OID_CONTENT_TYPE, sizeof(OID_CONTENT_TYPE));
	put_tlv(&t, SET, OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT));
	wrap(&attrs, SEQ, &t);
	put(&t, OID_MESSAGE_DIGEST, sizeof(OID_MESSAGE_DIGEST));
	put_hdr(&t, SET, 34);
	put_tlv(&t, 0x04, h, 32);
	wrap(&attrs, SEQ, &t);
	/* The signature covers the attributes encoded as a SET, while the
	 * SignerInfo carries them as [0] IMPLICIT. */
	put_tlv(&set, SET, attrs.p, attrs.len);
	r = attrs.err ? attrs.err : set.err;
	if (r >= 0)
		r = cvm_hash(CVM_HASH_SHA256, set.p, set.len, h);
	if (r >= 0)
		r = cvm_signer_sign_digest(s, h, sig, sizeof(sig), &sig_len);
	if (r < 0)
		goto out;

	put_tlv(&si, 0x02, "\x01", 1);
	put(&t, s->crt.issuer_raw.p, s->crt.issuer_raw.len);
	put_tlv(&t, 0x02, s->crt.serial.p, s->crt.serial.len);
	wrap(&si, SEQ, &t);
	put(&si, ALG_SHA256, sizeof(ALG_SHA256));
	wrap(&si, CTX0, &attrs);
	if (mbedtls_pk_can_do(&s->key, MBEDTLS_PK_RSA))
		put(&si, ALG_RSA, sizeof(ALG_RSA));
	else
		put(&si, ALG_ECDSA_SHA256, sizeof(ALG_ECDSA_SHA256));
	put_tlv(&si, 0x04, sig, sig_len);
	wrap(&sis, SEQ, &si);

	put_tlv(&sd, 0x02, "\x01", 1);
	put_tlv(&sd, SET, ALG_SHA256, sizeof(ALG_SHA256));
	put(&t, OID_SPC_INDIRECT, sizeof(OID_SPC_INDIRECT));
	{
		struct der seq = { 0 };
		put_tlv(&seq, SEQ, idc.p, idc.len);
		wrap(&t, CTX0, &seq);
	}
	wrap(&sd, SEQ, &t);
	put_tlv(&sd, CTX0, s->crt.raw.p, s->crt.raw.len);
	wrap(&sd, SET, &sis);
	wrap(&sdx, SEQ, &sd);

	put(&ci, OID_SIGNED_DATA, sizeof(OID_SIGNED_DATA));
	wrap(&ci, CTX0, &sdx);
	wrap(out, SEQ, &ci);
	r = out->err;
out:
	explicit_bzero(sig, sizeof(sig));
	free(idc.p);
	free(t.p);
	free(attrs.p);
	free(set.p);
	free(si.p);
	free(sis.p);
	free(sd.p);
	free(sdx.p);
	free(ci.p);
	return r;
}

/* ------------------------------------------------------------- the PE */

#define OPT_CHECKSUM 64u
#define WIN_CERT_REVISION_2_0 0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 0x0002

int cvm_sign_pe(struct cvm_signer *s, const uint8_t *buf, size_t len, uint8_t **ret_buf, size_t *ret_len)
{
	struct cvm_pe *pe = NULL;
	struct der p7 = { 0 };
	uint8_t digest[32], *out = NULL;
	size_t padded, cert_len, total, dir4;
	int r;

	pe = malloc(sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	r = cvm_pe_parse(buf, len, pe);
	if (r < 0 || pe->n_data_dirs <= 4) {
		r = -EBADMSG;
		goto out;
	}
	if (pe->cert_table_size) {
		r = -EEXIST;
		goto out;
	}
	/* The certificate table starts 8-aligned; the zero padding before it
	 * is trailing data, covered by the digest (as sbsign does). */
	padded = CVM_ALIGN_UP(len, (size_t)8);
	r = -ENOMEM;
	out = calloc(1, padded);
	if (!out)
		goto out;
	memcpy(out, buf, len);
	r = cvm_pe_authenticode(out, padded, CVM_HASH_SHA256, digest);
	if (r >= 0)
		r = build_pkcs7(s, digest, &p7);
	if (r < 0)
		goto out;
	cert_len = 8 + p7.len;
	total = padded + CVM_ALIGN_UP(cert_len, (size_t)8);
	if (total > UINT32_MAX) {
		r = -EFBIG;
		goto out;
	}
	{
		uint8_t *t = realloc(out, total);
		if (!t) {
			r = -ENOMEM;
			goto out;
		}
		out = t;
	}
	memset(out + padded, 0, total - padded);
	/* dwLength is the certificate's own length; the directory entry
	 * covers the 8-aligned table (edk2 steps to the next entry by
	 * dwLength rounded up to 8). */
	cvm_put_le32(out + padded, (uint32_t)cert_len);
	cvm_put_le16(out + padded + 4, WIN_CERT_REVISION_2_0);
	cvm_put_le16(out + padded + 6, WIN_CERT_TYPE_PKCS_SIGNED_DATA);
	memcpy(out + padded + 8, p7.p, p7.len);
	dir4 = (size_t)pe->opt_offset + (pe->pe32plus ? 108u : 92u) + 4 + 8 * 4;
	cvm_put_le32(out + dir4, (uint32_t)padded);
	cvm_put_le32(out + dir4 + 4, (uint32_t)(total - padded));
	cvm_put_le32(out + pe->opt_offset + OPT_CHECKSUM, cvm_pe_checksum(out, total, (size_t)pe->opt_offset + OPT_CHECKSUM));
	*ret_buf = out;
	*ret_len = total;
	out = NULL;
	r = 0;
out:
	free(out);
	free(p7.p);
	free(pe);
	return r;
}

/* ------------------------------------------------ certificates, lists */

/* EFI_CERT_X509_GUID a5c059a1-94e4-4aa7-87b5-ab155c2bf072, on-disk order. */
static const uint8_t CERT_X509_GUID[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
					    0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };

int cvm_esl_x509(const uint8_t owner[16], const uint8_t *der, size_t der_len, uint8_t **ret_buf, size_t *ret_len)
{
	size_t total = 28 + 16 + der_len;
	uint8_t *p;

	if (!der_len || der_len > UINT32_MAX - 44)
		return -EINVAL;
	p = malloc(total);
	if (!p)
		return -ENOMEM;
	/* EFI_SIGNATURE_LIST: type, list size, header size 0, one signature
	 * of SignatureSize = owner + certificate. */
	memcpy(p, CERT_X509_GUID, 16);
	cvm_put_le32(p + 16, (uint32_t)total);
	cvm_put_le32(p + 20, 0);
	cvm_put_le32(p + 24, (uint32_t)(16 + der_len));
	memcpy(p + 28, owner, 16);
	memcpy(p + 44, der, der_len);
	*ret_buf = p;
	*ret_len = total;
	return 0;
}
