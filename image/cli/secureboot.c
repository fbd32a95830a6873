/* [secureboot]: the signing key and certificate, Authenticode signatures
 * (the UKI at build time, any PE with `cvm-image sign`), and the Azure
 * uefiSettings fragment that enrolls the certificate. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/config.h"
#include "cvmkit/fileio.h"
#include "cvmkit/sbimage.h"
#include "cvmkit/sign.h"

#include "cli.h"

/* [secureboot] is consistent; checked before anything is built.  Returns 0,
 * 1 (signing wanted) or an exit code > 1 after printing why. */
int secureboot_check(const struct cvm_conf *c)
{
	const char *key = cvm_conf_get(c, "secureboot.key"), *cert = cvm_conf_get(c, "secureboot.cert"), *db[1];

	if (!cvm_sb_azure_template_ok(cvm_conf_get(c, "secureboot.azure_template")))
		return fail(2, "use [secureboot] azure_template '%s': expected MicrosoftUefiCertificateAuthorityTemplate, "
			       "MicrosoftWindowsTemplate or NoSignatureTemplate", cvm_conf_get(c, "secureboot.azure_template"));
	if (!key != !cert)
		return fail(2, "sign: [secureboot] key and cert go together");
	if (!key && (cvm_conf_get(c, "secureboot.key_pass_file") || cvm_conf_get_all(c, "secureboot.db", db, 1)))
		return fail(2, "use [secureboot] key_pass_file or db: they need [secureboot] key and cert");
	return key ? 1 : 0;
}

/* [secureboot] db's certificates as DER (malloc'd, the caller frees each).
 * Returns 0 or fail()'s exit code. */
static int load_db(const char *const *dbs, size_t n, uint8_t **ders, size_t *lens)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *pem;
		size_t pl;
		int r = cvm_read_file(dbs[i], CVM_SIGN_MAX_PEM, &pem, &pl);

		if (r == 0) {
			r = cvm_cert_der(pem, pl, &ders[i], &lens[i]);
			free(pem);
		}
		if (r < 0)
			return fail(2, "load [secureboot] db %s: %s", dbs[i],
				    r == -EBADMSG ? "not a PEM or DER certificate" : strerror(-r));
	}
	return 0;
}

/* A db that authorises nothing this build signs would give an image Secure
 * Boot refuses to start: found before anything is built, not at the CVM's
 * first boot. */
static int db_authorises(const struct cvm_conf *c, const struct cvm_signer *s)
{
	const char *dbs[16];
	size_t n = cvm_conf_get_all(c, "secureboot.db", dbs, 16), lens[16] = { 0 };
	uint8_t *ders[16] = { 0 };
	int ok = 0, code;

	if (n > 16)
		return fail(2, "use [secureboot] db: at most 16 certificates");
	code = load_db(dbs, n, ders, lens);
	for (size_t i = 0; !code && i < n && ok == 0; i++)
		ok = cvm_signer_authorised_by(s, ders[i], lens[i]);
	if (!code && ok < 0)
		code = fail(2, "load [secureboot] db: not a certificate mbedtls can read");
	else if (!code && n > 0 && !ok)
		code = fail(2, "use [secureboot] db: none of its certificates is [secureboot] cert or the one that issued "
			       "it, so Secure Boot would refuse the signed UKI");
	for (size_t i = 0; i < n; i++)
		free(ders[i]);
	return code;
}

int secureboot_signer(const struct cvm_conf *c, struct cvm_signer **ret)
{
	const char *what = "key";
	int r = cvm_sb_load_signer(cvm_conf_get(c, "secureboot.key"), cvm_conf_get(c, "secureboot.cert"),
				   cvm_conf_get(c, "secureboot.key_pass_file"), ret, &what);

	if (r == -EACCES)
		return fail(2, "decrypt [secureboot] key %s: passphrase missing or wrong (key_pass_file or $%s)",
			    cvm_conf_get(c, "secureboot.key"), CVM_SB_PASS_ENV);
	if (r == -EKEYREJECTED)
		return fail(2, "sign: [secureboot] key does not belong to [secureboot] cert");
	if (r < 0)
		return fail(2, "load [secureboot] %s %s: %s", what, cvm_conf_get(c, strcmp(what, "key") ? (strcmp(what, "cert") ?
			    "secureboot.key_pass_file" : "secureboot.cert") : "secureboot.key"),
			    r == -EBADMSG ? "not a PEM key or certificate mbedtls can read" : strerror(-r));
	r = db_authorises(c, *ret);
	if (r) {
		cvm_signer_free(*ret);
		*ret = NULL;
	}
	return r;
}

/* The Azure uefiSettings fragment for [secureboot] db (default: the signing cert). */
int secureboot_azure(const struct cvm_conf *c, struct cvm_signer *s, const char *out)
{
	const char *dbs[16], *tmpl = cvm_conf_get(c, "secureboot.azure_template");
	size_t n = cvm_conf_get_all(c, "secureboot.db", dbs, 16), lens[16] = { 0 };
	uint8_t *ders[16] = { 0 };
	char path[PATH_MAX], *json = NULL;
	int r = 0, code;

	if (n > 16)
		return fail(2, "use [secureboot] db: at most 16 certificates");
	code = load_db(dbs, n, ders, lens);
	if (!code && n == 0) {
		const uint8_t *d = cvm_signer_cert(s, &lens[0]);
		ders[0] = malloc(lens[0]);
		if (ders[0])
			memcpy(ders[0], d, lens[0]);
		n = 1;
	}
	if (!code) {
		r = cvm_sb_azure_uefi_settings(tmpl, (const uint8_t *const *)ders, lens, n, &json);
		if (r == 0) {
			snprintf(path, sizeof(path), "%s/azure-uefi-settings.json", out);
			r = cvm_write_file_atomic(path, json, strlen(json), 0644);
		}
		if (r < 0)
			code = fail(1, "write %s/azure-uefi-settings.json: %s", out, strerror(-r));
	}
	for (size_t i = 0; i < n && i < 16; i++)
		free(ders[i]);
	free(json);
	return code;
}

/* Signs *uki in place (the buffer is replaced). */
int secureboot_sign(struct cvm_signer *s, uint8_t **uki, size_t *len)
{
	uint8_t *signed_uki = NULL;
	size_t slen = 0;
	int r = cvm_sign_pe(s, *uki, *len, &signed_uki, &slen);

	if (r < 0)
		return fail(1, "sign the UKI: %s", r == -EEXIST ? "it is already signed" : strerror(-r));
	free(*uki);
	*uki = signed_uki;
	*len = slen;
	return 0;
}

int cmd_sign(struct args *a, struct cvm_conf *c)
{
	struct cvm_signer *s = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int code = secureboot_check(c), r;

	if (code > 1)
		return code;
	if (code == 0)
		return fail(2, "sign: set [secureboot] key and cert (--secureboot-key, --secureboot-cert)");
	if (!a->in || !a->out_set)
		return fail(2, "sign: --in PE and --out FILE are required");
	code = secureboot_signer(c, &s);
	if (code)
		return code;
	r = cvm_read_file(a->in, IMG_MAX_INPUT, &buf, &len);
	if (r < 0)
		code = fail(1, "read %s: %s", a->in, strerror(-r));
	if (!code)
		code = secureboot_sign(s, &buf, &len);
	if (!code) {
		r = cvm_write_file_atomic(a->out, buf, len, 0644);
		if (r < 0)
			code = fail(1, "write %s: %s", a->out, strerror(-r));
	}
	free(buf);
	cvm_signer_free(s);
	return code;
}
