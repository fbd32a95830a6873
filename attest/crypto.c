#include <errno.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/rsa.h>

#include "crypto.h"

int cvm_ecdsa_p256_verify_raw(const uint8_t key_xy[64], const uint8_t hash[32], const uint8_t sig_rs[64])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	uint8_t pt[65];
	int ret = -EKEYREJECTED;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	pt[0] = 0x04;
	memcpy(pt + 1, key_xy, 64);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) ||
	    mbedtls_ecp_point_read_binary(&grp, &q, pt, sizeof(pt)) || mbedtls_ecp_check_pubkey(&grp, &q))
		goto out;
	if (mbedtls_mpi_read_binary(&r, sig_rs, 32) || mbedtls_mpi_read_binary(&s, sig_rs + 32, 32))
		goto out;
	if (mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &s) != 0)
		goto out;
	ret = 0;
out:
	mbedtls_ecp_group_free(&grp);
	mbedtls_ecp_point_free(&q);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&s);
	return ret;
}

int cvm_rsa_pkcs1_sha256_verify(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len,
				const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	mbedtls_rsa_context rsa;
	uint8_t hash[32];
	int ret = -EINVAL;

	mbedtls_rsa_init(&rsa);
	/* Leading zero bytes of n do not count towards the key size. */
	while (n_len > 0 && n[0] == 0) {
		n++;
		n_len--;
	}
	if (n_len < 256 || n_len > 512 || e_len == 0 || e_len > 8)
		goto out;
	if (mbedtls_rsa_import_raw(&rsa, n, n_len, NULL, 0, NULL, 0, NULL, 0, e, e_len) ||
	    mbedtls_rsa_complete(&rsa) || mbedtls_rsa_check_pubkey(&rsa))
		goto out;
	ret = -EKEYREJECTED;
	if (sig_len != mbedtls_rsa_get_len(&rsa))
		goto out;
	if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), msg, msg_len, hash))
		goto out;
	if (mbedtls_rsa_pkcs1_verify(&rsa, MBEDTLS_MD_SHA256, 32, hash, sig) != 0)
		goto out;
	ret = 0;
out:
	mbedtls_rsa_free(&rsa);
	return ret;
}
