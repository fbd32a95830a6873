/* cvm-measure: PCR prediction and event-log tools.  One function per verb,
 * dispatched from the verb table; each verb parses its own options.
 * Exit codes: 0 ok, 1 mismatch, 2 usage, 3 I/O or parse error. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cvmkit/bytes.h"
#include "cvmkit/capture.h"
#include "cvmkit/eventlog.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/pcr.h"
#include "cvmkit/corim.h"
#include "cvmkit/predict.h"
#include "cvmkit/refvalues.h"
#include "cvmkit/sbvars.h"
#include "cvmkit/sign.h"
#include "cvmkit/writeout.h"

#include "cli/cli.h"

/* Event logs are tens of KiB; anything near this is not one. */
#define MAX_LOG_SIZE (16u << 20)

/* --------------------------------------------------------------- replay */

struct replay_opts {
	const char *path;
	bool json;
	bool bank_sel[CVM_EVLOG_MAX_BANKS];   /* per bank of the log, when any_bank */
	uint16_t want_alg[CVM_EVLOG_MAX_BANKS];
	size_t n_want;
	bool pcr_sel[CVM_PCR_COUNT];
	bool any_pcr;
};

/* "0,4,9" or "0-7,11"; 0 or -EINVAL. */
static int parse_pcr_list(const char *arg, bool sel[CVM_PCR_COUNT])
{
	const char *p = arg;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b;

		if (end == p || a >= CVM_PCR_COUNT)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtoul(p, &end, 10);
			if (end == p || b >= CVM_PCR_COUNT || b < a)
				return -EINVAL;
		}
		for (unsigned long i = a; i <= b; i++)
			sel[i] = true;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static int parse_bank_list(const char *arg, struct replay_opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		enum cvm_hash_alg alg;

		if (cvm_hash_from_name(tok, &alg) < 0 || o->n_want >= CVM_EVLOG_MAX_BANKS) {
			r = -EINVAL;
			break;
		}
		o->want_alg[o->n_want++] = (uint16_t)alg;
	}
	free(copy);
	return r;
}

static bool alg_wanted(const struct replay_opts *o, uint16_t alg)
{
	if (o->n_want == 0)
		return true;
	for (size_t i = 0; i < o->n_want; i++)
		if (o->want_alg[i] == alg)
			return true;
	return false;
}

static void alg_label(uint16_t alg, char out[16])
{
	const char *name = cvm_hash_name((enum cvm_hash_alg)alg);

	if (name)
		snprintf(out, 16, "%s", name);
	else
		snprintf(out, 16, "0x%04x", alg);
}

static void type_label(uint32_t type, char out[16], const char **ret)
{
	*ret = cvm_evlog_type_name(type);
	if (!*ret) {
		snprintf(out, 16, "0x%08x", type);
		*ret = out;
	}
}

static size_t bank_size(const struct cvm_evlog *log, uint16_t alg)
{
	for (size_t i = 0; i < log->n_banks; i++)
		if (log->banks[i].alg == alg)
			return log->banks[i].size;
	return 0;
}

/* The PCRs shown: the selection if given, else those the log touched. */
static bool pcr_shown(const struct replay_opts *o, const struct cvm_pcr_bank_values *v, unsigned i)
{
	return o->any_pcr ? o->pcr_sel[i] : v->touched[i];
}

static int replay_text(const struct replay_opts *o, struct cvm_evlog *log,
		       const struct cvm_pcr_bank_values *v, size_t nv)
{
	struct cvm_evlog_event ev;
	char desc[512], hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16], abuf[16];
	const char *tname;
	size_t idx = 0;
	int r;

	while ((r = cvm_evlog_next(log, &ev)) > 0) {
		size_t i = idx++;

		if (o->any_pcr && !o->pcr_sel[ev.pcr])
			continue;
		type_label(ev.type, tbuf, &tname);
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		printf("event %zu: PCR %u %s: %s\n", i, ev.pcr, tname, desc);
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (!alg_wanted(o, ev.digests[d].alg))
				continue;
			alg_label(ev.digests[d].alg, abuf);
			cvm_hex_encode(ev.digests[d].digest, bank_size(log, ev.digests[d].alg), hex);
			printf("  %-7s %s\n", abuf, hex);
		}
	}
	if (r < 0)
		return r;
	for (size_t b = 0; b < nv; b++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)v[b].alg);

		if (!alg_wanted(o, v[b].alg))
			continue;
		alg_label(v[b].alg, abuf);
		printf("pcrs %s:\n", abuf);
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			if (!pcr_shown(o, &v[b], i))
				continue;
			cvm_hex_encode(v[b].pcr[i], sz, hex);
			printf("  %2u: %s\n", i, hex);
		}
	}
	return 0;
}

static int replay_json(const struct replay_opts *o, struct cvm_evlog *log,
		       const struct cvm_pcr_bank_values *v, size_t nv)
{
	cJSON *root = cJSON_CreateObject(), *banks, *events;
	struct cvm_evlog_event ev;
	char desc[512], hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16], abuf[16], num[8];
	const char *tname;
	char *text = NULL;
	size_t idx = 0;
	int r = -ENOMEM;

	if (!root)
		goto out;
	banks = cJSON_AddObjectToObject(root, "banks");
	events = cJSON_AddArrayToObject(root, "events");
	if (!banks || !events)
		goto out;
	for (size_t b = 0; b < nv; b++) {
		size_t sz = cvm_hash_size((enum cvm_hash_alg)v[b].alg);
		cJSON *bank;

		if (!alg_wanted(o, v[b].alg))
			continue;
		alg_label(v[b].alg, abuf);
		bank = cJSON_AddObjectToObject(banks, abuf);
		if (!bank)
			goto out;
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			if (!pcr_shown(o, &v[b], i))
				continue;
			snprintf(num, sizeof(num), "%u", i);
			cvm_hex_encode(v[b].pcr[i], sz, hex);
			if (!cJSON_AddStringToObject(bank, num, hex))
				goto out;
		}
	}
	while ((r = cvm_evlog_next(log, &ev)) > 0) {
		size_t i = idx++;
		cJSON *e, *digests;

		r = -ENOMEM;
		if (o->any_pcr && !o->pcr_sel[ev.pcr])
			continue;
		type_label(ev.type, tbuf, &tname);
		cvm_evlog_describe(&ev, desc, sizeof(desc));
		e = cJSON_CreateObject();
		if (!e)
			goto out;
		cJSON_AddItemToArray(events, e);
		if (!cJSON_AddNumberToObject(e, "index", (double)i) ||
		    !cJSON_AddNumberToObject(e, "pcr", ev.pcr) ||
		    !cJSON_AddStringToObject(e, "type", tname) ||
		    !(digests = cJSON_AddObjectToObject(e, "digests")))
			goto out;
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (!alg_wanted(o, ev.digests[d].alg))
				continue;
			alg_label(ev.digests[d].alg, abuf);
			cvm_hex_encode(ev.digests[d].digest, bank_size(log, ev.digests[d].alg), hex);
			if (!cJSON_AddStringToObject(digests, abuf, hex))
				goto out;
		}
		if (!cJSON_AddStringToObject(e, "description", desc))
			goto out;
	}
	if (r < 0)
		goto out;
	r = -ENOMEM;
	text = cJSON_Print(root);
	if (!text)
		goto out;
	puts(text);
	r = 0;
out:
	free(text);
	cJSON_Delete(root);
	return r;
}

/* Re-parses a log that failed to replay to say where it went wrong. */
static void explain_failure(const uint8_t *buf, size_t len, int err, char *why, size_t n)
{
	struct cvm_evlog log;
	struct cvm_evlog_event ev;
	int r;

	if (err == -ENODATA) {
		struct cvm_evlog_event bad;
		size_t idx, at = 0;
		char missing[80] = "", tbuf[16];
		const char *tname;

		if (cvm_evlog_first_incomplete(buf, len, &bad, &idx) != 1 || cvm_evlog_open(&log, buf, len) < 0) {
			snprintf(why, n, "an event lacks the digest of a bank the log declares");
			return;
		}
		for (size_t b = 0; b < log.n_banks; b++) {
			bool have = false;
			char a[16];

			for (size_t d = 0; d < bad.n_digests; d++)
				have |= bad.digests[d].alg == log.banks[b].alg;
			if (have)
				continue;
			alg_label(log.banks[b].alg, a);
			at += (size_t)snprintf(missing + at, sizeof(missing) - at, "%s%s", at ? "," : "", a);
			if (at >= sizeof(missing))
				break;
		}
		type_label(bad.type, tbuf, &tname);
		snprintf(why, n, "event %zu (PCR %u, %s) at offset %zu has no %s digest, though the log declares that bank",
			 idx, bad.pcr, tname, bad.offset, missing);
		return;
	}
	if (err != -EBADMSG && err != -E2BIG) {
		snprintf(why, n, "%s", strerror(-err));
		return;
	}
	if (cvm_evlog_open(&log, buf, len) < 0) {
		snprintf(why, n, "malformed log header");
		return;
	}
	while ((r = cvm_evlog_next(&log, &ev)) > 0)
		;
	if (r == -E2BIG)
		snprintf(why, n, "more than %u events", CVM_EVLOG_MAX_EVENTS);
	else if (r < 0)
		snprintf(why, n, "malformed event %zu at offset %zu", log.n_events, log.off);
	else
		snprintf(why, n, "StartupLocality or H-CRTM event out of place");
}

static void replay_help(FILE *f)
{
	fputs("usage: " PROG " replay EVENTLOG [--json] [--bank NAME[,NAME...]] [--pcrs LIST]\n"
	      "  Parse a TCG event log (binary_bios_measurements) and replay it.\n"
	      "  --json          one JSON object: {\"banks\":{...},\"events\":[...]}\n"
	      "  --bank NAMES    only these banks (sha1, sha256, sha384, sha512)\n"
	      "  --pcrs LIST     only these PCRs, e.g. 0,4,9 or 0-7,11\n", f);
}

static int verb_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "bank", required_argument, NULL, 'b' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct replay_opts o = { 0 };
	struct cvm_pcr_bank_values *v = NULL;
	struct cvm_evlog log;
	uint8_t *buf = NULL;
	size_t len = 0, nv = 0;
	int c, r, code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			replay_help(stdout);
			return EXIT_OK;
		case 'j':
			o.json = true;
			break;
		case 'b':
			if (parse_bank_list(optarg, &o) < 0)
				return usage_error("unable to parse --bank %s: unknown bank", optarg);
			break;
		case 'p':
			if (parse_pcr_list(optarg, o.pcr_sel) < 0)
				return usage_error("unable to parse --pcrs %s: expected indices 0-23 like 0,4,9", optarg);
			o.any_pcr = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("unable to replay: expected exactly one EVENTLOG argument");
	o.path = argv[optind];

	r = cvm_read_file(o.path, MAX_LOG_SIZE, &buf, &len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", o.path, strerror(-r));
		goto out;
	}
	v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	if (!v) {
		code = fatal(EXIT_DATA, "unable to replay %s: %s", o.path, strerror(ENOMEM));
		goto out;
	}
	r = cvm_evlog_replay(buf, len, v, CVM_EVLOG_MAX_BANKS, &nv);
	if (r < 0) {
		char why[256];
		explain_failure(buf, len, r, why, sizeof(why));
		code = fatal(EXIT_DATA, "unable to replay %s: %s", o.path, why);
		goto out;
	}
	for (size_t i = 0; i < o.n_want; i++) {
		bool found = false;
		for (size_t b = 0; b < nv; b++)
			found |= v[b].alg == o.want_alg[i];
		if (!found) {
			char abuf[16];
			alg_label(o.want_alg[i], abuf);
			code = fatal(EXIT_DATA, "unable to select bank %s: not in %s", abuf, o.path);
			goto out;
		}
	}
	/* The replay above validated the whole log, so the second pass cannot fail on parsing. */
	r = cvm_evlog_open(&log, buf, len);
	if (r >= 0)
		r = o.json ? replay_json(&o, &log, v, nv) : replay_text(&o, &log, v, nv);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print %s: %s", o.path, strerror(-r));
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		code = fatal(EXIT_DATA, "unable to write output: %s", strerror(errno));
out:
	free(v);
	free(buf);
	return code;
}

/* -------------------------------------------------------------- predict */
/* Disk images are read whole; Azure OS disks of cvmkit images are tens of MiB. */
#define MAX_IMAGE_SIZE ((size_t)4 << 30)

static const char *status_name(enum cvm_predict_status s)
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

static const char *input_name(enum cvm_predict_input in)
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

struct predict_cli {
	struct cvm_predict_opts opts;
	bool json;
};

static int parse_predict_banks(const char *arg, struct cvm_predict_opts *o)
{
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

static int parse_stub_version(const char *arg, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end || v == 0 || v > 100000)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

static int parse_failed_boots(const char *arg, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (end == arg || *end || v > CVM_PREDICT_MAX_FAILED_BOOTS)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* --secureboot-vars SOURCE, --secure-boot on|off, --secureboot-db-append CERT:
 * shared by every verb that predicts, applied in load_prediction(). */
#define SB_LONGOPTS                                                             \
	{ "secureboot-vars", required_argument, NULL, 'S' },                    \
	{ "secure-boot", required_argument, NULL, 'B' },                        \
	{ "secureboot-db-append", required_argument, NULL, 'A' }
#define SB_HELP                                                                                     \
	"  --secureboot-vars SOURCE  the platform's Secure Boot variables for PCR 7: an edk2/OVMF\n"     \
	"                    varstore (the VARS .fd the VM boots with) or an Azure key template JSON\n" \
	"                    (Hyper-V model, inferred) or a folder of PK.esl KEK.esl db.esl dbx.esl;\n"  \
	"                    PCR 7 then joins the reference values\n"                                   \
	"  --secure-boot on|off  Secure Boot state (default: from a varstore; required for a template)\n" \
	"  --secureboot-db-append CERT  a certificate the platform appends to db (Azure additionalSignatures)\n"

static struct {
	const char *vars, *append[8];
	size_t n_append;
	int state; /* -1 unset */
	bool loaded;
	struct cvm_sbvars v;
} sbcli = { .state = -1 };

static int sb_option(int c, const char *arg)
{
	switch (c) {
	case 'S':
		sbcli.vars = arg;
		return 0;
	case 'B':
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			return usage_error("unable to parse --secure-boot %s: expected on or off", arg);
		sbcli.state = !strcmp(arg, "on");
		return 0;
	default:
		if (sbcli.n_append == 8)
			return usage_error("unable to take more than 8 --secureboot-db-append certificates");
		sbcli.append[sbcli.n_append++] = arg;
		return 0;
	}
}

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
static int load_prediction(const char *path, const struct cvm_predict_opts *opts_in, struct cvm_prediction **ret)
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

static cJSON *prediction_json(const struct cvm_prediction *p)
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

static void prediction_header(const struct cvm_prediction *p, const char *path)
{
	printf("image: %s (%s), systemd-stub %s (modelled as %u), Secure Boot %s\n", path, input_name(p->input),
	       p->stub_ident[0] ? p->stub_ident : "(version given)", p->stub_version, p->secure_boot ? "on" : "off");
	if (p->sb_source[0])
		printf("Secure Boot variables: %s%s\n", p->sb_source, p->sb_inferred ? " [inferred]" : "");
}

static void prediction_text(const struct cvm_prediction *p, const bool sel[CVM_PCR_COUNT])
{
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		const struct cvm_predict_pcr *x = &p->pcr[i];

		if (sel && !sel[i])
			continue;
		printf("PCR %u (%s): %s%s%s%s: %s\n", i, cvm_pcr_info(i)->name, status_name(x->status),
		       x->profile ? " [profile " : "", x->profile ? x->profile : "", x->profile ? "]" : "",
		       x->why ? x->why : "");
		if (x->status != CVM_PREDICT_PREDICTED)
			continue;
		for (size_t b = 0; b < p->n_banks; b++) {
			cvm_hex_encode(x->value[b], cvm_hash_size(p->banks[b]), hex);
			printf("  %-7s %s\n", cvm_hash_name(p->banks[b]), hex);
		}
		for (size_t k = 0; k < x->n_events; k++) {
			type_label(x->events[k].type, tbuf, &tname);
			printf("  event %zu %s: %s\n", k, tname, x->events[k].desc);
			for (size_t b = 0; b < p->n_banks; b++) {
				cvm_hex_encode(x->events[k].digest[b], cvm_hash_size(p->banks[b]), hex);
				printf("    %-7s %s\n", cvm_hash_name(p->banks[b]), hex);
			}
		}
	}
}

static int print_json(cJSON *root)
{
	char *text = root ? cJSON_Print(root) : NULL;

	if (!text)
		return -ENOMEM;
	puts(text);
	free(text);
	return 0;
}

static int finish_stdout(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout))
		return fatal(EXIT_DATA, "unable to write output: %s", strerror(errno));
	return code;
}

static void predict_help(FILE *f)
{
	fputs("usage: " PROG " predict IMAGE [--json] [--bank NAME[,NAME...]] [--stub-version N] [--pcrs LIST]\n"
	      "  Predict the PCRs a boot of IMAGE (a UKI, a raw GPT disk or a fixed VHD) produces.\n"
	      "  --json            one JSON object (see measure/README.md)\n"
	      "  --bank NAMES      banks to predict (default sha256,sha384; also sha1, sha512)\n"
	      "  --stub-version N  model systemd-stub N instead of the version the stub names\n"
	      "  --failed-boot-options N  boot options the firmware tries before the UKI's (default 0)\n"
	      "  --pcrs LIST       text output: only these PCRs, e.g. 4,9,11\n" SB_HELP, f);
}

static int verb_predict(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "bank", required_argument, NULL, 'b' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_prediction *p = NULL;
	bool json = false, sel[CVM_PCR_COUNT] = { false }, any = false;
	int c, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			predict_help(stdout);
			return EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'b':
			if (parse_predict_banks(optarg, &opts) < 0)
				return usage_error("unable to parse --bank %s: unknown or repeated bank", optarg);
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0)
				return usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
			break;
		case 'p':
			if (parse_pcr_list(optarg, sel) < 0)
				return usage_error("unable to parse --pcrs %s: expected indices 0-23 like 4,9,11", optarg);
			any = true;
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0)
				return usage_error("unable to parse --failed-boot-options %s: expected 0-%d", optarg,
						   CVM_PREDICT_MAX_FAILED_BOOTS);
			break;
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
	if (optind + 1 != argc)
		return usage_error("unable to predict: expected exactly one IMAGE argument");
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		return code;
	if (json) {
		cJSON *root = prediction_json(p);
		if (print_json(root) < 0)
			code = fatal(EXIT_DATA, "unable to print the prediction: %s", strerror(ENOMEM));
		cJSON_Delete(root);
	} else {
		prediction_header(p, argv[optind]);
		prediction_text(p, any ? sel : NULL);
	}
	free(p);
	return finish_stdout(code);
}

/* -------------------------------------------------------------- explain */

/* One event of a PCR in the log, for the first-difference search. */
struct log_event {
	size_t index;                 /* in the log, header = 0 */
	uint32_t type;
	char desc[160];
	bool have;
	uint8_t digest[CVM_HASH_MAX_SIZE];
};

/* The events of PCR pcr in the log that carry a digest for alg (EV_NO_ACTION excluded). */
static int log_events_for(const uint8_t *log, size_t len, unsigned pcr, enum cvm_hash_alg alg,
			  struct log_event **ret, size_t *ret_n)
{
	struct cvm_evlog l;
	struct cvm_evlog_event ev;
	struct log_event *v = NULL;
	size_t n = 0, cap = 0, idx = 0;
	int r;

	r = cvm_evlog_open(&l, log, len);
	if (r < 0)
		return r;
	while ((r = cvm_evlog_next(&l, &ev)) > 0) {
		size_t i = idx++;

		if (ev.pcr != pcr || ev.type == CVM_EV_NO_ACTION)
			continue;
		for (size_t d = 0; d < ev.n_digests; d++) {
			if (ev.digests[d].alg != (uint16_t)alg)
				continue;
			if (n == cap) {
				struct log_event *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));
				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				v = nv;
			}
			v[n].index = i;
			v[n].type = ev.type;
			v[n].have = true;
			cvm_evlog_describe(&ev, v[n].desc, sizeof(v[n].desc));
			memcpy(v[n].digest, ev.digests[d].digest, cvm_hash_size(alg));
			n++;
		}
	}
	if (r < 0) {
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

struct explain_row {
	unsigned pcr;
	enum cvm_hash_alg alg;
	bool have_pred, have_log, have_quote, match;
	const uint8_t *pred, *logged, *quoted;
	bool diff;                    /* a first difference was located */
	size_t diff_at;               /* index among this PCR's events */
	const struct cvm_predict_event *expected;   /* NULL: the prediction has no more events */
	struct log_event logged_ev;   /* .have false: the log has no more events */
};

static void hexs(const uint8_t *d, enum cvm_hash_alg alg, char *out)
{
	cvm_hex_encode(d, cvm_hash_size(alg), out);
}

static cJSON *explain_row_json(const struct explain_row *x, const struct cvm_prediction *p, size_t b)
{
	cJSON *o = cJSON_CreateObject(), *fd, *e;
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "pcr", x->pcr);
	cJSON_AddStringToObject(o, "bank", cvm_hash_name(x->alg));
	cJSON_AddStringToObject(o, "status", status_name(p->pcr[x->pcr].status));
	if (x->have_pred) {
		hexs(x->pred, x->alg, hex);
		cJSON_AddStringToObject(o, "predicted", hex);
	}
	if (x->have_log) {
		hexs(x->logged, x->alg, hex);
		cJSON_AddStringToObject(o, "logged", hex);
	}
	if (x->have_quote) {
		hexs(x->quoted, x->alg, hex);
		cJSON_AddStringToObject(o, "quoted", hex);
	}
	cJSON_AddBoolToObject(o, "match", x->match);
	if (!x->diff)
		return o;
	fd = cJSON_AddObjectToObject(o, "first_difference");
	if (!fd)
		return o;
	cJSON_AddNumberToObject(fd, "event", (double)x->diff_at);
	if (x->expected && (e = cJSON_AddObjectToObject(fd, "expected"))) {
		type_label(x->expected->type, tbuf, &tname);
		cJSON_AddStringToObject(e, "type", tname);
		cJSON_AddStringToObject(e, "description", x->expected->desc);
		hexs(x->expected->digest[b], x->alg, hex);
		cJSON_AddStringToObject(e, "digest", hex);
	}
	if (x->logged_ev.have && (e = cJSON_AddObjectToObject(fd, "logged"))) {
		type_label(x->logged_ev.type, tbuf, &tname);
		cJSON_AddNumberToObject(e, "index", (double)x->logged_ev.index);
		cJSON_AddStringToObject(e, "type", tname);
		cJSON_AddStringToObject(e, "description", x->logged_ev.desc);
		hexs(x->logged_ev.digest, x->alg, hex);
		cJSON_AddStringToObject(e, "digest", hex);
	}
	return o;
}

static void explain_row_text(const struct explain_row *x, const struct cvm_prediction *p, size_t b)
{
	char hex[2 * CVM_HASH_MAX_SIZE + 1], tbuf[16];
	const char *tname;

	printf("PCR %2u %-6s %-8s %s\n", x->pcr, cvm_hash_name(x->alg), x->match ? "match" : "MISMATCH",
	       status_name(p->pcr[x->pcr].status));
	if (x->have_pred) {
		hexs(x->pred, x->alg, hex);
		printf("  predicted %s\n", hex);
	}
	if (x->have_log) {
		hexs(x->logged, x->alg, hex);
		printf("  logged    %s\n", hex);
	}
	if (x->have_quote) {
		hexs(x->quoted, x->alg, hex);
		printf("  quoted    %s\n", hex);
	}
	if (!x->diff)
		return;
	printf("  first difference at event %zu of PCR %u:\n", x->diff_at, x->pcr);
	if (x->expected) {
		type_label(x->expected->type, tbuf, &tname);
		hexs(x->expected->digest[b], x->alg, hex);
		printf("    expected %s: %s\n             %s\n", tname, x->expected->desc, hex);
	} else {
		printf("    expected no further event\n");
	}
	if (x->logged_ev.have) {
		type_label(x->logged_ev.type, tbuf, &tname);
		hexs(x->logged_ev.digest, x->alg, hex);
		printf("    logged   %s (log event %zu): %s\n             %s\n", tname, x->logged_ev.index,
		       x->logged_ev.desc, hex);
	} else {
		printf("    logged   no further event\n");
	}
}

static void explain_help(FILE *f)
{
	fputs("usage: " PROG " explain IMAGE --eventlog FILE [--pcrs FILE] [--json] [--all]\n"
	      "                [--bank NAMES] [--stub-version N] [--failed-boot-options N]\n"
	      "  Compare the prediction for IMAGE with a boot's event log (and the PCRs the TPM\n"
	      "  reported): per PCR predicted / logged / quoted, and for a mismatch the first\n"
	      "  event that differs and what the image expected there.\n"
	      "  --eventlog FILE  binary_bios_measurements, or a serial log / file holding the\n"
	      "                   init's CVMKIT-MEASURED-BOOT line with the event log (base64)\n"
	      "  --pcrs FILE      quoted PCRs: a CVMKIT-MEASURED-BOOT line (serial log) or\n"
	      "                   \"N: hex\" lines; default: the line in --eventlog, if any\n"
	      "  --all            also list PCRs that are neither predicted nor in the log\n"
	      "  exit status 1 when any compared value differs\n" SB_HELP, f);
}

static int verb_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "eventlog", required_argument, NULL, 'e' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "bank", required_argument, NULL, 'b' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_prediction *p = NULL;
	struct cvm_capture cap = { 0 }, quote = { 0 };
	struct cvm_pcr_bank_values *v = NULL;
	const char *evpath = NULL, *pcrpath = NULL;
	uint8_t *evbuf = NULL, *pbuf = NULL;
	const uint8_t *log = NULL;
	size_t evlen = 0, plen = 0, loglen = 0, nv = 0;
	bool json = false, all = false, have_quote = false, any_mismatch = false;
	cJSON *root = NULL, *rows = NULL;
	int c, r, code = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			explain_help(stdout);
			return EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'e':
			evpath = optarg;
			break;
		case 'p':
			pcrpath = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'b':
			if (parse_predict_banks(optarg, &opts) < 0)
				return usage_error("unable to parse --bank %s: unknown or repeated bank", optarg);
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0)
				return usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0)
				return usage_error("unable to parse --failed-boot-options %s: expected 0-%d", optarg,
						   CVM_PREDICT_MAX_FAILED_BOOTS);
			break;
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
	if (optind + 1 != argc)
		return usage_error("unable to explain: expected exactly one IMAGE argument");
	if (!evpath)
		return usage_error("unable to explain: --eventlog FILE is required");

	r = cvm_read_file(evpath, CVM_CAPTURE_MAX_INPUT, &evbuf, &evlen);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to read %s: %s", evpath, strerror(-r));
		goto out;
	}
	/* A binary log starts with the PCR 0 header record; anything else is
	 * taken as a serial log carrying the init's line. */
	{
		struct cvm_evlog probe;

		if (cvm_evlog_open(&probe, evbuf, evlen) == 0 && evlen >= 8 && cvm_le32(evbuf) == 0) {
			log = evbuf;
			loglen = evlen;
		} else {
			r = cvm_capture_parse_line(evbuf, evlen, &cap);
			if (r < 0 || !cap.eventlog) {
				code = fatal(EXIT_DATA, "unable to read an event log from %s: %s", evpath,
					     r < 0 ? (r == -ENOENT ? "neither a binary event log nor a CVMKIT-MEASURED-BOOT line"
								   : "malformed CVMKIT-MEASURED-BOOT line")
						   : "the CVMKIT-MEASURED-BOOT line carries no event log (dump_eventlog = yes)");
				goto out;
			}
			log = cap.eventlog;
			loglen = cap.eventlog_len;
			have_quote = !pcrpath;
			if (have_quote)
				quote = cap, cap.eventlog = NULL;
		}
	}
	if (pcrpath) {
		r = cvm_read_file(pcrpath, CVM_CAPTURE_MAX_INPUT, &pbuf, &plen);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to read %s: %s", pcrpath, strerror(-r));
			goto out;
		}
		r = cvm_capture_parse(pbuf, plen, &quote);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to parse %s: neither a CVMKIT-MEASURED-BOOT line nor \"N: hex\" lines",
				     pcrpath);
			goto out;
		}
		have_quote = true;
	}
	v = calloc(CVM_EVLOG_MAX_BANKS, sizeof(*v));
	if (!v) {
		code = fatal(EXIT_DATA, "unable to explain: %s", strerror(ENOMEM));
		goto out;
	}
	r = cvm_evlog_replay(log, loglen, v, CVM_EVLOG_MAX_BANKS, &nv);
	if (r < 0) {
		char why[256];
		explain_failure(log, loglen, r, why, sizeof(why));
		code = fatal(EXIT_DATA, "unable to replay the event log of %s: %s", evpath, why);
		goto out;
	}
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		goto out;
	if (json) {
		root = cJSON_CreateObject();
		rows = root ? cJSON_AddArrayToObject(root, "pcrs") : NULL;
		if (!rows) {
			code = fatal(EXIT_DATA, "unable to explain: %s", strerror(ENOMEM));
			goto out;
		}
	}
	for (size_t b = 0; b < p->n_banks; b++) {
		enum cvm_hash_alg alg = p->banks[b];
		const struct cvm_pcr_bank_values *lv = NULL;
		const struct cvm_capture_bank *qv = have_quote ? cvm_capture_bank(&quote, alg) : NULL;
		size_t sz = cvm_hash_size(alg);

		for (size_t k = 0; k < nv; k++)
			if (v[k].alg == (uint16_t)alg)
				lv = &v[k];
		for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
			const struct cvm_predict_pcr *x = &p->pcr[i];
			struct explain_row row = { .pcr = i, .alg = alg, .match = true };

			row.have_pred = x->status == CVM_PREDICT_PREDICTED;
			row.pred = x->value[b];
			row.have_log = lv && lv->touched[i];
			row.logged = lv ? lv->pcr[i] : NULL;
			row.have_quote = qv && qv->have[i];
			row.quoted = qv ? qv->pcr[i] : NULL;
			if (!row.have_pred && !row.have_log && !all)
				continue;
			/* The log covers a PCR fully only when the log has its bank:
			 * an untouched PCR is then at its reset value. */
			if (row.have_pred && lv && !row.have_log) {
				row.have_log = true;
			}
			if (row.have_pred && row.have_log && memcmp(row.pred, row.logged, sz) != 0)
				row.match = false;
			if (row.have_pred && row.have_quote && memcmp(row.pred, row.quoted, sz) != 0)
				row.match = false;
			if (lv && lv->touched[i] && row.have_quote && memcmp(row.logged, row.quoted, sz) != 0)
				row.match = false;
			if (!row.match && row.have_pred && lv) {
				struct log_event *le = NULL;
				size_t n = 0, k;

				r = log_events_for(log, loglen, i, alg, &le, &n);
				if (r < 0) {
					code = fatal(EXIT_DATA, "unable to explain: %s", strerror(-r));
					goto out;
				}
				for (k = 0; k < x->n_events && k < n; k++)
					if (memcmp(x->events[k].digest[b], le[k].digest, sz) != 0)
						break;
				if (k < x->n_events || k < n) {
					row.diff = true;
					row.diff_at = k;
					row.expected = k < x->n_events ? &x->events[k] : NULL;
					if (k < n)
						row.logged_ev = le[k];
				}
				free(le);
			}
			any_mismatch |= !row.match;
			if (json) {
				cJSON *o = explain_row_json(&row, p, b);
				if (o)
					cJSON_AddItemToArray(rows, o);
			} else {
				explain_row_text(&row, p, b);
			}
		}
	}
	if (json) {
		cJSON_AddBoolToObject(root, "match", !any_mismatch);
		if (print_json(root) < 0) {
			code = fatal(EXIT_DATA, "unable to print: %s", strerror(ENOMEM));
			goto out;
		}
	} else {
		printf("%s\n", any_mismatch ? "result: MISMATCH" : "result: match");
	}
	code = finish_stdout(any_mismatch ? EXIT_MISMATCH : EXIT_OK);
out:
	cJSON_Delete(root);
	cvm_capture_free(&cap);
	cvm_capture_free(&quote);
	free(v);
	free(p);
	free(pbuf);
	free(evbuf);
	return code;
}

/* -------------------------------------------------------------- capture */

/* ----------------------------------------------------- reference values */

enum rv_format { RV_RVPS, RV_MAP, RV_LOCAL_JSON, RV_CONFIGMAP };

static int parse_format(const char *arg, int *ret)
{
	static const char *const names[] = { "rvps", "map", "local-json", "configmap" };

	for (int i = 0; i < (int)CVM_ARRAY_SIZE(names); i++)
		if (strcmp(arg, names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static int print_rvs(const struct cvm_rv_set *s, int format)
{
	char *text = NULL;
	int r = format == RV_MAP	 ? cvm_rv_map_json(s, true, &text)
		: format == RV_LOCAL_JSON ? cli_rv_local_json(s, &text)
		: format == RV_CONFIGMAP  ? cli_rv_configmap(s, &text)
					  : cvm_rv_rvps_message(s, &text);

	if (r < 0)
		return r;
	fputs(text, stdout);
	if (format == RV_RVPS || format == RV_MAP)
		putchar('\n');
	free(text);
	return 0;
}

/* Reads a serial log (or "N: hex" file) and adds its SHA-256 PCRs. */
static int add_capture_file(struct cvm_rv_set *s, const char *path, const bool *sel)
{
	struct cvm_capture c = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r, code = EXIT_OK;

	r = cvm_read_file(path, CVM_CAPTURE_MAX_INPUT, &buf, &len);
	if (r < 0)
		return fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(-r));
	r = cvm_capture_parse(buf, len, &c);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to parse %s: %s", path,
			     r == -EBADMSG ? "no CVMKIT-MEASURED-BOOT line and not \"N: hex\" lines (or malformed)"
					   : strerror(-r));
		goto out;
	}
	r = cvm_rv_add_capture(s, &c, sel);
	if (r < 0)
		code = fatal(EXIT_DATA, "unable to take reference values from %s: %s", path,
			     r == -EINVAL ? "no SHA-256 PCRs" : "too many distinct values for one PCR");
out:
	cvm_capture_free(&c);
	free(buf);
	return code;
}

static void rv_help(FILE *f)
{
	fputs("usage: " PROG " reference-values IMAGE... [--format=rvps|map|local-json|configmap] [--capture SERIAL_LOG]...\n"
	      "                [--with-profile-pcrs] [--with-pcr5] [--initdata FILE]... [--platform azure|none]\n"
	      "                [--stub-version N] [--failed-boot-options N]\n"
	      "  Trustee reference values for the image-determined PCRs (4, 8, 9, 11, 12, 13; 5 of a\n"
	      "  disk image with --with-pcr5): snp_pcrNN, tdx_pcrNN and tpm_pcrNN, arrays of lowercase hex\n"
	      "  SHA-256.  Several IMAGEs give several accepted values per name.\n"
	      "  --format=rvps       (default) the RVPS message {\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":base64}\n"
	      "  --format=map        the bare map\n"
	      "  --format=local-json the trustee-operator's LocalJson reference_value file\n"
	      "  --format=configmap  a ConfigMap (rvps-reference-values) carrying that file\n"
	      "  --capture FILE      also the PCRs of a golden boot (see capture)\n"
	      "  --with-profile-pcrs also PCR 7 as the QEMU/OVMF profile predicts it (not for Azure)\n"
	      "  --with-pcr5         also PCR 5 (GPT, ExitBootServices): left out by default, as firmware\n"
	      "                      measures ExitBootServices again when the loader retries it\n"

	      "  --initdata FILE     PCR 8 of this initdata document instead of zero (repeat for several;\n"
	      "                      \"none\" also accepts a boot without initdata)\n"
	      "  --platform azure    also PCR 3 as observed on Azure CVMs (separator only), so the\n"
	      "                      trustee-operator policy finds every name it queries\n" SB_HELP, f);
}

static int verb_reference_values(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, 'F' },
		{ "capture", required_argument, NULL, 'c' },
		{ "with-profile-pcrs", no_argument, NULL, 'w' },
		{ "with-pcr5", no_argument, NULL, '5' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		{ "initdata", required_argument, NULL, 'i' },
		{ "platform", required_argument, NULL, 'P' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_rv_set *s = calloc(1, sizeof(*s));
	unsigned rv_flags = 0;
	const char *captures[16];
	size_t n_captures = 0;
	bool with_profile = false, azure = false;
	struct cli_initdata_opts io = { 0 };
	int format = RV_RVPS;
	int c, r, code = EXIT_OK;

	if (!s)
		return fatal(EXIT_DATA, "unable to build reference values: %s", strerror(ENOMEM));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			rv_help(stdout);
			goto out;
		case 'F':
			if (parse_format(optarg, &format) < 0) {
				code = usage_error("unable to parse --format=%s: expected rvps, map, local-json or configmap", optarg);
				goto out;
			}
			break;
		case 'c':
			if (n_captures == CVM_ARRAY_SIZE(captures)) {
				code = usage_error("unable to take more than %zu --capture files", CVM_ARRAY_SIZE(captures));
				goto out;
			}
			captures[n_captures++] = optarg;
			break;
		case 'w':
			with_profile = true;
			break;
		case 'i':
			if ((code = cli_initdata_option(&io, optarg)) != EXIT_OK)
				goto out;
			break;
		case 'P':
			if ((code = cli_platform_option(optarg, &azure)) != EXIT_OK)
				goto out;
			break;
		case '5':
			rv_flags |= CVM_RV_WITH_PCR5;
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0) {
				code = usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
				goto out;
			}
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0) {
				code = usage_error("unable to parse --failed-boot-options %s", optarg);
				goto out;
			}
			break;
		case 'S':
		case 'B':
		case 'A':
			if (sb_option(c, optarg) != EXIT_OK) {
				code = EXIT_USAGE;
				goto out;
			}
			break;
		default:
			code = EXIT_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		code = usage_error("unable to build reference values: expected at least one IMAGE");
		goto out;
	}
	opts.n_banks = 1;
	opts.banks[0] = CVM_HASH_SHA256;
	for (int i = optind; i < argc; i++) {
		struct cvm_prediction *p = NULL;

		code = load_prediction(argv[i], &opts, &p);
		if (code != EXIT_OK)
			goto out;
		r = cvm_rv_add_prediction(s, p, rv_flags | (with_profile ? CVM_RV_WITH_PROFILE : 0));
		free(p);
		if (r < 0) {
			code = fatal(EXIT_DATA, "unable to add the values of %s: %s", argv[i],
				     r == -ENOSPC ? "too many distinct values for one PCR" : strerror(-r));
			goto out;
		}
	}
	for (size_t i = 0; i < n_captures; i++) {
		code = add_capture_file(s, captures[i], NULL);
		if (code != EXIT_OK)
			goto out;
	}
	code = cli_initdata_apply(&io, s);
	if (code != EXIT_OK)
		goto out;
	cli_platform_apply(azure, s);
	if (sbcli.loaded)
		fprintf(stderr, PROG ": PCR 7 from the Secure Boot variables of %s (Secure Boot %s)\n", sbcli.v.source,
			sbcli.v.secure_boot ? "on" : "off");
	r = print_rvs(s, format);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print reference values: %s", strerror(-r));
		goto out;
	}
	code = finish_stdout(EXIT_OK);
out:
	free(s);
	return code;
}

static void capture_help(FILE *f)
{
	fputs("usage: " PROG " capture SERIAL_LOG [--format=rvps|map] [--pcrs LIST]\n"
	      "  Reference values from a golden boot: the last CVMKIT-MEASURED-BOOT line in\n"
	      "  SERIAL_LOG (or a file of \"N: hex\" lines).  Every SHA-256 PCR it holds but 6 becomes\n"
	      "  snp_pcrNN / tdx_pcrNN / tpm_pcrNN, including the platform PCRs 0-3 and 7 that no\n"
	      "  image prediction can supply.  PCR 6 holds the VM's identity on Azure (a value for\n"
	      "  one VM only): --pcrs LIST keeps exactly those PCRs (e.g. 0-3,7, or 6 to have it).\n", f);
}

static int verb_capture(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, 'F' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct cvm_rv_set *s = NULL;
	bool sel[CVM_PCR_COUNT] = { false }, any = false;
	int format = RV_RVPS;
	int c, r, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			capture_help(stdout);
			return EXIT_OK;
		case 'F':
			if (parse_format(optarg, &format) < 0)
				return usage_error("unable to parse --format=%s: expected rvps or map", optarg);
			break;
		case 'p':
			if (parse_pcr_list(optarg, sel) < 0)
				return usage_error("unable to parse --pcrs %s: expected indices 0-23 like 0-3,6,7", optarg);
			any = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return usage_error("unable to capture: expected exactly one SERIAL_LOG argument");
	s = calloc(1, sizeof(*s));
	if (!s)
		return fatal(EXIT_DATA, "unable to capture: %s", strerror(ENOMEM));
	code = add_capture_file(s, argv[optind], any ? sel : NULL);
	if (code != EXIT_OK)
		goto out;
	r = print_rvs(s, format);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to print reference values: %s",
			     r == -ENODATA ? "no PCR selected" : strerror(-r));
		goto out;
	}
	code = finish_stdout(EXIT_OK);
out:
	free(s);
	return code;
}

/* ---------------------------------------------------------------- corim */

static void corim_help(FILE *f)
{
	fputs("usage: " PROG " corim IMAGE -o FILE [--id ID] [--vendor NAME] [--model NAME]\n"
	      "                [--with-profile-pcrs] [--with-pcr5] [--bank NAMES] [--stub-version N] [--failed-boot-options N]\n"
	      "  The predicted image-determined PCRs as an unsigned CoRIM (CBOR, tag 501) holding one\n"
	      "  CoMID (tag 506) with reference triples: mkey = PCR index, digests [alg-id, value]\n"
	      "  (sha-256 = 1, sha-384 = 7).  -o - writes to stdout.\n" SB_HELP, f);
}

static int verb_corim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, 'o' },
		{ "id", required_argument, NULL, 'i' },
		{ "vendor", required_argument, NULL, 'V' },
		{ "model", required_argument, NULL, 'M' },
		{ "with-profile-pcrs", no_argument, NULL, 'w' },
		{ "with-pcr5", no_argument, NULL, '5' },
		{ "bank", required_argument, NULL, 'b' },
		{ "stub-version", required_argument, NULL, 's' },
		{ "failed-boot-options", required_argument, NULL, 'f' },
		SB_LONGOPTS,
		{ 0 },
	};
	struct cvm_predict_opts opts = { 0 };
	struct cvm_corim_opts co = { 0 };
	struct cvm_prediction *p = NULL;
	const char *out = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int c, r, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			corim_help(stdout);
			return EXIT_OK;
		case 'o':
			out = optarg;
			break;
		case 'i':
			co.id = optarg;
			break;
		case 'V':
			co.vendor = optarg;
			break;
		case 'M':
			co.model = optarg;
			break;
		case 'w':
			co.with_profile = true;
			break;
		case '5':
			co.with_pcr5 = true;
			break;
		case 'b':
			if (parse_predict_banks(optarg, &opts) < 0)
				return usage_error("unable to parse --bank %s: unknown or repeated bank", optarg);
			break;
		case 's':
			if (parse_stub_version(optarg, &opts.stub_version) < 0)
				return usage_error("unable to parse --stub-version %s: expected a number like 257", optarg);
			break;
		case 'f':
			if (parse_failed_boots(optarg, &opts.failed_boot_options) < 0)
				return usage_error("unable to parse --failed-boot-options %s", optarg);
			break;
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
	if (optind + 1 != argc)
		return usage_error("unable to build a CoRIM: expected exactly one IMAGE argument");
	if (!out)
		return usage_error("unable to build a CoRIM: -o FILE is required");
	code = load_prediction(argv[optind], &opts, &p);
	if (code != EXIT_OK)
		return code;
	r = cvm_corim_build(p, &co, &buf, &len);
	if (r < 0) {
		code = fatal(EXIT_DATA, "unable to build a CoRIM for %s: %s", argv[optind],
			     r == -ENODATA ? "no predicted PCR in a bank CoRIM can name (sha256, sha384, sha512)"
					   : strerror(-r));
		goto out;
	}
	if (strcmp(out, "-") == 0) {
		r = cvm_write_all(1, buf, len);
	} else {
		r = cvm_write_file_atomic(out, buf, len, 0644);
	}
	if (r < 0)
		code = fatal(EXIT_DATA, "unable to write %s: %s", out, strerror(-r));
out:
	free(buf);
	free(p);
	return code;
}

/* ---------------------------------------------------------------- publish */

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
static int verb_publish(int argc, char **argv)
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

/* ----------------------------------------------------------------- verbs */

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} verbs[] = {
	{ "capture", verb_capture, "reference values from a golden boot's CVMKIT-MEASURED-BOOT line" },
	{ "corim", verb_corim, "the predicted reference values as a CoRIM (CBOR)" },
	{ "explain", verb_explain, "compare a prediction with a boot's event log and PCRs" },
	{ "initdata", cli_verb_initdata, "digest, PCR 8 and encodings of a CoCo initdata document" },
	{ "predict", verb_predict, "predict the PCRs a boot of an image (UKI, raw disk, VHD) produces" },
	{ "publish", verb_publish, "predict once, write measurements.json, reference-values.json, corim.cbor" },
	{ "reference-values", verb_reference_values, "Trustee RVPS reference values for an image" },
	{ "replay", verb_replay, "replay a TCG event log into PCR values" },
	{ "sign", verb_sign, "sign what publish wrote: signed CoRIM, detached signatures, provenance" },
	{ "verify", verb_verify, "check a signed bundle and its provenance against the files" },
};

static void help(FILE *f)
{
	fputs("usage: " PROG " VERB [OPTIONS...]\n\nverbs:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-18s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n" PROG " VERB --help shows a verb's options.\n"
	      "exit status: 0 ok, 1 mismatch, 2 usage, 3 I/O or parse error\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("unable to run: no verb given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		help(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].run(argc - 1, argv + 1);
	return usage_error("unable to run %s: unknown verb", argv[1]);
}
