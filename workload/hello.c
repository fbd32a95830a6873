/* The demo workload, in the spirit of the OpenShift hello-openshift sample:
 * prints a greeting and exits 0, or serves it over HTTP.
 *
 *   hello                     print the greeting (RESPONSE env overrides it)
 *   hello --serve [PORT]      serve it over HTTP (default 8080) until killed
 *   hello --exit N            print the greeting, then exit with status N
 *   hello --whoami ...        first print "hello: uid U gid G groups N cwd D host H"
 *                             and "hello: nameserver A" for each in /etc/resolv.conf
 *                             (the identity a container image's process got)

 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

static void whoami(void)
{
	char cwd[PATH_MAX] = "?", host[256] = "?";

	(void)!getcwd(cwd, sizeof(cwd));
	gethostname(host, sizeof(host));
	printf("hello: uid %u gid %u groups %d cwd %s host %s\n", (unsigned)getuid(), (unsigned)getgid(),
	       getgroups(0, NULL), cwd, host);
	FILE *f = fopen("/etc/resolv.conf", "r");
	char line[128];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "nameserver ", 11))
			printf("hello: %s", line);
	if (f)
		fclose(f);
	fflush(stdout);
}

static const char *greeting(void)
{
	const char *r = getenv("RESPONSE");
	return r && *r ? r : "Hello OpenShift!";
}

static int serve(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 16) < 0) {
		fprintf(stderr, "hello: fatal: unable to listen on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	printf("serving on %d\n", port);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		char req[1024], resp[512];
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC), n;
		if (c < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hello: fatal: unable to accept: %s\n", strerror(errno));
			return 1;
		}
		(void)!read(c, req, sizeof(req));
		n = snprintf(resp, sizeof(resp),
			     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
			     strlen(greeting()) + 1, greeting());
		(void)!write(c, resp, (size_t)n);
		close(c);
	}
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--serve") == 0) {
			int port = i + 1 < argc ? atoi(argv[i + 1]) : 8080;
			return serve(port > 0 && port < 65536 ? port : 8080);
		} else if (strcmp(argv[i], "--whoami") == 0) {
			whoami();
		} else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
			status = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--help") == 0) {
			puts("usage: hello [--whoami] [--serve [PORT]] [--exit STATUS]");
			return 0;
		} else {
			fprintf(stderr, "hello: fatal: unable to parse arguments: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	printf("%s\n", greeting());
	return status;
}
