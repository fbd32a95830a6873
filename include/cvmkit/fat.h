/* FAT12/16/32 file systems (Microsoft "FAT: General Overview of On-Disk
 * Format", fatgen103): a deterministic builder for the EFI system partition
 * and a reader for untrusted images.
 *
 * The builder writes only 8.3 upper-case names (no long-file-name entries),
 * allocates clusters contiguously in a fixed order and takes every timestamp
 * from the caller, so equal arguments give equal bytes. */
#ifndef CVMKIT_FAT_H
#define CVMKIT_FAT_H

#include <stddef.h>
#include <stdint.h>

#define CVM_FAT_SECTOR 512
/* Builder limits: image size, path length and depth, number of files. */
#define CVM_FAT_MIN_SIZE (32u * 1024u)
#define CVM_FAT_MAX_SIZE (4ull * 1024 * 1024 * 1024)
#define CVM_FAT_MAX_PATH 255
#define CVM_FAT_MAX_DEPTH 16
#define CVM_FAT_MAX_FILES 4096

struct cvm_fat_file {
	const char *path;       /* e.g. "EFI/BOOT/BOOTX64.EFI"; '/'-separated, no leading '/' */
	const uint8_t *data;    /* len bytes, borrowed for the duration of the call */
	size_t len;
};

/* Builds a FAT file system image of exactly size_bytes holding the files;
 * parent directories are created implicitly.
 *
 * Every path component must be an upper-case 8.3 name (1-8 characters, an
 * optional '.' and 1-3 more, from A-Z 0-9 ! # $ % & ' ( ) - @ ^ _ ` { } ~);
 * a path may not name a file twice or use a file as a directory.
 * label is at most 11 characters of the same set plus space (NULL or "" for
 * "NO NAME"); volume_id goes to the boot sector.  All timestamps (creation,
 * write, access) are mtime, Unix seconds, converted to FAT date/time in UTC
 * and clamped to 1980-01-01..2107-12-31.
 *
 * The FAT type follows the cluster count as fatgen103 defines it (< 4085
 * FAT12, < 65525 FAT16, else FAT32); the sectors per cluster come from
 * fatgen103's default tables (FAT16 up to 260 MB: 2 KiB clusters for
 * 16-128 MiB, so a 20-64 MiB ESP is FAT16), with a search for the nearest
 * consistent geometry when the table's choice does not fit.  2 FATs, media
 * 0xF8, 512 root entries on FAT12/16, 32 reserved sectors with FSInfo at 1
 * and the backup boot sector at 6 on FAT32; hidden sectors 0.
 *
 * On success *ret_buf (malloc'd, size_bytes long, owned by the caller) and
 * *ret_len are set.  Returns 0; -EINVAL for a bad size (not a multiple of
 * 512, below CVM_FAT_MIN_SIZE or above CVM_FAT_MAX_SIZE), path, label or
 * over-limit argument; -ENOSPC when the files do not fit; -ENOMEM. */
int cvm_fat_build(uint64_t size_bytes, const char *label, uint32_t volume_id, int64_t mtime,
		  const struct cvm_fat_file *files, size_t n_files, uint8_t **ret_buf, size_t *ret_len);

/* The same volume written into DST, size_bytes of zeros owned by the caller
 * (the ESP's place in a disk image: no buffer of its own, no copy).  DST is
 * not touched unless the result is 0; the same errors, -EINVAL for a NULL
 * DST. */
int cvm_fat_build_into(uint8_t *dst, uint64_t size_bytes, const char *label, uint32_t volume_id, int64_t mtime,
		       const struct cvm_fat_file *files, size_t n_files);

/* Reads the file at path (components separated by '/'; matched against 8.3
 * names case-insensitively and against long file names, ASCII
 * case-insensitively) from the untrusted FAT12/16/32 image img[0..len).
 * The BPB is validated, every cluster number and every offset is checked
 * against the FAT and len, chains are bounded by the cluster count (loops are
 * errors), directories by 65536 entries.
 *
 * On success *ret_buf is malloc'd (with one NUL byte past *ret_len), owned by
 * the caller.  Returns 0; -ENOENT if a component is absent (or an
 * intermediate one is not a directory); -EISDIR if path names a directory;
 * -EFBIG if the file is larger than max; -EBADMSG if the image is malformed;
 * -EINVAL for an empty or over-long path; -ENOMEM. */
int cvm_fat_read_file(const uint8_t *img, size_t len, const char *path, size_t max,
		      uint8_t **ret_buf, size_t *ret_len);

/* The same file without a copy: *ret_view points into img (valid as long as
 * img is), when the file's clusters are one run of consecutive clusters, as
 * cvm_fat_build() writes them.  The same checks and errors as
 * cvm_fat_read_file(), and -ENODATA for a file in several pieces (read it
 * with cvm_fat_read_file()).  No allocation for the file itself. */
int cvm_fat_view_file(const uint8_t *img, size_t len, const char *path, size_t max,
		      const uint8_t **ret_view, size_t *ret_len);

#endif
