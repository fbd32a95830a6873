/* TLS client over mbedtls 3.6 (TLS 1.3 and 1.2) on a connected TCP socket.
 *
 * Server authentication is mandatory and comes from the caller (the image
 * configuration, which is measured):
 *  - a CA certificate (PEM or DER, one or more): the chain must verify to it
 *    and the leaf must name server_name (DNS name or IP address in the
 *    subjectAltName; CN only when the certificate has no SAN), and/or
 *  - a pinned public key: the SHA-256 of the leaf's DER SubjectPublicKeyInfo
 *    (what `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER |
 *    sha256sum` prints).  With a pin and no CA, the pin alone authenticates
 *    the server (names and validity dates are not checked: the key is the
 *    identity); with both, both must hold.
 * Neither given is -EINVAL: there is no "insecure" mode.  Randomness comes
 * from getrandom().
 *
 * A struct cvm_tls is heap-allocated by cvm_tls_connect and owned by the
 * caller until cvm_tls_free (which does not close the socket).  Every I/O
 * call takes an absolute deadline (CLOCK_MONOTONIC ms, <cvmkit/net.h>).
 * Nothing here prints. */
#ifndef CVMKIT_TLS_H
#define CVMKIT_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CVM_TLS_1_2 0x0303
#define CVM_TLS_1_3 0x0304

struct cvm_tls_options {
	const uint8_t *ca;           /* CA certificate(s), PEM or DER; NULL for pin-only */
	size_t ca_len;
	const uint8_t *pin_sha256;   /* 32 bytes, or NULL */
	const char *server_name;     /* name or IP literal to check (and send as SNI); required with ca */
	uint16_t min_version;        /* 0 = CVM_TLS_1_2 */
	uint16_t max_version;        /* 0 = CVM_TLS_1_3 */
};

struct cvm_tls;

/* Handshakes on fd (a connected, non-blocking socket; see
 * cvm_net_tcp_connect) before deadline_ms and authenticates the server.
 * Returns 0 and *ret, or:
 *   -EINVAL        options unusable (no CA and no pin, unparsable CA, bad versions)
 *   -EKEYREJECTED  the server is not who the options say (chain, name or pin)
 *   -ETIMEDOUT     the deadline passed
 *   -ECONNRESET    the peer closed or reset the connection
 *   -EPROTO        any other TLS failure (alert, no common version or cipher)
 *   -ENOMEM */
int cvm_tls_connect(int fd, const struct cvm_tls_options *opt, uint64_t deadline_ms, struct cvm_tls **ret);

/* Writes all len bytes before deadline_ms: 0, -ETIMEDOUT, -ECONNRESET, -EPROTO. */
int cvm_tls_write(struct cvm_tls *t, const void *buf, size_t len, uint64_t deadline_ms);

/* Reads up to len bytes before deadline_ms: the count (> 0), 0 when the peer
 * closed the TLS session (close_notify or TCP EOF), -ETIMEDOUT, -ECONNRESET,
 * -EPROTO. */
ssize_t cvm_tls_read(struct cvm_tls *t, void *buf, size_t len, uint64_t deadline_ms);

/* The negotiated version (CVM_TLS_1_2 or CVM_TLS_1_3). */
uint16_t cvm_tls_version(const struct cvm_tls *t);

/* Sends close_notify (best effort, without waiting) and frees t.  NULL is fine. */
void cvm_tls_free(struct cvm_tls *t);

/* SHA-256 of the DER SubjectPublicKeyInfo of the first certificate in
 * cert (PEM or DER): the value a pin is compared with.  -EINVAL when the
 * certificate does not parse. */
int cvm_tls_spki_sha256(const uint8_t *cert, size_t len, uint8_t ret_digest[32]);

#endif
