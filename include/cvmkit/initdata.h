/* CoCo initdata (../shared/notes/initdata.md): the per-deployment TOML
 * document a host hands to the guest, bound into attestation by extending
 * vTPM PCR 8 with its digest.  Shared by the init (which reads, parses and
 * extends it) and cvm-measure (which predicts PCR 8 and encodes documents).
 *
 * The TOML parser accepts a strict subset: top-level `version` ("0.1.0")
 * and `algorithm` (sha256, sha384, sha512), one `[data]` table whose values
 * are strings (basic, literal, and both multi-line forms), comments and
 * blank lines.  Anything else (other keys or tables, dotted keys, arrays,
 * numbers, duplicate keys, invalid UTF-8, bare CR) is refused with the line
 * and a reason.  The digest is over the exact bytes, never a re-rendering.
 *
 * Ownership: every struct is caller-owned; the parsers never allocate except
 * cvm_initdata_from_userdata (a scratch buffer and zlib's inflate state, both
 * freed before it returns).  Inputs are untrusted and capped. */
#ifndef CVMKIT_INITDATA_H
#define CVMKIT_INITDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"

#define CVM_INITDATA_MAX (64u << 10)          /* a TOML document (also the gunzip cap) */
#define CVM_INITDATA_USERDATA_MAX (64u << 10) /* base64 userData: Azure's own limit */
#define CVM_INITDATA_MAX_ENTRIES 32
#define CVM_INITDATA_KEY_MAX 128
#define CVM_INITDATA_PCR 8
#define CVM_INITDATA_PEERPOD_PATH "/run/peerpod/initdata"

struct cvm_initdata_entry {
	char key[CVM_INITDATA_KEY_MAX + 1]; /* NUL-terminated; never holds control characters */
	size_t value_off, value_len;        /* into cvm_initdata.values; the value is NUL-terminated there */
};

struct cvm_initdata {
	char version[16];
	enum cvm_hash_alg alg;
	size_t n;
	struct cvm_initdata_entry data[CVM_INITDATA_MAX_ENTRIES];
	/* Decoded values: never longer than the document they come from. */
	char values[CVM_INITDATA_MAX + CVM_INITDATA_MAX_ENTRIES];
	size_t values_len;
	/* Why the last parse failed (static text) and on which line (1-based). */
	const char *err;
	unsigned err_line;
};

/* Parses an initdata document of at most CVM_INITDATA_MAX bytes into *d.
 * Returns 0; -EFBIG (too long); -EBADMSG (not in the subset: d->err and
 * d->err_line say why and where); -EPROTONOSUPPORT (version is not "0.1.0");
 * -EOPNOTSUPP (algorithm is not sha256, sha384 or sha512); -E2BIG (more than
 * CVM_INITDATA_MAX_ENTRIES data entries or a key over CVM_INITDATA_KEY_MAX). */
int cvm_initdata_parse(const uint8_t *buf, size_t len, struct cvm_initdata *d);

/* The value of data key KEY, or NULL (then *ret_len is untouched). */
const char *cvm_initdata_get(const struct cvm_initdata *d, const char *key, size_t *ret_len);

/* digest = ALG(the document's bytes); returns its length (32, 48, 64) or -EINVAL. */
int cvm_initdata_digest(enum cvm_hash_alg alg, const uint8_t *doc, size_t len, uint8_t out[CVM_HASH_MAX_SIZE]);

/* The PCR 8 rule: the 32 bytes extended into the SHA-256 bank are the
 * digest's first 32 bytes (the whole of a SHA-256 digest; SHA-384/512 are
 * cut, as cloud-api-adaptor does), and PCR 8 after one extend from zero is
 * SHA-256(0^32 || extend).  Other banks are not extended.  Returns 0 or
 * -EINVAL (digest shorter than 32 bytes). */
int cvm_initdata_pcr8(const uint8_t *digest, size_t digest_len, uint8_t ret_extend[32], uint8_t ret_pcr8[32]);

/* Reads the KBS settings from an attestation-agent configuration (the
 * `aa.toml` data value): `url` and `cert` of `[token_configs.kbs]` (or the
 * equivalent dotted keys).  TOML outside those keys is skipped, not
 * interpreted.  Copies url into url_out (capacity url_cap) and cert into
 * cert_out (capacity cert_cap), NUL-terminated, "" when absent.  Returns 0;
 * -EBADMSG for malformed TOML; -ENOBUFS when a value does not fit;
 * -EINVAL when url or cert is not a string. */
int cvm_initdata_aa_kbs(const char *value, size_t len, char *url_out, size_t url_cap, char *cert_out,
			size_t cert_cap);

enum cvm_initdata_form {
	CVM_INITDATA_FORM_NONE,    /* empty userData, or a cloud-config without an initdata file */
	CVM_INITDATA_FORM_NATIVE,  /* base64(TOML) */
	CVM_INITDATA_FORM_PEERPOD, /* base64("#cloud-config" ... write_files /run/peerpod/initdata: base64(gzip(TOML))) */
};

/* Extracts the initdata document from IMDS userData (base64 text of at most
 * CVM_INITDATA_USERDATA_MAX bytes; whitespace ignored).  The decoded bytes
 * are a cloud-config when they start with "#cloud-config" (cloud-api-
 * adaptor's peer-pod form: the write_files entry for /run/peerpod/initdata,
 * a `content: |` block of base64(gzip(TOML))), otherwise the TOML itself.
 * Writes at most cap bytes to out.  Returns 0 with *ret_len and *ret_form
 * (length 0 for FORM_NONE); -EFBIG (userData too long, or a document over
 * cap once decoded or inflated: a gzip bomb stops at the cap); -EBADMSG
 * (not base64, malformed cloud-config, not gzip, corrupt or trailing gzip
 * data); -ENOMEM. */
int cvm_initdata_from_userdata(const uint8_t *buf, size_t len, uint8_t *out, size_t cap, size_t *ret_len,
			       enum cvm_initdata_form *ret_form);

#endif
