/* Measured-boot reports captured from a real boot: the init's one line
 *   CVMKIT-MEASURED-BOOT {"version":1,"pcrs":{"sha256":{"0":"hex",...},"sha384":{...}},
 *                         "eventlog":{"size":N,"sha256":"hex"[,"base64":"..."]}}
 * found anywhere in a serial log, or a plain list of "N: hex" lines (one PCR
 * per line, the bank given by the digest length; blank lines and lines
 * starting with '#' are skipped).  Both inputs are untrusted.
 *
 * Ownership: struct cvm_capture is caller-owned; its eventlog buffer is
 * malloc'd by the parser and released by cvm_capture_free().  No function
 * prints. */
#ifndef CVMKIT_CAPTURE_H
#define CVMKIT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"
#include "cvmkit/pcr.h"

#define CVM_CAPTURE_PREFIX "CVMKIT-MEASURED-BOOT "
#define CVM_CAPTURE_MAX_INPUT ((size_t)64 << 20)   /* serial logs and PCR files */
#define CVM_CAPTURE_MAX_EVENTLOG ((size_t)16 << 20)
#define CVM_CAPTURE_MAX_BANKS 4

/* Evidence after the line (written by the init, read by capture-auth.h):
 * the line's "evidence" member {"format":"az-snp-vtpm"|"az-tdx-vtpm",
 * "nonce":hex,"size":N,"lines":K,"sha256":hex} and K lines
 *   CVMKIT-EVIDENCE i/K <at most CVM_CAPTURE_EVIDENCE_CHUNK base64 characters>
 * whose concatenation is the standard base64 of the N-byte evidence JSON
 * (exactly what the KBS gets).  Short lines: serial consoles and boot
 * diagnostics viewers wrap or cut long ones.  The quote's report data is
 * SHA-384(CVM_CAPTURE_NONCE_DOMAIN || nonce bytes). */
#define CVM_CAPTURE_EVIDENCE_PREFIX "CVMKIT-EVIDENCE "
#define CVM_CAPTURE_EVIDENCE_CHUNK 96
#define CVM_CAPTURE_NONCE_DOMAIN "cvmkit-capture-v1"
#define CVM_CAPTURE_NONCE_MIN 8
#define CVM_CAPTURE_NONCE_MAX 64

struct cvm_capture_bank {
	enum cvm_hash_alg alg;
	bool have[CVM_PCR_COUNT];
	uint8_t pcr[CVM_PCR_COUNT][CVM_HASH_MAX_SIZE];
};

struct cvm_capture {
	size_t n_banks;
	struct cvm_capture_bank banks[CVM_CAPTURE_MAX_BANKS];
	bool have_eventlog_digest;        /* "eventlog" size and sha256 were present */
	uint64_t eventlog_size;
	uint8_t eventlog_sha256[32];
	uint8_t *eventlog;                /* decoded "base64", or NULL; owned */
	size_t eventlog_len;
};

/* Finds the last CVMKIT-MEASURED-BOOT line in buf[0, len) (a serial log may
 * hold several boots; the prefix may follow other text on its line) and
 * parses it.  Banks other than sha1/sha256/sha384/sha512 are ignored; every
 * value must be exactly the bank's digest size in hex.  When the event log
 * is included, its length and SHA-256 must equal "size" and "sha256".
 * Returns 0 and fills *ret; -ENOENT (no such line), -EBADMSG (malformed JSON,
 * PCR index or value, base64, or an event log that contradicts its digest),
 * -EFBIG (len above CVM_CAPTURE_MAX_INPUT, event log above
 * CVM_CAPTURE_MAX_EVENTLOG), -ENOMEM.  *ret is written only on success. */
int cvm_capture_parse_line(const uint8_t *buf, size_t len, struct cvm_capture *ret);

/* The text after the last PREFIX in buf[0, len), up to its line's end with
 * trailing '\r' and spaces dropped: [*ret_start, *ret_end).  Returns 0 or
 * -ENOENT.  For the measured-boot line and the evidence lines after it. */
int cvm_capture_find_last(const uint8_t *buf, size_t len, const char *prefix, const uint8_t **ret_start,
			  const uint8_t **ret_end);
/* The end of the line starting at p (before lim), trailing '\r' and spaces dropped. */
const uint8_t *cvm_capture_line_end(const uint8_t *p, const uint8_t *lim);

/* Parses "N: hex" lines (N 0-23; "N hex" and "pcrN: hex" also accepted).
 * Returns 0, -EBADMSG (a line that is none of these, a repeated PCR, or
 * no PCR at all), -EFBIG. */
int cvm_capture_parse_pcr_lines(const uint8_t *buf, size_t len, struct cvm_capture *ret);

/* cvm_capture_parse_line(), or cvm_capture_parse_pcr_lines() when buf holds
 * no CVMKIT-MEASURED-BOOT line. */
int cvm_capture_parse(const uint8_t *buf, size_t len, struct cvm_capture *ret);

/* The bank for alg, or NULL. */
const struct cvm_capture_bank *cvm_capture_bank(const struct cvm_capture *c, enum cvm_hash_alg alg);

/* Frees the event log; safe twice and on a zeroed struct. */
void cvm_capture_free(struct cvm_capture *c);

#endif
