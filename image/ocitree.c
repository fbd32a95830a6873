/* The flattened root file system of a container image, held in memory: the
 * layers are applied here and never touch the host's file system, so no
 * symlink an image plants can redirect a write (CVE-2021-29136's class of
 * bug).  See include/cvmkit/oci.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvmkit/errbuf.h"
#include "cvmkit/oci.h"

#define MAX_DEPTH 256u
#define MAX_LINKS 40u

struct inode {
	enum cvm_oci_type type;
	uint32_t mode, uid, gid, rmajor, rminor;
	uint8_t *data; /* contents or symlink target */
	size_t size;
	unsigned refs;  /* names pointing here (hard links) */
	/* while writing the cpio */
	uint32_t ino;
	unsigned written;
};

struct node {
	char *name;
	struct node *parent, *child, *next, *prev; /* children: doubly linked, unsorted */
	struct node *hnext;                         /* hash chain, keyed by (parent, name) */
	struct inode *ino;
};

struct cvm_oci_tree {
	struct node root;
	struct node **hash;
	size_t nbuckets, n; /* n: entries besides the root */
};

/* ------------------------------------------------------------ errors */

/* Every message here is about bad input. */
#define bad(err, size, ...) cvm_errf(err, size, -EINVAL, __VA_ARGS__)

/* Entry names in messages: bounded and without control characters. */
static const char *shown(const char *name, char buf[160])
{
	size_t i = 0;

	for (; name && name[i] && i < 150; i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	buf[i] = 0;
	if (name && name[i])
		strcpy(buf + i, "...");
	return buf;
}

/* ------------------------------------------------------------ nodes */

static size_t hkey(const struct node *parent, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)parent;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct node *child(const struct cvm_oci_tree *t, const struct node *dir, const char *name, size_t len)
{
	for (struct node *n = t->hash[hkey(dir, name, len) & (t->nbuckets - 1)]; n; n = n->hnext)
		if (n->parent == dir && !strncmp(n->name, name, len) && !n->name[len])
			return n;
	return NULL;
}

static int grow(struct cvm_oci_tree *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **h = calloc(nb, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct node *n = t->hash[i], *nx; n; n = nx) {
			size_t b = hkey(n->parent, n->name, strlen(n->name)) & (nb - 1);
			nx = n->hnext;
			n->hnext = h[b];
			h[b] = n;
		}
	free(t->hash);
	t->hash = h;
	t->nbuckets = nb;
	return 0;
}

static void inode_put(struct inode *i)
{
	if (i && --i->refs == 0) {
		free(i->data);
		free(i);
	}
}

static void unhash(struct cvm_oci_tree *t, struct node *n)
{
	struct node **p = &t->hash[hkey(n->parent, n->name, strlen(n->name)) & (t->nbuckets - 1)];

	while (*p != n)
		p = &(*p)->hnext;
	*p = n->hnext;
}

/* Removes n and everything below it. */
static void node_delete(struct cvm_oci_tree *t, struct node *n)
{
	while (n->child)
		node_delete(t, n->child);
	unhash(t, n);
	if (n->prev)
		n->prev->next = n->next;
	else
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	inode_put(n->ino);
	free(n->name);
	free(n);
	t->n--;
}

static int node_add(struct cvm_oci_tree *t, struct node *dir, const char *name, size_t len, struct inode *ino,
		    struct node **ret)
{
	struct node *n;
	size_t b;

	if (t->n + 1 > t->nbuckets && grow(t) < 0)
		return -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->name = strndup(name, len);
	if (!n->name) {
		free(n);
		return -ENOMEM;
	}
	n->parent = dir;
	n->ino = ino;
	ino->refs++;
	n->next = dir->child;
	if (dir->child)
		dir->child->prev = n;
	dir->child = n;
	b = hkey(dir, name, len) & (t->nbuckets - 1);
	n->hnext = t->hash[b];
	t->hash[b] = n;
	t->n++;
	*ret = n;
	return 0;
}

static struct inode *inode_new(enum cvm_oci_type type, uint32_t mode, uint32_t uid, uint32_t gid)
{
	struct inode *i = calloc(1, sizeof(*i));

	if (i)
		*i = (struct inode){ .type = type, .mode = mode & 07777, .uid = uid, .gid = gid };
	return i;
}

int cvm_oci_tree_new(struct cvm_oci_tree **ret)
{
	struct cvm_oci_tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->nbuckets = 1024;
	t->hash = calloc(t->nbuckets, sizeof(*t->hash));
	t->root.ino = inode_new(CVM_OCI_DIR, 0755, 0, 0);
	t->root.name = strdup("");
	if (!t->hash || !t->root.ino || !t->root.name) {
		free(t->hash);
		free(t->root.ino);
		free(t->root.name);
		free(t);
		return -ENOMEM;
	}
	t->root.ino->refs = 1;
	*ret = t;
	return 0;
}

void cvm_oci_tree_free(struct cvm_oci_tree *t)
{
	if (!t)
		return;
	while (t->root.child)
		node_delete(t, t->root.child);
	inode_put(t->root.ino);
	free(t->root.name);
	free(t->hash);
	free(t);
}

size_t cvm_oci_tree_count(const struct cvm_oci_tree *t) { return t->n + 1; }

/* ------------------------------------------------------------ paths */

/* Splits a tar member name into components: "./" prefixes, "." and empty
 * components dropped; absolute names and ".." refused.  Returns the count
 * (0 = the root itself), components pointing into NAME. */
struct comps {
	const char *p[MAX_DEPTH];
	size_t len[MAX_DEPTH];
	size_t n;
};

static int split(const char *name, bool allow_absolute, struct comps *c)
{
	const char *s = name;

	c->n = 0;
	if (*s == '/' && !allow_absolute)
		return -EINVAL;
	while (*s) {
		size_t l = strcspn(s, "/");
		if (l == 2 && s[0] == '.' && s[1] == '.')
			return -EINVAL;
		if (l && !(l == 1 && s[0] == '.')) {
			if (c->n == MAX_DEPTH)
				return -E2BIG;
			c->p[c->n] = s;
			c->len[c->n++] = l;
		}
		s += l;
		while (*s == '/')
			s++;
	}
	return 0;
}

/* The directory that holds component c->n - 1, without following symlinks.
 * Missing parents are created (0755 0:0) when CREATE, as tar extractors do. */
static int parent_of(struct cvm_oci_tree *t, const struct comps *c, bool create, struct node **ret)
{
	struct node *d = &t->root;

	for (size_t i = 0; i + 1 < c->n; i++) {
		struct node *n = child(t, d, c->p[i], c->len[i]);
		if (!n) {
			struct inode *ino;
			int r;
			if (!create)
				return -ENOENT;
			ino = inode_new(CVM_OCI_DIR, 0755, 0, 0);
			if (!ino)
				return -ENOMEM;
			r = node_add(t, d, c->p[i], c->len[i], ino, &n);
			if (r < 0) {
				free(ino);
				return r;
			}
		}
		if (n->ino->type == CVM_OCI_LNK)
			return -ELOOP;
		if (n->ino->type != CVM_OCI_DIR)
			return -ENOTDIR;
		d = n;
	}
	*ret = d;
	return 0;
}

/* ------------------------------------------------------------ layers */

static struct archive *open_tar(const uint8_t *buf, size_t len)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int apply_whiteout(struct cvm_oci_tree *t, const char *name, const struct comps *c, char *err, size_t es)
{
	const char *base = c->p[c->n - 1];
	size_t blen = c->len[c->n - 1];
	struct node *dir, *victim;
	char b[160];
	int r;

	if (blen == 4)
		return bad(err, es, "entry '%s': a bare whiteout '.wh.'", shown(name, b));
	r = parent_of(t, c, false, &dir);
	if (r < 0)
		return 0; /* nothing below to hide */
	if (blen == 12 && !strncmp(base, ".wh..wh..opq", 12)) {
		while (dir->child)
			node_delete(t, dir->child);
		return 0;
	}
	if (blen > 8 && !strncmp(base, ".wh..wh.", 8))
		return 0; /* AUFS metadata (.wh..wh.plnk and the like): not content */
	victim = child(t, dir, base + 4, blen - 4);
	if (victim)
		node_delete(t, victim);
	return 0;
}

static bool is_whiteout(const struct comps *c)
{
	return c->n && c->len[c->n - 1] >= 4 && !strncmp(c->p[c->n - 1], ".wh.", 4);
}

static int read_data(struct archive *a, size_t size, uint8_t **ret)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t got = 0;

	if (!buf)
		return -ENOMEM;
	while (got < size) {
		la_ssize_t n = archive_read_data(a, buf + got, size - got);
		if (n <= 0) {
			free(buf);
			return -EBADMSG;
		}
		got += (size_t)n;
	}
	*ret = buf;
	return 0;
}

static int apply_entry(struct cvm_oci_tree *t, struct archive *a, struct archive_entry *e, const char *name,
		       const struct comps *c, enum cvm_oci_special special, char *err, size_t es)
{
	const char *hard = archive_entry_hardlink(e);
	mode_t ft = archive_entry_filetype(e);
	uint32_t mode = (uint32_t)archive_entry_perm(e) & 07777;
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e), size = archive_entry_size(e);
	struct node *dir, *old, *n;
	struct inode *ino = NULL;
	enum cvm_oci_type type;
	char b[160];
	int r;

	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		return bad(err, es, "entry '%s': uid/gid out of range", shown(name, b));
	if (c->n == 0) { /* "." or "./": the root's own attributes */
		if (hard || ft != AE_IFDIR)
			return bad(err, es, "entry '%s': the root is not a directory", shown(name, b));
		t->root.ino->mode = mode;
		t->root.ino->uid = (uint32_t)uid;
		t->root.ino->gid = (uint32_t)gid;
		return 0;
	}
	r = parent_of(t, c, true, &dir);
	if (r == -ELOOP)
		return bad(err, es, "entry '%s': a parent is a symlink (never followed while flattening)", shown(name, b));
	if (r == -ENOTDIR)
		return bad(err, es, "entry '%s': a parent is not a directory", shown(name, b));
	if (r < 0)
		return r;
	old = child(t, dir, c->p[c->n - 1], c->len[c->n - 1]);

	if (hard) {
		struct comps hc;
		struct node *hd, *target;
		if (split(hard, false, &hc) < 0 || hc.n == 0)
			return bad(err, es, "entry '%s': hard link target '%s' is absolute or leaves the root", shown(name, b),
				   hard);
		if (parent_of(t, &hc, false, &hd) < 0 || !(target = child(t, hd, hc.p[hc.n - 1], hc.len[hc.n - 1])))
			return bad(err, es, "entry '%s': hard link target '%.200s' does not exist", shown(name, b), hard);
		if (target->ino->type == CVM_OCI_DIR)
			return bad(err, es, "entry '%s': hard link to the directory '%.200s'", shown(name, b), hard);
		if (target == old)
			return 0;
		ino = target->ino;
		ino->refs++; /* held while old (maybe the same inode's other name) goes */
		if (old)
			node_delete(t, old);
		r = node_add(t, dir, c->p[c->n - 1], c->len[c->n - 1], ino, &n);
		inode_put(ino);
		return r;
	}

	switch (ft) {
	case AE_IFREG: type = CVM_OCI_REG; break;
	case AE_IFDIR: type = CVM_OCI_DIR; break;
	case AE_IFLNK: type = CVM_OCI_LNK; break;
	case AE_IFCHR: type = CVM_OCI_CHR; break;
	case AE_IFBLK: type = CVM_OCI_BLK; break;
	case AE_IFIFO: type = CVM_OCI_FIFO; break;
	default: return bad(err, es, "entry '%s': unsupported file type (socket?)", shown(name, b));
	}
	if (type == CVM_OCI_CHR || type == CVM_OCI_BLK) {
		if (special == CVM_OCI_SPECIAL_REFUSE)
			return bad(err, es, "entry '%s': a device node", shown(name, b));
		if (special == CVM_OCI_SPECIAL_STRIP)
			return 0;
	}
	if (mode & 06000 && type != CVM_OCI_DIR) {
		if (special == CVM_OCI_SPECIAL_REFUSE)
			return bad(err, es, "entry '%s': setuid/setgid bits (mode %04o)", shown(name, b), mode);
		if (special == CVM_OCI_SPECIAL_STRIP)
			mode &= ~06000u;
	}
	if (type == CVM_OCI_DIR && old && old->ino->type == CVM_OCI_DIR) {
		old->ino->mode = mode;
		old->ino->uid = (uint32_t)uid;
		old->ino->gid = (uint32_t)gid;
		return 0;
	}
	ino = inode_new(type, mode, (uint32_t)uid, (uint32_t)gid);
	if (!ino)
		return -ENOMEM;
	if (type == CVM_OCI_REG) {
		if (size < 0 || (uint64_t)size > UINT32_MAX) {
			free(ino);
			return bad(err, es, "entry '%s': %lld bytes, more than a cpio entry holds", shown(name, b),
				   (long long)size);
		}
		r = read_data(a, (size_t)size, &ino->data);
		if (r < 0) {
			free(ino);
			return r == -EBADMSG ? bad(err, es, "entry '%s': truncated data", shown(name, b)) : r;
		}
		ino->size = (size_t)size;
	} else if (type == CVM_OCI_LNK) {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target || strlen(target) >= CVM_CPIO_NAME_MAX) {
			free(ino);
			return bad(err, es, "entry '%s': empty or overlong symlink target", shown(name, b));
		}
		ino->data = (uint8_t *)strdup(target);
		ino->size = strlen(target);
		if (!ino->data) {
			free(ino);
			return -ENOMEM;
		}
	} else if (type == CVM_OCI_CHR || type == CVM_OCI_BLK) {
		ino->rmajor = (uint32_t)archive_entry_rdevmajor(e);
		ino->rminor = (uint32_t)archive_entry_rdevminor(e);
	}
	if (old)
		node_delete(t, old);
	r = node_add(t, dir, c->p[c->n - 1], c->len[c->n - 1], ino, &n);
	if (r < 0) {
		free(ino->data);
		free(ino);
	}
	return r;
}

/* One pass over the layer: whiteouts only (pass 0) or everything else. */
static int apply_pass(struct cvm_oci_tree *t, const uint8_t *buf, size_t len, int pass, enum cvm_oci_special special,
		      uint64_t max_entries, char *err, size_t es)
{
	struct archive *a = open_tar(buf, len);
	struct archive_entry *e;
	uint64_t count = 0;
	int r = 0, ar;

	if (!a)
		return -ENOMEM;
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		struct comps c;
		char b[160];

		if (++count > max_entries) {
			r = -E2BIG;
			bad(err, es, "more than %llu entries", (unsigned long long)max_entries);
			break;
		}
		if (!name) {
			r = bad(err, es, "an entry without a name");
			break;
		}
		r = split(name, false, &c);
		if (r < 0) {
			r = bad(err, es, "entry '%s': %s", shown(name, b),
				r == -E2BIG ? "nested too deeply" : "absolute or '..' path (leaves the root)");
			break;
		}
		if (is_whiteout(&c) != (pass == 0))
			continue;
		r = pass == 0 ? apply_whiteout(t, name, &c, err, es) : apply_entry(t, a, e, name, &c, special, err, es);
		if (r < 0)
			break;
		if (t->n + 1 > max_entries) {
			r = -E2BIG;
			bad(err, es, "more than %llu entries in the flattened tree", (unsigned long long)max_entries);
			break;
		}
	}
	if (r == 0 && ar != ARCHIVE_EOF) {
		bad(err, es, "corrupt tar: %.200s", archive_error_string(a) ? archive_error_string(a) : "?");
		r = -EBADMSG;
	}
	archive_read_free(a);
	return r;
}

int cvm_oci_tree_apply(struct cvm_oci_tree *t, const uint8_t *buf, size_t len, enum cvm_oci_special special,
		       uint64_t max_entries, char *err, size_t err_size)
{
	/* The end of a tar that is cut short after its last member (no padding
	 * to 512 bytes, no two zero blocks): completed with zeros, so the
	 * reader sees the end it expects.  Only the stored bytes were hashed. */
	size_t padded = (len + 511) / 512 * 512 + 1024;
	uint8_t *copy = malloc(padded);
	int r;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	memset(copy + len, 0, padded - len);
	r = apply_pass(t, copy, padded, 0, special, max_entries, err, err_size);
	if (r == 0)
		r = apply_pass(t, copy, padded, 1, special, max_entries, err, err_size);
	free(copy);
	return r;
}

/* ------------------------------------------------------------ queries */

static int lookup(const struct cvm_oci_tree *t, const char *path, bool follow, unsigned *links, unsigned depth,
		  const struct node **ret)
{
	const struct node *d = &t->root;
	int r;

	if (depth > 8)
		return -ELOOP;
	/* ".." is fine here: it stops at the root, as in a chroot. */
	for (const char *s = path; *s;) {
		size_t l = strcspn(s, "/");
		const struct node *n;
		bool last;

		if (l == 0 || (l == 1 && s[0] == '.')) {
			s += l;
			while (*s == '/')
				s++;
			continue;
		}
		last = !s[l] || !s[l + strspn(s + l, "/")];
		if (l == 2 && s[0] == '.' && s[1] == '.') {
			d = d->parent ? d->parent : d;
			s += l;
			while (*s == '/')
				s++;
			continue;
		}
		if (d->ino->type != CVM_OCI_DIR)
			return -ENOTDIR;
		n = child(t, d, s, l);
		if (!n)
			return -ENOENT;
		if (n->ino->type == CVM_OCI_LNK && (follow || !last)) {
			char *target;
			const struct node *res;
			if (++*links > MAX_LINKS)
				return -ELOOP;
			/* Relative targets resolve from the link's directory. */
			if (n->ino->data[0] == '/') {
				target = strndup((const char *)n->ino->data, n->ino->size);
				if (!target)
					return -ENOMEM;
				r = lookup(t, target, true, links, depth + 1, &res);
				free(target);
			} else {
				char *rel;
				const struct node *p;
				size_t need = n->ino->size + 2;
				for (p = d; p->parent; p = p->parent)
					need += strlen(p->name) + 1;
				rel = malloc(need);
				if (!rel)
					return -ENOMEM;
				/* Build "/dir/path/target". */
				rel[0] = 0;
				{
					const struct node *chain[MAX_DEPTH];
					size_t k = 0;
					for (p = d; p->parent && k < MAX_DEPTH; p = p->parent)
						chain[k++] = p;
					strcpy(rel, "/");
					while (k--) {
						strcat(rel, chain[k]->name);
						strcat(rel, "/");
					}
				}
				strncat(rel, (const char *)n->ino->data, n->ino->size);
				r = lookup(t, rel, true, links, depth + 1, &res);
				free(rel);
			}
			if (r < 0)
				return r;
			n = res;
		}
		d = n;
		s += l;
		while (*s == '/')
			s++;
	}
	*ret = d;
	return 0;
}

int cvm_oci_tree_stat(const struct cvm_oci_tree *t, const char *path, bool follow, struct cvm_oci_stat *ret)
{
	const struct node *n;
	unsigned links = 0;
	int r;

	if (path[0] != '/')
		return -EINVAL;
	r = lookup(t, path, follow, &links, 0, &n);
	if (r < 0)
		return r;
	*ret = (struct cvm_oci_stat){ .type = n->ino->type, .mode = n->ino->mode, .uid = n->ino->uid,
				      .gid = n->ino->gid, .nlink = n->ino->refs, .data = n->ino->data,
				      .size = n->ino->size };
	return 0;
}

int cvm_oci_tree_mkdir(struct cvm_oci_tree *t, const char *path, uint32_t mode)
{
	struct comps c;
	struct node *dir, *n;
	struct inode *ino;
	int r;

	if (path[0] != '/' || split(path, true, &c) < 0)
		return -EINVAL;
	if (c.n == 0)
		return 0;
	r = parent_of(t, &c, true, &dir);
	if (r == -ELOOP)
		return -ENOTDIR;
	if (r < 0)
		return r;
	n = child(t, dir, c.p[c.n - 1], c.len[c.n - 1]);
	if (n)
		return n->ino->type == CVM_OCI_DIR ? 0 : -ENOTDIR;
	ino = inode_new(CVM_OCI_DIR, mode, 0, 0);
	if (!ino)
		return -ENOMEM;
	r = node_add(t, dir, c.p[c.n - 1], c.len[c.n - 1], ino, &n);
	if (r < 0)
		free(ino);
	return r;
}

/* ------------------------------------------------------------ cpio */

static int cmp_nodes(const void *a, const void *b)
{
	return strcmp((*(struct node *const *)a)->name, (*(struct node *const *)b)->name);
}

static const uint32_t type_bits[] = {
	[CVM_OCI_REG] = S_IFREG, [CVM_OCI_DIR] = S_IFDIR, [CVM_OCI_LNK] = S_IFLNK,
	[CVM_OCI_CHR] = S_IFCHR, [CVM_OCI_BLK] = S_IFBLK, [CVM_OCI_FIFO] = S_IFIFO,
};

struct emit {
	struct cvm_cpio *w;
	uint32_t mtime, next_ino;
	long count;
	char path[CVM_CPIO_NAME_MAX];
};

static int emit_one(struct emit *x, const struct node *n, size_t plen)
{
	struct inode *i = n->ino;
	struct cvm_cpio_entry e = { .name = x->path, .mode = type_bits[i->type] | i->mode, .uid = i->uid, .gid = i->gid,
				    .mtime = x->mtime, .rdevmajor = i->rmajor, .rdevminor = i->rminor };
	struct node **kids = NULL;
	size_t nk = 0;
	int r;

	if (!i->ino)
		i->ino = x->next_ino++;
	e.ino = i->ino;
	e.nlink = i->type == CVM_OCI_DIR ? 2 : i->refs;
	/* newc hard links: the data travels with the first name only. */
	if (i->type == CVM_OCI_LNK || (i->type == CVM_OCI_REG && !i->written)) {
		e.data = i->data;
		e.size = i->size;
	}
	i->written++;
	r = cvm_cpio_add(x->w, &e);
	if (r < 0)
		return r;
	x->count++;
	if (i->type != CVM_OCI_DIR || !n->child)
		return 0;
	for (const struct node *k = n->child; k; k = k->next)
		nk++;
	kids = malloc(nk * sizeof(*kids));
	if (!kids)
		return -ENOMEM;
	nk = 0;
	for (struct node *k = n->child; k; k = k->next)
		kids[nk++] = k;
	qsort(kids, nk, sizeof(*kids), cmp_nodes);
	for (size_t k = 0; k < nk && r == 0; k++) {
		size_t l = strlen(kids[k]->name);
		if (plen + 1 + l >= sizeof(x->path)) {
			r = -ENAMETOOLONG;
			break;
		}
		x->path[plen] = '/';
		memcpy(x->path + plen + 1, kids[k]->name, l + 1);
		r = emit_one(x, kids[k], plen + 1 + l);
		x->path[plen] = 0;
	}
	free(kids);
	return r;
}

static void reset_written(struct node *n)
{
	n->ino->written = 0;
	n->ino->ino = 0;
	for (struct node *k = n->child; k; k = k->next)
		reset_written(k);
}

long cvm_oci_tree_cpio(const struct cvm_oci_tree *t, const char *prefix, uint32_t mtime, uint32_t first_ino,
		       struct cvm_cpio *w)
{
	struct emit *x = calloc(1, sizeof(*x));
	int r;

	if (!x)
		return -ENOMEM;
	if (!prefix[0] || prefix[0] == '/' || strlen(prefix) >= 256) {
		free(x);
		return -EINVAL;
	}
	*x = (struct emit){ .w = w, .mtime = mtime, .next_ino = first_ino ? first_ino : 1 };
	strcpy(x->path, prefix);
	/* The numbering is the tree's order of first appearance, so it is as
	 * deterministic as the order itself. */
	reset_written((struct node *)&t->root);
	r = emit_one(x, &t->root, strlen(prefix));
	reset_written((struct node *)&t->root);
	long count = x->count;
	free(x);
	return r < 0 ? r : count;
}
