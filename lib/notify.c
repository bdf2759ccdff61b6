/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

/*
 * msg to the manager that started us, if one listens: $NOTIFY_SOCKET is
 * an absolute path or, starting with '@', an abstract socket name. 0 sent
 * or nobody to tell, -1 not sent (errno says why). Never blocks.
 */
int
notify_send(const char *msg)
{
	struct sockaddr_un sa;
	const char *s = getenv("NOTIFY_SOCKET");
	size_t len, mlen = strlen(msg);
	ssize_t n;
	int fd, saved;

	if (s == NULL || s[0] == '\0')
		return 0;
	if ((s[0] != '/' && s[0] != '@') || (len = strlen(s)) < 2 ||
	    len > sizeof(sa.sun_path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, s, len);
	if (s[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return -1;
	n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	    offsetof(struct sockaddr_un, sun_path) + len);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)mlen ? 0 : -1;
}

/* The remote ports, "2222" or "2222 2223"; the local ones without any. */
static void
ports(const struct tunnel *t, char *buf, size_t sz)
{
	char p[16];
	size_t i;
	int remote = tunnel_nremote(t) > 0;

	buf[0] = '\0';
	for (i = 0; i < t->nfwd; i++) {
		if ((t->fwd[i].dir == 'R') != remote)
			continue;
		snprintf(p, sizeof(p), "%s%d", buf[0] ? " " : "",
		    t->fwd[i].port);
		strlcat(buf, p, sz);
	}
}

/*
 * The message for the supervisor's state st of t, a retry due in wait_ms
 * (backoff): "READY=1\nSTATUS=up via BASTION, 2222 forwarded",
 * "STATUS=backoff 4 s: auth via BASTION", "STATUS=connecting via BASTION",
 * "STOPPING=1\nSTATUS=stopped". -1 when it does not fit.
 */
int
notify_fmt(const struct tstate *st, const struct tunnel *t, long wait_ms,
    char *buf, size_t sz)
{
	char p[200], why[64];
	int n;

	why[0] = '\0';
	if (st->reason[0] != '\0')
		snprintf(why, sizeof(why), " (%s)", st->reason);
	if (strcmp(st->state, "up") == 0) {
		ports(t, p, sizeof(p));
		n = snprintf(buf, sz, "READY=1\nSTATUS=up via %s, %s forwarded",
		    st->bastion, p);
	} else if (strcmp(st->state, "backoff") == 0)
		n = snprintf(buf, sz, "STATUS=backoff %ld s: %s via %s",
		    (wait_ms + 999) / 1000, st->reason[0] ? st->reason :
		    "exited", st->bastion);
	else if (strcmp(st->state, "connecting") == 0)
		n = snprintf(buf, sz, "STATUS=connecting via %s%s",
		    st->bastion, why);
	else if (strcmp(st->state, "stopped") == 0)
		n = snprintf(buf, sz, "STOPPING=1\nSTATUS=stopped");
	else
		n = snprintf(buf, sz, "STATUS=%s%s", st->state, why);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

/*
 * 1 when stderr is the journal's stream (systemd sets JOURNAL_STREAM to
 * its device:inode), so that lines need no name, pid or time of ours.
 */
int
notify_journal(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char c;

	if (s == NULL || sscanf(s, "%llu:%llu%c", &dev, &ino, &c) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}
