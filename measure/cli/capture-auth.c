/* cvm-measure capture's authenticated path (include/cvmkit/capture-auth.h).
 * Platform values leave this file only after the evidence verified, or
 * labelled "unauthenticated" when the user asked for exactly that. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/capture-auth.h"
#include "cvmkit/cert.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "cvmkit/refvalues.h"
#include "cli.h"

int cli_parse_capture_nonce(const char *arg, void *auth)
{
	struct cli_capture_auth *o = auth;
	size_t n = strlen(arg);

	if (n % 2 || n / 2 < CVM_CAPTURE_NONCE_MIN || n / 2 > CVM_CAPTURE_NONCE_MAX ||
	    cvm_hex_decode(arg, n, o->nonce, n / 2) < 0)
		return -EINVAL;
	o->nonce_len = n / 2;
	return 0;
}

/* A PEM file as a C string (cvm_read_file NUL-terminates). */
static int read_opt(const char *path, size_t max, uint8_t **buf, size_t *len, const char *what)
{
	int r;

	if (!path)
		return EXIT_OK;
	r = cvm_read_file(path, max, buf, len);
	if (r < 0)
		return fatal(EXIT_DATA, "unable to read %s %s: %s", what, path, strerror(-r));
	return EXIT_OK;
}

/* Verifies PATH's evidence (or, with --unauthenticated, nothing) and adds
 * its SHA-256 PCRs to s; the platform value, when the evidence carries one,
 * lands in *ret (measurement or mrtd, have_* set).  Returns an exit code,
 * after printing why when not EXIT_OK. */
static int collect(const char *path, const bool *sel, const struct cli_capture_auth *o, struct cvm_rv_set *s,
		   struct cli_capture_platform *ret)
{
	struct cvm_capture cap = { 0 };
	struct cvm_capture_evidence ev = { 0 };
	struct cvm_capture_auth_result *res = calloc(1, sizeof(*res));
	uint8_t *buf = NULL, *vcek = NULL, *amd = NULL, *intel = NULL;
	size_t len = 0, vcek_len = 0, n;
	const uint8_t *meas = NULL, *mrtd = NULL;
	int r, code;

	if (!res) {
		code = fatal(EXIT_DATA, "unable to capture: %s", strerror(ENOMEM));
		goto out;
	}
	if (o->unauthenticated && (o->nonce_len || o->vcek || o->amd_root || o->intel_root)) {
		code = usage_error("unable to capture: --unauthenticated verifies nothing, so --nonce, --vcek, --amd-root "
				   "and --intel-root make no sense with it");
		goto out;
	}
	if (!o->unauthenticated && !o->nonce_len) {
		code = usage_error("unable to capture: give --nonce HEX (the nonce of the deployment), or "
				   "--unauthenticated for values nobody vouches for");
		goto out;
	}
	r = cvm_read_file(path, CVM_CAPTURE_MAX_INPUT, &buf, &len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(-r));
		goto out;
	}
	r = cvm_capture_parse(buf, len, &cap);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to parse %s: %s", path,
			     r == -EBADMSG ? "no CVMKIT-MEASURED-BOOT line and not \"N: hex\" lines (or malformed)"
					   : strerror(-r));
		goto out;
	}
	r = cvm_capture_evidence_parse(buf, len, &ev);
	if (r == -ENOMEM) {
		code = fatal(EXIT_DATA, "unable to capture: %s", strerror(-r));
		goto out;
	}
	if (!o->unauthenticated) {
		if (r < 0 && r != -ENOENT) {
			code = fatal(EXIT_MISMATCH, "unable to authenticate %s: check evidence failed: the evidence lines "
				     "after the CVMKIT-MEASURED-BOOT line are damaged or incomplete (%s)", path, strerror(-r));
			goto out;
		}
		if ((code = read_opt(o->vcek, 64u << 10, &vcek, &vcek_len, "the VCEK")) ||
		    (code = read_opt(o->amd_root, 1u << 20, &amd, &n, "the AMD root bundle")) ||
		    (code = read_opt(o->intel_root, 1u << 20, &intel, &n, "the Intel root")))
			goto out;
		if (vcek) { /* PEM or DER: the verifier takes DER */
			uint8_t *der = NULL;
			size_t der_len = 0;

			r = cvm_cert_der(vcek, vcek_len, &der, &der_len);
			free(vcek);
			vcek = der;
			vcek_len = der_len;
			if (r < 0) {
				code = fatal(EXIT_DATA, "unable to read the VCEK %s: not a PEM or DER certificate", o->vcek);
				goto out;
			}
		}
		struct cvm_capture_auth_opts ao = { .nonce = o->nonce, .nonce_len = o->nonce_len, .vcek_der = vcek,
						    .vcek_len = vcek_len, .amd_root_pem = (const char *)amd,
						    .intel_root_pem = (const char *)intel };
		r = cvm_capture_authenticate(&cap, r == 0 ? &ev : &(struct cvm_capture_evidence){ 0 }, &ao, res);
		if (r == -EKEYREJECTED) {
			code = fatal(EXIT_MISMATCH, "unable to authenticate %s: check %s failed: %s", path, res->check,
				     res->detail);
			goto out;
		}
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to authenticate %s: %s", path, strerror(-r));
			goto out;
		}
		meas = res->have_measurement ? res->measurement : NULL;
		mrtd = res->have_mrtd ? res->mrtd : NULL;
		fprintf(stderr, PROG ": capture: %s evidence verified (nonce, AK quote, PCR digest, %s): every value "
			"below is the quoted one\n", cvm_tee_name(res->tee),
			res->tee == CVM_TEE_AZ_SNP_VTPM ? "SNP report and VCEK chain" : "TD quote and PCK chain");
	} else {
		meas = r == 0 && ev.have_measurement ? ev.measurement : NULL;
		mrtd = r == 0 && ev.have_mrtd ? ev.mrtd : NULL;
		fprintf(stderr, PROG ": capture: UNAUTHENTICATED: nothing vouches for these values (the serial console "
			"is the host's); the output says so\n");
	}
	r = cvm_rv_add_capture(s, &cap, sel);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to take reference values from %s: %s", path,
			     r == -EINVAL ? "no SHA-256 PCRs" : "too many distinct values for one PCR");
		goto out;
	}
	if (ret) {
		if ((ret->have_measurement = meas != NULL))
			memcpy(ret->measurement, meas, sizeof(ret->measurement));
		if ((ret->have_mrtd = mrtd != NULL))
			memcpy(ret->mrtd, mrtd, sizeof(ret->mrtd));
	}
	code = EXIT_OK;
out:
	cvm_capture_free(&cap);
	cvm_capture_evidence_free(&ev);
	free(buf);
	free(vcek);
	free(amd);
	free(intel);
	free(res);
	return code;
}

int cli_capture_add(const char *path, const bool *sel, const struct cli_capture_auth *o, struct cvm_rv_set *s)
{
	return collect(path, sel, o, s, NULL);
}

int cli_capture_run(const char *path, const bool *sel, bool rvps, const struct cli_capture_auth *o)
{
	struct cli_capture_platform pf = { 0 };
	struct cvm_rv_set *s = calloc(1, sizeof(*s));
	char *text = NULL;
	int r, code;

	if (!s)
		return fatal(EXIT_DATA, "unable to capture: %s", strerror(ENOMEM));
	code = collect(path, sel, o, s, &pf);
	if (code != EXIT_OK)
		goto out;
	r = cvm_capture_rv_output(s, rvps, pf.have_measurement ? pf.measurement : NULL, pf.have_mrtd ? pf.mrtd : NULL,
				  o->unauthenticated, &text);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print reference values: %s", r == -ENODATA ? "no PCR selected" : strerror(-r));
		goto out;
	}
	fputs(text, stdout);
	putchar('\n');
out:
	free(text);
	free(s);
	return code;
}
