/* Constant-time comparison, for secrets and authentication tags (the one
 * copy: JOSE's GCM tag check and TLS's key pin both use it). */
#ifndef CVMKIT_CT_H
#define CVMKIT_CT_H

#include <stdbool.h>
#include <stddef.h>

/* Constant-time equality of two LEN-byte buffers: true when equal.  Time
 * depends on LEN only. */
bool cvm_ct_equal(const void *a, const void *b, size_t len);

#endif
