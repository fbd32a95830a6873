/* Private interfaces of the init (PID 1).  Everything here returns 0 or a
 * negative errno and never prints; init.c's main() reports. */
#ifndef CVMKIT_INIT_H
#define CVMKIT_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cvmkit/initdata.h"
#include "cvmkit/kbsref.h"

#define INIT_CONF_PATH "/etc/cvmkit/init.conf"
#define INIT_MODULES_LIST "/lib/modules/load.list"
#define INIT_MAX_ARGS 64
#define INIT_MAX_ENV 64
#define INIT_MAX_VALUE 1024

enum init_on_exit { INIT_POWEROFF, INIT_REBOOT };
enum init_net_mode { INIT_NET_NONE, INIT_NET_DHCP, INIT_NET_STATIC };

#define INIT_MAX_DNS 3
#define INIT_MAX_NET_TIMEOUT 3600

/* [kbs]: the attest and secrets phases (init/secrets.c). */
#define INIT_MAX_SECRETS 32
#define INIT_MAX_SEALED 3600
#define INIT_SECRET_NAME_MAX CVM_SECRET_NAME_MAX
#define INIT_SECRET_FILE 1u
#define INIT_SECRET_ENV 2u
#ifndef INIT_SECRETS_DIR /* the unit test points it at a scratch folder */
#define INIT_SECRETS_DIR "/run/secrets"
#endif

enum init_tee { INIT_TEE_AUTO, INIT_TEE_SNP, INIT_TEE_TDX };
/* [initdata] source: auto reads IMDS userData when [kbs] is configured or
 * initdata is required. */
enum init_initdata_source { INIT_INITDATA_AUTO, INIT_INITDATA_IMDS, INIT_INITDATA_NONE };
#define INIT_INITDATA_DIR "/run/initdata"
/* [init] report_evidence: whether the measured-boot line carries vTPM
 * evidence bound to a nonce (initdata key INIT_NONCE_KEY, else [init]
 * report_nonce).  auto: when a nonce is there, a failure is one line;
 * require: always, fail closed. */
enum init_report_evidence { INIT_EVIDENCE_AUTO, INIT_EVIDENCE_NO, INIT_EVIDENCE_REQUIRE };
#define INIT_NONCE_KEY "cvmkit.report_nonce"

/* [azure]: the Ready report to the WireServer (init/azure.c). */
enum init_azure_ready { INIT_AZURE_READY_AUTO, INIT_AZURE_READY_YES, INIT_AZURE_READY_NO };
#define INIT_MAX_READY_TIMEOUT 600

struct init_secret {
	char name[INIT_SECRET_NAME_MAX + 1]; /* file name under /run/secrets and environment name */
	char *source;                        /* malloc'd: "kbs://.../R/T/T" or "sealed.<jws>" */
	bool sealed;
	unsigned dest;                       /* INIT_SECRET_FILE | INIT_SECRET_ENV */
};

struct init_kbs {
	bool enabled;                        /* a url was configured */
	char url[256];                       /* "" until the initdata phase when url_from_initdata */
	bool url_from_initdata;              /* [kbs] url = initdata: aa.toml's [token_configs.kbs] */
	const char *init_data_toml;          /* borrowed from struct init_initdata; sent as init-data */
	char ca[128];                        /* file in the image, "" for none */
	bool has_pin;
	uint8_t pin[32];
	enum init_tee tee;
	bool legacy_tee_names;
	int evidence_version;                /* 1 or 2 */
	unsigned timeout;                    /* seconds per request, retries included */
	char imds_url[256];
	struct init_secret secrets[INIT_MAX_SECRETS];
	size_t n_secrets;
	size_t env_first;                    /* envp[env_first..envc) were added by the secrets phase */
};

struct init_config {
	char path[INIT_MAX_VALUE];
	char *argv[INIT_MAX_ARGS + 2];   /* argv[0] = path, NULL-terminated */
	char *envp[INIT_MAX_ENV + 1];
	size_t argc, envc;
	uid_t uid;
	gid_t gid;                           /* without a gid key: the uid's own group (same number) */
	bool has_gid;
	char workdir[INIT_MAX_VALUE];
	/* A container image's process (init/container.c): root is where its
	 * flattened tree is ("" for a plain binary workload). */
	char root[INIT_MAX_VALUE];
	char hostname[65];               /* "" = leave the kernel's */
	char image_manifest[80], image_config[80]; /* digests, for the report line */
	enum init_on_exit on_exit;
	bool report_pcrs;    /* print the measured-boot report line */
	bool dump_eventlog;  /* include the whole event log (base64) in it */
	enum init_report_evidence report_evidence;
	char report_nonce[129]; /* hex (16-128 digits, checked), "" for none */
	/* [network]: addresses in network byte order. */
	enum init_net_mode net_mode;
	char net_interface[16];   /* "" = the first NIC other than lo */
	uint32_t net_address;     /* static */
	unsigned net_prefix;      /* static, 1..32 */
	uint32_t net_gateway;     /* static; 0 = no default route */
	uint32_t net_dns[INIT_MAX_DNS]; /* static, or replacing DHCP's */
	size_t net_n_dns;
	unsigned net_timeout;     /* seconds for the NIC to appear and the lease (1..3600) */
	unsigned stop_timeout;    /* seconds between SIGTERM and SIGKILL on a stop request (0..3600) */
	struct init_kbs kbs;
	enum init_azure_ready azure_ready; /* auto: only when init_azure_detect says Azure */
	unsigned azure_ready_timeout;      /* seconds for the whole report, retries included */
	bool initdata_require;    /* [initdata] require: no document -> fail closed */
	enum init_initdata_source initdata_source;
};

/* config.c: parse an init.conf buffer ([workload] path/arg/env/uid/gid/workdir,
 * [init] on_exit/report_pcrs/dump_eventlog/stop_timeout, [network] mode/interface/address/
 * gateway/dns/timeout, [kbs] url/ca/pin/tee/legacy_tee_names/
 * evidence_version/timeout/imds_url/secret/sealed, [azure] report_ready/
 * ready_timeout).  Unknown keys are -EINVAL
 * (with *ret_line set) so a typo can never silently drop a setting; mode =
 * static without an address is -EDESTADDRREQ; [kbs] without a network, a url
 * other than https://, no ca or pin, or secrets without a url is -ENOTCONN;
 * a secret for the environment named like an env entry is -ENOTUNIQ. */
int init_config_parse(const uint8_t *buf, size_t len, struct init_config *ret, unsigned *ret_line);
void init_config_free(struct init_config *c);
/* Whether the initdata phase runs (source imds, or auto with a KBS or require). */
bool init_initdata_wanted(const struct init_config *c);

/* identity.c: the workload's identity, for a child about to exec: no
 * supplementary groups (PID 1's would otherwise be inherited), then GID,
 * then UID, each set even when 0 so the result never depends on what the
 * caller held.  Returns 0 or -errno of the first call that failed. */
int init_set_identity(uid_t uid, gid_t gid);

/* modules.c: load.list has one line per module (path relative to
 * /lib/modules, then the modules it needs, in load order); load.alias beside
 * it one line per module the configuration asked for, its path then its
 * device aliases (fnmatch patterns from modules.alias).  A module is loaded
 * (after its dependencies, with finit_module; compressed ones decompressed by
 * the kernel) only when a present device's modalias matches one of its
 * aliases, or when it has none; devices are read again after each round that
 * loaded something (a bus driver adds devices).  Without load.alias every
 * listed module is loaded.  Modules whose hardware is absent (no device,
 * ENODEV, ENXIO) count as skipped; already-present ones (EEXIST) as loaded. */
struct init_modules_result {
	unsigned loaded, skipped;
	char failed[256];    /* the module that failed, when the return is < 0 */
};
int init_load_modules(const char *list_path, struct init_modules_result *ret);
/* The modaliases of the devices under sys_root ("/sys"): each
 * bus/X/devices/Y/modalias and devices/system/cpu/modalias (CPUs have no
 * per-device file), NUL-terminated one after another in buf[cap] (what does
 * not fit is left out).  Returns 0 and *ret_len, or -errno when
 * sys_root/bus cannot be read. */
int init_modaliases(const char *sys_root, char *buf, size_t cap, size_t *ret_len);
/* Whether one of the space-separated fnmatch patterns matches one of the
 * NUL-terminated modaliases in aliases[0..len). */
bool init_modalias_match(const char *patterns, const char *aliases, size_t len);

/* report.c: one line "CVMKIT-MEASURED-BOOT {json}" with the SHA-256 (and
 * SHA-384 where the TPM has the bank) PCRs 0-23 from sysfs, the event log's
 * size and SHA-256, and optionally the event log in base64.  Writes the line
 * (with newline) to fd. Returns -ENODEV when there is no TPM. */
#define INIT_REPORT_PREFIX "CVMKIT-MEASURED-BOOT "
/* With evidence (the attest evidence JSON, its TEE name and the nonce hex)
 * the line gains an "evidence" member and is followed by the evidence in
 * base64 lines (include/cvmkit/capture-auth.h). */
struct init_report_evidence_data {
	const char *tee, *nonce_hex, *json;
};
int init_measured_boot_report(int fd, bool with_eventlog, const struct init_config *c,
			      const struct init_report_evidence_data *ev);
/* The phase: the line, with evidence as [init] report_evidence and the
 * nonce (D's INIT_NONCE_KEY, else [init] report_nonce) ask.  Returns 0 (err
 * non-empty when evidence was asked for and is missing: auto), -ENODEV (no
 * TPM), or another negative errno with err filled: fatal. */
struct init_initdata;
int init_report_phase(const struct init_config *c, const struct init_initdata *d, char *err, size_t err_size);

/* container.c, in the workload's child before it drops privileges: sets the
 * host name, drops supplementary groups and, for an image, enters its root
 * the way a runtime does for one container (own mount namespace, the tree
 * moved over /, /proc /sys /dev /dev/pts /dev/shm /run /tmp mounted inside,
 * /run/secrets bound read-only).  On failure err holds one line. */
int init_workload_enter(const struct init_config *c, char *err, size_t err_size);

/* secrets.c: the attest phase (vTPM, HCL report type, IMDS VCEK) and the
 * secrets phase (KBS RCAR, resource fetches, sealed secrets, delivery to
 * /run/secrets and the workload's environment).  On failure both return a
 * negative errno and fill err with one line ("unable to ..." without the
 * prefix) that never holds secret bytes. */
struct cvm_tpm2;
struct init_attest {
	struct cvm_tpm2 *tpm;
	int tee;                 /* enum cvm_tee */
	uint8_t *vcek_der;       /* SNP: from IMDS THIM */
	size_t vcek_len;
};
int init_attest_prepare(const struct init_config *c, struct init_attest *ret, char *err, size_t err_size);
int init_secrets_fetch(struct init_config *c, struct init_attest *a, char *err, size_t err_size);
void init_attest_free(struct init_attest *a);
/* The evidence the KBS would get (evidence version from [kbs]), for
 * report_data RD: the attest phase's collector, reused for the report. */
int init_attest_evidence(const struct init_config *c, struct init_attest *a, const uint8_t *rd, size_t rd_len,
			 char **ret_json, char *err, size_t err_size);
/* Wipes and frees the environment entries the secrets phase added. */
void init_secrets_wipe_env(struct init_config *c);

/* azure.c: the Ready report (../shared/notes/azure-deploy.md §6).
 * init_azure_detect: 1 when the DMI tables under dmi_dir (/sys/class/dmi/id)
 * say Azure (sys_vendor "Microsoft Corporation" and Azure's chassis asset
 * tag), 0 otherwise (also when they cannot be read).
 * init_azure_report_ready: runs the report within c->azure_ready_timeout and
 * fills line with one sentence saying what happened; returns 0 when Ready
 * was reported, a negative errno when it was not.  Never fatal: Ready is a
 * signal to Azure's control plane, not a security gate.
 * init_azure_ready: the phase as configured: report_ready = yes reports,
 * auto reports when init_azure_detect(dmi_dir) says Azure and otherwise
 * fills line with why it did not (returning 1); no is 1 with an empty line. */
#define INIT_DMI_DIR "/sys/class/dmi/id"
#define INIT_AZURE_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"
int init_azure_detect(const char *dmi_dir);
int init_azure_report_ready(const struct init_config *c, char *line, size_t size);
int init_azure_ready(const struct init_config *c, const char *dmi_dir, char *line, size_t size);

/* initdata.c: the initdata phase (IMDS userData once -> document -> parse ->
 * PCR 8 extend -> /run/initdata, read-only; [kbs] url = initdata resolved).
 * With no userData ret->len is 0 and nothing is extended (unless required:
 * then -ENODATA).  On failure a negative errno and one line in err. */
struct init_initdata {
	uint8_t *doc;              /* the exact bytes, NUL-terminated (TOML has no NUL) */
	size_t len;                /* 0: no initdata */
	enum cvm_initdata_form form;
	struct cvm_initdata *parsed;
	uint8_t digest[CVM_HASH_MAX_SIZE];
	int dlen;
	uint8_t extend[32], pcr8[32];
};
int init_initdata_run(struct init_config *c, struct init_initdata *ret, char *err, size_t err_size);
void init_initdata_free(struct init_initdata *d);

/* stop.c: stop requests.  The kernel runs /sbin/poweroff (hv_utils on an
 * Azure Stop, ACPI) or /sbin/reboot (an Azure Restart); both are links to
 * the init, which, when not PID 1, picks its part from argv[0]'s basename
 * and signals PID 1: poweroff and halt send SIGTERM, reboot sends SIGINT (the
 * signal the kernel sends for Ctrl-Alt-Del once PID 1 owns it).  PID 1 reads
 * SIGTERM and SIGPWR as "power off", SIGINT as "reboot". */
#define INIT_MAX_STOP_TIMEOUT 3600
enum init_applet { INIT_APPLET_INIT, INIT_APPLET_POWEROFF, INIT_APPLET_REBOOT, INIT_APPLET_HALT };
/* The applet named by argv[0] ("/sbin/poweroff", "reboot", ...); anything
 * else, NULL or "" is the init itself. */
enum init_applet init_applet_from_argv0(const char *argv0);
/* The signal an applet sends to PID 1 (0 for INIT_APPLET_INIT). */
int init_applet_signal(enum init_applet a);
/* 0 and *ret set when sig is a stop request, -EINVAL otherwise. */
int init_stop_action(int sig, enum init_on_exit *ret);
/* "SIGTERM (poweroff)", ...: a stop signal and what sends it, for the log. */
const char *init_stop_describe(int sig);
/* The applet's whole program: --help, or signal PID 1.  Returns the exit
 * status (0 sent, 1 kill failed, 2 usage). */
int init_applet_main(enum init_applet a, int argc, char **argv);

#endif
