/* cvm-measure's option parsing. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/pcr.h"

#include "cli.h"

/* "0,4,9" or "0-7,11"; 0 or -EINVAL. */
int parse_pcr_list(const char *arg, bool sel[CVM_PCR_COUNT])
{
	const char *p = arg;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;

		if (end == p || a >= CVM_PCR_COUNT)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b >= CVM_PCR_COUNT || b < a)
				return -EINVAL;
		}
		for (unsigned long i = a; i <= b; i++)
			sel[i] = true;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}
