/* cvm-attest: offline verification of Azure vTPM evidence.
 *
 *   cvm-attest verify --tee az-snp-vtpm|az-tdx-vtpm --evidence FILE
 *                     [--report-data HEX] [--init-data-digest HEX]
 *                     [--reference-values FILE] [--json]
 *
 * Exit status: 0 verified (and affirming, when reference values are given),
 * 1 a check failed or a reference value did not match, 2 usage, 3 I/O. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/evidence.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "cvmkit/verify.h"

#define PROG "cvm-attest"

static void usage(FILE *f)
{
	fprintf(f, "Usage: " PROG " verify --tee az-snp-vtpm|az-tdx-vtpm --evidence FILE\n"
		   "                  [--report-data HEX] [--init-data-digest HEX]\n"
		   "                  [--reference-values FILE] [--json]\n"
		   "\n"
		   "Performs the checks Trustee's verifier performs on the evidence, prints the\n"
		   "claims with Trustee's names and encodings and, given RVPS reference values,\n"
		   "a verdict per claim.\n"
		   "\n"
		   "Exit status: 0 verified (and affirming), 1 verification or appraisal failed,\n"
		   "2 usage error, 3 I/O error.\n");
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
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *tee_name = NULL, *evidence = NULL, *rv_path = NULL;
	uint8_t report_data[64], init_digest[32];
	size_t rd_len = 0, id_len = 0;
	bool json = false, have_rd = false, have_id = false;
	struct cvm_evidence ev = { 0 };
	struct cvm_verify_opts vo = { 0 };
	struct cvm_verify_result res = { 0 };
	struct cvm_rv_report rep;
	enum cvm_tee tee;
	uint8_t *buf = NULL;
	size_t len;
	int c, r, ret = 2;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': tee_name = optarg; break;
		case 'e': evidence = optarg; break;
		case 'v': rv_path = optarg; break;
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
	r = cvm_verify_evidence(&ev, &vo, &res);
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
	cvm_verify_result_free(&res);
	cvm_evidence_free(&ev);
	return ret;
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
	fprintf(stderr, PROG ": fatal: unable to run: unknown verb \"%s\" (try --help)\n", argv[1]);
	return 2;
}
