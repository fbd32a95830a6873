/* Trustee reference values (../shared/notes/trustee-reference-values.md)
 * from predicted or captured PCRs: the names Trustee's default policy and the
 * trustee-operator policy query (snp_pcrNN, tdx_pcrNN for az-snp-vtpm /
 * az-tdx-vtpm, tpm_pcrNN for the generic TPM TEE), each mapped to an array
 * of lowercase-hex SHA-256 PCR values (the bank Trustee's claims carry).
 *
 * A set holds up to CVM_RV_MAX_VALUES acceptable values per PCR, so one
 * registration can accept several images (RVPS replaces, never merges).
 * Caller-owned, no allocation except the returned strings. */
#ifndef CVMKIT_REFVALUES_H
#define CVMKIT_REFVALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/capture.h"
#include "cvmkit/pcr.h"
#include "cvmkit/predict.h"

#define CVM_RV_MAX_VALUES 8

struct cvm_rv_set {
	size_t n[CVM_PCR_COUNT];
	uint8_t v[CVM_PCR_COUNT][CVM_RV_MAX_VALUES][32];
};

/* Adds one SHA-256 value for pcr (a repeated value is kept once).
 * Returns 0, -EINVAL (pcr >= CVM_PCR_COUNT), -ENOSPC (CVM_RV_MAX_VALUES reached). */
int cvm_rv_add(struct cvm_rv_set *s, unsigned pcr, const uint8_t value[32]);

/* Flags of cvm_rv_add_prediction().  PCR 5 is left out by default although
 * it is predicted from a disk: besides the GPT it records ExitBootServices,
 * which firmware measures again (another "Invocation" event) when the
 * loader's first call fails and it is retried, so a healthy boot can miss a
 * reference value that includes it (Constellation leaves PCR 5 out too). */
#define CVM_RV_WITH_PROFILE 1u /* also profile-bound PCRs (PCR 7 of "qemu-ovmf") */
#define CVM_RV_WITH_PCR5 2u    /* also PCR 5 when predicted (from a disk) */

/* Adds the image-determined PCRs of a prediction: every PREDICTED PCR
 * without a platform profile (4, 8, 9, 11, 12, 13), plus PCR 5 and
 * profile-bound ones as FLAGS ask.  The prediction must include the SHA-256
 * bank.  Returns the count of PCRs added, -EINVAL (no SHA-256 bank), or the
 * errors of cvm_rv_add(). */
int cvm_rv_add_prediction(struct cvm_rv_set *s, const struct cvm_prediction *p, unsigned flags);

/* Whether FLAGS (CVM_RV_WITH_*) take prediction PCR i: the rule above, shared
 * with the CoRIM encoder. */
bool cvm_rv_takes(const struct cvm_prediction *p, unsigned i, unsigned flags);

/* Adds the captured SHA-256 PCRs selected by sel (NULL: every captured PCR
 * but 6, which holds the VM's identity on Azure and so differs from one VM
 * of an image to the next: a reference value for it would fit one VM only;
 * select it explicitly to have it).
 * Returns the count added, -EINVAL (no SHA-256 bank captured), or the errors of cvm_rv_add(). */
int cvm_rv_add_capture(struct cvm_rv_set *s, const struct cvm_capture *c, const bool sel[CVM_PCR_COUNT]);

/* The bare map {"snp_pcr04":["hex",...],"tdx_pcr04":[...],"tpm_pcr04":[...],...}
 * in PCR order, pretty-printed when pretty.  *ret_json is malloc'd.
 * Returns 0, -ENODATA (empty set), -ENOMEM. */
int cvm_rv_map_json(const struct cvm_rv_set *s, bool pretty, char **ret_json);

/* The RVPS registration message for the "sample" extractor:
 * {"version":"0.1.0","type":"sample","payload":"<standard base64 of the compact map>"}.
 * *ret_json is malloc'd.  Returns 0, -ENODATA, -ENOMEM. */
int cvm_rv_rvps_message(const struct cvm_rv_set *s, char **ret_json);
/* The RVPS message {"version":"0.1.0","type":"sample","payload":base64(PAYLOAD)}
 * around a compact JSON map.  Returns 0 and a malloc'd *ret_json, or -ENOMEM. */
int cvm_rv_rvps_wrap(const char *payload, char **ret_json);

#endif
