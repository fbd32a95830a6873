/* X.509 certificates as host tools receive them: PEM or DER, one or several.
 * Host only (common/cert.c is in the Makefile's HOST_ONLY_SRCS). */
#ifndef CVMKIT_CERT_H
#define CVMKIT_CERT_H

#include <stddef.h>
#include <stdint.h>

#ifndef CVM_GUEST
/* PEM (one or more CERTIFICATE blocks; no NUL terminator needed) or DER to
 * the DER of the first certificate.  *ret_buf is malloc'd.  Returns 0,
 * -EBADMSG, -ENOMEM. */
int cvm_cert_der(const uint8_t *buf, size_t len, uint8_t **ret_buf, size_t *ret_len);
#endif

#endif
