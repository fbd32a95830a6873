/* The initdata phase of the init (../shared/notes/initdata.md §4, §5, §9):
 * read IMDS userData ONCE, before any attestation; take the initdata
 * document out of it (raw TOML, or cloud-api-adaptor's cloud-config with
 * base64(gzip(TOML))); parse it (strict subset); extend its digest into PCR
 * 8 of the SHA-256 bank; keep the exact bytes for the attest request's
 * init-data; expose them read-only under /run/initdata; and, when the image
 * says [kbs] url = initdata, take the KBS URL (and certificate) from the
 * document's aa.toml.
 *
 * userData can change while the VM runs (`az vm update --user-data`), so
 * only the copy read here is ever used: PCR 8 documents what was used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/errbuf.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "cvmkit/http.h"
#include "cvmkit/initdata.h"
#include "cvmkit/tpm2.h"
#include "init.h"

#define TPM_DEVICE "/dev/tpmrm0"
#define USERDATA_PATH "/metadata/instance/compute/userData?api-version=2021-01-01&format=text"
#define KBS_CERT_MAX (16u << 10)

#define seterr(err, size, ...) ((void)cvm_errf(err, size, 0, __VA_ARGS__))

/* 0 with the body (possibly empty); 0 with *ret_len 0 when IMDS has no
 * userData (HTTP 404, or 200 with an empty body as Azure answers). */
static int fetch_userdata(const struct init_config *c, uint8_t **ret, size_t *ret_len, char *err, size_t err_size)
{
	struct cvm_http_client cl = CVM_HTTP_CLIENT_DEFAULTS;
	struct cvm_http_header h[] = { { "Metadata", "true" } };
	struct cvm_http_request rq = { .method = "GET", .headers = h, .n_headers = 1 };
	struct cvm_http_response rs;
	char url[sizeof(c->kbs.imds_url) + sizeof(USERDATA_PATH)];
	unsigned ms = c->kbs.timeout * 1000u;
	int r;

	cl.connect_timeout_ms = cl.read_timeout_ms = cl.total_timeout_ms = ms;
	cl.max_attempts = 3;
	cl.backoff_ms = 500;
	cl.allow_plain_http = true; /* IMDS is link-local plain HTTP; PCR 8 binds what it said */
	cl.max_body = CVM_INITDATA_USERDATA_MAX;
	snprintf(url, sizeof(url), "%s%s", c->kbs.imds_url, USERDATA_PATH);
	rq.url = url;
	r = cvm_http_request(&cl, &rq, &rs);
	if (r < 0) {
		seterr(err, err_size, "read userData from IMDS at %s: %s", c->kbs.imds_url,
		       r == -EMSGSIZE ? "larger than 64 KiB" : strerror(-r));
		return r;
	}
	if (rs.status == 404 || (rs.status == 200 && rs.body_len == 0)) {
		cvm_http_response_free(&rs);
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	if (rs.status != 200) {
		seterr(err, err_size, "read userData from IMDS at %s: HTTP %d", c->kbs.imds_url, rs.status);
		cvm_http_response_free(&rs);
		return -EPROTO;
	}
	*ret = rs.body;
	*ret_len = rs.body_len;
	rs.body = NULL;
	cvm_http_response_free(&rs);
	return 0;
}

/* Extends PCR 8 and reads it back: it must have been zero before (nothing
 * else measures into it in a UKI boot) and must now be the predicted value,
 * or Trustee's check and the published snp_pcr08 would not hold. */
static int extend_pcr8(const struct init_initdata *d, uint8_t ret_pcr8[32], char *err, size_t err_size)
{
	static const uint8_t zero[32];
	struct cvm_tpm2 *t = calloc(1, sizeof(*t));
	uint8_t (*pcrs)[64] = calloc(CVM_TPM2_PCR_COUNT, 64);
	int r = -ENOMEM;

	if (!t || !pcrs) {
		seterr(err, err_size, "extend PCR 8: %s", strerror(ENOMEM));
		goto out;
	}
	r = cvm_tpm2_open(TPM_DEVICE, t);
	if (r < 0) {
		seterr(err, err_size, "open the vTPM %s to extend PCR 8: %s", TPM_DEVICE, strerror(-r));
		goto out;
	}
	r = cvm_tpm2_pcr_read(t, CVM_TPM2_ALG_SHA256, 1u << CVM_INITDATA_PCR, pcrs);
	if (r == 0 && memcmp(pcrs[CVM_INITDATA_PCR], zero, 32)) {
		r = -EEXIST;
		seterr(err, err_size, "extend PCR 8: it is not zero before the initdata extend");
		goto close;
	}
	if (r == 0)
		r = cvm_tpm2_pcr_extend(t, CVM_INITDATA_PCR, CVM_TPM2_ALG_SHA256, d->extend);
	if (r == 0)
		r = cvm_tpm2_pcr_read(t, CVM_TPM2_ALG_SHA256, 1u << CVM_INITDATA_PCR, pcrs);
	if (r < 0) {
		/* The number only: cvm-attest tpm-rc names it on the host. */
		if (r == -EREMOTEIO)
			seterr(err, err_size, "extend PCR 8: the vTPM answered TPM_RC 0x%08x", t->last_rc);
		else
			seterr(err, err_size, "extend PCR 8: %s", strerror(-r));
		goto close;
	}
	if (memcmp(pcrs[CVM_INITDATA_PCR], d->pcr8, 32)) {
		r = -EIO;
		seterr(err, err_size, "extend PCR 8: the vTPM holds another value than SHA-256(0^32 || digest)");
		goto close;
	}
	memcpy(ret_pcr8, pcrs[CVM_INITDATA_PCR], 32);
	r = 0;
close:
	cvm_tpm2_close(t);
out:
	free(t);
	free(pcrs);
	return r;
}

static int put(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444), r = 0;
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, (const uint8_t *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* A data key becomes a file name only when it is one plain name. */
static bool file_name_ok(const char *k)
{
	if (!k[0] || !strcmp(k, ".") || !strcmp(k, "..") || strlen(k) > 100)
		return false;
	for (const char *p = k; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* /run/initdata (its own tmpfs, remounted read-only): initdata.toml (the
 * exact bytes), digest (algorithm:hex), pcr8 (hex) and data/<key>. */
static int expose(const struct init_initdata *d, const uint8_t pcr8[32], char *err, size_t err_size)
{
	char path[160], text[2 * CVM_HASH_MAX_SIZE + 16], hex[2 * CVM_HASH_MAX_SIZE + 1];
	int r;

	if ((mkdir(INIT_INITDATA_DIR, 0755) < 0 && errno != EEXIST) ||
	    (mount("tmpfs", INIT_INITDATA_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=256k") < 0 &&
	     getpid() == 1)) {
		r = -errno;
		seterr(err, err_size, "create %s: %s", INIT_INITDATA_DIR, strerror(-r));
		return r;
	}
	r = put(INIT_INITDATA_DIR "/initdata.toml", d->doc, d->len);
	cvm_hex_encode(d->digest, (size_t)d->dlen, hex);
	snprintf(text, sizeof(text), "%s:%s\n", cvm_hash_name(d->parsed->alg), hex);
	if (r == 0)
		r = put(INIT_INITDATA_DIR "/digest", text, strlen(text));
	cvm_hex_encode(pcr8, 32, hex);
	snprintf(text, sizeof(text), "%s\n", hex);
	if (r == 0)
		r = put(INIT_INITDATA_DIR "/pcr8", text, strlen(text));
	if (r == 0 && mkdir(INIT_INITDATA_DIR "/data", 0755) < 0)
		r = -errno;
	for (size_t i = 0; r == 0 && i < d->parsed->n; i++) {
		const struct cvm_initdata_entry *e = &d->parsed->data[i];

		if (!file_name_ok(e->key))
			continue;
		snprintf(path, sizeof(path), INIT_INITDATA_DIR "/data/%s", e->key);
		r = put(path, d->parsed->values + e->value_off, e->value_len);
	}
	if (r < 0)
		seterr(err, err_size, "write %s: %s", INIT_INITDATA_DIR, strerror(-r));
	return r;
}

/* [kbs] url = initdata: the URL, and the certificate unless the image pins
 * its own CA or key, come from aa.toml's [token_configs.kbs]. */
static int kbs_from_initdata(struct init_config *c, const struct init_initdata *d, char *err, size_t err_size)
{
	struct init_kbs *k = &c->kbs;
	const char *aa;
	char *cert = NULL;
	size_t aa_len, len;
	int r;

	aa = cvm_initdata_get(d->parsed, "aa.toml", &aa_len);
	if (!aa) {
		seterr(err, err_size, "take the KBS from initdata ([kbs] url = initdata): the document has no aa.toml");
		return -ENOENT;
	}
	cert = calloc(1, KBS_CERT_MAX);
	if (!cert)
		return -ENOMEM;
	r = cvm_initdata_aa_kbs(aa, aa_len, k->url, sizeof(k->url), cert, KBS_CERT_MAX);
	if (r < 0) {
		seterr(err, err_size, "read the KBS from initdata's aa.toml: %s",
		       r == -EBADMSG ? "malformed TOML" : r == -ENOBUFS ? "url or cert too long" : "url or cert is not a string");
		goto out;
	}
	len = strlen(k->url);
	while (len > 8 && k->url[len - 1] == '/')
		k->url[--len] = 0;
	r = -EINVAL;
	if (!len) {
		seterr(err, err_size, "take the KBS from initdata: aa.toml has no [token_configs.kbs] url");
		goto out;
	}
	/* As for an image-configured KBS: never plain HTTP. */
	if (strncmp(k->url, "https://", 8)) {
		seterr(err, err_size, "use the KBS url from initdata %.200s: https:// only", k->url);
		goto out;
	}
	if (!k->ca[0] && !k->has_pin) {
		if (!strstr(cert, "-----BEGIN CERTIFICATE-----")) {
			seterr(err, err_size, "authenticate the KBS from initdata: aa.toml has no PEM cert and the image pins none");
			goto out;
		}
		r = put(INIT_INITDATA_DIR "/kbs-ca.pem", cert, strlen(cert));
		if (r < 0) {
			seterr(err, err_size, "write the initdata KBS certificate: %s", strerror(-r));
			goto out;
		}
		snprintf(k->ca, sizeof(k->ca), "%s", INIT_INITDATA_DIR "/kbs-ca.pem");
	}
	r = 0;
out:
	free(cert);
	return r;
}

void init_initdata_free(struct init_initdata *d)
{
	free(d->doc);
	free(d->parsed);
	memset(d, 0, sizeof(*d));
}

int init_initdata_run(struct init_config *c, struct init_initdata *ret, char *err, size_t err_size)
{
	struct init_initdata d = { 0 };
	uint8_t *ud = NULL, pcr8[32];
	size_t ud_len = 0;
	int r;

	r = fetch_userdata(c, &ud, &ud_len, err, err_size);
	if (r < 0)
		goto out;
	d.doc = calloc(1, CVM_INITDATA_MAX + 1); /* NUL-terminated: it goes into JSON as text */
	d.parsed = malloc(sizeof(*d.parsed));
	r = -ENOMEM;
	if (!d.doc || !d.parsed)
		goto out;
	r = ud_len ? cvm_initdata_from_userdata(ud, ud_len, d.doc, CVM_INITDATA_MAX, &d.len, &d.form) : 0;
	if (r < 0) {
		seterr(err, err_size, "take initdata from userData: %s",
		       r == -EFBIG ? "larger than 64 KiB (once decoded or inflated)"
		       : r == -EBADMSG ? "not base64 of TOML or of cloud-api-adaptor's cloud-config, or corrupt gzip"
				       : strerror(-r));
		goto out;
	}
	if (!d.len) {
		d.form = CVM_INITDATA_FORM_NONE;
		if (c->initdata_require) {
			r = -ENODATA;
			seterr(err, err_size, "start without initdata: the image requires it ([initdata] require = yes) and "
					      "IMDS has no userData");
			goto out;
		}
		if (c->kbs.url_from_initdata) {
			r = -ENODATA;
			seterr(err, err_size, "find the KBS: [kbs] url = initdata and IMDS has no userData");
			goto out;
		}
		*ret = d;
		d = (struct init_initdata){ 0 };
		r = 0;
		goto out;
	}
	r = cvm_initdata_parse(d.doc, d.len, d.parsed);
	if (r < 0) {
		seterr(err, err_size, "parse initdata line %u: %s", d.parsed->err_line, d.parsed->err);
		goto out;
	}
	d.dlen = cvm_initdata_digest(d.parsed->alg, d.doc, d.len, d.digest);
	r = d.dlen < 0 ? d.dlen : cvm_initdata_pcr8(d.digest, (size_t)d.dlen, d.extend, d.pcr8);
	if (r < 0) {
		seterr(err, err_size, "hash initdata: %s", strerror(-r));
		goto out;
	}
	r = extend_pcr8(&d, pcr8, err, err_size);
	if (r == 0)
		r = expose(&d, pcr8, err, err_size);
	if (r == 0 && c->kbs.url_from_initdata)
		r = kbs_from_initdata(c, &d, err, err_size);
	/* Read-only from here on, for the workload too. */
	if (r == 0 && getpid() == 1 &&
	    mount(NULL, INIT_INITDATA_DIR, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		r = -errno;
		seterr(err, err_size, "make %s read-only: %s", INIT_INITDATA_DIR, strerror(-r));
	}
	if (r < 0)
		goto out;
	*ret = d;
	d = (struct init_initdata){ 0 };
	r = 0;
out:
	free(ud);
	init_initdata_free(&d);
	return r;
}
