/* The predicted reference values as an unsigned CoRIM (IETF RATS
 * draft-ietf-rats-corim: Concise Reference Integrity Manifest), CBOR via
 * libcbor:
 *
 *   #6.501({                                  ; tagged-unsigned-corim-map
 *     0: "<id>",                              ; corim-id
 *     1: [ #6.506(<< {                        ; tags: one tagged CoMID (bstr .cbor)
 *          1: { 0: "<id>", 1: 0 },            ; tag-identity: tag-id, tag-version
 *          4: { 0: [                          ; triples-map: reference-triples
 *            [ { 0: { 1: "<vendor>", 2: "<model>" } },       ; environment: class vendor/model
 *              [ { 0: PCR, 1: { 2: [ [1, h'sha256'], [7, h'sha384'] ] } }, ... ] ]
 *          ] } } >>) ]
 *   })
 *
 * One measurement-map per PCR: mkey = the PCR index (uint), digests =
 * [alg-id, value] pairs with IANA Named Information hash ids (sha-256 1,
 * sha-384 7, sha-512 8; SHA-1 has no id and is left out).  Maps are written
 * with their keys in ascending order and definite lengths, so equal inputs
 * give equal bytes. */
#ifndef CVMKIT_CORIM_H
#define CVMKIT_CORIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/predict.h"

#define CVM_CORIM_TAG_UNSIGNED 501
#define CVM_CORIM_TAG_COMID 506
#define CVM_CORIM_ALG_SHA256 1
#define CVM_CORIM_ALG_SHA384 7
#define CVM_CORIM_ALG_SHA512 8

struct cvm_corim_opts {
	const char *id;       /* corim-id and tag-id; NULL: "cvmkit-" + first 16 hex of the PCR 11 SHA-256 */
	const char *vendor;   /* NULL: "cvmkit" */
	const char *model;    /* NULL: "uki" */
	bool with_profile;    /* also profile-bound PCRs (PCR 7 of qemu-ovmf), as refvalues.h */
	bool with_pcr5;       /* also PCR 5 (left out by default: see refvalues.h) */
};

/* Encodes the PCRs cvm_rv_add_prediction() would take (cvm_rv_takes():
 * PREDICTED, not profile-bound unless with_profile, not PCR 5 unless
 * with_pcr5).  *ret_buf is malloc'd.
 * Returns 0, -ENODATA (no PCR, or no bank with a CoRIM id), -ENOMEM. */
int cvm_corim_build(const struct cvm_prediction *p, const struct cvm_corim_opts *opts, uint8_t **ret_buf,
		    size_t *ret_len);

#endif
