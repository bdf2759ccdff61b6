/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "slots.h"

/*
 * Connect slots: at most SLOT_MAX handshakes at once from the tunnels of
 * one host to one bastion. A host that starts 500 tunnels together
 * (ssh-tunnel-up -a, one systemctl transaction, a boot) or sees 500 cut
 * by one bastion restart would otherwise meet sshd with 500 connections
 * at once: past MaxStartups (10 by default) it drops most of them, and
 * those it takes it serves so slowly that clients give up on them.
 *
 * A slot is a name in the abstract socket namespace, bound by its holder:
 * a network namespace's own (a host, as far as a bastion can tell; the
 * fleet bench's lab machines each have one), no file to leave behind,
 * and let go by the kernel when the holder dies. One waiting connects to
 * the holder's socket, never accepted, and is woken (POLLHUP) when the
 * holder closes it. The namespace has no owners: a slot whose holder is
 * not of our uid (SO_PEERCRED) ends the pacing, so that another user
 * cannot hold our tunnels back by squatting the names.
 */

/* Every slot name of a uid begins so (slot_handed checks it). */
#define SLOT_PREFIX	"scitex-ssh/slot/%lu/"

/* The address of slot k of bastion key of uid; its length. */
socklen_t
slot_name(uid_t uid, unsigned long long key, unsigned k, struct sockaddr_un *a)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* sun_path[0] stays '\0': the abstract namespace. */
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1,
	    SLOT_PREFIX "%016llx/%u", (unsigned long)uid, key, k);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Ours. */
static socklen_t
slot_addr(unsigned long long key, unsigned k, struct sockaddr_un *a)
{
	return slot_name(getuid(), key, k, a);
}

/*
 * The key of a bastion's slots (FNV-1a of its user@host:port): sshd's
 * MaxStartups is a bastion's, so are the slots.
 */
unsigned long long
slot_key(const char *bastion)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (; *bastion != '\0'; bastion++)
		h = (h ^ (unsigned char)*bastion) * 0x100000001b3ULL;
	return h;
}

static int
unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

/*
 * A slot of bastion key, any (from start on), held in *fd: 0; 1: none
 * free; -1: no slots here (the caller goes on without one: they pace,
 * they never stop a tunnel).
 */
int
slot_take(unsigned long long key, unsigned start, int *fd)
{
	struct sockaddr_un a;
	socklen_t len;
	unsigned i;
	int s;

	*fd = -1;
	for (i = 0; i < SLOT_MAX; i++) {
		if ((s = unix_socket()) == -1)
			return -1;
		len = slot_addr(key, (start + i) % SLOT_MAX, &a);
		if (bind(s, (struct sockaddr *)&a, len) == 0 &&
		    listen(s, SOMAXCONN) == 0) {
			*fd = s;
			return 0;
		}
		close(s);
		if (errno != EADDRINUSE)
			return -1;
	}
	return 1;
}

/* Whether the other end of c is a process of our uid. */
static int
ours(int c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
	    cr.uid == getuid();
}

/* The slot fd sent down c: 0, or -1 (that waiter gone, or not ours). */
static int
hand(int c, int fd)
{
	return ours(c) && fdpass_send(c, fd, 0) == 1 ? 0 : -1;
}

/*
 * Let go of the slot in *fd: to the first waiter of ours still there,
 * else free.
 */
void
slot_give(int *fd)
{
	int c;

	if (*fd == -1)
		return;
	while ((c = accept4(*fd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		if (hand(c, *fd) == 0) {
			close(c);
			break;
		}
		close(c);
	}
	close(*fd);
	*fd = -1;
}

/*
 * The slot handed down w (slot_wait's), into *fd: 0, the slot ours; 1,
 * none (its holder gone: free to take, or taken meanwhile). w is closed
 * either way. A socket that is not a listening one bound to one of our
 * slot names is refused.
 */
int
slot_handed(int *w, int *fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a), pl = sizeof(int);
	char prefix[64];
	int got, listening = 0, n;

	*fd = -1;
	(void)fdpass_recv(*w, &got, MSG_DONTWAIT);
	close(*w);
	*w = -1;
	if (got == -1)
		return 1;
	n = snprintf(prefix, sizeof(prefix), SLOT_PREFIX,
	    (unsigned long)getuid());
	if (getsockname(got, (struct sockaddr *)&a, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n ||
	    a.sun_family != AF_UNIX || a.sun_path[0] != '\0' ||
	    memcmp(a.sun_path + 1, prefix, (size_t)n) != 0 ||
	    getsockopt(got, SOL_SOCKET, SO_ACCEPTCONN, &listening, &pl) == -1 ||
	    !listening) {
		close(got);
		return 1;
	}
	*fd = got;
	return 0;
}

/*
 * A connection to the holder of slot k of bastion key, to poll: readable
 * when the slot is handed down it (slot_handed) or its holder is gone,
 * in the order the waiters came. -1 with errno EAGAIN: none (the caller
 * waits for a while instead); -1 with errno EPERM: the holder is not
 * of our uid, or not listening (no pacing, then).
 */
int
slot_wait(unsigned long long key, unsigned k)
{
	struct sockaddr_un a;
	int s;

	if ((s = unix_socket()) == -1)
		return -1;
	/*
	 * Its backlog full: no watch, the caller waits a while. Refused:
	 * let go already, or bound by what does not listen, as ours do at
	 * once, and may never let go: no pacing, as for another user's.
	 */
	if (connect(s, (struct sockaddr *)&a, slot_addr(key, k % SLOT_MAX,
	    &a)) == -1) {
		close(s);
		errno = errno == EAGAIN ? EAGAIN : EPERM;
		return -1;
	}
	if (!ours(s)) {
		close(s);
		errno = EPERM;
		return -1;
	}
	return s;
}
