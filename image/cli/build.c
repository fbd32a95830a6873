/* cvm-image build: stage the initramfs tree, archive and compress it,
 * assemble (and sign) the UKI, lay out the ESP, GPT disk and VHD footer, and
 * write the artifacts all at once. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/config.h"
#include "cvmkit/cpio.h"
#include "cvmkit/fat.h"
#include "cvmkit/fileio.h"
#include "cvmkit/gpt.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/lz4legacy.h"
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

static int build_image_workload(const struct cvm_conf *c, uint32_t epoch, struct cvm_oci_workload *w)
{
	const char *args[64], *env[64], *special = cvm_conf_get(c, "workload.image_special");
	size_t n_args = cvm_conf_get_all(c, "workload.arg", args, 64), n_env = cvm_conf_get_all(c, "workload.env", env, 64);
	struct cvm_oci_workload_opts o = {
		.ref = cvm_conf_get(c, "workload.image"), .args = args, .n_args = n_args, .replace_args = n_args > 0,
		.env = env, .n_env = n_env, .hostname = cvm_conf_get(c, "workload.hostname"), .root = OCI_ROOT,
		.mtime = epoch,
		.uid = conf_is_set(c, "workload.uid") ? cvm_conf_get(c, "workload.uid") : NULL,
		.gid = conf_is_set(c, "workload.gid") ? cvm_conf_get(c, "workload.gid") : NULL,
		.workdir = conf_is_set(c, "workload.workdir") ? cvm_conf_get(c, "workload.workdir") : NULL,
	};
	char err[CVM_OCI_ERR_MAX + 64];
	int r;

	if (n_args > 64 || n_env > 64)
		return fail(2, "use [workload] arg and env: at most 64 of each");
	if (!strcmp(special, "refuse"))
		o.special = CVM_OCI_SPECIAL_REFUSE;
	else if (!strcmp(special, "strip"))
		o.special = CVM_OCI_SPECIAL_STRIP;
	else if (!strcmp(special, "keep"))
		o.special = CVM_OCI_SPECIAL_KEEP;
	else
		return fail(2, "use [workload] image_special '%s': refuse, strip or keep", special);
	r = cvm_oci_workload_build(&o, w, err, sizeof(err));
	if (r < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		if (strstr(err, "device node") || strstr(err, "setuid"))
			strcat(err, " (see [workload] image_special)");
		return fail(r == -ENOMEM ? 1 : 2, "use the container image %s: %s", o.ref, err);
	}
	progress("container image %s (%s): manifest %s, config %s, %zu layers, %llu bytes unpacked, %ld entries", o.ref,
		 w->img.format, w->img.manifest_digest[0] ? w->img.manifest_digest : "(none)", w->img.config_digest,
		 w->img.n_layers, (unsigned long long)w->img.unpacked, w->entries);
	return 0;
}

/* out/workload-image.json: the image's identifiers, for cvm-measure publish
 * (measurements.json) and for the people who deploy the image. */
static int write_image_json(const char *out, const struct cvm_oci_workload *w, const char *ref)
{
	char path[PATH_MAX];
	struct text t = { 0 };
	int r;

	snprintf(path, sizeof(path), "%s/workload-image.json", out);
	if (!w) {
		r = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
		return r;
	}
	text_printf(&t, "{\"format\":\"%s\",\"manifest_digest\":", w->img.format);
	text_printf(&t, w->img.manifest_digest[0] ? "\"%s\"" : "null%s", w->img.manifest_digest);
	text_printf(&t, ",\"config_digest\":\"%s\",\"layers\":%zu,\"uid\":%u,\"gid\":%u,\"argv0\":\"", w->img.config_digest,
		w->img.n_layers, w->proc.uid, w->proc.gid);
	for (const char *p = w->proc.path; *p; p++) {
		if (*p == '"' || *p == '\\')
			text_printf(&t, "\\%c", *p);
		else
			text_printf(&t, "%c", (unsigned char)*p < 0x20 ? '?' : *p);
	}
	text_printf(&t, "\"}\n");
	(void)ref;
	r = t.err ? t.err : cvm_write_file_atomic(path, t.p, t.len, 0644);
	free(t.p);
	return r;
}

int cmd_build(struct args *a, struct cvm_conf *c)
{
	const char *binary = NULL, *image = NULL, *wl_path = NULL;
	struct cvm_oci_workload oci = { 0 };
	const char *epoch_s = getenv("SOURCE_DATE_EPOCH");
	char stage[PATH_MAX] = "", wl_default[PATH_MAX], osrel[512];
	struct text initconf = { 0 };
	uint8_t *stub = NULL, *kernel = NULL, *tree = NULL, *console = NULL, *cpio = NULL, *initrd = NULL, *uki = NULL,
		*esp = NULL, *disk = NULL, seed[32], guid[16];
	size_t stub_len, kernel_len, tree_len, console_len, initrd_len, uki_len, esp_len = 0, disk_len;
	uint8_t footer[CVM_VHD_FOOTER_SIZE];
	unsigned long min_disk_mib;
	long long epoch = 0;
	struct cvm_signer *signer = NULL;
	int r, code = 1, sign;

	/* A kernel named in the configuration wins over the pinned one. */
	if (cvm_conf_get(c, "kernel.image"))
		a->linux_ = cvm_conf_get(c, "kernel.image");
	if (!a->init || !a->stub || !a->linux_ || !a->uname) {
		fprintf(stderr, "%s: fatal: unable to build: --init, --stub, --linux and --uname are required\n", PROG);
		return 2;
	}
	if (epoch_s && *epoch_s) {
		char *end;
		epoch = strtoll(epoch_s, &end, 10);
		if (*end || epoch < 0 || epoch > 0xffffffffLL)
			return fail(2, "use SOURCE_DATE_EPOCH=%s: not a Unix time", epoch_s);
	}
	if ((code = check_config(c, wl_default, &wl_path, &initconf)) != 0)
		return code;
	code = 1;
	pick_workload(c, &binary, &image);
	/* Validated by check_config(). */
	min_disk_mib = strtoul(cvm_conf_get(c, "image.min_disk_mib"), NULL, 10);

	r = mkdirs(a->out, 0755);
	if (r < 0) {
		code = fail(1, "create %s: %s", a->out, strerror(-r));
		goto out;
	}
	/* A wrong passphrase fails now, not after the initramfs. */
	sign = secureboot_check(c);
	if (sign > 1 || (sign && (code = secureboot_signer(c, &signer)) != 0)) {
		code = sign > 1 ? sign : code;
		goto out;
	}
	code = 1;

	/* 1. Stage the initramfs tree. */
	snprintf(stage, sizeof(stage), "%s/.stage.XXXXXX", a->out);
	if (!mkdtemp(stage)) {
		stage[0] = 0;
		fail(1, "create a staging folder in %s: %s", a->out, strerror(errno));
		goto out;
	}
	r = copy_file(a->init, stage, "init", 0755);
	if (r < 0) {
		fail(1, "stage the init %s: %s", a->init, strerror(-r));
		goto out;
	}
	if (image) {
		code = build_image_workload(c, (uint32_t)epoch, &oci);
		if (code)
			goto out;
		code = 1;
	} else {
		r = copy_file(binary, stage, wl_path + 1, 0755);
		if (r < 0) {
			fail(1, "stage the workload %s: %s", binary, strerror(-r));
			goto out;
		}
	}
	if (image) {
		/* check_config rendered everything but the image's [workload]. */
		free(initconf.p);
		initconf = (struct text){ 0 };
		r = render_init_conf(c, wl_path, oci.conf, &initconf);
		if (r < 0) {
			fail(2, "render the init configuration: %s%s%s%s", strerror(-r), network_error,
			     kbs_error[0] ? ": " : "", kbs_error);
			code = 2;
			goto out;
		}
		if ((code = check_init_conf(&initconf)) != 0)
			goto out;
		code = 1;
	}
	r = stage_stop_applets(stage);
	if (r < 0) {
		fail(1, "stage the stop commands: %s", strerror(-r));
		goto out;
	}
	r = put_file(stage, "etc/cvmkit/init.conf", (uint8_t *)initconf.p, initconf.len, 0644);
	if (r == 0 && cvm_conf_get(c, "kbs.url") && cvm_conf_get(c, "kbs.ca")) {
		const char *ca = cvm_conf_get(c, "kbs.ca");
		uint8_t *pem;
		size_t pem_len;

		r = cvm_read_file(ca, 64u << 10, &pem, &pem_len);
		if (r < 0) {
			fail(2, "read the KBS CA %s: %s", ca, strerror(-r));
			code = 2;
			goto out;
		}
		if (!memmem(pem, pem_len, "-----BEGIN CERTIFICATE-----", 27)) {
			free(pem);
			fail(2, "use the KBS CA %s: not a PEM certificate", ca);
			code = 2;
			goto out;
		}
		r = put_file(stage, KBS_CA_IMAGE_PATH + 1, pem, pem_len, 0644);
		free(pem);
	}
	if (r == 0 && a->modules) {
		char src[PATH_MAX];
		snprintf(src, sizeof(src), "%s/lib/modules", a->modules);
		r = copy_tree(src, stage, "lib/modules");
	}
	for (const char *const *d = (const char *const[]){ "proc", "sys", "run", "tmp", NULL }; r == 0 && *d; d++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", stage, *d);
		r = mkdirs(p, 0755);
	}
	if (r < 0) {
		fail(1, "stage the initramfs: %s", strerror(-r));
		goto out;
	}

	/* 2. Initramfs: a first archive with /dev/console (the kernel opens it for
	 * PID 1 before any file system is mounted), then the tree. */
	{
		struct cvm_cpio w;
		struct cvm_cpio_entry dev = { .name = "dev", .mode = S_IFDIR | 0755, .nlink = 2, .mtime = (uint32_t)epoch, .ino = 1 };
		struct cvm_cpio_entry con = { .name = "dev/console", .mode = S_IFCHR | 0600, .nlink = 1, .mtime = (uint32_t)epoch,
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
		r = cvm_cpio_from_tree(stage, (uint32_t)epoch, &tree, &tree_len);
	if (r < 0) {
		fail(1, "write the initramfs archive: %s", strerror(-r));
		goto out;
	}
	/* The image's tree is a third archive of its own: its inode numbers
	 * (hard links) are its own, as the kernel forgets them at each trailer. */
	cpio = malloc(console_len + tree_len + oci.cpio_len);
	if (!cpio) {
		fail(1, "allocate the initramfs: %s", strerror(ENOMEM));
		goto out;
	}
	memcpy(cpio, console, console_len);
	memcpy(cpio + console_len, tree, tree_len);
	if (oci.cpio_len)
		memcpy(cpio + console_len + tree_len, oci.cpio, oci.cpio_len);
	tree_len += oci.cpio_len;
	r = cvm_lz4_legacy_compress(cpio, console_len + tree_len, &initrd, &initrd_len);
	if (r < 0) {
		fail(1, "compress the initramfs: %s", strerror(-r));
		goto out;
	}
	/* The legacy frame has no end mark, and systemd-stub (v257) appends its
	 * own cpio (/.extra/os-release) after the .initrd: the kernel would try
	 * to decode that as one more LZ4 block and report "Initramfs unpacking
	 * failed".  A zero block size is where the kernel's decoder stops. */
	{
		uint8_t *t = realloc(initrd, initrd_len + 4);
		if (!t) {
			fail(1, "compress the initramfs: %s", strerror(ENOMEM));
			goto out;
		}
		initrd = t;
		memset(initrd + initrd_len, 0, 4);
		initrd_len += 4;
	}
	progress("initramfs: %zu bytes of cpio, %zu bytes compressed (lz4 legacy)", console_len + tree_len, initrd_len);

	/* 3. The UKI. */
	r = cvm_read_file(a->stub, IMG_MAX_INPUT, &stub, &stub_len);
	if (r < 0) {
		fail(1, "read the stub %s: %s", a->stub, strerror(-r));
		goto out;
	}
	r = cvm_read_file(a->linux_, IMG_MAX_INPUT, &kernel, &kernel_len);
	if (r < 0) {
		fail(1, "read the kernel %s: %s", a->linux_, strerror(-r));
		goto out;
	}
	snprintf(osrel, sizeof(osrel), "NAME=\"%s\"\nID=%s\nPRETTY_NAME=\"%s (cvmkit image)\"\n",
		 cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"), cvm_conf_get(c, "image.os_name"));
	{
		struct cvm_uki_part parts[CVM_UKI_SECTION_MAX] = { 0 };
		const char *cmdline = cvm_conf_get(c, "kernel.cmdline");
		parts[CVM_UKI_LINUX] = (struct cvm_uki_part){ kernel, kernel_len };
		parts[CVM_UKI_OSREL] = (struct cvm_uki_part){ (const uint8_t *)osrel, strlen(osrel) };
		parts[CVM_UKI_CMDLINE] = (struct cvm_uki_part){ (const uint8_t *)cmdline, strlen(cmdline) };
		parts[CVM_UKI_INITRD] = (struct cvm_uki_part){ initrd, initrd_len };
		parts[CVM_UKI_UNAME] = (struct cvm_uki_part){ (const uint8_t *)a->uname, strlen(a->uname) };
		r = cvm_uki_build(stub, stub_len, parts, &uki, &uki_len);
	}
	if (r < 0) {
		fail(1, "assemble the UKI: %s", strerror(-r));
		goto out;
	}
	if (signer) {
		if (secureboot_sign(signer, &uki, &uki_len) || secureboot_azure(c, signer, a->out))
			goto out;
		progress("uki.efi signed (Authenticode, [secureboot] cert); wrote azure-uefi-settings.json");
	}
	progress("uki.efi: %zu bytes", uki_len);

	/* 4. ESP, GPT disk, VHD.  Every identifier derives from the UKI's hash, so
	 * the same UKI always yields the same disk. */
	r = cvm_hash(CVM_HASH_SHA256, uki, uki_len, seed);
	if (r < 0) {
		fail(1, "hash the UKI: %s", strerror(-r));
		goto out;
	}
	{
		long esp_mib = strtol(cvm_conf_get(c, "image.esp_size_mib"), NULL, 10);
		bool fixed = esp_mib > 0;
		struct cvm_fat_file f = { "EFI/BOOT/BOOTX64.EFI", uki, uki_len };
		uint8_t vol[16];

		cvm_guid_derive("fat-volume-id", seed, 32, vol);
		if (!fixed)
			esp_mib = (long)((uki_len + 256 * 1024 + MIB - 1) / MIB);
		for (;;) {
			r = cvm_fat_build((uint64_t)esp_mib * MIB, "ESP", (uint32_t)vol[0] << 24 | (uint32_t)vol[1] << 16 | (uint32_t)vol[2] << 8 | vol[3],
					  epoch, &f, 1, &esp, &esp_len);
			if (r != -ENOSPC || fixed || esp_mib > 4096)
				break;
			esp_mib++;
		}
		if (r < 0) {
			fail(1, "write the %ld MiB EFI system partition: %s", esp_mib, strerror(-r));
			goto out;
		}
	}
	/* 1 MiB before the ESP for the protective MBR and primary GPT (and
	 * alignment), 1 MiB after it for the backup GPT: a whole number of MiB.
	 * Up to [image] min_disk_mib, the room before the backup GPT stays
	 * zeros (calloc's untouched pages, holes in the files); the GPT, and so
	 * PCR 5, describes the disk at its final size. */
	disk_len = esp_len + 2 * MIB;
	if (disk_len < (size_t)min_disk_mib * MIB)
		disk_len = (size_t)min_disk_mib * MIB;
	disk = calloc(1, disk_len);
	if (!disk) {
		fail(1, "allocate the disk: %s", strerror(ENOMEM));
		goto out;
	}
	memcpy(disk + MIB, esp, esp_len);
	{
		struct cvm_gpt_partition p = { .first_lba = MIB / 512, .last_lba = (MIB + esp_len) / 512 - 1 };
		memcpy(p.type_guid, CVM_GPT_TYPE_ESP, 16);
		cvm_guid_derive("esp-partition", seed, 32, p.part_guid);
		snprintf(p.name, sizeof(p.name), "ESP");
		cvm_guid_derive("disk", seed, 32, guid);
		r = cvm_gpt_write(disk, disk_len, guid, &p, 1);
	}
	if (r < 0) {
		fail(1, "write the GPT: %s", strerror(-r));
		goto out;
	}
	cvm_guid_derive("vhd", seed, 32, guid);
	r = cvm_vhd_footer(disk_len, guid, epoch, footer);
	if (r < 0) {
		fail(1, "write the VHD footer: %s", strerror(-r));
		goto out;
	}
	progress("disk: %zu bytes (ESP %zu bytes at 1 MiB)", disk_len, esp_len);

	/* 5. Write the artifacts, each atomically. */
	{
		uint8_t d_disk[32], d_vhd[32];
		struct artifact arts[] = {
			{ "uki.efi", uki, uki_len, NULL, 0, seed, "" },
			{ "disk.raw", disk, disk_len, NULL, 0, d_disk, "" },
			{ "disk.vhd", disk, disk_len, footer, sizeof(footer), d_vhd, "" },
		};
		char paths[3][PATH_MAX];
		struct cvm_file_out outs[3];

		r = hash_disk_and_vhd(disk, disk_len, footer, sizeof(footer), d_disk, d_vhd);
		if (r < 0) {
			fail(1, "hash the disk: %s", strerror(-r));
			goto out;
		}
		/* All three or none; the disk's zero blocks are holes and the VHD
		 * shares the raw disk's blocks where the file system can. */
		for (size_t i = 0; i < 3; i++) {
			cvm_hex_encode(arts[i].digest, 32, arts[i].sha256);
			snprintf(paths[i], sizeof(paths[i]), "%s/%s", a->out, arts[i].name);
			outs[i] = (struct cvm_file_out){ paths[i], arts[i].data, arts[i].len, arts[i].tail, arts[i].tail_len };
		}
		r = cvm_write_files_atomic(outs, 3, 0644);
		if (r < 0) {
			fail(1, "write the artifacts to %s: %s", a->out, strerror(-r));
			goto out;
		}
		r = write_image_json(a->out, image ? &oci : NULL, image);
		if (r < 0) {
			fail(1, "write %s/workload-image.json: %s", a->out, strerror(-r));
			goto out;
		}
		progress("wrote %s", a->out);
		if (a->json) {
			printf("{\"artifacts\":[");
			for (size_t i = 0; i < sizeof(arts) / sizeof(arts[0]); i++)
				printf("%s{\"name\":\"%s\",\"size\":%zu,\"sha256\":\"%s\"}", i ? "," : "", arts[i].name,
				       arts[i].len + arts[i].tail_len, arts[i].sha256);
			printf("],\"initramfs\":{\"cpio\":%zu,\"compressed\":%zu}", console_len + tree_len, initrd_len);
			if (image)
				printf(",\"workload_image\":{\"format\":\"%s\",\"manifest_digest\":%s%s%s,\"config_digest\":\"%s\","
				       "\"layers\":%zu,\"entries\":%ld,\"uid\":%u,\"gid\":%u}",
				       oci.img.format, oci.img.manifest_digest[0] ? "\"" : "",
				       oci.img.manifest_digest[0] ? oci.img.manifest_digest : "null", oci.img.manifest_digest[0] ? "\"" : "",
				       oci.img.config_digest, oci.img.n_layers, oci.entries, oci.proc.uid, oci.proc.gid);
			printf(",\"seconds\":%.3f}\n", elapsed());
		} else {
			printf("%-10s %12s  %s\n", "artifact", "bytes", "sha256");
			for (size_t i = 0; i < sizeof(arts) / sizeof(arts[0]); i++)
				printf("%-10s %12zu  %s\n", arts[i].name, arts[i].len + arts[i].tail_len, arts[i].sha256);
			if (image) {
				printf("workload image %s (%s)\n  manifest %s\n  config   %s\n  process  %s as %u:%u%s%s\n", image,
				       oci.img.format, oci.img.manifest_digest[0] ? oci.img.manifest_digest : "(none: docker-archive)",
				       oci.img.config_digest, oci.proc.path, oci.proc.uid, oci.proc.gid,
				       oci.proc.exposed_ports[0] ? ", exposes " : "", oci.proc.exposed_ports);
			}
		}
	}
	code = 0;
out:
	if (stage[0])
		rm_tree(stage);
	cvm_oci_workload_free(&oci);
	free(initconf.p);
	free(stub);
	free(kernel);
	free(tree);
	free(console);
	free(cpio);
	free(initrd);
	free(uki);
	free(esp);
	free(disk);
	cvm_signer_free(signer);
	return code;
}
