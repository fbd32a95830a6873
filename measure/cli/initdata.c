/* cvm-measure initdata, and the --initdata / --platform / trustee-operator
 * outputs of reference-values and publish (measure/cli/cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mbedtls/base64.h>
#include <zlib.h>

#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hex.h"
#include "cvmkit/initdata.h"
#include "cli.h"

#define ANNOTATION "io.katacontainers.config.hypervisor.cc_init_data"
/* PCR 3 read from Azure SEV-SNP CVMs: the EV_SEPARATOR alone
 * (../shared/notes/azure-firmware.md, trustee-reference-values.md §6). */
#define AZURE_PCR3_OBSERVED "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"

/* ---------------------------------------------------------------- encodings */

static char *b64(const uint8_t *buf, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1, n = 0;
	char *out = malloc(cap);

	if (out && mbedtls_base64_encode((unsigned char *)out, cap, &n, buf, len) != 0) {
		free(out);
		out = NULL;
	}
	return out;
}

/* gzip with a fixed header (mtime 0): the same document always gives the
 * same annotation. */
static int gzip(const uint8_t *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
	z_stream z = { 0 };
	uLong cap;
	uint8_t *out;
	int zr;

	if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len) + 32;
	out = malloc(cap);
	if (!out) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)(uintptr_t)buf;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	zr = deflate(&z, Z_FINISH);
	if (zr != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return -EIO;
	}
	*ret_len = z.total_out;
	*ret = out;
	deflateEnd(&z);
	return 0;
}

static char *annotation_value(const uint8_t *doc, size_t len)
{
	uint8_t *gz;
	size_t gl;
	char *v;

	if (gzip(doc, len, &gz, &gl) < 0)
		return NULL;
	v = b64(gz, gl);
	free(gz);
	return v;
}

/* cloud-api-adaptor's cloud-config (its cloudconfig.go template): the
 * peer-pod userData form, holding only the initdata file. */
static char *cloud_config(const char *annotation)
{
#define CLOUD_CONFIG "#cloud-config\nwrite_files:\n  - path: " CVM_INITDATA_PEERPOD_PATH "\n    content: |\n      %s\n"
	size_t n = sizeof(CLOUD_CONFIG) + strlen(annotation);
	char *t = malloc(n);

	if (t)
		snprintf(t, n, CLOUD_CONFIG, annotation);
	return t;
}

/* ---------------------------------------------------------------- one document */

struct doc {
	uint8_t *buf;
	size_t len;
	struct cvm_initdata *d;
	uint8_t digest[CVM_HASH_MAX_SIZE], extend[32], pcr8[32];
	int dlen;
};

static void doc_free(struct doc *x)
{
	free(x->buf);
	free(x->d);
	memset(x, 0, sizeof(*x));
}

static int doc_load(const char *path, struct doc *x)
{
	int r;

	memset(x, 0, sizeof(*x));
	x->d = malloc(sizeof(*x->d));
	if (!x->d)
		return fatal(EXIT_DATA, "unable to read %s: %s", path, strerror(ENOMEM));
	r = cvm_read_file(path, CVM_INITDATA_MAX, &x->buf, &x->len);
	if (r < 0) {
		doc_free(x);
		return fatal(EXIT_DATA, "unable to read %s: %s", path, r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
	}
	r = cvm_initdata_parse(x->buf, x->len, x->d);
	if (r < 0) {
		int code = fatal(EXIT_DATA, "unable to parse %s line %u: %s", path, x->d->err_line, x->d->err);
		doc_free(x);
		return code;
	}
	x->dlen = cvm_initdata_digest(x->d->alg, x->buf, x->len, x->digest);
	if (x->dlen < 0 || cvm_initdata_pcr8(x->digest, (size_t)x->dlen, x->extend, x->pcr8) < 0) {
		doc_free(x);
		return fatal(EXIT_DATA, "unable to hash %s", path);
	}
	return 0;
}

int cli_verb_initdata(int argc, char **argv)
{
	const char *ud = NULL, *ud64 = NULL;
	bool json = false;
	int peerpod = 0;
	struct doc x;
	char hd[2 * CVM_HASH_MAX_SIZE + 1], he[65], hp[65], zero384[97];
	char *ann = NULL, *cc = NULL, *text = NULL, *enc = NULL;
	cJSON *root = NULL;
	int r, code;
	static const struct cli_value forms[] = { { "native", 0, NULL }, { "peer-pod", 1, NULL }, { NULL } };
	const struct cli_opt table[] = {
		{ "json", CLI_FLAG, .flag = &json },
		{ "user-data", CLI_STRING, .string = &ud, .arg = "OUT",
		  .help = "the file for `az vm create --user-data OUT` (the CLI base64-encodes\n"
			  "it): FILE itself (native) or cloud-api-adaptor's cloud-config (peer-pod)" },
		{ "user-data-base64", CLI_STRING, .string = &ud64, .arg = "OUT",
		  .help = "the same, base64-encoded: ARM's properties.userData, what IMDS serves" },
		{ "form", CLI_ENUM, .enm = { &peerpod, forms } },
		{ NULL },
	};
	const struct cli_spec spec = {
		"usage: " PROG " initdata FILE [--json] [--user-data OUT [--form native|peer-pod]] [--user-data-base64 OUT]\n"
		"  What a CoCo initdata document (TOML: version, algorithm, [data] strings) binds:\n"
		"  its digest, the 32 bytes the guest extends into PCR 8 (SHA-256 bank; a\n"
		"  SHA-384/512 digest is cut to 32 bytes, as cloud-api-adaptor does), PCR 8 in\n"
		"  each bank, the snp_pcr08/tdx_pcr08/tpm_pcr08 reference values, and the\n"
		"  Kata/peer-pod annotation value (" ANNOTATION " = base64(gzip(FILE))).\n",
		{ { .opts = table, .col = 25, .after = "  Send init-data to Trustee only with algorithm = \"sha256\" (its PCR 8 check takes 32 bytes).\n" } },
	};

	code = cli_parse(&spec, argc, argv);
	if (code != CLI_RUN)
		return code;
	if (optind + 1 != argc)
		return usage_error("unable to read initdata: expected one FILE");
	code = doc_load(argv[optind], &x);
	if (code)
		return code;
	cvm_hex_encode(x.digest, (size_t)x.dlen, hd);
	cvm_hex_encode(x.extend, 32, he);
	cvm_hex_encode(x.pcr8, 32, hp);
	memset(zero384, '0', 96);
	zero384[96] = 0;
	ann = annotation_value(x.buf, x.len);
	cc = ann ? cloud_config(ann) : NULL;
	code = 3;
	if (!cc) {
		fatal(EXIT_DATA, "unable to encode %s: %s", argv[optind], strerror(ENOMEM));
		goto out;
	}
	if (ud || ud64) {
		const uint8_t *u = peerpod ? (const uint8_t *)cc : x.buf;
		size_t ul = peerpod ? strlen(cc) : x.len;

		r = ud ? cvm_write_file_atomic(ud, u, ul, 0644) : 0;
		if (r < 0) {
			fatal(EXIT_DATA, "unable to write %s: %s", ud, strerror(-r));
			goto out;
		}
		if (ud64) {
			enc = b64(u, ul);
			r = enc ? 0 : -ENOMEM;
			if (enc) {
				size_t n = strlen(enc);
				enc[n] = '\n'; /* the NUL becomes a final newline, as base64(1) writes */
				r = cvm_write_file_atomic(ud64, enc, n + 1, 0644);
				enc[n] = 0;
			}
			if (r < 0) {
				fatal(EXIT_DATA, "unable to write %s: %s", ud64, strerror(-r));
				goto out;
			}
		}
	}
	if (json) {
		cJSON *pcr, *data, *rv, *a;

		root = cJSON_CreateObject();
		if (!root || !cJSON_AddStringToObject(root, "file", argv[optind]) ||
		    !cJSON_AddNumberToObject(root, "size", (double)x.len) ||
		    !cJSON_AddStringToObject(root, "version", x.d->version) ||
		    !cJSON_AddStringToObject(root, "algorithm", cvm_hash_name(x.d->alg)) ||
		    !cJSON_AddStringToObject(root, "digest", hd) || !cJSON_AddStringToObject(root, "pcr8_extend", he) ||
		    !(pcr = cJSON_AddObjectToObject(root, "pcr8")) || !cJSON_AddStringToObject(pcr, "sha256", hp) ||
		    !cJSON_AddStringToObject(pcr, "sha384", zero384) || !(data = cJSON_AddObjectToObject(root, "data")) ||
		    !(rv = cJSON_AddObjectToObject(root, "reference_values")) ||
		    !(a = cJSON_AddObjectToObject(root, "annotation")) || !cJSON_AddStringToObject(a, "name", ANNOTATION) ||
		    !cJSON_AddStringToObject(a, "value", ann))
			goto nomem;
		for (size_t i = 0; i < x.d->n; i++) {
			/* Values may hold NUL (a \u0000 escape): JSON carries them escaped. */
			size_t vl;
			const char *v = cvm_initdata_get(x.d, x.d->data[i].key, &vl);
			cJSON *s = cJSON_CreateString(v);
			if (!s)
				goto nomem;
			if (memchr(v, 0, vl)) {
				cJSON_Delete(s);
				s = cJSON_CreateNull(); /* cJSON strings end at NUL: say so rather than truncate */
				if (!s)
					goto nomem;
			}
			cJSON_AddItemToObject(data, x.d->data[i].key, s);
		}
		for (int p = 0; p < 3; p++) {
			static const char *const names[] = { "snp_pcr08", "tdx_pcr08", "tpm_pcr08" };
			cJSON *arr = cJSON_AddArrayToObject(rv, names[p]);
			if (!arr)
				goto nomem;
			cJSON_AddItemToArray(arr, cJSON_CreateString(hp));
		}
		text = cJSON_Print(root);
		if (!text)
			goto nomem;
		puts(text);
	} else {
		printf("file: %s (%zu bytes)\nversion: %s\nalgorithm: %s\ndigest: %s\n", argv[optind], x.len, x.d->version,
		       cvm_hash_name(x.d->alg), hd);
		printf("extend: %s (into PCR 8, SHA-256 bank%s)\n", he, x.dlen > 32 ? "; digest cut to 32 bytes" : "");
		printf("pcr8 sha256: %s\npcr8 sha384: %s (not extended)\n", hp, zero384);
		for (size_t i = 0; i < x.d->n; i++)
			printf("data: %s (%zu bytes)\n", x.d->data[i].key, x.d->data[i].value_len);
		printf("reference values: {\"snp_pcr08\":[\"%s\"],\"tdx_pcr08\":[\"%s\"],\"tpm_pcr08\":[\"%s\"]}\n", hp, hp, hp);
		printf("annotation: %s=%s\n", ANNOTATION, ann);
		if (x.dlen > 32)
			fprintf(stderr, PROG ": note: a %s document cannot go to Trustee as init-data (its PCR 8 check takes "
					"a 32-byte digest); pin snp_pcr08/tdx_pcr08 instead\n",
				cvm_hash_name(x.d->alg));
	}
	code = fflush(stdout) == 0 && !ferror(stdout) ? 0 : fatal(EXIT_DATA, "unable to write output: %s", strerror(errno));
	goto out;
nomem:
	code = fatal(EXIT_DATA, "unable to describe %s: %s", argv[optind], strerror(ENOMEM));
out:
	cJSON_Delete(root);
	free(text);
	free(enc);
	free(ann);
	free(cc);
	doc_free(&x);
	return code;
}

/* ---------------------------------------------------------------- reference values */

int cli_initdata_apply(const struct cli_initdata_opts *o, struct cvm_rv_set *s)
{
	static const uint8_t zero[32];

	if (!o->n)
		return 0;
	/* The documents replace the prediction's PCR 8 (zero: nothing extended). */
	s->n[CVM_INITDATA_PCR] = 0;
	for (size_t i = 0; i < o->n; i++) {
		struct doc x;
		int code;

		if (!strcmp(o->files[i], "none")) {
			cvm_rv_add(s, CVM_INITDATA_PCR, zero);
			continue;
		}
		code = doc_load(o->files[i], &x);
		if (code)
			return code;
		cvm_rv_add(s, CVM_INITDATA_PCR, x.pcr8);
		doc_free(&x);
	}
	return 0;
}

const struct cli_value cli_platform_values[] = { { "azure", 1, NULL }, { "none", 0, NULL }, { NULL } };

void cli_platform_apply(bool azure, struct cvm_rv_set *s)
{
	uint8_t v[32];

	if (!azure)
		return;
	cvm_hex_decode(AZURE_PCR3_OBSERVED, 64, v, 32);
	cvm_rv_add(s, 3, v);
	fprintf(stderr, PROG ": note: PCR 3 = %s is observed on Azure CVMs (separator only), not predicted\n",
		AZURE_PCR3_OBSERVED);
}

static void expiration(char out[21])
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
	struct tm tm;

	t += 365 * 86400;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* name -> base64url (padded) of {"version","name","expiration","value"}, one
 * line per name in the map's order. */
static int local_json(const struct cvm_rv_set *s, const char *indent, char **ret_text)
{
	char *map_text = NULL, exp[21], *out = NULL;
	cJSON *map = NULL, *item;
	size_t len = 0, cap = 0;
	int r;

	expiration(exp);
	r = cvm_rv_map_json(s, false, &map_text);
	if (r < 0)
		return r;
	map = cJSON_Parse(map_text);
	r = -ENOMEM;
	if (!map)
		goto out;
	cap = 64;
	out = malloc(cap);
	if (!out)
		goto out;
	len = (size_t)snprintf(out, cap, "%s{\n", indent);
	cJSON_ArrayForEach(item, map) {
		cJSON *rv = cJSON_CreateObject();
		char *t = NULL, *e = NULL;
		size_t need;

		if (!rv || !cJSON_AddStringToObject(rv, "version", "0.1.0") ||
		    !cJSON_AddStringToObject(rv, "name", item->string) || !cJSON_AddStringToObject(rv, "expiration", exp) ||
		    !cJSON_AddItemToObject(rv, "value", cJSON_Duplicate(item, true)) || !(t = cJSON_PrintUnformatted(rv)) ||
		    !(e = b64((const uint8_t *)t, strlen(t)))) {
			cJSON_Delete(rv);
			free(t);
			goto out;
		}
		for (char *p = e; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
		need = len + strlen(indent) + strlen(item->string) + strlen(e) + 16;
		if (need > cap) {
			char *n = realloc(out, need * 2);
			if (!n) {
				cJSON_Delete(rv);
				free(t);
				free(e);
				goto out;
			}
			out = n;
			cap = need * 2;
		}
		len += (size_t)snprintf(out + len, cap - len, "%s  \"%s\":\"%s\"%s\n", indent, item->string, e,
					item->next ? "," : "");
		cJSON_Delete(rv);
		free(t);
		free(e);
	}
	if (len + strlen(indent) + 3 > cap) {
		char *n = realloc(out, len + strlen(indent) + 3);
		if (!n)
			goto out;
		out = n;
	}
	sprintf(out + len, "%s}\n", indent);
	*ret_text = out;
	out = NULL;
	r = 0;
out:
	free(out);
	cJSON_Delete(map);
	free(map_text);
	return r;
}

int cli_rv_local_json(const struct cvm_rv_set *s, char **ret_text) { return local_json(s, "", ret_text); }

int cli_rv_configmap(const struct cvm_rv_set *s, char **ret_text)
{
	static const char head[] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rvps-reference-values\n"
				   "  namespace: trustee-operator-system\ndata:\n  reference_value: |\n";
	char *body = NULL, *out;
	int r = local_json(s, "    ", &body);

	if (r < 0)
		return r;
	out = malloc(sizeof(head) + strlen(body));
	if (!out) {
		free(body);
		return -ENOMEM;
	}
	memcpy(out, head, sizeof(head) - 1);
	strcpy(out + sizeof(head) - 1, body);
	free(body);
	*ret_text = out;
	return 0;
}
