/* The AMD VCEK → ASK → ARK chain against the pinned roots, VCEK extensions
 * and the SEV-SNP report signature: host-only verification (the guest
 * collector parses reports in attest/snp.c but never verifies them). */
#include <errno.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/x509_crt.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/snp.h"
#include "roots.h"
#include "x509.h"

#define VCEK_MAX_SIZE (16u << 10)

/* 1.3.6.1.4.1.3704.1.* in DER, without the last arc(s). */
static const uint8_t amd_oid_prefix[] = { 0x2B, 0x06, 0x01, 0x04, 0x01, 0x9C, 0x78, 0x01 };

static int amd_ext(const mbedtls_x509_crt *crt, const uint8_t *tail, size_t tail_len, const uint8_t **v,
		   size_t *vl)
{
	uint8_t oid[sizeof(amd_oid_prefix) + 4];

	memcpy(oid, amd_oid_prefix, sizeof(amd_oid_prefix));
	memcpy(oid + sizeof(amd_oid_prefix), tail, tail_len);
	return cvm_x509_find_ext(crt, oid, sizeof(amd_oid_prefix) + tail_len, v, vl);
}

static int amd_spl(const mbedtls_x509_crt *crt, uint8_t last, int *ret)
{
	const uint8_t tail[2] = { 0x03, last };
	const uint8_t *v;
	unsigned char *p, *end;
	size_t vl;
	int val, r = amd_ext(crt, tail, 2, &v, &vl);

	if (r == -ENOENT) {
		*ret = -1;
		return 0;
	}
	if (r < 0)
		return r;
	p = (unsigned char *)v;
	end = p + vl;
	if (mbedtls_asn1_get_int(&p, end, &val) || p != end || val < 0 || val > 255)
		return -EBADMSG;
	*ret = val;
	return 0;
}

static int vcek_load(const uint8_t *der, size_t len, mbedtls_x509_crt *crt)
{
	if (!der || len == 0 || len > VCEK_MAX_SIZE)
		return -EBADMSG;
	if (mbedtls_x509_crt_parse_der(crt, der, len) != 0)
		return -EBADMSG;
	return 0;
}

int cvm_vcek_parse(const uint8_t *der, size_t len, struct cvm_vcek_info *ret)
{
	struct cvm_vcek_info info;
	mbedtls_x509_crt crt;
	const uint8_t hwid_tail[1] = { 0x04 };
	const uint8_t *v;
	size_t vl;
	int r;

	memset(&info, 0, sizeof(info));
	mbedtls_x509_crt_init(&crt);
	r = vcek_load(der, len, &crt);
	if (r < 0)
		goto out;
	r = cvm_x509_subject_cn(&crt, info.cn, sizeof(info.cn));
	if (r == -ENOENT)
		info.cn[0] = '\0';
	else if (r < 0) {
		r = -EBADMSG;
		goto out;
	}
	if ((r = amd_spl(&crt, 0x01, &info.bl_spl)) < 0 || (r = amd_spl(&crt, 0x02, &info.tee_spl)) < 0 ||
	    (r = amd_spl(&crt, 0x03, &info.snp_spl)) < 0 || (r = amd_spl(&crt, 0x08, &info.ucode_spl)) < 0 ||
	    (r = amd_spl(&crt, 0x09, &info.fmc_spl)) < 0)
		goto out;
	r = amd_ext(&crt, hwid_tail, 1, &v, &vl);
	if (r == 0) {
		/* AMD's KDS writes the raw 64 bytes; some issuers wrap them in an
		 * OCTET STRING.  Accept exactly those two forms. */
		if (vl == 66 && v[0] == MBEDTLS_ASN1_OCTET_STRING && v[1] == 64) {
			v += 2;
			vl = 64;
		}
		if (vl != 64) {
			r = -EBADMSG;
			goto out;
		}
		memcpy(info.hwid, v, 64);
		info.has_hwid = true;
	} else if (r != -ENOENT) {
		goto out;
	}
	*ret = info;
	r = 0;
out:
	mbedtls_x509_crt_free(&crt);
	return r;
}

const char *cvm_amd_builtin_pem(enum cvm_amd_gen gen)
{
	switch (gen) {
	case CVM_AMD_GEN_MILAN: return cvm_root_milan_pem;
	case CVM_AMD_GEN_GENOA: return cvm_root_genoa_pem;
	case CVM_AMD_GEN_TURIN: return cvm_root_turin_pem;
	default: return NULL;
	}
}

int cvm_amd_verify_vcek_chain_pem(const uint8_t *der, size_t len, const char *pem, const char **ret_step)
{
	mbedtls_x509_crt roots, vcek;
	const mbedtls_x509_crt *ask, *ark;
	const char *step = NULL;
	int r;

	mbedtls_x509_crt_init(&roots);
	mbedtls_x509_crt_init(&vcek);
	r = -EINVAL;
	if (!pem || mbedtls_x509_crt_parse(&roots, (const unsigned char *)pem, strlen(pem) + 1) != 0 || !roots.next)
		goto out;
	ask = &roots;
	ark = roots.next;
	r = vcek_load(der, len, &vcek);
	if (r < 0)
		goto out;
	r = -EKEYREJECTED;
	if (cvm_x509_signed_by(ark, ark) < 0) {
		step = "ark-self-signature";
		goto out;
	}
	if (cvm_x509_signed_by(ask, ark) < 0) {
		step = "ask-signed-by-ark";
		goto out;
	}
	if (cvm_x509_signed_by(&vcek, ask) < 0) {
		step = "vcek-signed-by-ask";
		goto out;
	}
	r = 0;
out:
	if (r == -EKEYREJECTED && ret_step)
		*ret_step = step;
	mbedtls_x509_crt_free(&roots);
	mbedtls_x509_crt_free(&vcek);
	return r;
}

int cvm_amd_verify_vcek_chain(const uint8_t *der, size_t len, enum cvm_amd_gen gen, const char **ret_step)
{
	const char *pem = cvm_amd_builtin_pem(gen);
	int r;

	if (!pem)
		return -EINVAL;
	r = cvm_amd_verify_vcek_chain_pem(der, len, pem, ret_step);
	/* The compiled-in bundle did not parse: a build defect, not bad input. */
	return r == -EINVAL ? -EIO : r;
}

/* The report stores r and s as 72-byte little-endian numbers. */
static void le_to_be(const uint8_t *in, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

int cvm_snp_report_verify(const struct cvm_snp_report *r, const uint8_t *vcek_der, size_t len)
{
	mbedtls_x509_crt crt;
	uint8_t hash[48], rb[72], sb[72];
	int ret;

	if (r->sig_algo != CVM_SNP_SIG_ALGO_ECDSA_P384_SHA384)
		return -EOPNOTSUPP;
	mbedtls_x509_crt_init(&crt);
	ret = vcek_load(vcek_der, len, &crt);
	if (ret < 0)
		goto out;
	if (!mbedtls_pk_can_do(&crt.pk, MBEDTLS_PK_ECKEY) || mbedtls_pk_get_bitlen(&crt.pk) != 384) {
		ret = -EBADMSG;
		goto out;
	}
	ret = cvm_hash(CVM_HASH_SHA384, r->raw, CVM_SNP_SIGNED_SIZE, hash);
	if (ret < 0)
		goto out;
	le_to_be(r->sig_r, 72, rb);
	le_to_be(r->sig_s, 72, sb);
	ret = cvm_ecdsa_verify_rs(&crt.pk, MBEDTLS_MD_SHA384, hash, sizeof(hash), rb, sizeof(rb), sb, sizeof(sb));
out:
	mbedtls_x509_crt_free(&crt);
	return ret;
}
