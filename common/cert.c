/* include/cvmkit/cert.h, over mbedtls' X.509 parser: cvm-attest (--vcek),
 * cvm-image and cvm-measure (Secure Boot certificates) take certificates in
 * the same forms.  Host only: the init's one certificate (the VCEK in the
 * THIM answer) is a C string, parsed in place by attest/evidence.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "cvmkit/cert.h"

int cvm_cert_der(const uint8_t *buf, size_t len, uint8_t **ret_buf, size_t *ret_len)
{
	mbedtls_x509_crt crt;
	uint8_t *c = NULL, *d = NULL;
	int r;

	mbedtls_x509_crt_init(&crt);
	/* mbedtls parses PEM only from a buffer counted with its NUL; DER is
	 * parsed as it is (a NUL appended to it would stand in for a missing
	 * last byte of a cut certificate). */
	if (memmem(buf, len, "-----BEGIN", 10)) {
		r = -ENOMEM;
		c = malloc(len + 1);
		if (!c)
			goto out;
		memcpy(c, buf, len);
		c[len] = 0;
	}
	r = -EBADMSG;
	if (c ? mbedtls_x509_crt_parse(&crt, c, len + 1) != 0 : mbedtls_x509_crt_parse_der(&crt, buf, len) != 0)
		goto out;
	r = -ENOMEM;
	d = malloc(crt.raw.len);
	if (!d)
		goto out;
	memcpy(d, crt.raw.p, crt.raw.len);
	*ret_buf = d;
	*ret_len = crt.raw.len;
	r = 0;
out:
	mbedtls_x509_crt_free(&crt);
	free(c);
	return r;
}
