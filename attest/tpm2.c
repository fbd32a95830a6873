/* TPM 2.0 commands for Azure vTPM evidence, marshalled by hand (Part 3
 * command layouts).  Responses come from a device or a socket we do not
 * control, so every field is read through reader.h, which latches an error
 * instead of reading past the received bytes, and every parser must consume
 * its parameter area exactly. */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cvmkit/bytes.h"
#include "cvmkit/tpm2.h"
#include "reader.h"

#define ST_NO_SESSIONS 0x8001
#define ST_SESSIONS 0x8002
#define HDR 10

#define CC_NV_UNDEFINE_SPACE 0x122
#define CC_NV_DEFINE_SPACE 0x12A
#define CC_NV_WRITE 0x137
#define CC_NV_READ 0x14E
#define CC_QUOTE 0x158
#define CC_NV_READ_PUBLIC 0x169
#define CC_READ_PUBLIC 0x173
#define CC_GET_CAPABILITY 0x17A
#define CC_GET_RANDOM 0x17B
#define CC_PCR_READ 0x17E
#define CC_PCR_EXTEND 0x182

#define CAP_TPM_PROPERTIES 6
#define NV_CHUNK_FALLBACK 512
#define PCR_READ_ATTEMPTS 3

/* ---------------------------------------------------------------- marshalling */

struct wr {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void w_bytes(struct wr *w, const void *b, size_t n)
{
	if (w->err || n > w->cap - w->len) {
		w->err = -E2BIG;
		return;
	}
	if (n)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void w_u8(struct wr *w, uint8_t v) { w_bytes(w, &v, 1); }
static void w_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2];
	cvm_put_be16(b, v);
	w_bytes(w, b, 2);
}
static void w_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4];
	cvm_put_be32(b, v);
	w_bytes(w, b, 4);
}
static void w_tpm2b(struct wr *w, const uint8_t *b, size_t n)
{
	if (n > UINT16_MAX) {
		w->err = -E2BIG;
		return;
	}
	w_u16(w, (uint16_t)n);
	w_bytes(w, b, n);
}

/* An empty-password session (TPM_RS_PW): the only authorization we use. */
static void w_pw_auth(struct wr *w)
{
	w_u32(w, 9);
	w_u32(w, CVM_TPM2_RS_PW);
	w_u16(w, 0); /* nonceCaller */
	w_u8(w, 0);  /* sessionAttributes */
	w_u16(w, 0); /* hmac = empty password */
}

static void w_begin(struct wr *w, struct cvm_tpm2 *t, bool sessions, uint32_t cc)
{
	*w = (struct wr){ .p = t->cmd, .cap = sizeof(t->cmd) };
	w_u16(w, sessions ? ST_SESSIONS : ST_NO_SESSIONS);
	w_u32(w, 0); /* patched by execute() */
	w_u32(w, cc);
}

static size_t digest_size(uint16_t alg)
{
	switch (alg) {
	case CVM_TPM2_ALG_SHA1: return 20;
	case CVM_TPM2_ALG_SHA256: return 32;
	case CVM_TPM2_ALG_SHA384: return 48;
	case CVM_TPM2_ALG_SHA512: return 64;
	default: return 0;
	}
}

/* ---------------------------------------------------------------- response codes */

/* The codes the command layer maps to an errno; their names and explanations
 * are in tpm2rc.c, which only host tools link. */
#define RC_FMT1 0x080u
#define RC_VER1 0x100u
#define RC_HANDLE (RC_FMT1 + 0x00B)
#define RC_NV_DEFINED (RC_VER1 + 0x04C)

/* ---------------------------------------------------------------- transports */

static int io_read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (k == 0)
			return -ECONNRESET;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int io_write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The kernel's character device takes one whole command per write() and
 * returns one whole response per read(). */
static int dev_transact(void *userdata, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t cap)
{
	struct cvm_tpm2 *t = userdata;
	ssize_t k;
	int r = io_write_full(t->fd, cmd, cmd_len);

	if (r < 0)
		return r;
	do
		k = read(t->fd, resp, cap);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	return (int)k;
}

/* swtpm's TCP server is a byte stream: the response size comes from its
 * header. */
static int tcp_transact(void *userdata, const uint8_t *cmd, size_t cmd_len, uint8_t *resp, size_t cap)
{
	struct cvm_tpm2 *t = userdata;
	uint32_t size;
	int r = io_write_full(t->fd, cmd, cmd_len);

	if (r < 0)
		return r;
	r = io_read_full(t->fd, resp, HDR);
	if (r < 0)
		return r;
	size = cvm_be32(resp + 2);
	if (size < HDR || size > cap)
		return -EPROTO;
	r = io_read_full(t->fd, resp + HDR, size - HDR);
	if (r < 0)
		return r;
	return (int)size;
}

/* Numeric addresses only, parsed with inet_pton: getaddrinfo would pull
 * musl's whole resolver into the static init for nothing. */
static int open_tcp(const char *hostport, int *ret_fd)
{
	char host[64], *end;
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { .tv_sec = 120 };
	socklen_t sl;
	unsigned long port;
	size_t hl;
	int fd, r;

	if (!colon || colon == hostport || !colon[1])
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - hostport);
	if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
		hostport++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A simulator that stops answering must not hang the caller forever. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int cvm_tpm2_open(const char *spec, struct cvm_tpm2 *ret)
{
	int fd = -1, r;
	bool tcp = false;

	if (!spec || !*spec)
		return -EINVAL;
	if (strncmp(spec, "tcp:", 4) == 0) {
		r = open_tcp(spec + 4, &fd);
		if (r < 0)
			return r;
		tcp = true;
	} else {
		if (strncmp(spec, "device:", 7) == 0)
			spec += 7;
		if (!*spec)
			return -EINVAL;
		fd = open(spec, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	memset(ret, 0, sizeof(*ret));
	ret->fd = fd;
	ret->transact = tcp ? tcp_transact : dev_transact;
	ret->userdata = ret;
	return 0;
}

void cvm_tpm2_open_custom(cvm_tpm2_transact_fn fn, void *userdata, struct cvm_tpm2 *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->fd = -1;
	ret->transact = fn;
	ret->userdata = userdata;
}

void cvm_tpm2_close(struct cvm_tpm2 *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->transact = NULL;
}

/* ---------------------------------------------------------------- execution */

/* Sends the command in t->cmd (w->len bytes) and checks the response frame.
 * On success *params covers the response parameters (after nhandles handles
 * and, for a session command, the parameterSize), and the password-session
 * response area has been checked. */
static int execute(struct cvm_tpm2 *t, struct wr *w, bool sessions, size_t nhandles, struct rd *params)
{
	struct rd r;
	uint16_t tag;
	uint32_t size, rc;
	int n;

	if (w->err)
		return w->err;
	if (!t->transact)
		return -EBADF;
	cvm_put_be32(t->cmd + 2, (uint32_t)w->len);
	n = t->transact(t->userdata, t->cmd, w->len, t->resp, sizeof(t->resp));
	if (n < 0)
		return n;
	if ((size_t)n < HDR || (size_t)n > sizeof(t->resp))
		return -EPROTO;
	r = rd_init(t->resp, (size_t)n);
	tag = rd_be16(&r);
	size = rd_be32(&r);
	rc = rd_be32(&r);
	if (size != (uint32_t)n || (tag != ST_NO_SESSIONS && tag != ST_SESSIONS))
		return -EPROTO;
	t->last_rc = rc;
	if (rc != 0) {
		if ((rc & (RC_FMT1 | 0x3F)) == RC_HANDLE)
			return -ENOENT;
		if ((rc & 0xFFF) == RC_NV_DEFINED)
			return -EEXIST;
		return -EREMOTEIO;
	}
	if (tag != (sessions ? ST_SESSIONS : ST_NO_SESSIONS))
		return -EPROTO;
	for (size_t i = 0; i < nhandles; i++)
		(void)rd_be32(&r);
	if (sessions) {
		uint32_t psize = rd_be32(&r);
		size_t nl, hl;

		*params = rd_sub(&r, psize);
		/* One TPMS_AUTH_RESPONSE for the password session: empty nonce
		 * and hmac. */
		(void)rd_tpm2b(&r, 64, &nl);
		(void)rd_u8(&r);
		(void)rd_tpm2b(&r, 64, &hl);
		if (!rd_done(&r) || nl || hl)
			return -EPROTO;
	} else {
		*params = rd_sub(&r, r.len - r.off);
	}
	if (r.err || params->err)
		return -EPROTO;
	return 0;
}

int cvm_tpm2_get_random(struct cvm_tpm2 *t, uint8_t *out, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct wr w;
		struct rd p;
		size_t want = len - done < 32 ? len - done : 32, n;
		const uint8_t *b;
		int r;

		w_begin(&w, t, false, CC_GET_RANDOM);
		w_u16(&w, (uint16_t)want);
		r = execute(t, &w, false, 0, &p);
		if (r < 0)
			return r;
		b = rd_tpm2b(&p, want, &n);
		if (!b || !rd_done(&p) || n == 0)
			return -EPROTO;
		memcpy(out + done, b, n);
		done += n;
	}
	return 0;
}

int cvm_tpm2_get_property(struct cvm_tpm2 *t, uint32_t property, uint32_t *ret_value)
{
	struct wr w;
	struct rd p;
	uint32_t cap, count, prop, value;
	int r;

	w_begin(&w, t, false, CC_GET_CAPABILITY);
	w_u32(&w, CAP_TPM_PROPERTIES);
	w_u32(&w, property);
	w_u32(&w, 1);
	r = execute(t, &w, false, 0, &p);
	if (r < 0)
		return r;
	(void)rd_u8(&p); /* moreData */
	cap = rd_be32(&p);
	count = rd_be32(&p);
	if (p.err || cap != CAP_TPM_PROPERTIES || count > 1)
		return -EPROTO;
	if (count == 0)
		return rd_done(&p) ? -ENOENT : -EPROTO;
	prop = rd_be32(&p);
	value = rd_be32(&p);
	if (!rd_done(&p))
		return -EPROTO;
	/* A TPM answers with the next property when the one asked for does
	 * not exist. */
	if (prop != property)
		return -ENOENT;
	*ret_value = value;
	return 0;
}

static void w_pcr_selection(struct wr *w, uint16_t hash_alg, uint32_t mask)
{
	w_u32(w, 1);
	w_u16(w, hash_alg);
	w_u8(w, 3);
	w_u8(w, (uint8_t)mask);
	w_u8(w, (uint8_t)(mask >> 8));
	w_u8(w, (uint8_t)(mask >> 16));
}

static int pcr_read_once(struct cvm_tpm2 *t, uint16_t hash_alg, uint32_t mask, uint8_t (*out)[64])
{
	size_t dsize = digest_size(hash_alg);
	uint32_t remaining = mask, counter = 0;
	bool first = true;

	while (remaining) {
		struct wr w;
		struct rd p;
		uint32_t cnt, got = 0, ndig, c;
		uint8_t sz;
		int r;

		w_begin(&w, t, false, CC_PCR_READ);
		w_pcr_selection(&w, hash_alg, remaining);
		r = execute(t, &w, false, 0, &p);
		if (r < 0)
			return r;
		c = rd_be32(&p);
		cnt = rd_be32(&p);
		if (p.err || cnt > 1)
			return -EPROTO;
		if (cnt == 1) {
			if (rd_be16(&p) != hash_alg)
				return -EPROTO;
			sz = rd_u8(&p);
			if (sz > 4)
				return -EPROTO;
			for (unsigned i = 0; i < sz; i++)
				got |= (uint32_t)rd_u8(&p) << (8 * i);
		}
		ndig = rd_be32(&p);
		if (p.err || (got & ~remaining) || ndig != (uint32_t)__builtin_popcount(got) || ndig > 8)
			return -EPROTO;
		if (got == 0)
			return first ? -EOPNOTSUPP : -EPROTO;
		for (unsigned i = 0; i < CVM_TPM2_PCR_COUNT; i++) {
			size_t n;
			const uint8_t *d;

			if (!(got & (1u << i)))
				continue;
			d = rd_tpm2b(&p, 64, &n);
			if (!d || n != dsize)
				return -EPROTO;
			memcpy(out[i], d, n);
		}
		if (!rd_done(&p))
			return -EPROTO;
		if (!first && c != counter)
			return -EAGAIN;
		counter = c;
		first = false;
		remaining &= ~got;
	}
	return 0;
}

int cvm_tpm2_pcr_read(struct cvm_tpm2 *t, uint16_t hash_alg, uint32_t mask, uint8_t (*out)[64])
{
	uint8_t tmp[CVM_TPM2_PCR_COUNT][64];
	int r = -EAGAIN;

	if (!digest_size(hash_alg) || mask == 0 || mask >> CVM_TPM2_PCR_COUNT)
		return -EINVAL;
	for (int i = 0; i < PCR_READ_ATTEMPTS && r == -EAGAIN; i++)
		r = pcr_read_once(t, hash_alg, mask, tmp);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < CVM_TPM2_PCR_COUNT; i++)
		if (mask & (1u << i))
			memcpy(out[i], tmp[i], 64);
	return 0;
}

/* TPMT_SYM_DEF_OBJECT: algorithm, then keyBits and mode unless NULL. */
static void skip_sym_def(struct rd *p)
{
	if (rd_be16(p) != CVM_TPM2_ALG_NULL) {
		(void)rd_be16(p);
		(void)rd_be16(p);
	}
}

static int parse_rsa_public(struct rd *b, struct cvm_tpm2_public *k)
{
	size_t n;

	skip_sym_def(b);
	k->scheme = rd_be16(b);
	k->scheme_hash = CVM_TPM2_ALG_NULL;
	/* Every RSA scheme but NULL and RSAES carries a hash algorithm. */
	if (k->scheme != CVM_TPM2_ALG_NULL && k->scheme != 0x0015)
		k->scheme_hash = rd_be16(b);
	k->key_bits = rd_be16(b);
	k->exponent = rd_be32(b);
	rd_copy2b(b, k->n, sizeof(k->n), &n);
	k->n_len = n;
	if (!rd_done(b) || k->n_len * 8 != k->key_bits)
		return -EPROTO;
	return 0;
}

int cvm_tpm2_read_public(struct cvm_tpm2 *t, uint32_t handle, struct cvm_tpm2_public *ret)
{
	struct cvm_tpm2_public k = { 0 };
	struct wr w;
	struct rd p, b;
	size_t n;
	int r;

	w_begin(&w, t, false, CC_READ_PUBLIC);
	w_u32(&w, handle);
	r = execute(t, &w, false, 0, &p);
	if (r < 0)
		return r;
	b = rd_sub(&p, rd_be16(&p));
	k.type = rd_be16(&b);
	k.name_alg = rd_be16(&b);
	k.attributes = rd_be32(&b);
	(void)rd_tpm2b(&b, 64, &n); /* authPolicy */
	if (b.err)
		return -EPROTO;
	if (k.type == CVM_TPM2_ALG_RSA) {
		r = parse_rsa_public(&b, &k);
		if (r < 0)
			return r;
	}
	rd_copy2b(&p, k.name, sizeof(k.name), &k.name_len);
	rd_copy2b(&p, k.qualified_name, sizeof(k.qualified_name), &k.qualified_name_len);
	if (!rd_done(&p))
		return -EPROTO;
	*ret = k;
	return 0;
}

int cvm_tpm2_nv_read_public(struct cvm_tpm2 *t, uint32_t index, struct cvm_tpm2_nv_public *ret)
{
	struct cvm_tpm2_nv_public nv;
	struct wr w;
	struct rd p, b;
	size_t n;
	int r;

	w_begin(&w, t, false, CC_NV_READ_PUBLIC);
	w_u32(&w, index);
	r = execute(t, &w, false, 0, &p);
	if (r < 0)
		return r;
	b = rd_sub(&p, rd_be16(&p));
	nv.index = rd_be32(&b);
	nv.name_alg = rd_be16(&b);
	nv.attributes = rd_be32(&b);
	(void)rd_tpm2b(&b, 64, &n);
	nv.data_size = rd_be16(&b);
	(void)rd_tpm2b(&p, 68, &n); /* nvName */
	if (!rd_done(&b) || !rd_done(&p) || nv.index != index)
		return -EPROTO;
	*ret = nv;
	return 0;
}

static int nv_chunk(struct cvm_tpm2 *t, size_t *ret)
{
	uint32_t v;
	int r;

	if (!t->nv_buffer_max) {
		r = cvm_tpm2_get_property(t, CVM_TPM2_PT_NV_BUFFER_MAX, &v);
		if (r == -ENOENT)
			v = NV_CHUNK_FALLBACK;
		else if (r < 0)
			return r;
		/* Our buffer holds 4 KiB; a TPM claiming 0 would loop forever. */
		if (v == 0)
			return -EPROTO;
		t->nv_buffer_max = (uint16_t)(v > 2048 ? 2048 : v);
	}
	*ret = t->nv_buffer_max;
	return 0;
}

int cvm_tpm2_nv_read(struct cvm_tpm2 *t, uint32_t auth_handle, uint32_t index, uint16_t offset, uint8_t *out,
		     size_t len)
{
	size_t chunk, done = 0;
	uint8_t *tmp;
	int r;

	if ((size_t)offset + len > UINT16_MAX)
		return -EINVAL;
	r = nv_chunk(t, &chunk);
	if (r < 0)
		return r;
	tmp = malloc(len ? len : 1);
	if (!tmp)
		return -ENOMEM;
	while (done < len) {
		struct wr w;
		struct rd p;
		size_t want = len - done < chunk ? len - done : chunk, n;
		const uint8_t *d;

		w_begin(&w, t, true, CC_NV_READ);
		w_u32(&w, auth_handle);
		w_u32(&w, index);
		w_pw_auth(&w);
		w_u16(&w, (uint16_t)want);
		w_u16(&w, (uint16_t)(offset + done));
		r = execute(t, &w, true, 0, &p);
		if (r < 0)
			goto out;
		d = rd_tpm2b(&p, want, &n);
		if (!d || !rd_done(&p) || n != want) {
			r = -EPROTO;
			goto out;
		}
		memcpy(tmp + done, d, n);
		done += n;
	}
	if (len)
		memcpy(out, tmp, len);
	r = 0;
out:
	free(tmp);
	return r;
}

int cvm_tpm2_nv_define(struct cvm_tpm2 *t, uint32_t index, uint32_t attributes, uint16_t size)
{
	struct wr w;
	struct rd p;
	int r;

	w_begin(&w, t, true, CC_NV_DEFINE_SPACE);
	w_u32(&w, CVM_TPM2_RH_OWNER);
	w_pw_auth(&w);
	w_u16(&w, 0);  /* auth: empty */
	w_u16(&w, 14); /* TPM2B_NV_PUBLIC size */
	w_u32(&w, index);
	w_u16(&w, CVM_TPM2_ALG_SHA256);
	w_u32(&w, attributes);
	w_u16(&w, 0); /* authPolicy: empty */
	w_u16(&w, size);
	r = execute(t, &w, true, 0, &p);
	if (r < 0)
		return r;
	return rd_done(&p) ? 0 : -EPROTO;
}

int cvm_tpm2_nv_undefine(struct cvm_tpm2 *t, uint32_t index)
{
	struct wr w;
	struct rd p;
	int r;

	w_begin(&w, t, true, CC_NV_UNDEFINE_SPACE);
	w_u32(&w, CVM_TPM2_RH_OWNER);
	w_u32(&w, index);
	w_pw_auth(&w);
	r = execute(t, &w, true, 0, &p);
	if (r < 0)
		return r;
	return rd_done(&p) ? 0 : -EPROTO;
}

int cvm_tpm2_nv_write(struct cvm_tpm2 *t, uint32_t auth_handle, uint32_t index, uint16_t offset,
		      const uint8_t *data, size_t len)
{
	size_t chunk, done = 0;
	int r;

	if ((size_t)offset + len > UINT16_MAX)
		return -EINVAL;
	r = nv_chunk(t, &chunk);
	if (r < 0)
		return r;
	while (done < len) {
		struct wr w;
		struct rd p;
		size_t n = len - done < chunk ? len - done : chunk;

		w_begin(&w, t, true, CC_NV_WRITE);
		w_u32(&w, auth_handle);
		w_u32(&w, index);
		w_pw_auth(&w);
		w_tpm2b(&w, data + done, n);
		w_u16(&w, (uint16_t)(offset + done));
		r = execute(t, &w, true, 0, &p);
		if (r < 0)
			return r;
		if (!rd_done(&p))
			return -EPROTO;
		done += n;
	}
	return 0;
}

int cvm_tpm2_pcr_extend(struct cvm_tpm2 *t, unsigned pcr, uint16_t hash_alg, const uint8_t *digest)
{
	struct wr w;
	struct rd p;
	size_t n = digest_size(hash_alg);
	int r;

	if (pcr >= CVM_TPM2_PCR_COUNT || !n)
		return -EINVAL;
	w_begin(&w, t, true, CC_PCR_EXTEND);
	w_u32(&w, pcr); /* a PCR's handle is its index */
	w_pw_auth(&w);
	w_u32(&w, 1); /* TPML_DIGEST_VALUES: this one bank only */
	w_u16(&w, hash_alg);
	w_bytes(&w, digest, n);
	r = execute(t, &w, true, 0, &p);
	if (r < 0)
		return r;
	return rd_done(&p) ? 0 : -EPROTO;
}

int cvm_tpm2_quote(struct cvm_tpm2 *t, uint32_t sign_handle, const uint8_t *nonce, size_t nonce_len,
		   uint16_t hash_alg, uint32_t mask, struct cvm_tpm2_quote *ret)
{
	struct cvm_tpm2_quote q = { 0 };
	struct wr w;
	struct rd p;
	int r;

	if (nonce_len > 64 || !digest_size(hash_alg) || mask == 0 || mask >> CVM_TPM2_PCR_COUNT)
		return -EINVAL;
	w_begin(&w, t, true, CC_QUOTE);
	w_u32(&w, sign_handle);
	w_pw_auth(&w);
	w_tpm2b(&w, nonce, nonce_len);
	w_u16(&w, CVM_TPM2_ALG_NULL); /* inScheme: the key's own */
	w_pcr_selection(&w, hash_alg, mask);
	r = execute(t, &w, true, 0, &p);
	if (r < 0)
		return r;
	rd_copy2b(&p, q.attest, sizeof(q.attest), &q.attest_len);
	q.sig_alg = rd_be16(&p);
	switch (q.sig_alg) {
	case CVM_TPM2_ALG_RSASSA:
	case CVM_TPM2_ALG_RSAPSS:
		q.sig_hash = rd_be16(&p);
		rd_copy2b(&p, q.sig, sizeof(q.sig), &q.sig_len);
		break;
	case CVM_TPM2_ALG_ECDSA: {
		size_t rl, sl, m;
		const uint8_t *rb, *sb;

		q.sig_hash = rd_be16(&p);
		rb = rd_tpm2b(&p, 66, &rl);
		sb = rd_tpm2b(&p, 66, &sl);
		if (p.err)
			return -EPROTO;
		m = rl > sl ? rl : sl;
		memcpy(q.sig + (m - rl), rb, rl);
		memcpy(q.sig + m + (m - sl), sb, sl);
		q.sig_len = 2 * m;
		break;
	}
	default:
		return -EPROTO;
	}
	if (!rd_done(&p) || q.attest_len == 0 || q.sig_len == 0)
		return -EPROTO;
	*ret = q;
	return 0;
}
