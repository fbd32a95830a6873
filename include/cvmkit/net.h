/* IPv4 networking for the init and host tools: deadlines, address parsing,
 * bringing up the first NIC (link, address, default route), resolv.conf, and
 * TCP connects bounded by a deadline.
 *
 * Every function returns 0 (or a non-negative count) or a negative errno and
 * writes its ret_* arguments only on success.  Nothing here prints.
 * IPv4 addresses are uint32_t in network byte order throughout (as in
 * struct in_addr), so 10.0.2.15 is the bytes 0a 00 02 0f in memory. */
#ifndef CVMKIT_NET_H
#define CVMKIT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVM_NET_IFNAMSIZ 16
#define CVM_NET_MAX_DNS 3

/* Deadlines are absolute CLOCK_MONOTONIC times in milliseconds. */
uint64_t cvm_net_now_ms(void);
/* now + timeout_ms (saturating). */
uint64_t cvm_net_deadline(uint64_t timeout_ms);
/* Milliseconds left before deadline_ms, 0 when it has passed (capped at INT32_MAX for poll()). */
int cvm_net_remaining_ms(uint64_t deadline_ms);
/* Sleeps ms, but never past deadline_ms.  Returns -ETIMEDOUT when the
 * deadline is reached before ms elapsed (after sleeping what was left). */
int cvm_net_sleep_until(uint64_t ms, uint64_t deadline_ms);

/* "a.b.c.d" (exactly four decimal octets, no leading '+', no trailing bytes).
 * -EINVAL otherwise. */
int cvm_net_parse_ipv4(const char *s, uint32_t *ret_addr);
/* "a.b.c.d/N" with 0 <= N <= 32.  -EINVAL otherwise. */
int cvm_net_parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);
/* Netmask of a prefix length (network byte order); prefix > 32 is treated as 32. */
uint32_t cvm_net_prefix_to_mask(unsigned prefix);
/* Prefix length of a contiguous netmask, -EINVAL when not contiguous. */
int cvm_net_mask_to_prefix(uint32_t mask);

/* What an interface is configured with: from DHCP or from the image
 * configuration ("static"). */
struct cvm_net_config {
	char ifname[CVM_NET_IFNAMSIZ];
	uint32_t address;
	unsigned prefix;                /* 1..32 */
	uint32_t gateway;               /* 0: no default route */
	uint32_t dns[CVM_NET_MAX_DNS];
	size_t n_dns;
};

/* Waits (polling /sys/class/net, or sysfs_class_net when non-NULL, every
 * 50 ms) until a network interface other than "lo" exists, and returns the
 * first one in name order.  -ETIMEDOUT when none appeared before deadline_ms;
 * -ENAMETOOLONG for a name that does not fit CVM_NET_IFNAMSIZ. */
int cvm_net_find_interface(const char *sysfs_class_net, uint64_t deadline_ms, char ret_ifname[CVM_NET_IFNAMSIZ]);

/* Sets the interface up (IFF_UP) and returns its 6-byte MAC address. */
int cvm_net_link_up(const char *ifname, uint8_t ret_mac[6]);

/* Assigns address/prefix to cfg->ifname (SIOCSIFADDR, SIOCSIFNETMASK) and
 * adds the default route through cfg->gateway when it is non-zero
 * (SIOCADDRT; an existing identical route is not an error).  Needs
 * CAP_NET_ADMIN: -EPERM otherwise. */
int cvm_net_configure(const struct cvm_net_config *cfg);

/* Renders resolv.conf text ("nameserver a.b.c.d" per server, plus
 * "options timeout:2 attempts:2" so a resolver stays bounded) into buf.
 * Returns the length (without NUL), -ENOBUFS when size is too small. */
int cvm_net_render_resolv_conf(const struct cvm_net_config *cfg, char *buf, size_t size);

/* Writes the rendered resolv.conf to /run/resolv.conf, then to
 * /etc/resolv.conf when that can be written (a read-only /etc is not an
 * error).  Nothing is written when cfg has no DNS server. */
int cvm_net_write_resolv_conf(const struct cvm_net_config *cfg);

/* Opens a TCP connection to host:port before deadline_ms.  host is an IPv4
 * literal, or a name resolved with getaddrinfo (bounded by the resolver's own
 * timeouts, which cvm_net_render_resolv_conf keeps short).  The returned
 * socket is non-blocking and close-on-exec; the caller closes it.
 * -ETIMEDOUT, -ECONNREFUSED, -ENETUNREACH, -EHOSTUNREACH, -ENOENT (name not
 * found), or another socket errno. */
int cvm_net_tcp_connect(const char *host, uint16_t port, uint64_t deadline_ms, int *ret_fd);

/* Waits until fd is ready for events (POLLIN/POLLOUT) or deadline_ms passes:
 * 0 ready, -ETIMEDOUT, or poll's errno. */
int cvm_net_wait(int fd, short events, uint64_t deadline_ms);

#endif
