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
	ovmf_hex(d, n, h);
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
	assert_int_equal(ovmf_hash_file(p, 256, h->kernel, NULL), 0);
	free(p);
	if (i) {
		p = vpath(i);
		assert_int_equal(ovmf_hash_file(p, 256, h->initrd, NULL), 0);
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
			ovmf_hex(fw + img.entries[i].data_offset, img.entries[i].data_len, hex);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_vectors),
	};
	return cmocka_run_group_tests_name("ovmf", tests, NULL, NULL);
}
