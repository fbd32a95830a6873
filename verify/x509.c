/* X.509 chain helpers and ECDSA over (r, s) for the SNP and TD-quote chain
 * verifiers: host-only, never linked into the init. */
#include <errno.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>

#include "cvmkit/ecdsasig.h"
#include "x509.h"

int cvm_x509_signed_by(const mbedtls_x509_crt *child, const mbedtls_x509_crt *parent)
{
	uint8_t hash[MBEDTLS_MD_MAX_SIZE];
	/* mbedtls keeps the declared signature scheme in private members; there is
	 * no public accessor, and the alternative (mbedtls_x509_crt_verify) drags
	 * in clock, key-usage and name policies we do not want here. */
	mbedtls_md_type_t md = child->MBEDTLS_PRIVATE(sig_md);
	const mbedtls_md_info_t *mi = mbedtls_md_info_from_type(md);
	mbedtls_pk_context *pk = (mbedtls_pk_context *)&parent->pk;

	if (!mi)
		return -EKEYREJECTED;
	if (child->issuer_raw.len != parent->subject_raw.len ||
	    memcmp(child->issuer_raw.p, parent->subject_raw.p, child->issuer_raw.len) != 0)
		return -EKEYREJECTED;
	if (mbedtls_md(mi, child->tbs.p, child->tbs.len, hash) != 0)
		return -EKEYREJECTED;
	if (mbedtls_pk_verify_ext(child->MBEDTLS_PRIVATE(sig_pk), child->MBEDTLS_PRIVATE(sig_opts), pk, md, hash,
				  mbedtls_md_get_size(mi), child->MBEDTLS_PRIVATE(sig).p,
				  child->MBEDTLS_PRIVATE(sig).len) != 0)
		return -EKEYREJECTED;
	return 0;
}

int cvm_x509_find_ext(const mbedtls_x509_crt *crt, const uint8_t *oid, size_t oid_len,
		      const uint8_t **ret_val, size_t *ret_len)
{
	unsigned char *p = crt->v3_ext.p, *end, *ext_end;
	size_t len;

	if (!p || crt->v3_ext.len == 0)
		return -ENOENT;
	end = p + crt->v3_ext.len;
	/* v3_ext covers "[3] EXPLICIT Extensions": unwrap the context tag if present. */
	if (*p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
		if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3))
			return -EBADMSG;
		end = p + len;
	}
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) || p + len != end)
		return -EBADMSG;
	while (p < end) {
		unsigned char *eo;
		size_t olen, vlen;
		int crit;

		if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return -EBADMSG;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &olen, MBEDTLS_ASN1_OID))
			return -EBADMSG;
		eo = p;
		p += olen;
		if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN && mbedtls_asn1_get_bool(&p, ext_end, &crit))
			return -EBADMSG;
		if (mbedtls_asn1_get_tag(&p, ext_end, &vlen, MBEDTLS_ASN1_OCTET_STRING) || p + vlen != ext_end)
			return -EBADMSG;
		if (olen == oid_len && memcmp(eo, oid, oid_len) == 0) {
			*ret_val = p;
			*ret_len = vlen;
			return 0;
		}
		p = ext_end;
	}
	return -ENOENT;
}

int cvm_x509_subject_cn(const mbedtls_x509_crt *crt, char *out, size_t cap)
{
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) != 0)
			continue;
		if (n->val.len + 1 > cap)
			return -ENAMETOOLONG;
		memcpy(out, n->val.p, n->val.len);
		out[n->val.len] = '\0';
		return 0;
	}
	return -ENOENT;
}

int cvm_ecdsa_verify_rs(mbedtls_pk_context *pk, int md_type, const uint8_t *hash, size_t hash_len,
			const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len)
{
	uint8_t der[CVM_ECDSA_MAX_DER];
	size_t len;

	if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY))
		return -EKEYREJECTED;
	if (cvm_ecdsa_rs_to_der(r, r_len, s, s_len, der, sizeof(der), &len) < 0)
		return -EKEYREJECTED;
	if (mbedtls_pk_verify(pk, (mbedtls_md_type_t)md_type, hash, hash_len, der, len) != 0)
		return -EKEYREJECTED;
	return 0;
}
