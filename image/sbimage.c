/* [secureboot] helpers for cvm-image; see include/cvmkit/sbimage.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "cvmkit/fileio.h"
#include "cvmkit/sbimage.h"

#define MAX_PASS 1024

static const char *const azure_templates[] = {
	"MicrosoftUefiCertificateAuthorityTemplate",
	"MicrosoftWindowsTemplate",
	"NoSignatureTemplate",
};

int cvm_sb_azure_template_ok(const char *name)
{
	for (size_t i = 0; i < sizeof(azure_templates) / sizeof(azure_templates[0]); i++)
		if (!strcmp(name, azure_templates[i]))
			return 1;
	return 0;
}

int cvm_sb_load_signer(const char *key, const char *cert, const char *pass_file, struct cvm_signer **ret,
		       const char **ret_what)
{
	uint8_t *k = NULL, *c = NULL, *pf = NULL;
	size_t klen = 0, clen = 0, pflen = 0;
	char pass[MAX_PASS + 1];
	const char *what = "key", *env;
	bool have_pass = false;
	int r;

	r = cvm_read_file(key, CVM_SIGN_MAX_PEM, &k, &klen);
	if (r < 0)
		goto out;
	what = "cert";
	r = cvm_read_file(cert, CVM_SIGN_MAX_PEM, &c, &clen);
	if (r < 0)
		goto out;
	if (pass_file) {
		size_t n = 0;

		what = "key_pass_file";
		r = cvm_read_file(pass_file, MAX_PASS, &pf, &pflen);
		if (r < 0)
			goto out;
		while (n < pflen && pf[n] != '\n' && pf[n] != '\r' && pf[n])
			n++;
		memcpy(pass, pf, n);
		pass[n] = 0;
		have_pass = true;
	} else if ((env = getenv(CVM_SB_PASS_ENV)) && strlen(env) <= MAX_PASS) {
		strcpy(pass, env);
		have_pass = true;
	}
	what = "key";
	r = cvm_signer_from_pem(k, klen, have_pass ? pass : NULL, c, clen, ret);
out:
	if (r < 0)
		*ret_what = what;
	explicit_bzero(pass, sizeof(pass));
	if (pf) {
		explicit_bzero(pf, pflen);
		free(pf);
	}
	if (k) {
		explicit_bzero(k, klen);
		free(k);
	}
	free(c);
	return r;
}

int cvm_sb_azure_uefi_settings(const char *tmpl, const uint8_t *const der[], const size_t der_len[], size_t n,
			       char **ret_json)
{
	static const char head[] = "{\n  \"securityProfile\": {\n    \"uefiSettings\": {\n"
				   "      \"signatureTemplateNames\": [\"%s\"],\n"
				   "      \"additionalSignatures\": {\n        \"db\": [{\"type\": \"x509\", \"value\": [";
	static const char tail[] = "]}]\n      }\n    }\n  }\n}\n";
	size_t cap = sizeof(head) + strlen(tmpl) + sizeof(tail) + 1, len;
	char *out;

	if (!cvm_sb_azure_template_ok(tmpl) || n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		cap += 4 * ((der_len[i] + 2) / 3) + 8;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;
	len = (size_t)snprintf(out, cap, head, tmpl);
	for (size_t i = 0; i < n; i++) {
		size_t w = 0;

		len += (size_t)snprintf(out + len, cap - len, "%s\"", i ? ", " : "");
		if (mbedtls_base64_encode((unsigned char *)out + len, cap - len, &w, der[i], der_len[i]) != 0) {
			free(out);
			return -ENOMEM;
		}
		len += w;
		out[len++] = '"';
	}
	snprintf(out + len, cap - len, "%s", tail);
	*ret_json = out;
	return 0;
}
