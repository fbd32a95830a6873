/* Reading container images: OCI image layouts (a directory or an
 * oci-archive tarball) and docker-archive tarballs; descriptors verified
 * before any byte is used; layers decompressed with libarchive under caps.
 * See include/cvmkit/oci.h. */
#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/oci.h"

#define MAX_JSON (4u << 20)      /* index, manifest, config: far below any real one */
#define MAX_MEMBERS 100000u      /* files in an image tarball */
#define MAX_INDEX_DEPTH 4

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define REF_NAME "org.opencontainers.image.ref.name"

enum comp { COMP_NONE, COMP_GZIP, COMP_ZSTD, COMP_DETECT };

struct member {
	char *name;
	uint8_t *data;
	size_t len;
};

/* Where blobs come from: a layout directory, or the members of a tarball. */
struct source {
	const char *dir;
	struct member *m;
	size_t n;
	const struct cvm_oci_limits *lim;
	char *err;
	size_t es;
};

__attribute__((format(printf, 2, 3))) static int fail(struct source *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, s->es, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ------------------------------------------------------------ tarballs */

static void members_free(struct source *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->m[i].name);
		free(s->m[i].data);
	}
	free(s->m);
	s->m = NULL;
	s->n = 0;
}

static const struct member *member(const struct source *s, const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return &s->m[i];
	return NULL;
}

/* Loads the regular files of an image tarball into memory (oci-archive and
 * docker-archive tarballs are a few files, each a blob or a JSON). */
static int load_tarball(struct source *s, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint64_t total = 0;
	int r = 0, ar;

	if (!a)
		return -ENOMEM;
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		r = fail(s, "read %s: %s", path, archive_error_string(a) ? archive_error_string(a) : "not a tar archive");
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		int64_t size = archive_entry_size(e);
		struct member *m;
		size_t got = 0;

		if (archive_entry_filetype(e) != AE_IFREG || !name)
			continue;
		if (s->n == MAX_MEMBERS) {
			r = fail(s, "read %s: more than %u files", path, MAX_MEMBERS);
			goto out;
		}
		if (size < 0 || (uint64_t)size > s->lim->max_blob || total + (uint64_t)size > 4 * s->lim->max_blob) {
			r = fail(s, "read %s: member %.200s: %lld bytes is over the limit", path, name, (long long)size);
			goto out;
		}
		total += (uint64_t)size;
		if (!(s->n & 63)) {
			struct member *p = realloc(s->m, (s->n + 64) * sizeof(*p));
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			s->m = p;
		}
		m = &s->m[s->n];
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		m->name = strdup(name);
		m->data = malloc(size ? (size_t)size : 1);
		m->len = (size_t)size;
		s->n++;
		if (!m->name || !m->data) {
			r = -ENOMEM;
			goto out;
		}
		while (got < (size_t)size) {
			la_ssize_t k = archive_read_data(a, m->data + got, (size_t)size - got);
			if (k <= 0) {
				r = fail(s, "read %s: member %.200s is truncated", path, name);
				goto out;
			}
			got += (size_t)k;
		}
	}
	if (ar != ARCHIVE_EOF)
		r = fail(s, "read %s: %s", path, archive_error_string(a) ? archive_error_string(a) : "corrupt tar");
out:
	archive_read_free(a);
	return r;
}

/* ------------------------------------------------------------ blobs */

/* "sha256:" + 64 lowercase hex digits; anything else is refused (the only
 * algorithm image producers use, and the one we can verify). */
static bool digest_ok(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static int sha256_str(const uint8_t *buf, size_t len, char out[CVM_OCI_DIGEST_MAX])
{
	uint8_t d[32];
	int r = cvm_hash(CVM_HASH_SHA256, buf, len, d);

	if (r < 0)
		return r;
	memcpy(out, "sha256:", 7);
	cvm_hex_encode(d, 32, out + 7);
	return 0;
}

/* The blob DIGEST of SIZE bytes (size < 0: unknown, docker-archive files),
 * verified.  *ret is malloc'd. */
static int blob_get(struct source *s, const char *what, const char *digest, int64_t size, uint8_t **ret,
		    size_t *ret_len)
{
	char path[4200], actual[CVM_OCI_DIGEST_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!digest_ok(digest))
		return fail(s, "use the %s: digest '%.80s' is not sha256:<64 lowercase hex>", what, digest ? digest : "");
	if (size >= 0 && (uint64_t)size > s->lim->max_blob)
		return fail(s, "use the %s %s: %lld bytes is over the limit of %llu", what, digest, (long long)size,
			    (unsigned long long)s->lim->max_blob);
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	if (s->dir) {
		struct stat st;
		char full[8400];
		int fd;
		snprintf(full, sizeof(full), "%s/%s", s->dir, path);
		fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return fail(s, "use the %s %s: blob %s", what, digest, errno == ENOENT ? "is missing" : strerror(errno));
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return fail(s, "use the %s %s: not a regular file", what, digest);
		}
		if (size >= 0 && st.st_size != size) {
			close(fd);
			return fail(s, "use the %s %s: size mismatch (descriptor %lld bytes, blob %lld)", what, digest,
				    (long long)size, (long long)st.st_size);
		}
		if ((uint64_t)st.st_size > s->lim->max_blob) {
			close(fd);
			return fail(s, "use the %s %s: %lld bytes is over the limit", what, digest, (long long)st.st_size);
		}
		len = (size_t)st.st_size;
		buf = malloc(len ? len : 1);
		if (!buf) {
			close(fd);
			return -ENOMEM;
		}
		for (size_t got = 0; got < len;) {
			ssize_t k = read(fd, buf + got, len - got);
			if (k <= 0) {
				free(buf);
				close(fd);
				return fail(s, "read the %s %s: %s", what, digest, k < 0 ? strerror(errno) : "short read");
			}
			got += (size_t)k;
		}
		close(fd);
	} else {
		const struct member *m = member(s, path);
		if (!m)
			return fail(s, "use the %s %s: blob is missing", what, digest);
		if (size >= 0 && m->len != (size_t)size)
			return fail(s, "use the %s %s: size mismatch (descriptor %lld bytes, blob %zu)", what, digest,
				    (long long)size, m->len);
		buf = malloc(m->len ? m->len : 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, m->data, m->len);
		len = m->len;
	}
	r = sha256_str(buf, len, actual);
	if (r == 0 && strcmp(actual, digest))
		r = fail(s, "use the %s %s: digest mismatch (the blob hashes to %s)", what, digest, actual);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

static cJSON *parse_json(struct source *s, const char *what, const char *digest, const uint8_t *buf, size_t len)
{
	cJSON *j;

	if (len > MAX_JSON) {
		fail(s, "use the %s %s: %zu bytes of JSON is over the limit", what, digest, len);
		return NULL;
	}
	j = cJSON_ParseWithLength((const char *)buf, len);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		fail(s, "parse the %s %s: not a JSON object", what, digest);
	}
	return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A descriptor's digest and size, checked for form. */
static int descriptor(struct source *s, const char *what, const cJSON *d, const char **ret_digest,
		      int64_t *ret_size)
{
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(d, "size");
	const char *digest = jstr(d, "digest");

	if (!cJSON_IsObject(d) || !digest_ok(digest) || !cJSON_IsNumber(size) || size->valuedouble < 0 ||
	    size->valuedouble > 9007199254740991.0 || size->valuedouble != (double)(int64_t)size->valuedouble)
		return fail(s, "use the %s descriptor: needs a sha256 digest and a size", what);
	*ret_digest = digest;
	*ret_size = (int64_t)size->valuedouble;
	return 0;
}

/* ------------------------------------------------------------ layers */

/* Decompresses a layer into memory, refusing more than MAX bytes: a gzip
 * or zstd bomb stops at the cap, not at the end of the host's memory. */
static int decompress(struct source *s, const char *digest, const uint8_t *buf, size_t len, enum comp comp,
		      uint64_t max, uint8_t **ret, size_t *ret_len)
{
	struct archive *a;
	struct archive_entry *e;
	uint8_t *out = NULL;
	size_t n = 0, cap = 0;
	int r = 0, ar, want;

	if (comp == COMP_DETECT)
		comp = len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b ? COMP_GZIP
		       : len >= 4 && !memcmp(buf, "\x28\xb5\x2f\xfd", 4) ? COMP_ZSTD : COMP_NONE;
	if (comp == COMP_NONE) {
		if (len > max)
			return fail(s, "use the layer %s: %zu bytes uncompressed is over the limit of %llu", digest, len,
				    (unsigned long long)max);
		out = malloc(len ? len : 1);
		if (!out)
			return -ENOMEM;
		memcpy(out, buf, len);
		*ret = out;
		*ret_len = len;
		return 0;
	}
	a = archive_read_new();
	if (!a)
		return -ENOMEM;
	want = comp == COMP_GZIP ? ARCHIVE_FILTER_GZIP : ARCHIVE_FILTER_ZSTD;
	if (comp == COMP_GZIP)
		archive_read_support_filter_gzip(a);
	else
		archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	ar = archive_read_open_memory(a, buf, len);
	if (ar == ARCHIVE_OK)
		ar = archive_read_next_header(a, &e);
	if (ar != ARCHIVE_OK || archive_filter_code(a, 0) != want) {
		r = fail(s, "use the layer %s: not %s data as its media type says", digest, comp == COMP_GZIP ? "gzip" : "zstd");
		goto out;
	}
	for (;;) {
		la_ssize_t k;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1 << 20;
			uint8_t *p;
			if (cap >= max + 1) {
				r = fail(s, "use the layer %s: more than %llu bytes uncompressed (refusing a decompression bomb)",
					 digest, (unsigned long long)max);
				goto out;
			}
			if (nc > max + 1)
				nc = (size_t)max + 1;
			p = realloc(out, nc);
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			out = p;
			cap = nc;
		}
		k = archive_read_data(a, out + n, cap - n);
		if (k < 0) {
			r = fail(s, "use the layer %s: corrupt %s data: %.200s", digest, comp == COMP_GZIP ? "gzip" : "zstd",
				 archive_error_string(a) ? archive_error_string(a) : "?");
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			r = fail(s, "use the layer %s: more than %llu bytes uncompressed (refusing a decompression bomb)",
				 digest, (unsigned long long)max);
			goto out;
		}
	}
	*ret = out;
	*ret_len = n;
	out = NULL;
out:
	free(out);
	archive_read_free(a);
	return r;
}

static int layer_comp(const char *mt, enum comp *ret)
{
	static const struct {
		const char *mt;
		enum comp comp;
	} t[] = {
		{ "application/vnd.oci.image.layer.v1.tar", COMP_NONE },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", COMP_GZIP },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", COMP_ZSTD },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar", COMP_NONE },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", COMP_GZIP },
		{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", COMP_ZSTD },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", COMP_GZIP },
		{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", COMP_GZIP },
	};

	for (size_t i = 0; mt && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(mt, t[i].mt)) {
			*ret = t[i].comp;
			return 0;
		}
	return -EPROTONOSUPPORT;
}

/* Decompresses, checks the DiffID, applies. */
static int apply_layer(struct source *s, struct cvm_oci_image *img, size_t idx, const char *name, const uint8_t *blob,
		       size_t len, enum comp comp, const char *diff_id, enum cvm_oci_special special)
{
	char actual[CVM_OCI_DIGEST_MAX], e[CVM_OCI_ERR_MAX];
	uint8_t *tar = NULL;
	size_t tar_len = 0;
	int r;

	r = decompress(s, name, blob, len, comp, s->lim->max_unpacked - img->unpacked, &tar, &tar_len);
	if (r < 0)
		return r;
	img->unpacked += tar_len;
	r = sha256_str(tar, tar_len, actual);
	if (r == 0 && strcmp(actual, diff_id))
		r = fail(s, "use the layer %s: its uncompressed content hashes to %s, the config's diff_ids[%zu] says %s", name,
			 actual, idx, diff_id);
	if (r == 0) {
		e[0] = 0;
		r = cvm_oci_tree_apply(img->tree, tar, tar_len, special, s->lim->max_entries, e, sizeof(e));
		if (r < 0 && e[0])
			fail(s, "flatten the layer %s: %s", name, e);
	}
	free(tar);
	return r;
}

/* ------------------------------------------------------------ configs */

/* architecture/os and rootfs.diff_ids, the part of the config the layers
 * depend on; the process part is ociproc.c's. */
static int check_config(struct source *s, const char *digest, const cJSON *cfg, size_t n_layers,
			const cJSON **ret_diff_ids)
{
	const char *arch = jstr(cfg, "architecture"), *os = jstr(cfg, "os");
	const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(cfg, "rootfs");
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
	const cJSON *id;

	if (!arch || !os || strcmp(arch, "amd64") || strcmp(os, "linux"))
		return fail(s, "use the config %s: the image is for %s/%s, not linux/amd64", digest, os ? os : "?",
			    arch ? arch : "?");
	if (!jstr(rootfs, "type") || strcmp(jstr(rootfs, "type"), "layers"))
		return fail(s, "use the config %s: rootfs.type is not \"layers\"", digest);
	if (!cJSON_IsArray(ids) || (size_t)cJSON_GetArraySize(ids) != n_layers)
		return fail(s, "use the config %s: %d diff_ids for %zu layers", digest,
			    cJSON_IsArray(ids) ? cJSON_GetArraySize(ids) : -1, n_layers);
	cJSON_ArrayForEach(id, ids)
		if (!cJSON_IsString(id) || !digest_ok(id->valuestring))
			return fail(s, "use the config %s: a diff_id is not a sha256 digest", digest);
	*ret_diff_ids = ids;
	return 0;
}

/* ------------------------------------------------------------ OCI layouts */

static bool platform_ok(const cJSON *d)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "platform");
	const char *arch = jstr(p, "architecture"), *os = jstr(p, "os");

	return !p || (arch && os && !strcmp(arch, "amd64") && !strcmp(os, "linux"));
}

/* Resolves index entries to one linux/amd64 image manifest descriptor. */
static int pick_manifest(struct source *s, const cJSON *index, const char *index_name, const char *tag, int depth,
			 const cJSON **keep, cJSON **owned, size_t *n_owned, const cJSON **ret)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(index, "manifests"), *d;
	const cJSON *found = NULL;
	char tags[300] = "";
	int r;

	if (!cJSON_IsArray(ms))
		return fail(s, "use the index %s: no manifests array", index_name);
	cJSON_ArrayForEach(d, ms) {
		const char *mt = jstr(d, "mediaType");
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(d, "annotations");
		const char *name = jstr(ann, REF_NAME);
		const cJSON *hit = NULL;

		if (name && strlen(tags) + strlen(name) + 3 < sizeof(tags))
			snprintf(tags + strlen(tags), sizeof(tags) - strlen(tags), "%s%s", tags[0] ? ", " : "", name);
		if (depth == 0 && tag && (!name || strcmp(name, tag)))
			continue;
		if (!mt || !platform_ok(d))
			continue; /* unknown media types and other platforms are skipped */
		if (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST)) {
			hit = d;
		} else if (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST)) {
			const char *digest;
			int64_t size;
			uint8_t *buf;
			size_t len;
			cJSON *sub;
			if (depth + 1 >= MAX_INDEX_DEPTH)
				return fail(s, "use the index %s: indexes nested more than %d deep", index_name, MAX_INDEX_DEPTH);
			r = descriptor(s, "index", d, &digest, &size);
			if (r == 0)
				r = blob_get(s, "index", digest, size, &buf, &len);
			if (r < 0)
				return r;
			sub = parse_json(s, "index", digest, buf, len);
			free(buf);
			if (!sub)
				return -EINVAL;
			if (*n_owned == MAX_INDEX_DEPTH * 8) {
				cJSON_Delete(sub);
				return fail(s, "use the index %s: too many nested indexes", index_name);
			}
			owned[(*n_owned)++] = sub;
			r = pick_manifest(s, sub, digest, NULL, depth + 1, keep, owned, n_owned, &hit);
			if (r == -ENOENT) {
				continue;
			}
			if (r < 0)
				return r;
		} else {
			continue;
		}
		if (found)
			return fail(s, "use the index %s: several linux/amd64 images%s%s; name one with PATH:TAG", index_name,
				    tags[0] ? " (tags: " : "", tags[0] ? tags : "");
		found = hit;
	}
	(void)keep;
	if (!found) {
		if (depth > 0)
			return -ENOENT;
		return fail(s, "use the index %s: no linux/amd64 image manifest%s%s%s%s%s", index_name, tag ? " tagged " : "",
			    tag ? tag : "", tags[0] ? " (tags: " : "", tags, tags[0] ? ")" : "");
	}
	*ret = found;
	return 0;
}

static int load_oci(struct source *s, const char *tag, enum cvm_oci_special special, struct cvm_oci_image *img)
{
	cJSON *index = NULL, *manifest = NULL, *config = NULL, *owned[MAX_INDEX_DEPTH * 8];
	size_t n_owned = 0;
	const cJSON *md, *layers, *l, *diff_ids;
	const char *digest, *mt;
	uint8_t *buf = NULL;
	size_t len, i = 0;
	int64_t size;
	int r;

	if (s->dir) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/index.json", s->dir);
		struct stat st;
		if (stat(p, &st) < 0)
			return fail(s, "use %s: no index.json (not an OCI image layout)", s->dir);
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_JSON)
			return fail(s, "use %s: index.json is not a file of at most %u bytes", p, MAX_JSON);
		FILE *f = fopen(p, "rb");
		if (!f)
			return fail(s, "read %s: %s", p, strerror(errno));
		len = (size_t)st.st_size;
		buf = malloc(len + 1);
		if (!buf || fread(buf, 1, len, f) != len) {
			fclose(f);
			free(buf);
			return fail(s, "read %s: short read", p);
		}
		fclose(f);
	} else {
		const struct member *m = member(s, "index.json");
		buf = malloc(m->len + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, m->data, m->len);
		len = m->len;
	}
	index = parse_json(s, "index", "index.json", buf, len);
	free(buf);
	buf = NULL;
	if (!index)
		return -EINVAL;
	r = pick_manifest(s, index, "index.json", tag, 0, NULL, owned, &n_owned, &md);
	if (r < 0)
		goto out;
	r = descriptor(s, "manifest", md, &digest, &size);
	if (r == 0)
		r = blob_get(s, "manifest", digest, size, &buf, &len);
	if (r < 0)
		goto out;
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", digest);
	manifest = parse_json(s, "manifest", digest, buf, len);
	free(buf);
	buf = NULL;
	if (!manifest) {
		r = -EINVAL;
		goto out;
	}
	mt = jstr(manifest, "mediaType");
	if ((mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) ||
	    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(manifest, "schemaVersion")) ||
	    cJSON_GetObjectItemCaseSensitive(manifest, "schemaVersion")->valueint != 2) {
		r = fail(s, "use the manifest %s: not an image manifest of schema version 2", img->manifest_digest);
		goto out;
	}
	md = cJSON_GetObjectItemCaseSensitive(manifest, "config");
	r = descriptor(s, "config", md, &digest, &size);
	if (r < 0)
		goto out;
	mt = jstr(md, "mediaType");
	if (!mt || (strcmp(mt, MT_OCI_CONFIG) && strcmp(mt, MT_DOCKER_CONFIG))) {
		r = fail(s, "use the manifest %s: its config %s has media type %.100s, not an image config (an artifact?)",
			 img->manifest_digest, digest, mt ? mt : "(none)");
		goto out;
	}
	r = blob_get(s, "config", digest, size, &img->config, &img->config_len);
	if (r < 0)
		goto out;
	snprintf(img->config_digest, sizeof(img->config_digest), "%s", digest);
	config = parse_json(s, "config", digest, img->config, img->config_len);
	if (!config) {
		r = -EINVAL;
		goto out;
	}
	layers = cJSON_GetObjectItemCaseSensitive(manifest, "layers");
	if (!cJSON_IsArray(layers)) {
		r = fail(s, "use the manifest %s: no layers array", img->manifest_digest);
		goto out;
	}
	r = check_config(s, img->config_digest, config, (size_t)cJSON_GetArraySize(layers), &diff_ids);
	if (r < 0)
		goto out;
	cJSON_ArrayForEach(l, layers) {
		enum comp comp;
		r = descriptor(s, "layer", l, &digest, &size);
		if (r < 0)
			goto out;
		if (layer_comp(jstr(l, "mediaType"), &comp) < 0) {
			r = fail(s, "use the layer %s: unsupported media type %.100s", digest,
				 jstr(l, "mediaType") ? jstr(l, "mediaType") : "(none)");
			goto out;
		}
		r = blob_get(s, "layer", digest, size, &buf, &len);
		if (r == 0)
			r = apply_layer(s, img, i, digest, buf, len, comp,
					cJSON_GetArrayItem(diff_ids, (int)i)->valuestring, special);
		free(buf);
		buf = NULL;
		if (r < 0)
			goto out;
		i++;
	}
	img->n_layers = i;
out:
	for (size_t k = 0; k < n_owned; k++)
		cJSON_Delete(owned[k]);
	cJSON_Delete(index);
	cJSON_Delete(manifest);
	cJSON_Delete(config);
	return r;
}

/* ------------------------------------------------------------ docker-archive */

/* docker save: manifest.json = [{"Config": FILE, "RepoTags": [...], "Layers":
 * [FILE...]}].  No descriptors: the config is named by its digest and the
 * layers are bound by the config's diff_ids, which are checked. */
static bool repotag_match(const cJSON *tags, const char *tag)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tags) {
		const char *v = cJSON_IsString(t) ? t->valuestring : NULL, *colon;
		if (!v)
			continue;
		colon = strrchr(v, ':');
		/* Docker normalises names: "example/app:v1" is stored as
		 * "docker.io/example/app:v1", "app:v1" as "docker.io/library/app:v1". */
		if (!strncmp(v, "docker.io/", 10) && (!strcmp(v + 10, tag) || (!strncmp(v + 10, "library/", 8) && !strcmp(v + 18, tag))))
			return true;
		if (!strcmp(v, tag) || (!strchr(tag, ':') && colon && !strcmp(colon + 1, tag)))
			return true;
	}
	return false;
}

static int load_docker(struct source *s, const char *archive, const char *tag, enum cvm_oci_special special,
		       struct cvm_oci_image *img)
{
	const struct member *mm = member(s, "manifest.json"), *cm;
	cJSON *list = NULL, *config = NULL;
	const cJSON *entry = NULL, *e, *layers, *l, *diff_ids;
	const char *cfg_name;
	size_t i = 0, n = 0;
	int r;

	list = cJSON_ParseWithLength((const char *)mm->data, mm->len);
	if (!cJSON_IsArray(list)) {
		r = fail(s, "use %s: manifest.json is not a JSON array", archive);
		goto out;
	}
	cJSON_ArrayForEach(e, list) {
		if (tag && !repotag_match(cJSON_GetObjectItemCaseSensitive(e, "RepoTags"), tag))
			continue;
		entry = e;
		n++;
	}
	if (n != 1) {
		r = fail(s, "use %s: %s image%s%s%s", archive, n ? "several" : "no", tag ? " tagged " : "s", tag ? tag : "",
			 n ? "; name one with PATH:TAG" : "");
		goto out;
	}
	cfg_name = jstr(entry, "Config");
	cm = cfg_name ? member(s, cfg_name) : NULL;
	if (!cm) {
		r = fail(s, "use %s: the config %.200s is missing", archive, cfg_name ? cfg_name : "(none)");
		goto out;
	}
	if (cm->len > MAX_JSON) {
		r = fail(s, "use %s: the config %.200s is over the limit", archive, cfg_name);
		goto out;
	}
	img->config = malloc(cm->len ? cm->len : 1);
	if (!img->config) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(img->config, cm->data, cm->len);
	img->config_len = cm->len;
	r = sha256_str(img->config, img->config_len, img->config_digest);
	if (r < 0)
		goto out;
	/* The file is named after its digest ("<hex>.json" or
	 * "blobs/sha256/<hex>"); a name that says otherwise is a mismatch. */
	{
		const char *base = strrchr(cfg_name, '/') ? strrchr(cfg_name, '/') + 1 : cfg_name;
		if (strspn(base, "0123456789abcdef") == 64 && strncmp(base, img->config_digest + 7, 64)) {
			r = fail(s, "use %s: the config %.200s: digest mismatch (it hashes to %s)", archive, cfg_name,
				 img->config_digest);
			goto out;
		}
	}
	config = parse_json(s, "config", img->config_digest, img->config, img->config_len);
	layers = cJSON_GetObjectItemCaseSensitive(entry, "Layers");
	if (!config || !cJSON_IsArray(layers)) {
		r = config ? fail(s, "use %s: manifest.json has no Layers array", archive) : -EINVAL;
		goto out;
	}
	r = check_config(s, img->config_digest, config, (size_t)cJSON_GetArraySize(layers), &diff_ids);
	if (r < 0)
		goto out;
	cJSON_ArrayForEach(l, layers) {
		const struct member *lm = cJSON_IsString(l) ? member(s, l->valuestring) : NULL;
		char name[300];
		if (!lm) {
			r = fail(s, "use %s: the layer %.200s is missing", archive, cJSON_IsString(l) ? l->valuestring : "?");
			goto out;
		}
		snprintf(name, sizeof(name), "%.200s (in %.80s)", lm->name, archive);
		r = apply_layer(s, img, i, name, lm->data, lm->len, COMP_DETECT,
				cJSON_GetArrayItem(diff_ids, (int)i)->valuestring, special);
		if (r < 0)
			goto out;
		i++;
	}
	img->n_layers = i;
out:
	cJSON_Delete(list);
	cJSON_Delete(config);
	return r;
}

/* ------------------------------------------------------------ entry */

void cvm_oci_image_free(struct cvm_oci_image *img)
{
	free(img->config);
	cvm_oci_tree_free(img->tree);
	memset(img, 0, sizeof(*img));
}

int cvm_oci_image_load(const char *ref, const struct cvm_oci_limits *lim_in, enum cvm_oci_special special,
		       struct cvm_oci_image *ret, char *err, size_t err_size)
{
	struct cvm_oci_limits lim = {
		.max_blob = lim_in && lim_in->max_blob ? lim_in->max_blob : CVM_OCI_DEFAULT_MAX_BLOB,
		.max_unpacked = lim_in && lim_in->max_unpacked ? lim_in->max_unpacked : CVM_OCI_DEFAULT_MAX_UNPACKED,
		.max_entries = lim_in && lim_in->max_entries ? lim_in->max_entries : CVM_OCI_DEFAULT_MAX_ENTRIES,
	};
	struct source s = { .lim = &lim, .err = err, .es = err_size };
	struct cvm_oci_image img = { 0 };
	char path[4096];
	const char *tag = NULL;
	struct stat st;
	int r;

	err[0] = 0;
	/* PATH[:TAG]: the longest prefix that exists is the path ("a.tar:name:tag"
	 * has the tag "name:tag", as skopeo's docker-archive transport). */
	if (strlen(ref) >= sizeof(path))
		return fail(&s, "use the image %.80s...: path too long", ref);
	strcpy(path, ref);
	if (stat(path, &st) < 0) {
		char *c = strchr(path, ':');
		for (; c; c = strchr(c + 1, ':')) {
			*c = 0;
			if (stat(path, &st) == 0) {
				tag = ref + (c - path) + 1;
				break;
			}
			*c = ':';
		}
		if (!tag)
			return fail(&s, "use the image %s: %s", ref, strerror(ENOENT));
		if (!*tag)
			return fail(&s, "use the image %s: empty tag", ref);
	}
	r = cvm_oci_tree_new(&img.tree);
	if (r < 0)
		return r;
	if (S_ISDIR(st.st_mode)) {
		char p[4200];
		s.dir = path;
		snprintf(p, sizeof(p), "%s/oci-layout", path);
		if (access(p, F_OK) < 0) {
			r = fail(&s, "use %s: no oci-layout file (not an OCI image layout)", path);
			goto out;
		}
		strcpy(img.format, "oci-layout");
		r = load_oci(&s, tag, special, &img);
	} else {
		r = load_tarball(&s, path);
		if (r < 0)
			goto out;
		if (member(&s, "index.json")) {
			strcpy(img.format, "oci-archive");
			r = load_oci(&s, tag, special, &img);
		} else if (member(&s, "manifest.json")) {
			strcpy(img.format, "docker-archive");
			r = load_docker(&s, path, tag, special, &img);
		} else {
			r = fail(&s, "use %s: neither an oci-archive (index.json) nor a docker-archive (manifest.json)", path);
		}
	}
out:
	members_free(&s);
	if (r < 0) {
		if (!err[0])
			snprintf(err, err_size, "read the image %s: %s", ref, strerror(-r));
		cvm_oci_image_free(&img);
		return r;
	}
	*ret = img;
	return 0;
}
