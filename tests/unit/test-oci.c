/* Container images: reading, verifying, flattening and resolving the
 * process.  The images are written by tests/unit/gen-oci-cases.py (Python's
 * tarfile/gzip/hashlib, Debian's skopeo for the archive forms); the expected
 * trees and errors below come from the image-spec rules (fact sheet
 * oci-workload.md §3, §4, §7), not from this code. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cvmkit/cpio.h"
#include "cvmkit/oci.h"
#include "testutil.h"

static char cases[4096];

static int setup(void **state)
{
	char cmd[8400];
	const char *top = getenv("CVMKIT_TOP");
	char *dir = tu_mkdtemp();

	(void)state;
	snprintf(cases, sizeof(cases), "%s", dir);
	free(dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit/gen-oci-cases.py %s", top ? top : ".", cases);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(cases);
	return 0;
}

struct loaded {
	struct cvm_oci_image img;
	char err[CVM_OCI_ERR_MAX];
	int r;
};

static void load_lim(const char *name, const struct cvm_oci_limits *lim, enum cvm_oci_special sp, struct loaded *l)
{
	char ref[4200];

	snprintf(ref, sizeof(ref), "%s/%s", cases, name);
	memset(l, 0, sizeof(*l));
	l->r = cvm_oci_image_load(ref, lim, sp, &l->img, l->err, sizeof(l->err));
}

static void load(const char *name, struct loaded *l) { load_lim(name, NULL, CVM_OCI_SPECIAL_REFUSE, l); }

static void load_ok(const char *name, struct loaded *l)
{
	load(name, l);
	if (l->r < 0)
		fail_msg("%s: %s", name, l->err);
}

/* A refusal: the return, and one line containing each fragment. */
static void refused(const char *name, int want, ...)
{
	struct loaded l;
	va_list ap;
	const char *frag;

	load(name, &l);
	if (l.r == 0)
		fail_msg("%s: loaded, expected a refusal", name);
	assert_int_equal(l.r, want);
	assert_null(strchr(l.err, '\n'));
	va_start(ap, want);
	while ((frag = va_arg(ap, const char *)))
		if (!strstr(l.err, frag))
			fail_msg("%s: error '%s' lacks '%s'", name, l.err, frag);
	va_end(ap);
}

static bool exists(const struct cvm_oci_tree *t, const char *path, enum cvm_oci_type type)
{
	struct cvm_oci_stat st;

	return cvm_oci_tree_stat(t, path, false, &st) == 0 && st.type == type;
}

static bool absent(const struct cvm_oci_tree *t, const char *path)
{
	struct cvm_oci_stat st;

	return cvm_oci_tree_stat(t, path, false, &st) == -ENOENT;
}

static void assert_content(const struct cvm_oci_tree *t, const char *path, const char *want)
{
	struct cvm_oci_stat st;

	assert_int_equal(cvm_oci_tree_stat(t, path, false, &st), 0);
	assert_int_equal(st.size, strlen(want));
	assert_memory_equal(st.data, want, st.size);
}

/* The layer descriptors' digest as the generator wrote it, read back from
 * the manifest with no help from the code under test: the blob names. */
static void first_layer_digest(const char *name, char out[80])
{
	char cmd[4400];
	FILE *p;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=sys.argv[1]; i=json.load(open(d+\"/index.json\")); "
		 "m=json.load(open(d+\"/blobs/sha256/\"+i[\"manifests\"][0][\"digest\"][7:])); print(m[\"layers\"][0][\"digest\"])' %s/%s",
		 cases, name);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 80, p));
	out[strcspn(out, "\n")] = 0;
	pclose(p);
}

/* ------------------------------------------------------------ §7 rows */

static void test_whiteout(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("whiteout", &l);
	assert_true(absent(l.img.tree, "/a/b"));
	assert_true(exists(l.img.tree, "/a", CVM_OCI_DIR));
	assert_true(exists(l.img.tree, "/a/c", CVM_OCI_REG));
	assert_true(absent(l.img.tree, "/a/.wh.b"));
	assert_int_equal(l.img.n_layers, 2);
	cvm_oci_image_free(&l.img);
}

static void test_opaque(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("opaque", &l);
	assert_true(exists(l.img.tree, "/a/c", CVM_OCI_REG));
	assert_true(absent(l.img.tree, "/a/x"));
	assert_true(absent(l.img.tree, "/a/d"));
	assert_true(absent(l.img.tree, "/a/.wh..wh..opq"));
	/* root, bin, bin/prog, a, a/c */
	assert_int_equal(cvm_oci_tree_count(l.img.tree), 5);
	cvm_oci_image_free(&l.img);
}

static void test_same_layer(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("samelayer", &l);
	assert_true(exists(l.img.tree, "/f/n", CVM_OCI_REG)); /* the layer's own file survives */
	assert_true(absent(l.img.tree, "/f/z"));             /* the lower one goes */
	cvm_oci_image_free(&l.img);
}

static void test_type_swap(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("typeswap", &l);
	assert_true(exists(l.img.tree, "/p", CVM_OCI_DIR));
	assert_true(exists(l.img.tree, "/p/k", CVM_OCI_REG));
	assert_true(exists(l.img.tree, "/q", CVM_OCI_REG));
	assert_content(l.img.tree, "/q", "file now");
	assert_true(absent(l.img.tree, "/q/inner") || !exists(l.img.tree, "/q/inner", CVM_OCI_REG));
	cvm_oci_image_free(&l.img);
}

static void test_symlink_escape(void **state)
{
	char layer2[80] = "";
	char cmd[4400];
	FILE *p;

	(void)state;
	/* The second layer's digest names the blob at fault. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=sys.argv[1]; i=json.load(open(d+\"/index.json\")); "
		 "m=json.load(open(d+\"/blobs/sha256/\"+i[\"manifests\"][0][\"digest\"][7:])); print(m[\"layers\"][1][\"digest\"])' %s/symlink-escape",
		 cases);
	p = popen(cmd, "r");
	assert_non_null(fgets(layer2, sizeof(layer2), p));
	pclose(p);
	layer2[strcspn(layer2, "\n")] = 0;
	refused("symlink-escape", -EINVAL, layer2, "x/etc/passwd", "symlink", NULL);
}

static void test_symlinks_kept(void **state)
{
	struct loaded l;
	struct cvm_oci_stat st;

	(void)state;
	load_ok("symlinks-kept", &l);
	assert_int_equal(cvm_oci_tree_stat(l.img.tree, "/abs", false, &st), 0);
	assert_int_equal(st.type, CVM_OCI_LNK);
	assert_int_equal(st.size, strlen("/etc/outside"));
	assert_memory_equal(st.data, "/etc/outside", st.size);
	assert_content(l.img.tree, "/rel", "../../../host");
	cvm_oci_image_free(&l.img);
}

static void test_hardlink(void **state)
{
	struct loaded l;
	struct cvm_oci_stat a, b;
	struct cvm_cpio w;
	struct cvm_cpio_reader rd;
	struct cvm_cpio_entry e;
	uint8_t *buf;
	size_t len;
	uint32_t ino = 0;
	int seen = 0;

	(void)state;
	load_ok("hardlink", &l);
	assert_int_equal(cvm_oci_tree_stat(l.img.tree, "/h/orig", false, &a), 0);
	assert_int_equal(cvm_oci_tree_stat(l.img.tree, "/h/link", false, &b), 0);
	assert_int_equal(a.nlink, 2);
	assert_ptr_equal(a.data, b.data);
	assert_int_equal(b.mode, 0640);
	assert_int_equal(b.uid, 7);
	assert_int_equal(b.gid, 8);
	/* newc: one inode, nlink 2, the data with the first name only. */
	cvm_cpio_init(&w);
	assert_true(cvm_oci_tree_cpio(l.img.tree, "rootfs", 123, 1, &w) > 0);
	assert_int_equal(cvm_cpio_finish(&w, false, &buf, &len), 0);
	cvm_cpio_reader_init(&rd, buf, len);
	while (cvm_cpio_next(&rd, &e) == 1) {
		assert_int_equal(e.mtime, 123);
		if (strcmp(e.name, "rootfs/h/link") && strcmp(e.name, "rootfs/h/orig"))
			continue;
		assert_int_equal(e.nlink, 2);
		assert_int_equal(e.uid, 7);
		if (!seen++) {
			assert_string_equal(e.name, "rootfs/h/link"); /* sorted: link < orig */
			ino = e.ino;
			assert_int_equal(e.size, 7);
		} else {
			assert_int_equal(e.ino, ino);
			assert_int_equal(e.size, 0);
		}
	}
	assert_int_equal(seen, 2);
	free(buf);
	cvm_cpio_free(&w);
	cvm_oci_image_free(&l.img);
}

static void test_unterminated(void **state)
{
	const char *names[] = { "terminated", "unterminated", "unterminated-gz" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct loaded l;
		load_ok(names[i], &l);
		assert_content(l.img.tree, "/data", "unterminated");
		assert_true(exists(l.img.tree, "/bin/prog", CVM_OCI_REG));
		cvm_oci_image_free(&l.img);
	}
}

/* Debian's umoci 0.4.7 `insert` ends its layer right after the file's data
 * (fact sheet §4): the real thing, not an imitation. */
static void test_umoci_insert(void **state)
{
	struct loaded l;

	(void)state;
	if (access("/usr/bin/umoci", X_OK) < 0) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("umoci is missing (scripts/setup-host.sh test installs it)");
		skip();
	}
	load_ok("umoci-insert:v1", &l);
	assert_content(l.img.tree, "/etc/f.txt", "from umoci\n");
	cvm_oci_image_free(&l.img);
}

static void test_compressions(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("zstd", &l);
	assert_content(l.img.tree, "/z", "zstd layer");
	cvm_oci_image_free(&l.img);
	load_ok("mixed", &l);
	assert_content(l.img.tree, "/g", "gz");
	assert_content(l.img.tree, "/s", "zst");
	assert_int_equal(l.img.n_layers, 3);
	cvm_oci_image_free(&l.img);
}

static void test_multiarch(void **state)
{
	struct loaded l;
	size_t len;
	char *want = (char *)tu_read(strcat(strcpy((char[4200]){ 0 }, cases), "/multiarch.amd64"), &len);

	(void)state;
	want = realloc(want, len + 1);
	want[len] = 0;
	load_ok("multiarch:multi", &l);
	assert_string_equal(l.img.config_digest, want);
	assert_content(l.img.tree, "/arch", "amd64");
	free(want);
	cvm_oci_image_free(&l.img);
}

static void test_tags(void **state)
{
	struct loaded l;
	size_t len;
	char *want = (char *)tu_read(strcat(strcpy((char[4200]){ 0 }, cases), "/tags.b"), &len);

	(void)state;
	want = realloc(want, len + 1);
	want[len] = 0;
	refused("tags", -EINVAL, "several", "a, b", NULL);
	load_ok("tags:b", &l);
	assert_string_equal(l.img.config_digest, want);
	assert_content(l.img.tree, "/which", "b");
	cvm_oci_image_free(&l.img);
	refused("tags:c", -EINVAL, "no linux/amd64 image", "tagged c", NULL);
	free(want);
}

static void test_unknown_index_entry_skipped(void **state)
{
	struct loaded l;

	(void)state;
	load_ok("unknown-index-entry", &l);
	assert_true(exists(l.img.tree, "/bin/prog", CVM_OCI_REG));
	cvm_oci_image_free(&l.img);
}

/* ------------------------------------------------------------ refusals */

static void test_blob_refusals(void **state)
{
	char d[80];

	(void)state;
	first_layer_digest("digest-mismatch", d);
	refused("digest-mismatch", -EINVAL, d, "digest mismatch", NULL);
	first_layer_digest("size-mismatch", d);
	refused("size-mismatch", -EINVAL, d, "size mismatch", NULL);
	first_layer_digest("missing-blob", d);
	refused("missing-blob", -EINVAL, d, "missing", NULL);
	first_layer_digest("unknown-layer-type", d);
	refused("unknown-layer-type", -EINVAL, d, "application/vnd.example.layer", NULL);
}

static void test_path_refusals(void **state)
{
	char d[80];

	(void)state;
	first_layer_digest("dotdot", d);
	refused("dotdot", -EINVAL, d, "'../evil'", "leaves the root", NULL);
	first_layer_digest("absolute", d);
	refused("absolute", -EINVAL, d, "'/abs'", NULL);
	first_layer_digest("bare-whiteout", d);
	refused("bare-whiteout", -EINVAL, d, "bare whiteout", NULL);
}

static void test_special(void **state)
{
	struct loaded l;
	struct cvm_oci_stat st;
	char d[80];

	(void)state;
	first_layer_digest("device", d);
	refused("device", -EINVAL, d, "dev-null", "device node", NULL);
	first_layer_digest("setuid", d);
	refused("setuid", -EINVAL, d, "'su'", "setuid", NULL);
	load_lim("setuid", NULL, CVM_OCI_SPECIAL_STRIP, &l);
	assert_int_equal(l.r, 0);
	assert_int_equal(cvm_oci_tree_stat(l.img.tree, "/su", false, &st), 0);
	assert_int_equal(st.mode, 0755);
	cvm_oci_image_free(&l.img);
	load_lim("device", NULL, CVM_OCI_SPECIAL_STRIP, &l);
	assert_int_equal(l.r, 0);
	assert_true(absent(l.img.tree, "/dev-null"));
	cvm_oci_image_free(&l.img);
	load_lim("device", NULL, CVM_OCI_SPECIAL_KEEP, &l);
	assert_int_equal(l.r, 0);
	assert_true(exists(l.img.tree, "/dev-null", CVM_OCI_CHR));
	cvm_oci_image_free(&l.img);
}

static void test_caps(void **state)
{
	struct cvm_oci_limits small_blob = { .max_blob = 32 << 10 }, small_unpacked = { .max_unpacked = 1 << 20 },
			      few = { .max_entries = 2 };
	struct loaded l;
	char d[80];

	(void)state;
	first_layer_digest("oversized", d);
	load_lim("oversized", &small_blob, CVM_OCI_SPECIAL_REFUSE, &l);
	assert_int_equal(l.r, -EINVAL);
	assert_non_null(strstr(l.err, d));
	assert_non_null(strstr(l.err, "over the limit"));
	first_layer_digest("bomb", d);
	load_lim("bomb", &small_unpacked, CVM_OCI_SPECIAL_REFUSE, &l);
	assert_int_equal(l.r, -EINVAL);
	assert_non_null(strstr(l.err, d));
	assert_non_null(strstr(l.err, "decompression bomb"));
	load_lim("whiteout", &few, CVM_OCI_SPECIAL_REFUSE, &l);
	assert_int_equal(l.r, -E2BIG);
	assert_non_null(strstr(l.err, "entries"));
	/* the bomb itself, with the default caps, is fine: 32 MiB of zeros */
	load_ok("bomb", &l);
	cvm_oci_image_free(&l.img);
}

/* ------------------------------------------------------------ archive forms */

static void test_archives(void **state)
{
	struct loaded l, ref;
	const char *forms[] = { "whiteout.oci.tar", "whiteout.oci.tar:v1", "whiteout.docker.tar",
				"whiteout.docker.tar:example/whiteout:v1", "whiteout.docker.tar:v1" };

	(void)state;
	if (access("/usr/bin/skopeo", X_OK) < 0) {
		if (getenv("CI") && !strcmp(getenv("CI"), "true"))
			fail_msg("skopeo is missing (scripts/setup-host.sh test installs it)");
		skip();
	}
	load_ok("whiteout", &ref);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		load_ok(forms[i], &l);
		assert_true(absent(l.img.tree, "/a/b"));
		assert_true(exists(l.img.tree, "/a/c", CVM_OCI_REG));
		assert_int_equal(cvm_oci_tree_count(l.img.tree), cvm_oci_tree_count(ref.img.tree));
		assert_string_equal(l.img.format, i < 2 ? "oci-archive" : "docker-archive");
		if (i < 2)
			assert_string_equal(l.img.manifest_digest, ref.img.manifest_digest);
		else
			assert_string_equal(l.img.manifest_digest, "");
		cvm_oci_image_free(&l.img);
	}
	cvm_oci_image_free(&ref.img);
}

/* ------------------------------------------------------------ process */

static void resolve(const char *name, const char *const *args, size_t n_args, struct cvm_oci_process *p, int want,
		    const char *frag)
{
	struct loaded l;
	char err[CVM_OCI_ERR_MAX] = "";
	const char *extra[] = { "B=2", "A=override" };
	int r;

	load_ok(name, &l);
	r = cvm_oci_process_resolve(l.img.config, l.img.config_len, l.img.tree, args, n_args, extra, 2, p, err,
				    sizeof(err));
	cvm_oci_image_free(&l.img);
	if (r != want)
		fail_msg("%s: %d (%s), want %d", name, r, err, want);
	if (frag && !strstr(err, frag))
		fail_msg("%s: error '%s' lacks '%s'", name, err, frag);
}

static void test_argv_rules(void **state)
{
	struct cvm_oci_process p;
	const char *args[] = { "--x", "y" };

	(void)state;
	resolve("entrypoint-only", NULL, 0, &p, 0, NULL);
	assert_int_equal(p.argc, 2);
	assert_string_equal(p.argv[0], "/bin/prog");
	assert_string_equal(p.argv[1], "-x");
	assert_string_equal(p.path, "/bin/prog");
	assert_string_equal(p.cwd, "/");
	assert_int_equal(p.uid, 0);
	cvm_oci_process_free(&p);
	resolve("cmd-only", NULL, 0, &p, 0, NULL);
	assert_int_equal(p.argc, 2);
	assert_string_equal(p.argv[0], "/bin/prog");
	assert_string_equal(p.argv[1], "c1");
	cvm_oci_process_free(&p);
	resolve("both", NULL, 0, &p, 0, NULL);
	assert_int_equal(p.argc, 3);
	assert_string_equal(p.argv[1], "c1");
	assert_string_equal(p.argv[2], "c2");
	assert_string_equal(p.cwd, "/work");
	/* the image's Env, then the builder's: B added, A overridden, PATH kept */
	assert_int_equal(p.envc, 3);
	assert_string_equal(p.env[0], "A=override");
	assert_string_equal(p.env[1], "PATH=/bin");
	assert_string_equal(p.env[2], "B=2");
	cvm_oci_process_free(&p);
	/* --workload-arg replaces Cmd, keeps Entrypoint */
	resolve("both", args, 2, &p, 0, NULL);
	assert_int_equal(p.argc, 3);
	assert_string_equal(p.argv[0], "/bin/prog");
	assert_string_equal(p.argv[1], "--x");
	assert_string_equal(p.argv[2], "y");
	cvm_oci_process_free(&p);
	/* a bare name through the default PATH, across the bin -> usr/bin link */
	resolve("pathsearch", NULL, 0, &p, 0, NULL);
	assert_string_equal(p.path, "/usr/bin/tool");
	assert_string_equal(p.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	cvm_oci_process_free(&p);
}

static void test_user(void **state)
{
	struct cvm_oci_process p;
	static const char pw[] = "root:x:0:0::/:/bin/sh\napp:x:1234:1235::/:/bin/sh\n";
	static const char gr[] = "root:x:0:\nstaff:x:50:app\n";
	char err[256];
	uint32_t u, g;

	(void)state;
	resolve("user-name", NULL, 0, &p, 0, NULL);
	assert_int_equal(p.uid, 1234);
	assert_int_equal(p.gid, 50);
	cvm_oci_process_free(&p);
	resolve("user-missing", NULL, 0, &p, -EINVAL, "no user 'nobody'");
	/* the spec's forms: user, uid, user:group, uid:gid, uid:group, user:gid */
	assert_int_equal(cvm_oci_user_resolve("app", (const uint8_t *)pw, strlen(pw), (const uint8_t *)gr, strlen(gr), &u, &g, err, sizeof(err)), 0);
	assert_true(u == 1234 && g == 1235);
	assert_int_equal(cvm_oci_user_resolve("1001", NULL, 0, NULL, 0, &u, &g, err, sizeof(err)), 0);
	assert_true(u == 1001 && g == 0);
	assert_int_equal(cvm_oci_user_resolve("1234", (const uint8_t *)pw, strlen(pw), NULL, 0, &u, &g, err, sizeof(err)), 0);
	assert_true(u == 1234 && g == 1235);
	assert_int_equal(cvm_oci_user_resolve("7:9", NULL, 0, NULL, 0, &u, &g, err, sizeof(err)), 0);
	assert_true(u == 7 && g == 9);
	assert_int_equal(cvm_oci_user_resolve("7:staff", NULL, 0, (const uint8_t *)gr, strlen(gr), &u, &g, err, sizeof(err)), 0);
	assert_true(u == 7 && g == 50);
	assert_int_equal(cvm_oci_user_resolve("app:9", (const uint8_t *)pw, strlen(pw), NULL, 0, &u, &g, err, sizeof(err)), 0);
	assert_true(u == 1234 && g == 9);
	assert_int_equal(cvm_oci_user_resolve("app:nogroup", (const uint8_t *)pw, strlen(pw), (const uint8_t *)gr, strlen(gr), &u, &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no group 'nogroup'"));
	assert_int_equal(cvm_oci_user_resolve("app:", NULL, 0, NULL, 0, &u, &g, err, sizeof(err)), -EINVAL);
}

static void test_cpio_deterministic(void **state)
{
	struct loaded a, b;
	struct cvm_cpio w1, w2;
	uint8_t *b1, *b2;
	size_t l1, l2;
	struct cvm_cpio_reader rd;
	struct cvm_cpio_entry e;
	const char *want[] = { "r", "r/a", "r/a/c", "r/bin", "r/bin/prog" };
	size_t i = 0;

	(void)state;
	load_ok("whiteout", &a);
	load_ok("whiteout", &b);
	cvm_cpio_init(&w1);
	cvm_cpio_init(&w2);
	assert_int_equal(cvm_oci_tree_cpio(a.img.tree, "r", 5, 1, &w1), 5);
	assert_int_equal(cvm_oci_tree_cpio(b.img.tree, "r", 5, 1, &w2), 5);
	assert_int_equal(cvm_cpio_finish(&w1, false, &b1, &l1), 0);
	assert_int_equal(cvm_cpio_finish(&w2, false, &b2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	cvm_cpio_reader_init(&rd, b1, l1);
	while (cvm_cpio_next(&rd, &e) == 1) {
		assert_true(i < 5);
		assert_string_equal(e.name, want[i++]);
	}
	assert_int_equal(i, 5);
	free(b1);
	free(b2);
	cvm_oci_image_free(&a.img);
	cvm_oci_image_free(&b.img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whiteout),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_same_layer),
		cmocka_unit_test(test_type_swap),
		cmocka_unit_test(test_symlink_escape),
		cmocka_unit_test(test_symlinks_kept),
		cmocka_unit_test(test_hardlink),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_umoci_insert),
		cmocka_unit_test(test_compressions),
		cmocka_unit_test(test_multiarch),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_unknown_index_entry_skipped),
		cmocka_unit_test(test_blob_refusals),
		cmocka_unit_test(test_path_refusals),
		cmocka_unit_test(test_special),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_archives),
		cmocka_unit_test(test_argv_rules),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_cpio_deterministic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
