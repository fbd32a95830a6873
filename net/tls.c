/* TLS client over mbedtls.  The socket stays non-blocking; the BIO callbacks
 * poll up to the caller's deadline, so a stalled server can never hold a
 * handshake or a read longer than the deadline. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "cvmkit/ct.h"
#include "cvmkit/hash.h"
#include "cvmkit/net.h"
#include "cvmkit/tls.h"

#define MAX_CA_SIZE (256u * 1024)

struct cvm_tls {
	int fd;
	uint64_t deadline_ms;
	int io_err;               /* the errno behind the last failed BIO call */
	bool has_ca, has_pin, ssl_ready;
	uint8_t pin[32];
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
};

static int getrandom_entropy(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	while (len) {
		ssize_t n = getrandom(out, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct cvm_tls *t = ctx;

	for (;;) {
		ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);
		int r;

		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			t->io_err = errno == EPIPE ? -ECONNRESET : -errno;
			return MBEDTLS_ERR_NET_SEND_FAILED;
		}
		r = cvm_net_wait(t->fd, POLLOUT, t->deadline_ms);
		if (r < 0) {
			t->io_err = r;
			return MBEDTLS_ERR_NET_SEND_FAILED;
		}
	}
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct cvm_tls *t = ctx;

	for (;;) {
		ssize_t n = recv(t->fd, buf, len, 0);
		int r;

		if (n >= 0)
			return (int)n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			t->io_err = -errno;
			return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
		}
		r = cvm_net_wait(t->fd, POLLIN, t->deadline_ms);
		if (r < 0) {
			t->io_err = r;
			return MBEDTLS_ERR_NET_RECV_FAILED;
		}
	}
}

static int map_error(const struct cvm_tls *t, int e)
{
	if (t->io_err)
		return t->io_err;
	switch (e) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		return -EKEYREJECTED;
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_NET_CONN_RESET:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		return -ECONNRESET;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
	case MBEDTLS_ERR_X509_ALLOC_FAILED:
		return -ENOMEM;
	default:
		return -EPROTO;
	}
}

/* mbedtls wants PEM NUL-terminated and counted with the NUL. */
static int parse_certs(mbedtls_x509_crt *crt, const uint8_t *buf, size_t len)
{
	uint8_t *copy;
	int r;

	if (!len || len > MAX_CA_SIZE)
		return -EINVAL;
	if (len >= 10 && !memcmp(buf, "-----BEGIN", 10)) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
		copy[len] = 0;
		r = mbedtls_x509_crt_parse(crt, copy, len + 1);
		free(copy);
	} else {
		r = mbedtls_x509_crt_parse_der(crt, buf, len);
	}
	return r == 0 ? 0 : r == MBEDTLS_ERR_X509_ALLOC_FAILED ? -ENOMEM : -EINVAL;
}

static int spki_digest(mbedtls_pk_context *pk, uint8_t out[32])
{
	unsigned char der[2048];
	int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));

	if (n <= 0)
		return -EINVAL;
	/* The DER is written at the end of the buffer. */
	return cvm_hash(CVM_HASH_SHA256, der + sizeof(der) - n, (size_t)n, out);
}

int cvm_tls_spki_sha256(const uint8_t *cert, size_t len, uint8_t ret_digest[32])
{
	mbedtls_x509_crt crt;
	uint8_t d[32];
	int r;

	mbedtls_x509_crt_init(&crt);
	r = parse_certs(&crt, cert, len);
	if (r < 0)
		goto out;
	r = spki_digest(&crt.pk, d);
	if (r < 0)
		goto out;
	memcpy(ret_digest, d, 32);
out:
	mbedtls_x509_crt_free(&crt);
	return r;
}

static int version_of(uint16_t v, uint16_t def, mbedtls_ssl_protocol_version *ret)
{
	if (!v)
		v = def;
	if (v == CVM_TLS_1_2)
		*ret = MBEDTLS_SSL_VERSION_TLS1_2;
	else if (v == CVM_TLS_1_3)
		*ret = MBEDTLS_SSL_VERSION_TLS1_3;
	else
		return -EINVAL;
	return 0;
}

void cvm_tls_free(struct cvm_tls *t)
{
	if (!t)
		return;
	/* Best effort close_notify: never wait for it. */
	t->deadline_ms = 0;
	if (t->ssl_ready)
		(void)mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_x509_crt_free(&t->ca);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

int cvm_tls_connect(int fd, const struct cvm_tls_options *opt, uint64_t deadline_ms, struct cvm_tls **ret)
{
	static const char pers[] = "cvmkit-tls";
	mbedtls_ssl_protocol_version vmin, vmax;
	struct cvm_tls *t = NULL;
	int r, e;

	if ((!opt->ca && !opt->pin_sha256) || (opt->ca && (!opt->server_name || !opt->server_name[0])))
		return -EINVAL;
	if (version_of(opt->min_version, CVM_TLS_1_2, &vmin) < 0 || version_of(opt->max_version, CVM_TLS_1_3, &vmax) < 0 ||
	    vmin > vmax)
		return -EINVAL;
	if (psa_crypto_init() != PSA_SUCCESS)
		return -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = fd;
	t->deadline_ms = deadline_ms;
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_x509_crt_init(&t->ca);
	if (opt->ca) {
		r = parse_certs(&t->ca, opt->ca, opt->ca_len);
		if (r < 0)
			goto out;
		t->has_ca = true;
	}
	if (opt->pin_sha256) {
		memcpy(t->pin, opt->pin_sha256, 32);
		t->has_pin = true;
	}
	r = -EIO;
	if (mbedtls_ctr_drbg_seed(&t->drbg, getrandom_entropy, NULL, (const unsigned char *)pers, sizeof(pers) - 1))
		goto out;
	r = -ENOMEM;
	if (mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT))
		goto out;
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_tls_version(&t->conf, vmin);
	mbedtls_ssl_conf_max_tls_version(&t->conf, vmax);
	if (t->has_ca) {
		mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	} else {
		/* Pin only: the chain is not judged, the key is compared below.  The
		 * handshake still proves the server holds that key. */
		mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
	}
	if (mbedtls_ssl_setup(&t->ssl, &t->conf))
		goto out;
	if (mbedtls_ssl_set_hostname(&t->ssl, opt->server_name && opt->server_name[0] ? opt->server_name : NULL))
		goto out;
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	do
		e = mbedtls_ssl_handshake(&t->ssl);
	while (e == MBEDTLS_ERR_SSL_WANT_READ || e == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (e) {
		r = map_error(t, e);
		goto out;
	}
	t->ssl_ready = true;
	if (t->has_pin) {
		const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
		uint8_t d[32];

		r = -EKEYREJECTED;
		if (!peer || spki_digest((mbedtls_pk_context *)&peer->pk, d) < 0 || !cvm_ct_equal(d, t->pin, 32))
			goto out;
	}
	*ret = t;
	return 0;
out:
	cvm_tls_free(t);
	return r;
}

int cvm_tls_write(struct cvm_tls *t, const void *buf, size_t len, uint64_t deadline_ms)
{
	const unsigned char *p = buf;

	t->deadline_ms = deadline_ms;
	t->io_err = 0;
	while (len) {
		int n = mbedtls_ssl_write(&t->ssl, p, len);

		if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (n < 0)
			return map_error(t, n);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t cvm_tls_read(struct cvm_tls *t, void *buf, size_t len, uint64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
	t->io_err = 0;
	for (;;) {
		int n = mbedtls_ssl_read(&t->ssl, buf, len);

		if (n >= 0)
			return n;
		switch (n) {
		case MBEDTLS_ERR_SSL_WANT_READ:
		case MBEDTLS_ERR_SSL_WANT_WRITE:
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
		case MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET:
#endif
			continue;
		case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
		case MBEDTLS_ERR_SSL_CONN_EOF:
			return 0;
		default:
			return map_error(t, n);
		}
	}
}

uint16_t cvm_tls_version(const struct cvm_tls *t)
{
	return mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3 ? CVM_TLS_1_3 : CVM_TLS_1_2;
}
