/* Helpers shared by jose.c, kbs.c and sealed.c.  Private to attest/. */
#ifndef CVMKIT_ATTEST_JOSE_INTERNAL_H
#define CVMKIT_ATTEST_JOSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* mbedtls f_rng over getrandom(2); 0 or -1. */
int cvm_jose_rng(void *ctx, unsigned char *out, size_t len);

/* Strict base64url string member NAME of O decoded into a malloc'd buffer
 * with one spare NUL byte.  0, -EBADMSG, -ENOMEM. */
int cvm_jose_b64_member(const cJSON *o, const char *name, uint8_t **ret, size_t *ret_len);

#endif
