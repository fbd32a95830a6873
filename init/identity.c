/* The workload's identity.  Kept apart from init.c so the unit tests can run
 * it in a forked child. */
#include <errno.h>
#include <grp.h>
#include <unistd.h>

#include "init.h"

int init_set_identity(uid_t uid, gid_t gid)
{
	/* Groups first: after setuid() to a non-root user none of this is
	 * allowed any more. */
	if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -errno;
	return 0;
}
