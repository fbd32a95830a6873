/* Test workload for tests/boot/test-boot-stop.sh: how a workload meets a
 * stop request.  A test program rather than a mode of workload/hello.c, so
 * the demo that ships in every default image carries no test behaviour.
 *
 *   stop-wl term        parent and a forked child each print a line on
 *                       SIGTERM and exit 0 (the child proves the whole
 *                       process group is signalled)
 *   stop-wl poweroff    as term, and runs /sbin/poweroff itself once ready
 *   stop-wl ignore      ignores SIGTERM, runs /sbin/poweroff, waits forever
 *
 * Every mode prints "stop-wl: ready" once its signal disposition is in place,
 * so the test knows when a request can be sent. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *who = "parent";

static void put(const char *s) { (void)!write(STDOUT_FILENO, s, strlen(s)); }

static void on_term(int sig)
{
	(void)sig;
	put(!strcmp(who, "parent") ? "stop-wl: parent: SIGTERM handler ran, exiting 0\n"
				   : "stop-wl: child: SIGTERM handler ran, exiting 0\n");
	_exit(0);
}

static int run_poweroff(void)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		execl("/sbin/poweroff", "/sbin/poweroff", (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "term";
	char line[96];
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "ignore")) {
		signal(SIGTERM, SIG_IGN);
	} else {
		signal(SIGTERM, on_term);
		if (fork() == 0) {
			who = "child";
			for (;;)
				pause();
		}
	}
	printf("stop-wl: ready (mode %s, pid %d, process group %d)\n", mode, (int)getpid(), (int)getpgrp());
	if (strcmp(mode, "term")) {
		put("stop-wl: running /sbin/poweroff\n");
		r = run_poweroff();
		snprintf(line, sizeof(line), "stop-wl: /sbin/poweroff exited with status %d\n", r);
		put(line);
	}
	for (;;)
		pause();
}
