/* PCR prediction: what a measured boot of a cvmkit image (a UKI on a GPT disk,
 * systemd-stub, Linux EFI stub) extends into the TPM, computed from the final
 * bytes of the image file.  Rules and their sources: ../shared/notes/
 * measured-boot.md; every rule here was checked against a real OVMF + swtpm
 * boot (tests/boot/test-boot-measure.sh).
 *
 * The input is untrusted: a UKI, a raw GPT disk or a fixed VHD.  All parsing
 * goes through the image/ readers (pe.h, gpt.h, fat.h, vhd.h).
 *
 * Ownership: struct cvm_prediction is large (~300 KiB) and caller-owned
 * (allocate it on the heap); it holds copies, never pointers into the input.
 * Functions return 0 or a negative errno, write ret_* only on success and
 * never print. */
#ifndef CVMKIT_PREDICT_H
#define CVMKIT_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cvmkit/hash.h"
#include "cvmkit/pcr.h"
#include "cvmkit/pe.h"
#include "cvmkit/sbvars.h"

#define CVM_PREDICT_MAX_BANKS 4
#define CVM_PREDICT_MAX_EVENTS 32          /* per PCR; PCR 11 needs at most 26 */
#define CVM_PREDICT_DESC_MAX 96
/* Largest UKI read out of a disk image's ESP. */
#define CVM_PREDICT_MAX_UKI ((size_t)512 << 20)

enum cvm_predict_status {
	CVM_PREDICT_PREDICTED,    /* value and events below are what the boot produces */
	CVM_PREDICT_NEEDS_DISK,   /* PCR 5 from a bare UKI: the GPT is not in the file */
	CVM_PREDICT_PLATFORM,     /* not determined by the image: never guessed */
};

struct cvm_predict_event {
	uint32_t type;                              /* TCG event type (eventlog.h CVM_EV_*) */
	char desc[CVM_PREDICT_DESC_MAX];            /* short, printable */
	uint8_t digest[CVM_PREDICT_MAX_BANKS][CVM_HASH_MAX_SIZE]; /* per bank, in prediction bank order */
};

struct cvm_predict_pcr {
	enum cvm_predict_status status;
	const char *profile;     /* static: NULL, or the platform profile a value holds for ("qemu-ovmf") */
	const char *why;         /* static one-liner: what determines it */
	size_t n_events;
	struct cvm_predict_event events[CVM_PREDICT_MAX_EVENTS];
	uint8_t value[CVM_PREDICT_MAX_BANKS][CVM_HASH_MAX_SIZE];   /* valid when PREDICTED */
};

enum cvm_predict_input { CVM_PREDICT_INPUT_UKI, CVM_PREDICT_INPUT_DISK, CVM_PREDICT_INPUT_VHD };

struct cvm_prediction {
	enum cvm_predict_input input;
	unsigned stub_version;            /* major version modelled, e.g. 257 */
	char stub_ident[64];              /* from .sdmagic, e.g. "257.13-1~deb13u1"; "" when overridden */
	size_t n_banks;
	enum cvm_hash_alg banks[CVM_PREDICT_MAX_BANKS];
	struct cvm_predict_pcr pcr[CVM_PCR_COUNT];
	/* Secure Boot as modelled: from opts->sb, else off (the qemu-ovmf profile). */
	bool secure_boot;
	bool sb_inferred;                           /* opts->sb was a model (Azure template) */
	char sb_source[CVM_SBVARS_SOURCE_MAX];      /* "" without opts->sb */
};

struct cvm_predict_opts {
	size_t n_banks;                          /* 0: sha256 and sha384 */
	enum cvm_hash_alg banks[CVM_PREDICT_MAX_BANKS];
	unsigned stub_version;                   /* 0: detect from the stub's .sdmagic */
	/* Boot options the firmware tried (ReadyToBoot signalled) before the
	 * UKI's, e.g. QEMU's default empty CD-ROM: each adds "Returning from EFI
	 * Application from Boot Option" and "Calling ..." again to PCR 4.  At
	 * most CVM_PREDICT_MAX_FAILED_BOOTS. */
	unsigned failed_boot_options;
	/* The platform's Secure Boot variables (secure_boot 0 or 1), or NULL
	 * for the Debian OVMF fresh-variables profile with Secure Boot off.
	 * With them PCR 7 is their measurement (plus, Secure Boot on, the db
	 * entry that authorises the UKI) and carries no profile, and with
	 * Secure Boot on PCR 4 has no .linux event: systemd-stub's security
	 * override lets the firmware load the embedded kernel unmeasured. */
	const struct cvm_sbvars *sb;
};
#define CVM_PREDICT_MAX_FAILED_BOOTS 8

/* The systemd-stub version embedded in a PE: the ".sdmagic" section holds
 * "#### LoaderInfo: systemd-stub 257.13-1~deb13u1 ####".  Sets *ret_major
 * (257) and copies the version text ("257.13-1~deb13u1", at most 63 bytes)
 * to ret_ident.  Returns 0, -ENOENT (no .sdmagic, or it names another
 * program, e.g. systemd-boot), -EBADMSG (malformed text or section outside the
 * file). */
int cvm_predict_stub_version(const uint8_t *buf, size_t len, const struct cvm_pe *pe, unsigned *ret_major,
			     char ret_ident[64]);

/* Predicts every PCR for the image in buf[0, len): a UKI (starts with "MZ"),
 * a fixed VHD (valid footer) or a raw GPT disk, whose ESP holds
 * EFI/BOOT/BOOTX64.EFI.  PCR 5 needs the disk (a bare UKI gives
 * CVM_PREDICT_NEEDS_DISK); PCR 7 is the Debian OVMF fresh-variables value
 * (profile "qemu-ovmf", Secure Boot off) unless opts->sb is given.
 * Returns 0 and fills *ret, or
 *   -EINVAL      bad opts (unknown or repeated bank, more than CVM_PREDICT_MAX_BANKS,
 *                failed_boot_options above CVM_PREDICT_MAX_FAILED_BOOTS);
 *   -EBADMSG     malformed PE/GPT/FAT/VHD, no ESP, no BOOTX64.EFI, or a UKI
 *                without a systemd-stub .sdmagic and no stub_version given;
 *   -EOPNOTSUPP  a stub version outside CVM_UKI_STUB_MIN..MAX, a
 *                multi-profile UKI (.profile), or a .cmdline that is not
 *                7-bit ASCII;
 *   -EKEYREJECTED opts->sb has Secure Boot on and nothing in its db
 *                authorises the UKI: the firmware would refuse to start it;
 *   -EFBIG, -ENOMEM. */
int cvm_predict_image(const uint8_t *buf, size_t len, const struct cvm_predict_opts *opts,
		      struct cvm_prediction *ret);

/* Building blocks, exposed for tests. */

/* The two systemd-stub PCR 11 events of one section: extends pcr (one bank)
 * with H(name || NUL), then H(data).  Returns 0 or the hash error. */
int cvm_predict_section_extend(enum cvm_hash_alg alg, const char *name, const uint8_t *data, size_t len,
			       uint8_t *pcr);

/* The LoadOptions buffer systemd-stub STUB hands to the kernel for a .cmdline
 * of len bytes: UTF-16LE plus a UTF-16 NUL.  v252-255 copy up to the first
 * NUL verbatim; v256+ skip leading whitespace, turn control characters and
 * DEL into spaces and drop trailing whitespace.  *ret_buf is malloc'd.
 * Returns 0, -EOPNOTSUPP for a byte >= 0x80, -ENOMEM. */
int cvm_predict_load_options(unsigned stub, const uint8_t *cmdline, size_t len, uint8_t **ret_buf,
			     size_t *ret_len);

/* UEFI_VARIABLE_DATA as edk2 measures a variable: GUID (16 bytes, on-disk
 * order) || name length in characters (u64) || data length (u64) || name in
 * UTF-16LE without NUL || data.  name is ASCII.  *ret_buf is malloc'd.
 * Returns 0 or -ENOMEM. */
int cvm_predict_uefi_variable(const uint8_t guid[16], const char *name, const uint8_t *data, size_t len,
			      uint8_t **ret_buf, size_t *ret_len);

#endif
