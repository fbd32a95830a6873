/* The measured-boot report line: what this boot really measured, in a form
 * `cvm-measure capture` turns into reference values.  PCR values are not
 * secrets.  On Azure the line also carries the platform values of the
 * paravisor's hardware report (SNP MEASUREMENT or TD MRTD), read from the
 * HCL report index through the vTPM: they identify Microsoft's paravisor
 * image, which reference values for Trustee's `measurement` claim need and
 * which cannot be predicted from our image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cvmkit/azure.h"
#include "cvmkit/capture.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hash.h"
#include "cvmkit/hcl.h"
#include "cvmkit/hex.h"
#include "cvmkit/initdata.h"
#include "cvmkit/pcr.h"
#include "cvmkit/snp.h"
#include "cvmkit/tpm2.h"
#include "init.h"
#include "../attest/b64.h"

#define EVENTLOG_PATH "/sys/kernel/security/tpm0/binary_bios_measurements"
#define EVENTLOG_MAX (4u << 20)
#define TPM_DEVICE "/dev/tpmrm0"
/* TDREPORT: MRTD at offset 528 (TDX module ABI; azure-vtpm-evidence.md §4). */
#define TD_REPORT_MRTD_OFFSET 528

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_b64(struct sbuf *b, const uint8_t *in, size_t len)
{
	size_t n = cvm_b64_encoded_len(len, true);
	char *t = malloc(n + 1);

	if (!t) {
		b->err = -ENOMEM;
		return;
	}
	cvm_b64_encode(in, len, false, true, t);
	sb_add(b, t, n);
	free(t);
}

/* ,"evidence":{...} in the line, and the evidence itself as short base64
 * lines in LINES (include/cvmkit/capture.h). */
static void add_evidence(struct sbuf *b, struct sbuf *lines, const struct init_report_evidence_data *ev)
{
	size_t len = strlen(ev->json), off;
	uint8_t d[32];
	char hex[65], num[80];
	struct sbuf t = { 0 };

	sb_b64(&t, (const uint8_t *)ev->json, len);
	if (t.err || cvm_hash(CVM_HASH_SHA256, ev->json, len, d) < 0) {
		b->err = -ENOMEM;
		goto out;
	}
	cvm_hex_encode(d, 32, hex);
	snprintf(num, sizeof(num), "\",\"size\":%zu,\"lines\":%zu,\"sha256\":\"", len,
		 (t.len + CVM_CAPTURE_EVIDENCE_CHUNK - 1) / CVM_CAPTURE_EVIDENCE_CHUNK);
	sb_str(b, ",\"evidence\":{\"format\":\"");
	sb_str(b, ev->tee);
	sb_str(b, "\",\"nonce\":\"");
	sb_str(b, ev->nonce_hex);
	sb_str(b, num);
	sb_str(b, hex);
	sb_str(b, "\"}");
	for (off = 0; off < t.len; off += CVM_CAPTURE_EVIDENCE_CHUNK) {
		size_t n = t.len - off < CVM_CAPTURE_EVIDENCE_CHUNK ? t.len - off : CVM_CAPTURE_EVIDENCE_CHUNK;

		snprintf(num, sizeof(num), CVM_CAPTURE_EVIDENCE_PREFIX "%zu/%zu ", off / CVM_CAPTURE_EVIDENCE_CHUNK + 1,
			 (t.len + CVM_CAPTURE_EVIDENCE_CHUNK - 1) / CVM_CAPTURE_EVIDENCE_CHUNK);
		sb_str(lines, num);
		sb_add(lines, t.p + off, n);
		sb_str(lines, "\n");
	}
out:
	free(t.p);
}

/* sysfs prints a PCR as uppercase hex plus newline; normalise to lowercase. */
static int read_pcr(const char *bank, unsigned idx, size_t size, char *out)
{
	char path[96];
	uint8_t *buf, raw[CVM_HASH_MAX_SIZE];
	size_t len;
	int r;

	snprintf(path, sizeof(path), "/sys/class/tpm/tpm0/pcr-%s/%u", bank, idx);
	r = cvm_read_file(path, 256, &buf, &len);
	if (r < 0)
		return r;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	r = cvm_hex_decode((char *)buf, len, raw, size);
	free(buf);
	if (r < 0)
		return r;
	cvm_hex_encode(raw, size, out);
	return 0;
}

static void add_bank(struct sbuf *b, const char *bank, size_t size, int *ret_err)
{
	char hex[2 * CVM_HASH_MAX_SIZE + 1], key[16];

	sb_str(b, "\"");
	sb_str(b, bank);
	sb_str(b, "\":{");
	for (unsigned i = 0; i < CVM_PCR_COUNT; i++) {
		int r = read_pcr(bank, i, size, hex);
		if (r < 0) {
			*ret_err = r;
			return;
		}
		snprintf(key, sizeof(key), "%s\"%u\":\"", i ? "," : "", i);
		sb_str(b, key);
		sb_str(b, hex);
		sb_str(b, "\"");
	}
	sb_str(b, "}");
}

/* ,"platform":{...} when the vTPM has an HCL report (an Azure CVM).  Any
 * failure just leaves the member out: the line must not depend on it. */
static void add_platform(struct sbuf *b)
{
	struct cvm_tpm2 *t = malloc(sizeof(*t));
	struct cvm_hcl_report h;
	struct cvm_snp_report *s = NULL;
	uint8_t *hcl = NULL;
	size_t len;
	char hex[2 * 48 + 1], num[16];

	if (!t || cvm_tpm2_open(TPM_DEVICE, t) < 0) {
		free(t);
		return;
	}
	if (cvm_azure_read_hcl_report(t, &hcl, &len) < 0 || cvm_hcl_report_parse(hcl, len, &h) < 0)
		goto out;
	if (h.report_type == CVM_HCL_REPORT_SNP) {
		s = malloc(sizeof(*s));
		if (!s || cvm_snp_report_parse(h.hw_report, CVM_HCL_HW_REPORT_SIZE, s) < 0)
			goto out;
		cvm_hex_encode(s->measurement, 48, hex);
		snprintf(num, sizeof(num), "%u", s->version);
		sb_str(b, ",\"platform\":{\"tee\":\"snp\",\"measurement\":\"");
		sb_str(b, hex);
		sb_str(b, "\",\"report_version\":");
		sb_str(b, num);
		sb_str(b, "}");
	} else if (h.report_type == CVM_HCL_REPORT_TDX) {
		cvm_hex_encode(h.hw_report + TD_REPORT_MRTD_OFFSET, 48, hex);
		sb_str(b, ",\"platform\":{\"tee\":\"tdx\",\"mrtd\":\"");
		sb_str(b, hex);
		sb_str(b, "\"}");
	}
out:
	free(s);
	free(hcl);
	cvm_tpm2_close(t);
	free(t);
}

int init_measured_boot_report(int fd, bool with_eventlog, const struct init_config *c,
			      const struct init_report_evidence_data *ev)
{
	struct sbuf b = { 0 }, lines = { 0 };
	uint8_t *log = NULL, digest[32];
	size_t loglen = 0;
	char hex[65], num[32];
	int r = 0, e384 = 0;

	if (access("/sys/class/tpm/tpm0", F_OK) < 0) {
		r = -ENODEV;
		goto out;
	}
	sb_str(&b, INIT_REPORT_PREFIX "{\"version\":1,\"pcrs\":{");
	add_bank(&b, "sha256", 32, &r);
	if (r < 0)
		goto out;
	/* The SHA-384 bank is optional (Hyper-V drops it on old VM versions). */
	if (access("/sys/class/tpm/tpm0/pcr-sha384", F_OK) == 0) {
		struct sbuf t = { 0 };
		add_bank(&t, "sha384", 48, &e384);
		if (!e384 && !t.err) {
			sb_str(&b, ",");
			sb_add(&b, t.p, t.len);
		}
		free(t.p);
	}
	sb_str(&b, "}");
	r = cvm_read_file(EVENTLOG_PATH, EVENTLOG_MAX, &log, &loglen);
	if (r == 0) {
		r = cvm_hash(CVM_HASH_SHA256, log, loglen, digest);
		if (r < 0)
			goto out;
		cvm_hex_encode(digest, 32, hex);
		snprintf(num, sizeof(num), "%zu", loglen);
		sb_str(&b, ",\"eventlog\":{\"size\":");
		sb_str(&b, num);
		sb_str(&b, ",\"sha256\":\"");
		sb_str(&b, hex);
		sb_str(&b, "\"");
		if (with_eventlog) {
			sb_str(&b, ",\"base64\":\"");
			sb_b64(&b, log, loglen);
			sb_str(&b, "\"");
		}
		sb_str(&b, "}");
	}
	add_platform(&b);
	/* The container image the workload comes from (digests checked by
	 * init/config.c: nothing to escape). */
	if (c && c->image_config[0]) {
		sb_str(&b, ",\"workload_image\":{\"manifest_digest\":");
		sb_str(&b, c->image_manifest[0] ? "\"" : "null");
		sb_str(&b, c->image_manifest);
		sb_str(&b, c->image_manifest[0] ? "\"" : "");
		sb_str(&b, ",\"config_digest\":\"");
		sb_str(&b, c->image_config);
		sb_str(&b, "\"}");
	}
	if (ev)
		add_evidence(&b, &lines, ev);
	r = 0;
	sb_str(&b, "}\n");
	if (lines.len)
		sb_add(&b, lines.p, lines.len);
	if (b.err || lines.err) {
		r = b.err ? b.err : lines.err;
		goto out;
	}
	r = cvm_write_all(fd, b.p, b.len);
out:
	free(log);
	free(lines.p);
	free(b.p);
	return r;
}

/* The report phase.  The quote's report data is
 * SHA-384(CVM_CAPTURE_NONCE_DOMAIN || nonce): a capture nonce can never pass
 * for a KBS challenge nor the reverse. */
int init_report_phase(const struct init_config *c, const struct init_initdata *d, char *err, size_t err_size)
{
	enum { DL = sizeof(CVM_CAPTURE_NONCE_DOMAIN) - 1 };
	struct init_attest att = { 0 };
	struct init_report_evidence_data ev = { 0 };
	const char *nonce = c->report_nonce, *v, *tee = NULL;
	uint8_t buf[DL + CVM_CAPTURE_NONCE_MAX], rd[48];
	char *json = NULL;
	size_t n;
	int r = 0;

	if (d && d->parsed && (v = cvm_initdata_get(d->parsed, INIT_NONCE_KEY, &n)))
		nonce = v;
	n = strlen(nonce);
	if (c->report_evidence == INIT_EVIDENCE_NO || (!n && c->report_evidence == INIT_EVIDENCE_AUTO))
		goto report;
	r = -ENODATA;
	if (!n)
		snprintf(err, err_size, "add evidence to the report: no nonce (initdata " INIT_NONCE_KEY " or [init] report_nonce)");
	else if (n < 2 * CVM_CAPTURE_NONCE_MIN || n > 2 * CVM_CAPTURE_NONCE_MAX || n % 2 ||
		 cvm_hex_decode(nonce, n, buf + DL, n / 2) < 0)
		snprintf(err, err_size, "use the report nonce: %d-%d hex digits", 2 * CVM_CAPTURE_NONCE_MIN,
			 2 * CVM_CAPTURE_NONCE_MAX);
	else {
		memcpy(buf, CVM_CAPTURE_NONCE_DOMAIN, DL);
		r = cvm_hash(CVM_HASH_SHA384, buf, DL + n / 2, rd);
		if (r == 0)
			r = init_attest_prepare(c, &att, err, err_size);
		if (r == 0)
			r = init_attest_evidence(c, &att, rd, sizeof(rd), &json, err, err_size);
		tee = cvm_tee_name((enum cvm_tee)att.tee);
		init_attest_free(&att);
	}
	if (r < 0 && c->report_evidence == INIT_EVIDENCE_REQUIRE)
		return r;
	ev = (struct init_report_evidence_data){ tee, nonce, json };
report:
	/* Without evidence in auto mode err tells why; the line still goes out. */
	r = init_measured_boot_report(STDOUT_FILENO, c->dump_eventlog, c, json ? &ev : NULL);
	free(json);
	if (r < 0 && r != -ENODEV)
		snprintf(err, err_size, "report the measured boot: %s", strerror(-r));
	return r;
}
