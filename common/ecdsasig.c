/* ECDSA r || s <-> DER ECDSA-Sig-Value (include/cvmkit/ecdsasig.h), over
 * mbedtls' ASN.1 reader and writer so that integer encoding (leading zeros
 * dropped, a 0x00 added before a set high bit) is mbedtls' own. */
#include <errno.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>

#include "cvmkit/ecdsasig.h"

int cvm_ecdsa_rs_to_der(const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len, uint8_t *buf, size_t cap,
			size_t *ret_len)
{
	/* asn1write fills a buffer from its end; the result is moved to buf. */
	unsigned char tmp[CVM_ECDSA_MAX_DER], *p = tmp + sizeof(tmp);
	mbedtls_mpi mr, ms;
	size_t len = 0;
	int n, ret;

	if (r_len > CVM_ECDSA_MAX_HALF || s_len > CVM_ECDSA_MAX_HALF)
		return -EINVAL;
	mbedtls_mpi_init(&mr);
	mbedtls_mpi_init(&ms);
	ret = -ENOMEM;
	if (mbedtls_mpi_read_binary(&mr, r, r_len) || mbedtls_mpi_read_binary(&ms, s, s_len))
		goto out;
	/* tmp holds the largest encoding, so the writer cannot run out of room. */
	ret = -EINVAL;
	if ((n = mbedtls_asn1_write_mpi(&p, tmp, &ms)) < 0)
		goto out;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_mpi(&p, tmp, &mr)) < 0)
		goto out;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_len(&p, tmp, len)) < 0)
		goto out;
	len += (size_t)n;
	if ((n = mbedtls_asn1_write_tag(&p, tmp, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
		goto out;
	len += (size_t)n;
	ret = -ENOBUFS;
	if (len > cap)
		goto out;
	memcpy(buf, p, len);
	*ret_len = len;
	ret = 0;
out:
	mbedtls_mpi_free(&mr);
	mbedtls_mpi_free(&ms);
	return ret;
}

int cvm_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t half, uint8_t *out)
{
	unsigned char *p = (unsigned char *)der, *end = p + der_len;
	uint8_t rs[2 * CVM_ECDSA_MAX_HALF];
	mbedtls_mpi r, s;
	size_t seq;
	int ret;

	if (half == 0 || half > CVM_ECDSA_MAX_HALF)
		return -EINVAL;
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	ret = -EBADMSG;
	if (mbedtls_asn1_get_tag(&p, end, &seq, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
	    seq != (size_t)(end - p) || mbedtls_asn1_get_mpi(&p, end, &r) != 0 ||
	    mbedtls_asn1_get_mpi(&p, end, &s) != 0 || p != end)
		goto out;
	ret = -ERANGE;
	if (mbedtls_mpi_write_binary(&r, rs, half) != 0 || mbedtls_mpi_write_binary(&s, rs + half, half) != 0)
		goto out;
	memcpy(out, rs, 2 * half);
	ret = 0;
out:
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return ret;
}
