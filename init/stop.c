/* Stop requests: which signal means what, and the /sbin/poweroff,
 * /sbin/reboot and /sbin/halt entries of the init binary.
 *
 * The image has no shell and no other binaries, so these are the init itself
 * (symbolic links in the initramfs), told apart by argv[0].  They are what
 * makes an Azure Stop graceful: hv_utils answers the host's shutdown message
 * with orderly_poweroff(), which runs the kernel's poweroff_cmd
 * ("/sbin/poweroff", no arguments, HOME=/ and PATH=/sbin:/bin:... only) and
 * powers off at once only when that cannot be executed; a restart runs
 * "/sbin/reboot" the same way.  The kernel waits only for the exec, so the
 * entry just signals PID 1 and returns; PID 1 does the rest. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

static const struct {
	const char *name;
	enum init_applet applet;
	int sig;
} applets[] = {
	{ "poweroff", INIT_APPLET_POWEROFF, SIGTERM },
	/* A halted CVM keeps its resources (and its bill) with nothing left to
	 * run: halt powers off, as on most minimal systems. */
	{ "halt", INIT_APPLET_HALT, SIGTERM },
	/* SIGINT is what the kernel sends PID 1 for Ctrl-Alt-Del, which PCs
	 * have always answered with a reboot. */
	{ "reboot", INIT_APPLET_REBOOT, SIGINT },
};

enum init_applet init_applet_from_argv0(const char *argv0)
{
	const char *base;

	if (!argv0)
		return INIT_APPLET_INIT;
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		if (!strcmp(base, applets[i].name))
			return applets[i].applet;
	return INIT_APPLET_INIT;
}

int init_applet_signal(enum init_applet a)
{
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		if (applets[i].applet == a)
			return applets[i].sig;
	return 0;
}

int init_stop_action(int sig, enum init_on_exit *ret)
{
	switch (sig) {
	case SIGTERM: /* /sbin/poweroff, /sbin/halt, kill 1 */
	case SIGPWR:  /* power failure, by tradition a shutdown */
		*ret = INIT_POWEROFF;
		return 0;
	case SIGINT:  /* Ctrl-Alt-Del, /sbin/reboot */
		*ret = INIT_REBOOT;
		return 0;
	default:
		return -EINVAL;
	}
}

static const char *applet_name(enum init_applet a)
{
	for (size_t i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		if (applets[i].applet == a)
			return applets[i].name;
	return "init";
}

/* No option changes what happens (there is nothing to force: PID 1 always
 * ends in a power-off or a reboot), so anything but --help is refused rather
 * than silently read as something it is not. */
int init_applet_main(enum init_applet a, int argc, char **argv)
{
	const char *name = applet_name(a);
	int sig = init_applet_signal(a);

	(void)argv;
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s\n\nAsks cvmkit's init (PID 1) to %s: the workload gets SIGTERM and [init] stop_timeout\n"
		       "seconds to exit, then SIGKILL; the file systems are synced and the VM %s.\n"
		       "Sends %s to PID 1 and returns at once.\n",
		       name, a == INIT_APPLET_REBOOT ? "reboot" : "power off",
		       a == INIT_APPLET_REBOOT ? "reboots" : "powers off", sig == SIGINT ? "SIGINT" : "SIGTERM");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "%s: fatal: unable to parse the arguments: '%s' is not an option (%s takes none)\n", name,
			argv[1], name);
		return 2;
	}
	if (kill(1, sig) < 0) {
		fprintf(stderr, "%s: fatal: unable to signal PID 1: %s\n", name, strerror(errno));
		return 1;
	}
	return 0;
}

const char *init_stop_describe(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM (poweroff)";
	case SIGPWR:
		return "SIGPWR (power failure)";
	case SIGINT:
		return "SIGINT (Ctrl-Alt-Del or reboot)";
	default:
		return "a signal";
	}
}
