/* FAT builder and reader.  Structure offsets and the type-by-cluster-count
 * rule follow fatgen103 (Microsoft FAT specification, 2000). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fat.h"

enum { FAT12 = 12, FAT16 = 16, FAT32 = 32 };

/* Directory entry offsets and attributes. */
enum {
	D_NAME = 0,
	D_ATTR = 11,
	D_NTRES = 12,
	D_CRT_TENTH = 13,
	D_CRT_TIME = 14,
	D_CRT_DATE = 16,
	D_ACC_DATE = 18,
	D_CLUS_HI = 20,
	D_WRT_TIME = 22,
	D_WRT_DATE = 24,
	D_CLUS_LO = 26,
	D_SIZE = 28,
	DIRENT = 32,
};
#define ATTR_READ_ONLY 0x01
#define ATTR_HIDDEN 0x02
#define ATTR_SYSTEM 0x04
#define ATTR_VOLUME_ID 0x08
#define ATTR_DIRECTORY 0x10
#define ATTR_ARCHIVE 0x20
#define ATTR_LONG_NAME 0x0f
#define ATTR_LONG_MASK 0x3f

#define MAX_DIR_ENTRIES 65536u

static int fat_type_of(uint64_t clusters)
{
	if (clusters < 4085)
		return FAT12;
	if (clusters < 65525)
		return FAT16;
	return FAT32;
}

/* ------------------------------------------------------------------ builder */

static int valid_83_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("!#$%&'()-@^_`{}~", c));
}

/* Upper-case 8.3 component [s, s+n) -> 11-byte space-padded name. */
static int name_83(const char *s, size_t n, uint8_t out[11])
{
	const char *dot = memchr(s, '.', n);
	size_t base = dot ? (size_t)(dot - s) : n, ext = dot ? n - base - 1 : 0;

	if (base < 1 || base > 8 || (dot && (ext < 1 || ext > 3)))
		return -EINVAL;
	memset(out, ' ', 11);
	for (size_t i = 0; i < base; i++) {
		if (!valid_83_char((unsigned char)s[i]))
			return -EINVAL;
		out[i] = (uint8_t)s[i];
	}
	for (size_t i = 0; i < ext; i++) {
		if (!valid_83_char((unsigned char)dot[1 + i]))
			return -EINVAL;
		out[8 + i] = (uint8_t)dot[1 + i];
	}
	/* 0xE5 cannot occur (not in the character set), so no 0x05 escape. */
	return 0;
}

struct node {
	uint8_t name[11];
	int is_dir;
	const uint8_t *data;
	size_t len;
	size_t first_child, next_sibling, last_child; /* 0 = none (node 0 is the root) */
	uint32_t first_cluster, n_clusters;
};

struct geo {
	int type;
	uint32_t spc, rsvd, root_entries, root_secs, fatsz;
	uint64_t total, clusters;
};

/* Layout for (type, spc); 0 if the resulting cluster count really makes a
 * file system of that type. */
static int geometry(uint64_t total, int type, uint32_t spc, struct geo *g)
{
	uint64_t fatsz, data, clusters;

	g->type = type;
	g->spc = spc;
	g->total = total;
	g->rsvd = type == FAT32 ? 32 : 1;
	g->root_entries = type == FAT32 ? 0 : 512;
	g->root_secs = g->root_entries * DIRENT / CVM_FAT_SECTOR;
	if (total <= g->rsvd + g->root_secs + 2 + spc)
		return -EINVAL;
	/* Start from the FAT size that would map every sector, then shrink
	 * while a smaller FAT still covers the clusters it leaves. */
	fatsz = ((total / spc + 2) * (uint64_t)type / 8 + CVM_FAT_SECTOR - 1) / CVM_FAT_SECTOR;
	for (;;) {
		uint64_t f = fatsz - 1, need;
		if (f == 0 || g->rsvd + g->root_secs + 2 * f >= total)
			break;
		data = total - g->rsvd - g->root_secs - 2 * f;
		need = ((data / spc + 2) * (uint64_t)type / 8 + CVM_FAT_SECTOR - 1) / CVM_FAT_SECTOR;
		if (need > f)
			break;
		fatsz = f;
	}
	if (g->rsvd + g->root_secs + 2 * fatsz >= total)
		return -EINVAL;
	data = total - g->rsvd - g->root_secs - 2 * fatsz;
	clusters = data / spc;
	g->fatsz = (uint32_t)fatsz;
	g->clusters = clusters;
	if (clusters == 0 || fat_type_of(clusters) != type)
		return -EINVAL;
	/* FAT32 cluster numbers are 28 bits; keep clear of the reserved values. */
	if (clusters > 0x0FFFFFF5 - 2)
		return -EINVAL;
	return 0;
}

static int pick_geometry(uint64_t total, struct geo *g)
{
	static const int types[3] = { FAT16, FAT12, FAT32 };
	uint32_t spc;
	int type;

	/* fatgen103 DskTableFAT16 / DskTableFAT32. */
	if (total <= 8400) {
		type = FAT12;
		spc = 1;
	} else if (total < 532480) {
		type = FAT16;
		spc = total <= 32680 ? 2 : total <= 262144 ? 4 : 8;
	} else {
		type = FAT32;
		spc = total <= 16777216 ? 8 : total <= 33554432 ? 16 : total <= 67108864 ? 32 : 64;
	}
	if (geometry(total, type, spc, g) == 0)
		return 0;
	/* Same type, nearby cluster sizes first, then any consistent layout. */
	for (uint32_t s = 1; s <= 64; s <<= 1)
		if (geometry(total, type, s, g) == 0)
			return 0;
	for (int t = 0; t < 3; t++)
		for (uint32_t s = 1; s <= 64; s <<= 1)
			if (geometry(total, types[t], s, g) == 0)
				return 0;
	return -EINVAL;
}

static void fat_set(uint8_t *fat, int type, uint32_t n, uint32_t v)
{
	if (type == FAT12) {
		uint8_t *p = fat + n + n / 2;
		if (n & 1) {
			p[0] = (uint8_t)((p[0] & 0x0f) | (v & 0x0f) << 4);
			p[1] = (uint8_t)(v >> 4);
		} else {
			p[0] = (uint8_t)v;
			p[1] = (uint8_t)((p[1] & 0xf0) | ((v >> 8) & 0x0f));
		}
	} else if (type == FAT16) {
		cvm_put_le16(fat + 2 * n, (uint16_t)v);
	} else {
		cvm_put_le32(fat + 4 * n, v & 0x0FFFFFFF);
	}
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

struct fat_time { uint16_t date, time; uint8_t tenth; };

static struct fat_time fat_time_of(int64_t t)
{
	/* 1980-01-01 and 2107-12-31 23:59:59 UTC, the FAT date range. */
	const int64_t lo = 315532800, hi = 4354819199;
	struct fat_time ft;
	int64_t days, secs, y;
	unsigned m, d;

	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	days = t / 86400;
	secs = t % 86400;
	civil_from_days(days, &y, &m, &d);
	ft.date = (uint16_t)((y - 1980) << 9 | m << 5 | d);
	ft.time = (uint16_t)((secs / 3600) << 11 | (secs / 60 % 60) << 5 | (secs % 60) / 2);
	ft.tenth = (uint8_t)((secs % 2) * 100);
	return ft;
}

static void put_dirent(uint8_t *e, const uint8_t name[11], uint8_t attr, uint32_t cluster, uint32_t size,
		       const struct fat_time *ft)
{
	memcpy(e + D_NAME, name, 11);
	e[D_ATTR] = attr;
	e[D_NTRES] = 0;
	if (attr & ATTR_VOLUME_ID) {
		/* The label entry carries only a write time. */
		cvm_put_le16(e + D_WRT_TIME, ft->time);
		cvm_put_le16(e + D_WRT_DATE, ft->date);
		return;
	}
	e[D_CRT_TENTH] = ft->tenth;
	cvm_put_le16(e + D_CRT_TIME, ft->time);
	cvm_put_le16(e + D_CRT_DATE, ft->date);
	cvm_put_le16(e + D_ACC_DATE, ft->date);
	cvm_put_le16(e + D_CLUS_HI, (uint16_t)(cluster >> 16));
	cvm_put_le16(e + D_WRT_TIME, ft->time);
	cvm_put_le16(e + D_WRT_DATE, ft->date);
	cvm_put_le16(e + D_CLUS_LO, (uint16_t)cluster);
	cvm_put_le32(e + D_SIZE, size);
}

/* Adds files[i]'s path to the tree; nodes[] has room for every component. */
static int tree_add(struct node *nodes, size_t *n_nodes, const struct cvm_fat_file *f)
{
	const char *p = f->path, *end;
	size_t cur = 0, depth = 0;

	if (!p || !*p || strlen(p) > CVM_FAT_MAX_PATH || (f->len && !f->data))
		return -EINVAL;
	if (f->len > UINT32_MAX)
		return -ENOSPC;
	for (;; p = end + 1) {
		uint8_t name[11];
		size_t c;
		int last, r;

		end = strchr(p, '/');
		last = !end;
		if (last)
			end = p + strlen(p);
		if (++depth > CVM_FAT_MAX_DEPTH)
			return -EINVAL;
		r = name_83(p, (size_t)(end - p), name);
		if (r < 0)
			return r;
		for (c = nodes[cur].first_child; c; c = nodes[c].next_sibling)
			if (memcmp(nodes[c].name, name, 11) == 0)
				break;
		if (c) {
			/* Existing: fine only as an intermediate directory. */
			if (last || !nodes[c].is_dir)
				return -EINVAL;
		} else {
			c = (*n_nodes)++;
			memset(&nodes[c], 0, sizeof(nodes[c]));
			memcpy(nodes[c].name, name, 11);
			nodes[c].is_dir = !last;
			if (last) {
				nodes[c].data = f->data;
				nodes[c].len = f->len;
			}
			if (nodes[cur].last_child)
				nodes[nodes[cur].last_child].next_sibling = c;
			else
				nodes[cur].first_child = c;
			nodes[cur].last_child = c;
		}
		cur = c;
		if (last)
			return 0;
	}
}

static uint64_t dir_entries(const struct node *nodes, size_t i, int has_label)
{
	uint64_t n = i == 0 ? (uint64_t)has_label : 2; /* volume label, or "." and ".." */

	for (size_t c = nodes[i].first_child; c; c = nodes[c].next_sibling)
		n++;
	return n;
}

static int check_label(const char *label, uint8_t out[11])
{
	size_t n;

	memcpy(out, "NO NAME    ", 11);
	if (!label || !*label)
		return 0;
	n = strlen(label);
	if (n > 11 || label[0] == ' ')
		return -EINVAL;
	memset(out, ' ', 11);
	for (size_t i = 0; i < n; i++) {
		if (label[i] != ' ' && !valid_83_char((unsigned char)label[i]))
			return -EINVAL;
		out[i] = (uint8_t)label[i];
	}
	return 0;
}

/* Writes the directory of node i: its entries, into its clusters (or the fixed root). */
static void write_dir(uint8_t *dst, const struct node *nodes, size_t i, size_t parent, const uint8_t *label,
		      const struct fat_time *ft)
{
	uint8_t *e = dst;

	if (i == 0) {
		if (label) {
			put_dirent(e, label, ATTR_VOLUME_ID, 0, 0, ft);
			e += DIRENT;
		}
	} else {
		static const uint8_t dot[11] = ".          ", dotdot[11] = "..         ";
		uint32_t up = parent == 0 ? 0 : nodes[parent].first_cluster;
		put_dirent(e, dot, ATTR_DIRECTORY, nodes[i].first_cluster, 0, ft);
		put_dirent(e + DIRENT, dotdot, ATTR_DIRECTORY, up, 0, ft);
		e += 2 * DIRENT;
	}
	for (size_t c = nodes[i].first_child; c; c = nodes[c].next_sibling) {
		if (nodes[c].is_dir)
			put_dirent(e, nodes[c].name, ATTR_DIRECTORY, nodes[c].first_cluster, 0, ft);
		else
			put_dirent(e, nodes[c].name, ATTR_ARCHIVE, nodes[c].first_cluster, (uint32_t)nodes[c].len, ft);
		e += DIRENT;
	}
}

static void write_boot_sector(uint8_t *b, const struct geo *g, const uint8_t label[11], uint32_t volume_id)
{
	uint8_t *x;

	b[0] = 0xeb;
	b[1] = g->type == FAT32 ? 0x58 : 0x3c;
	b[2] = 0x90;
	memcpy(b + 3, "MSWIN4.1", 8);
	cvm_put_le16(b + 11, CVM_FAT_SECTOR);
	b[13] = (uint8_t)g->spc;
	cvm_put_le16(b + 14, (uint16_t)g->rsvd);
	b[16] = 2;
	cvm_put_le16(b + 17, (uint16_t)g->root_entries);
	if (g->type != FAT32 && g->total < 65536)
		cvm_put_le16(b + 19, (uint16_t)g->total);
	else
		cvm_put_le32(b + 32, (uint32_t)g->total);
	b[21] = 0xf8;
	if (g->type != FAT32)
		cvm_put_le16(b + 22, (uint16_t)g->fatsz);
	cvm_put_le16(b + 24, 63);
	cvm_put_le16(b + 26, 255);
	if (g->type == FAT32) {
		cvm_put_le32(b + 36, g->fatsz);
		cvm_put_le32(b + 44, 2); /* root cluster */
		cvm_put_le16(b + 48, 1); /* FSInfo */
		cvm_put_le16(b + 50, 6); /* backup boot sector */
		x = b + 64;
	} else {
		x = b + 36;
	}
	x[0] = 0x80;
	x[2] = 0x29;
	cvm_put_le32(x + 3, volume_id);
	memcpy(x + 7, label, 11);
	memcpy(x + 18, g->type == FAT12 ? "FAT12   " : g->type == FAT16 ? "FAT16   " : "FAT32   ", 8);
	/* Boot code for legacy BIOS boots: cli; hlt; jmp $-1 (the jump above lands here). */
	x += 26;
	x[0] = 0xfa;
	x[1] = 0xf4;
	x[2] = 0xeb;
	x[3] = 0xfd;
	b[510] = 0x55;
	b[511] = 0xaa;
}

/* Writes the volume into dst (size_bytes of zeros, not touched before
 * every check passed), or into a new buffer when dst is NULL. */
static int fat_build(uint8_t *dst, uint64_t size_bytes, const char *label, uint32_t volume_id, int64_t mtime,
		     const struct cvm_fat_file *files, size_t n_files, uint8_t **ret_buf, size_t *ret_len)
{
	struct node *nodes = NULL;
	size_t n_nodes = 1;
	uint8_t lab[11], *img = NULL, *fat;
	struct fat_time ft = fat_time_of(mtime);
	uint64_t csize, next, fat_off, data_off, root_off;
	struct geo g;
	int r, has_label;

	if (size_bytes % CVM_FAT_SECTOR || size_bytes < CVM_FAT_MIN_SIZE || size_bytes > CVM_FAT_MAX_SIZE ||
	    size_bytes > SIZE_MAX || n_files > CVM_FAT_MAX_FILES || (n_files && !files))
		return -EINVAL;
	r = check_label(label, lab);
	if (r < 0)
		return r;
	has_label = label && *label;
	r = pick_geometry(size_bytes / CVM_FAT_SECTOR, &g);
	if (r < 0)
		return r;

	nodes = calloc(1 + n_files * CVM_FAT_MAX_DEPTH, sizeof(*nodes));
	if (!nodes) {
		r = -ENOMEM;
		goto out;
	}
	nodes[0].is_dir = 1;
	for (size_t i = 0; i < n_files; i++) {
		r = tree_add(nodes, &n_nodes, &files[i]);
		if (r < 0)
			goto out;
	}

	/* Allocate clusters in node order (parents before children, files in
	 * the order given): FAT32's root first, at cluster 2. */
	csize = (uint64_t)g.spc * CVM_FAT_SECTOR;
	next = 2;
	if (g.type != FAT32 && dir_entries(nodes, 0, has_label) > g.root_entries) {
		r = -ENOSPC;
		goto out;
	}
	for (size_t i = g.type == FAT32 ? 0 : 1; i < n_nodes; i++) {
		uint64_t bytes = nodes[i].is_dir ? dir_entries(nodes, i, has_label) * DIRENT : nodes[i].len;
		uint64_t n = (bytes + csize - 1) / csize;

		if (nodes[i].is_dir && dir_entries(nodes, i, has_label) > MAX_DIR_ENTRIES) {
			r = -ENOSPC;
			goto out;
		}
		if (n == 0) /* empty file: no cluster, start 0 */
			continue;
		if (n > g.clusters + 2 - next) {
			r = -ENOSPC;
			goto out;
		}
		nodes[i].first_cluster = (uint32_t)next;
		nodes[i].n_clusters = (uint32_t)n;
		next += n;
	}

	img = dst ? dst : calloc(1, (size_t)size_bytes);
	if (!img) {
		r = -ENOMEM;
		goto out;
	}
	write_boot_sector(img, &g, lab, volume_id);
	fat_off = (uint64_t)g.rsvd * CVM_FAT_SECTOR;
	root_off = fat_off + 2ull * g.fatsz * CVM_FAT_SECTOR;
	data_off = root_off + (uint64_t)g.root_secs * CVM_FAT_SECTOR;
	if (g.type == FAT32) {
		uint8_t *fsi = img + CVM_FAT_SECTOR;
		cvm_put_le32(fsi, 0x41615252);
		cvm_put_le32(fsi + 484, 0x61417272);
		cvm_put_le32(fsi + 488, (uint32_t)(g.clusters + 2 - next));
		cvm_put_le32(fsi + 492, (uint32_t)next);
		cvm_put_le32(fsi + 508, 0xaa550000);
		memcpy(img + 6 * CVM_FAT_SECTOR, img, 2 * CVM_FAT_SECTOR);
	}

	fat = img + fat_off;
	fat_set(fat, g.type, 0, 0x0FFFFF00 | 0xf8);
	fat_set(fat, g.type, 1, 0x0FFFFFFF);
	for (size_t i = 0; i < n_nodes; i++) {
		uint32_t c = nodes[i].first_cluster, eoc = g.type == FAT12 ? 0xFFF : g.type == FAT16 ? 0xFFFF : 0x0FFFFFFF;
		for (uint32_t k = 0; k < nodes[i].n_clusters; k++)
			fat_set(fat, g.type, c + k, k + 1 == nodes[i].n_clusters ? eoc : c + k + 1);
	}
	memcpy(img + fat_off + (uint64_t)g.fatsz * CVM_FAT_SECTOR, fat, (size_t)g.fatsz * CVM_FAT_SECTOR);

	/* Directory contents and file data.  A node's parent is found by
	 * walking the tree once from the root (depth-first). */
	{
		size_t stack[CVM_FAT_MAX_DEPTH + 2], cur[CVM_FAT_MAX_DEPTH + 2], sp = 0;

		write_dir(g.type == FAT32 ? img + data_off : img + root_off, nodes, 0, 0, has_label ? lab : NULL, &ft);
		stack[0] = 0;
		cur[0] = nodes[0].first_child;
		for (;;) {
			size_t c = cur[sp];
			if (!c) {
				if (sp == 0)
					break;
				sp--;
				continue;
			}
			cur[sp] = nodes[c].next_sibling;
			if (nodes[c].first_cluster) {
				uint8_t *dst = img + data_off + (uint64_t)(nodes[c].first_cluster - 2) * csize;
				if (nodes[c].is_dir)
					write_dir(dst, nodes, c, stack[sp], NULL, &ft);
				else
					memcpy(dst, nodes[c].data, nodes[c].len);
			}
			if (nodes[c].is_dir) {
				sp++;
				stack[sp] = c;
				cur[sp] = nodes[c].first_child;
			}
		}
	}

	if (ret_buf)
		*ret_buf = img;
	if (ret_len)
		*ret_len = (size_t)size_bytes;
	img = NULL;
	r = 0;
out:
	if (img != dst)
		free(img);
	free(nodes);
	return r;
}

int cvm_fat_build(uint64_t size_bytes, const char *label, uint32_t volume_id, int64_t mtime,
		  const struct cvm_fat_file *files, size_t n_files, uint8_t **ret_buf, size_t *ret_len)
{
	return fat_build(NULL, size_bytes, label, volume_id, mtime, files, n_files, ret_buf, ret_len);
}

int cvm_fat_build_into(uint8_t *dst, uint64_t size_bytes, const char *label, uint32_t volume_id, int64_t mtime,
		       const struct cvm_fat_file *files, size_t n_files)
{
	if (!dst)
		return -EINVAL;
	return fat_build(dst, size_bytes, label, volume_id, mtime, files, n_files, NULL, NULL);
}

/* ------------------------------------------------------------------- reader */

struct vol {
	const uint8_t *img;
	size_t len;
	int type;
	uint32_t bps, csize, count, root_clus, root_entries;
	uint64_t fat_off, fat_bytes, root_off, data_off;
	/* One bit per cluster whose data lies inside the image: a chain that
	 * visits a cluster twice loops (or is cross-linked onto itself). */
	uint8_t *seen;
	size_t seen_bytes;
};

static int vol_open(const uint8_t *img, size_t len, struct vol *v)
{
	uint32_t bps, spc, rsvd, nfats, root_entries, root_secs;
	uint64_t tot, fatsz, first_data, need;

	if (!img || len < 512)
		return -EBADMSG;
	if (img[510] != 0x55 || img[511] != 0xaa)
		return -EBADMSG;
	bps = cvm_le16(img + 11);
	spc = img[13];
	rsvd = cvm_le16(img + 14);
	nfats = img[16];
	root_entries = cvm_le16(img + 17);
	tot = cvm_le16(img + 19) ? cvm_le16(img + 19) : cvm_le32(img + 32);
	fatsz = cvm_le16(img + 22) ? cvm_le16(img + 22) : cvm_le32(img + 36);
	if (bps != 512 && bps != 1024 && bps != 2048 && bps != 4096)
		return -EBADMSG;
	if (spc == 0 || (spc & (spc - 1)) || rsvd == 0 || nfats == 0 || fatsz == 0)
		return -EBADMSG;
	root_secs = (root_entries * DIRENT + bps - 1) / bps;
	first_data = rsvd + nfats * fatsz + root_secs;
	if (tot <= first_data)
		return -EBADMSG;

	memset(v, 0, sizeof(*v));
	v->img = img;
	v->len = len;
	v->bps = bps;
	v->csize = bps * spc;
	v->count = (uint32_t)((tot - first_data) / spc);
	v->type = fat_type_of(v->count);
	v->fat_off = (uint64_t)rsvd * bps;
	v->fat_bytes = fatsz * bps;
	v->root_off = (rsvd + nfats * fatsz) * bps;
	v->root_entries = root_entries;
	v->data_off = first_data * bps;
	if (v->count == 0)
		return -EBADMSG;
	if (v->type == FAT32) {
		if (root_entries != 0)
			return -EBADMSG;
		v->root_clus = cvm_le32(img + 44) & 0x0FFFFFFF;
		if (v->root_clus < 2 || v->root_clus > v->count + 1)
			return -EBADMSG;
	} else if (root_entries == 0) {
		return -EBADMSG;
	}
	/* The first FAT must map every cluster and lie inside the image. */
	need = ((uint64_t)v->count + 2) * (uint64_t)v->type / 8 + 1;
	if (v->fat_bytes < need || v->fat_off + v->fat_bytes > len)
		return -EBADMSG;
	return 0;
}

#define CHAIN_END 0xFFFFFFFFu

/* Next cluster after c (valid, 2..count+1), CHAIN_END, or -EBADMSG. */
static int fat_next(const struct vol *v, uint32_t c, uint32_t *ret)
{
	const uint8_t *fat = v->img + v->fat_off;
	uint32_t n, eoc_min, bad;

	if (v->type == FAT12) {
		const uint8_t *p = fat + c + c / 2;
		n = (c & 1) ? (uint32_t)(p[0] >> 4 | p[1] << 4) : (uint32_t)(p[0] | (p[1] & 0x0f) << 8);
		eoc_min = 0xFF8;
		bad = 0xFF7;
	} else if (v->type == FAT16) {
		n = cvm_le16(fat + 2 * (size_t)c);
		eoc_min = 0xFFF8;
		bad = 0xFFF7;
	} else {
		n = cvm_le32(fat + 4 * (size_t)c) & 0x0FFFFFFF;
		eoc_min = 0x0FFFFFF8;
		bad = 0x0FFFFFF7;
	}
	if (n >= eoc_min) {
		*ret = CHAIN_END;
		return 0;
	}
	if (n < 2 || n == bad || n > v->count + 1)
		return -EBADMSG;
	*ret = n;
	return 0;
}

/* Data of cluster c, marking it visited for the current chain. */
static int cluster_ptr(struct vol *v, uint32_t c, const uint8_t **ret)
{
	uint64_t off;

	if (c < 2 || c > v->count + 1)
		return -EBADMSG;
	off = v->data_off + (uint64_t)(c - 2) * v->csize;
	if (off > v->len || v->len - off < v->csize)
		return -EBADMSG;
	/* In the image, so (c - 2) < len / csize <= seen_bytes * 8. */
	if (v->seen[(c - 2) / 8] & (1u << ((c - 2) % 8)))
		return -EBADMSG;
	v->seen[(c - 2) / 8] |= (uint8_t)(1u << ((c - 2) % 8));
	*ret = v->img + off;
	return 0;
}

static void chain_start(struct vol *v)
{
	memset(v->seen, 0, v->seen_bytes);
}

struct lookup {
	const char *comp;
	size_t comp_len;
	uint8_t short_name[11];
	int has_short;
	/* long-file-name accumulation */
	uint16_t lfn[20 * 13 + 1];
	int lfn_next;      /* next expected ordinal; 0 = complete or none */
	int lfn_valid;
	uint8_t lfn_sum;
	unsigned lfn_count;
	uint8_t found[DIRENT];
};

static uint8_t short_sum(const uint8_t *name)
{
	uint8_t s = 0;

	for (int i = 0; i < 11; i++)
		s = (uint8_t)(((s & 1) << 7) + (s >> 1) + name[i]);
	return s;
}

static int upper(int c) { return c >= 'a' && c <= 'z' ? c - 32 : c; }

/* Case-insensitive short-name key of a component, if it has 8.3 shape. */
static int short_key(const char *s, size_t n, uint8_t out[11])
{
	const char *dot = memrchr(s, '.', n);
	size_t base = dot ? (size_t)(dot - s) : n, ext = dot ? n - base - 1 : 0;

	if (base < 1 || base > 8 || ext > 3 || (dot && memchr(s, '.', base)))
		return 0;
	memset(out, ' ', 11);
	for (size_t i = 0; i < base; i++)
		out[i] = (uint8_t)upper((unsigned char)s[i]);
	for (size_t i = 0; i < ext; i++)
		out[8 + i] = (uint8_t)upper((unsigned char)dot[1 + i]);
	if (out[0] == 0xe5)
		out[0] = 0x05;
	return 1;
}

static int lfn_matches(const struct lookup *m)
{
	size_t n = 0;

	while (n < m->lfn_count * 13 && m->lfn[n] != 0)
		n++;
	if (n != m->comp_len)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (m->lfn[i] > 0x7f || upper(m->lfn[i]) != upper((unsigned char)m->comp[i]))
			return 0;
	}
	return 1;
}

/* Scans n entries; 1 = found (m->found), 0 = keep going, -ENOENT = end marker. */
static int scan_entries(const uint8_t *p, size_t n, struct lookup *m)
{
	static const uint8_t offs[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

	for (size_t i = 0; i < n; i++, p += DIRENT) {
		uint8_t attr = p[D_ATTR];

		if (p[0] == 0x00)
			return -ENOENT;
		if (p[0] == 0xe5) {
			m->lfn_valid = 0;
			continue;
		}
		if ((attr & ATTR_LONG_MASK) == ATTR_LONG_NAME) {
			int ord = p[0] & 0x1f;
			if (p[0] & 0x40) {
				m->lfn_valid = ord >= 1 && ord <= 20;
				m->lfn_count = (unsigned)ord;
				m->lfn_sum = p[13];
				memset(m->lfn, 0, sizeof(m->lfn));
			} else if (!m->lfn_valid || ord < 1 || ord != m->lfn_next || p[13] != m->lfn_sum) {
				/* ord 0 once the sequence is complete (lfn_next 0) would
				 * index lfn[-13]: no ordinal below 1 continues a name. */
				m->lfn_valid = 0;
			}
			if (m->lfn_valid) {
				for (int k = 0; k < 13; k++)
					m->lfn[(ord - 1) * 13 + k] = cvm_le16(p + offs[k]);
				m->lfn_next = ord - 1;
			}
			continue;
		}
		if (attr & ATTR_VOLUME_ID) {
			m->lfn_valid = 0;
			continue;
		}
		{
			int hit = m->has_short && memcmp(p, m->short_name, 11) == 0;
			if (!hit && m->lfn_valid && m->lfn_next == 0 && m->lfn_sum == short_sum(p))
				hit = lfn_matches(m);
			m->lfn_valid = 0;
			if (hit) {
				memcpy(m->found, p, DIRENT);
				return 1;
			}
		}
	}
	return 0;
}

/* Looks up m->comp in the directory starting at cluster dir (0 = FAT12/16 root). */
static int dir_lookup(struct vol *v, uint32_t dir, struct lookup *m)
{
	uint64_t seen = 0;
	int r;

	m->lfn_valid = 0;
	m->lfn_next = 0;
	if (dir == 0) {
		if (v->root_off > v->len || (v->len - v->root_off) / DIRENT < v->root_entries)
			return -EBADMSG;
		r = scan_entries(v->img + v->root_off, v->root_entries, m);
		return r == 1 ? 0 : -ENOENT;
	}
	chain_start(v);
	for (uint32_t c = dir, steps = 0; c != CHAIN_END; steps++) {
		const uint8_t *p;
		if (steps >= v->count || seen >= MAX_DIR_ENTRIES)
			return -EBADMSG;
		r = cluster_ptr(v, c, &p);
		if (r < 0)
			return r;
		r = scan_entries(p, v->csize / DIRENT, m);
		if (r == 1)
			return 0;
		if (r == -ENOENT)
			return -ENOENT;
		seen += v->csize / DIRENT;
		r = fat_next(v, c, &c);
		if (r < 0)
			return r;
	}
	return -ENOENT;
}

/* The file's bytes: copied into a malloc'd buffer (ret_buf), or, for
 * ret_view, found in one piece in img (-ENODATA when the chain is not one
 * run of consecutive clusters). */
static int fat_file(const uint8_t *img, size_t len, const char *path, size_t max, uint8_t **ret_buf,
		    const uint8_t **ret_view, size_t *ret_len)
{
	const uint8_t *first = NULL;
	struct lookup *m = NULL;
	struct vol v = { 0 };
	uint8_t *buf = NULL;
	uint32_t dir, cl, size;
	const char *p, *end;
	size_t plen, done;
	int r;

	if (!path)
		return -EINVAL;
	while (*path == '/')
		path++;
	plen = strnlen(path, CVM_FAT_MAX_PATH + 1);
	if (plen == 0 || plen > CVM_FAT_MAX_PATH)
		return -EINVAL;
	r = vol_open(img, len, &v);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	v.seen_bytes = (len / v.csize) / 8 + 1;
	v.seen = calloc(1, v.seen_bytes);
	if (!v.seen) {
		r = -ENOMEM;
		goto out;
	}

	dir = v.type == FAT32 ? v.root_clus : 0;
	for (p = path;; p = end + 1) {
		int last;
		uint8_t attr;

		end = strchr(p, '/');
		last = !end || end[1] == 0;
		if (!end)
			end = p + strlen(p);
		m->comp = p;
		m->comp_len = (size_t)(end - p);
		if (m->comp_len == 0 || (m->comp_len <= 2 && strncmp(p, "..", m->comp_len) == 0)) {
			r = -ENOENT;
			goto out;
		}
		m->has_short = short_key(p, m->comp_len, m->short_name);
		r = dir_lookup(&v, dir, m);
		if (r < 0)
			goto out;
		attr = m->found[D_ATTR];
		cl = (uint32_t)cvm_le16(m->found + D_CLUS_HI) << 16 | cvm_le16(m->found + D_CLUS_LO);
		if (v.type != FAT32)
			cl &= 0xFFFF;
		if (last) {
			if (attr & ATTR_DIRECTORY) {
				r = -EISDIR;
				goto out;
			}
			break;
		}
		if (!(attr & ATTR_DIRECTORY)) {
			r = -ENOENT;
			goto out;
		}
		/* A subdirectory always has a cluster; 0 would mean the root
		 * and can only be a ".." entry, which is not looked up. */
		if (cl < 2 || cl > v.count + 1) {
			r = -EBADMSG;
			goto out;
		}
		dir = cl;
		if (!*end)
			break;
	}

	size = cvm_le32(m->found + D_SIZE);
	if (size > max) {
		r = -EFBIG;
		goto out;
	}
	if (size > len) {
		r = -EBADMSG;
		goto out;
	}
	if (ret_buf) {
		buf = malloc((size_t)size + 1);
		if (!buf) {
			r = -ENOMEM;
			goto out;
		}
	}
	done = 0;
	chain_start(&v);
	if (size && (cl < 2 || cl > v.count + 1)) {
		r = -EBADMSG;
		goto out;
	}
	for (uint32_t steps = 0; done < size; steps++) {
		const uint8_t *src;
		size_t n = size - done < v.csize ? size - done : v.csize;

		if (cl == CHAIN_END || steps >= v.count) {
			r = -EBADMSG;
			goto out;
		}
		r = cluster_ptr(&v, cl, &src);
		if (r < 0)
			goto out;
		if (buf) {
			memcpy(buf + done, src, n);
		} else if (!first) {
			first = src;
		} else if (src != first + done) {
			r = -ENODATA;
			goto out;
		}
		done += n;
		if (done < size) {
			r = fat_next(&v, cl, &cl);
			if (r < 0)
				goto out;
		}
	}
	if (buf) {
		buf[size] = 0;
		*ret_buf = buf;
	} else {
		/* An empty file has no cluster: any pointer into img will do. */
		*ret_view = first ? first : img;
	}
	*ret_len = size;
	buf = NULL;
	r = 0;
out:
	free(v.seen);
	free(buf);
	free(m);
	return r;
}

int cvm_fat_read_file(const uint8_t *img, size_t len, const char *path, size_t max,
		      uint8_t **ret_buf, size_t *ret_len)
{
	return fat_file(img, len, path, max, ret_buf, NULL, ret_len);
}

int cvm_fat_view_file(const uint8_t *img, size_t len, const char *path, size_t max,
		      const uint8_t **ret_view, size_t *ret_len)
{
	return fat_file(img, len, path, max, NULL, ret_view, ret_len);
}
