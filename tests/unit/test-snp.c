/* attest/snp: SEV-SNP report parsing, report signature, VCEK chain and
 * extensions, against Trustee's vectors (expected values from
 * vectors/trustee/expected.json and SOURCES.md). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mbedtls/x509_crt.h>

#include "cvmkit/snp.h"
#include "../../verify/x509.h"
#include "testutil.h"

/* A TCB_VERSION compared as its 8 bytes in report (little-endian) order. */
static void assert_tcb(uint64_t tcb, const char *want)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(tcb >> (8 * i));
	tu_assert_hex(b, 8, want);
}

/* The i-th certificate of a PEM file as DER (malloc'd copy). */
static uint8_t *pem_cert(const char *sub, int idx, size_t *ret_len)
{
	mbedtls_x509_crt crt;
	const mbedtls_x509_crt *c;
	size_t len;
	uint8_t *pem = tu_vector_file(sub, &len), *der;

	mbedtls_x509_crt_init(&crt);
	assert_int_equal(mbedtls_x509_crt_parse(&crt, pem, len + 1), 0);
	c = &crt;
	for (int i = 0; i < idx; i++) {
		c = c->next;
		assert_non_null(c);
	}
	der = malloc(c->raw.len);
	assert_non_null(der);
	memcpy(der, c->raw.p, c->raw.len);
	*ret_len = c->raw.len;
	mbedtls_x509_crt_free(&crt);
	free(pem);
	return der;
}

static void plain_report(void **state)
{
	struct cvm_snp_report r;
	struct cvm_snp_tcb t;
	enum cvm_amd_gen gen;
	size_t len, vlen;
	uint8_t *buf = tu_vector_file("trustee/snp/test-report.bin", &len);
	uint8_t *vcek = tu_vector_file("trustee/snp/test-vcek.der", &vlen);

	assert_int_equal(len, 1184);
	assert_int_equal(cvm_snp_report_parse(buf, len, &r), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.guest_svn, 4);
	assert_int_equal(r.policy, 0x3001f);
	assert_int_equal(r.vmpl, 0);
	assert_int_equal(r.sig_algo, 1);
	assert_tcb(r.current_tcb, "03000000000008ce");
	assert_int_equal(r.platform_info, 1);
	assert_tcb(r.reported_tcb, "0300000000000873");
	assert_false(r.has_cpuid);
	tu_assert_hex(r.report_data, 64, "ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e71ed08c14400ad7e2"
				      "0000000000000000000000000000000000000000000000000000000000000000");
	tu_assert_hex(r.measurement, 48, "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c"
				      "23500644e0e692e6be917f9050d3d38c");
	tu_assert_hex(r.host_data, 32, "0000000000000000000000000000000000000000000000000000000000000000");
	tu_assert_hex(r.id_key_digest, 48, "0356215882a825279a85b300b0b742931d113bf7e32dde2e50ffde7ec743ca49"
					"1ecdd7f336dc28a6e0b2bb57af7a44a3");
	tu_assert_hex(r.chip_id, 64, "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f"
				  "8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e");
	/* The vector's TCB hex lists the bytes in report order: bl 3, tee 0,
	 * snp 8, microcode 0x73, matching the VCEK's SPL extensions. */
	cvm_snp_tcb_decode(r.reported_tcb, CVM_AMD_GEN_MILAN, &t);
	assert_int_equal(t.bootloader, 3);
	assert_int_equal(t.tee, 0);
	assert_int_equal(t.snp, 8);
	assert_int_equal(t.microcode, 0x73);
	assert_int_equal(cvm_snp_report_generation(&r, &gen), -ENODATA);

	assert_int_equal(cvm_snp_report_verify(&r, vcek, vlen), 0);
	assert_int_equal(cvm_amd_verify_vcek_chain(vcek, vlen, CVM_AMD_GEN_MILAN, NULL), 0);
	{
		const char *step = NULL;
		assert_int_equal(cvm_amd_verify_vcek_chain(vcek, vlen, CVM_AMD_GEN_GENOA, &step), -EKEYREJECTED);
		assert_string_equal(step, "vcek-signed-by-ask");
	}
	/* A caller-supplied bundle (--amd-root) goes through the same links. */
	{
		const char *step = NULL, *milan = cvm_amd_builtin_pem(CVM_AMD_GEN_MILAN), *from_ark, *last;

		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, milan, NULL), 0);
		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, cvm_amd_builtin_pem(CVM_AMD_GEN_GENOA), &step),
				 -EKEYREJECTED);
		assert_string_equal(step, "vcek-signed-by-ask");
		/* ARK, ASVK: the ASVK in the ARK's place is not self-signed. */
		from_ark = strstr(milan + 1, "-----BEGIN CERTIFICATE-----");
		assert_non_null(from_ark);
		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, from_ark, &step), -EKEYREJECTED);
		assert_string_equal(step, "ark-self-signature");
		/* One certificate, no certificate, no bundle: -EINVAL. */
		for (last = from_ark; strstr(last + 1, "-----BEGIN CERTIFICATE-----");)
			last = strstr(last + 1, "-----BEGIN CERTIFICATE-----");
		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, last, NULL), -EINVAL);
		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, "junk", NULL), -EINVAL);
		assert_int_equal(cvm_amd_verify_vcek_chain_pem(vcek, vlen, NULL, NULL), -EINVAL);
		assert_int_equal(cvm_amd_verify_vcek_chain_pem((const uint8_t *)"junk", 4, milan, NULL), -EBADMSG);
	}

	/* Any flipped signed byte, or a flipped signature byte, fails. */
	for (size_t off = 0; off < 0x2A0 + 144; off += 0x53) {
		struct cvm_snp_report t2;
		buf[off] ^= 0x01;
		if (cvm_snp_report_parse(buf, len, &t2) == 0) {
			int rv = cvm_snp_report_verify(&t2, vcek, vlen);
			assert_true(rv == -EKEYREJECTED || rv == -EOPNOTSUPP);
		}
		buf[off] ^= 0x01;
	}
	buf[0x2A0] ^= 0x80;
	assert_int_equal(cvm_snp_report_parse(buf, len, &r), 0);
	assert_int_equal(cvm_snp_report_verify(&r, vcek, vlen), -EKEYREJECTED);
	buf[0x2A0] ^= 0x80;

	/* A flipped byte inside the VCEK's signature breaks the chain. */
	vcek[vlen - 10] ^= 0x01;
	{
		const char *step = NULL;
		assert_int_equal(cvm_amd_verify_vcek_chain(vcek, vlen, CVM_AMD_GEN_MILAN, &step), -EKEYREJECTED);
		assert_string_equal(step, "vcek-signed-by-ask");
	}
	vcek[vlen - 10] ^= 0x01;
	assert_int_equal(cvm_snp_report_verify(&r, vcek, 20), -EBADMSG);
	free(buf);
	free(vcek);
}

static void malformed(void **state)
{
	uint8_t buf[CVM_SNP_REPORT_SIZE];
	struct cvm_snp_report r;
	enum cvm_amd_gen gen;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(cvm_snp_report_parse(buf, sizeof(buf) - 1, &r), -EBADMSG);
	assert_int_equal(cvm_snp_report_parse(NULL, 0, &r), -EBADMSG);
	buf[0] = 1;
	assert_int_equal(cvm_snp_report_parse(buf, sizeof(buf), &r), -EPROTONOSUPPORT);
	buf[0] = 3;
	buf[0x34] = 2; /* sig_algo */
	buf[0x188] = 0x19;
	buf[0x189] = 0xAF;
	assert_int_equal(cvm_snp_report_parse(buf, sizeof(buf), &r), 0);
	assert_int_equal(cvm_snp_report_verify(&r, (const uint8_t *)"x", 1), -EOPNOTSUPP);
	/* Generation ranges exactly as Trustee draws them. */
	assert_int_equal(cvm_snp_report_generation(&r, &gen), -EOPNOTSUPP);
	r.cpuid_mod_id = 0xAE;
	assert_int_equal(cvm_snp_report_generation(&r, &gen), 0);
	assert_int_equal(gen, CVM_AMD_GEN_GENOA);
	r.cpuid_mod_id = 0x0F;
	assert_int_equal(cvm_snp_report_generation(&r, &gen), 0);
	assert_int_equal(gen, CVM_AMD_GEN_MILAN);
	r.cpuid_mod_id = 0x10;
	assert_int_equal(cvm_snp_report_generation(&r, &gen), 0);
	assert_int_equal(gen, CVM_AMD_GEN_GENOA);
	r.cpuid_fam_id = 0x1A;
	r.cpuid_mod_id = 0x11;
	assert_int_equal(cvm_snp_report_generation(&r, &gen), 0);
	assert_int_equal(gen, CVM_AMD_GEN_TURIN);
	r.cpuid_mod_id = 0x12;
	assert_int_equal(cvm_snp_report_generation(&r, &gen), -EOPNOTSUPP);
	assert_int_equal(cvm_amd_verify_vcek_chain((const uint8_t *)"junk", 4, CVM_AMD_GEN_MILAN, NULL), -EBADMSG);
	assert_int_equal(cvm_amd_verify_vcek_chain((const uint8_t *)"junk", 4, CVM_AMD_GEN_UNKNOWN, NULL), -EINVAL);
	{
		struct cvm_vcek_info vi;
		assert_int_equal(cvm_vcek_parse((const uint8_t *)"junk", 4, &vi), -EBADMSG);
	}
}

/* Turin moves the SPL bytes (snp-tdx-launch / SEV-SNP ABI 1.57 TCB_VERSION). */
static void tcb_layouts(void **state)
{
	struct cvm_snp_tcb t;

	cvm_snp_tcb_decode(0xDB18000000000004ull, CVM_AMD_GEN_MILAN, &t);
	assert_int_equal(t.bootloader, 4);
	assert_int_equal(t.tee, 0);
	assert_int_equal(t.snp, 24);
	assert_int_equal(t.microcode, 219);
	cvm_snp_tcb_decode(0x4800000003020105ull, CVM_AMD_GEN_TURIN, &t);
	assert_int_equal(t.fmc, 5);
	assert_int_equal(t.bootloader, 1);
	assert_int_equal(t.tee, 2);
	assert_int_equal(t.snp, 3);
	assert_int_equal(t.microcode, 0x48);
}

/* HCL-embedded report (offset 32 of the HCL report) and the VCEK in vcek.pem. */
static void azure_report_and_vcek(void **state)
{
	struct cvm_snp_report r;
	struct cvm_vcek_info vi;
	size_t len, vlen;
	uint8_t *hcl = tu_vector_file("trustee/az-snp-vtpm/hcl-report.bin", &len);
	uint8_t *vcek = pem_cert("trustee/az-snp-vtpm/vcek.pem", 0, &vlen);

	assert_int_equal(cvm_snp_report_parse(hcl + 32, len - 32, &r), 0);
	assert_int_equal(r.version, 2);
	assert_int_equal(r.guest_svn, 5);
	assert_tcb(r.current_tcb, "03000000000008d2");
	tu_assert_hex(r.measurement, 48, "9ac48fcac8a2d88aeeff8d427ad4f2be0e3917c748a18bdf52cc317e7fe20308"
				      "b459d5ef1a12e0c22944eb386d17c315");
	assert_int_equal(cvm_snp_report_verify(&r, vcek, vlen), 0);
	assert_int_equal(cvm_amd_verify_vcek_chain(vcek, vlen, CVM_AMD_GEN_MILAN, NULL), 0);
	assert_int_equal(cvm_vcek_parse(vcek, vlen, &vi), 0);
	assert_string_equal(vi.cn, "SEV-VCEK");
	assert_int_equal(vi.bl_spl, 3);
	assert_int_equal(vi.tee_spl, 0);
	assert_int_equal(vi.snp_spl, 8);
	assert_int_equal(vi.ucode_spl, 115);
	assert_int_equal(vi.fmc_spl, -1);
	assert_true(vi.has_hwid);
	assert_memory_equal(vi.hwid, r.chip_id, 64);
	free(vcek);

	/* azure-cvm-tooling's VCEK chains to Milan but did not sign its report. */
	vcek = pem_cert("trustee/azure-cvm-tooling/certs.pem", 0, &vlen);
	free(hcl);
	hcl = tu_vector_file("trustee/azure-cvm-tooling/hcl-report-snp.bin", &len);
	assert_int_equal(cvm_snp_report_parse(hcl + 32, len - 32, &r), 0);
	assert_int_equal(cvm_amd_verify_vcek_chain(vcek, vlen, CVM_AMD_GEN_MILAN, NULL), 0);
	assert_int_equal(cvm_snp_report_verify(&r, vcek, vlen), -EKEYREJECTED);
	free(vcek);
	free(hcl);
}

/* The compiled-in bundles are AMD's, byte for byte as Trustee ships them,
 * and each chains: ARK self-signed, ASK and ASVK signed by the ARK. */
static void builtin_roots(void **state)
{
	static const struct {
		enum cvm_amd_gen gen;
		const char *file, *cn[3];
	} g[] = {
		{ CVM_AMD_GEN_MILAN, "trustee/amd-certs/milan_ask_ark_asvk.pem", { "SEV-Milan", "ARK-Milan", "SEV-VLEK-Milan" } },
		{ CVM_AMD_GEN_GENOA, "trustee/amd-certs/genoa_ask_ark_asvk.pem", { "SEV-Genoa", "ARK-Genoa", "SEV-VLEK-Genoa" } },
		{ CVM_AMD_GEN_TURIN, "trustee/amd-certs/turin_ask_ark_asvk.pem", { "SEV-Turin", "ARK-Turin", "SEV-VLEK-Turin" } },
	};

	for (size_t i = 0; i < 3; i++) {
		mbedtls_x509_crt crt;
		const mbedtls_x509_crt *c[3];
		const char *pem = cvm_amd_builtin_pem(g[i].gen);
		size_t len;
		uint8_t *file = tu_vector_file(g[i].file, &len);
		char cn[32];

		assert_non_null(pem);
		assert_int_equal(strlen(pem), len);
		assert_memory_equal(pem, file, len);
		free(file);
		mbedtls_x509_crt_init(&crt);
		assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
		c[0] = &crt;
		c[1] = crt.next;
		c[2] = c[1]->next;
		assert_non_null(c[2]);
		for (int k = 0; k < 3; k++) {
			assert_int_equal(cvm_x509_subject_cn(c[k], cn, sizeof(cn)), 0);
			assert_string_equal(cn, g[i].cn[k]);
		}
		assert_int_equal(cvm_x509_signed_by(c[1], c[1]), 0);
		assert_int_equal(cvm_x509_signed_by(c[0], c[1]), 0);
		assert_int_equal(cvm_x509_signed_by(c[2], c[1]), 0);
		assert_int_equal(cvm_x509_signed_by(c[1], c[0]), -EKEYREJECTED);
		mbedtls_x509_crt_free(&crt);
	}
	assert_null(cvm_amd_builtin_pem(CVM_AMD_GEN_UNKNOWN));
	assert_string_equal(cvm_amd_gen_name(CVM_AMD_GEN_TURIN), "Turin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_report),
		cmocka_unit_test(malformed),
		cmocka_unit_test(tcb_layouts),
		cmocka_unit_test(azure_report_and_vcek),
		cmocka_unit_test(builtin_roots),
	};
	return cmocka_run_group_tests_name("snp", tests, NULL, NULL);
}
