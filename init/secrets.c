/* The attest and secrets phases of the init: learn which TEE this is from
 * the vTPM's HCL report, fetch what the evidence needs from Azure IMDS, then
 * run Trustee's RCAR handshake and fetch every configured secret
 * (../shared/notes/kbs-protocol.md, sealed-secrets.md, azure-vtpm-evidence.md).
 *
 * Fail closed: every function returns a negative errno with one line in err
 * on the first failure, and the caller powers off before the workload starts.
 * Secret bytes live only in buffers that are wiped before they are freed;
 * error lines carry names, steps, HTTP statuses and the KBS's own error text,
 * never a plaintext. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvmkit/azure.h"
#include "cvmkit/errbuf.h"
#include "cvmkit/evidence.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hcl.h"
#include "cvmkit/http.h"
#include "cvmkit/jose.h"
#include "cvmkit/kbs.h"
#include "cvmkit/sealed.h"
#include "cvmkit/tls.h"
#include "cvmkit/tpm2.h"
#include "init.h"

#define TPM_DEVICE "/dev/tpmrm0"
#define IMDS_THIM_PATH "/metadata/THIM/amd/certification"
#define IMDS_TDQUOTE_PATH "/acc/tdquote"
#define IMDS_BODY_MAX (64u << 10)
#define KBS_CA_MAX (64u << 10)
/* The longest wait for the paravisor to regenerate the HCL report with the
 * nonce after the user-data write; the report is re-read until it does
 * (azure-cvm-tooling sleeps 3 s instead and reads once). */
#define HCL_USER_DATA_WAIT_MS 5000

#define seterr(err, size, ...) ((void)cvm_errf(err, size, 0, __VA_ARGS__))

/* One request may take the configured timeout, transient-failure retries
 * and their backoff included: a dead or slow server ends the boot in
 * bounded time. */
static void client_defaults(const struct init_kbs *k, struct cvm_http_client *cl)
{
	unsigned ms = k->timeout * 1000u;

	*cl = CVM_HTTP_CLIENT_DEFAULTS;
	cl->connect_timeout_ms = ms;
	cl->read_timeout_ms = ms;
	cl->total_timeout_ms = ms;
	cl->max_attempts = 3;
	cl->backoff_ms = 500;
}

/* ---------------------------------------------------------------- IMDS */

static int imds_request(const struct init_kbs *k, const char *method, const char *path, const char *body,
			struct cvm_http_response *ret, char *err, size_t err_size)
{
	struct cvm_http_client cl;
	struct cvm_http_header h[] = { { "Metadata", "true" }, { "Content-Type", "application/json" } };
	struct cvm_http_request rq = { .method = method, .headers = h, .n_headers = body ? 2 : 1 };
	struct cvm_http_response rs;
	char url[sizeof(k->imds_url) + 64];
	int r;

	client_defaults(k, &cl);
	/* IMDS is link-local plain HTTP by design; what it returns is checked
	 * by the verifier (the VCEK chain, the quote's signature). */
	cl.allow_plain_http = true;
	cl.max_body = IMDS_BODY_MAX;
	snprintf(url, sizeof(url), "%s%s", k->imds_url, path);
	rq.url = url;
	if (body) {
		rq.body = (const uint8_t *)body;
		rq.body_len = strlen(body);
		rq.retry_unsafe = true; /* quote generation has no side effect */
	}
	r = cvm_http_request(&cl, &rq, &rs);
	if (r < 0) {
		seterr(err, err_size, "reach IMDS at %s: %s", url, strerror(-r));
		return r;
	}
	if (rs.status != 200) {
		seterr(err, err_size, "use IMDS at %s: HTTP %d", url, rs.status);
		cvm_http_response_free(&rs);
		return -EPROTO;
	}
	*ret = rs;
	return 0;
}

static int imds_vcek(const struct init_kbs *k, uint8_t **ret_der, size_t *ret_len, char *err, size_t err_size)
{
	struct cvm_http_response rs;
	int r = imds_request(k, "GET", IMDS_THIM_PATH, NULL, &rs, err, err_size);

	if (r < 0)
		return r;
	r = cvm_thim_vcek_der(rs.body, rs.body_len, ret_der, ret_len);
	if (r < 0)
		seterr(err, err_size, "use the IMDS THIM answer: no VCEK certificate in it (%s)", strerror(-r));
	cvm_http_response_free(&rs);
	return r;
}

/* The request and answer formats live in attest/evidence.c, whose answer
 * parser is fuzzed (tests/fuzz/fuzz-imds.c) and accepts either base64
 * alphabet, padded or not (IMDS implementations differ). */
static int imds_td_quote(const struct init_kbs *k, const uint8_t *td_report, uint8_t **ret, size_t *ret_len,
			 char *err, size_t err_size)
{
	struct cvm_http_response rs;
	char *req = NULL;
	int r;

	r = cvm_imds_td_quote_request(td_report, &req);
	if (r < 0) {
		seterr(err, err_size, "ask IMDS for a TD quote: %s", strerror(-r));
		return r;
	}
	r = imds_request(k, "POST", IMDS_TDQUOTE_PATH, req, &rs, err, err_size);
	free(req);
	if (r < 0)
		return r;
	r = cvm_imds_td_quote_response(rs.body, rs.body_len, ret, ret_len);
	if (r < 0)
		seterr(err, err_size, "use the IMDS TD quote answer: no base64 \"quote\" in it (%s)", strerror(-r));
	cvm_http_response_free(&rs);
	return r;
}

/* ---------------------------------------------------------------- attest */

void init_attest_free(struct init_attest *a)
{
	if (a->tpm) {
		cvm_tpm2_close(a->tpm);
		free(a->tpm);
	}
	free(a->vcek_der);
	memset(a, 0, sizeof(*a));
}

int init_attest_prepare(const struct init_config *c, struct init_attest *ret, char *err, size_t err_size)
{
	const struct init_kbs *k = &c->kbs;
	struct init_attest a = { 0 };
	struct cvm_hcl_report h;
	uint8_t *hcl = NULL;
	size_t len;
	int r;

	a.tpm = calloc(1, sizeof(*a.tpm));
	if (!a.tpm) {
		r = -ENOMEM;
		seterr(err, err_size, "open the vTPM: %s", strerror(-r));
		goto out;
	}
	r = cvm_tpm2_open(TPM_DEVICE, a.tpm);
	if (r < 0) {
		free(a.tpm);
		a.tpm = NULL;
		seterr(err, err_size, "open the vTPM %s: %s", TPM_DEVICE, strerror(-r));
		goto out;
	}
	r = cvm_azure_read_hcl_report(a.tpm, &hcl, &len);
	if (r == -ENOENT)
		seterr(err, err_size, "read the HCL report: the vTPM has no index 0x01400001 (not an Azure confidential VM)");
	else if (r < 0)
		seterr(err, err_size, "read the HCL report from the vTPM: %s", strerror(-r));
	if (r < 0)
		goto out;
	r = cvm_hcl_report_parse(hcl, len, &h);
	if (r < 0) {
		seterr(err, err_size, "parse the HCL report: %s", strerror(-r));
		goto out;
	}
	if (h.report_type == CVM_HCL_REPORT_SNP)
		a.tee = CVM_TEE_AZ_SNP_VTPM;
	else if (h.report_type == CVM_HCL_REPORT_TDX)
		a.tee = CVM_TEE_AZ_TDX_VTPM;
	else {
		r = -EOPNOTSUPP;
		seterr(err, err_size, "use the HCL report: type %u is neither SNP (2) nor TDX (4)", (unsigned)h.report_type);
		goto out;
	}
	if ((k->tee == INIT_TEE_SNP && a.tee != CVM_TEE_AZ_SNP_VTPM) || (k->tee == INIT_TEE_TDX && a.tee != CVM_TEE_AZ_TDX_VTPM)) {
		r = -EMEDIUMTYPE;
		seterr(err, err_size, "attest as [kbs] tee says: this is %s", cvm_tee_name((enum cvm_tee)a.tee));
		goto out;
	}
	/* The VCEK does not change during a boot: fetch it once.  The TD quote
	 * must cover the TDREPORT regenerated with each nonce, so it is fetched
	 * per attestation instead. */
	if (a.tee == CVM_TEE_AZ_SNP_VTPM) {
		r = imds_vcek(k, &a.vcek_der, &a.vcek_len, err, err_size);
		if (r < 0)
			goto out;
	}
	*ret = a;
	a = (struct init_attest){ 0 };
	r = 0;
out:
	free(hcl);
	init_attest_free(&a);
	return r;
}

struct evidence_ctx {
	const struct init_kbs *k;
	struct init_attest *a;
	char *err;
	size_t err_size;
};

static int collect_evidence(void *ctx, enum cvm_tee tee, const uint8_t *rd, size_t rd_len, char **ret_json)
{
	struct evidence_ctx *e = ctx;
	/* Evidence v1 does not carry the user data into the verdict, so there is
	 * no regenerated report to wait for; v2 needs it. */
	unsigned wait = e->k->evidence_version == 2 ? HCL_USER_DATA_WAIT_MS : 0;
	struct cvm_azure_collect_opts o = { .report_data = rd, .report_data_len = rd_len, .user_data_wait_ms = wait };
	struct cvm_azure_collected col = { 0 };
	const uint8_t *td_report;
	uint8_t *quote = NULL;
	size_t quote_len = 0;
	int r;

	if (tee == CVM_TEE_AZ_SNP_VTPM) {
		struct cvm_kbs_azure_ctx az = { .tpm = e->a->tpm, .version = e->k->evidence_version, .user_data_wait_ms = wait,
						.vcek_der = e->a->vcek_der, .vcek_len = e->a->vcek_len };
		return cvm_kbs_azure_evidence(&az, tee, rd, rd_len, ret_json);
	}
	r = cvm_azure_collect(e->a->tpm, &o, &col);
	if (r == 0) {
		r = cvm_azure_td_report(&col, &td_report);
		if (r < 0)
			seterr(e->err, e->err_size, "use the HCL report: its hardware report is not a TDREPORT");
	}
	if (r == 0)
		r = imds_td_quote(e->k, td_report, &quote, &quote_len, e->err, e->err_size);
	if (r == 0)
		r = cvm_azure_evidence_build(&col, e->k->evidence_version, NULL, 0, quote, quote_len, ret_json);
	free(quote);
	cvm_azure_collected_free(&col);
	return r;
}

int init_attest_evidence(const struct init_config *c, struct init_attest *a, const uint8_t *rd, size_t rd_len,
			 char **ret_json, char *err, size_t err_size)
{
	struct evidence_ctx e = { &c->kbs, a, err, err_size };
	int r = collect_evidence(&e, (enum cvm_tee)a->tee, rd, rd_len, ret_json);

	if (r < 0 && !err[0])
		seterr(err, err_size, "collect the vTPM evidence: %s", strerror(-r));
	return r;
}

/* ---------------------------------------------------------------- delivery */

/* A temporary file renamed into place: the workload sees a secret whole or
 * not at all. */
static int write_secret_file(const char *name, const uint8_t *pt, size_t len, uid_t uid, gid_t gid)
{
	char tmp[INIT_SECRET_NAME_MAX + 32], dst[INIT_SECRET_NAME_MAX + 32];
	size_t off = 0;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", INIT_SECRETS_DIR, name);
	snprintf(dst, sizeof(dst), "%s/%s", INIT_SECRETS_DIR, name);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, pt + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static int add_env(struct init_config *c, const char *name, const uint8_t *pt, size_t len)
{
	size_t nl = strlen(name);
	char *e;

	/* An environment string ends at the first NUL: a binary secret would
	 * arrive silently truncated. */
	if (memchr(pt, 0, len))
		return -EILSEQ;
	if (c->envc >= INIT_MAX_ENV)
		return -E2BIG;
	e = malloc(nl + 1 + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e, name, nl);
	e[nl] = '=';
	memcpy(e + nl + 1, pt, len);
	e[nl + 1 + len] = 0;
	c->envp[c->envc++] = e;
	c->envp[c->envc] = NULL;
	return 0;
}

void init_secrets_wipe_env(struct init_config *c)
{
	for (size_t i = c->kbs.env_first; i < c->envc; i++)
		if (c->envp[i])
			explicit_bzero(c->envp[i], strlen(c->envp[i]));
}

/* One line from the client's error record: step, HTTP status, the KBS's
 * error type and detail verbatim (the library already replaced control
 * characters), or the transport's reason. */
static void kbs_err(const struct cvm_kbs_client *kc, const char *what, char *err, size_t err_size)
{
	const struct cvm_kbs_error *e = &kc->err;

	if (e->http_status)
		seterr(err, err_size, "%s: step %s: HTTP %d%s%s: %s", what, cvm_kbs_step_name(e->step), e->http_status,
		       e->type[0] ? " " : "", e->type, e->detail);
	else
		seterr(err, err_size, "%s: step %s: %s (%s)", what, cvm_kbs_step_name(e->step), e->detail,
		       strerror(-e->code));
}

static const char *sealed_reason(int r)
{
	switch (r) {
	case -ENOKEY: return "its signing key is not a kbs:// resource";
	case -EKEYREJECTED: return "its signature does not verify";
	case -EPROTONOSUPPORT: return "its provider is not kbs";
	case -EOPNOTSUPP: return "envelope secrets and kbs plugins are not supported";
	case -EPROTO: return "unknown version or type";
	case -EBADMSG: return "malformed";
	default: return strerror(-r);
	}
}

int init_secrets_fetch(struct init_config *c, struct init_attest *a, char *err, size_t err_size)
{
	struct init_kbs *k = &c->kbs;
	struct cvm_tls_options tls = { 0 };
	struct cvm_http_client cl;
	struct cvm_kbs_http_ctx hctx;
	struct cvm_kbs_transport tr;
	struct cvm_kbs_client kc = { 0 };
	struct evidence_ctx ec = { k, a, err, err_size };
	struct cvm_kbs_config cfg = { .tee = (enum cvm_tee)a->tee, .legacy_tee_names = k->legacy_tee_names,
				      .transport = &tr, .evidence = collect_evidence, .evidence_ctx = &ec,
				      .init_data_toml = k->init_data_toml };
	uint8_t *ca = NULL;
	size_t ca_len = 0;
	bool dir_made = false;
	int r;

	err[0] = 0;
	if (k->ca[0]) {
		r = cvm_read_file(k->ca, KBS_CA_MAX, &ca, &ca_len);
		if (r < 0) {
			seterr(err, err_size, "read the KBS CA %s: %s", k->ca, strerror(-r));
			goto out;
		}
		tls.ca = ca;
		tls.ca_len = ca_len;
	}
	if (k->has_pin)
		tls.pin_sha256 = k->pin;
	client_defaults(k, &cl);
	cl.tls = &tls;
	cl.max_body = CVM_KBS_BODY_MAX;
	r = cvm_kbs_http_transport(&hctx, k->url, &cl, &tr);
	if (r < 0) {
		seterr(err, err_size, "use the KBS url %s: %s", k->url, strerror(-r));
		goto out;
	}
	r = cvm_kbs_init(&kc, &cfg);
	if (r < 0) {
		kbs_err(&kc, "create the TEE key", err, err_size);
		goto out;
	}
	for (size_t i = 0; i < k->n_secrets; i++) {
		const struct init_secret *s = &k->secrets[i];
		uint8_t *pt = NULL;
		size_t len = 0;
		char path[CVM_SEALED_PATH_MAX];

		if (s->sealed) {
			r = cvm_sealed_unseal((const uint8_t *)s->source, strlen(s->source), cvm_kbs_fetch, &kc, &pt, &len);
			if (r < 0 && kc.err.code == r && kc.err.step != CVM_KBS_STEP_NONE) {
				char what[128];
				snprintf(what, sizeof(what), "unseal secret %s through the KBS", s->name);
				/* The evidence callback may have left a more precise reason. */
				if (kc.err.step == CVM_KBS_STEP_EVIDENCE && err[0])
					goto out;
				kbs_err(&kc, what, err, err_size);
			} else if (r < 0) {
				seterr(err, err_size, "unseal secret %s: %s", s->name, sealed_reason(r));
			}
		} else {
			r = cvm_sealed_uri_path(s->source, path, sizeof(path));
			if (r < 0) {
				seterr(err, err_size, "fetch secret %s: %s is not a kbs:///REPO/TYPE/TAG resource", s->name,
				       s->source);
				goto out;
			}
			r = cvm_kbs_fetch(&kc, path, &pt, &len);
			if (r < 0) {
				char what[128];
				snprintf(what, sizeof(what), "fetch secret %s from the KBS", s->name);
				if (kc.err.step == CVM_KBS_STEP_EVIDENCE && err[0])
					goto out;
				kbs_err(&kc, what, err, err_size);
			}
		}
		if (r < 0)
			goto out;
		if ((s->dest & INIT_SECRET_FILE) && !dir_made) {
			/* Only the workload's user may list or read the secrets. */
			if ((mkdir(INIT_SECRETS_DIR, 0700) < 0 && errno != EEXIST) ||
			    chown(INIT_SECRETS_DIR, c->uid, c->gid) < 0 || chmod(INIT_SECRETS_DIR, 0500) < 0) {
				r = -errno;
				seterr(err, err_size, "create %s: %s", INIT_SECRETS_DIR, strerror(-r));
			}
			dir_made = true;
		}
		if (r == 0 && (s->dest & INIT_SECRET_FILE)) {
			r = write_secret_file(s->name, pt, len, c->uid, c->gid);
			if (r < 0)
				seterr(err, err_size, "write %s/%s: %s", INIT_SECRETS_DIR, s->name, strerror(-r));
		}
		if (r == 0 && (s->dest & INIT_SECRET_ENV)) {
			r = add_env(c, s->name, pt, len);
			if (r < 0)
				seterr(err, err_size, "put secret %s in the environment: %s", s->name,
				       r == -EILSEQ ? "it contains a NUL byte" : strerror(-r));
		}
		cvm_jose_free_secret(pt, len + 1);
		if (r < 0)
			goto out;
	}
	r = (int)k->n_secrets;
out:
	cvm_kbs_free(&kc);
	if (ca)
		cvm_jose_free_secret(ca, ca_len);
	return r;
}
