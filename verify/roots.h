/* Pinned vendor trust anchors (PEM text, NUL-terminated), see roots.c. */
#ifndef CVMKIT_VERIFY_ROOTS_H
#define CVMKIT_VERIFY_ROOTS_H

/* ASK, ARK, ASVK of one AMD generation, in that order. */
extern const char cvm_root_milan_pem[];
extern const char cvm_root_genoa_pem[];
extern const char cvm_root_turin_pem[];
/* Intel SGX Root CA (signs the PCK platform/processor CAs). */
extern const char cvm_root_intel_sgx_pem[];

#endif
