/* measure/sbvars.c: Secure Boot variables from Debian's OVMF varstores, from
 * the Azure templates in ../shared/vectors/azure-uefi, and the db authority.
 * Expected values: the snakeoil certificate as openssl writes it in DER, the
 * EFI_SIGNATURE_LIST layout of the UEFI specification, and the entry counts
 * of the templates (vectors/azure-uefi/SOURCES.md). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cvmkit/bytes.h"
#include "cvmkit/sbvars.h"
#include "testutil.h"

#define SNAKEOIL_VARS "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
#define FRESH_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define SNAKEOIL_CERT "/usr/share/ovmf/PkKek-1-snakeoil.pem"

static const uint8_t X509_GUID[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
				       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t MS_OWNER[16] = { 0xbd, 0x9a, 0xfa, 0x77, 0x59, 0x03, 0x32, 0x4d,
				      0xbd, 0x60, 0x28, 0xf4, 0xe7, 0x8f, 0x78, 0x4b };

/* Host files of Debian's ovmf package: a failure under CI, a skip elsewhere. */
static uint8_t *host_file(const char *path, size_t *len)
{
	const char *ci = getenv("CI");

	if (access(path, R_OK) != 0) {
		if (ci && !strcmp(ci, "true"))
			fail_msg("%s is missing (Debian ovmf, required under CI=true)", path);
		print_message("SKIP: %s is absent\n", path);
		skip();
	}
	return tu_read(path, len);
}

/* Number of signature lists in a variable, checking each list's bounds. */
static size_t count_lists(const uint8_t *d, size_t len)
{
	size_t n = 0;

	for (size_t off = 0; off < len; n++) {
		assert_true(len - off >= 28);
		assert_true(cvm_le32(d + off + 16) <= len - off);
		off += cvm_le32(d + off + 16);
	}
	return n;
}

static void snakeoil_varstore(void **state)
{
	struct cvm_sbvars v;
	uint8_t *fd, *der;
	size_t fdlen, derlen;
	char *dir = NULL, cmd[512], path[300];

	(void)state;
	fd = host_file(SNAKEOIL_VARS, &fdlen);
	(void)host_file(SNAKEOIL_CERT, &derlen);
	dir = tu_mkdtemp();
	snprintf(path, sizeof(path), "%s/cert.der", dir);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -outform DER -out %s", SNAKEOIL_CERT, path);
	assert_int_equal(system(cmd), 0);
	der = tu_read(path, &derlen);

	cvm_sbvars_init(&v);
	assert_int_equal(cvm_sbvars_from_varstore(fd, fdlen, &v), 0);
	assert_int_equal(v.secure_boot, 1);
	assert_false(v.inferred);
	for (int i = CVM_SBVAR_PK; i <= CVM_SBVAR_DB; i++) {
		/* One X509 list: header, owner, then the certificate itself. */
		assert_true(v.present[i]);
		assert_int_equal(v.len[i], 28 + 16 + derlen);
		assert_memory_equal(v.data[i], X509_GUID, 16);
		assert_memory_equal(v.data[i] + 44, der, derlen);
	}
	assert_true(v.present[CVM_SBVAR_DBX]);
	assert_false(v.present[CVM_SBVAR_DBT]);
	cvm_sbvars_free(&v);

	/* A one-byte change in the firmware-volume signature is refused. */
	fd[40] ^= 1;
	assert_int_equal(cvm_sbvars_from_varstore(fd, fdlen, &v), -EBADMSG);
	free(fd);
	free(der);
	tu_rmtree(dir);
	free(dir);
}

static void fresh_varstore(void **state)
{
	struct cvm_sbvars v;
	size_t len;
	uint8_t *fd = host_file(FRESH_VARS, &len);

	(void)state;
	cvm_sbvars_init(&v);
	assert_int_equal(cvm_sbvars_from_varstore(fd, len, &v), 0);
	assert_int_equal(v.secure_boot, 0);
	for (int i = 0; i < CVM_SBVAR_COUNT; i++)
		assert_int_equal(v.len[i], 0);
	cvm_sbvars_free(&v);
	/* Truncated inside the store: the header's length no longer fits. */
	assert_int_equal(cvm_sbvars_from_varstore(fd, 4096, &v), -EBADMSG);
	free(fd);
}

static void azure_template(void **state)
{
	struct cvm_sbvars v;
	size_t len;
	uint8_t *js;

	(void)state;
	js = tu_vector_file("azure-uefi/MicrosoftUEFI_Template.json", &len);
	cvm_sbvars_init(&v);
	assert_int_equal(cvm_sbvars_from_azure_json(js, len, &v), 0);
	assert_true(v.inferred);
	assert_int_equal(v.secure_boot, -1);
	/* SOURCES.md: PK 1 x509, KEK 2 x509, db 3 x509, dbx 431 sha256.  The
	 * Hyper-V firmware gives every certificate its own list and one list to
	 * a sha256 group. */
	assert_int_equal(count_lists(v.data[CVM_SBVAR_PK], v.len[CVM_SBVAR_PK]), 1);
	assert_int_equal(count_lists(v.data[CVM_SBVAR_KEK], v.len[CVM_SBVAR_KEK]), 2);
	assert_int_equal(count_lists(v.data[CVM_SBVAR_DB], v.len[CVM_SBVAR_DB]), 3);
	assert_int_equal(count_lists(v.data[CVM_SBVAR_DBX], v.len[CVM_SBVAR_DBX]), 1);
	assert_int_equal(v.len[CVM_SBVAR_DBX], 28 + 431 * 48);
	assert_memory_equal(v.data[CVM_SBVAR_DB] + 28, MS_OWNER, 16);
	assert_false(v.present[CVM_SBVAR_DBT]);
	/* The user's certificate appended as additionalSignatures.db does. */
	{
		size_t before = v.len[CVM_SBVAR_DB];
		static const uint8_t fake[3] = { 1, 2, 3 };

		assert_int_equal(cvm_sbvars_db_append_x509(&v, fake, 3), 0);
		assert_int_equal(v.len[CVM_SBVAR_DB], before + 28 + 16 + 3);
		assert_int_equal(count_lists(v.data[CVM_SBVAR_DB], v.len[CVM_SBVAR_DB]), 4);
	}
	cvm_sbvars_free(&v);
	assert_int_equal(cvm_sbvars_from_azure_json((const uint8_t *)"{\"properties\":{}}", 17, &v), -EBADMSG);
	free(js);
}

/* A file of the fuzz corpus, from the checkout's top ($CVMKIT_TOP, else the cwd). */
static uint8_t *corpus(const char *name, size_t *len)
{
	const char *top = getenv("CVMKIT_TOP");
	char path[1024];

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/sbvars/%s", top && *top ? top : ".", name);
	return tu_read(path, len);
}

/* The fuzz corpus's signed minimal PE (openssl cms) with a db of its
 * certificate, and with a db of SHA-256 entries only. */
static void authority(void **state)
{
	struct cvm_sbvars v;
	uint8_t *f, *sig = NULL, auth[32] = { 0 };
	size_t len, slen = 0, dlen;

	(void)state;
	f = corpus("auth-cert", &len);
	dlen = cvm_le16(f + 1);
	cvm_sbvars_init(&v);
	v.data[CVM_SBVAR_DB] = f + 3;
	v.len[CVM_SBVAR_DB] = dlen;
	assert_int_equal(cvm_sbvars_authority(&v, f + 3 + dlen, len - 3 - dlen, auth, &sig, &slen), 0);
	/* The EFI_SIGNATURE_DATA of the list's one entry: owner and certificate. */
	assert_int_equal(slen, dlen - 28);
	assert_memory_equal(sig, f + 3 + 28, slen);
	free(sig);
	free(f);

	f = corpus("auth-hash", &len);
	dlen = cvm_le16(f + 1);
	v.data[CVM_SBVAR_DB] = f + 3;
	v.len[CVM_SBVAR_DB] = dlen;
	/* The first entry is 32 zero bytes: found when the image digest is that. */
	assert_int_equal(cvm_sbvars_authority(&v, f + 3 + dlen, len - 3 - dlen, auth, &sig, &slen), 0);
	assert_int_equal(slen, 48);
	free(sig);
	auth[0] = 0x55;
	assert_int_equal(cvm_sbvars_authority(&v, f + 3 + dlen, len - 3 - dlen, auth, &sig, &slen), -ENOENT);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snakeoil_varstore),
		cmocka_unit_test(fresh_varstore),
		cmocka_unit_test(azure_template),
		cmocka_unit_test(authority),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
