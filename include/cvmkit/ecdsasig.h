/* ECDSA signature encodings: the fixed-width r || s that COSE (RFC 9053
 * §2.1), JOSE, SEV-SNP reports and TD quotes carry, and the DER
 * ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }, RFC 3279 §2.2.3) that
 * mbedtls_pk_sign() produces and mbedtls_pk_verify() takes.
 *
 * Host tools only (common/ecdsasig.c is in the Makefile's HOST_ONLY_SRCS):
 * it is written against mbedtls' asn1write, which the guest's trimmed
 * mbedtls may lack, and the init never converts signatures. */
#ifndef CVMKIT_ECDSASIG_H
#define CVMKIT_ECDSASIG_H

#include <stddef.h>
#include <stdint.h>

#ifndef CVM_GUEST
/* Longest r or s the conversions take, in bytes, leading zeros included:
 * P-521 needs 66, SEV-SNP reports carry 72-byte fields. */
#define CVM_ECDSA_MAX_HALF 80
/* Room for the DER of two CVM_ECDSA_MAX_HALF-byte integers (each may gain a
 * 0x00 sign byte; the SEQUENCE length then takes two bytes). */
#define CVM_ECDSA_MAX_DER (2 * (2 + CVM_ECDSA_MAX_HALF + 1) + 3)

/* Encodes the big-endian unsigned integers r (r_len bytes) and s (s_len
 * bytes; leading zero bytes allowed) as a DER ECDSA-Sig-Value at the start
 * of buf (cap bytes) and sets *ret_len.  Returns 0; -EINVAL for r or s
 * longer than CVM_ECDSA_MAX_HALF; -ENOBUFS when cap is too small;
 * -ENOMEM.  Nothing is written to *ret_len on failure. */
int cvm_ecdsa_rs_to_der(const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len, uint8_t *buf, size_t cap,
			size_t *ret_len);

/* Decodes a DER ECDSA-Sig-Value (exactly der_len bytes, nothing after it)
 * into r || s, each left-padded with zeros to half bytes (2 * half bytes
 * written to out).  Returns 0; -EINVAL for half 0 or above
 * CVM_ECDSA_MAX_HALF; -EBADMSG for anything but one SEQUENCE of two
 * INTEGERs; -ERANGE for an integer wider than half bytes.  out is written
 * only on success. */
int cvm_ecdsa_der_to_rs(const uint8_t *der, size_t der_len, size_t half, uint8_t *out);
#endif

#endif
