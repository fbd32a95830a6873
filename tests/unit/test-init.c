/* init/: the init's configuration and module-list handling (host build of the guest code). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../init/init.h"
#include "cvmkit/fileio.h"
#include "testutil.h"

static int parse(const char *text, struct init_config *c, unsigned *line)
{
	return init_config_parse((const uint8_t *)text, strlen(text), c, line);
}

static void full_config(void **state)
{
	struct init_config c;
	const char *text = "[workload]\npath = /usr/bin/hello\narg = --exit\narg = 3\nenv = RESPONSE=hi there\n"
			   "uid = 1000\ngid = 1001\nworkdir = /tmp\n[init]\non_exit = reboot\nreport_pcrs = no\n"
			   "dump_eventlog = yes\n";

	assert_int_equal(parse(text, &c, NULL), 0);
	assert_string_equal(c.path, "/usr/bin/hello");
	assert_string_equal(c.argv[0], "/usr/bin/hello");
	assert_string_equal(c.argv[1], "--exit");
	assert_string_equal(c.argv[2], "3");
	assert_null(c.argv[3]);
	assert_string_equal(c.envp[0], "RESPONSE=hi there");
	assert_null(c.envp[1]);
	assert_int_equal(c.uid, 1000);
	assert_int_equal(c.gid, 1001);
	assert_string_equal(c.workdir, "/tmp");
	assert_int_equal(c.on_exit, INIT_REBOOT);
	assert_false(c.report_pcrs);
	assert_true(c.dump_eventlog);
	init_config_free(&c);
}

static void defaults(void **state)
{
	struct init_config c;

	assert_int_equal(parse("[workload]\npath=/w\n", &c, NULL), 0);
	assert_int_equal(c.argc, 0);
	assert_null(c.argv[1]);
	assert_int_equal(c.on_exit, INIT_POWEROFF);
	assert_true(c.report_pcrs);
	assert_false(c.dump_eventlog);
	assert_string_equal(c.workdir, "/");
	assert_int_equal(c.uid, 0);
	init_config_free(&c);
}

static void rejects(void **state)
{
	static const struct {
		const char *text;
		int err;
		unsigned line;
	} cases[] = {
		{ "[init]\non_exit=poweroff\n", -ENOENT, 0 },
		{ "[workload]\npath=relative\n", -EINVAL, 2 },
		{ "[workload]\npath=/w\ntypo=1\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\nenv=NOEQUALS\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\nuid=-1\n", -EINVAL, 3 },
		{ "[workload]\npath=/w\n[init]\non_exit=halt\n", -EINVAL, 4 },
		{ "[workload]\npath=/w\n[init]\nreport_pcrs=maybe\n", -EINVAL, 4 },
		{ "[attest]\nurl=https://x\n", -EINVAL, 2 },
		{ "[workload\n", -EBADMSG, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct init_config c;
		unsigned line = 0;
		assert_int_equal(parse(cases[i].text, &c, &line), cases[i].err);
		if (cases[i].line)
			assert_int_equal(line, cases[i].line);
	}
}

#define KBS_BASE "[workload]\npath=/w\nenv=A=1\n[network]\nmode=dhcp\n[kbs]\n"
#define PIN "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void kbs_config(void **state)
{
	struct init_config c;
	const char *text = KBS_BASE "url = https://169.254.0.2:8443/\nca = /etc/cvmkit/kbs-ca.pem\npin = " PIN "\n"
			   "tee = az-snp-vtpm\nlegacy_tee_names = yes\nevidence_version = 1\ntimeout = 7\n"
			   "secret = DB_PASSWORD kbs:///default/key/1 file,env\nsecret = TOKEN kbs://kbs.example:8080/a/b/c env\n"
			   "sealed = SEALED sealed.aGVhZA.cGF5bG9hZA.c2ln file\n";
	static const uint8_t pin[32] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
					 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

	assert_int_equal(parse(text, &c, NULL), 0);
	assert_true(c.kbs.enabled);
	assert_string_equal(c.kbs.url, "https://169.254.0.2:8443");
	assert_string_equal(c.kbs.ca, "/etc/cvmkit/kbs-ca.pem");
	assert_true(c.kbs.has_pin);
	assert_memory_equal(c.kbs.pin, pin, 32);
	assert_int_equal(c.kbs.tee, INIT_TEE_SNP);
	assert_true(c.kbs.legacy_tee_names);
	assert_int_equal(c.kbs.evidence_version, 1);
	assert_int_equal(c.kbs.timeout, 7);
	assert_string_equal(c.kbs.imds_url, "http://169.254.169.254");
	assert_int_equal(c.kbs.n_secrets, 3);
	assert_string_equal(c.kbs.secrets[0].name, "DB_PASSWORD");
	assert_string_equal(c.kbs.secrets[0].source, "kbs:///default/key/1");
	assert_int_equal(c.kbs.secrets[0].dest, INIT_SECRET_FILE | INIT_SECRET_ENV);
	assert_false(c.kbs.secrets[0].sealed);
	assert_int_equal(c.kbs.secrets[1].dest, INIT_SECRET_ENV);
	assert_true(c.kbs.secrets[2].sealed);
	assert_string_equal(c.kbs.secrets[2].source, "sealed.aGVhZA.cGF5bG9hZA.c2ln");
	assert_int_equal(c.kbs.secrets[2].dest, INIT_SECRET_FILE);
	assert_int_equal(c.kbs.env_first, 1);
	init_config_free(&c);

	/* Defaults, and no [kbs] at all. */
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x file\n", &c, NULL), 0);
	assert_int_equal(c.kbs.tee, INIT_TEE_AUTO);
	assert_int_equal(c.kbs.evidence_version, 2);
	assert_int_equal(c.kbs.timeout, 30);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n", &c, NULL), 0);
	assert_false(c.kbs.enabled);
	init_config_free(&c);
}

static void initdata_config(void **state)
{
	struct init_config c;

	(void)state;
	/* url = initdata: no https url, ca or pin needed at parse time. */
	assert_int_equal(parse(KBS_BASE "url = initdata\nsecret=S kbs:///r/t/x file\n[initdata]\nrequire = yes\n", &c, NULL), 0);
	assert_true(c.kbs.enabled);
	assert_true(c.kbs.url_from_initdata);
	assert_string_equal(c.kbs.url, "");
	assert_true(c.initdata_require);
	assert_int_equal(c.initdata_source, INIT_INITDATA_AUTO);
	assert_true(init_initdata_wanted(&c));
	init_config_free(&c);
	/* Auto reads userData only with a KBS or when required. */
	assert_int_equal(parse("[workload]\npath=/w\n[network]\nmode=dhcp\n", &c, NULL), 0);
	assert_false(init_initdata_wanted(&c));
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\n[network]\nmode=dhcp\n[initdata]\nsource=imds\n", &c, NULL), 0);
	assert_true(init_initdata_wanted(&c));
	init_config_free(&c);
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x file\n[initdata]\nsource=none\n",
			       &c, NULL),
			 0);
	assert_false(init_initdata_wanted(&c));
	init_config_free(&c);
}

static void kbs_rejects(void **state)
{
	static const struct {
		const char *text;
		int err;
	} cases[] = {
		{ KBS_BASE "url=ftp://k\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=0011\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\ntee=snp\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nevidence_version=3\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\ntimeout=0\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\ntimeout=601\n", -EINVAL },
		{ KBS_BASE "url=https://k\nca=relative.pem\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x\n", -EINVAL },
		/* What cvm-image refuses, the init refuses too (cvmkit/kbsref.h): a
		 * path the KBS does not route, a plugin URI, a sealed string that is
		 * not three base64url parts. */
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/.x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x/y file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs+vault:///r/t/x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsealed=S sealed.aGVhZA.cGF5bG9hZA file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsealed=S sealed.aGVhZA..c2ln file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsealed=S sealed.aGVh+ZA.cGF5bG9hZA.c2ln file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x disk\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S http://r/t/x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=1S kbs:///r/t/x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S-1 kbs:///r/t/x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x file extra\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsealed=S kbs:///r/t/x file\n", -EINVAL },
		{ KBS_BASE "url=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x file\nsecret=S kbs:///r/t/y env\n", -EEXIST },
		/* Fail closed: https without a way to authenticate the KBS, plain
		 * http without consent, no network, secrets without a KBS, a KBS
		 * with nothing to fetch. */
		{ KBS_BASE "url=https://k\nsecret=S kbs:///r/t/x file\n", -ENOTCONN },
		{ KBS_BASE "url=http://k\nsecret=S kbs:///r/t/x file\n", -ENOTCONN },
		{ "[workload]\npath=/w\n[kbs]\nurl=https://k\npin=" PIN "\nsecret=S kbs:///r/t/x file\n", -ENOTCONN },
		{ KBS_BASE "secret=S kbs:///r/t/x file\n", -ENOTCONN },
		{ KBS_BASE "url=https://k\npin=" PIN "\n", -ENOTCONN },
		/* Initdata comes from IMDS: it needs the network, and cannot be
		 * both required (or the KBS's source) and switched off. */
		{ "[workload]\npath=/w\n[initdata]\nrequire=yes\n", -ENOTCONN },
		{ "[workload]\npath=/w\n[network]\nmode=dhcp\n[initdata]\nrequire=yes\nsource=none\n", -ENOTCONN },
		{ KBS_BASE "url=initdata\nsecret=S kbs:///r/t/x file\n[initdata]\nsource=none\n", -ENOTCONN },
		{ KBS_BASE "url=initdata\nsecret=S kbs:///r/t/x file\n[initdata]\nsource=cd\n", -EINVAL },
		{ KBS_BASE "url=initdata\nsecret=S kbs:///r/t/x file\n[initdata]\nrequire=maybe\n", -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct init_config c;
		assert_int_equal(parse(cases[i].text, &c, NULL), cases[i].err);
	}
}

/* Plain HTTP to the KBS is gone, consent or not: over it a machine on the path
 * chooses the secrets (the JWE does not authenticate the sender). */
static void kbs_plain_http_refused(void **state)
{
	struct init_config c;
	unsigned line = 0;

	assert_int_equal(parse(KBS_BASE "url=http://k:8080\nallow_plain_http=yes\nsecret=S kbs:///r/t/x file\n", &c, &line),
			 -EINVAL);
	assert_int_equal(line, 8);
	assert_int_equal(parse(KBS_BASE "url=http://k:8080\npin=" PIN "\nsecret=S kbs:///r/t/x file\n", &c, NULL),
			 -ENOTCONN);
	assert_int_equal(parse(KBS_BASE "url=http://k:8080\nca=/etc/ca.pem\nsecret=S kbs:///r/t/x file\n", &c, NULL),
			 -ENOTCONN);
}

/* IMDS answers plain HTTP only; a secret for the environment must not share a
 * name with a configured variable (KBS_BASE sets A). */
static void kbs_imds_and_env_names(void **state)
{
	struct init_config c;

	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nimds_url=https://169.254.169.254\n"
				       "secret=S kbs:///r/t/x file\n", &c, NULL),
			 -EINVAL);
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=A kbs:///r/t/x env\n", &c, NULL),
			 -ENOTUNIQ);
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=A kbs:///r/t/x file,env\n", &c, NULL),
			 -ENOTUNIQ);
	/* A file alone, or a name that only starts like A, is fine. */
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=A kbs:///r/t/x file\n", &c, NULL), 0);
	init_config_free(&c);
	assert_int_equal(parse(KBS_BASE "url=https://k\npin=" PIN "\nsecret=AB kbs:///r/t/x env\n", &c, NULL), 0);
	init_config_free(&c);
}

/* Only uid set: the group is the user's own, never root's. */
static void gid_defaults_to_uid(void **state)
{
	struct init_config c;

	assert_int_equal(parse("[workload]\npath=/w\nuid=1000\n", &c, NULL), 0);
	assert_int_equal(c.uid, 1000);
	assert_int_equal(c.gid, 1000);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\nuid=1000\ngid=0\n", &c, NULL), 0);
	assert_int_equal(c.gid, 0);
	init_config_free(&c);
	assert_int_equal(parse("[workload]\npath=/w\ngid=5\nuid=7\n", &c, NULL), 0);
	assert_int_equal(c.gid, 5);
	init_config_free(&c);
}

/* In a child that holds root's supplementary groups: none survive, and the
 * ids are exactly the ones asked for.  Needs root (CI runs as root). */
static int identity_child(uid_t uid, gid_t gid)
{
	const gid_t extra[] = { 4, 27 };
	gid_t groups[8];

	if (setgroups(2, extra) < 0 || setgid(0) < 0)
		return 10;
	if (init_set_identity(uid, gid) < 0)
		return 11;
	if (getgroups(8, groups) != 0)
		return 12;
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return 13;
	return 0;
}

static void identity_drops_groups(void **state)
{
	const struct { uid_t uid; gid_t gid; } cases[] = { { 1000, 1000 }, { 1000, 0 }, { 0, 0 } };
	int st;

	if (geteuid() != 0)
		tu_skip_or_fail("identity_drops_groups needs root");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(identity_child(cases[i].uid, cases[i].gid));
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

static void too_many_args(void **state)
{
	char text[8192] = "[workload]\npath=/w\n";
	struct init_config c;

	for (int i = 0; i < INIT_MAX_ARGS + 1; i++)
		strcat(text, "arg=x\n");
	assert_int_equal(parse(text, &c, NULL), -E2BIG);
}

/* Modules whose dependency does not apply are skipped, never loaded; a list
 * that names a missing file fails naming that module. */
static void module_list_missing_file(void **state)
{
	char *dir = tu_mkdtemp(), path[512];
	struct init_modules_result res = { 0 };
	const char *list = "# comment\nkernel/none/missing.ko.xz\n";

	snprintf(path, sizeof(path), "%s/load.list", dir);
	assert_int_equal(cvm_write_file_atomic(path, list, strlen(list), 0644), 0);
	assert_int_equal(init_load_modules(path, &res), -ENOENT);
	assert_string_equal(res.failed, "kernel/none/missing.ko.xz");
	snprintf(path, sizeof(path), "%s/absent.list", dir);
	assert_int_equal(init_load_modules(path, &res), 0);
	assert_int_equal(res.loaded, 0);
	tu_rmtree(dir);
}

static void put(const char *root, const char *rel, const char *text)
{
	char path[512], dir[600];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(dir), 0);
	assert_int_equal(cvm_write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* A fake sysfs: devices with a modalias file, a device without, the CPU
 * subsystem's modalias. */
static void modaliases_from_sysfs(void **state)
{
	char *dir = tu_mkdtemp(), buf[4096];
	size_t len = 0, n = 0;
	bool blk = false, cpu = false, acpi = false;

	put(dir, "bus/virtio/devices/virtio0/modalias", "virtio:d00000002v00001AF4\n");
	put(dir, "bus/acpi/devices/VMBUS:00/modalias", "acpi:VMBUS:\n");
	put(dir, "bus/cpu/devices/cpu0/uevent", "DRIVER=processor\n");
	put(dir, "devices/system/cpu/modalias", "cpu:type:x86,ven0000fam0006mod00CF:feature:,0000,0116,02AC\n");
	put(dir, "bus/platform/devices/serial8250/uevent", "DRIVER=serial8250\n");
	assert_int_equal(init_modaliases(dir, buf, sizeof(buf), &len), 0);
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1, n++) {
		blk |= !strcmp(buf + off, "virtio:d00000002v00001AF4");
		acpi |= !strcmp(buf + off, "acpi:VMBUS:");
		cpu |= !strcmp(buf + off, "cpu:type:x86,ven0000fam0006mod00CF:feature:,0000,0116,02AC");
	}
	assert_int_equal(n, 3);
	assert_true(blk && acpi && cpu);

	/* Patterns as modules.alias of the pinned kernel writes them. */
	assert_true(init_modalias_match("virtio:d00000002v*", buf, len));
	assert_false(init_modalias_match("virtio:d00000001v*", buf, len));
	assert_true(init_modalias_match("acpi*:VMBus:* acpi*:VMBUS:*", buf, len));
	assert_true(init_modalias_match("cpu:type:x86,ven*fam*mod*:feature:*0116*", buf, len));
	assert_false(init_modalias_match("cpu:type:x86,ven*fam*mod*:feature:*0117*", buf, len));
	assert_false(init_modalias_match("platform:sev-guest", buf, len));
	assert_false(init_modalias_match("", buf, len));
	/* A buffer too small keeps what fits, whole. */
	assert_int_equal(init_modaliases(dir, buf, 20, &len), 0);
	assert_true(len < 20);
	assert_int_equal(init_modaliases("/nonexistent-sysfs", buf, sizeof(buf), &len), -ENOENT);
	tu_rmtree(dir);
	free(dir);
}

/* With load.alias beside load.list, a module asked for whose device is
 * absent is never loaded (and so cannot fail): here a missing file that
 * matches no device counts as skipped, while one without aliases is tried. */
static void module_alias_gates_loading(void **state)
{
	char *dir = tu_mkdtemp(), path[512];
	struct init_modules_result res = { 0 };

	put(dir, "load.list", "kernel/none/nodevice.ko\nkernel/none/always.ko\n");
	put(dir, "load.alias", "kernel/none/nodevice.ko nosuchbus:never-present*\n");
	snprintf(path, sizeof(path), "%s/load.list", dir);
	assert_int_equal(init_load_modules(path, &res), 0);
	assert_int_equal(res.loaded, 0);
	assert_int_equal(res.skipped, 1);
	put(dir, "load.alias", "kernel/none/nodevice.ko nosuchbus:never-present*\nkernel/none/always.ko\n");
	assert_int_equal(init_load_modules(path, &res), -ENOENT);
	assert_string_equal(res.failed, "kernel/none/always.ko");
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config),
		cmocka_unit_test(defaults),
		cmocka_unit_test(rejects),
		cmocka_unit_test(too_many_args),
		cmocka_unit_test(gid_defaults_to_uid),
		cmocka_unit_test(identity_drops_groups),
		cmocka_unit_test(kbs_config),
		cmocka_unit_test(initdata_config),
		cmocka_unit_test(kbs_rejects),
		cmocka_unit_test(kbs_plain_http_refused),
		cmocka_unit_test(kbs_imds_and_env_names),
		cmocka_unit_test(module_list_missing_file),
		cmocka_unit_test(modaliases_from_sysfs),
		cmocka_unit_test(module_alias_gates_loading),
	};
	return cmocka_run_group_tests_name("init", tests, NULL, NULL);
}
