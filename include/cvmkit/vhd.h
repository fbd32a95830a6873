/* Fixed VHD (Microsoft Virtual Hard Disk Image Format Specification, 2006):
 * a raw disk followed by one 512-byte footer.  Azure accepts only fixed VHDs
 * whose virtual size is a whole number of MiB, so both the writer and the
 * reader insist on that.
 *
 * The writer is deterministic: the timestamp and the unique id come from the
 * caller (SOURCE_DATE_EPOCH and a seed-derived GUID). */
#ifndef CVMKIT_VHD_H
#define CVMKIT_VHD_H

#include <stddef.h>
#include <stdint.h>

#define CVM_VHD_FOOTER_SIZE 512
#define CVM_VHD_ALIGN (1024u * 1024u)
#define CVM_VHD_TYPE_FIXED 2
/* Seconds between the Unix epoch and the VHD epoch (2000-01-01 00:00:00 UTC). */
#define CVM_VHD_EPOCH_OFFSET 946684800

/* Fills out[512] with the footer of a fixed VHD whose data part is disk_size
 * bytes: cookie "conectix", features 2, version 1.0, data offset all-ones,
 * timestamp = mtime - CVM_VHD_EPOCH_OFFSET clamped to [0, UINT32_MAX],
 * creator "cvmk" version 1.0 on "Wi2k", original size = current size =
 * disk_size, the CHS geometry of the specification's algorithm, disk type 2,
 * the one's-complement checksum, uuid copied as given, saved state 0.
 *
 * Returns 0, or -EINVAL when disk_size is 0 or not a multiple of 1 MiB
 * (out is then untouched). */
int cvm_vhd_footer(uint64_t disk_size, const uint8_t uuid[16], int64_t mtime, uint8_t out[512]);

/* The geometry the specification's CHS algorithm gives for disk_size bytes
 * (sizes above 65535*16*255 sectors are clamped there, as the spec does). */
void cvm_vhd_chs(uint64_t disk_size, uint16_t *ret_cyl, uint8_t *ret_heads, uint8_t *ret_spt);

struct cvm_vhd_info {
	uint64_t current_size, original_size;
	uint32_t disk_type, timestamp;
	uint16_t cyl;
	uint8_t heads, spt;
	uint8_t uuid[16];
};

/* Validates a whole fixed-VHD file buf[0..len) (untrusted): the footer at
 * len-512 must carry the cookie, a correct checksum, disk type 2 and data
 * offset all-ones, and current_size must equal len-512 and be a non-zero
 * multiple of 1 MiB.  The data part itself is not inspected.
 *
 * Returns 0 and fills *ret, or -EBADMSG for anything malformed (no detail:
 * callers print one sentence). */
int cvm_vhd_parse(const uint8_t *buf, size_t len, struct cvm_vhd_info *ret);

#endif
