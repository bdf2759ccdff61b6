/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "userns.h"

/* Write s to /proc/self/FILE; only async-signal-safe calls (a fork). */
static int
put(const char *file, const char *s)
{
	char path[64] = "/proc/self/";
	ssize_t n;
	int fd;

	strlcat(path, file, sizeof(path));
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * In a child, what systemd does for PrivateUsers= in a user manager: a
 * user namespace mapping only our ids, a mount namespace in it, and one
 * mount operation (making / private, as namespace setup does first). The
 * last step is what fails where an LSM lets the namespace be made but
 * keeps the capabilities in it from working. Asked once a process: a
 * start of 500 tunnels forks for it once, not 500 times.
 */
int
userns_usable(void)
{
	static int known = -1;
	char umap[64], gmap[64];
	pid_t pid;
	int st;

	if (known != -1)
		return known;
	snprintf(umap, sizeof(umap), "%lu %lu 1\n", (unsigned long)getuid(),
	    (unsigned long)getuid());
	snprintf(gmap, sizeof(gmap), "%lu %lu 1\n", (unsigned long)getgid(),
	    (unsigned long)getgid());
	if ((pid = fork()) == -1)
		return 0;
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == -1 ||
		    put("setgroups", "deny") == -1 ||
		    put("uid_map", umap) == -1 || put("gid_map", gmap) == -1 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
			_exit(1);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return 0;
	return known = WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
