/* TCG PC Client event logs (/sys/kernel/security/tpm0/binary_bios_measurements):
 * parsing and PCR replay.  The input is untrusted.
 *
 * Two formats are accepted:
 *  - crypto-agile: a legacy TCG_PCR_EVENT header record whose data is the
 *    "Spec ID Event03" structure (it names the banks and their digest sizes),
 *    then TCG_PCR_EVENT2 records;
 *  - legacy: TCG_PCR_EVENT records only, one SHA-1 digest each.
 *
 * Ownership: nothing here allocates except cvm_evlog_replay() (a temporary it
 * frees).  The parser state and every event point into the caller's buffer,
 * which must outlive them.  No function prints. */
#ifndef CVMKIT_EVENTLOG_H
#define CVMKIT_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"
#include "cvmkit/pcr.h"

#define CVM_EVLOG_MAX_BANKS 5
#define CVM_EVLOG_MAX_EVENT (1u << 20)      /* cap on one event's data, bytes */
#define CVM_EVLOG_MAX_EVENTS 100000u        /* cap on records in one log (header included) */

/* TCG event types (TCG PC Client Platform Firmware Profile). */
#define CVM_EV_PREBOOT_CERT 0x0u
#define CVM_EV_POST_CODE 0x1u
#define CVM_EV_NO_ACTION 0x3u
#define CVM_EV_SEPARATOR 0x4u
#define CVM_EV_ACTION 0x5u
#define CVM_EV_EVENT_TAG 0x6u
#define CVM_EV_S_CRTM_CONTENTS 0x7u
#define CVM_EV_S_CRTM_VERSION 0x8u
#define CVM_EV_CPU_MICROCODE 0x9u
#define CVM_EV_PLATFORM_CONFIG_FLAGS 0xAu
#define CVM_EV_TABLE_OF_DEVICES 0xBu
#define CVM_EV_COMPACT_HASH 0xCu
#define CVM_EV_IPL 0xDu
#define CVM_EV_IPL_PARTITION_DATA 0xEu
#define CVM_EV_NONHOST_CODE 0xFu
#define CVM_EV_NONHOST_CONFIG 0x10u
#define CVM_EV_NONHOST_INFO 0x11u
#define CVM_EV_OMIT_BOOT_DEVICE_EVENTS 0x12u
#define CVM_EV_EFI_EVENT_BASE 0x80000000u
#define CVM_EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define CVM_EV_EFI_VARIABLE_BOOT 0x80000002u
#define CVM_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define CVM_EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define CVM_EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define CVM_EV_EFI_GPT_EVENT 0x80000006u
#define CVM_EV_EFI_ACTION 0x80000007u
#define CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB 0x80000008u
#define CVM_EV_EFI_HANDOFF_TABLES 0x80000009u
#define CVM_EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000Au
#define CVM_EV_EFI_HANDOFF_TABLES2 0x8000000Bu
#define CVM_EV_EFI_VARIABLE_BOOT2 0x8000000Cu
#define CVM_EV_EFI_HCRTM_EVENT 0x80000010u
#define CVM_EV_EFI_VARIABLE_AUTHORITY 0x800000E0u
#define CVM_EV_EFI_SPDM_FIRMWARE_BLOB 0x800000E1u
#define CVM_EV_EFI_SPDM_FIRMWARE_CONFIG 0x800000E2u

struct cvm_evlog_bank {
	uint16_t alg;  /* TPM_ALG_ID */
	uint16_t size; /* digest size in bytes, 1..CVM_HASH_MAX_SIZE */
};

/* Caller-owned parser state, filled by cvm_evlog_open(); treat as read-only. */
struct cvm_evlog {
	const uint8_t *buf;
	size_t len, off;                  /* off: next record to parse */
	bool crypto_agile;                /* Spec ID Event03 present */
	size_t n_banks;                   /* legacy logs: 1 (SHA-1) */
	struct cvm_evlog_bank banks[CVM_EVLOG_MAX_BANKS];
	uint8_t startup_locality;         /* valid when have_locality; set by cvm_evlog_next() */
	bool have_locality;
	size_t hdr_len;                   /* bytes of the header record (crypto-agile) */
	size_t n_events;                  /* records returned so far (header included) */
	bool done;                        /* end or padding reached */
};

struct cvm_evlog_event {
	uint32_t pcr, type;
	size_t n_digests;
	struct {
		uint16_t alg;
		const uint8_t *digest;    /* size: the bank's size from the log's table */
	} digests[CVM_EVLOG_MAX_BANKS];
	const uint8_t *data;              /* event data, pointer into the log buffer */
	uint32_t data_len;
	size_t offset;                    /* of the record in the log */
};

/* Starts parsing the log in buf[0..len) and reads its header.  A first
 * record carrying "Spec ID Event03" makes the log crypto-agile and defines
 * the banks; otherwise the log is legacy SHA-1.
 * Returns 0, or -EBADMSG for a truncated or malformed header (an empty log,
 * a Spec ID event with 0 or more than CVM_EVLOG_MAX_BANKS algorithms,
 * duplicate algorithms, a digest size of 0 or above CVM_HASH_MAX_SIZE, a
 * size that contradicts a known algorithm, a non-zero header digest, or
 * vendor data past the end of the buffer).  Vendor data that overruns the
 * header's EventSize but fits in the buffer is accepted and the next record
 * starts after it, as tpm2-tools reads such logs; the header carries no
 * digest, so this cannot change a PCR.  *log is written only on success. */
int cvm_evlog_open(struct cvm_evlog *log, const uint8_t *buf, size_t len);

/* Parses the next record into *ret.  The header record (Spec ID) of a
 * crypto-agile log is returned first, like every other record.  Records with
 * PCRIndex, EventType and DigestCount (legacy: and digest, size) all zero
 * are trailing padding and end the log.
 * Returns 1 with *ret filled, 0 at the end (and on every later call), or
 * -EBADMSG for a malformed record: truncated, PCR index >= CVM_PCR_COUNT,
 * DigestCount above the number of banks, an algorithm missing from the
 * table or repeated, an event size past the end or above
 * CVM_EVLOG_MAX_EVENT; -E2BIG after CVM_EVLOG_MAX_EVENTS records.
 * After an error the state is left where it was. */
int cvm_evlog_next(struct cvm_evlog *log, struct cvm_evlog_event *ret);

/* "EV_SEPARATOR", "EV_EFI_ACTION", ... or NULL for an unknown type.  Static. */
const char *cvm_evlog_type_name(uint32_t type);

/* The replayed state of one bank.  pcr[i] holds cvm_hash_size(alg) valid
 * bytes; touched[i] says an event (or the StartupLocality rule) changed it. */
struct cvm_pcr_bank_values {
	uint16_t alg;
	uint8_t pcr[CVM_PCR_COUNT][CVM_HASH_MAX_SIZE];
	bool touched[CVM_PCR_COUNT];
};

/* Parses and replays the whole log: every PCR starts at its reset value
 * (cvm_pcr_reset_byte()), every record except EV_NO_ACTION extends each bank
 * it carries a digest for.  PCR 0's starting value follows the TPM's
 * startup locality: an EV_NO_ACTION "StartupLocality" event sets it to
 * 0...0 || locality, an EV_EFI_HCRTM_EVENT in PCR 0 to 0...0 || 04 before
 * that event is extended.  Banks whose algorithm cvmkit
 * cannot hash (e.g. SM3-256) are parsed but not replayed and not reported.
 * On success fills ret_banks[0..*ret_n_banks) in the log's bank order and
 * returns 0.  Errors: those of cvm_evlog_open()/cvm_evlog_next(); -EBADMSG
 * for a StartupLocality or H-CRTM event that repeats, is not in PCR 0, or
 * comes after PCR 0 was extended; -ENODATA for an event (other than
 * EV_NO_ACTION) without a digest for every bank the log declares
 * (cvm_evlog_first_incomplete() finds it); -ENOBUFS if the log has more replayable banks than max_banks;
 * -ENOMEM.  Nothing is written on failure. */
int cvm_evlog_replay(const uint8_t *buf, size_t len, struct cvm_pcr_bank_values *ret_banks,
		     size_t max_banks, size_t *ret_n_banks);

/* The first event (other than EV_NO_ACTION) that lacks a digest for one of
 * the log's banks: fills *ret and *ret_index (0 = the header record) and
 * returns 1; 0 when there is none; errors as cvm_evlog_next().  For naming
 * the event cvm_evlog_replay() refused with -ENODATA. */
int cvm_evlog_first_incomplete(const uint8_t *buf, size_t len, struct cvm_evlog_event *ret, size_t *ret_index);

/* A short, printable (ASCII/UTF-8, no control characters) description of
 * ev's data: the name of an EFI variable, action and tag strings, EV_IPL
 * text (UTF-16 or ASCII), an image-load event's address, length and device
 * path (hex), a GPT event's partition count, the Spec ID / StartupLocality
 * header events; otherwise printable text or a hex prefix.  Always
 * NUL-terminates out (when outlen > 0), truncating as needed. */
void cvm_evlog_describe(const struct cvm_evlog_event *ev, char *out, size_t outlen);

#endif
