/* DHCP: the input as a bare DHCP message and as an IPv4/UDP frame. */
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_dhcp_msg m;
	struct cvm_dhcp_lease l = { 0 };
	struct cvm_net_config c;

	if (cvm_dhcp_parse(data, size, &m) == 0) {
		l.address = m.yiaddr;
		l.subnet_mask = m.subnet_mask;
		l.n_dns = m.n_dns;
		(void)cvm_dhcp_lease_to_config(&l, "eth0", &c);
	}
	(void)cvm_dhcp_parse_frame(data, size, &m);
	return 0;
}
