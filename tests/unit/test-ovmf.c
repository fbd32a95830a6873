/* ovmf/: footer/ASEV/TDVF parsing, SEV-SNP / SEV-ES / SEV launch digests,
 * TDX MRTD and RTMRs.  Every case of vectors/ovmf/expected.json is replayed;
 * further known answers are the values virtee/sev-snp-measure's own
 * tests/test_guest.py asserts (@8f2b337) for the same fixtures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/ovmf.h"
#include "testutil.h"

static char *vpath(const char *sub)
{
	return strdup(tu_vectors(sub));
}

static uint8_t *load(const char *sub, size_t *ret_len)
{
	char *p = vpath(sub);
	uint8_t *b = tu_read(p, ret_len);

	free(p);
	return b;
}

static void hex_eq(const uint8_t *d, size_t n, const char *want)
{
	char h[2 * 64 + 1];

	assert_true(n <= 64);
	cvm_hex_encode(d, n, h);
	assert_string_equal(h, want);
}

static void parse_ok(const uint8_t *fw, size_t len, struct ovmf_image *img)
{
	int r = ovmf_parse(fw, len, img);

	if (r < 0)
		fail_msg("ovmf_parse: %s (%llu): %d", img->error, (unsigned long long)img->error_value, r);
}

static uint32_t jhex(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(v));
	return (uint32_t)strtoul(v->valuestring, NULL, 0);
}

static uint64_t jhex64(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(v));
	return strtoull(v->valuestring, NULL, 0);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---------------------------------------------------------------- vectors */

static void fill_hashes(const cJSON *in, struct ovmf_sev_hashes *h, bool *has)
{
	const char *k = jstr(in, "kernel"), *i = jstr(in, "initrd"), *a = jstr(in, "append");
	char *p;

	*has = k != NULL;
	if (!k)
		return;
	p = vpath(k);
	assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, p, h->kernel, NULL), 0);
	free(p);
	if (i) {
		p = vpath(i);
		assert_int_equal(cvm_hash_file(CVM_HASH_SHA256, p, h->initrd, NULL), 0);
		free(p);
	} else
		ovmf_sha256("", 0, h->initrd);
	ovmf_sev_hashes_set_cmdline(h, a && *a ? a : NULL);
}

static void case_launch_digest(const cJSON *c)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "inputs");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(c, "expected");
	const char *mode = jstr(in, "mode"), *want = jstr(ex, "digest"), *err = jstr(ex, "error");
	const cJSON *vc = cJSON_GetObjectItemCaseSensitive(in, "vcpus");
	struct ovmf_image img;
	struct ovmf_sev_hashes h;
	uint8_t *fw, d[OVMF_SHA384_SIZE];
	size_t len;
	bool has_k;
	enum ovmf_vmm vmm = OVMF_VMM_QEMU;
	uint32_t sig = 0;
	int r;

	fw = load(jstr(in, "ovmf"), &len);
	parse_ok(fw, len, &img);
	fill_hashes(in, &h, &has_k);
	if (jstr(in, "vmm"))
		assert_int_equal(ovmf_vmm_from_name(jstr(in, "vmm"), &vmm), 0);
	if (jstr(in, "vcpu_type")) {
		assert_int_equal(ovmf_cpu_sig_from_name(jstr(in, "vcpu_type"), &sig), 0);
		assert_int_equal(sig, jhex(in, "vcpu_sig"));
	}
	if (strcmp(mode, "snp:ovmf-hash") == 0) {
		assert_int_equal(ovmf_snp_ovmf_hash(&img, d), 0);
		hex_eq(d, 48, want);
	} else if (strcmp(mode, "snp") == 0) {
		struct ovmf_snp_params p = {
			.vcpus = (unsigned)vc->valueint, .vcpu_sig = sig,
			.guest_features = jhex64(in, "guest_features"), .vmm = vmm,
			.hashes = has_k ? &h : NULL,
		};
		r = ovmf_snp_digest(&img, &p, d);
		if (err) {
			assert_non_null(strstr(err, "SNP_KERNEL_HASHES"));
			assert_int_equal(r, -ENOENT);
		} else {
			assert_int_equal(r, 0);
			hex_eq(d, 48, want);
		}
	} else if (strcmp(mode, "seves") == 0 || strcmp(mode, "sev") == 0) {
		bool es = strcmp(mode, "seves") == 0;
		assert_int_equal(ovmf_sev_digest(&img, es ? OVMF_MODE_SEV_ES : OVMF_MODE_SEV,
						 es ? (unsigned)vc->valueint : 0, sig, vmm, has_k ? &h : NULL, d), 0);
		hex_eq(d, 32, want);
	} else
		fail_msg("unhandled mode %s in %s", mode, jstr(c, "id"));
	free(fw);
}

static void case_parse(const cJSON *c)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "inputs");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(c, "expected");
	const cJSON *fe = cJSON_GetObjectItemCaseSensitive(ex, "footer_entries"), *e;
	const cJSON *sev = cJSON_GetObjectItemCaseSensitive(ex, "sev_metadata_sections");
	const cJSON *td = cJSON_GetObjectItemCaseSensitive(ex, "tdvf_sections");
	struct ovmf_image img;
	uint8_t *fw;
	size_t len;
	unsigned i;

	fw = load(jstr(in, "ovmf"), &len);
	assert_int_equal(len, cJSON_GetObjectItemCaseSensitive(ex, "size")->valueint);
	if (jstr(ex, "sha256")) {
		uint8_t d[32];
		ovmf_sha256(fw, len, d);
		hex_eq(d, 32, jstr(ex, "sha256"));
	}
	parse_ok(fw, len, &img);
	assert_true(img.has_footer);
	if (jstr(ex, "gpa"))
		assert_int_equal(img.gpa, jhex64(ex, "gpa"));
	/* Every expected footer entry, by name and GUID, with its data bytes. */
	assert_int_equal(img.n_entries, cJSON_GetArraySize(fe));
	cJSON_ArrayForEach(e, fe) {
		bool found = false;
		for (i = 0; i < img.n_entries; i++) {
			char g[37], want[128], *hex;
			const char *name = ovmf_footer_guid_name(img.entries[i].guid);
			ovmf_guid_format(img.entries[i].guid, g);
			snprintf(want, sizeof(want), "%s %s", name ? name : "?", g);
			if (strcmp(want, e->string) != 0)
				continue;
			found = true;
			hex = malloc(2 * img.entries[i].data_len + 1);
			cvm_hex_encode(fw + img.entries[i].data_offset, img.entries[i].data_len, hex);
			assert_string_equal(hex, e->valuestring);
			free(hex);
		}
		assert_true(found);
	}
	if (jstr(ex, "sev_es_reset_eip"))
		assert_int_equal(img.sev_es_reset_eip, jhex(ex, "sev_es_reset_eip"));
	if (jstr(ex, "sev_hash_table_gpa"))
		assert_int_equal(img.hash_table_gpa, jhex(ex, "sev_hash_table_gpa"));
	if (jstr(ex, "sev_metadata_offset_from_end"))
		assert_int_equal(img.sev_metadata_offset, jhex(ex, "sev_metadata_offset_from_end"));
	assert_true(img.has_sev_metadata);
	assert_int_equal(img.n_sev, cJSON_GetArraySize(sev));
	i = 0;
	cJSON_ArrayForEach(e, sev) {
		assert_int_equal(img.sev[i].gpa, jhex(e, "gpa"));
		assert_int_equal(img.sev[i].size, jhex(e, "size"));
		assert_string_equal(ovmf_sev_section_name(img.sev[i].type), jstr(e, "type"));
		i++;
	}
	if (td) {
		assert_true(img.has_tdvf);
		assert_int_equal(img.tdvf_offset, jhex(ex, "tdvf_offset_from_end"));
		assert_int_equal(img.n_tdvf, cJSON_GetArraySize(td));
		i = 0;
		cJSON_ArrayForEach(e, td) {
			const struct ovmf_tdvf_section *s = &img.tdvf[i++];
			assert_int_equal(s->data_offset, jhex(e, "data_offset"));
			assert_int_equal(s->raw_data_size, jhex(e, "raw_data_size"));
			assert_int_equal(s->memory_address, jhex64(e, "memory_address"));
			assert_int_equal(s->memory_data_size, jhex64(e, "memory_data_size"));
			assert_string_equal(ovmf_tdvf_section_name(s->type), jstr(e, "type"));
			assert_int_equal(s->attributes, jhex(e, "attributes"));
		}
	}
	free(fw);
}

static void case_mrtd(const cJSON *c)
{
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "inputs");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(c, "expected");
	const char *order = jstr(in, "page_order");
	struct ovmf_image img;
	uint8_t *fw, d[48];
	size_t len;

	fw = load(jstr(in, "ovmf"), &len);
	parse_ok(fw, len, &img);
	assert_int_equal(ovmf_tdx_mrtd(&img, strcmp(order, "two-pass") == 0 ? OVMF_TDX_TWO_PASS
							     : OVMF_TDX_SINGLE_PASS, d), 0);
	hex_eq(d, 48, jstr(ex, "mrtd"));
	free(fw);
}

static void all_vectors(void **state)
{
	size_t len;
	uint8_t *js = load("ovmf/expected.json", &len);
	cJSON *root = cJSON_ParseWithLength((const char *)js, len), *c;
	unsigned n = 0, total;

	assert_non_null(root);
	assert_string_equal(jstr(root, "format"), "cvmkit-vectors/1");
	total = (unsigned)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "cases"));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
		const char *op = jstr(c, "operation");
		char sub[256];
		/* inputs are relative to vectors/ovmf/ */
		cJSON *in = cJSON_GetObjectItemCaseSensitive(c, "inputs"), *f;
		cJSON_ArrayForEach(f, in)
			if (cJSON_IsString(f) && strchr(f->valuestring, '/') && strncmp(f->valuestring, "ovmf/", 5)) {
				snprintf(sub, sizeof(sub), "ovmf/%s", f->valuestring);
				cJSON_SetValuestring(f, sub);
			}
		if (strcmp(op, "launch_digest") == 0)
			case_launch_digest(c);
		else if (strcmp(op, "ovmf_footer_parse") == 0)
			case_parse(c);
		else if (strcmp(op, "tdx_mrtd") == 0)
			case_mrtd(c);
		else
			fail_msg("unknown operation %s", op);
		n++;
	}
	assert_int_equal(n, total);
	assert_true(n >= 14);
	print_message("ovmf vectors: %u/%u cases passed\n", n, total);
	cJSON_Delete(root);
	free(js);
}


/* ---------------------------------------------------------------- upstream known answers */

/* Values virtee/sev-snp-measure's tests/test_guest.py asserts for the same
 * fixtures (kernel = initrd = /dev/null, i.e. empty). */
struct ssm_case {
	const char *fw;
	int mode;               /* 3 snp, 2 seves, 1 sev */
	unsigned vcpus;
	uint64_t features;
	enum ovmf_vmm vmm;
	bool kernel, initrd;
	const char *append;
	bool seed;              /* start from the upstream ovmf hash */
	const char *want;       /* NULL: must fail with -ENOENT */
};

static const struct ssm_case ssm_cases[] = {
	{ "AmdSev", 3, 1, 0x21, OVMF_VMM_QEMU, true, true, "", true,
	  "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198" },
	{ "AmdSev", 3, 1, 0x1, OVMF_VMM_QEMU, true, true, "", true,
	  "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5" },
	{ "AmdSev", 3, 1, 0x21, OVMF_VMM_QEMU, true, true, "console=ttyS0 loglevel=7", true,
	  "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977" },
	{ "AmdSev", 3, 1, 0x1, OVMF_VMM_EC2, true, true, "", false,
	  "0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056" },
	{ "AmdSev", 3, 1, 0x1, OVMF_VMM_GCE, true, true, "", false,
	  "5da7106cf14cf46b1725ebab123eb9e53bd46a1e9f400cd0c08e7827b04b688ea8b4e403c8404efed4397ea5d5d0722e" },
	{ "AmdSev", 3, 4, 0x1, OVMF_VMM_GCE, true, true, "", false,
	  "5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d" },
	{ "AmdSev", 3, 1, 0x1, OVMF_VMM_QEMU, false, false, NULL, false,
	  "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d" },
	{ "AmdSev", 3, 4, 0x1, OVMF_VMM_QEMU, true, true, "", false,
	  "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5" },
	{ "OvmfX64", 3, 1, 0x21, OVMF_VMM_QEMU, false, false, NULL, false,
	  "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385" },
	{ "AmdSev", 2, 4, 0x21, OVMF_VMM_QEMU, true, true, "", false,
	  "0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91" },
	{ "OvmfX64", 2, 1, 0x21, OVMF_VMM_QEMU, true, true, "", false, NULL },
	{ "AmdSev", 1, 1, 0, OVMF_VMM_QEMU, true, false, NULL, false,
	  "77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898" },
	{ "OvmfX64", 1, 1, 0, OVMF_VMM_QEMU, true, true, "", false, NULL },
	{ "OvmfX64", 1, 1, 0, OVMF_VMM_QEMU, false, false, NULL, false,
	  "b4c021e085fb83ceffe6571a3d357b4a98773c83c474e47f76c876708fe316da" },
};

static void upstream_known_answers(void **state)
{
	uint8_t seed[48];

	assert_int_equal(cvm_hex_decode("086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74",
					96, seed, 48), 0);
	for (size_t i = 0; i < sizeof(ssm_cases) / sizeof(ssm_cases[0]); i++) {
		const struct ssm_case *c = &ssm_cases[i];
		char sub[128];
		struct ovmf_image img;
		struct ovmf_sev_hashes h;
		uint8_t *fw, d[48];
		size_t len;
		int r;

		snprintf(sub, sizeof(sub), "ovmf/sev-snp-measure/ovmf_%s_suffix.bin", c->fw);
		fw = load(sub, &len);
		parse_ok(fw, len, &img);
		ovmf_sha256("", 0, h.kernel);
		ovmf_sha256("", 0, h.initrd);
		ovmf_sev_hashes_set_cmdline(&h, c->append && *c->append ? c->append : NULL);
		if (c->mode == 3) {
			struct ovmf_snp_params p = { .vcpus = c->vcpus, .vcpu_sig = 0x800f12, .guest_features = c->features,
						     .vmm = c->vmm, .ovmf_hash = c->seed ? seed : NULL,
						     .hashes = c->kernel ? &h : NULL };
			r = ovmf_snp_digest(&img, &p, d);
		} else
			r = ovmf_sev_digest(&img, c->mode == 2 ? OVMF_MODE_SEV_ES : OVMF_MODE_SEV, c->vcpus, 0x800f12,
					    c->vmm, c->kernel ? &h : NULL, d);
		if (!c->want)
			assert_int_equal(r, -ENOENT);
		else {
			assert_int_equal(r, 0);
			hex_eq(d, c->mode == 3 ? 48 : 32, c->want);
		}
		free(fw);
	}
}

/* The trace of test_snp_default: hash table bytes and the BSP VMSA digest. */
static void trace_steps(void **state)
{
	size_t len;
	uint8_t *t = load("ovmf/sev-snp-measure/trace_test_snp_default.txt", &len), table[176], page[4096], d[48];
	char *txt = calloc(1, len + 1), *p;
	char want[2 * 176 + 1];
	struct ovmf_sev_hashes h;

	memcpy(txt, t, len);
	p = strstr(txt, "padded hash table (176 bytes): ");
	assert_non_null(p);
	memcpy(want, p + strlen("padded hash table (176 bytes): "), 352);
	want[352] = 0;
	ovmf_sha256("", 0, h.kernel);
	ovmf_sha256("", 0, h.initrd);
	ovmf_sev_hashes_set_cmdline(&h, "console=ttyS0 loglevel=7");
	ovmf_sev_hash_table(&h, table);
	{
		char got[353];
		cvm_hex_encode(table, 176, got);
		assert_string_equal(got, want);
	}
	p = strstr(txt, "VMSA[0] sha384: ");
	assert_non_null(p);
	memcpy(want, p + strlen("VMSA[0] sha384: "), 96);
	want[96] = 0;
	assert_int_equal(ovmf_vmsa_build(OVMF_VMSA_BSP_EIP, 0x21, 0x800f12, OVMF_VMM_QEMU, page), 0);
	ovmf_sha384(page, sizeof(page), d);
	hex_eq(d, 48, want);
	free(txt);
	free(t);
}

/* A table equals the per-shape digests the vectors and upstream give. */
static void table_matches_known(void **state)
{
	struct ovmf_image img;
	struct ovmf_sev_hashes h;
	size_t len;
	uint8_t *fw = load("ovmf/sev-snp-measure/ovmf_AmdSev_suffix.bin", &len), out[4][48];
	const uint32_t sigs[2] = { 0x800f12, 0xa00f11 };
	const unsigned counts[2] = { 4, 1 };
	struct ovmf_snp_params p = { .guest_features = 0x21, .vmm = OVMF_VMM_QEMU, .hashes = &h };

	parse_ok(fw, len, &img);
	ovmf_sha256("", 0, h.kernel);
	ovmf_sha256("", 0, h.initrd);
	ovmf_sev_hashes_set_cmdline(&h, NULL);
	assert_int_equal(ovmf_snp_table(&img, &p, sigs, 2, counts, 2, out), 4);
	hex_eq(out[0], 48, "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942");
	hex_eq(out[1], 48, "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198");
	assert_memory_not_equal(out[1], out[3], 48);  /* Milan's signature changes the VMSA */
	assert_int_equal(ovmf_snp_table(&img, &p, sigs, 2, (const unsigned[]){ 0 }, 1, out), -EINVAL);
	free(fw);
}

static void cpu_signatures(void **state)
{
	static const struct { const char *n; uint32_t sig; } t[] = {
		{ "EPYC", 0x800f12 }, { "EPYC-v4", 0x800f12 }, { "EPYC-IBPB", 0x800f12 }, { "EPYC-Rome", 0x830f10 },
		{ "EPYC-Rome-v3", 0x830f10 }, { "EPYC-Milan", 0xa00f11 }, { "EPYC-Milan-v2", 0xa00f11 },
		{ "EPYC-Genoa", 0xa10f10 }, { "EPYC-Turin", 0xb00f00 },
	};
	uint32_t s;
	enum ovmf_vmm v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(ovmf_cpu_sig_from_name(t[i].n, &s), 0);
		assert_int_equal(s, t[i].sig);
	}
	assert_int_equal(ovmf_cpu_sig(25, 17, 0), 0xa10f10);
	assert_int_equal(ovmf_cpu_sig(6, 0x8f, 8), 0x806f8);  /* Sapphire Rapids-like: family <= 0xf */
	assert_int_equal(ovmf_cpu_sig_from_name("EPYC-v9", &s), -ENOENT);
	assert_int_equal(ovmf_vmm_from_name("EC2", &v), 0);
	assert_int_equal(v, OVMF_VMM_EC2);
	assert_int_equal(ovmf_vmm_from_name("azure", &v), -EINVAL);
}

/* ---------------------------------------------------------------- malformed firmware */

static const uint8_t g_footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45, 0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const uint8_t g_reset[16] = { 0xde, 0x71, 0xf7, 0x00, 0x7e, 0x1a, 0xcb, 0x4f, 0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e };
static const uint8_t g_sev[16] = { 0x66, 0x65, 0x88, 0xdc, 0x4a, 0x98, 0x98, 0x47, 0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc };
static const uint8_t g_tdx[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47, 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

#define IMG 8192u

/* An 8 KiB image: footer with reset block, ASEV at end-0x400 (n items),
 * TDVF at end-0x800 (m sections). */
static void build(uint8_t *img, const uint32_t (*sev)[3], unsigned n, const uint64_t (*td)[6], unsigned m)
{
	uint8_t *p = img + IMG - 32 - 18;
	uint16_t total = 18;

	memset(img, 0x5a, IMG);
	memset(img + IMG - 32, 0, 32);
	memcpy(p + 2, g_footer, 16);
#define ENTRY(guid, val) do { p -= 22; cvm_put_le32(p, val); cvm_put_le16(p + 4, 22); memcpy(p + 6, guid, 16); total += 22; } while (0)
	ENTRY(g_reset, 0x80b004);
	if (sev)
		ENTRY(g_sev, 0x400);
	if (td)
		ENTRY(g_tdx, 0x800);
#undef ENTRY
	cvm_put_le16(img + IMG - 32 - 18, total);
	if (sev) {
		uint8_t *h = img + IMG - 0x400;
		memcpy(h, "ASEV", 4);
		cvm_put_le32(h + 4, 16 + 12 * n);
		cvm_put_le32(h + 8, 1);
		cvm_put_le32(h + 12, n);
		for (unsigned i = 0; i < n; i++)
			for (unsigned k = 0; k < 3; k++)
				cvm_put_le32(h + 16 + 12 * i + 4 * k, sev[i][k]);
	}
	if (td) {
		uint8_t *h = img + IMG - 0x800;
		memcpy(h, "TDVF", 4);
		cvm_put_le32(h + 4, 16 + 32 * m);
		cvm_put_le32(h + 8, 1);
		cvm_put_le32(h + 12, m);
		for (unsigned i = 0; i < m; i++) {
			uint8_t *s = h + 16 + 32 * i;
			cvm_put_le32(s, (uint32_t)td[i][0]);
			cvm_put_le32(s + 4, (uint32_t)td[i][1]);
			cvm_put_le64(s + 8, td[i][2]);
			cvm_put_le64(s + 16, td[i][3]);
			cvm_put_le32(s + 24, (uint32_t)td[i][4]);
			cvm_put_le32(s + 28, (uint32_t)td[i][5]);
		}
	}
}

static void expect_fail(const uint8_t *img, size_t len, int err, const char *what)
{
	struct ovmf_image o;

	assert_int_equal(ovmf_parse(img, len, &o), err);
	assert_non_null(o.error);
	assert_non_null(strstr(o.error, what));
}

static void malformed(void **state)
{
	static const uint32_t sev_ok[3][3] = { { 0x800000, 0x9000, 1 }, { 0x80d000, 0x1000, 2 }, { 0x80e000, 0x1000, 3 } };
	static const uint64_t td_ok[2][6] = { { 0x1000, 0x1000, 0xffffe000, 0x1000, 0, 1 }, { 0, 0, 0x800000, 0x2000, 3, 0 } };
	uint8_t *img = malloc(IMG), d[48];
	struct ovmf_image o;
	struct ovmf_snp_params p = { .vcpus = 1, .vcpu_sig = 0x800f12, .guest_features = 1, .vmm = OVMF_VMM_QEMU };

	/* The well-formed base parses and measures. */
	build(img, sev_ok, 3, td_ok, 2);
	assert_int_equal(ovmf_parse(img, IMG, &o), 0);
	assert_int_equal(o.n_sev, 3);
	assert_int_equal(o.n_tdvf, 2);
	assert_int_equal(ovmf_snp_digest(&o, &p, d), 0);
	assert_int_equal(ovmf_tdx_mrtd(&o, OVMF_TDX_SINGLE_PASS, d), 0);

	/* Truncated: the footer GUID cut off, or the image shorter than the footer. */
	expect_fail(img + IMG - 40, 40, -EBADMSG, "too small");
	assert_int_equal(ovmf_parse(img, IMG - 1, &o), 0);  /* misplaced footer: no table */
	assert_false(o.has_footer);
	assert_int_equal(ovmf_snp_digest(&o, &p, d), -ENOENT);
	assert_int_equal(ovmf_tdx_mrtd(&o, OVMF_TDX_SINGLE_PASS, d), -ENOENT);

	/* Bad lengths. */
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le16(img + IMG - 50, 0xffff);
	expect_fail(img, IMG, -EBADMSG, "before the image start");
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le16(img + IMG - 50, 17);
	expect_fail(img, IMG, -EBADMSG, "smaller than its header");
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le16(img + IMG - 50 - 16 - 2, 5);  /* last entry's length */
	expect_fail(img, IMG, -EBADMSG, "entry length");
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le32(img + IMG - 0x400 + 4, 20);
	expect_fail(img, IMG, -EBADMSG, "SEV metadata length");
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le32(img + IMG - 0x400 + 12, 100000);
	expect_fail(img, IMG, -E2BIG, "too many SEV");
	build(img, sev_ok, 3, td_ok, 2);
	cvm_put_le32(img + IMG - 0x800 + 4, 0x900);
	expect_fail(img, IMG, -EBADMSG, "TDVF metadata length");
	build(img, sev_ok, 3, td_ok, 2);
	memcpy(img + IMG - 0x400, "ASEW", 4);
	expect_fail(img, IMG, -EBADMSG, "ASEV");

	/* Overlapping sections. */
	{
		static const uint32_t s[2][3] = { { 0x800000, 0x9000, 1 }, { 0x808000, 0x1000, 2 } };
		static const uint64_t t[2][6] = { { 0, 0, 0x800000, 0x3000, 3, 0 }, { 0, 0, 0x802000, 0x1000, 2, 0 } };
		build(img, s, 2, NULL, 0);
		expect_fail(img, IMG, -EBADMSG, "overlapping SEV");
		build(img, NULL, 0, t, 2);
		expect_fail(img, IMG, -EBADMSG, "overlapping TDVF");
	}

	/* Unknown types are refused and named, never skipped. */
	{
		static const uint32_t s[2][3] = { { 0x800000, 0x1000, 1 }, { 0x900000, 0x1000, 0x11 } };
		static const uint64_t t[1][6] = { { 0, 0, 0x800000, 0x1000, 8, 0 } };
		static const uint64_t shim[1][6] = { { 0, 0, 0x800000, 0x1000, 4, 0 } };
		build(img, s, 2, NULL, 0);
		expect_fail(img, IMG, -EPROTONOSUPPORT, "unknown SEV metadata section type");
		assert_int_equal(ovmf_parse(img, IMG, &o), -EPROTONOSUPPORT);
		assert_int_equal(o.error_value, 0x11);
		build(img, NULL, 0, t, 1);
		expect_fail(img, IMG, -EPROTONOSUPPORT, "unknown TDVF section type");
		build(img, NULL, 0, shim, 1);
		assert_int_equal(ovmf_parse(img, IMG, &o), 0);
		assert_int_equal(ovmf_tdx_mrtd(&o, OVMF_TDX_TWO_PASS, d), -EOPNOTSUPP);
	}

	/* TDVF data beyond the image end fails when measured. */
	{
		static const uint64_t t[1][6] = { { 0x1f000, 0x1000, 0xffffe000, 0x1000, 0, 1 } };
		build(img, NULL, 0, t, 1);
		assert_int_equal(ovmf_parse(img, IMG, &o), 0);
		assert_int_equal(ovmf_tdx_mrtd(&o, OVMF_TDX_SINGLE_PASS, d), -EBADMSG);
	}

	/* A firmware size that is not a page multiple cannot be measured for SNP. */
	build(img, sev_ok, 3, NULL, 0);
	assert_int_equal(ovmf_parse(img + 0x800, IMG - 0x800, &o), 0);  /* ASEV moves out: offsets from end */
	assert_int_equal(ovmf_snp_ovmf_hash(&o, d), -EBADMSG);
	assert_int_equal(ovmf_parse(NULL, 0, NULL), -EINVAL);
	free(img);
}

/* ---------------------------------------------------------------- TDX events */

/* Expected values computed with Python hashlib from the event list of
 * snp-tdx-launch.md §5 (independent of this code). */
static void rtmr_events(void **state)
{
	uint8_t k[48], r[48], lo[48], ih[48];

	ovmf_sha384("kernel", 6, k);
	ovmf_sha384("initrd-bytes", 12, ih);
	assert_int_equal(ovmf_tdx_rtmr1(k, OVMF_EDK2_202411_TO_202505, r), 0);
	hex_eq(r, 48, "9410f3545548cde38974a9a2bb8d3aac339c8cec42de5ca92525072c3cc172878ca4c7197f7d9d1b95dea0ccf80a3b06");
	assert_int_equal(ovmf_tdx_rtmr1(k, OVMF_EDK2_202302_TO_202408, r), 0);
	hex_eq(r, 48, "edc207588a18156a8686be4770c21626237bd11d869e677378de483a65011f6c0f5042ffb3965c7002a0e69a7c511489");
	assert_int_equal(ovmf_tdx_rtmr2("console=ttyS0", ih, OVMF_EDK2_202411_TO_202505, r, lo), 0);
	hex_eq(r, 48, "6bc86de2b89c71ac5deb93cf4ee665fa7b447376ad3ca05371382a23a0a51a26027b550565c28711b1b901ee1806fe1c");
	hex_eq(lo, 48, "1d26f8aff8992fdfc37e88b4fdf4a1a0ebb815a2ce925ea3046b3ba1f24a933e75a163af2af579268c20ca5f476f5386");
	assert_int_equal(ovmf_tdx_rtmr2("console=ttyS0", ih, OVMF_EDK2_202508_PLUS, r, NULL), 0);
	hex_eq(r, 48, "6603b598d22158b8ed634703e01df44d1d766ff82f2163c65350092db8b20204390c1dea15f02a1372cc7dc8c3e6c52a");
	assert_int_equal(ovmf_tdx_rtmr2("console=ttyS0", NULL, OVMF_EDK2_202411_TO_202505, r, NULL), 0);
	hex_eq(r, 48, "36482cf4d077603c0123f112545737a9b4f47ee76b20e1bc943e1ea5a03df893ebc47967930dcac5a72ab07b1122d47a");
	assert_int_equal(ovmf_tdx_rtmr2(NULL, NULL, OVMF_EDK2_202411_TO_202505, r, NULL), 0);
	hex_eq(r, 48, "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(ovmf_tdx_rtmr1(k, (enum ovmf_edk2_era)9, r), -EINVAL);
}

/* A synthetic PE32+ with sections listed out of file order, trailing data
 * and an 8-byte certificate table; expected from a Python model of the spec. */
static void authenticode(void **state)
{
	uint8_t d[0x418], h[48];
	const size_t opt = 0x98, s = opt + 0xf0;

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 13 + 5);
	cvm_put_le32(d + 0x3c, 0x80);
	memcpy(d + 0x80, "PE\0\0", 4);
	cvm_put_le16(d + 0x84, 0x8664);
	cvm_put_le16(d + 0x86, 2);
	cvm_put_le16(d + 0x94, 0xf0);
	cvm_put_le16(d + opt, 0x20b);
	cvm_put_le32(d + opt + 60, 0x200);
	cvm_put_le32(d + opt + 108, 16);
	cvm_put_le32(d + opt + 144, 0x410);
	cvm_put_le32(d + opt + 148, 8);
	cvm_put_le32(d + s + 16, 0x100);
	cvm_put_le32(d + s + 20, 0x300);
	cvm_put_le32(d + s + 56, 0x100);
	cvm_put_le32(d + s + 60, 0x200);
	assert_int_equal(ovmf_authenticode_sha384(d, sizeof(d), h), 0);
	hex_eq(h, 48, "7928e05da77981ca010fbff94b1d095e9ce0992218e1eabff3dd628ba9f2213db4a379f1c54af281c36c20c775cf85d6");
	/* A section past the end, and a certificate larger than the file. */
	cvm_put_le32(d + s + 20, 0x400);
	assert_int_equal(ovmf_authenticode_sha384(d, sizeof(d), h), -EBADMSG);
	cvm_put_le32(d + s + 20, 0x300);
	cvm_put_le32(d + opt + 148, 0x100);
	assert_int_equal(ovmf_authenticode_sha384(d, sizeof(d), h), -EBADMSG);
	memcpy(d + 0x80, "PX", 2);
	assert_int_equal(ovmf_authenticode_sha384(d, sizeof(d), h), -EBADMSG);
}

/* QEMU's setup-header patch (x86_load_linux) on a minimal protocol-2.15 header. */
static void kernel_patch(void **state)
{
	uint8_t *k = calloc(1, 0x1000);

	memcpy(k + 0x202, "HdrS", 4);
	cvm_put_le16(k + 0x206, 0x20f);
	k[0x211] = 0x01;                 /* LOADED_HIGH */
	cvm_put_le16(k + 0x236, 0x40);   /* XLF_CAN_BE_LOADED_ABOVE_4G */
	assert_int_equal(ovmf_q35_below_4g(2ull << 30), 0x80000000ull);
	assert_int_equal(ovmf_q35_below_4g(0xB0000000ull - 0x1000), 0xB0000000ull - 0x1000);
	assert_int_equal(ovmf_q35_below_4g(8ull << 30), 0x80000000ull);
	assert_int_equal(ovmf_tdx_patch_kernel(k, 0x1000, "console=hvc0", 0x80000000ull, true, 0x100000), 0);
	assert_int_equal(k[0x210], 0xb0);
	assert_int_equal(k[0x211], 0x81);
	assert_int_equal(cvm_le16(k + 0x224), 0xfe00);
	assert_int_equal(cvm_le32(k + 0x228), 0x20000);
	/* initrd_max = 0x80000000 - 0x28000 - 1; address rounded down to 4 KiB */
	assert_int_equal(cvm_le32(k + 0x218), (0x80000000u - 0x28000u - 1 - 0x100000u) & ~4095u);
	assert_int_equal(cvm_le32(k + 0x21c), 0x100000);
	assert_int_equal(ovmf_tdx_patch_kernel(k, 0x1000, NULL, 0x80000000ull, true, 0x7fff0000), -E2BIG);
	memcpy(k + 0x202, "HdrX", 4);
	assert_int_equal(ovmf_tdx_patch_kernel(k, 0x1000, NULL, 0x80000000ull, false, 0), -EOPNOTSUPP);
	free(k);
}

static void helpers(void **state)
{
	uint8_t b[3] = { 0xfb, 0xff, 0x00 };
	char s[9], g[37];
	static const uint8_t guid[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
					  0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };

	ovmf_base64(b, 3, s);
	assert_string_equal(s, "+/8A");
	ovmf_base64(b, 1, s);
	assert_string_equal(s, "+w==");
	ovmf_base64(b, 2, s);
	assert_string_equal(s, "+/8=");
	ovmf_guid_format(guid, g);
	assert_string_equal(g, "96b582de-1fb2-45f7-baea-a366c55a082d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_vectors),
		cmocka_unit_test(upstream_known_answers),
		cmocka_unit_test(trace_steps),
		cmocka_unit_test(table_matches_known),
		cmocka_unit_test(cpu_signatures),
		cmocka_unit_test(malformed),
		cmocka_unit_test(rtmr_events),
		cmocka_unit_test(authenticode),
		cmocka_unit_test(kernel_patch),
		cmocka_unit_test(helpers),
	};
	return cmocka_run_group_tests_name("ovmf", tests, NULL, NULL);
}
