/* cvm-image build: stage the initramfs tree, archive and compress it,
 * assemble (and sign) the UKI, lay out the ESP, GPT disk and VHD footer, and
 * write the artifacts all at once. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cvmkit/config.h"
#include "cvmkit/cpio.h"
#include "cvmkit/fat.h"
#include "cvmkit/fileio.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/initrd.h"
#include "cvmkit/oci.h"
#include "cvmkit/uki.h"
#include "cvmkit/ukibuild.h"
#include "cvmkit/vhd.h"
#include "cvmkit/writeout.h"

#include "cli.h"

struct artifact {
	const char *name;
	const uint8_t *data;
	size_t len;
	const uint8_t *tail; /* written after data (the VHD footer) */
	size_t tail_len;
	const uint8_t *digest; /* SHA-256 of data || tail */
	char sha256[65];
};

/* SHA-256 of the raw disk and of the VHD (the same bytes plus the footer),
 * hashing the disk once. */
static int hash_disk_and_vhd(const uint8_t *disk, size_t len, const uint8_t *footer, size_t footer_len,
			     uint8_t ret_disk[32], uint8_t ret_vhd[32])
{
	struct cvm_hash_ctx h = { 0 }, v = { 0 };
	int r;

	r = cvm_hash_init(&h, CVM_HASH_SHA256);
	if (r == 0)
		r = cvm_hash_update(&h, disk, len);
	if (r == 0)
		r = cvm_hash_clone(&v, &h);
	if (r == 0)
		r = cvm_hash_update(&v, footer, footer_len);
	if (r == 0)
		r = cvm_hash_final(&v, ret_vhd);
	if (r == 0)
		r = cvm_hash_final(&h, ret_disk);
	cvm_hash_free(&h);
	cvm_hash_free(&v);
	return r;
}

struct disk_hash {
	const uint8_t *disk, *footer;
	size_t len, footer_len;
	uint8_t *ret_disk, *ret_vhd;
	int r;
};

static void *disk_hash_thread(void *arg)
{
	struct disk_hash *h = arg;

	h->r = hash_disk_and_vhd(h->disk, h->len, h->footer, h->footer_len, h->ret_disk, h->ret_vhd);
	return NULL;
}

/* What the steps of a build share; build_free() releases it. */
struct build {
	struct args *a;
	const struct cvm_conf *c;
	const char *binary, *image, *wl_path; /* binary or image: one is NULL */
	char wl_default[PATH_MAX];
	long long epoch;                      /* SOURCE_DATE_EPOCH, default 0 */
	unsigned long min_disk_mib;
	struct cvm_signer *signer;            /* NULL: not signing */
	/* The initramfs trees: what only the init and the modules decide (its
	 * compressed blocks are cached, initrd.h), and the rest. */
	struct stage fixed, rest;
	struct cvm_oci_workload oci;          /* the container image, when image is set */
	struct text initconf;
	size_t cpio_len;                      /* the initramfs before compression */
	uint8_t *initrd, *uki, *disk;
	size_t initrd_len, uki_len, disk_len;
	uint8_t seed[32];                     /* SHA-256 of the UKI: every disk identifier derives from it */
	uint8_t footer[CVM_VHD_FOOTER_SIZE];
	uint8_t d_disk[32], d_vhd[32];
	struct artifact arts[3];
};

static void build_free(struct build *b)
{
	stage_free(&b->fixed);
	stage_free(&b->rest);
	cvm_oci_workload_free(&b->oci);
	free(b->initconf.p);
	free(b->initrd);
	free(b->uki);
	free(b->disk);
	cvm_signer_free(b->signer);
}

/* The inputs and the whole configuration, before anything is written. */
static int step_check(struct build *b)
{
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	struct args *a = b->a;
	int code;

	/* A kernel named in the configuration wins over the pinned one. */
	if (cvm_conf_get(b->c, "kernel.image"))
		a->linux_ = cvm_conf_get(b->c, "kernel.image");
	if (!a->init || !a->stub || !a->linux_ || !a->uname) {
		fprintf(stderr, "%s: fatal: unable to build: --init, --stub, --linux and --uname are required\n", PROG);
		return 2;
	}
	if (epoch_s && *epoch_s) {
		char *end;
		b->epoch = strtoll(epoch_s, &end, 10);
		if (*end || b->epoch < 0 || b->epoch > 0xffffffffLL)
			return fail(2, "use SOURCE_DATE_EPOCH=%s: not a Unix time", epoch_s);
	}
	if ((code = check_config(b->c, b->wl_default, &b->wl_path, &b->initconf)) != 0)
		return code;
	pick_workload(b->c, &b->binary, &b->image);
	/* Validated by check_config(). */
	b->min_disk_mib = strtoul(cvm_conf_get(b->c, "image.min_disk_mib"), NULL, 10);
	return 0;
}

static int step_outdir(struct build *b)
{
	int r = mkdirs(b->a->out, 0755);

	return r < 0 ? fail(1, "create %s: %s", b->a->out, strerror(-r)) : 0;
}

/* A wrong passphrase fails now, not after the initramfs. */
static int step_signer(struct build *b)
{
	int sign = secureboot_check(b->c);

	if (sign > 1)
		return sign;
	return sign ? secureboot_signer(b->c, &b->signer) : 0;
}

/* The two trees, with the init in the fixed one. */
static int step_stage_init(struct build *b)
{
	int r;

	stage_init(&b->fixed);
	stage_init(&b->rest);
	r = stage_copy_file(&b->fixed, b->a->init, "init", 0755);
	return r < 0 ? fail(1, "stage the init %s: %s", b->a->init, strerror(-r)) : 0;
}

/* The workload: the binary, staged at its path, or the container image,
 * flattened (its own archive, see step_initramfs) with its [workload]
 * section rendered into init.conf and checked by the init's parser. */
static int step_workload(struct build *b)
{
	int r, code;

	if (!b->image) {
		r = stage_copy_file(&b->rest, b->binary, b->wl_path + 1, 0755);
		return r < 0 ? fail(1, "stage the workload %s: %s", b->binary, strerror(-r)) : 0;
	}
	code = build_image_workload(b->c, (uint32_t)b->epoch, &b->oci);
	if (code)
		return code;
	/* check_config rendered everything but the image's [workload]. */
	free(b->initconf.p);
	b->initconf = (struct text){ 0 };
	r = render_init_conf(b->c, b->wl_path, b->oci.conf, &b->initconf);
	if (r < 0)
		return render_fail(r);
	return check_init_conf(&b->initconf);
}

/* The rest of the trees: the stop commands, the kernel modules and the mount
 * points in the fixed one; init.conf and the KBS CA beside the workload. */
static int step_stage_tree(struct build *b)
{
	const struct cvm_conf *c = b->c;
	int r;

	r = stage_stop_applets(&b->fixed);
	if (r < 0)
		return fail(1, "stage the stop commands: %s", strerror(-r));
	r = stage_file(&b->rest, "etc/cvmkit/init.conf", (uint8_t *)b->initconf.p, b->initconf.len, 0644);
	if (r == 0 && cvm_conf_get(c, "kbs.url") && cvm_conf_get(c, "kbs.ca")) {
		const char *ca = cvm_conf_get(c, "kbs.ca");
		uint8_t *pem;
		size_t pem_len;

		r = cvm_read_file(ca, 64u << 10, &pem, &pem_len);
		if (r < 0)
			return fail(2, "read the KBS CA %s: %s", ca, strerror(-r));
		if (!memmem(pem, pem_len, "-----BEGIN CERTIFICATE-----", 27)) {
			free(pem);
			return fail(2, "use the KBS CA %s: not a PEM certificate", ca);
		}
		r = stage_file(&b->rest, KBS_CA_IMAGE_PATH + 1, pem, pem_len, 0644);
		free(pem);
	}
	if (r == 0 && b->a->modules) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), "%s/lib/modules", b->a->modules);
		r = stage_copy_tree(&b->fixed, src, "lib/modules");
	}
	for (const char *const *d = (const char *const[]){ "proc", "sys", "run", "tmp", NULL }; r == 0 && *d; d++)
		r = stage_dir(&b->fixed, *d);
	return r < 0 ? fail(1, "stage the initramfs: %s", strerror(-r)) : 0;
}

/* Initramfs: a first archive with /dev/console (the kernel opens it for
 * PID 1 before any file system is mounted), then the fixed tree (init,
 * modules): the part whose compressed blocks the cache keeps.  Then the
 * rest: the workload's tree, and a container image's tree as a third archive
 * of its own (its inode numbers, hard links, are its own, as the kernel
 * forgets them at each trailer). */
static int step_initramfs(struct build *b)
{
	uint8_t *console = NULL, *tree = NULL, *rest = NULL, *cpio = NULL;
	size_t console_len, tree_len, rest_len, fixed_len;
	struct cvm_initrd_cache_info cache;
	int r, code = 1;

	{
		struct cvm_cpio w;
		struct cvm_cpio_entry dev = { .name = "dev", .mode = S_IFDIR | 0755, .nlink = 2, .mtime = (uint32_t)b->epoch, .ino = 1 };
		struct cvm_cpio_entry con = { .name = "dev/console", .mode = S_IFCHR | 0600, .nlink = 1, .mtime = (uint32_t)b->epoch,
					      .ino = 2, .rdevmajor = 5, .rdevminor = 1 };
		cvm_cpio_init(&w);
		r = cvm_cpio_add(&w, &dev);
		if (r == 0)
			r = cvm_cpio_add(&w, &con);
		if (r == 0)
			r = cvm_cpio_finish(&w, false, &console, &console_len);
		cvm_cpio_free(&w);
	}
	if (r == 0)
		r = stage_archive(&b->fixed, (uint32_t)b->epoch, &tree, &tree_len);
	if (r == 0)
		r = stage_archive(&b->rest, (uint32_t)b->epoch, &rest, &rest_len);
	if (r < 0) {
		fail(1, "write the initramfs archive: %s", strerror(-r));
		goto out;
	}
	fixed_len = console_len + tree_len;
	b->cpio_len = fixed_len + rest_len + b->oci.cpio_len;
	cpio = malloc(b->cpio_len);
	if (!cpio) {
		fail(1, "allocate the initramfs: %s", strerror(ENOMEM));
		goto out;
	}
	memcpy(cpio, console, console_len);
	memcpy(cpio + console_len, tree, tree_len);
	memcpy(cpio + fixed_len, rest, rest_len);
	if (b->oci.cpio_len)
		memcpy(cpio + fixed_len + rest_len, b->oci.cpio, b->oci.cpio_len);
	r = cvm_initrd_compress(cpio, fixed_len, cpio + fixed_len, b->cpio_len - fixed_len, b->a->cache, &b->initrd,
				&b->initrd_len, &cache);
	if (r < 0) {
		fail(1, "compress the initramfs: %s", strerror(-r));
		goto out;
	}
	if (cache.result == CVM_INITRD_CACHE_UNSTORED)
		progress("initramfs: unable to store the compressed init and modules in %s: %s", b->a->cache,
			 strerror(-cache.error));
	else if (cache.result != CVM_INITRD_CACHE_OFF)
		progress("initramfs: init and modules %s %s/%.16s",
			 cache.result == CVM_INITRD_CACHE_HIT ? "from" : cache.replaced ? "replaced a damaged entry," : "stored in",
			 b->a->cache, cache.key);
	progress("initramfs: %zu bytes of cpio, %zu bytes compressed (lz4 legacy)", b->cpio_len, b->initrd_len);
	code = 0;
out:
	free(console);
	free(tree);
	free(rest);
	free(cpio);
	return code;
}

/* The UKI: stub, kernel, os-release, command line, initramfs, uname; signed
 * when [secureboot] says so. */
static int step_uki(struct build *b)
{
	const struct cvm_conf *c = b->c;
	uint8_t *stub = NULL;
	size_t stub_len;
	struct cvm_file_view kernel = { 0 }; /* mapped: 12 MB neither allocated nor copied */
	char osrel[512];
	int r, code = 1;

	r = cvm_read_file(b->a->stub, IMG_MAX_INPUT, &stub, &stub_len);
	if (r < 0) {
		fail(1, "read the stub %s: %s", b->a->stub, strerror(-r));
		goto out;
	}
	r = cvm_file_view_open(b->a->linux_, IMG_MAX_INPUT, &kernel);
	if (r < 0) {
		fail(1, "read the kernel %s: %s", b->a->linux_, strerror(-r));
		goto out;
	}
	snprintf(osrel, sizeof(osrel), "NAME=\"%s\"\nID=%s\nPRETTY_NAME=\"%s (cvmkit image)\"\n",
		 cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"));
	{
		struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { 0 };
		const char *cmdline = cvm_conf_get(c, "kernel.cmdline");
		parts[CVM_UKI_LINUX] = (struct cvm_uki_part){ kernel.buf, kernel.len };
		parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)osrel, strlen(osrel) };
		parts[CVM_UKI_CMDLINE] = (struct cvm_uki_part){ (const uint8_t *)cmdline, strlen(cmdline) };
		parts[CVM_UKI_INITRD] = (struct cvm_uki_part){ b->initrd, b->initrd_len };
		parts[CVM_UKI_UNAME] = (struct cvm_uki_part){ (const uint8_t *)b->a->uname, strlen(b->a->uname) };
		r = cvm_uki_build(stub, stub_len, parts, &b->uki, &b->uki_len);
	}
	if (r < 0) {
		fail(1, "assemble the UKI: %s", strerror(-r));
		goto out;
	}
	if (b->signer) {
		if (secureboot_sign(b->signer, &b->uki, &b->uki_len) || secureboot_azure(c, b->signer, b->a->out))
			goto out;
		progress("uki.efi signed (Authenticode, [secureboot] cert); wrote azure-uefi-settings.json");
	}
	progress("uki.efi: %zu bytes", b->uki_len);
	code = 0;
out:
	free(stub);
	cvm_file_view_close(&kernel);
	return code;
}

/* ESP, GPT disk, VHD footer.  Every identifier derives from the UKI's hash,
 * so the same UKI always yields the same disk. */
static int step_disk(struct build *b)
{
	uint8_t guid[16];
	size_t esp_len = 0;
	int r, code = 1;

	r = cvm_hash(CVM_HASH_SHA256, b->uki, b->uki_len, b->seed);
	if (r < 0) {
		fail(1, "hash the UKI: %s", strerror(-r));
		goto out;
	}
	{
		long esp_mib = strtol(cvm_conf_get(b->c, "image.esp_size_mib"), NULL, 10);
		bool fixed = esp_mib > 0;
		struct cvm_fat_file f = { "EFI/BOOT/BOOTX64.EFI", b->uki, b->uki_len };
		uint8_t vol[16];

		cvm_guid_derive("fat-volume-id", b->seed, 32, vol);
		if (!fixed)
			esp_mib = (long)((b->uki_len + 256 * 1024 + MIB - 1) / MIB);
		/* The ESP is written in its place in the disk (no copy).  1 MiB
		 * before it for the protective MBR and primary GPT (and alignment),
		 * 1 MiB after it for the backup GPT: a whole number of MiB.  Up to
		 * [image] min_disk_mib, the room before the backup GPT stays zeros
		 * (calloc's untouched pages, holes in the files); the GPT, and so
		 * PCR 5, describes the disk at its final size. */
		for (;;) {
			esp_len = (size_t)esp_mib * MIB;
			b->disk_len = esp_len + 2 * MIB;
			if (b->disk_len < (size_t)b->min_disk_mib * MIB)
				b->disk_len = (size_t)b->min_disk_mib * MIB;
			free(b->disk);
			b->disk = calloc(1, b->disk_len);
			if (!b->disk) {
				r = -ENOMEM;
				break;
			}
			r = cvm_fat_build_into(b->disk + MIB, esp_len, "ESP",
					       (uint32_t)vol[0] << 24 | (uint32_t)vol[1] << 16 | (uint32_t)vol[2] << 8 | vol[3],
					       b->epoch, &f, 1);
			if (r != -ENOSPC || fixed || esp_mib > 4096)
				break;
			esp_mib++;
		}
		if (r < 0) {
			fail(1, "write the %ld MiB EFI system partition: %s", esp_mib, strerror(-r));
			goto out;
		}
	}
	{
		struct cvm_gpt_partition p = { .first_lba = MIB / 512, .last_lba = (MIB + esp_len) / 512 - 1 };
		memcpy(p.type_guid, CVM_GPT_TYPE_ESP, 16);
		cvm_guid_derive("esp-partition", b->seed, 32, p.part_guid);
		snprintf(p.name, sizeof(p.name), "ESP");
		cvm_guid_derive("disk", b->seed, 32, guid);
		r = cvm_gpt_write(b->disk, b->disk_len, guid, &p, 1);
	}
	if (r < 0) {
		fail(1, "write the GPT: %s", strerror(-r));
		goto out;
	}
	cvm_guid_derive("vhd", b->seed, 32, guid);
	r = cvm_vhd_footer(b->disk_len, guid, b->epoch, b->footer);
	if (r < 0) {
		fail(1, "write the VHD footer: %s", strerror(-r));
		goto out;
	}
	progress("disk: %zu bytes (ESP %zu bytes at 1 MiB)", b->disk_len, esp_len);
	code = 0;
out:
	return code;
}

/* The artifacts, each atomically, all three or none; the disk's zero blocks
 * are holes and the VHD shares the raw disk's blocks where the file system
 * can.  Then workload-image.json (or its removal). */
static int step_write(struct build *b)
{
	char paths[3][PATH_MAX];
	struct cvm_file_out outs[3];
	struct disk_hash dh = { b->disk, b->footer, b->disk_len, sizeof(b->footer), b->d_disk, b->d_vhd, 0 };
	pthread_t th;
	bool threaded;
	int r;

	b->arts[0] = (struct artifact){ "uki.efi", b->uki, b->uki_len, NULL, 0, b->seed, "" };
	b->arts[1] = (struct artifact){ "disk.raw", b->disk, b->disk_len, NULL, 0, b->d_disk, "" };
	b->arts[2] = (struct artifact){ "disk.vhd", b->disk, b->disk_len, b->footer, sizeof(b->footer), b->d_vhd, "" };
	/* The disk's digests (20 MB of SHA-256) on another core while the
	 * files are written; they are only printed. */
	threaded = pthread_create(&th, NULL, disk_hash_thread, &dh) == 0;
	if (!threaded)
		disk_hash_thread(&dh);
	for (size_t i = 0; i < 3; i++) {
		struct artifact *t = &b->arts[i];
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", b->a->out, t->name);
		outs[i] = (struct cvm_file_out){ paths[i], t->data, t->len, t->tail, t->tail_len };
	}
	r = cvm_write_files_atomic(outs, 3, 0644);
	if (threaded)
		pthread_join(th, NULL);
	if (r < 0)
		return fail(1, "write the artifacts to %s: %s", b->a->out, strerror(-r));
	if (dh.r < 0)
		return fail(1, "hash the disk: %s", strerror(-dh.r));
	for (size_t i = 0; i < 3; i++)
		cvm_hex_encode(b->arts[i].digest, 32, b->arts[i].sha256);
	r = write_image_json(b->a->out, b->image ? &b->oci : NULL, b->image);
	if (r < 0)
		return fail(1, "write %s/workload-image.json: %s", b->a->out, strerror(-r));
	progress("wrote %s", b->a->out);
	return 0;
}

/* The summary on stdout: a table, or one JSON object with --json. */
static int step_report(struct build *b)
{
	const struct cvm_oci_workload *oci = &b->oci;
	const size_t n = sizeof(b->arts) / sizeof(b->arts[0]);

	if (b->a->json) {
		printf("{\"artifacts\":[");
		for (size_t i = 0; i < n; i++)
			printf("%s{\"name\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}", i ? "," : "", b->arts[i].name,
			       b->arts[i].len + b->arts[i].tail_len, b->arts[i].sha256);
		printf("],\"initramfs\":{\"cpio\":%zu,\"compressed\":%zu}", b->cpio_len, b->initrd_len);
		if (b->image)
			printf(",\"workload_image\":{\"format\":\"%s\",\"manifest_digest\":%s%s%s,\"config_digest\":\"%s\","
			       "\"layers\":%zu,\"entries\":%ld,\"uid\":%u,\"gid\":%u}",
			       oci->img.format, oci->img.manifest_digest[0] ? "\"" : "",
			       oci->img.manifest_digest[0] ? oci->img.manifest_digest : "null", oci->img.manifest_digest[0] ? "\"" : "",
			       oci->img.config_digest, oci->img.n_layers, oci->entries, oci->proc.uid, oci->proc.gid);
		printf(",\"seconds\":%.3f}\n", elapsed());
		return 0;
	}
	printf("%-10s %12s  %s\n", "artifact", "bytes", "sha256");
	for (size_t i = 0; i < n; i++)
		printf("%-10s %12zu  %s\n", b->arts[i].name, b->arts[i].len + b->arts[i].tail_len, b->arts[i].sha256);
	if (b->image) {
		printf("workload image %s (%s)\n  manifest %s\n  config   %s\n  process  %s as %u:%u%s%s\n", b->image,
		       oci->img.format, oci->img.manifest_digest[0] ? oci->img.manifest_digest : "(none: docker-archive)",
		       oci->img.config_digest, oci->proc.path, oci->proc.uid, oci->proc.gid,
		       oci->proc.exposed_ports[0] ? ", exposes " : "", oci->proc.exposed_ports);
	}
	return 0;
}

/* In order; each step returns 0 or an exit code after fail() said why, and
 * the first failure ends the build (build_free() removes the staging folder). */
static int (*const build_steps[])(struct build *) = {
	step_check,      step_outdir, step_signer, step_stage_init, step_workload, step_stage_tree,
	step_initramfs,  step_uki,    step_disk,   step_write,      step_report,
};

int cmd_build(struct args *a, struct cvm_conf *c)
{
	struct build b = { .a = a, .c = c };
	int code = 0;

	for (size_t i = 0; code == 0 && i < sizeof(build_steps) / sizeof(build_steps[0]); i++)
		code = build_steps[i](&b);
	build_free(&b);
	return code;
}
