/* The Secure Boot variables a firmware measures into PCR 7 (SecureBoot, PK,
 * KEK, db, dbx, dbt), read from what the firmware itself reads:
 *   - an edk2 variable store (OVMF_VARS*.fd: firmware volume header,
 *     authenticated or plain variable store, the live copy of each variable);
 *   - an Azure / Hyper-V key template JSON
 *     (properties.uefiSettings.signatures.{PK,KEK,db,dbx}) turned into
 *     signature lists the way the Hyper-V firmware does (openvmm
 *     firmware_uefi nvram: one X509 list per certificate, one SHA-256 list
 *     per sha256 group, owner 77fa9abd-0359-4d32-bd60-28f4e78f784b).
 * And the db entry that authorises a signed image (the firmware's
 * EV_EFI_VARIABLE_AUTHORITY event).
 *
 * Parsers take untrusted bytes, cap every size and keep their state in the
 * caller-owned struct cvm_sbvars; variable contents are malloc'd copies
 * released by cvm_sbvars_free(). */
#ifndef CVMKIT_SBVARS_H
#define CVMKIT_SBVARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CVM_SBVARS_MAX_FILE ((size_t)64 << 20)
#define CVM_SBVARS_MAX_VAR ((size_t)1 << 20)
#define CVM_SBVARS_SOURCE_MAX 160

enum cvm_sbvar { CVM_SBVAR_PK, CVM_SBVAR_KEK, CVM_SBVAR_DB, CVM_SBVAR_DBX, CVM_SBVAR_DBT, CVM_SBVAR_COUNT };

struct cvm_sbvars {
	int secure_boot;                          /* 1 on, 0 off, -1 unknown (caller must decide) */
	bool present[CVM_SBVAR_COUNT];
	uint8_t *data[CVM_SBVAR_COUNT];           /* owned; NULL when absent or empty */
	size_t len[CVM_SBVAR_COUNT];
	bool inferred;                            /* a model of the firmware, not its own store */
	char source[CVM_SBVARS_SOURCE_MAX];       /* label for outputs, e.g. "ovmf-varstore" */
};

void cvm_sbvars_init(struct cvm_sbvars *v);
void cvm_sbvars_free(struct cvm_sbvars *v);
/* "PK", "KEK", "db", "dbx", "dbt". */
const char *cvm_sbvar_name(enum cvm_sbvar i);

/* An edk2 variable store firmware volume.  SecureBoot is not stored (the
 * firmware derives it): secure_boot = 1 when PK holds data and
 * SecureBootEnable is absent or 1, else 0 — right for a firmware built with
 * Secure Boot support (OVMF *.secboot.fd); the caller overrides it for one
 * without.  Returns 0, -EBADMSG (not a firmware volume with a variable
 * store, or a malformed one), -EFBIG (a variable above CVM_SBVARS_MAX_VAR),
 * -ENOMEM.  *v must be initialised; it is filled only on success. */
int cvm_sbvars_from_varstore(const uint8_t *buf, size_t len, struct cvm_sbvars *v);

/* An Azure template JSON as above; secure_boot stays -1 (the template does
 * not say; Azure writes it either way).  inferred = true.  Returns 0,
 * -EBADMSG (not JSON, or no PK/KEK/db/dbx signatures of type x509/sha256 with
 * base64 values), -EFBIG, -ENOMEM. */
int cvm_sbvars_from_azure_json(const uint8_t *buf, size_t len, struct cvm_sbvars *v);

/* Reads PATH (at most CVM_SBVARS_MAX_FILE) and parses it as a varstore when
 * it is a firmware volume, else as an Azure template JSON; a folder holds
 * PK.esl, KEK.esl, db.esl, dbx.esl, dbt.esl (the exact variable contents,
 * missing = absent; secure_boot stays -1).  source names the file's base
 * name.  Returns 0, the read error, or the parser's (-EBADMSG also for a
 * malformed .esl or a folder without any). */
int cvm_sbvars_load(const char *path, struct cvm_sbvars *v);

/* Appends one X509 signature list (Hyper-V owner) for a DER certificate to
 * db: what an image version's additionalSignatures.db adds (inferred). */
int cvm_sbvars_db_append_x509(struct cvm_sbvars *v, const uint8_t *der, size_t der_len);

/* The EFI_SIGNATURE_DATA (owner GUID || certificate or hash) of the first db
 * entry that authorises the signed PE in pe[0, len), as edk2's
 * DxeImageVerificationLib looks for it: for each PKCS#7 in the certificate
 * table, each X509 db entry in order that is one of the signature's
 * certificates or issued one of them; failing that, a SHA-256 db entry equal
 * to the image's Authenticode digest.  auth256 is that digest.  *ret_buf is
 * malloc'd.  Returns 0, -ENOENT (nothing in db authorises the image: the
 * firmware refuses it), -EBADMSG (malformed db list or certificate table),
 * -ENOMEM.  Signature validity itself is not checked here (sbverify's job). */
int cvm_sbvars_authority(const struct cvm_sbvars *v, const uint8_t *pe, size_t len, const uint8_t auth256[32],
			 uint8_t **ret_buf, size_t *ret_len);

#endif
