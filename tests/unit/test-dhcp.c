/* net/dhcp.c: message layout per RFC 2131 §2 / RFC 2132, option parsing
 * (overload, pad, caps), IPv4/UDP framing and checksums, malformed input. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cvmkit/dhcp.h"
#include "cvmkit/net.h"
#include "testutil.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* The OFFER of the DHCP example on Wikipedia ("Dynamic Host Configuration
 * Protocol", DHCP offer), laid out by hand from RFC 2131 Figure 1. */
static size_t build_offer(uint8_t *b, size_t size)
{
	static const uint8_t opts[] = {
		99, 130, 83, 99,                 /* magic cookie */
		53, 1, 2,                        /* DHCPOFFER */
		0, 0,                            /* pad */
		1, 4, 255, 255, 255, 0,          /* subnet mask */
		3, 4, 192, 168, 1, 1,            /* router */
		51, 4, 0x00, 0x01, 0x51, 0x80,   /* lease 86400 s */
		54, 4, 192, 168, 1, 1,           /* server id */
		6, 16, 9, 7, 10, 15, 9, 7, 10, 16, 9, 7, 10, 18, 1, 1, 1, 1, /* 4 DNS servers */
		200, 3, 'x', 'y', 'z',           /* unknown option: skipped */
		255,
	};

	assert_true(size >= 236 + sizeof(opts));
	memset(b, 0, 236);
	b[0] = 2;                                /* BOOTREPLY */
	b[1] = 1;                                /* Ethernet */
	b[2] = 6;
	b[4] = 0x39, b[5] = 0x03, b[6] = 0xf3, b[7] = 0x26; /* xid */
	b[16] = 192, b[17] = 168, b[18] = 1, b[19] = 100;   /* yiaddr */
	b[20] = 192, b[21] = 168, b[22] = 1, b[23] = 1;     /* siaddr */
	memcpy(b + 28, mac, 6);
	memcpy(b + 236, opts, sizeof(opts));
	return 236 + sizeof(opts);
}

static void parse_offer(void **state)
{
	uint8_t b[512];
	size_t n = build_offer(b, sizeof(b));
	struct cvm_dhcp_msg m;

	assert_int_equal(cvm_dhcp_parse(b, n, &m), 0);
	assert_int_equal(m.op, 2);
	assert_int_equal(m.xid, 0x3903f326);
	assert_int_equal(m.type, CVM_DHCP_OFFER);
	assert_int_equal(m.yiaddr, ip("192.168.1.100"));
	assert_int_equal(m.siaddr, ip("192.168.1.1"));
	assert_memory_equal(m.chaddr, mac, 6);
	assert_int_equal(m.subnet_mask, ip("255.255.255.0"));
	assert_int_equal(m.router, ip("192.168.1.1"));
	assert_int_equal(m.server_id, ip("192.168.1.1"));
	assert_int_equal(m.lease_time, 86400);
	assert_int_equal(m.n_dns, 3); /* capped at CVM_NET_MAX_DNS */
	assert_int_equal(m.dns[0], ip("9.7.10.15"));
	assert_int_equal(m.dns[2], ip("9.7.10.18"));
	assert_int_equal(m.have, CVM_DHCP_HAVE_MASK | CVM_DHCP_HAVE_ROUTER | CVM_DHCP_HAVE_DNS | CVM_DHCP_HAVE_LEASE |
					 CVM_DHCP_HAVE_SERVER_ID);
}

static void build_discover_and_request(void **state)
{
	uint8_t b[CVM_DHCP_BUILD_SIZE + 8];
	struct cvm_dhcp_msg m;
	int n;

	n = cvm_dhcp_build(CVM_DHCP_DISCOVER, 0x01020304, mac, 3, 0, 0, b, sizeof(b));
	assert_int_equal(n, 300);
	/* RFC 2131 Figure 1 offsets. */
	assert_int_equal(b[0], 1);
	assert_int_equal(b[1], 1);
	assert_int_equal(b[2], 6);
	assert_int_equal(b[3], 0);
	assert_memory_equal(b + 4, "\x01\x02\x03\x04", 4);
	assert_memory_equal(b + 8, "\x00\x03", 2);                  /* secs */
	assert_memory_equal(b + 10, "\x80\x00", 2);                 /* broadcast flag */
	assert_memory_equal(b + 12, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16); /* ciaddr..giaddr */
	assert_memory_equal(b + 28, mac, 6);
	assert_memory_equal(b + 236, "\x63\x82\x53\x63", 4);
	assert_memory_equal(b + 240, "\x35\x01\x01", 3);            /* option 53 first (RFC 2131 §4.1 advice) */
	assert_memory_equal(b + 243, "\x3d\x07\x01\x52\x54\x00\x12\x34\x56", 9); /* client id: type 1 + MAC */
	assert_memory_equal(b + 252, "\x37\x05\x01\x03\x06\x33\x36\xff", 8);      /* PRL 1,3,6,51,54; end */
	assert_int_equal(cvm_dhcp_parse(b, (size_t)n, &m), 0);
	assert_int_equal(m.type, CVM_DHCP_DISCOVER);
	assert_int_equal(m.op, 1);

	n = cvm_dhcp_build(CVM_DHCP_REQUEST, 7, mac, 0, ip("10.0.2.15"), ip("10.0.2.2"), b, sizeof(b));
	assert_int_equal(n, 300);
	assert_memory_equal(b + 252, "\x32\x04\x0a\x00\x02\x0f\x36\x04\x0a\x00\x02\x02", 12);
	assert_int_equal(cvm_dhcp_parse(b, (size_t)n, &m), 0);
	assert_int_equal(m.type, CVM_DHCP_REQUEST);
	assert_int_equal(m.requested_ip, ip("10.0.2.15"));
	assert_int_equal(m.server_id, ip("10.0.2.2"));

	assert_int_equal(cvm_dhcp_build(CVM_DHCP_OFFER, 7, mac, 0, 0, 0, b, sizeof(b)), -EINVAL);
	assert_int_equal(cvm_dhcp_build(CVM_DHCP_DISCOVER, 7, mac, 0, 0, 0, b, 299), -ENOBUFS);
}

static void overload(void **state)
{
	uint8_t b[512];
	size_t n = build_offer(b, sizeof(b));
	struct cvm_dhcp_msg m;

	/* Move the router option into the 'file' field (overload = 1). */
	memcpy(b + 108, "\x03\x04\x0a\x00\x00\x01\xff", 7);
	n = 236 + 4;
	memcpy(b + n, "\x35\x01\x05\x34\x01\x01\x36\x04\x0a\x00\x00\x02\xff", 13);
	n += 13;
	assert_int_equal(cvm_dhcp_parse(b, n, &m), 0);
	assert_int_equal(m.type, CVM_DHCP_ACK);
	assert_int_equal(m.router, ip("10.0.0.1"));
	assert_int_equal(m.server_id, ip("10.0.0.2"));
	/* sname (overload = 2) is not read unless announced. */
	memcpy(b + 44, "\x01\x04\xff\xff\x00\x00\xff", 7);
	assert_int_equal(cvm_dhcp_parse(b, n, &m), 0);
	assert_false(m.have & CVM_DHCP_HAVE_MASK);
	b[245] = 3; /* overload = 3: file and sname */
	assert_int_equal(cvm_dhcp_parse(b, n, &m), 0);
	assert_int_equal(m.subnet_mask, ip("255.255.0.0"));
}

static void malformed(void **state)
{
	uint8_t b[2048], c[2048];
	size_t n = build_offer(b, sizeof(b));
	struct cvm_dhcp_msg m;

	assert_int_equal(cvm_dhcp_parse(b, 239, &m), -EBADMSG);
	assert_int_equal(cvm_dhcp_parse(b, 0, &m), -EBADMSG);
	memset(c, 0, sizeof(c));
	memcpy(c, b, n);
	assert_int_equal(cvm_dhcp_parse(c, 1501, &m), -EMSGSIZE);
	assert_int_equal(cvm_dhcp_parse(c, 1500, &m), 0); /* trailing zeros are pad */

#define CORRUPT(off, val, want)                                \
	do {                                                   \
		memcpy(c, b, n);                               \
		c[off] = (uint8_t)(val);                       \
		assert_int_equal(cvm_dhcp_parse(c, n, &m), want); \
	} while (0)
	CORRUPT(0, 3, -EBADMSG);         /* op */
	CORRUPT(1, 6, -EBADMSG);         /* htype: IEEE 802 */
	CORRUPT(2, 16, -EBADMSG);        /* hlen */
	CORRUPT(236, 0x64, -EBADMSG);    /* magic */
	CORRUPT(241, 2, -EBADMSG);       /* option 53 length 2 */
	CORRUPT(242, 0, -EBADMSG);       /* message type 0 */
	CORRUPT(240, 200, -EBADMSG);     /* option 53 renamed: skipped, so no message type */
#undef CORRUPT
	/* No option 53 at all. */
	memcpy(c, b, n);
	c[240] = 0, c[241] = 0, c[242] = 0;
	assert_int_equal(cvm_dhcp_parse(c, n, &m), -EBADMSG);
	/* DNS option with a length that is not a multiple of 4. */
	memcpy(c, b, n);
	c[240 + 3 + 2 + 6 + 6 + 6 + 6 + 1] = 15;
	assert_int_equal(cvm_dhcp_parse(c, n, &m), -EBADMSG);
	/* An option whose length runs past the end. */
	memcpy(c, b, 244);
	c[240] = 12;
	c[241] = 200;
	assert_int_equal(cvm_dhcp_parse(c, 244, &m), -EBADMSG);
	/* Option code as the last byte, without its length. */
	memcpy(c, b, n);
	c[n - 1] = 6;
	assert_int_equal(cvm_dhcp_parse(c, n, &m), -EBADMSG);
	/* Bad overload value. */
	memcpy(c, b, 240);
	memcpy(c + 240, "\x35\x01\x02\x34\x01\x04\xff", 7);
	assert_int_equal(cvm_dhcp_parse(c, 247, &m), -EBADMSG);
}

/* Independent one's-complement sum of 16-bit words (RFC 1071). */
static uint16_t csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* A server's reply: 10.0.2.2:67 -> 255.255.255.255:68. */
static size_t wrap_reply(const uint8_t *payload, size_t len, uint8_t *f, bool udp_csum)
{
	uint8_t pseudo[12];

	memset(f, 0, 28);
	f[0] = 0x45;
	f[2] = (uint8_t)((len + 28) >> 8), f[3] = (uint8_t)(len + 28);
	f[8] = 64, f[9] = 17;
	f[12] = 10, f[13] = 0, f[14] = 2, f[15] = 2;
	memset(f + 16, 0xff, 4);
	{
		uint16_t c = (uint16_t)~csum(f, 20, 0);
		f[10] = (uint8_t)(c >> 8), f[11] = (uint8_t)c;
	}
	f[21] = 67, f[23] = 68;
	f[24] = (uint8_t)((len + 8) >> 8), f[25] = (uint8_t)(len + 8);
	memcpy(f + 28, payload, len);
	if (udp_csum) {
		uint16_t c;
		memcpy(pseudo, f + 12, 8);
		pseudo[8] = 0, pseudo[9] = 17, pseudo[10] = f[24], pseudo[11] = f[25];
		c = (uint16_t)~csum(f + 20, len + 8, csum(pseudo, 12, 0));
		f[26] = (uint8_t)(c >> 8), f[27] = (uint8_t)c;
	}
	return len + 28;
}

static void frames(void **state)
{
	uint8_t p[512], f[600], msg[CVM_DHCP_BUILD_SIZE];
	size_t n = build_offer(p, sizeof(p)), fl;
	struct cvm_dhcp_msg m;
	int k;

	for (int withsum = 0; withsum < 2; withsum++) {
		fl = wrap_reply(p, n, f, withsum);
		assert_int_equal(cvm_dhcp_parse_frame(f, fl, &m), 0);
		assert_int_equal(m.yiaddr, ip("192.168.1.100"));
		/* Trailing link-layer padding past the IP total length is ignored. */
		memset(f + fl, 0, 16);
		assert_int_equal(cvm_dhcp_parse_frame(f, fl + 16, &m), 0);
		/* Corrupt payload: with a UDP checksum this is caught. */
		f[28 + 16] ^= 1;
		assert_int_equal(cvm_dhcp_parse_frame(f, fl, &m), withsum ? -EBADMSG : 0);
	}
	fl = wrap_reply(p, n, f, true);
	f[8] ^= 1; /* TTL: breaks the header checksum */
	assert_int_equal(cvm_dhcp_parse_frame(f, fl, &m), -EBADMSG);
	fl = wrap_reply(p, n, f, true);
	assert_int_equal(cvm_dhcp_parse_frame(f, fl - 1, &m), -EBADMSG); /* shorter than total length */
	assert_int_equal(cvm_dhcp_parse_frame(f, 19, &m), -EBADMSG);
	f[0] = 0x65;
	assert_int_equal(cvm_dhcp_parse_frame(f, fl, &m), -EBADMSG);     /* IPv6 version nibble */
	fl = wrap_reply(p, n, f, false);
	f[23] = 69;                                                       /* other port: not ours */
	assert_int_equal(cvm_dhcp_parse_frame(f, fl, &m), -ENOMSG);

	/* Our DISCOVER frame: checksums verify independently, and its
	 * IPv4 header matches the one worked out by hand for 328 bytes
	 * (45 00 01 48 00 00 00 00 40 11 79 a6 00000000 ffffffff). */
	k = cvm_dhcp_build(CVM_DHCP_DISCOVER, 1, mac, 0, 0, 0, msg, sizeof(msg));
	assert_int_equal(k, 300);
	k = cvm_dhcp_frame(msg, (size_t)k, f, sizeof(f));
	assert_int_equal(k, 328);
	assert_memory_equal(f, "\x45\x00\x01\x48\x00\x00\x00\x00\x40\x11\x79\xa6\x00\x00\x00\x00\xff\xff\xff\xff", 20);
	assert_memory_equal(f + 20, "\x00\x44\x00\x43\x01\x34", 6);
	{
		uint8_t pseudo[12] = { 0, 0, 0, 0, 255, 255, 255, 255, 0, 17, 0x01, 0x34 };
		assert_int_equal(csum(f + 20, 308, csum(pseudo, 12, 0)), 0xffff);
	}
	/* Client-to-server traffic is not for us. */
	assert_int_equal(cvm_dhcp_parse_frame(f, (size_t)k, &m), -ENOMSG);
	assert_int_equal(cvm_dhcp_frame(msg, 300, f, 327), -ENOBUFS);
}

static void lease_config(void **state)
{
	struct cvm_dhcp_lease l = { .address = ip("10.0.2.15"), .subnet_mask = ip("255.255.255.0"),
				    .router = ip("10.0.2.2"), .dns = { ip("10.0.2.3") }, .n_dns = 1 };
	struct cvm_net_config c;

	assert_int_equal(cvm_dhcp_lease_to_config(&l, "eth0", &c), 0);
	assert_string_equal(c.ifname, "eth0");
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.gateway, ip("10.0.2.2"));
	assert_int_equal(c.n_dns, 1);
	l.subnet_mask = ip("255.0.255.0");
	assert_int_equal(cvm_dhcp_lease_to_config(&l, "eth0", &c), -EINVAL);
	l.subnet_mask = ip("255.255.0.0");
	assert_int_equal(cvm_dhcp_lease_to_config(&l, "a-very-long-ifname0", &c), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_offer),
		cmocka_unit_test(build_discover_and_request),
		cmocka_unit_test(overload),
		cmocka_unit_test(malformed),
		cmocka_unit_test(frames),
		cmocka_unit_test(lease_config),
	};

	return cmocka_run_group_tests_name("dhcp", tests, NULL, NULL);
}
