/* The [secureboot] part of cvm-image: loading the signer named by the
 * configuration, and the Azure gallery image version's uefiSettings
 * fragment that puts the user's certificates into the CVM's db
 * (../shared/notes/azure-deploy.md §8). */
#ifndef CVMKIT_SBIMAGE_H
#define CVMKIT_SBIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "cvmkit/sign.h"

/* Environment variable holding the key's passphrase when no pass file is given. */
#define CVM_SB_PASS_ENV "CVMKIT_SECUREBOOT_KEY_PASS"

/* Reads KEY and CERT (PEM) and builds a signer.  The passphrase is the first
 * line of PASS_FILE when given, else $CVMKIT_SECUREBOOT_KEY_PASS, else none;
 * every copy of it is wiped.  Returns 0, the read error of a file (*ret_what
 * names it: "key", "cert", "key_pass_file"), or cvm_signer_from_pem()'s. */
int cvm_sb_load_signer(const char *key, const char *cert, const char *pass_file, struct cvm_signer **ret,
		       const char **ret_what);

/* Whether NAME is an Azure signatureTemplateNames value. */
int cvm_sb_azure_template_ok(const char *name);

/* {"securityProfile":{"uefiSettings":{"signatureTemplateNames":[TEMPLATE],
 * "additionalSignatures":{"db":[{"type":"x509","value":[base64 DER...]}]}}}}
 * with one value per certificate, in order.  *ret_json is malloc'd text
 * ending in a newline.  Returns 0, -EINVAL (unknown template, no cert),
 * -ENOMEM. */
int cvm_sb_azure_uefi_settings(const char *tmpl, const uint8_t *const der[], const size_t der_len[], size_t n,
			       char **ret_json);

#endif
