/* The initramfs as cvm-image compresses it, and the cache that makes a
 * rebuild after a workload change cheap.
 *
 * The uncompressed initramfs is a concatenation of newc archives: a FIXED
 * part that depends only on the init, the kernel modules and the build's
 * timestamp (/dev/console, /init, the modules, the mount points), then the
 * REST (the init's configuration, the workload, a container image's tree).
 * The compressed initramfs is one LZ4 legacy frame:
 *
 *   magic, cvm_lz4_legacy_blocks(FIXED), cvm_lz4_legacy_blocks(REST), u32 0
 *
 * LZ4 legacy blocks are independent, so the blocks of FIXED are the same
 * bytes whatever follows them: a warm build takes them from the cache, a
 * clean build computes them, and both write the same initramfs.  The kernel
 * (lib/decompress_unlz4.c) and lz4(1) accept a short block before the last;
 * the kernel's cpio unpacker reads the concatenated archives as one stream.
 * The final zero block size is where the kernel's decoder stops: systemd-stub
 * (v257) appends its own cpio (/.extra/os-release) after the .initrd, which
 * the kernel would otherwise try to decode as one more LZ4 block.
 *
 * The cache is a directory of entries named by a SHA-256 over everything the
 * blocks depend on: a format tag, liblz4's version, the level, the block
 * size, and the input bytes themselves (never a path or an mtime).  An entry
 * is used only when its header repeats that key material, its own SHA-256 of
 * the blocks matches, and the blocks decode to exactly the input (a damaged
 * or foreign entry is recompressed and replaced, never trusted).  Entries
 * are written with a temporary file and rename (no fsync: a torn entry fails
 * the checks), and the directory keeps the CVM_INITRD_CACHE_KEEP most
 * recently used.  A cache that cannot be read or written costs time only. */
#ifndef CVMKIT_INITRD_H
#define CVMKIT_INITRD_H

#include <stddef.h>
#include <stdint.h>

#define CVM_INITRD_CACHE_KEEP 16

enum cvm_initrd_cache_result {
	CVM_INITRD_CACHE_OFF,      /* no cache directory */
	CVM_INITRD_CACHE_HIT,      /* the blocks came from the cache */
	CVM_INITRD_CACHE_STORED,   /* compressed, and stored for the next build */
	CVM_INITRD_CACHE_UNSTORED, /* compressed; storing failed (error says why) */
};

struct cvm_initrd_cache_info {
	enum cvm_initrd_cache_result result;
	int error;     /* UNSTORED: the negative errno of the failed store */
	int replaced;  /* 1 when an entry of that name failed the checks */
	char key[65];  /* the entry's name (hex), "" when OFF */
};

/* cvm_lz4_legacy_blocks(IN, LEN, LEVEL) through the cache in DIR (created if
 * missing; NULL = no cache).  The bytes are identical either way.  Returns 0
 * with *ret_buf malloc'd (caller frees) and *ret_len, and *ret_info filled;
 * or the errors of cvm_lz4_legacy_blocks().  Cache failures are not errors:
 * they are reported in *ret_info. */
int cvm_lz4_blocks_cached(const char *dir, const uint8_t *in, size_t len, int level, uint8_t **ret_buf,
			  size_t *ret_len, struct cvm_initrd_cache_info *ret_info);

/* The compressed initramfs of FIXED || REST as described above, FIXED's
 * blocks through the cache in CACHE_DIR (NULL = none), at
 * CVM_LZ4_LEGACY_LEVEL.  Returns 0 with *ret_buf malloc'd (caller frees),
 * *ret_len and *ret_info; -EINVAL, -EFBIG, -ENOMEM or -EIO. */
int cvm_initrd_compress(const uint8_t *fixed, size_t flen, const uint8_t *rest, size_t rlen, const char *cache_dir,
			uint8_t **ret_buf, size_t *ret_len, struct cvm_initrd_cache_info *ret_info);

#endif
