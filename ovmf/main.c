/* cvm-ovmf: SEV-SNP / SEV-ES / SEV launch digests and TDX MRTD/RTMRs from an
 * OVMF image.  The measure verb (the default) takes sev-snp-measure's option
 * names so existing scripts switch without edits.  Exit: 0 ok, 1 the
 * computation failed, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/ovmf.h"

#define PROG "cvm-ovmf"
#define VERSION "0.1"
#define MAX_KERNEL (512u << 20)

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_RVPS };
enum mode { M_NONE, M_SEV, M_SEVES, M_SNP, M_SNP_OVMF_HASH, M_TDX };

struct opts {
	enum mode mode;
	const char *ovmf, *kernel, *initrd, *append, *ovmf_hash, *vcpu_type, *table_models;
	long vcpus;
	bool have_sig, have_fms, verbose, table;
	uint32_t vcpu_sig, type_sig;
	long family, model, stepping;
	enum ovmf_vmm vmm;
	uint64_t guest_features;
	bool base64;
	enum out_fmt out;
	unsigned table_lo, table_hi;
	int page_order;  /* 0 = both */
	uint64_t mem;
	enum ovmf_edk2_era era;
};

static void help(void)
{
	printf("Usage: " PROG " [measure] --mode MODE --ovmf FILE [OPTIONS]\n"
	       "       " PROG " info --ovmf FILE [--json]\n"
	       "\n"
	       "Predicts the launch measurement of a confidential VM booted with OVMF.\n"
	       "measure (default verb) accepts sev-snp-measure's options and prints the\n"
	       "digest alone on stdout.  info shows the footer table, SEV and TDVF metadata.\n"
	       "\n"
	       "Modes:\n"
	       "  snp            SEV-SNP MEASUREMENT (SHA-384 launch digest)\n"
	       "  snp:ovmf-hash  launch digest after the firmware pages only (seed for --snp-ovmf-hash)\n"
	       "  seves, sev     SEV-ES / SEV GCTX.LD (SHA-256, before the firmware's HMAC)\n"
	       "  tdx            TDX MRTD (both page orders unless --page-order), RTMR 1 and 2\n"
	       "\n"
	       "SEV options (sev-snp-measure compatible):\n"
	       "  --vcpus N                  number of vCPUs (snp, seves)\n"
	       "  --vcpu-type NAME           QEMU CPU model: EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome[-v1..v3],\n"
	       "                             EPYC-Milan[-v1,-v2], EPYC-Genoa[-v1], EPYC-Turin\n"
	       "  --vcpu-sig VALUE           raw CPUID(1).EAX signature (e.g. 0x800f12)\n"
	       "  --vcpu-family/--vcpu-model/--vcpu-stepping N   signature from its parts\n"
	       "  --vmm-type QEMU|ec2|gce    launcher (default QEMU)\n"
	       "  --guest-features VALUE     VMSA SEV_FEATURES (default 0x1)\n"
	       "  --snp-ovmf-hash HEX        precomputed snp:ovmf-hash; skips hashing the firmware pages\n"
	       "  --output-format hex|base64 digest encoding (default hex)\n"
	       "  -v, --verbose              print \"Calculated <MODE> guest measurement: ...\"\n"
	       "  --table                    snp: digest for every vCPU count x CPU model\n"
	       "  --table-vcpus LO-HI        vCPU range for --table (default 1-16)\n"
	       "  --table-models A,B,...     CPU models for --table (default EPYC-v4,EPYC-Rome,\n"
	       "                             EPYC-Milan,EPYC-Genoa)\n"
	       "\n"
	       "Common options:\n"
	       "  --ovmf FILE                firmware as passed to -bios (unified OVMF.fd)\n"
	       "  --kernel FILE, --initrd FILE, --append CMDLINE   direct boot (kernel hashes / RTMRs)\n"
	       "  --json                     JSON output\n"
	       "  --rvps                     Trustee RVPS registration message (type sample) with\n"
	       "                             snp_launch_measurement, or mr_td, rtmr_1, rtmr_2,\n"
	       "                             tdvfkernel, tdvfkernelparams\n"
	       "\n"
	       "TDX options:\n"
	       "  --page-order single-pass|two-pass  MRTD page order (default: show both)\n"
	       "  --memory SIZE              guest RAM (-m), e.g. 2G; moves the initrd and so RTMR1\n"
	       "                             (default 2G)\n"
	       "  --edk2 202411|202508|202302   firmware era for RTMR events (default 202411, covers\n"
	       "                             edk2 202411-202505 incl. Debian trixie 2025.02)\n"
	       "\n"
	       "RTMR0 is not computed: it covers QEMU's ACPI tables and TD HOB, which depend on the\n"
	       "machine type, memory, devices and QEMU version.\n"
	       "\n"
	       "Exit status: 0 success, 1 the computation failed (e.g. malformed firmware),\n"
	       "2 usage error.\n");
}

__attribute__((format(printf, 1, 2)))
static int usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	return 2;
}

static int fatal(const char *what, const char *reason)
{
	fprintf(stderr, PROG ": fatal: unable to %s: %s\n", what, reason);
	return 1;
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*ret = strtoull(s, &end, 0);
	return errno == 0 && *end == 0;
}

static bool parse_long(const char *s, long *ret)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > 0x7fffffff)
		return false;
	*ret = (long)v;
	return true;
}

static bool parse_size(const char *s, uint64_t *ret)
{
	char *end;
	uint64_t v, mul = 1;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	case 0: mul = 1ull << 20; break;  /* QEMU's -m default unit is MiB */
	default: return false;
	}
	if (*end || v > UINT64_MAX / mul)
		return false;
	*ret = v * mul;
	return true;
}

static enum mode mode_from(const char *s)
{
	if (!strcmp(s, "sev") || !strcmp(s, "SEV"))
		return M_SEV;
	if (!strcmp(s, "seves") || !strcmp(s, "sev-es") || !strcmp(s, "SEVES") || !strcmp(s, "SEV-ES"))
		return M_SEVES;
	if (!strcmp(s, "snp") || !strcmp(s, "sev-snp") || !strcmp(s, "SNP") || !strcmp(s, "SEV-SNP"))
		return M_SNP;
	if (!strcmp(s, "snp:ovmf-hash"))
		return M_SNP_OVMF_HASH;
	if (!strcmp(s, "tdx") || !strcmp(s, "TDX"))
		return M_TDX;
	return M_NONE;
}

static const char *mode_label(enum mode m)
{
	switch (m) {
	case M_SEV: return "SEV";
	case M_SEVES: return "SEV_ES";
	case M_SNP: case M_SNP_OVMF_HASH: return "SEV_SNP";
	case M_TDX: return "TDX";
	default: return "?";
	}
}

/* ---------------------------------------------------------------- output */

static void print_json(cJSON *o)
{
	char *s = cJSON_Print(o);

	if (s)
		puts(s);
	free(s);
}

/* {"version":"0.1.0","type":"sample","payload":base64(provenance)} */
static int print_rvps(cJSON *prov)
{
	char *p = cJSON_PrintUnformatted(prov), *b64;
	cJSON *msg;
	size_t n;

	if (!p)
		return fatal("build the RVPS message", strerror(ENOMEM));
	n = strlen(p);
	b64 = malloc(4 * ((n + 2) / 3) + 1);
	if (!b64) {
		free(p);
		return fatal("build the RVPS message", strerror(ENOMEM));
	}
	ovmf_base64((const uint8_t *)p, n, b64);
	msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "version", "0.1.0");
	cJSON_AddStringToObject(msg, "type", "sample");
	cJSON_AddStringToObject(msg, "payload", b64);
	print_json(msg);
	cJSON_Delete(msg);
	free(b64);
	free(p);
	return 0;
}

static void encode(const uint8_t *d, size_t n, bool base64, char *out)
{
	if (base64)
		ovmf_base64(d, n, out);
	else
		cvm_hex_encode(d, n, out);
}

/* ---------------------------------------------------------------- helpers */

static const char *parse_reason(const struct ovmf_image *img, int r, char *buf, size_t n)
{
	if (img->error)
		snprintf(buf, n, "%s (0x%llx)", img->error, (unsigned long long)img->error_value);
	else
		snprintf(buf, n, "%s", strerror(-r));
	return buf;
}

static int load_ovmf(const struct opts *o, uint8_t **ret_buf, size_t *ret_len, struct ovmf_image *img)
{
	char what[512], reason[256];
	int r = cvm_read_file(o->ovmf, OVMF_MAX_IMAGE_SIZE, ret_buf, ret_len);

	if (r < 0) {
		snprintf(what, sizeof(what), "read %s", o->ovmf);
		return fatal(what, strerror(-r));
	}
	r = ovmf_parse(*ret_buf, *ret_len, img);
	if (r < 0) {
		snprintf(what, sizeof(what), "parse %s", o->ovmf);
		return fatal(what, parse_reason(img, r, reason, sizeof(reason)));
	}
	return 0;
}

static int sev_hashes(const struct opts *o, struct ovmf_sev_hashes *h)
{
	char what[512];
	int r = cvm_hash_file(CVM_HASH_SHA256, o->kernel, h->kernel, NULL);

	if (r < 0) {
		snprintf(what, sizeof(what), "hash %s", o->kernel);
		return fatal(what, strerror(-r));
	}
	if (o->initrd) {
		r = cvm_hash_file(CVM_HASH_SHA256, o->initrd, h->initrd, NULL);
		if (r < 0) {
			snprintf(what, sizeof(what), "hash %s", o->initrd);
			return fatal(what, strerror(-r));
		}
	} else
		ovmf_sha256("", 0, h->initrd);
	ovmf_sev_hashes_set_cmdline(h, o->append && *o->append ? o->append : NULL);
	return 0;
}

static const char *sev_reason(int r, const struct ovmf_image *img, const struct opts *o)
{
	switch (r) {
	case -ENOENT:
		if (o->kernel && (o->mode == M_SEV || o->mode == M_SEVES))
			return "Kernel specified but OVMF doesn't support kernel/initrd/cmdline measurement";
		if (!img->has_reset_block && o->mode != M_SEV)
			return "no SEV-ES reset block in the OVMF footer table";
		if (!img->has_sev_metadata)
			return "no SEV metadata (ASEV) in the OVMF footer table";
		if (o->kernel)
			return "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section";
		return "required OVMF footer entry missing";
	case -EBADMSG:
		return "firmware size is not a multiple of 4 KiB or its kernel-hashes page is malformed";
	default:
		return strerror(-r);
	}
}

static int table_models(const char *list, uint32_t *sigs, const char **names, size_t max, size_t *ret_n)
{
	static const char *const def[] = { "EPYC-v4", "EPYC-Rome", "EPYC-Milan", "EPYC-Genoa" };
	static char copy[1024];
	size_t n = 0;

	if (!list) {
		for (size_t i = 0; i < 4; i++) {
			names[i] = def[i];
			(void)ovmf_cpu_sig_from_name(def[i], &sigs[i]);
		}
		*ret_n = 4;
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s", list);
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n >= max || ovmf_cpu_sig_from_name(t, &sigs[n]) < 0)
			return usage("unknown or too many CPU models in --table-models: %s", t);
		names[n++] = t;
	}
	if (n == 0)
		return usage("empty --table-models%s", "");
	*ret_n = n;
	return 0;
}

/* ---------------------------------------------------------------- SEV family */

static int do_sev(const struct opts *o)
{
	struct ovmf_image img;
	struct ovmf_sev_hashes h;
	uint8_t *fw = NULL, d[OVMF_SHA384_SIZE], seed[OVMF_SHA384_SIZE];
	char enc[2 * OVMF_SHA384_SIZE + 1], sig[16], feat[24];
	size_t len, dlen = o->mode == M_SNP || o->mode == M_SNP_OVMF_HASH ? 48 : 32;
	cJSON *j = NULL;
	int r, rc;

	rc = load_ovmf(o, &fw, &len, &img);
	if (rc)
		goto out;
	if (o->kernel) {
		rc = sev_hashes(o, &h);
		if (rc)
			goto out;
	}
	if (o->ovmf_hash && cvm_hex_decode(o->ovmf_hash, strlen(o->ovmf_hash), seed, sizeof(seed)) < 0) {
		rc = usage("--snp-ovmf-hash must be 96 hex digits: %s", o->ovmf_hash);
		goto out;
	}
	snprintf(sig, sizeof(sig), "0x%x", o->vcpu_sig);
	snprintf(feat, sizeof(feat), "0x%llx", (unsigned long long)o->guest_features);

	if (o->mode == M_SNP && o->table) {
		uint32_t sigs[32];
		const char *names[32];
		unsigned counts[OVMF_MAX_VCPUS];
		size_t nm, nc = o->table_hi - o->table_lo + 1;
		uint8_t (*out)[OVMF_SHA384_SIZE];
		struct ovmf_snp_params p = { .guest_features = o->guest_features, .vmm = o->vmm,
					     .ovmf_hash = o->ovmf_hash ? seed : NULL, .hashes = o->kernel ? &h : NULL };
		cJSON *arr;

		rc = table_models(o->table_models, sigs, names, 32, &nm);
		if (rc)
			goto out;
		for (size_t c = 0; c < nc; c++)
			counts[c] = o->table_lo + (unsigned)c;
		out = calloc(nm * nc, sizeof(*out));
		if (!out) {
			rc = fatal("compute the SNP table", strerror(ENOMEM));
			goto out;
		}
		r = ovmf_snp_table(&img, &p, sigs, nm, counts, nc, out);
		if (r < 0) {
			free(out);
			rc = fatal("compute the SNP launch digest table", sev_reason(r, &img, o));
			goto out;
		}
		if (o->out == OUT_TEXT) {
			printf("%-6s %-12s %-10s %s\n", "vcpus", "vcpu-type", "vcpu-sig", "measurement");
			for (size_t c = 0; c < nc; c++)
				for (size_t m = 0; m < nm; m++) {
					encode(out[m * nc + c], 48, o->base64, enc);
					printf("%-6u %-12s 0x%-8x %s\n", counts[c], names[m], sigs[m], enc);
				}
		} else {
			j = cJSON_CreateObject();
			arr = cJSON_CreateArray();
			for (size_t m = 0; m < nm; m++)
				for (size_t c = 0; c < nc; c++) {
					cJSON *e = cJSON_CreateObject();
					char s[16];
					cvm_hex_encode(out[m * nc + c], 48, enc);
					snprintf(s, sizeof(s), "0x%x", sigs[m]);
					if (o->out == OUT_RVPS) {
						/* one array: every shape the runtime may pick is acceptable */
						cJSON_AddItemToArray(arr, cJSON_CreateString(enc));
						cJSON_Delete(e);
						continue;
					}
					cJSON_AddNumberToObject(e, "vcpus", counts[c]);
					cJSON_AddStringToObject(e, "vcpu_type", names[m]);
					cJSON_AddStringToObject(e, "vcpu_sig", s);
					cJSON_AddStringToObject(e, "measurement", enc);
					cJSON_AddItemToArray(arr, e);
				}
			if (o->out == OUT_RVPS) {
				cJSON_AddItemToObject(j, "snp_launch_measurement", arr);
				rc = print_rvps(j);
			} else {
				cJSON_AddStringToObject(j, "mode", "snp");
				cJSON_AddStringToObject(j, "vmm_type", ovmf_vmm_name(o->vmm));
				cJSON_AddStringToObject(j, "guest_features", feat);
				cJSON_AddItemToObject(j, "table", arr);
				print_json(j);
			}
		}
		free(out);
		goto out;
	}

	switch (o->mode) {
	case M_SNP_OVMF_HASH:
		r = ovmf_snp_ovmf_hash(&img, d);
		break;
	case M_SNP: {
		struct ovmf_snp_params p = { .vcpus = (unsigned)o->vcpus, .vcpu_sig = o->vcpu_sig,
					     .guest_features = o->guest_features, .vmm = o->vmm,
					     .ovmf_hash = o->ovmf_hash ? seed : NULL, .hashes = o->kernel ? &h : NULL };
		r = ovmf_snp_digest(&img, &p, d);
		break;
	}
	default:
		r = ovmf_sev_digest(&img, o->mode == M_SEV ? OVMF_MODE_SEV : OVMF_MODE_SEV_ES,
				    o->mode == M_SEV ? 0 : (unsigned)o->vcpus, o->vcpu_sig, o->vmm,
				    o->kernel ? &h : NULL, d);
		break;
	}
	if (r < 0) {
		rc = fatal("compute the launch digest", sev_reason(r, &img, o));
		goto out;
	}
	if (o->out == OUT_TEXT) {
		/* sev-snp-measure prints snp:ovmf-hash as hex whatever the format */
		encode(d, dlen, o->base64 && o->mode != M_SNP_OVMF_HASH, enc);
		if (o->verbose)
			printf("Calculated %s guest measurement: %s\n", mode_label(o->mode), enc);
		else
			puts(enc);
		goto out;
	}
	cvm_hex_encode(d, dlen, enc);
	j = cJSON_CreateObject();
	if (o->out == OUT_RVPS) {
		cJSON *arr = cJSON_CreateArray();
		cJSON_AddItemToArray(arr, cJSON_CreateString(enc));
		cJSON_AddItemToObject(j, o->mode == M_SNP ? "snp_launch_measurement" : "launch_digest", arr);
		rc = print_rvps(j);
		goto out;
	}
	cJSON_AddStringToObject(j, "mode", o->mode == M_SEV ? "sev" : o->mode == M_SEVES ? "seves"
					   : o->mode == M_SNP ? "snp" : "snp:ovmf-hash");
	cJSON_AddStringToObject(j, "hash", dlen == 48 ? "sha384" : "sha256");
	if (o->mode == M_SNP || o->mode == M_SEVES) {
		cJSON_AddNumberToObject(j, "vcpus", (double)o->vcpus);
		cJSON_AddStringToObject(j, "vcpu_sig", sig);
		cJSON_AddStringToObject(j, "vmm_type", ovmf_vmm_name(o->vmm));
	}
	if (o->mode == M_SNP)
		cJSON_AddStringToObject(j, "guest_features", feat);
	cJSON_AddBoolToObject(j, "kernel_hashes", o->kernel != NULL);
	cJSON_AddStringToObject(j, "measurement", enc);
	if (o->base64) {
		char b[2 * OVMF_SHA384_SIZE + 1];
		ovmf_base64(d, dlen, b);
		cJSON_AddStringToObject(j, "measurement_base64", b);
	}
	print_json(j);
out:
	cJSON_Delete(j);
	free(fw);
	return rc;
}

/* ---------------------------------------------------------------- TDX */

static int do_tdx(const struct opts *o)
{
	static const char rtmr0_note[] = "not computed: RTMR0 covers QEMU's ACPI tables and TD HOB "
					 "(machine type, memory, devices, QEMU version)";
	struct ovmf_image img;
	uint8_t *fw = NULL, *kernel = NULL, mrtd[2][48], kauth[48], initrd384[48], r1[48], r2[48], lo[48];
	char hx[97], what[512];
	size_t len, klen;
	uint64_t isize = 0;
	bool orders[2] = { o->page_order != 2, o->page_order != 1 };
	cJSON *j = NULL;
	int r, rc;

	rc = load_ovmf(o, &fw, &len, &img);
	if (rc)
		goto out;
	for (int i = 0; i < 2; i++) {
		if (!orders[i])
			continue;
		r = ovmf_tdx_mrtd(&img, i == 0 ? OVMF_TDX_SINGLE_PASS : OVMF_TDX_TWO_PASS, mrtd[i]);
		if (r < 0) {
			rc = fatal("compute the TDX MRTD",
				   r == -ENOENT ? "no TDVF metadata in the OVMF footer table"
				   : r == -EOPNOTSUPP ? "TDVF section type QEMU does not load (td-shim image?)"
				   : r == -EBADMSG ? "TDVF section data beyond the image end"
				   : strerror(-r));
			goto out;
		}
	}
	if (o->kernel) {
		if (o->initrd) {
			r = cvm_hash_file(CVM_HASH_SHA384, o->initrd, initrd384, &isize);
			if (r < 0) {
				snprintf(what, sizeof(what), "hash %s", o->initrd);
				rc = fatal(what, strerror(-r));
				goto out;
			}
		}
		r = cvm_read_file(o->kernel, MAX_KERNEL, &kernel, &klen);
		if (r < 0) {
			snprintf(what, sizeof(what), "read %s", o->kernel);
			rc = fatal(what, strerror(-r));
			goto out;
		}
		r = ovmf_tdx_patch_kernel(kernel, klen, o->append, ovmf_q35_below_4g(o->mem), o->initrd != NULL, isize);
		if (r < 0) {
			snprintf(what, sizeof(what), "apply QEMU's setup-header patch to %s", o->kernel);
			rc = fatal(what, r == -EOPNOTSUPP ? "not a bzImage (no HdrS setup header)"
				   : r == -E2BIG ? "initrd does not fit below the initrd limit for this memory size"
				   : strerror(-r));
			goto out;
		}
		r = ovmf_authenticode_sha384(kernel, klen, kauth);
		if (r < 0) {
			snprintf(what, sizeof(what), "compute the Authenticode digest of %s", o->kernel);
			rc = fatal(what, r == -EBADMSG ? "malformed PE/COFF image" : strerror(-r));
			goto out;
		}
		if (ovmf_tdx_rtmr1(kauth, o->era, r1) < 0 ||
		    ovmf_tdx_rtmr2(o->append, o->initrd ? initrd384 : NULL, o->era, r2, lo) < 0) {
			rc = fatal("compute the RTMRs", strerror(EINVAL));
			goto out;
		}
	}
	j = cJSON_CreateObject();
	if (o->out == OUT_TEXT) {
		for (int i = 0; i < 2; i++)
			if (orders[i]) {
				cvm_hex_encode(mrtd[i], 48, hx);
				printf("mr_td (%s): %s\n", i == 0 ? "single-pass" : "two-pass", hx);
			}
		printf("rtmr_0: %s\n", rtmr0_note);
		if (o->kernel) {
			cvm_hex_encode(r1, 48, hx);
			printf("rtmr_1: %s\n", hx);
			cvm_hex_encode(r2, 48, hx);
			printf("rtmr_2: %s\n", hx);
			cvm_hex_encode(kauth, 48, hx);
			printf("tdvfkernel: %s\n", hx);
			if (o->initrd || (o->append && *o->append)) {
				cvm_hex_encode(lo, 48, hx);
				printf("tdvfkernelparams: %s\n", hx);
			}
		}
		goto out;
	}
	if (o->out == OUT_RVPS) {
		cJSON *a = cJSON_CreateArray();
		for (int i = 0; i < 2; i++)
			if (orders[i]) {
				cvm_hex_encode(mrtd[i], 48, hx);
				cJSON_AddItemToArray(a, cJSON_CreateString(hx));
			}
		cJSON_AddItemToObject(j, "mr_td", a);
		if (o->kernel) {
			cvm_hex_encode(r1, 48, hx);
			a = cJSON_CreateArray();
			cJSON_AddItemToArray(a, cJSON_CreateString(hx));
			cJSON_AddItemToObject(j, "rtmr_1", a);
			cvm_hex_encode(r2, 48, hx);
			a = cJSON_CreateArray();
			cJSON_AddItemToArray(a, cJSON_CreateString(hx));
			cJSON_AddItemToObject(j, "rtmr_2", a);
			cvm_hex_encode(kauth, 48, hx);
			cJSON_AddStringToObject(j, "tdvfkernel", hx);
			if (o->initrd || (o->append && *o->append)) {
				cvm_hex_encode(lo, 48, hx);
				cJSON_AddStringToObject(j, "tdvfkernelparams", hx);
			}
		}
		rc = print_rvps(j);
		goto out;
	}
	cJSON_AddStringToObject(j, "mode", "tdx");
	for (int i = 0; i < 2; i++)
		if (orders[i]) {
			cvm_hex_encode(mrtd[i], 48, hx);
			cJSON_AddStringToObject(j, i == 0 ? "mr_td_single_pass" : "mr_td_two_pass", hx);
		}
	cJSON_AddStringToObject(j, "rtmr_0", rtmr0_note);
	if (o->kernel) {
		cvm_hex_encode(r1, 48, hx);
		cJSON_AddStringToObject(j, "rtmr_1", hx);
		cvm_hex_encode(r2, 48, hx);
		cJSON_AddStringToObject(j, "rtmr_2", hx);
		cvm_hex_encode(kauth, 48, hx);
		cJSON_AddStringToObject(j, "tdvfkernel", hx);
		if (o->initrd || (o->append && *o->append)) {
			cvm_hex_encode(lo, 48, hx);
			cJSON_AddStringToObject(j, "tdvfkernelparams", hx);
		}
		cJSON_AddNumberToObject(j, "memory", (double)o->mem);
	}
	print_json(j);
out:
	cJSON_Delete(j);
	free(kernel);
	free(fw);
	return rc;
}

/* ---------------------------------------------------------------- info */

static int do_info(const struct opts *o)
{
	struct ovmf_image img;
	uint8_t *fw = NULL;
	size_t len;
	char g[37], x[24];
	cJSON *j, *a;
	int rc = load_ovmf(o, &fw, &len, &img);

	if (rc) {
		free(fw);
		return rc;
	}
	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "size", (double)len);
	snprintf(x, sizeof(x), "0x%llx", (unsigned long long)img.gpa);
	cJSON_AddStringToObject(j, "gpa", x);
	a = cJSON_AddArrayToObject(j, "footer_entries");
	for (unsigned i = 0; i < img.n_entries; i++) {
		cJSON *e = cJSON_CreateObject();
		const char *n = ovmf_footer_guid_name(img.entries[i].guid);
		char *hex = malloc(2 * img.entries[i].data_len + 1);
		ovmf_guid_format(img.entries[i].guid, g);
		cJSON_AddStringToObject(e, "name", n ? n : "unknown");
		cJSON_AddStringToObject(e, "guid", g);
		if (hex) {
			cvm_hex_encode(fw + img.entries[i].data_offset, img.entries[i].data_len, hex);
			cJSON_AddStringToObject(e, "data", hex);
			free(hex);
		}
		cJSON_AddItemToArray(a, e);
	}
	if (img.has_sev_metadata) {
		a = cJSON_AddArrayToObject(j, "sev_metadata_sections");
		for (unsigned i = 0; i < img.n_sev; i++) {
			cJSON *e = cJSON_CreateObject();
			snprintf(x, sizeof(x), "0x%x", img.sev[i].gpa);
			cJSON_AddStringToObject(e, "gpa", x);
			snprintf(x, sizeof(x), "0x%x", img.sev[i].size);
			cJSON_AddStringToObject(e, "size", x);
			cJSON_AddStringToObject(e, "type", ovmf_sev_section_name(img.sev[i].type));
			cJSON_AddItemToArray(a, e);
		}
	}
	if (img.has_tdvf) {
		a = cJSON_AddArrayToObject(j, "tdvf_sections");
		for (unsigned i = 0; i < img.n_tdvf; i++) {
			const struct ovmf_tdvf_section *s = &img.tdvf[i];
			cJSON *e = cJSON_CreateObject();
			snprintf(x, sizeof(x), "0x%x", s->data_offset);
			cJSON_AddStringToObject(e, "data_offset", x);
			snprintf(x, sizeof(x), "0x%x", s->raw_data_size);
			cJSON_AddStringToObject(e, "raw_data_size", x);
			snprintf(x, sizeof(x), "0x%llx", (unsigned long long)s->memory_address);
			cJSON_AddStringToObject(e, "memory_address", x);
			snprintf(x, sizeof(x), "0x%llx", (unsigned long long)s->memory_data_size);
			cJSON_AddStringToObject(e, "memory_data_size", x);
			cJSON_AddStringToObject(e, "type", ovmf_tdvf_section_name(s->type));
			snprintf(x, sizeof(x), "0x%x", s->attributes);
			cJSON_AddStringToObject(e, "attributes", x);
			cJSON_AddItemToArray(a, e);
		}
	}
	if (o->out != OUT_TEXT) {
		print_json(j);
	} else {
		printf("size: %zu (gpa 0x%llx)\n", len, (unsigned long long)img.gpa);
		if (!img.has_footer)
			printf("footer table: none\n");
		for (unsigned i = 0; i < img.n_entries; i++) {
			const char *n = ovmf_footer_guid_name(img.entries[i].guid);
			ovmf_guid_format(img.entries[i].guid, g);
			printf("footer %-26s %s (%u bytes)\n", n ? n : "unknown", g, img.entries[i].data_len);
		}
		if (img.has_reset_block)
			printf("sev-es reset eip: 0x%x\n", img.sev_es_reset_eip);
		if (img.has_hash_table)
			printf("sev hash table: gpa 0x%x size 0x%x\n", img.hash_table_gpa, img.hash_table_size);
		for (unsigned i = 0; i < img.n_sev; i++)
			printf("sev section %-18s gpa 0x%06x size 0x%05x\n", ovmf_sev_section_name(img.sev[i].type),
			       img.sev[i].gpa, img.sev[i].size);
		for (unsigned i = 0; i < img.n_tdvf; i++) {
			const struct ovmf_tdvf_section *s = &img.tdvf[i];
			printf("tdvf section %-9s data 0x%x+0x%x gpa 0x%llx+0x%llx attr 0x%x\n",
			       ovmf_tdvf_section_name(s->type), s->data_offset, s->raw_data_size,
			       (unsigned long long)s->memory_address, (unsigned long long)s->memory_data_size,
			       s->attributes);
		}
	}
	cJSON_Delete(j);
	free(fw);
	return 0;
}

/* ---------------------------------------------------------------- main */

enum {
	O_MODE = 256, O_VCPUS, O_VCPU_TYPE, O_VCPU_SIG, O_FAMILY, O_MODEL, O_STEPPING, O_VMM, O_OVMF,
	O_KERNEL, O_INITRD, O_APPEND, O_FEATURES, O_OUTFMT, O_OVMF_HASH, O_JSON, O_RVPS, O_TABLE,
	O_TABLE_VCPUS, O_TABLE_MODELS, O_PAGE_ORDER, O_MEMORY, O_EDK2, O_VERSION,
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, O_VERSION },
		{ "mode", required_argument, NULL, O_MODE },
		{ "vcpus", required_argument, NULL, O_VCPUS },
		{ "vcpu-type", required_argument, NULL, O_VCPU_TYPE },
		{ "vcpu-sig", required_argument, NULL, O_VCPU_SIG },
		{ "vcpu-family", required_argument, NULL, O_FAMILY },
		{ "vcpu-model", required_argument, NULL, O_MODEL },
		{ "vcpu-stepping", required_argument, NULL, O_STEPPING },
		{ "vmm-type", required_argument, NULL, O_VMM },
		{ "ovmf", required_argument, NULL, O_OVMF },
		{ "kernel", required_argument, NULL, O_KERNEL },
		{ "initrd", required_argument, NULL, O_INITRD },
		{ "append", required_argument, NULL, O_APPEND },
		{ "guest-features", required_argument, NULL, O_FEATURES },
		{ "output-format", required_argument, NULL, O_OUTFMT },
		{ "snp-ovmf-hash", required_argument, NULL, O_OVMF_HASH },
		{ "json", no_argument, NULL, O_JSON },
		{ "rvps", no_argument, NULL, O_RVPS },
		{ "table", no_argument, NULL, O_TABLE },
		{ "table-vcpus", required_argument, NULL, O_TABLE_VCPUS },
		{ "table-models", required_argument, NULL, O_TABLE_MODELS },
		{ "page-order", required_argument, NULL, O_PAGE_ORDER },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "edk2", required_argument, NULL, O_EDK2 },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .vcpus = -1, .vmm = OVMF_VMM_QEMU, .guest_features = 0x1, .table_lo = 1,
			  .table_hi = 16, .mem = 2ull << 30, .era = OVMF_EDK2_202411_TO_202505,
			  .family = -1, .model = -1, .stepping = -1 };
	bool info = false;
	int c;

	if (argc > 1 && argv[1][0] != '-') {
		if (!strcmp(argv[1], "info"))
			info = true;
		else if (strcmp(argv[1], "measure"))
			return usage("unknown verb '%s' (measure, info)", argv[1]);
		argv[1] = argv[0];
		argc--, argv++;
	}
	while ((c = getopt_long(argc, argv, "hv", lopts, NULL)) != -1) {
		uint64_t v;
		switch (c) {
		case 'h': help(); return 0;
		case 'v': o.verbose = true; break;
		case O_VERSION: printf(PROG " " VERSION "\n"); return 0;
		case O_MODE:
			o.mode = mode_from(optarg);
			if (o.mode == M_NONE)
				return usage("unknown --mode '%s' (sev, seves, snp, snp:ovmf-hash, tdx)", optarg);
			break;
		case O_VCPUS:
			if (!parse_long(optarg, &o.vcpus) || o.vcpus < 1 || o.vcpus > (long)OVMF_MAX_VCPUS)
				return usage("--vcpus must be 1..4096: %s", optarg);
			break;
		case O_VCPU_TYPE:
			if (ovmf_cpu_sig_from_name(optarg, &o.type_sig) < 0)
				return usage("unknown --vcpu-type '%s' (see --help)", optarg);
			o.vcpu_type = optarg;
			break;
		case O_VCPU_SIG:
			if (!parse_u64(optarg, &v) || v > UINT32_MAX)
				return usage("--vcpu-sig must be a 32-bit number: %s", optarg);
			o.have_sig = true;
			o.vcpu_sig = (uint32_t)v;
			break;
		case O_FAMILY: if (!parse_long(optarg, &o.family)) return usage("bad --vcpu-family: %s", optarg); break;
		case O_MODEL: if (!parse_long(optarg, &o.model)) return usage("bad --vcpu-model: %s", optarg); break;
		case O_STEPPING: if (!parse_long(optarg, &o.stepping)) return usage("bad --vcpu-stepping: %s", optarg); break;
		case O_VMM:
			if (ovmf_vmm_from_name(optarg, &o.vmm) < 0)
				return usage("unknown VMM type '%s' (QEMU, ec2, gce)", optarg);
			break;
		case O_OVMF: o.ovmf = optarg; break;
		case O_KERNEL: o.kernel = optarg; break;
		case O_INITRD: o.initrd = optarg; break;
		case O_APPEND: o.append = optarg; break;
		case O_FEATURES:
			if (!parse_u64(optarg, &o.guest_features))
				return usage("bad --guest-features: %s", optarg);
			break;
		case O_OUTFMT:
			if (strcmp(optarg, "hex") && strcmp(optarg, "base64"))
				return usage("--output-format must be hex or base64: %s", optarg);
			o.base64 = !strcmp(optarg, "base64");
			break;
		case O_OVMF_HASH: o.ovmf_hash = optarg; break;
		case O_JSON: o.out = OUT_JSON; break;
		case O_RVPS: o.out = OUT_RVPS; break;
		case O_TABLE: o.table = true; break;
		case O_TABLE_VCPUS: {
			unsigned lo, hi;
			char tail;
			if (sscanf(optarg, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1 || hi < lo || hi > 512)
				return usage("--table-vcpus must be LO-HI within 1-512: %s", optarg);
			o.table_lo = lo;
			o.table_hi = hi;
			break;
		}
		case O_TABLE_MODELS: o.table_models = optarg; break;
		case O_PAGE_ORDER:
			if (!strcmp(optarg, "single-pass"))
				o.page_order = 1;
			else if (!strcmp(optarg, "two-pass"))
				o.page_order = 2;
			else
				return usage("--page-order must be single-pass or two-pass: %s", optarg);
			break;
		case O_MEMORY:
			if (!parse_size(optarg, &o.mem) || o.mem < (64ull << 20))
				return usage("bad --memory (e.g. 2G, 4096M; at least 64M): %s", optarg);
			break;
		case O_EDK2:
			if (!strcmp(optarg, "202411"))
				o.era = OVMF_EDK2_202411_TO_202505;
			else if (!strcmp(optarg, "202508"))
				o.era = OVMF_EDK2_202508_PLUS;
			else if (!strcmp(optarg, "202302"))
				o.era = OVMF_EDK2_202302_TO_202408;
			else
				return usage("--edk2 must be 202302, 202411 or 202508: %s", optarg);
			break;
		default:
			return usage("%s", "invalid option");
		}
	}
	if (optind < argc)
		return usage("unexpected argument '%s'", argv[optind]);
	if (!o.ovmf)
		return usage("%s", "--ovmf FILE is required");
	if (info)
		return do_info(&o);
	if (o.mode == M_NONE)
		return usage("%s", "--mode is required (sev, seves, snp, snp:ovmf-hash, tdx)");
	if (o.initrd && !o.kernel)
		return usage("%s", "--kernel required when using --initrd");
	if (o.append && *o.append && !o.kernel)
		return usage("%s", "--kernel required when using --append");
	if (o.ovmf_hash && o.mode != M_SNP)
		return usage("%s", "SNP OVMF hash only works with SNP");
	if (o.table && o.mode != M_SNP)
		return usage("%s", "--table only works with --mode snp");
	if (o.mode == M_TDX)
		return do_tdx(&o);
	if (o.mode == M_SNP_OVMF_HASH)
		return do_sev(&o);
	if (o.mode != M_SEV && !o.table && o.vcpus < 0)
		return usage("missing --vcpus N in guest mode '%s'", o.mode == M_SNP ? "snp" : "seves");
	if (o.family >= 0 || o.model >= 0 || o.stepping >= 0) {
		if (o.family < 0 || o.model < 0 || o.stepping < 0)
			return usage("%s", "--vcpu-family needs --vcpu-model and --vcpu-stepping");
		o.vcpu_sig = ovmf_cpu_sig((unsigned)o.family, (unsigned)o.model, (unsigned)o.stepping);
	} else if (!o.have_sig && o.vcpu_type) {
		o.vcpu_sig = o.type_sig;  /* sev-snp-measure precedence: family, sig, type */
	} else if (!o.have_sig && o.mode != M_SEV && !o.table && o.vmm == OVMF_VMM_QEMU)
		return usage("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '%s'",
			     o.mode == M_SNP ? "snp" : "seves");
	return do_sev(&o);
}
