/* cvm-measure publish: one prediction written as the files an image publisher ships. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cvmkit/corim.h"
#include "cvmkit/fileio.h"
#include "cvmkit/predict.h"
#include "cvmkit/refvalues.h"

#include "cli.h"

static void publish_help(FILE *f)
{
	fputs("usage: " PROG " publish IMAGE --out DIR [--with-pcr5] [--initdata FILE]... [--platform azure|none]\n"
	      "                   [--stub-version N] [--failed-boot-options N] [--workload-image FILE]\n"
	      "                   [--sign-key KEY.pem [--key-pass-file F] [--lock deps/lock]\n"
	      "                    [--source-commit SHA] [--builder ID]]\n"
	      "  One prediction of IMAGE (sha256 and sha384 banks), written as the files an\n"
	      "  image publisher ships: DIR/measurements.json (as predict --json),\n"
	      "  DIR/reference-values.json (as reference-values), DIR/corim.cbor (as corim), and for\n"
	      "  the trustee-operator DIR/reference_value (LocalJson) and DIR/rvps-reference-values.yaml\n"
	      "  (its ConfigMap).  --initdata and --platform as for reference-values.\n"
	      "  Each file is written to a temporary name and renamed.  With --sign-key, the\n"
	      "  files are then signed as `" PROG " sign` does (see sign --help).  --workload-image\n"
	      "  FILE: the workload-image.json cvm-image wrote for a container image, copied into\n"
	      "  measurements.json as \"workload_image\" (its manifest and config digests).\n" SB_HELP, f);
}

/* Writes cJSON text plus a newline to PATH atomically. */
static int write_json_file(const char *path, cJSON *root)
{
	char *text = root ? cJSON_Print(root) : NULL;
	size_t n;
	int r;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	text[n] = '\n'; /* cJSON_Print's NUL becomes the final newline */
	r = cvm_write_file_atomic(path, text, n + 1, 0644);
	free(text);
	return r;
}

int verb_publish(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "out", required_argument, NULL, 'o' },
		{ "with-pcr5", no_argument, NULL, '5' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		{ "workload-image", required_argument, NULL, 'w' },
		{ "initdata", required_argument, NULL, 'i' },
		{ "platform", required_argument, NULL, 'P' },
		{ "sign-key", required_argument, NULL, 'k' },
		{ "key-pass-file", required_argument, NULL, 'p' },
		{ "lock", required_argument, NULL, 'l' },
		{ "source-commit", required_argument, NULL, 'c' },
		{ "builder", required_argument, NULL, 'b' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cli_initdata_opts io = { 0 };
	bool azure = false;
	char *local = NULL, *cm = NULL;
	struct cvm_sign_opts so = { 0 };
	const char *wl_image = NULL;
	struct cvm_predict_opts opts = { 0 };
	struct cvm_corim_opts co = { 0 };
	struct cvm_prediction *p = NULL;
	struct cvm_rv_set *s = NULL;
	const char *dir = NULL;
	char path[4096], *rvps = NULL;
	uint8_t *corim = NULL;
	size_t corim_len = 0;
	cJSON *root = NULL;
	int c, r, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			publish_help(stdout);
			return EXIT_OK;
		case 'o':
			dir = optarg;
			break;
		case 'i':
			if ((code = cli_initdata_option(&io, optarg)) != EXIT_OK)
				return code;
			break;
		case 'P':
			if ((code = cli_platform_option(optarg, &azure)) != EXIT_OK)
				return code;
			break;
		case '5':
			co.with_pcr5 = true;
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0)
				return usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0)
				return usage_error("unable to parse --failed-boot-options %s", optarg);
			break;
		case 'w':
			wl_image = optarg;
			break;
		case 'k': so.key = optarg; break;
		case 'p': so.key_pass_file = optarg; break;
		case 'l': so.lock = optarg; break;
		case 'c': so.commit = optarg; break;
		case 'b': so.builder = optarg; break;
		case 'S':
		case 'B':
		case 'A':
			if (sb_option(c, optarg) != EXIT_OK)
				return EXIT_USAGE;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !dir)
		return usage_error("unable to publish: expected one IMAGE and --out DIR");
	if (!so.key && (so.key_pass_file || so.lock || so.commit || so.builder))
		return usage_error("unable to publish: --key-pass-file, --lock, --source-commit and --builder need --sign-key");
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		return code;
	s = calloc(1, sizeof(*s));
	if (!s) {
		code = fatal(EXIT_DATA, "unable to publish: %s", strerror(ENOMEM));
		goto out;
	}
	r = cvm_rv_add_prediction(s, p, co.with_pcr5 ? CVM_RV_WITH_PCR5 : 0);
	if (r >= 0 && (code = cli_initdata_apply(&io, s)) != EXIT_OK)
		goto out;
	cli_platform_apply(azure, s);
	if (r >= 0)
		r = cvm_rv_rvps_message(s, &rvps);
	if (r >= 0)
		r = cli_rv_local_json(s, &local);
	if (r >= 0)
		r = cli_rv_configmap(s, &cm);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to build reference values for %s: %s", argv[optind], strerror(-r));
		goto out;
	}
	r = cvm_corim_build(p, &co, &corim, &corim_len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to build a CoRIM for %s: %s", argv[optind], strerror(-r));
		goto out;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		code = fatal(EXIT_DATA, "unable to create %s: %s", dir, strerror(errno));
		goto out;
	}
	root = prediction_json(p);
	if (root && wl_image) {
		uint8_t *buf = NULL;
		size_t len;
		cJSON *wi = NULL;
		r = cvm_read_file(wl_image, 1 << 20, &buf, &len);
		if (r == 0)
			wi = cJSON_ParseWithLength((const char *)buf, len);
		free(buf);
		if (!cJSON_IsObject(wi)) {
			cJSON_Delete(wi);
			code = fatal(EXIT_DATA, "unable to read %s: %s", wl_image, r < 0 ? strerror(-r) : "not a JSON object");
			goto out;
		}
		cJSON_AddItemToObject(root, "workload_image", wi);
	}
	snprintf(path, sizeof(path), "%s/measurements.json", dir);
	r = write_json_file(path, root);
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/reference-values.json", dir);
		/* The same bytes reference-values prints: the message and a newline. */
		size_t n = strlen(rvps);
		char *t = realloc(rvps, n + 2);
		r = t ? 0 : -ENOMEM;
		if (t) {
			rvps = t;
			memcpy(rvps + n, "\n", 2);
			r = cvm_write_file_atomic(path, rvps, n + 1, 0644);
		}
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/corim.cbor", dir);
		r = cvm_write_file_atomic(path, corim, corim_len, 0644);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/reference_value", dir);
		r = cvm_write_file_atomic(path, local, strlen(local), 0644);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/rvps-reference-values.yaml", dir);
		r = cvm_write_file_atomic(path, cm, strlen(cm), 0644);
	}
	if (r < 0)
		code = fatal(EXIT_DATA, "unable to write %s: %s", path, strerror(-r));
	else if (so.key)
		code = sign_published(dir, &so);
out:
	cJSON_Delete(root);
	free(rvps);
	free(local);
	free(cm);
	free(corim);
	free(s);
	free(p);
	return code;
}
