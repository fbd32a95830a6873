/* The workload's last steps before exec, in its child: host name,
 * supplementary groups, and for a container image the root file system a
 * runtime would give one container.  The tree itself was flattened at build
 * time into the initramfs (under /rootfs), so it is measured with it.
 *
 * The initramfs is not a mount point and cannot be pivot_root'ed away, so
 * the tree is bind-mounted onto itself, moved over "/" and chroot'ed into,
 * in a mount namespace of its own (what switch_root does): ".." at the new
 * root stays there, and the init's files are not reachable from inside. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

#define RESOLV_CONF "/run/resolv.conf" /* written by the network phase */

__attribute__((format(printf, 3, 4))) static int bad(char *err, size_t size, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return e ? -e : -EIO;
}

/* Mounts inside the container's root, after the chroot: every path below
 * resolves inside it. */
static const struct {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *data;
} mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL },
	{ "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k" },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5" },
	{ "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k" },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755" },
	{ "tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

/* The device nodes runc creates in a container's /dev. */
static const struct {
	const char *path;
	unsigned major, minor;
} devices[] = {
	{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static const struct {
	const char *target, *path;
} links[] = {
	{ "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" }, { "pts/ptmx", "/dev/ptmx" },
};

static int enter_root(const struct init_config *c, char *err, size_t es)
{
	char fdpath[64];
	int secrets, resolv;

	if (unshare(CLONE_NEWNS) < 0)
		return bad(err, es, "enter the container: unshare the mount namespace: %s", strerror(errno));
	/* Opened in the new namespace: a bind source must belong to it. */
	secrets = open(INIT_SECRETS_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	resolv = open(RESOLV_CONF, O_PATH | O_CLOEXEC);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(c->root, c->root, NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(c->root) < 0 ||
	    mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return bad(err, es, "enter the container root %s: %s", c->root, strerror(errno));
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		if (mkdir(mounts[i].dst, 0755) < 0 && errno != EEXIST)
			return bad(err, es, "create %s in the container: %s", mounts[i].dst, strerror(errno));
		if (mount(mounts[i].src, mounts[i].dst, mounts[i].type, mounts[i].flags, mounts[i].data) < 0)
			return bad(err, es, "mount %s on %s in the container: %s", mounts[i].type, mounts[i].dst,
				   strerror(errno));
	}
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (mknod(devices[i].path, S_IFCHR | 0666, makedev(devices[i].major, devices[i].minor)) < 0 ||
		    chmod(devices[i].path, 0666) < 0)
			return bad(err, es, "create %s in the container: %s", devices[i].path, strerror(errno));
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i].target, links[i].path) < 0)
			return bad(err, es, "create %s in the container: %s", links[i].path, strerror(errno));
	/* The KBS's secrets, read-only, through the descriptor opened before
	 * the chroot (the bind source must name the init's directory). */
	if (secrets >= 0) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", secrets);
		if (mkdir(INIT_SECRETS_DIR, 0755) < 0 && errno != EEXIST)
			return bad(err, es, "create %s in the container: %s", INIT_SECRETS_DIR, strerror(errno));
		if (mount(fdpath, INIT_SECRETS_DIR, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, INIT_SECRETS_DIR, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return bad(err, es, "bind %s into the container: %s", INIT_SECRETS_DIR, strerror(errno));
		close(secrets);
	}
	/* The network's DNS servers as /etc/resolv.conf, as runtimes provide
	 * it (read-only).  An image whose resolv.conf is a symlink keeps it:
	 * nothing is created through a link the image planted. */
	if (resolv >= 0) {
		int fd;
		if (mkdir("/etc", 0755) < 0 && errno != EEXIST)
			return bad(err, es, "create /etc in the container: %s", strerror(errno));
		fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != ELOOP)
			return bad(err, es, "create /etc/resolv.conf in the container: %s", strerror(errno));
		if (fd >= 0) {
			close(fd);
			snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", resolv);
			if (mount(fdpath, "/etc/resolv.conf", NULL, MS_BIND, NULL) < 0 ||
			    mount(NULL, "/etc/resolv.conf", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  NULL) < 0)
				return bad(err, es, "bind %s onto /etc/resolv.conf in the container: %s", RESOLV_CONF,
					   strerror(errno));
		}
		close(resolv);
	}
	return 0;
}

int init_workload_enter(const struct init_config *c, char *err, size_t es)
{
	int r;

	if (c->hostname[0] && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return bad(err, es, "set the host name %s: %s", c->hostname, strerror(errno));
	if (c->root[0]) {
		r = enter_root(c, err, es);
		if (r < 0)
			return r;
		/* No supplementary groups: only the configured uid and gid. */
		if (setgroups(0, NULL) < 0)
			return bad(err, es, "drop the supplementary groups: %s", strerror(errno));
	}
	return 0;
}
