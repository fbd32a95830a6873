/* Hexadecimal encoding (lowercase, as Trustee's claims use). */
#ifndef CVMKIT_HEX_H
#define CVMKIT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*len lowercase hex digits and a NUL to out (size >= 2*len+1). */
void cvm_hex_encode(const uint8_t *buf, size_t len, char *out);

/* The value of one hex digit (either case), or -1 for any other int (EOF
 * included): for parsers that read digits one at a time. */
int cvm_hex_digit(int c);

/* Decodes exactly 2*outlen hex digits (either case) from s[0..slen).
 * Returns 0, or -EINVAL for a wrong length or a non-hex digit. */
int cvm_hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen);

#endif
