/* WireServer answers: the input as a versions list and as a goal state; a
 * goal state that parses must also render into a health report. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/wireserver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cvm_wireserver_versions v;
	struct cvm_wireserver_goalstate g;
	char body[2048];

	if (cvm_wireserver_parse_versions(data, size, &v) == 0)
		(void)cvm_wireserver_pick_version(&v);
	if (cvm_wireserver_parse_goalstate(data, size, &g) == 0 &&
	    cvm_wireserver_build_health(&g, body, sizeof(body)) < 0)
		abort(); /* every parsed goal state fits: ids are capped at 255 bytes, escaped at most 6x */
	return 0;
}
