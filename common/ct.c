#include <stdint.h>

#include "cvmkit/ct.h"

bool cvm_ct_equal(const void *a, const void *b, size_t len)
{
	/* volatile: the compiler may not stop at the first difference. */
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}
