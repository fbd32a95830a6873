/* GUID Partition Table (UEFI 2.10 §5.3) writer and reader.
 *
 * The writer lays out what cvmkit images need and nothing more: a protective
 * MBR, a primary header at LBA 1 with a 128-entry array at LBA 2..33, and the
 * backup array and header in the last 33 sectors.  Every byte is a function of
 * the arguments (GUIDs come from cvm_guid_derive with a caller-given seed).
 *
 * The reader takes untrusted disk images (cvm-measure locates the UKI with it)
 * and also yields the EFI_GPT_DATA payload firmware measures into PCR 5.
 *
 * GUIDs are always handled in their on-disk, mixed-endian byte order: the
 * first three fields little-endian, the last eight bytes as written. */
#ifndef CVMKIT_GPT_H
#define CVMKIT_GPT_H

#include <stddef.h>
#include <stdint.h>

#define CVM_GPT_SECTOR 512
#define CVM_GPT_ENTRIES 128            /* 128 entries x 128 bytes = 32 sectors */
#define CVM_GPT_ENTRY_SIZE 128
#define CVM_GPT_HEADER_SIZE 92
/* The writer's fixed layout: MBR + header + 32 sectors of entries at the
 * start, 32 + 1 at the end. */
#define CVM_GPT_FIRST_USABLE 34
#define CVM_GPT_MIN_SECTORS 68
/* The reader's caps on what an untrusted header may declare. */
#define CVM_GPT_MAX_ENTRY_SIZE 4096
#define CVM_GPT_MAX_ARRAY_BYTES (1024u * 1024u)

struct cvm_gpt_partition {
	uint8_t type_guid[16], part_guid[16];   /* on-disk (mixed-endian) byte order */
	uint64_t first_lba, last_lba, attributes;
	char name[37];                          /* ASCII, stored as UTF-16LE */
};

/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B, on-disk order. */
extern const uint8_t CVM_GPT_TYPE_ESP[16];

/* Deterministic GUID: the first 16 bytes of SHA-256(label || seed) with the
 * RFC 4122 version (4) and variant (10b) bits set, in on-disk byte order.
 * label is a NUL-terminated string (its NUL is not hashed). */
void cvm_guid_derive(const char *label, const uint8_t *seed, size_t seed_len, uint8_t out[16]);

/* Formats on-disk GUID bytes as "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"
 * (upper case, as UEFI prints them) plus a NUL; out must hold 37 bytes. */
void cvm_guid_format(const uint8_t guid[16], char *out);

/* Parses the textual form (either case) into on-disk bytes; 0 or -EINVAL. */
int cvm_guid_parse(const char *s, uint8_t out[16]);

/* Fills the entry array (CVM_GPT_ENTRIES x CVM_GPT_ENTRY_SIZE bytes) for a
 * disk of n_sectors sectors: partition i in slot i, the rest zero.
 * Partitions must have a non-zero type GUID, an ASCII name of at most 36
 * characters, first_lba <= last_lba, lie within the writer's usable range
 * CVM_GPT_FIRST_USABLE..n_sectors-34, and not overlap one another.
 *
 * Returns 0, or -EINVAL (bad partition, n_parts > CVM_GPT_ENTRIES, or
 * n_sectors < CVM_GPT_MIN_SECTORS); ret_entries is written only on success. */
int cvm_gpt_entries(uint64_t n_sectors, const struct cvm_gpt_partition *parts, size_t n_parts,
		    uint8_t ret_entries[CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE]);

/* Computes the primary (LBA 1) and backup (last LBA) headers, 92 bytes each
 * with both CRCs filled, for a disk of n_sectors sectors holding the given
 * entry array (which may have been arranged by the caller, e.g. with gaps).
 * Needs no disk in memory, so large disks can be predicted.
 *
 * Returns 0, or -EINVAL when n_sectors < CVM_GPT_MIN_SECTORS. */
int cvm_gpt_headers(uint64_t n_sectors, const uint8_t disk_guid[16],
		    const uint8_t entries[CVM_GPT_ENTRIES * CVM_GPT_ENTRY_SIZE],
		    uint8_t ret_primary[CVM_GPT_HEADER_SIZE], uint8_t ret_backup[CVM_GPT_HEADER_SIZE]);

/* Writes protective MBR (LBA 0), primary header (LBA 1) + entries (LBA 2..33),
 * backup entries and backup header at the end of disk[0..disk_len) (a
 * multiple of 512).  Only sectors 0..33 and the last 33 are written (whole
 * sectors, zero-padded); partition contents are left alone.
 *
 * Returns 0, -ENOMEM, or -EINVAL as cvm_gpt_entries or when disk_len is not a multiple
 * of 512 (disk is then untouched). */
int cvm_gpt_write(uint8_t *disk, size_t disk_len, const uint8_t disk_guid[16],
		  const struct cvm_gpt_partition *parts, size_t n_parts);

struct cvm_gpt {
	uint8_t header[92];          /* the primary header exactly as on disk */
	uint8_t disk_guid[16];
	uint64_t first_usable, last_usable, alternate_lba;
	uint32_t n_entries, entry_size;
	size_t n_parts;              /* non-empty entries, in table order */
	struct cvm_gpt_partition parts[CVM_GPT_ENTRIES];
};

/* Reads the primary GPT of the untrusted image disk[0..len) (sectors of 512
 * bytes; a trailing partial sector is ignored).  Checks: signature, MyLBA 1,
 * header size 92..512, header CRC, entry size a power of two 128..4096,
 * entry array within the caps above, inside the disk and matching its CRC,
 * first_usable <= last_usable < disk sectors, alternate LBA inside the disk,
 * and every non-empty entry inside first_usable..last_usable.  Names are
 * converted to ASCII ('?' for anything else).  The backup GPT is not read.
 *
 * Returns 0 and fills *ret; -EBADMSG for a malformed or absent GPT; -E2BIG
 * when more than CVM_GPT_ENTRIES entries are in use. */
int cvm_gpt_parse(const uint8_t *disk, size_t len, struct cvm_gpt *ret);

/* Index in g->parts of the first partition of type type_guid, or -ENOENT. */
int cvm_gpt_find(const struct cvm_gpt *g, const uint8_t type_guid[16]);

/* The UEFI_GPT_DATA event payload edk2 measures into PCR 5: header (92 bytes
 * as on disk) || NumberOfPartitions u64 || each non-empty entry (entry_size
 * bytes, as on disk, table order).  On success *ret_buf is malloc'd and owned
 * by the caller.  Returns 0, the errors of cvm_gpt_parse, or -ENOMEM. */
int cvm_gpt_event_data(const uint8_t *disk, size_t len, uint8_t **ret_buf, size_t *ret_len);

#endif
