/* DHCPv4 client.  The interface has no address while this runs, so a UDP
 * socket could not reliably receive the server's reply (the kernel may drop
 * unicast to an address it does not own); an AF_PACKET socket sees the IP
 * packets as they arrive, and we build and check IP/UDP headers ourselves. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cvmkit/bytes.h"
#include "cvmkit/dhcp.h"

#define OFF_CHADDR 28
#define OFF_SNAME 44
#define OFF_FILE 108
#define MAGIC 0x63825363u

enum { OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_REQUESTED = 50, OPT_LEASE = 51,
       OPT_OVERLOAD = 52, OPT_TYPE = 53, OPT_SERVER_ID = 54, OPT_PRL = 55, OPT_CLIENT_ID = 61, OPT_END = 255 };

static int want_len(uint8_t got, uint8_t want) { return got == want ? 0 : -EBADMSG; }

/* Walks one option area; *overload collects option 52 (only honoured in the
 * main options field, as RFC 2131 §4.1 allows it nowhere else). */
static int parse_options(const uint8_t *p, size_t n, struct cvm_dhcp_msg *m, uint8_t *overload)
{
	size_t i = 0;

	while (i < n) {
		uint8_t code = p[i], l;
		const uint8_t *v;

		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			return 0;
		if (n - i < 2 || (size_t)p[i + 1] > n - i - 2)
			return -EBADMSG;
		l = p[i + 1];
		v = p + i + 2;
		i += 2 + (size_t)l;
		switch (code) {
		case OPT_TYPE:
			if (want_len(l, 1) < 0 || v[0] < CVM_DHCP_DISCOVER || v[0] > CVM_DHCP_RELEASE + 1)
				return -EBADMSG;
			m->type = v[0];
			break;
		case OPT_MASK:
			if (want_len(l, 4) < 0)
				return -EBADMSG;
			memcpy(&m->subnet_mask, v, 4);
			m->have |= CVM_DHCP_HAVE_MASK;
			break;
		case OPT_ROUTER:
			if (l < 4 || l % 4)
				return -EBADMSG;
			if (!(m->have & CVM_DHCP_HAVE_ROUTER)) {
				memcpy(&m->router, v, 4);
				m->have |= CVM_DHCP_HAVE_ROUTER;
			}
			break;
		case OPT_DNS:
			if (l < 4 || l % 4)
				return -EBADMSG;
			for (size_t k = 0; k < l / 4u && m->n_dns < CVM_NET_MAX_DNS; k++)
				memcpy(&m->dns[m->n_dns++], v + 4 * k, 4);
			m->have |= CVM_DHCP_HAVE_DNS;
			break;
		case OPT_LEASE:
			if (want_len(l, 4) < 0)
				return -EBADMSG;
			m->lease_time = cvm_be32(v);
			m->have |= CVM_DHCP_HAVE_LEASE;
			break;
		case OPT_SERVER_ID:
			if (want_len(l, 4) < 0)
				return -EBADMSG;
			memcpy(&m->server_id, v, 4);
			m->have |= CVM_DHCP_HAVE_SERVER_ID;
			break;
		case OPT_REQUESTED:
			if (want_len(l, 4) < 0)
				return -EBADMSG;
			memcpy(&m->requested_ip, v, 4);
			m->have |= CVM_DHCP_HAVE_REQUESTED;
			break;
		case OPT_OVERLOAD:
			if (want_len(l, 1) < 0 || v[0] < 1 || v[0] > 3)
				return -EBADMSG;
			if (overload)
				*overload = v[0];
			break;
		default:
			break;
		}
	}
	/* A missing end option is tolerated: the buffer's end bounds the walk. */
	return 0;
}

int cvm_dhcp_parse(const uint8_t *buf, size_t len, struct cvm_dhcp_msg *ret)
{
	struct cvm_dhcp_msg m;
	uint8_t overload = 0;
	int r;

	if (len > CVM_DHCP_MAX_SIZE)
		return -EMSGSIZE;
	if (len < CVM_DHCP_MIN_SIZE)
		return -EBADMSG;
	if ((buf[0] != 1 && buf[0] != 2) || buf[1] != 1 || buf[2] != 6 || cvm_be32(buf + 236) != MAGIC)
		return -EBADMSG;
	memset(&m, 0, sizeof(m));
	m.op = buf[0];
	m.xid = cvm_be32(buf + 4);
	m.flags = cvm_be16(buf + 10);
	memcpy(&m.ciaddr, buf + 12, 4);
	memcpy(&m.yiaddr, buf + 16, 4);
	memcpy(&m.siaddr, buf + 20, 4);
	memcpy(&m.giaddr, buf + 24, 4);
	memcpy(m.chaddr, buf + OFF_CHADDR, 6);
	r = parse_options(buf + CVM_DHCP_MIN_SIZE, len - CVM_DHCP_MIN_SIZE, &m, &overload);
	if (r < 0)
		return r;
	if (overload & 1) {
		r = parse_options(buf + OFF_FILE, 128, &m, NULL);
		if (r < 0)
			return r;
	}
	if (overload & 2) {
		r = parse_options(buf + OFF_SNAME, 64, &m, NULL);
		if (r < 0)
			return r;
	}
	if (!m.type)
		return -EBADMSG;
	*ret = m;
	return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += cvm_be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
	uint8_t pseudo[12];
	uint16_t c;

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	cvm_put_be16(pseudo + 10, (uint16_t)udp_len);
	c = (uint16_t)~fold(sum16(udp, udp_len, sum16(pseudo, 12, 0)));
	return c ? c : 0xffff;
}

int cvm_dhcp_parse_frame(const uint8_t *buf, size_t len, struct cvm_dhcp_msg *ret)
{
	size_t ihl, total, ulen;
	const uint8_t *udp;

	if (len < 20 || buf[0] >> 4 != 4)
		return -EBADMSG;
	ihl = (size_t)(buf[0] & 0xf) * 4;
	total = cvm_be16(buf + 2);
	if (ihl < 20 || total < ihl || total > len)
		return -EBADMSG;
	if (fold(sum16(buf, ihl, 0)) != 0xffff)
		return -EBADMSG;
	if (buf[9] != 17)
		return -ENOMSG;
	if (cvm_be16(buf + 6) & 0x3fff)
		return -ENOMSG; /* a fragment: DHCP replies fit one packet */
	if (total - ihl < 8)
		return -EBADMSG;
	udp = buf + ihl;
	if (cvm_be16(udp + 2) != 68)
		return -ENOMSG;
	ulen = cvm_be16(udp + 4);
	if (ulen < 8 || ulen > total - ihl)
		return -EBADMSG;
	if (cvm_be16(udp + 6)) {
		/* Summing pseudo header and datagram, checksum included, gives all ones. */
		uint8_t pseudo[12];

		memcpy(pseudo, buf + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = 17;
		cvm_put_be16(pseudo + 10, (uint16_t)ulen);
		if (fold(sum16(udp, ulen, sum16(pseudo, 12, 0))) != 0xffff)
			return -EBADMSG;
	}
	return cvm_dhcp_parse(udp + 8, ulen - 8, ret);
}

int cvm_dhcp_build(uint8_t type, uint32_t xid, const uint8_t mac[6], uint16_t secs, uint32_t requested_ip,
		   uint32_t server_id, uint8_t *buf, size_t size)
{
	static const uint8_t prl[] = { OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE, OPT_SERVER_ID };
	size_t o = CVM_DHCP_MIN_SIZE;

	if (type != CVM_DHCP_DISCOVER && type != CVM_DHCP_REQUEST && type != CVM_DHCP_RELEASE)
		return -EINVAL;
	if (size < CVM_DHCP_BUILD_SIZE)
		return -ENOBUFS;
	memset(buf, 0, CVM_DHCP_BUILD_SIZE);
	buf[0] = 1;
	buf[1] = 1;
	buf[2] = 6;
	cvm_put_be32(buf + 4, xid);
	cvm_put_be16(buf + 8, secs);
	/* Ask for broadcast replies: we cannot receive unicast before we own an address. */
	cvm_put_be16(buf + 10, 0x8000);
	memcpy(buf + OFF_CHADDR, mac, 6);
	cvm_put_be32(buf + 236, MAGIC);
	buf[o++] = OPT_TYPE;
	buf[o++] = 1;
	buf[o++] = type;
	buf[o++] = OPT_CLIENT_ID;
	buf[o++] = 7;
	buf[o++] = 1;
	memcpy(buf + o, mac, 6);
	o += 6;
	if (requested_ip) {
		buf[o++] = OPT_REQUESTED;
		buf[o++] = 4;
		memcpy(buf + o, &requested_ip, 4);
		o += 4;
	}
	if (server_id) {
		buf[o++] = OPT_SERVER_ID;
		buf[o++] = 4;
		memcpy(buf + o, &server_id, 4);
		o += 4;
	}
	buf[o++] = OPT_PRL;
	buf[o++] = sizeof(prl);
	memcpy(buf + o, prl, sizeof(prl));
	o += sizeof(prl);
	buf[o++] = OPT_END;
	/* BOOTP relays expect at least 300 bytes (RFC 1542); the rest stays pad. */
	return CVM_DHCP_BUILD_SIZE;
}

int cvm_dhcp_frame(const uint8_t *payload, size_t len, uint8_t *buf, size_t size)
{
	uint8_t *ip = buf, *udp = buf + 20;

	if (len > CVM_DHCP_MAX_SIZE)
		return -EMSGSIZE;
	if (size < len + 28)
		return -ENOBUFS;
	memset(buf, 0, 28);
	ip[0] = 0x45;
	cvm_put_be16(ip + 2, (uint16_t)(len + 28));
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	cvm_put_be16(ip + 10, (uint16_t)~fold(sum16(ip, 20, 0)));
	cvm_put_be16(udp, 68);
	cvm_put_be16(udp + 2, 67);
	cvm_put_be16(udp + 4, (uint16_t)(len + 8));
	memcpy(udp + 8, payload, len);
	cvm_put_be16(udp + 6, udp_checksum(ip, udp, len + 8));
	return (int)(len + 28);
}

struct link {
	int fd;
	int ifindex;
	const uint8_t *mac;
	uint64_t start_ms;
};

static int send_msg(struct link *l, uint8_t type, uint32_t xid, uint32_t requested, uint32_t server)
{
	uint8_t msg[CVM_DHCP_BUILD_SIZE], frame[CVM_DHCP_FRAME_BUILD_SIZE];
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = l->ifindex,
				  .sll_halen = 6 };
	uint64_t secs = (cvm_net_now_ms() - l->start_ms) / 1000;
	int n;

	memset(to.sll_addr, 0xff, 6);
	n = cvm_dhcp_build(type, xid, l->mac, secs > 0xffff ? 0xffff : (uint16_t)secs, requested, server, msg,
			   sizeof(msg));
	if (n < 0)
		return n;
	n = cvm_dhcp_frame(msg, (size_t)n, frame, sizeof(frame));
	if (n < 0)
		return n;
	if (sendto(l->fd, frame, (size_t)n, 0, (const struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* Waits for a reply of one of the wanted types to xid; -ETIMEDOUT at until_ms. */
static int recv_reply(struct link *l, uint32_t xid, uint8_t want1, uint8_t want2, uint64_t until_ms,
		      struct cvm_dhcp_msg *ret)
{
	uint8_t buf[2048];

	for (;;) {
		struct cvm_dhcp_msg m;
		ssize_t n;
		int r = cvm_net_wait(l->fd, POLLIN, until_ms);

		if (r < 0)
			return r;
		n = recv(l->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (cvm_dhcp_parse_frame(buf, (size_t)n, &m) < 0)
			continue;
		if (m.op != 2 || m.xid != xid || memcmp(m.chaddr, l->mac, 6) || (m.type != want1 && m.type != want2))
			continue;
		*ret = m;
		return 0;
	}
}

int cvm_dhcp_acquire(const char *ifname, const uint8_t mac[6], uint64_t deadline_ms, struct cvm_dhcp_lease *ret)
{
	struct link l = { .fd = -1, .mac = mac, .start_ms = cvm_net_now_ms() };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	uint64_t wait_ms = 1000;
	int r;

	l.ifindex = (int)if_nametoindex(ifname);
	if (!l.ifindex)
		return -errno;
	l.fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (l.fd < 0)
		return -errno;
	sll.sll_ifindex = l.ifindex;
	if (bind(l.fd, (const struct sockaddr *)&sll, sizeof(sll)) < 0) {
		r = -errno;
		goto out;
	}
	r = -ETIMEDOUT;
	while (cvm_net_remaining_ms(deadline_ms) > 0) {
		struct cvm_dhcp_msg offer, ack;
		uint64_t until = cvm_net_deadline(wait_ms);
		uint32_t xid;

		if (until > deadline_ms)
			until = deadline_ms;
		if (getrandom(&xid, sizeof(xid), 0) != sizeof(xid))
			xid = (uint32_t)cvm_net_now_ms() ^ 0x5a5a5a5au;
		r = send_msg(&l, CVM_DHCP_DISCOVER, xid, 0, 0);
		if (r < 0)
			goto out;
		wait_ms = wait_ms * 2 > 8000 ? 8000 : wait_ms * 2;
		r = recv_reply(&l, xid, CVM_DHCP_OFFER, CVM_DHCP_OFFER, until, &offer);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			goto out;
		if (!offer.yiaddr || !(offer.have & CVM_DHCP_HAVE_SERVER_ID)) {
			r = -ETIMEDOUT;
			continue;
		}
		r = send_msg(&l, CVM_DHCP_REQUEST, xid, offer.yiaddr, offer.server_id);
		if (r < 0)
			goto out;
		until = cvm_net_deadline(4000);
		if (until > deadline_ms)
			until = deadline_ms;
		r = recv_reply(&l, xid, CVM_DHCP_ACK, CVM_DHCP_NAK, until, &ack);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0)
			goto out;
		if (ack.type == CVM_DHCP_NAK || !ack.yiaddr) {
			r = -ETIMEDOUT;
			continue;
		}
		memset(ret, 0, sizeof(*ret));
		ret->address = ack.yiaddr;
		ret->subnet_mask = ack.have & CVM_DHCP_HAVE_MASK ? ack.subnet_mask : 0;
		if (!ret->subnet_mask) {
			uint8_t a = ((const uint8_t *)&ack.yiaddr)[0];
			ret->subnet_mask = cvm_net_prefix_to_mask(a < 128 ? 8 : a < 192 ? 16 : 24);
		}
		ret->router = ack.have & CVM_DHCP_HAVE_ROUTER ? ack.router : 0;
		memcpy(ret->dns, ack.dns, sizeof(ret->dns));
		ret->n_dns = ack.n_dns;
		ret->lease_time = ack.have & CVM_DHCP_HAVE_LEASE ? ack.lease_time : 0xffffffffu;
		ret->server_id = offer.server_id;
		r = 0;
		goto out;
	}
	r = -ETIMEDOUT;
out:
	close(l.fd);
	return r;
}

int cvm_dhcp_lease_to_config(const struct cvm_dhcp_lease *lease, const char *ifname, struct cvm_net_config *ret)
{
	struct cvm_net_config c;
	int prefix = cvm_net_mask_to_prefix(lease->subnet_mask);

	if (prefix < 1 || !lease->address || lease->n_dns > CVM_NET_MAX_DNS)
		return -EINVAL;
	if (strlen(ifname) >= sizeof(c.ifname))
		return -ENAMETOOLONG;
	memset(&c, 0, sizeof(c));
	memcpy(c.ifname, ifname, strlen(ifname) + 1);
	c.address = lease->address;
	c.prefix = (unsigned)prefix;
	c.gateway = lease->router;
	memcpy(c.dns, lease->dns, sizeof(c.dns));
	c.n_dns = lease->n_dns;
	*ret = c;
	return 0;
}
