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
#include "cvmkit/writeout.h"

#include "cli.h"

int verb_publish(int argc, char **argv)
{
	struct cli_initdata_opts io = { 0 };
	int azure = 0;
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
	int r, code;
	const struct cli_opt table[] = {
		{ "out", CLI_STRING, .string = &dir, .short_name = 'o' },
		{ "with-pcr5", CLI_FLAG, .flag = &co.with_pcr5 },
		CLI_OPT_STUB_VERSION(&opts, NULL),
		CLI_OPT_FAILED_BOOTS(&opts, NULL),
		{ "workload-image", CLI_STRING, .string = &wl_image },
		CLI_OPT_INITDATA(&io, NULL),
		CLI_OPT_PLATFORM(&azure, NULL),
		{ "sign-key", CLI_STRING, .string = &so.key },
		CLI_OPTS_PROVENANCE(&so),
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " publish IMAGE --out DIR [--with-pcr5] [--initdata FILE]... [--platform azure|none]\n"
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
		"  measurements.json as \"workload_image\" (its manifest and config digests).\n",
		{ { .opts = table }, CLI_SB_GROUP },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
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
	/* The five files in one batch (cvm_write_files_atomic): written, synced
	 * together, then renamed; not one sync and journal commit each. */
	{
		static const char *const names[] = { "measurements.json", "reference-values.json", "corim.cbor",
						     "reference_value", "rvps-reference-values.yaml" };
		char paths[5][sizeof(path)];
		struct cvm_file_out outs[5];
		char *json = root ? cJSON_Print(root) : NULL;
		size_t jn = json ? strlen(json) : 0, rn = strlen(rvps);
		char *t = realloc(rvps, rn + 2);

		if (t)
			rvps = t;
		r = json && t ? 0 : -ENOMEM;
		if (r == 0) {
			json[jn] = '\n'; /* cJSON_Print's NUL becomes the final newline */
			/* The same bytes reference-values prints: the message and a newline. */
			memcpy(rvps + rn, "\n", 2);
			outs[0] = (struct cvm_file_out){ paths[0], (const uint8_t *)json, jn + 1, NULL, 0 };
			outs[1] = (struct cvm_file_out){ paths[1], (const uint8_t *)rvps, rn + 1, NULL, 0 };
			outs[2] = (struct cvm_file_out){ paths[2], corim, corim_len, NULL, 0 };
			outs[3] = (struct cvm_file_out){ paths[3], (const uint8_t *)local, strlen(local), NULL, 0 };
			outs[4] = (struct cvm_file_out){ paths[4], (const uint8_t *)cm, strlen(cm), NULL, 0 };
			for (size_t i = 0; i < 5; i++)
				snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]);
			r = cvm_write_files_atomic(outs, 5, 0644);
		}
		free(json);
		snprintf(path, sizeof(path), "%s", dir);
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
