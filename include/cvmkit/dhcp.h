/* DHCPv4 client (RFC 2131 / RFC 2132): DISCOVER, OFFER, REQUEST, ACK.
 *
 * Two layers:
 *  - a message builder and a parser of untrusted bytes (no allocation, no
 *    I/O; the parser never reads outside buf[0..len) and caps its work), and
 *  - cvm_dhcp_acquire(), which runs the exchange on one interface over an
 *    AF_PACKET socket (the interface has no address yet, so the IP and UDP
 *    headers are built and checked here), with bounded retries and backoff.
 *
 * Addresses are uint32_t in network byte order, as in <cvmkit/net.h>.
 * Functions return 0 (or a length) or a negative errno and never print. */
#ifndef CVMKIT_DHCP_H
#define CVMKIT_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/net.h"

#define CVM_DHCP_DISCOVER 1
#define CVM_DHCP_OFFER 2
#define CVM_DHCP_REQUEST 3
#define CVM_DHCP_DECLINE 4
#define CVM_DHCP_ACK 5
#define CVM_DHCP_NAK 6
#define CVM_DHCP_RELEASE 7

#define CVM_DHCP_HEADER_SIZE 236      /* fixed BOOTP part, before the magic cookie */
#define CVM_DHCP_MIN_SIZE 240         /* header + magic cookie */
#define CVM_DHCP_MAX_SIZE 1500        /* larger messages are refused (-EMSGSIZE) */
#define CVM_DHCP_BUILD_SIZE 300       /* what cvm_dhcp_build needs at most */
#define CVM_DHCP_FRAME_BUILD_SIZE (CVM_DHCP_BUILD_SIZE + 28)

/* Presence bits of struct cvm_dhcp_msg.have. */
#define CVM_DHCP_HAVE_MASK (1u << 0)
#define CVM_DHCP_HAVE_ROUTER (1u << 1)
#define CVM_DHCP_HAVE_DNS (1u << 2)
#define CVM_DHCP_HAVE_LEASE (1u << 3)
#define CVM_DHCP_HAVE_SERVER_ID (1u << 4)
#define CVM_DHCP_HAVE_REQUESTED (1u << 5)

/* One parsed message.  Fields are copied out of the packet. */
struct cvm_dhcp_msg {
	uint8_t op;                  /* 1 BOOTREQUEST, 2 BOOTREPLY */
	uint32_t xid;                /* host byte order */
	uint16_t flags;              /* host byte order; 0x8000 = broadcast */
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[6];           /* first 6 bytes of chaddr (Ethernet) */
	uint8_t type;                /* option 53 */
	unsigned have;               /* CVM_DHCP_HAVE_* */
	uint32_t subnet_mask;        /* option 1 */
	uint32_t router;             /* option 3, the first router */
	uint32_t dns[CVM_NET_MAX_DNS]; /* option 6, at most the first three */
	size_t n_dns;
	uint32_t lease_time;         /* option 51, seconds, host byte order */
	uint32_t server_id;          /* option 54 */
	uint32_t requested_ip;       /* option 50 */
};

/* Parses a DHCP message (the UDP payload).  Options may use overload
 * (option 52) of file/sname; pad and end are honoured; an option that runs
 * past the buffer, a missing magic cookie or option 53, htype/hlen other than
 * Ethernet, or a wrong-length fixed-size option is -EBADMSG; len below
 * CVM_DHCP_MIN_SIZE is -EBADMSG, above CVM_DHCP_MAX_SIZE -EMSGSIZE. */
int cvm_dhcp_parse(const uint8_t *buf, size_t len, struct cvm_dhcp_msg *ret);

/* Parses an IPv4 packet (as received on an AF_PACKET/SOCK_DGRAM socket):
 * IPv4 header checks (version, IHL, total length, header checksum, not a
 * fragment), UDP to port 68 (UDP checksum verified when non-zero), then
 * cvm_dhcp_parse of the payload.  -ENOMSG for a well-formed packet that is
 * simply not for a DHCP client (other protocol or port), -EBADMSG for a
 * malformed one. */
int cvm_dhcp_parse_frame(const uint8_t *buf, size_t len, struct cvm_dhcp_msg *ret);

/* Builds a client message of type DISCOVER, REQUEST or RELEASE into buf:
 * broadcast flag set, client identifier (61) and parameter request list
 * (subnet mask, router, DNS, lease time, server id); requested_ip (50) and
 * server_id (54) are included when non-zero.  Returns the length, -ENOBUFS
 * when size < CVM_DHCP_BUILD_SIZE, -EINVAL for another type. */
int cvm_dhcp_build(uint8_t type, uint32_t xid, const uint8_t mac[6], uint16_t secs, uint32_t requested_ip,
		   uint32_t server_id, uint8_t *buf, size_t size);

/* Wraps a DHCP payload in IPv4 (0.0.0.0 -> 255.255.255.255, TTL 64, header
 * checksum) and UDP (68 -> 67, checksum) headers.  Returns the frame
 * length, -ENOBUFS when size < len + 28, -EMSGSIZE for len > CVM_DHCP_MAX_SIZE. */
int cvm_dhcp_frame(const uint8_t *payload, size_t len, uint8_t *buf, size_t size);

/* What the server granted. */
struct cvm_dhcp_lease {
	uint32_t address;
	uint32_t subnet_mask;        /* the classful default when the server sent none */
	uint32_t router;             /* 0 when none */
	uint32_t dns[CVM_NET_MAX_DNS];
	size_t n_dns;
	uint32_t lease_time;         /* seconds; 0xffffffff = infinite */
	uint32_t server_id;
};

/* Runs DISCOVER -> OFFER -> REQUEST -> ACK on ifname (which must be up,
 * cvm_net_link_up) until deadline_ms.  DISCOVER is resent after 1, 2, 4, 8 s
 * (capped at 8 s) with a fresh transaction id, while time remains; a NAK
 * restarts from DISCOVER.  Replies for other transaction ids or hardware
 * addresses are ignored.  Needs CAP_NET_RAW.
 * -ETIMEDOUT when no lease was granted in time; socket errors as -errno. */
int cvm_dhcp_acquire(const char *ifname, const uint8_t mac[6], uint64_t deadline_ms, struct cvm_dhcp_lease *ret);

/* Converts a lease into an interface configuration for cvm_net_configure. */
int cvm_dhcp_lease_to_config(const struct cvm_dhcp_lease *lease, const char *ifname, struct cvm_net_config *ret);

#endif
