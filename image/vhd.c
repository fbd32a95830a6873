/* Fixed-VHD footer writer and reader.  All footer fields are big-endian. */
#include <errno.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/vhd.h"

/* Footer field offsets (VHD specification, "Hard Disk Footer Format"). */
enum {
	F_COOKIE = 0,
	F_FEATURES = 8,
	F_VERSION = 12,
	F_DATA_OFFSET = 16,
	F_TIMESTAMP = 24,
	F_CREATOR_APP = 28,
	F_CREATOR_VER = 32,
	F_CREATOR_OS = 36,
	F_ORIG_SIZE = 40,
	F_CUR_SIZE = 48,
	F_GEOMETRY = 56,
	F_DISK_TYPE = 60,
	F_CHECKSUM = 64,
	F_UUID = 68,
	F_SAVED_STATE = 84,
};

static const char cookie[8] = { 'c', 'o', 'n', 'e', 'c', 't', 'i', 'x' };

void cvm_vhd_chs(uint64_t disk_size, uint16_t *ret_cyl, uint8_t *ret_heads, uint8_t *ret_spt)
{
	uint64_t total = disk_size / 512, cth;
	uint32_t spt, heads;

	if (total > 65535ull * 16 * 255)
		total = 65535ull * 16 * 255;
	if (total >= 65535ull * 16 * 63) {
		spt = 255;
		heads = 16;
		cth = total / spt;
	} else {
		spt = 17;
		cth = total / spt;
		heads = (uint32_t)((cth + 1023) / 1024);
		if (heads < 4)
			heads = 4;
		if (cth >= heads * 1024ull || heads > 16) {
			spt = 31;
			heads = 16;
			cth = total / spt;
		}
		if (cth >= heads * 1024ull) {
			spt = 63;
			heads = 16;
			cth = total / spt;
		}
	}
	*ret_cyl = (uint16_t)(cth / heads);
	*ret_heads = (uint8_t)heads;
	*ret_spt = (uint8_t)spt;
}

static uint32_t footer_checksum(const uint8_t f[512])
{
	uint32_t sum = 0;

	for (size_t i = 0; i < 512; i++)
		if (i < F_CHECKSUM || i >= F_CHECKSUM + 4)
			sum += f[i];
	return ~sum;
}

int cvm_vhd_footer(uint64_t disk_size, const uint8_t uuid[16], int64_t mtime, uint8_t out[512])
{
	uint8_t f[512] = { 0 };
	int64_t ts = mtime - CVM_VHD_EPOCH_OFFSET;
	uint16_t cyl;
	uint8_t heads, spt;

	if (disk_size == 0 || disk_size % CVM_VHD_ALIGN)
		return -EINVAL;
	if (mtime < CVM_VHD_EPOCH_OFFSET)
		ts = 0;
	else if (ts > (int64_t)UINT32_MAX)
		ts = UINT32_MAX;

	memcpy(f + F_COOKIE, cookie, 8);
	cvm_put_be32(f + F_FEATURES, 2); /* "reserved" bit, always set */
	cvm_put_be32(f + F_VERSION, 0x00010000);
	cvm_put_be64(f + F_DATA_OFFSET, UINT64_MAX);
	cvm_put_be32(f + F_TIMESTAMP, (uint32_t)ts);
	memcpy(f + F_CREATOR_APP, "cvmk", 4);
	cvm_put_be32(f + F_CREATOR_VER, 0x00010000);
	memcpy(f + F_CREATOR_OS, "Wi2k", 4);
	cvm_put_be64(f + F_ORIG_SIZE, disk_size);
	cvm_put_be64(f + F_CUR_SIZE, disk_size);
	cvm_vhd_chs(disk_size, &cyl, &heads, &spt);
	cvm_put_be16(f + F_GEOMETRY, cyl);
	f[F_GEOMETRY + 2] = heads;
	f[F_GEOMETRY + 3] = spt;
	cvm_put_be32(f + F_DISK_TYPE, CVM_VHD_TYPE_FIXED);
	memcpy(f + F_UUID, uuid, 16);
	f[F_SAVED_STATE] = 0;
	cvm_put_be32(f + F_CHECKSUM, footer_checksum(f));
	memcpy(out, f, 512);
	return 0;
}

int cvm_vhd_parse(const uint8_t *buf, size_t len, struct cvm_vhd_info *ret)
{
	struct cvm_vhd_info info;
	const uint8_t *f;

	if (!buf || len < CVM_VHD_FOOTER_SIZE)
		return -EBADMSG;
	f = buf + len - CVM_VHD_FOOTER_SIZE;
	if (memcmp(f + F_COOKIE, cookie, 8) != 0)
		return -EBADMSG;
	if (cvm_be32(f + F_CHECKSUM) != footer_checksum(f))
		return -EBADMSG;
	if (cvm_be64(f + F_DATA_OFFSET) != UINT64_MAX)
		return -EBADMSG;

	memset(&info, 0, sizeof(info));
	info.disk_type = cvm_be32(f + F_DISK_TYPE);
	info.current_size = cvm_be64(f + F_CUR_SIZE);
	info.original_size = cvm_be64(f + F_ORIG_SIZE);
	info.timestamp = cvm_be32(f + F_TIMESTAMP);
	info.cyl = cvm_be16(f + F_GEOMETRY);
	info.heads = f[F_GEOMETRY + 2];
	info.spt = f[F_GEOMETRY + 3];
	memcpy(info.uuid, f + F_UUID, 16);

	if (info.disk_type != CVM_VHD_TYPE_FIXED)
		return -EBADMSG;
	if (info.current_size != (uint64_t)(len - CVM_VHD_FOOTER_SIZE))
		return -EBADMSG;
	if (info.current_size == 0 || info.current_size % CVM_VHD_ALIGN)
		return -EBADMSG;
	*ret = info;
	return 0;
}
