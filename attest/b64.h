/* Base64 for the evidence formats: Trustee decodes base64url padding-
 * indifferently, and its claims use standard padded base64. */
#ifndef CVMKIT_ATTEST_B64_H
#define CVMKIT_ATTEST_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encoded length (without NUL) for LEN input bytes. */
size_t cvm_b64_encoded_len(size_t len, bool pad);

/* Writes the encoding of buf and a NUL to out, which must hold
 * cvm_b64_encoded_len(len, pad) + 1 bytes.  URL selects the "-_" alphabet. */
void cvm_b64_encode(const uint8_t *buf, size_t len, bool url, bool pad, char *out);

/* Decodes s[0..slen) written in either alphabet (not mixed), with or
 * without '=' padding, into out (capacity outcap).  Returns the decoded
 * length, -EINVAL for malformed text, -ENOBUFS when out is too small. */
int cvm_b64_decode(const char *s, size_t slen, uint8_t *out, size_t outcap);

/* Upper bound of the decoded size of SLEN characters. */
static inline size_t cvm_b64_decoded_max(size_t slen) { return slen / 4 * 3 + 3; }

#endif
