/* cvm-attest: Azure vTPM evidence: collect it from a TPM, verify it offline.
 *
 *   cvm-attest verify --tee az-snp-vtpm|az-tdx-vtpm --evidence FILE
 *                     [--report-data HEX] [--init-data-digest HEX]
 *                     [--reference-values FILE] [--amd-root FILE] [--json]
 *   cvm-attest collect [--tpm SPEC] --report-data HEX (--vcek FILE | --td-quote FILE)
 *                      [--evidence-version 1|2] [--out FILE] [--settle-ms N]
 *                      [--ak HANDLE] [--no-user-data] [--allow-ak-mismatch]
 *                      [--td-report-out FILE]
 *   cvm-attest kbs-get --url URL --ca FILE --tpm SPEC --vcek FILE [options] [PATH...]
 *   cvm-attest tpm-rc CODE...
 *
 * Exit status: 0 verified (and affirming, when reference values are given) or
 * collected, 1 a check failed, a reference value did not match or the TPM
 * refused, 2 usage, 3 I/O. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cvmkit/azure.h"
#include "cvmkit/cert.h"
#include "cvmkit/evidence.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/http.h"
#include "cvmkit/kbs.h"
#include "cvmkit/sealed.h"
#include "cvmkit/tpm2.h"
#include "cvmkit/verify.h"

#define PROG "cvm-attest"

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " verify --tee az-snp-vtpm|az-tdx-vtpm --evidence FILE\n"
		   "                  [--report-data HEX] [--init-data-digest HEX]\n"
		   "                  [--reference-values FILE] [--amd-root FILE] [--intel-root FILE] [--json]\n"
		   "       " PROG " collect [--tpm SPEC] --report-data HEX (--vcek FILE | --td-quote FILE)\n"
		   "                  [--evidence-version 1|2] [--out FILE] [--settle-ms N] [--ak HANDLE]\n"
		   "                  [--no-user-data] [--allow-ak-mismatch] [--td-report-out FILE]\n"
		   "\n"
		   "verify: performs the checks Trustee's verifier performs on the evidence, prints\n"
		   "the claims with Trustee's names and encodings and, given RVPS reference values,\n"
		   "a verdict per claim.  --amd-root FILE replaces AMD's compiled-in roots with a PEM\n"
		   "bundle (ASK then ARK), --intel-root FILE Intel's SGX Root CA with a PEM\n"
		   "certificate: for tests and private roots only.\n"
		   "\n"
		   "collect: gathers az-snp-vtpm / az-tdx-vtpm evidence from an Azure vTPM the way\n"
		   "the guest tooling does (nonce to NV 0x01400002, read the HCL report again until it\n"
		   "carries the nonce, for at most --settle-ms (3000; 0 reads it once, as it is), quote\n"
		   "PCRs 0-23 with the AK 0x81000003, read the PCRs) and prints the\n"
		   "evidence JSON (or writes it to --out).  SPEC: /dev/tpmrm0 (default) or\n"
		   "tcp:HOST:PORT (swtpm's TCP command port).  --vcek: the VCEK from IMDS (DER, PEM\n"
		   "or the THIM JSON body); --td-quote: the TD quote from IMDS (raw bytes).\n"
		   "--ak, --no-user-data and --allow-ak-mismatch exist for tests.\n"
		   "       " PROG " kbs-get --url https://HOST:PORT --ca FILE --tpm SPEC --vcek FILE\n"
		   "                  [--tee NAME] [--legacy-tee-names] [--key ec|rsa] [--evidence-version 1|2]\n"
		   "                  [--settle-ms N] [--timeout-ms N] [--attempts N] [--out-dir DIR]\n"
		   "                  [--sealed FILE]... [--timing] [REPO/TYPE/TAG...]\n"
		   "\n"
		   "kbs-get: KBS protocol 0.4.0 round trip (auth, attest with evidence collected from\n"
		   "the vTPM bound to the runtime data, resource fetch, JWE decryption) over HTTPS\n"
		   "authenticated by the CA in --ca.  Prints \"PATH sha256:HEX LEN\" per secret (never\n"
		   "the secret); --out-dir writes each to DIR/TAG (mode 0400).  --sealed unseals a\n"
		   "CoCo sealed secret (sealed.JWS) read from FILE.  --timing prints per-step\n"
		   "milliseconds on stderr.  Exit status 1 when the KBS refused or a secret did not\n"
		   "decrypt (the KBS error type and detail are shown verbatim), 3 on transport errors.\n"
		   "       " PROG " tpm-rc CODE...\n"
		   "\n"
		   "tpm-rc: names TPM 2.0 response codes (hex, as the init prints them: TPM_RC 0x0000098e).\n"
		   "\n"
		   "Exit status: 0 verified (and affirming) or collected, 1 verification, appraisal\n"
		   "or collection failed, 2 usage error, 3 I/O error.\n");
}

static const char *rv_status_name(enum cvm_rv_status s)
{
	switch (s) {
	case CVM_RV_MATCH: return "match";
	case CVM_RV_MISMATCH: return "MISMATCH";
	case CVM_RV_MISSING: return "MISSING";
	default: return "not checked";
	}
}

static int hex_arg(const char *opt, const char *s, uint8_t *out, size_t min, size_t max, size_t *ret_len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 < min || n / 2 > max || cvm_hex_decode(s, n, out, n / 2) < 0) {
		fprintf(stderr, PROG ": fatal: unable to parse %s: expected %zu to %zu bytes of hex\n", opt, min, max);
		return -EINVAL;
	}
	*ret_len = n / 2;
	return 0;
}

static void print_text(const struct cvm_verify_result *res, const struct cvm_rv_report *rep)
{
	printf("checks:\n");
	for (int c = 0; c < CVM_CHECK_MAX; c++) {
		const struct cvm_check_result *r = &res->checks[c];
		if (r->status == CVM_CHECK_NOT_APPLICABLE)
			continue;
		printf("  %-22s %s%s%s\n", cvm_check_name(c), cvm_check_status_name(r->status), r->detail[0] ? " " : "",
		       r->detail);
	}
	if (res->claims_json) {
		cJSON *j = cJSON_Parse(res->claims_json);
		char *s = j ? cJSON_Print(j) : NULL;
		printf("claims:\n%s\n", s ? s : res->claims_json);
		free(s);
		cJSON_Delete(j);
	}
	if (rep) {
		printf("reference values:\n");
		for (size_t i = 0; i < rep->count; i++) {
			const struct cvm_rv_verdict *v = &rep->verdicts[i];
			printf("  %-26s %-16s %-11s %s\n", v->claim, v->rv_name, rv_status_name(v->status), v->found);
		}
		printf("appraisal: %s\n", rep->affirming ? "affirming" : "NOT affirming");
	}
	printf("verification: %s\n", res->first_failure < 0 ? "ok" : "FAILED");
}

static int print_json(enum cvm_tee tee, const struct cvm_verify_result *res, const struct cvm_rv_report *rep)
{
	cJSON *root = cJSON_CreateObject(), *checks = cJSON_AddArrayToObject(root, "checks");
	char *s;

	if (!root || !checks)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "tee", cvm_tee_name(tee));
	cJSON_AddBoolToObject(root, "verified", res->first_failure < 0);
	if (res->first_failure >= 0)
		cJSON_AddStringToObject(root, "failed_check", cvm_check_name(res->first_failure));
	for (int c = 0; c < CVM_CHECK_MAX; c++) {
		const struct cvm_check_result *r = &res->checks[c];
		cJSON *o;
		if (r->status == CVM_CHECK_NOT_APPLICABLE)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", cvm_check_name(c));
		cJSON_AddStringToObject(o, "status", cvm_check_status_name(r->status));
		if (r->detail[0])
			cJSON_AddStringToObject(o, "detail", r->detail);
		cJSON_AddItemToArray(checks, o);
	}
	cJSON_AddItemToObject(root, "claims", res->claims_json ? cJSON_Parse(res->claims_json) : cJSON_CreateNull());
	if (rep) {
		cJSON *rv = cJSON_AddObjectToObject(root, "reference_values"), *vs = cJSON_AddArrayToObject(rv, "verdicts");
		cJSON_AddBoolToObject(rv, "affirming", rep->affirming);
		for (size_t i = 0; i < rep->count; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "claim", rep->verdicts[i].claim);
			cJSON_AddStringToObject(o, "reference_value", rep->verdicts[i].rv_name);
			cJSON_AddStringToObject(o, "status", rv_status_name(rep->verdicts[i].status));
			cJSON_AddStringToObject(o, "found", rep->verdicts[i].found);
			cJSON_AddItemToArray(vs, o);
		}
	}
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return -ENOMEM;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tee", required_argument, NULL, 't' },
		{ "evidence", required_argument, NULL, 'e' },
		{ "report-data", required_argument, NULL, 'r' },
		{ "init-data-digest", required_argument, NULL, 'i' },
		{ "reference-values", required_argument, NULL, 'v' },
		{ "amd-root", required_argument, NULL, 'a' },
		{ "intel-root", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *tee_name = NULL, *evidence = NULL, *rv_path = NULL, *amd_root = NULL, *intel_root = NULL;
	uint8_t report_data[64], init_digest[32];
	size_t rd_len = 0, id_len = 0;
	bool json = false, have_rd = false, have_id = false;
	struct cvm_evidence ev = { 0 };
	struct cvm_verify_opts vo = { 0 };
	struct cvm_verify_result res = { 0 };
	struct cvm_rv_report rep;
	enum cvm_tee tee;
	uint8_t *buf = NULL, *ibuf = NULL;
	size_t len;
	int c, r, ret = 2;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'I': intel_root = optarg; break;
		case 't': tee_name = optarg; break;
		case 'e': evidence = optarg; break;
		case 'v': rv_path = optarg; break;
		case 'a': amd_root = optarg; break;
		case 'j': json = true; break;
		case 'r':
			if (hex_arg("--report-data", optarg, report_data, 1, 64, &rd_len) < 0)
				return 2;
			have_rd = true;
			break;
		case 'i':
			if (hex_arg("--init-data-digest", optarg, init_digest, 32, 32, &id_len) < 0)
				return 2;
			have_id = true;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !tee_name || !evidence) {
		fprintf(stderr, PROG ": fatal: unable to verify: --tee and --evidence are required, and nothing else\n");
		return 2;
	}
	if (cvm_tee_from_name(tee_name, &tee) < 0) {
		fprintf(stderr, PROG ": fatal: unable to verify: unknown TEE \"%s\" (az-snp-vtpm or az-tdx-vtpm)\n", tee_name);
		return 2;
	}
	r = cvm_read_file(evidence, CVM_EVIDENCE_MAX_SIZE, &buf, &len);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", evidence, strerror(-r));
		return 3;
	}
	r = cvm_evidence_parse(tee, buf, len, &ev);
	free(buf);
	buf = NULL;
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to parse %s as %s evidence: %s\n", evidence, tee_name,
			r == -EBADMSG ? "not evidence JSON of version 0, 1 or 2" : strerror(-r));
		return 1;
	}
	if (have_rd) {
		vo.report_data = report_data;
		vo.report_data_len = rd_len;
	}
	if (have_id)
		vo.init_data_digest = init_digest;
	if (amd_root) {
		r = cvm_read_file(amd_root, 1u << 20, &buf, &len);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", amd_root, strerror(-r));
			ret = 3;
			goto out;
		}
		/* cvm_read_file NUL-terminates: the bundle is a C string. */
		vo.amd_root_pem = (const char *)buf;
	}
	if (intel_root) {
		r = cvm_read_file(intel_root, 1u << 20, &ibuf, &len);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", intel_root, strerror(-r));
			ret = 3;
			goto out;
		}
		vo.intel_root_pem = (const char *)ibuf;
	}
	r = cvm_verify_evidence(&ev, &vo, &res);
	free(buf);
	buf = NULL;
	if (r < 0 && r != -EKEYREJECTED) {
		fprintf(stderr, PROG ": fatal: unable to verify: %s\n", strerror(-r));
		ret = 3;
		goto out;
	}
	ret = r == 0 ? 0 : 1;
	if (rv_path && res.claims_json) {
		r = cvm_read_file(rv_path, 1u << 20, &buf, &len);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", rv_path, strerror(-r));
			ret = 3;
			goto out;
		}
		r = cvm_rv_appraise(tee, res.claims_json, buf, len, &rep);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to parse %s: not RVPS reference values (%s)\n", rv_path,
				strerror(-r));
			ret = 2;
			goto out;
		}
		if (!rep.affirming)
			ret = 1;
	}
	if (json)
		r = print_json(tee, &res, rv_path && res.claims_json ? &rep : NULL);
	else {
		print_text(&res, rv_path && res.claims_json ? &rep : NULL);
		r = 0;
	}
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to print: %s\n", strerror(-r));
		ret = 3;
	}
	if (res.first_failure >= 0)
		fprintf(stderr, PROG ": verification failed: %s: %s\n", cvm_check_name(res.first_failure),
			res.checks[res.first_failure].detail);
	else if (ret == 1)
		fprintf(stderr, PROG ": appraisal failed: reference values not matched (Trustee would not rate it affirming)\n");
out:
	free(buf);
	free(ibuf);
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev);
	return ret;
}

/* The VCEK as DER from DER, PEM or an IMDS THIM body. */
static int load_vcek(const char *path, uint8_t **ret_der, size_t *ret_len)
{
	uint8_t *buf = NULL;
	size_t len;
	int r = cvm_read_file(path, 64u << 10, &buf, &len);

	if (r < 0)
		return r;
	if (len && buf[0] == '{')
		r = cvm_thim_vcek_der(buf, len, ret_der, ret_len);
	else
		r = cvm_cert_der(buf, len, ret_der, ret_len);
	free(buf);
	return r;
}

static const char *tpm_error(const struct cvm_tpm2 *t, int r, char *buf, size_t cap)
{
	if (t->last_rc != 0 && (r == -EREMOTEIO || r == -ENOENT || r == -EEXIST)) {
		char rc[160];
		cvm_tpm2_rc_describe(t->last_rc, rc, sizeof(rc));
		snprintf(buf, cap, "the TPM answered %s", rc);
		return buf;
	}
	switch (r) {
	case -ENOENT: return "no HCL report index or AK in this TPM (not an Azure CVM?)";
	case -EBADMSG: return "the HCL report, its runtime claims or the quote do not check out";
	case -EKEYREJECTED: return "the AK is not the HCLAkPub of the HCL report";
	case -EPROTO: return "malformed TPM response";
	default: return strerror(-r);
	}
}

static int cmd_collect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tpm", required_argument, NULL, 't' },
		{ "report-data", required_argument, NULL, 'r' },
		{ "vcek", required_argument, NULL, 'v' },
		{ "td-quote", required_argument, NULL, 'q' },
		{ "evidence-version", required_argument, NULL, 'V' },
		{ "out", required_argument, NULL, 'o' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "ak", required_argument, NULL, 'k' },
		{ "no-user-data", no_argument, NULL, 'n' },
		{ "allow-ak-mismatch", no_argument, NULL, 'm' },
		{ "td-report-out", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *spec = "/dev/tpmrm0", *vcek_path = NULL, *tdq_path = NULL, *out_path = NULL, *tdr_path = NULL;
	struct cvm_azure_collect_opts co = { .user_data_wait_ms = 3000 };
	struct cvm_azure_collected col = { 0 };
	struct cvm_tpm2 *t = NULL;
	uint8_t report_data[64], *extra = NULL;
	size_t rd_len = 0, extra_len = 0;
	char *json = NULL, *end, why[256];
	unsigned long v;
	int c, r, version = 2, ret = 2;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': spec = optarg; break;
		case 'v': vcek_path = optarg; break;
		case 'q': tdq_path = optarg; break;
		case 'o': out_path = optarg; break;
		case 'T': tdr_path = optarg; break;
		case 'n': co.skip_user_data = true; break;
		case 'm': co.allow_ak_mismatch = true; break;
		case 'r':
			if (hex_arg("--report-data", optarg, report_data, 1, 64, &rd_len) < 0)
				return 2;
			break;
		case 'V':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				fprintf(stderr, PROG ": fatal: unable to parse --evidence-version: 1 or 2\n");
				return 2;
			}
			version = optarg[0] - '0';
			break;
		case 's':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v > 60000) {
				fprintf(stderr, PROG ": fatal: unable to parse --settle-ms: 0 to 60000\n");
				return 2;
			}
			co.user_data_wait_ms = (unsigned)v;
			break;
		case 'k':
			errno = 0;
			v = strtoul(optarg, &end, 0);
			if (errno || *end || !*optarg || v == 0 || v > UINT32_MAX) {
				fprintf(stderr, PROG ": fatal: unable to parse --ak: a TPM handle such as 0x81000003\n");
				return 2;
			}
			co.ak_handle = (uint32_t)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !rd_len) {
		fprintf(stderr, PROG ": fatal: unable to collect: --report-data is required, and nothing else\n");
		return 2;
	}
	if (!!vcek_path + !!tdq_path != 1 && !tdr_path) {
		fprintf(stderr, PROG ": fatal: unable to collect: give exactly one of --vcek (SNP) and --td-quote (TDX)\n");
		return 2;
	}
	co.report_data = report_data;
	co.report_data_len = rd_len;
	if (vcek_path || tdq_path) {
		r = vcek_path ? load_vcek(vcek_path, &extra, &extra_len)
			      : cvm_read_file(tdq_path, 64u << 10, &extra, &extra_len);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", vcek_path ? vcek_path : tdq_path,
				r == -EBADMSG ? "not a certificate" : strerror(-r));
			ret = r == -EBADMSG ? 2 : 3;
			goto out;
		}
	}
	t = malloc(sizeof(*t));
	if (!t) {
		ret = 3;
		goto out;
	}
	r = cvm_tpm2_open(spec, t);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to open the TPM %s: %s\n", spec, strerror(-r));
		free(t);
		t = NULL;
		ret = r == -EINVAL ? 2 : 3;
		goto out;
	}
	r = cvm_azure_collect(t, &co, &col);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to collect evidence from %s: %s\n", spec, tpm_error(t, r, why, sizeof(why)));
		ret = 1;
		goto out;
	}
	if (!col.ak_matches)
		fprintf(stderr, PROG ": warning: the AK is not the HCLAkPub of the HCL report; this evidence will not verify\n");
	if (tdr_path) {
		const uint8_t *tdr;
		if (cvm_azure_td_report(&col, &tdr) < 0) {
			fprintf(stderr, PROG ": fatal: unable to write %s: the HCL report holds no TD report\n", tdr_path);
			ret = 1;
			goto out;
		}
		r = cvm_write_file_atomic(tdr_path, tdr, 1024, 0644);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to write %s: %s\n", tdr_path, strerror(-r));
			ret = 3;
			goto out;
		}
		if (!extra) {
			ret = 0;
			goto out;
		}
	}
	if ((col.tee == CVM_TEE_AZ_SNP_VTPM) != !!vcek_path) {
		fprintf(stderr, PROG ": fatal: unable to build evidence: the HCL report is %s, which needs %s\n",
			cvm_tee_name(col.tee), col.tee == CVM_TEE_AZ_SNP_VTPM ? "--vcek" : "--td-quote");
		ret = 2;
		goto out;
	}
	r = cvm_azure_evidence_build(&col, version, extra, extra_len, extra, extra_len, &json);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to build evidence: %s\n", strerror(-r));
		ret = 1;
		goto out;
	}
	if (out_path)
		r = cvm_write_file_atomic(out_path, json, strlen(json), 0644);
	else
		r = printf("%s\n", json) < 0 ? -EIO : 0;
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to write %s: %s\n", out_path ? out_path : "the evidence", strerror(-r));
		ret = 3;
		goto out;
	}
	ret = 0;
out:
	if (t) {
		cvm_tpm2_close(t);
		free(t);
	}
	cvm_azure_collected_free(&col);
	free(json);
	free(extra);
	return ret;
}

/* ---------------------------------------------------------------- kbs-get */

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wraps the Azure evidence callback to time it separately from /attest. */
struct kbs_timed_evidence {
	struct cvm_kbs_azure_ctx az;
	double ms;
};

static int timed_evidence(void *ctx, enum cvm_tee tee, const uint8_t *rd, size_t rd_len, char **ret)
{
	struct kbs_timed_evidence *te = ctx;
	double t0 = now_ms();
	int r = cvm_kbs_azure_evidence(&te->az, tee, rd, rd_len, ret);
	te->ms += now_ms() - t0;
	return r;
}

static int kbs_fail(const struct cvm_kbs_client *c, const char *what)
{
	const struct cvm_kbs_error *e = &c->err;

	if (e->http_status)
		fprintf(stderr, PROG ": fatal: unable to %s: step %s: HTTP %d%s%s: %s\n", what, cvm_kbs_step_name(e->step),
			e->http_status, e->type[0] ? " " : "", e->type, e->detail);
	else
		fprintf(stderr, PROG ": fatal: unable to %s: step %s: %s (%s)\n", what, cvm_kbs_step_name(e->step), e->detail,
			strerror(-e->code));
	/* A refusal or an undecryptable answer is 1; no answer at all is 3. */
	return e->http_status || e->step == CVM_KBS_STEP_DECRYPT || e->step == CVM_KBS_STEP_EVIDENCE ? 1 : 3;
}

static int kbs_emit(const char *label, const char *out_dir, const char *name, const uint8_t *pt, size_t len)
{
	uint8_t d[32];
	char hex[65];

	if (cvm_hash(CVM_HASH_SHA256, pt, len, d) < 0)
		return -EIO;
	cvm_hex_encode(d, 32, hex);
	printf("%s sha256:%s %zu\n", label, hex, len);
	if (out_dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", out_dir, name);
		return cvm_write_file_atomic(path, pt, len, 0400);
	}
	return 0;
}

static int cmd_kbs_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "ca", required_argument, NULL, 'c' },
		{ "tpm", required_argument, NULL, 't' },
		{ "vcek", required_argument, NULL, 'v' },
		{ "tee", required_argument, NULL, 'T' },
		{ "legacy-tee-names", no_argument, NULL, 'L' },
		{ "key", required_argument, NULL, 'k' },
		{ "evidence-version", required_argument, NULL, 'V' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "timeout-ms", required_argument, NULL, 'o' },
		{ "attempts", required_argument, NULL, 'a' },
		{ "out-dir", required_argument, NULL, 'd' },
		{ "sealed", required_argument, NULL, 'S' },
		{ "timing", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *url = NULL, *ca_path = NULL, *spec = NULL, *vcek_path = NULL, *out_dir = NULL, *sealed[16];
	size_t n_sealed = 0, ca_len = 0;
	struct cvm_kbs_config cfg = { .tee = CVM_TEE_AZ_SNP_VTPM };
	struct kbs_timed_evidence te = { .az = { .version = 2, .user_data_wait_ms = 3000 } };
	struct cvm_tls_options tls = { 0 };
	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
	struct cvm_url pu;
	struct cvm_kbs_http_ctx hctx;
	struct cvm_kbs_transport tr;
	struct cvm_kbs_client kc = { 0 };
	struct cvm_tpm2 *t = NULL;
	uint8_t *ca = NULL, *vcek = NULL;
	char *end;
	bool timing = false;
	unsigned long v;
	double t0, t_key = 0, t_auth = 0, t_attest = 0, t_res = 0;
	int c, r, ret = 2;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'c': ca_path = optarg; break;
		case 't': spec = optarg; break;
		case 'v': vcek_path = optarg; break;
		case 'd': out_dir = optarg; break;
		case 'L': cfg.legacy_tee_names = true; break;
		case 'm': timing = true; break;
		case 'T':
			if (cvm_tee_from_name(optarg, &cfg.tee) < 0) {
				fprintf(stderr, PROG ": fatal: unable to parse --tee: az-snp-vtpm or az-tdx-vtpm\n");
				return 2;
			}
			break;
		case 'k':
			if (strcmp(optarg, "ec") && strcmp(optarg, "rsa")) {
				fprintf(stderr, PROG ": fatal: unable to parse --key: ec or rsa\n");
				return 2;
			}
			cfg.key_type = optarg[0] == 'r' ? CVM_TEE_KEY_RSA : CVM_TEE_KEY_EC_P256;
			break;
		case 'V':
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				fprintf(stderr, PROG ": fatal: unable to parse --evidence-version: 1 or 2\n");
				return 2;
			}
			te.az.version = optarg[0] - '0';
			break;
		case 's': case 'o': case 'a':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v > 600000 || (c == 'a' && (v < 1 || v > 10)) || (c == 'o' && v == 0)) {
				fprintf(stderr, PROG ": fatal: unable to parse --%s: out of range\n",
					c == 's' ? "settle-ms" : c == 'o' ? "timeout-ms" : "attempts");
				return 2;
			}
			if (c == 's')
				te.az.user_data_wait_ms = (unsigned)v;
			else if (c == 'a')
				cl.max_attempts = (unsigned)v;
			else
				cl.connect_timeout_ms = cl.read_timeout_ms = (unsigned)v, cl.total_timeout_ms = 3 * (unsigned)v;
			break;
		case 'S':
			if (n_sealed == sizeof(sealed) / sizeof(sealed[0])) {
				fprintf(stderr, PROG ": fatal: unable to parse --sealed: at most 16\n");
				return 2;
			}
			sealed[n_sealed++] = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!url || !ca_path || !spec || (cfg.tee == CVM_TEE_AZ_SNP_VTPM && !vcek_path) || (optind == argc && !n_sealed)) {
		fprintf(stderr, PROG ": fatal: unable to run kbs-get: --url, --ca, --tpm, --vcek and at least one resource "
				"or --sealed are required\n");
		return 2;
	}
	if (cfg.tee != CVM_TEE_AZ_SNP_VTPM) {
		fprintf(stderr, PROG ": fatal: unable to run kbs-get: az-tdx-vtpm needs a TD quote from IMDS, not wired here yet\n");
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (!cvm_kbs_resource_path_valid(argv[i])) {
			fprintf(stderr, PROG ": fatal: unable to fetch %s: not REPO/TYPE/TAG\n", argv[i]);
			return 2;
		}
	if (cvm_url_parse(url, &pu) < 0 || !pu.https || strcmp(pu.path, "/") != 0) {
		fprintf(stderr, PROG ": fatal: unable to parse --url: https://HOST[:PORT] without a path\n");
		return 2;
	}
	r = cvm_read_file(ca_path, 1u << 20, &ca, &ca_len);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", ca_path, strerror(-r));
		return 3;
	}
	r = load_vcek(vcek_path, &vcek, &te.az.vcek_len);
	if (r < 0) {
		fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", vcek_path, r == -EBADMSG ? "not a certificate" : strerror(-r));
		ret = r == -EBADMSG ? 2 : 3;
		goto out;
	}
	te.az.vcek_der = vcek;
	t = malloc(sizeof(*t));
	if (!t || (r = cvm_tpm2_open(spec, t)) < 0) {
		fprintf(stderr, PROG ": fatal: unable to open the TPM %s: %s\n", spec, t ? strerror(-r) : "out of memory");
		free(t);
		t = NULL;
		ret = 3;
		goto out;
	}
	te.az.tpm = t;
	tls.ca = ca;
	tls.ca_len = ca_len;
	cl.tls = &tls;
	cl.max_body = CVM_KBS_BODY_MAX;
	{
		char base[300];
		size_t n = strlen(url);
		snprintf(base, sizeof(base), "%.*s", (int)(n && url[n - 1] == '/' ? n - 1 : n), url);
		if (cvm_kbs_http_transport(&hctx, base, &cl, &tr) < 0) {
			fprintf(stderr, PROG ": fatal: unable to parse --url: too long\n");
			goto out;
		}
	}
	cfg.transport = &tr;
	cfg.evidence = timed_evidence;
	cfg.evidence_ctx = &te;
	t0 = now_ms();
	r = cvm_kbs_init(&kc, &cfg);
	t_key = now_ms() - t0;
	if (r < 0) {
		ret = kbs_fail(&kc, "create the TEE key");
		goto out;
	}
	t0 = now_ms();
	r = cvm_kbs_auth(&kc);
	t_auth = now_ms() - t0;
	if (r < 0) {
		ret = kbs_fail(&kc, "authenticate to the KBS");
		goto out;
	}
	t0 = now_ms();
	r = cvm_kbs_attest(&kc);
	t_attest = now_ms() - t0 - te.ms;
	if (r < 0) {
		ret = kbs_fail(&kc, "attest to the KBS");
		goto out;
	}
	t0 = now_ms();
	for (int i = optind; i < argc; i++) {
		uint8_t *pt;
		size_t len;
		r = cvm_kbs_fetch(&kc, argv[i], &pt, &len);
		if (r < 0) {
			ret = kbs_fail(&kc, "fetch the resource");
			goto out;
		}
		r = kbs_emit(argv[i], out_dir, strrchr(argv[i], '/') + 1, pt, len);
		cvm_jose_free_secret(pt, len + 1);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to write %s: %s\n", argv[i], strerror(-r));
			ret = 3;
			goto out;
		}
	}
	for (size_t i = 0; i < n_sealed; i++) {
		uint8_t *buf = NULL, *pt;
		size_t blen, len;
		char label[4200];
		const char *base = strrchr(sealed[i], '/') ? strrchr(sealed[i], '/') + 1 : sealed[i];
		r = cvm_read_file(sealed[i], CVM_SEALED_MAX, &buf, &blen);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to read %s: %s\n", sealed[i], strerror(-r));
			ret = 3;
			goto out;
		}
		while (blen && (buf[blen - 1] == '\n' || buf[blen - 1] == '\r'))
			blen--;
		r = cvm_sealed_unseal(buf, blen, cvm_kbs_fetch, &kc, &pt, &len);
		free(buf);
		if (r < 0) {
			if (kc.err.code == r && kc.err.step != CVM_KBS_STEP_NONE)
				ret = kbs_fail(&kc, "unseal the secret");
			else {
				fprintf(stderr, PROG ": fatal: unable to unseal %s: %s\n", sealed[i],
					r == -ENOKEY ? "the signing key is not a kbs:// resource"
					: r == -EKEYREJECTED ? "signature does not verify"
					: r == -EPROTONOSUPPORT ? "provider is not kbs"
					: r == -EOPNOTSUPP ? "envelope secrets and kbs plugins are not supported"
							   : strerror(-r));
				ret = 1;
			}
			goto out;
		}
		snprintf(label, sizeof(label), "sealed:%s", sealed[i]);
		r = kbs_emit(label, out_dir, base, pt, len);
		cvm_jose_free_secret(pt, len + 1);
		if (r < 0) {
			fprintf(stderr, PROG ": fatal: unable to write %s: %s\n", base, strerror(-r));
			ret = 3;
			goto out;
		}
	}
	t_res = now_ms() - t0;
	if (timing)
		fprintf(stderr, "timing-ms key %.3f auth %.3f evidence %.3f attest %.3f resource %.3f total %.3f\n", t_key,
			t_auth, te.ms, t_attest, t_res, t_key + t_auth + te.ms + t_attest + t_res);
	ret = 0;
out:
	cvm_kbs_free(&kc);
	if (t) {
		cvm_tpm2_close(t);
		free(t);
	}
	free(ca);
	free(vcek);
	return ret;
}

/* The init prints a failing TPM command's response code as a number (the
 * names are host-only, attest/tpm2rc.c): this turns it back into text. */
static int cmd_tpm_rc(int argc, char **argv)
{
	char buf[200];

	if (argc < 2) {
		fprintf(stderr, PROG ": fatal: unable to name a response code: none given\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long rc;

		errno = 0;
		rc = strtoul(argv[i], &end, 16);
		if (errno || end == argv[i] || *end || argv[i][0] == '-' || rc > UINT32_MAX) {
			fprintf(stderr, PROG ": fatal: unable to name a response code: \"%s\" is not a hex number of 32 bits\n",
				argv[i]);
			return 2;
		}
		cvm_tpm2_rc_describe((uint32_t)rc, buf, sizeof(buf));
		printf("0x%08lx %s\n", rc, buf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "collect") == 0)
		return cmd_collect(argc - 1, argv + 1);
	if (strcmp(argv[1], "kbs-get") == 0)
		return cmd_kbs_get(argc - 1, argv + 1);
	if (strcmp(argv[1], "tpm-rc") == 0)
		return cmd_tpm_rc(argc - 1, argv + 1);
	fprintf(stderr, PROG ": fatal: unable to run: unknown verb \"%s\" (try --help)\n", argv[1]);
	return 2;
}
