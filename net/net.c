/* Interface bring-up with the classic ioctls: the init needs one address and
 * one default route, which rtnetlink would only make longer. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cvmkit/fileio.h"
#include "cvmkit/net.h"

uint64_t cvm_net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cvm_net_deadline(uint64_t timeout_ms)
{
	uint64_t now = cvm_net_now_ms();

	return timeout_ms > UINT64_MAX - now ? UINT64_MAX : now + timeout_ms;
}

int cvm_net_remaining_ms(uint64_t deadline_ms)
{
	uint64_t now = cvm_net_now_ms();

	if (now >= deadline_ms)
		return 0;
	return deadline_ms - now > INT32_MAX ? INT32_MAX : (int)(deadline_ms - now);
}

int cvm_net_sleep_until(uint64_t ms, uint64_t deadline_ms)
{
	uint64_t left = (uint64_t)cvm_net_remaining_ms(deadline_ms);
	uint64_t t = ms < left ? ms : left;
	struct timespec ts = { (time_t)(t / 1000), (long)(t % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return ms < left ? 0 : -ETIMEDOUT;
}

int cvm_net_parse_ipv4(const char *s, uint32_t *ret_addr)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || digits > 3 || v > 255)
			return -EINVAL;
		b[i] = (uint8_t)v;
		if (i < 3 && *s++ != '.')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	memcpy(ret_addr, b, 4);
	return 0;
}

int cvm_net_parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix)
{
	char tmp[32];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long p;
	uint32_t a;

	if (!slash || (size_t)(slash - s) >= sizeof(tmp) || !slash[1] || slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	memcpy(tmp, s, (size_t)(slash - s));
	tmp[slash - s] = 0;
	if (cvm_net_parse_ipv4(tmp, &a) < 0)
		return -EINVAL;
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (errno || *end || p > 32)
		return -EINVAL;
	*ret_addr = a;
	*ret_prefix = (unsigned)p;
	return 0;
}

uint32_t cvm_net_prefix_to_mask(unsigned prefix)
{
	if (prefix > 32)
		prefix = 32;
	return htonl(prefix ? 0xffffffffu << (32 - prefix) : 0);
}

int cvm_net_mask_to_prefix(uint32_t mask)
{
	uint32_t m = ntohl(mask);
	int n = 0;

	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	if (n < 32 && (m << n))
		return -EINVAL;
	return n;
}

int cvm_net_find_interface(const char *sysfs_class_net, uint64_t deadline_ms, char ret_ifname[CVM_NET_IFNAMSIZ])
{
	const char *dir = sysfs_class_net ? sysfs_class_net : "/sys/class/net";

	for (;;) {
		char best[256] = "";
		DIR *d = opendir(dir);
		struct dirent *e;

		if (d) {
			while ((e = readdir(d))) {
				if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
					continue;
				if (!best[0] || strcmp(e->d_name, best) < 0)
					snprintf(best, sizeof(best), "%s", e->d_name);
			}
			closedir(d);
		}
		if (best[0]) {
			if (strlen(best) >= CVM_NET_IFNAMSIZ)
				return -ENAMETOOLONG;
			memcpy(ret_ifname, best, strlen(best) + 1);
			return 0;
		}
		if (cvm_net_sleep_until(50, deadline_ms) < 0)
			return -ETIMEDOUT;
	}
}

static int ifreq_for(const char *ifname, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	if (strlen(ifname) >= sizeof(ifr->ifr_name))
		return -ENAMETOOLONG;
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	return 0;
}

int cvm_net_link_up(const char *ifname, uint8_t ret_mac[6])
{
	struct ifreq ifr;
	int fd = -1, r;

	r = ifreq_for(ifname, &ifr);
	if (r < 0)
		goto out;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	memcpy(ret_mac, ifr.ifr_hwaddr.sa_data, 6);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	memcpy(sa, &sin, sizeof(sin));
}

int cvm_net_configure(const struct cvm_net_config *cfg)
{
	struct ifreq ifr;
	struct rtentry rt;
	int fd = -1, r;

	if (!cfg->address || cfg->prefix < 1 || cfg->prefix > 32)
		return -EINVAL;
	r = ifreq_for(cfg->ifname, &ifr);
	if (r < 0)
		goto out;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	set_sin(&ifr.ifr_addr, cfg->address);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	set_sin(&ifr.ifr_netmask, cvm_net_prefix_to_mask(cfg->prefix));
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	/* Setting the address can clear IFF_UP on some drivers; make sure. */
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		r = -errno;
		goto out;
	}
	if (cfg->gateway) {
		memset(&rt, 0, sizeof(rt));
		set_sin(&rt.rt_dst, 0);
		set_sin(&rt.rt_genmask, 0);
		set_sin(&rt.rt_gateway, cfg->gateway);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_dev = (char *)cfg->ifname;
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			r = -errno;
			goto out;
		}
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int cvm_net_render_resolv_conf(const struct cvm_net_config *cfg, char *buf, size_t size)
{
	size_t off = 0;
	int n;

	for (size_t i = 0; i < cfg->n_dns && i < CVM_NET_MAX_DNS; i++) {
		const uint8_t *b = (const uint8_t *)&cfg->dns[i];

		n = snprintf(buf + off, size - off, "nameserver %u.%u.%u.%u\n", b[0], b[1], b[2], b[3]);
		if (n < 0 || (size_t)n >= size - off)
			return -ENOBUFS;
		off += (size_t)n;
	}
	n = snprintf(buf + off, size - off, "options timeout:2 attempts:2\n");
	if (n < 0 || (size_t)n >= size - off)
		return -ENOBUFS;
	return (int)(off + (size_t)n);
}

int cvm_net_write_resolv_conf(const struct cvm_net_config *cfg)
{
	char text[256];
	int n, r;

	if (!cfg->n_dns)
		return 0;
	n = cvm_net_render_resolv_conf(cfg, text, sizeof(text));
	if (n < 0)
		return n;
	r = cvm_write_file_atomic("/run/resolv.conf", text, (size_t)n, 0644);
	if (r < 0)
		return r;
	/* /etc may be read-only; /run/resolv.conf is then the record. */
	(void)cvm_write_file_atomic("/etc/resolv.conf", text, (size_t)n, 0644);
	return 0;
}

int cvm_net_wait(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, cvm_net_remaining_ms(deadline_ms));

		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int connect_one(const struct sockaddr_in *sin, uint64_t deadline_ms, int *ret_fd)
{
	int fd, r, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			goto out;
		}
		r = cvm_net_wait(fd, POLLOUT, deadline_ms);
		if (r < 0)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
			r = -errno;
			goto out;
		}
		if (err) {
			r = -err;
			goto out;
		}
	}
	*ret_fd = fd;
	return 0;
out:
	close(fd);
	return r;
}

int cvm_net_tcp_connect(const char *host, uint16_t port, uint64_t deadline_ms, int *ret_fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	uint32_t a;
	int r;

	if (cvm_net_parse_ipv4(host, &a) == 0) {
		sin.sin_addr.s_addr = a;
		return connect_one(&sin, deadline_ms, ret_fd);
	}
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0)
		return r == EAI_SYSTEM ? -errno : (r == EAI_AGAIN ? -EAGAIN : -ENOENT);
	r = -ENOENT;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET || ai->ai_addrlen < sizeof(sin))
			continue;
		sin.sin_addr = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
		r = connect_one(&sin, deadline_ms, ret_fd);
		if (r == 0 || r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	return r;
}
