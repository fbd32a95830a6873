/* net/net.c helpers (addresses, masks, interface discovery, resolv.conf,
 * bounded connects) and the init's [network] configuration keys. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/net.h"
#include "testutil.h"

/* The init's config parser is guest code that the Makefile links only into
 * test-init; compile it into this test too, to check the [network] keys. */
#include "../../init/config.c"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void addresses(void **state)
{
	uint32_t a;
	unsigned p;

	assert_int_equal(cvm_net_parse_ipv4("10.0.2.15", &a), 0);
	assert_int_equal(a, ip("10.0.2.15"));
	assert_int_equal(cvm_net_parse_ipv4("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffffu);
	static const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
				     "1.2.3.0004", "a.b.c.d", "1.2.3.-4", "+1.2.3.4" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cvm_net_parse_ipv4(bad[i], &a) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);

	assert_int_equal(cvm_net_parse_cidr("192.168.1.10/24", &a, &p), 0);
	assert_int_equal(a, ip("192.168.1.10"));
	assert_int_equal(p, 24);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1/0", &a, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1/33", &a, &p), -EINVAL);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1", &a, &p), -EINVAL);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1/", &a, &p), -EINVAL);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1/-1", &a, &p), -EINVAL);
	assert_int_equal(cvm_net_parse_cidr("10.0.0.1/24x", &a, &p), -EINVAL);

	assert_int_equal(cvm_net_prefix_to_mask(24), ip("255.255.255.0"));
	assert_int_equal(cvm_net_prefix_to_mask(0), 0);
	assert_int_equal(cvm_net_prefix_to_mask(32), ip("255.255.255.255"));
	assert_int_equal(cvm_net_prefix_to_mask(17), ip("255.255.128.0"));
	assert_int_equal(cvm_net_mask_to_prefix(ip("255.255.240.0")), 20);
	assert_int_equal(cvm_net_mask_to_prefix(ip("255.255.255.255")), 32);
	assert_int_equal(cvm_net_mask_to_prefix(0), 0);
	assert_int_equal(cvm_net_mask_to_prefix(ip("255.0.255.0")), -EINVAL);
	assert_int_equal(cvm_net_mask_to_prefix(ip("0.255.255.255")), -EINVAL);
}

static void find_interface(void **state)
{
	char *dir = tu_mkdtemp(), p[512], name[CVM_NET_IFNAMSIZ];
	uint64_t t0;

	snprintf(p, sizeof(p), "%s/lo", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	/* Only lo: waits, then gives up at the deadline. */
	t0 = cvm_net_now_ms();
	assert_int_equal(cvm_net_find_interface(dir, cvm_net_deadline(200), name), -ETIMEDOUT);
	assert_true(cvm_net_now_ms() - t0 >= 200);
	assert_true(cvm_net_now_ms() - t0 < 1000);
	snprintf(p, sizeof(p), "%s/eth0", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/enp0s2", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(cvm_net_find_interface(dir, cvm_net_deadline(200), name), 0);
	assert_string_equal(name, "enp0s2");
	tu_rmtree(dir);
	free(dir);
}

static void resolv_conf(void **state)
{
	struct cvm_net_config c = { .n_dns = 2, .dns = { ip("10.0.2.3"), ip("168.63.129.16") } };
	char buf[256];

	assert_int_equal(cvm_net_render_resolv_conf(&c, buf, sizeof(buf)),
			 (int)strlen("nameserver 10.0.2.3\nnameserver 168.63.129.16\noptions timeout:2 attempts:2\n"));
	assert_string_equal(buf, "nameserver 10.0.2.3\nnameserver 168.63.129.16\noptions timeout:2 attempts:2\n");
	assert_int_equal(cvm_net_render_resolv_conf(&c, buf, 30), -ENOBUFS);
}

static void connect_bounded(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fd;

	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	assert_int_equal(cvm_net_tcp_connect("127.0.0.1", ntohs(sin.sin_port), cvm_net_deadline(1000), &fd), 0);
	close(fd);
	/* "localhost" goes through the resolver (/etc/hosts). */
	assert_int_equal(cvm_net_tcp_connect("localhost", ntohs(sin.sin_port), cvm_net_deadline(1000), &fd), 0);
	close(fd);
	close(lfd);
	assert_int_equal(cvm_net_tcp_connect("127.0.0.1", ntohs(sin.sin_port), cvm_net_deadline(1000), &fd),
			 -ECONNREFUSED);
	assert_int_equal(cvm_net_tcp_connect("no-such-host.invalid", 80, cvm_net_deadline(1000), &fd) < 0, 1);
	/* Sleeping never passes the deadline. */
	{
		uint64_t t0 = cvm_net_now_ms();
		assert_int_equal(cvm_net_sleep_until(5000, cvm_net_deadline(100)), -ETIMEDOUT);
		assert_true(cvm_net_now_ms() - t0 < 1000);
		assert_int_equal(cvm_net_sleep_until(10, cvm_net_deadline(1000)), 0);
		assert_int_equal(cvm_net_remaining_ms(0), 0);
	}
}

static int parse(const char *text, struct init_config *c, unsigned *line)
{
	return init_config_parse((const uint8_t *)text, strlen(text), c, line);
}

static void init_network_keys(void **state)
{
	struct init_config c;
	unsigned line = 0;

	assert_int_equal(parse("[workload]\npath=/w\n", &c, NULL), 0);
	assert_int_equal(c.net_mode, INIT_NET_NONE);
	assert_int_equal(c.net_timeout, 30);
	init_config_free(&c);

	assert_int_equal(parse("[workload]\npath=/w\n[network]\nmode = static\naddress = 10.0.2.15/24\n"
			       "gateway = 10.0.2.2\ndns = 10.0.2.3\ndns = 1.1.1.1\ntimeout = 7\ninterface = eth1\n",
			       &c, NULL),
			 0);
	assert_int_equal(c.net_mode, INIT_NET_STATIC);
	assert_int_equal(c.net_address, ip("10.0.2.15"));
	assert_int_equal(c.net_prefix, 24);
	assert_int_equal(c.net_gateway, ip("10.0.2.2"));
	assert_int_equal(c.net_n_dns, 2);
	assert_int_equal(c.net_dns[1], ip("1.1.1.1"));
	assert_int_equal(c.net_timeout, 7);
	assert_string_equal(c.net_interface, "eth1");
	init_config_free(&c);

	assert_int_equal(parse("[workload]\npath=/w\n[network]\nmode = dhcp\n", &c, NULL), 0);
	assert_int_equal(c.net_mode, INIT_NET_DHCP);
	init_config_free(&c);

	assert_int_equal(parse("[workload]\npath=/w\n[network]\nmode = static\n", &c, NULL), -EDESTADDRREQ);
	static const char *bad[] = {
		"mode = auto", "address = 10.0.2.15", "address = 10.0.2.15/0", "address = 10.0.2.15/33",
		"address = 10.0.2/24", "gateway = 10.0.2.256", "dns = ::1", "timeout = 0", "timeout = 3601",
		"timeout = x", "interface = ../x", "interface = abcdefghijklmnop", "hostname = x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "[workload]\npath=/w\n[network]\n%s\n", bad[i]);
		if (parse(text, &c, &line) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(line, 4);
	}
	assert_int_equal(parse("[workload]\npath=/w\n[network]\ndns=1.1.1.1\ndns=1.1.1.2\ndns=1.1.1.3\ndns=1.1.1.4\n",
			       &c, &line),
			 -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses),
		cmocka_unit_test(find_interface),
		cmocka_unit_test(resolv_conf),
		cmocka_unit_test(connect_bounded),
		cmocka_unit_test(init_network_keys),
	};

	return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
