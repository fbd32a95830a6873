/* EFI variable-namespace GUIDs the predictor and the Secure Boot variable
 * readers share, in on-disk (mixed-endian) byte order.  Private to measure/. */
#ifndef CVMKIT_MEASURE_EFIGUID_H
#define CVMKIT_MEASURE_EFIGUID_H

#include <stdint.h>

extern const uint8_t cvm_efi_guid_global[16]; /* EFI_GLOBAL_VARIABLE: PK, KEK, SecureBoot */
extern const uint8_t cvm_efi_guid_secdb[16];  /* EFI_IMAGE_SECURITY_DATABASE_GUID: db, dbx */

#endif
