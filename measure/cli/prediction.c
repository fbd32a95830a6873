/* What every verb that predicts shares: the Secure Boot options, reading
 * and predicting an image, the prediction as JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"
#include "cvmkit/predict.h"
#include "cvmkit/sbvars.h"
#include "cvmkit/sign.h"

#include "cli.h"

/* Disk images are read whole; Azure OS disks of cvmkit images are tens of MiB. */
#define MAX_IMAGE_SIZE ((size_t)4 << 30)

const char *status_name(enum cvm_predict_status s)
{
	switch (s) {
	case CVM_PREDICT_PREDICTED:
		return "predicted";
	case CVM_PREDICT_NEEDS_DISK:
		return "needs-disk";
	case CVM_PREDICT_PLATFORM:
		break;
	}
	return "platform-dependent";
}

const char *input_name(enum cvm_predict_input in)
{
	return in == CVM_PREDICT_INPUT_UKI ? "uki" : in == CVM_PREDICT_INPUT_VHD ? "vhd" : "disk";
}

/* One sentence for a cvm_predict_image() error. */
static const char *predict_strerror(int r)
{
	switch (r) {
	case -EBADMSG:
		return "not a UKI with a systemd-stub .sdmagic, nor a GPT disk or fixed VHD whose ESP holds "
		       "EFI/BOOT/BOOTX64.EFI (or a malformed PE, GPT, FAT or VHD)";
	case -EOPNOTSUPP:
		return "unmodelled input: systemd-stub version outside " "252-257" ", a multi-profile UKI, or a "
		       "non-ASCII .cmdline (pass --stub-version only if you know the stub behaves like a modelled one)";
	default:
		return strerror(-r);
	}
}

int parse_predict_banks(const char *arg, void *opts)
{
	struct cvm_predict_opts *o = opts;
	char *copy = strdup(arg), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	o->n_banks = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum cvm_hash_alg alg;

		if (cvm_hash_from_name(tok, &alg) < 0 || o->n_banks >= CVM_PREDICT_MAX_BANKS) {
			r = -EINVAL;
			break;
		}
		for (size_t i = 0; i < o->n_banks; i++)
			if (o->banks[i] == alg)
				r = -EINVAL;
		o->banks[o->n_banks++] = alg;
	}
	free(copy);
	return r;
}

/* --secureboot-vars SOURCE, --secure-boot on|off, --secureboot-db-append CERT:
 * shared by every verb that predicts, applied in load_prediction(). */
struct cli_sb sbcli = { .state = -1 };

static const struct cli_value on_off[] = { { "on", 1, NULL }, { "off", 0, NULL }, { NULL } };

const struct cli_opt cli_sb_opts[] = {
	{ "secureboot-vars", CLI_STRING, .string = &sbcli.vars, .arg = "SOURCE",
	  .help = "the platform's Secure Boot variables for PCR 7: an edk2/OVMF\n"
		  "varstore (the VARS .fd the VM boots with) or an Azure key template JSON\n"
		  "(Hyper-V model, inferred) or a folder of PK.esl KEK.esl db.esl dbx.esl;\n"
		  "PCR 7 then joins the reference values" },
	{ "secure-boot", CLI_ENUM, .enm = { &sbcli.state, on_off }, .arg = "on|off",
	  .help = "Secure Boot state (default: from a varstore; required for a template)" },
	{ "secureboot-db-append", CLI_LIST, .list = { sbcli.append, &sbcli.n_append, CVM_ARRAY_SIZE(sbcli.append), "certificates" },
	  .arg = "CERT", .help = "a certificate the platform appends to db (Azure additionalSignatures)" },
	{ NULL },
};

/* Loads the variables once; returns an exit code. */
static int sb_load(void)
{
	int r;

	if (sbcli.loaded || !sbcli.vars) {
		if (!sbcli.vars && (sbcli.state >= 0 || sbcli.n_append))
			return usage_error("unable to use --secure-boot or --secureboot-db-append without --secureboot-vars");
		return EXIT_OK;
	}
	cvm_sbvars_init(&sbcli.v);
	r = cvm_sbvars_load(sbcli.vars, &sbcli.v);
	if (r < 0)
		return fatal(EXIT_DATA, "unable to read the Secure Boot variables %s: %s", sbcli.vars,
			     r == -EBADMSG ? "neither an edk2 variable store, an Azure template JSON with PK/KEK/db/dbx, "
					     "nor a folder of well-formed NAME.esl signature lists"
					   : strerror(-r));
	for (size_t i = 0; i < sbcli.n_append; i++) {
		uint8_t *pem = NULL, *der = NULL;
		size_t pl = 0, dl = 0;

		r = cvm_read_file(sbcli.append[i], CVM_SIGN_MAX_PEM, &pem, &pl);
		if (r >= 0)
			r = cvm_cert_der(pem, pl, &der, &dl);
		if (r >= 0)
			r = cvm_sbvars_db_append_x509(&sbcli.v, der, dl);
		free(pem);
		free(der);
		if (r < 0)
			return fatal(EXIT_DATA, "unable to append %s to db: %s", sbcli.append[i],
				     r == -EBADMSG ? "not a PEM or DER certificate" : strerror(-r));
		/* The Hyper-V model of how Azure appends it is inferred too. */
		sbcli.v.inferred = true;
	}
	if (sbcli.state >= 0)
		sbcli.v.secure_boot = sbcli.state;
	if (sbcli.v.secure_boot < 0)
		return usage_error("unable to predict with %s: say --secure-boot on or off (a template or .esl folder does not)",
				   sbcli.vars);
	sbcli.loaded = true;
	return EXIT_OK;
}

/* Reads and predicts PATH; prints the fatal message itself and returns an exit code. */
int load_prediction(const char *path, const struct cvm_predict_opts *opts_in, struct cvm_prediction **ret)
{
	struct cvm_prediction *p = NULL;
	struct cvm_predict_opts o = *opts_in, *opts = &o;
	struct cvm_file_view img = { 0 };
	int r, code;

	code = sb_load();
	if (code != EXIT_OK)
		return code;
	if (sbcli.loaded)
		o.sb = &sbcli.v;
	p = calloc(1, sizeof(*p));

	if (!p)
		return fatal(EXIT_DATA, "unable to predict %s: %s", path, strerror(ENOMEM));
	/* Mapped, not read: a 20 MB disk is neither allocated nor copied. */
	r = cvm_file_view_open(path, MAX_IMAGE_SIZE, &img);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(-r));
		goto out;
	}
	r = cvm_predict_image(img.buf, img.len, opts, p);
	if (r == -EKEYREJECTED) {
		code = fatal(EXIT_DATA, "unable to predict %s: Secure Boot is on and no db entry of %s authorises the UKI "
					"(unsigned, or signed by a key the firmware does not trust): the firmware refuses it",
			     path, sbcli.vars);
		goto out;
	}
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to predict %s: %s", path, predict_strerror(r));
		goto out;
	}
	*ret = p;
	p = NULL;
out:
	cvm_file_view_close(&img);
	free(p);
	return code;
}

cJSON *prediction_json(const struct cvm_prediction *p)
{
	cJSON *root = cJSON_CreateObject(), *stub, *banks, *pcrs;
	char hex[2 * CVM_HASH_MAX_SIZE + 1], num[8], tbuf[16];

	if (!root)
		return NULL;
	if (!cJSON_AddNumberToObject(root, "version", 1) ||
	    !cJSON_AddStringToObject(root, "input", input_name(p->input)) ||
	    !(stub = cJSON_AddObjectToObject(root, "stub")) ||
	    !cJSON_AddNumberToObject(stub, "version", p->stub_version) ||
	    !cJSON_AddStringToObject(stub, "ident", p->stub_ident) ||
	    !cJSON_AddBoolToObject(root, "secure_boot", p->secure_boot) ||
	    !(banks = cJSON_AddArrayToObject(root, "banks")) ||
	    !(pcrs = cJSON_AddObjectToObject(root, "pcrs")))
		goto fail;
	if (p->sb_source[0]) {
		cJSON *o = cJSON_AddObjectToObject(root, "secureboot_vars");
		if (!o || !cJSON_AddStringToObject(o, "source", p->sb_source) ||
		    !cJSON_AddBoolToObject(o, "inferred", p->sb_inferred))
			goto fail;
	}
	for (size_t b = 0; b < p->n_banks; b++) {
		cJSON *s = cJSON_CreateString(cvm_hash_name(p->banks[b]));
		if (!s)
			goto fail;
		cJSON_AddItemToArray(banks, s);
	}
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		const struct cvm_predict_pcr *x = &p->pcr[i];
		cJSON *o, *values, *events;

		snprintf(num, sizeof(num), "%u", i);
		if (!(o = cJSON_AddObjectToObject(pcrs, num)) ||
		    !cJSON_AddStringToObject(o, "name", cvm_pcr_info(i)->name) ||
		    !cJSON_AddStringToObject(o, "status", status_name(x->status)) ||
		    !cJSON_AddStringToObject(o, "why", x->why ? x->why : ""))
			goto fail;
		if (x->profile && !cJSON_AddStringToObject(o, "profile", x->profile))
			goto fail;
		if (x->status != CVM_PREDICT_PREDICTED)
			continue;
		if (!(values = cJSON_AddObjectToObject(o, "values")) || !(events = cJSON_AddArrayToObject(o, "events")))
			goto fail;
		for (size_t b = 0; b < p->n_banks; b++) {
			cvm_hex_encode(x->value[b], cvm_hash_size(p->banks[b]), hex);
			if (!cJSON_AddStringToObject(values, cvm_hash_name(p->banks[b]), hex))
				goto fail;
		}
		for (size_t k = 0; k < x->n_events; k++) {
			const struct cvm_predict_event *e = &x->events[k];
			const char *tname;
			cJSON *eo = cJSON_CreateObject(), *digests;

			if (!eo)
				goto fail;
			cJSON_AddItemToArray(events, eo);
			type_label(e->type, tbuf, &tname);
			if (!cJSON_AddStringToObject(eo, "type", tname) ||
			    !cJSON_AddStringToObject(eo, "description", e->desc) ||
			    !(digests = cJSON_AddObjectToObject(eo, "digests")))
				goto fail;
			for (size_t b = 0; b < p->n_banks; b++) {
				cvm_hex_encode(e->digest[b], cvm_hash_size(p->banks[b]), hex);
				if (!cJSON_AddStringToObject(digests, cvm_hash_name(p->banks[b]), hex))
					goto fail;
			}
		}
	}
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}
