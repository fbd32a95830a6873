#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvmkit/config.h"
#include "cvmkit/fileio.h"
#include "cvmkit/ini.h"

#define DEFAULT_MODULES "virtio_blk virtio_scsi virtio_net hv_vmbus hv_storvsc hv_netvsc hv_utils sev-guest tdx-guest"

const struct cvm_conf_key cvm_conf_schema[] = {
	{ "workload", "binary", false, true, NULL, "host path of the static workload binary to embed" },
	{ "workload", "path", false, false, NULL, "where the workload lives in the image (default /usr/bin/NAME)" },
	{ "workload", "arg", true, false, NULL, "one argument (repeat for several)" },
	{ "workload", "env", true, false, NULL, "one NAME=value environment variable (repeat)" },
	{ "workload", "uid", false, false, "0", "user id the workload runs as" },
	{ "workload", "gid", false, false, NULL,
	  "group id the workload runs as (default: the uid's own group, the same number); supplementary groups are always dropped" },
	{ "workload", "workdir", false, false, "/", "working directory of the workload" },
	{ "workload", "image", false, true, NULL,
	  "a container image as the workload instead of binary: PATH[:TAG] of an OCI image layout, oci-archive or "
	  "docker-archive (Entrypoint/Cmd, Env, WorkingDir and User come from its config; arg replaces Cmd; env, uid, gid "
	  "and workdir, when set, win)" },
	{ "workload", "image_special", false, false, "refuse",
	  "device nodes and setuid/setgid files in the image: refuse, strip (drop devices, clear the bits) or keep" },
	{ "workload", "hostname", false, false, NULL, "host name the init sets before starting the workload" },
	{ "kernel", "cmdline", false, false, "console=ttyS0 quiet panic=-1", "kernel command line (.cmdline)" },
	{ "kernel", "modules", false, false, DEFAULT_MODULES, "kernel modules to carry (closure resolved by dracut-install)" },
	{ "init", "on_exit", false, false, "poweroff", "poweroff or reboot when the workload ends" },
	{ "init", "report_pcrs", false, false, "yes", "print the measured-boot report line at boot" },
	{ "init", "dump_eventlog", false, false, "no", "include the whole TCG event log (base64) in it" },
	{ "init", "report_evidence", false, false, "auto",
	  "vTPM evidence (HCL report, quote over PCRs 0-23, VCEK or TD quote) after the report line, bound to a nonce "
	  "from initdata key cvmkit.report_nonce or report_nonce, for `cvm-measure capture --nonce`: auto (when a nonce "
	  "is there; a failure is one line), require (always; no nonce or a failure powers off; needs [network]) or no" },
	{ "init", "report_nonce", false, false, NULL,
	  "a fixed nonce (16-128 hex digits) for report_evidence when initdata gives none: authenticates the capture, "
	  "but proves no freshness" },
	{ "init", "stop_timeout", false, false, "10",
	  "seconds the workload has to exit after SIGTERM on a stop request (Azure Stop, /sbin/poweroff, Ctrl-Alt-Del) "
	  "before SIGKILL (0-3600)" },
	{ "network", "mode", false, false, "none",
	  "none, dhcp or static: how the init brings up the first NIC before the workload (fails closed)" },
	{ "network", "interface", false, false, NULL, "the NIC to configure (default: the first one other than lo)" },
	{ "network", "address", false, false, NULL, "static mode: IPv4 address and prefix, e.g. 10.0.2.15/24" },
	{ "network", "gateway", false, false, NULL, "static mode: IPv4 default gateway" },
	{ "network", "dns", true, false, NULL, "IPv4 DNS server (repeat, up to 3; replaces the DHCP-provided ones)" },
	{ "network", "timeout", false, false, "30", "seconds for the NIC to appear and DHCP to answer (1-3600)" },
	{ "kernel", "image", false, true, NULL,
	  "host path of the kernel to embed instead of the pinned one (--linux); a different kernel build is a different image" },
	{ "kbs", "url", false, false, NULL,
	  "Trustee KBS base URL, https://HOST[:PORT] (no path); setting it adds the attest and secrets phases, which need "
	  "[network]; \"initdata\": the url (and, without ca or pin, the cert) of initdata's aa.toml [token_configs.kbs]" },
	{ "kbs", "ca", false, true, NULL,
	  "host PEM file of the CA that signed the KBS certificate; embedded as /etc/cvmkit/kbs-ca.pem, so it is measured" },
	{ "kbs", "pin", false, false, NULL,
	  "SHA-256 (64 hex digits) of the KBS certificate's SubjectPublicKeyInfo; with ca both must hold, alone it authenticates the KBS" },
	{ "kbs", "tee", false, false, "auto",
	  "auto (from the vTPM's HCL report type), az-snp-vtpm or az-tdx-vtpm" },
	{ "kbs", "legacy_tee_names", false, false, "no", "send azsnpvtpm/aztdxvtpm, the TEE names of Trustee before v0.16" },
	{ "kbs", "evidence_version", false, false, "2",
	  "Azure vTPM evidence version, 2 (binds the HCL report's user-data; Trustee v0.21+) or 1 (quote nonce only: for "
	  "Trustee before v0.21, and for a simulated vTPM whose static HCL report cannot carry the runtime data)" },
	{ "kbs", "timeout", false, false, "30",
	  "seconds each IMDS or KBS request may take, retries included (1-600); the boot fails closed after it" },
	{ "kbs", "imds_url", false, false, "http://169.254.169.254", "Azure IMDS base URL (THIM VCEK chain, TD quote)" },
	{ "kbs", "secret", true, false, NULL,
	  "NAME kbs:///REPO/TYPE/TAG file|env|file,env: a KBS resource the workload needs, as /run/secrets/NAME (0400, "
	  "owned by the workload user) and/or the environment variable NAME (repeat)" },
	{ "kbs", "sealed", true, false, NULL,
	  "NAME sealed.HEADER.PAYLOAD.SIGNATURE file|env|file,env: a CoCo sealed secret (vault type, ES256 key named by a "
	  "kbs:// kid) unsealed through the KBS, delivered like secret (repeat)" },
	{ "secureboot", "key", false, true, NULL,
	  "PEM private key that signs the UKI (Authenticode) for UEFI Secure Boot; needs cert" },
	{ "secureboot", "cert", false, true, NULL, "PEM X.509 certificate of key, carried in the signature" },
	{ "secureboot", "key_pass_file", false, true, NULL,
	  "file whose first line is the passphrase of an encrypted key (else $CVMKIT_SECUREBOOT_KEY_PASS)" },
	{ "secureboot", "db", true, true, NULL,
	  "PEM certificate the firmware's db is to trust (repeat; default: cert), written to azure-uefi-settings.json" },
	{ "secureboot", "azure_template", false, false, "MicrosoftUefiCertificateAuthorityTemplate",
	  "Azure signatureTemplateNames entry kept beside db: MicrosoftUefiCertificateAuthorityTemplate, "
	  "MicrosoftWindowsTemplate or NoSignatureTemplate" },
	{ "azure", "report_ready", false, false, "auto",
	  "auto, yes or no: report Ready to Azure's WireServer once the network is up, so a VM from a generalized image "
	  "is marked provisioned (auto: only when DMI says Azure); needs [network]" },
	{ "azure", "ready_timeout", false, false, "30",
	  "seconds the Ready report may take, retries included (1-600); after it the boot goes on without it" },
	{ "initdata", "require", false, false, "no",
	  "yes: boot only with an initdata document in IMDS userData (fail closed without one)" },
	{ "initdata", "source", false, false, "auto",
	  "auto (read IMDS userData when [kbs] is set or initdata is required), imds, or none; a document read is "
	  "extended into PCR 8 and exposed read-only in /run/initdata" },
	{ "image", "esp_size_mib", false, false, "0", "EFI system partition size in MiB (0 = smallest that fits)" },
	{ "image", "min_disk_mib", false, false, "20",
	  "smallest virtual size of the disk in MiB, 0-4096 (Azure's managed-disk upload needs 20; 0 = no minimum); "
	  "the room after the ESP is a hole, not written zeros" },
	{ "image", "os_name", false, false, "cvmkit", "NAME and ID in the UKI's .osrel" },
	{ NULL, NULL, false, false, NULL, NULL },
};

void cvm_conf_init(struct cvm_conf *c) { memset(c, 0, sizeof(*c)); }

void cvm_conf_free(struct cvm_conf *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->e[i].value);
	c->n = 0;
}

static const struct cvm_conf_key *lookup2(const char *section, const char *key)
{
	for (const struct cvm_conf_key *k = cvm_conf_schema; k->section; k++)
		if (!strcmp(k->section, section) && !strcmp(k->key, key))
			return k;
	return NULL;
}

const struct cvm_conf_key *cvm_conf_lookup(const char *dotted)
{
	char section[64];
	const char *dot = strchr(dotted, '.');

	if (!dot || (size_t)(dot - dotted) >= sizeof(section))
		return NULL;
	memcpy(section, dotted, (size_t)(dot - dotted));
	section[dot - dotted] = 0;
	return lookup2(section, dot + 1);
}

static void drop(struct cvm_conf *c, const struct cvm_conf_key *k, bool only_file)
{
	size_t j = 0;

	for (size_t i = 0; i < c->n; i++) {
		if (c->e[i].k == k && (!only_file || !c->e[i].from_cli))
			free(c->e[i].value);
		else
			c->e[j++] = c->e[i];
	}
	c->n = j;
}

static int add(struct cvm_conf *c, const struct cvm_conf_key *k, const char *value, bool from_cli)
{
	bool cli_seen = false;
	char *v;

	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].k == k && c->e[i].from_cli)
			cli_seen = true;
	if (from_cli && !cli_seen)
		drop(c, k, true);
	if (!k->multi)
		drop(c, k, false);
	if (c->n >= CVM_CONF_MAX_ENTRIES)
		return -E2BIG;
	v = strdup(value);
	if (!v)
		return -ENOMEM;
	c->e[c->n++] = (struct cvm_conf_entry){ k, v, from_cli };
	return 0;
}

struct load_ctx {
	struct cvm_conf *c;
	const char *file;
	char dir[PATH_MAX];
};

static int on_key(const char *section, const char *key, const char *value, unsigned line, void *userdata)
{
	struct load_ctx *l = userdata;
	const struct cvm_conf_key *k = lookup2(section, key);
	char resolved[PATH_MAX * 2];

	if (!k) {
		snprintf(l->c->error, sizeof(l->c->error), "%s:%u: unknown key '%s' in section [%s]", l->file, line, key,
			 section);
		return -EINVAL;
	}
	if (k->path && value[0] && value[0] != '/') {
		snprintf(resolved, sizeof(resolved), "%s/%s", l->dir, value);
		value = resolved;
	}
	return add(l->c, k, value, false);
}

int cvm_conf_load(struct cvm_conf *c, const char *file)
{
	struct load_ctx l = { .c = c, .file = file };
	const char *slash = strrchr(file, '/');
	uint8_t *buf = NULL;
	size_t len;
	unsigned line = 0;
	int r;

	if (slash)
		snprintf(l.dir, sizeof(l.dir), "%.*s", (int)(slash - file), file);
	else
		strcpy(l.dir, ".");
	r = cvm_read_file(file, 1 << 20, &buf, &len);
	if (r < 0) {
		snprintf(c->error, sizeof(c->error), "%s: %s", file, strerror(-r));
		goto out;
	}
	r = cvm_ini_parse(buf, len, on_key, &l, &line);
	if (r == -EBADMSG)
		snprintf(c->error, sizeof(c->error), "%s:%u: malformed line", file, line);
out:
	free(buf);
	return r;
}

int cvm_conf_set(struct cvm_conf *c, const char *dotted, const char *value)
{
	const struct cvm_conf_key *k = cvm_conf_lookup(dotted);

	if (!k) {
		snprintf(c->error, sizeof(c->error), "unknown configuration key '%s'", dotted);
		return -EINVAL;
	}
	return add(c, k, value, true);
}

const char *cvm_conf_get(const struct cvm_conf *c, const char *dotted)
{
	const struct cvm_conf_key *k = cvm_conf_lookup(dotted);

	if (!k)
		return NULL;
	for (size_t i = c->n; i-- > 0;)
		if (c->e[i].k == k)
			return c->e[i].value;
	return k->def;
}

size_t cvm_conf_get_all(const struct cvm_conf *c, const char *dotted, const char **out, size_t max)
{
	const struct cvm_conf_key *k = cvm_conf_lookup(dotted);
	size_t n = 0;

	if (!k)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].k == k) {
			if (n < max)
				out[n] = c->e[i].value;
			n++;
		}
	return n;
}
