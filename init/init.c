/* cvmkit's PID 1: mount the API file systems, load the image's modules,
 * report what the boot measured, bring up the network when configured, attest
 * to the KBS and receive the workload's secrets when configured, run the
 * workload, mirror its exit status and power off.  A stop request (SIGTERM,
 * SIGPWR, SIGINT = Ctrl-Alt-Del; see stop.c) gives the workload SIGTERM and a
 * grace period first, or ends a boot whose workload has not started yet.
 * Any fatal error prints one line and powers off: never a kernel panic (PID 1
 * never exits), never a hang, and never a workload started without every
 * secret it was promised. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cvmkit/dhcp.h"
#include "cvmkit/evidence.h"
#include "cvmkit/fileio.h"
#include "cvmkit/hex.h"
#include "cvmkit/net.h"
#include "init.h"

static const char *prog = "init";
static enum init_on_exit on_exit_action = INIT_POWEROFF;
static const char *current_phase = "start";

static double boottime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[1600];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "[%10.6f] %s: ", boottime(), prog);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

static void phase(const char *name)
{
	current_phase = name;
	say("phase %s", name);
}

/* The end of every boot, good or bad.  When not PID 1 (tests on the host),
 * exit with the status instead. */
__attribute__((noreturn)) static void finish(int status)
{
	if (getpid() != 1)
		exit(status);
	sync();
	/* Give the workload's leftovers a moment, then end them.  kill(-1)
	 * fails with ESRCH when nothing is left, the common case. */
	if (kill(-1, SIGTERM) == 0) {
		for (int i = 0; i < 10 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
			usleep(100 * 1000);
		kill(-1, SIGKILL);
	}
	sync();
	say("%s", on_exit_action == INIT_REBOOT ? "rebooting" : "powering off");
	reboot(on_exit_action == INIT_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
	/* reboot() only returns on failure; halt rather than exit into a panic. */
	for (;;)
		pause();
}

__attribute__((noreturn, format(printf, 1, 2))) static void fatal(const char *fmt, ...)
{
	char msg[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("fatal: unable to %s", msg);
	finish(1);
}

/* A stop request before the workload runs (during attestation, say): there
 * is nothing to stop gracefully, so the boot ends here instead of starting a
 * workload only to stop it.  Runs as a signal handler in whatever phase is
 * under way and never returns; say() and finish() use only what is safe there
 * with musl (snprintf into a stack buffer, write, sync, kill, waitpid, reboot). */
static void stop_before_workload(int sig)
{
	enum init_on_exit action;

	if (init_stop_action(sig, &action) < 0)
		return;
	on_exit_action = action;
	say("stop: %s received in phase %s, before the workload started: nothing to stop", init_stop_describe(sig),
	    current_phase);
	finish(128 + sig);
}

/* Until the workload runs, stop signals interrupt whatever phase is under way;
 * from then on they are blocked again and supervise() takes them in turn. */
static void early_stop(bool armed)
{
	struct sigaction sa = { .sa_handler = armed ? stop_before_workload : SIG_DFL };
	sigset_t stop;

	sigfillset(&sa.sa_mask);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGPWR);
	if (!armed)
		sigprocmask(SIG_BLOCK, &stop, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPWR, &sa, NULL);
	if (armed)
		sigprocmask(SIG_UNBLOCK, &stop, NULL);
}

static int do_mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)
{
	if (mkdir(dst, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		return -errno;
	return 0;
}

static void mount_api_filesystems(void)
{
	static const struct {
		const char *src, *dst, *type;
		unsigned long flags;
		const char *data;
	} m[] = {
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "securityfs", "/sys/kernel/security", "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
		{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int r = do_mount(m[i].src, m[i].dst, m[i].type, m[i].flags, m[i].data);
		if (r < 0)
			fatal("mount %s on %s: %s", m[i].type, m[i].dst, strerror(-r));
	}
}

/* The kernel hands PID 1 /dev/console only if the initramfs has the node;
 * reopen it from devtmpfs so output reaches the serial console either way. */
static void setup_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void load_config(struct init_config *c)
{
	uint8_t *buf;
	size_t len;
	unsigned line = 0;
	int r;

	r = cvm_read_file(INIT_CONF_PATH, 1 << 20, &buf, &len);
	if (r < 0)
		fatal("read %s: %s", INIT_CONF_PATH, strerror(-r));
	r = init_config_parse(buf, len, c, &line);
	free(buf);
	if (r == -ENOENT)
		fatal("configure the workload: %s has no [workload] path", INIT_CONF_PATH);
	if (r == -ENOTCONN)
		fatal("configure the KBS: %s needs [network] (also for initdata), an https url (or initdata), ca or pin, "
		      "and at least one secret", INIT_CONF_PATH);
	if (r == -EDESTADDRREQ)
		fatal("configure the network: %s has [network] mode = static but no address", INIT_CONF_PATH);
	if (r == -ENOTUNIQ)
		fatal("configure the KBS: %s delivers a secret to an environment variable [workload] env also sets",
		      INIT_CONF_PATH);
	if (r < 0)
		fatal("parse %s line %u: %s", INIT_CONF_PATH, line, strerror(-r));
	on_exit_action = c->on_exit;
}

static const char *ipv4_str(uint32_t a, char buf[16])
{
	const uint8_t *b = (const uint8_t *)&a;

	snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	return buf;
}

/* Waits for the named interface (the modules phase may still be probing it). */
static int wait_interface(const char *name, uint64_t deadline_ms)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/net/%s", name);
	while (access(path, F_OK) < 0)
		if (cvm_net_sleep_until(50, deadline_ms) < 0)
			return -ETIMEDOUT;
	return 0;
}

/* Every failure here is fatal: a workload that was configured with a network
 * must never start without it.  The whole phase is bounded by the timeout. */
static void bring_up_network(const struct init_config *c)
{
	uint64_t deadline = cvm_net_deadline((uint64_t)c->net_timeout * 1000u);
	struct cvm_net_config nc = { 0 };
	char ifname[CVM_NET_IFNAMSIZ], a[16], g[16], dns[3 * 17] = "";
	uint8_t mac[6];
	int r;

	if (c->net_interface[0]) {
		snprintf(ifname, sizeof(ifname), "%s", c->net_interface);
		r = wait_interface(ifname, deadline);
	} else {
		r = cvm_net_find_interface(NULL, deadline, ifname);
	}
	if (r == -ETIMEDOUT)
		fatal("bring up the network: no network interface%s%s appeared within %u s",
		      c->net_interface[0] ? " " : "", c->net_interface, c->net_timeout);
	if (r < 0)
		fatal("bring up the network: find the network interface: %s", strerror(-r));
	(void)cvm_net_link_up("lo", mac); /* the kernel gives lo 127.0.0.1 when it goes up */
	r = cvm_net_link_up(ifname, mac);
	if (r < 0)
		fatal("bring up the network: set %s up: %s", ifname, strerror(-r));
	if (c->net_mode == INIT_NET_DHCP) {
		struct cvm_dhcp_lease lease;

		say("network: %s: DHCP", ifname);
		r = cvm_dhcp_acquire(ifname, mac, deadline, &lease);
		if (r == -ETIMEDOUT)
			fatal("bring up the network: no DHCP lease on %s within %u s", ifname, c->net_timeout);
		if (r < 0)
			fatal("bring up the network: DHCP on %s: %s", ifname, strerror(-r));
		r = cvm_dhcp_lease_to_config(&lease, ifname, &nc);
		if (r < 0)
			fatal("bring up the network: use the DHCP lease on %s: %s", ifname, strerror(-r));
	} else {
		snprintf(nc.ifname, sizeof(nc.ifname), "%s", ifname);
		nc.address = c->net_address;
		nc.prefix = c->net_prefix;
		nc.gateway = c->net_gateway;
	}
	if (c->net_n_dns) {
		memcpy(nc.dns, c->net_dns, sizeof(nc.dns));
		nc.n_dns = c->net_n_dns;
	}
	r = cvm_net_configure(&nc);
	if (r < 0)
		fatal("bring up the network: configure %s: %s", ifname, strerror(-r));
	r = cvm_net_write_resolv_conf(&nc);
	if (r < 0)
		fatal("bring up the network: write /run/resolv.conf: %s", strerror(-r));
	for (size_t i = 0; i < nc.n_dns; i++) {
		size_t l = strlen(dns);
		snprintf(dns + l, sizeof(dns) - l, "%s%s", i ? "," : "", ipv4_str(nc.dns[i], a));
	}
	say("network: %s %s/%u gateway %s dns %s", ifname, ipv4_str(nc.address, a), nc.prefix,
	    nc.gateway ? ipv4_str(nc.gateway, g) : "none", nc.n_dns ? dns : "none");
}

/* VmHWM: the most resident memory this process ever had. */
static long peak_rss_kib(void)
{
	uint8_t *buf;
	size_t len;
	long kib = -1;

	if (cvm_read_file("/proc/self/status", 64u << 10, &buf, &len) < 0)
		return -1;
	for (char *p = (char *)buf; p && p < (char *)buf + len; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, "VmHWM:", 6)) {
			kib = strtol(p + 6, NULL, 10);
			break;
		}
	free(buf);
	return kib;
}

/* Initdata before any attestation: read once, extended into PCR 8, kept
 * byte for byte for the attest request. */
static void read_initdata(struct init_config *c, struct init_initdata *d)
{
	static const char *const forms[] = { "none", "native", "peer-pod cloud-config" };
	char err[1300], hex[2 * CVM_HASH_MAX_SIZE + 1], pcr[65], keys[400] = "";
	int r;

	phase("initdata");
	r = init_initdata_run(c, d, err, sizeof(err));
	if (r < 0) {
		init_config_free(c);
		fatal("%s", err);
	}
	if (!d->len) {
		say("initdata: none in IMDS userData (PCR 8 stays zero)");
		return;
	}
	cvm_hex_encode(d->digest, (size_t)d->dlen, hex);
	cvm_hex_encode(d->pcr8, 32, pcr);
	for (size_t i = 0; i < d->parsed->n; i++) {
		size_t l = strlen(keys);
		snprintf(keys + l, sizeof(keys) - l, "%s%.60s", i ? "," : "", d->parsed->data[i].key);
	}
	say("initdata: %s form, %zu bytes, %s %s, data %s", forms[d->form], d->len, cvm_hash_name(d->parsed->alg), hex,
	    keys[0] ? keys : "(empty)");
	say("initdata: PCR 8 sha256 %s", pcr);
	/* Trustee's PCR 8 check takes a 32-byte digest only (initdata.md §3). */
	if (d->parsed->alg == CVM_HASH_SHA256)
		c->kbs.init_data_toml = (const char *)d->doc;
	else if (c->kbs.enabled)
		say("initdata: %s document: extended cut to 32 bytes, not sent as init-data", cvm_hash_name(d->parsed->alg));
}

static void report_phase(const struct init_config *c, const struct init_initdata *d)
{
	char err[1300] = "";
	int r;

	phase("measured-boot-report");
	r = init_report_phase(c, d, err, sizeof(err));
	if (r == -ENODEV)
		say("no TPM: measured-boot report skipped");
	else if (r < 0)
		fatal("%s", err);
	if (err[0] && r != -ENODEV)
		say("measured-boot report: without evidence (unable to %s)", err);
}

/* Attestation and secrets: everything or nothing.  The workload starts only
 * once every configured secret is in /run/secrets or its environment. */
static void receive_secrets(struct init_config *c)
{
	struct init_attest att = { 0 };
	char err[1300];
	int r;

	phase("attest");
	r = init_attest_prepare(c, &att, err, sizeof(err));
	if (r < 0)
		fatal("%s", err);
	say("attest: %s vTPM%s, evidence v%d, KBS %s", cvm_tee_name((enum cvm_tee)att.tee),
	    att.vcek_der ? ", VCEK from IMDS" : "", c->kbs.evidence_version, c->kbs.url);
	phase("secrets");
	r = init_secrets_fetch(c, &att, err, sizeof(err));
	init_attest_free(&att);
	if (r < 0) {
		init_config_free(c);
		fatal("%s", err);
	}
	for (size_t i = 0; i < c->kbs.n_secrets; i++) {
		const struct init_secret *s = &c->kbs.secrets[i];
		say("secrets: %s -> %s%s%s%s", s->name, s->dest & INIT_SECRET_FILE ? INIT_SECRETS_DIR "/" : "",
		    s->dest & INIT_SECRET_FILE ? s->name : "", s->dest == (INIT_SECRET_FILE | INIT_SECRET_ENV) ? " and " : "",
		    s->dest & INIT_SECRET_ENV ? "environment" : "");
	}
	say("peak RSS %ld KiB", peak_rss_kib());
}

static pid_t spawn_workload(const struct init_config *c, const sigset_t *oldmask)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: a fresh session (its process group is what a stop signals;
	 * formed before signals are unblocked, so none arrives in between),
	 * default signals, the configured identity. */
	setsid();
	{
		char err[512];
		if (init_workload_enter(c, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: fatal: unable to %s\n", prog, err);
			_exit(126);
		}
	}
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (chdir(c->workdir) < 0) {
		fprintf(stderr, "%s: fatal: unable to enter %s: %s\n", prog, c->workdir, strerror(errno));
		_exit(126);
	}
	int r = init_set_identity(c->uid, c->gid);
	if (r < 0) {
		fprintf(stderr, "%s: fatal: unable to drop to uid %u gid %u: %s\n", prog, (unsigned)c->uid,
			(unsigned)c->gid, strerror(-r));
		_exit(126);
	}
	execve(c->path, c->argv, c->envp);
	fprintf(stderr, "%s: fatal: unable to run %s: %s\n", prog, c->path, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* The workload's process group (setsid() made it its leader), so its
 * children get the signal too; the leader alone if it has not formed the
 * group yet (it then gets the signal once it unblocks). */
static void signal_workload(pid_t child, int sig)
{
	if (kill(-child, sig) < 0 && errno == ESRCH)
		kill(child, sig);
}

/* Wait for the workload, reaping every other child that the kernel re-parents
 * to us, and forwarding other signals to the workload.  A stop request
 * (init_stop_action) sends SIGTERM to the workload's process group, and
 * SIGKILL stop_timeout seconds later if it is still there; the request then
 * decides between power-off and reboot.  Returns the workload's exit status
 * the way a shell reports it (128+N for signal N). */
static int supervise(pid_t child, unsigned stop_timeout)
{
	sigset_t all;
	double stop_at = 0;
	bool stopping = false, killed = false;

	sigfillset(&all);
	for (;;) {
		struct timespec timeout = { 1, 0 };
		enum init_on_exit action;
		int sig;

		if (stopping && !killed) {
			double left = stop_at + stop_timeout - boottime();

			if (left <= 0) {
				say("stop: %u s grace over: SIGKILL to the workload's process group", stop_timeout);
				signal_workload(child, SIGKILL);
				killed = true;
			} else if (left < 1) {
				timeout = (struct timespec){ 0, (long)(left * 1e9) + 1 };
			}
		}
		sig = sigtimedwait(&all, NULL, &timeout);
		if (sig > 0 && init_stop_action(sig, &action) == 0) {
			if (!stopping) {
				stopping = true;
				stop_at = boottime();
				on_exit_action = action;
				phase("stop");
				say("stop: %s received: SIGTERM to the workload's process group, %u s grace",
				    init_stop_describe(sig), stop_timeout);
				signal_workload(child, SIGTERM);
			}
		} else if (sig > 0 && sig != SIGCHLD) {
			kill(child, sig);
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);
			if (p <= 0)
				break;
			if (p != child)
				continue;
			if (stopping)
				say("stop: workload %s %.2f s after the request", killed ? "killed" : "exited",
				    boottime() - stop_at);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
}

int main(int argc, char **argv)
{
	struct init_config cfg;
	struct init_modules_result mods = { 0 };
	struct init_initdata idata = { 0 };
	sigset_t all, old;
	pid_t child;
	int r, status;

	/* /sbin/poweroff, /sbin/reboot and /sbin/halt are this binary too. */
	if (getpid() != 1) {
		enum init_applet a = init_applet_from_argv0(argc > 0 ? argv[0] : NULL);

		if (a != INIT_APPLET_INIT)
			return init_applet_main(a, argc, argv);
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	umask(022);

	if (getpid() == 1) {
		mount_api_filesystems();
		setup_console();
		/* Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot. */
		if (reboot(RB_DISABLE_CAD) < 0)
			say("Ctrl-Alt-Del stays an immediate reboot: %s", strerror(errno));
	}
	early_stop(true);
	phase("start");
	load_config(&cfg);

	phase("modules");
	r = init_load_modules(INIT_MODULES_LIST, &mods);
	if (r < 0)
		fatal("load module %s: %s", mods.failed, strerror(-r));
	say("modules: %u loaded, %u not applicable to this machine", mods.loaded, mods.skipped);

	/* A line that may carry evidence waits for the initdata (its nonce, and
	 * PCR 8 as the KBS will see it). */
	bool late_report = cfg.report_evidence != INIT_EVIDENCE_NO && (cfg.report_nonce[0] || init_initdata_wanted(&cfg));
	if (cfg.report_pcrs && !late_report)
		report_phase(&cfg, NULL);

	if (cfg.net_mode != INIT_NET_NONE) {
		phase("network");
		bring_up_network(&cfg);
		/* Ready goes before attestation: the WireServer's answers are
		 * parsed while no secret is in memory yet, and a boot that then
		 * fails attestation shows Azure a provisioned VM that powered off
		 * (with the reason on the serial log) instead of a 40-minute
		 * provisioning timeout and reboots.  Never fatal (init/azure.c). */
		if (cfg.azure_ready != INIT_AZURE_READY_NO) {
			char line[768];

			phase("azure-ready");
			(void)init_azure_ready(&cfg, INIT_DMI_DIR, line, sizeof(line));
			say("%s", line);
		}
	}

	if (init_initdata_wanted(&cfg))
		read_initdata(&cfg, &idata);
	if (cfg.report_pcrs && late_report)
		report_phase(&cfg, &idata);

	if (cfg.kbs.enabled)
		receive_secrets(&cfg);
	cfg.kbs.init_data_toml = NULL;
	init_initdata_free(&idata);

	phase("workload");
	say("starting %s", cfg.path);
	early_stop(false);
	child = spawn_workload(&cfg, &old);
	if (child < 0) {
		init_config_free(&cfg);
		fatal("fork the workload: %s", strerror(errno));
	}
	/* The workload has its copy; ours is no longer needed. */
	init_secrets_wipe_env(&cfg);
	status = supervise(child, cfg.stop_timeout);
	say("workload exited with status %d", status);
	init_config_free(&cfg);
	finish(status);
}
