/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autossh.h"
#include "netwatch.h"
#include "slurp.h"
#include "sysd.h"

/*
 * Backend autossh: the units scitex-ssh 1.0 wrote, run by systemd. They
 * are listed, stopped (or started again) and removed, never made anew.
 */

/*
 * autossh's ssh (its child; autossh runs one at a time): 0 when none
 * runs, -1 when we may not look.
 */
static pid_t
ssh_child(pid_t pid)
{
	char path[64], buf[64];
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
	    (long)pid);
	if ((rc = slurp(path, 0, buf, sizeof(buf), &len)) == -1)
		return -1;
	return (pid_t)strtol(buf, NULL, 10);
}

/*
 * An active unit: up only when its ssh holds a connection (with
 * ExitOnForwardFailure, as 1.0 wrote them, ssh stays only with its
 * forward); none running is autossh waiting to try again. When we may
 * not look (another user's ssh), unknown.
 */
static void
active_state(const struct sysd_unit *u, struct tstate *st)
{
	struct nw_conn conn;
	char path[64];
	pid_t ssh;

	st->pid = u->mainpid;
	if (u->mainpid <= 0 || (ssh = ssh_child(u->mainpid)) == -1) {
		strlcpy(st->state, "unknown", sizeof(st->state));
		return;
	}
	st->ssh_pid = ssh;
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)ssh);
	if (ssh == 0) {
		strlcpy(st->state, "backoff", sizeof(st->state));
		strlcpy(st->reason, "exited", sizeof(st->reason));
	} else if (netwatch_conn(ssh, &conn) == 0) {
		strlcpy(st->state, "up", sizeof(st->state));
		st->up_since = u->since;
	} else if (access(path, R_OK) == -1)
		strlcpy(st->state, "unknown", sizeof(st->state));
	else
		strlcpy(st->state, "connecting", sizeof(st->state));
}

/*
 * The state of a 1.0 unit for ssh-tunnel-ls: systemd's view mapped onto
 * ours, with autossh's pid and since when the unit is active; without
 * systemd as init nothing can be running it: stopped, with reason
 * no-systemd. An unreadable unit: failed, reason unreadable.
 */
void
autossh_state(const struct legacy *l, struct tstate *st)
{
	char unit[64], *state = st->state, *reason = st->reason;
	size_t ssz = sizeof(st->state), rsz = sizeof(st->reason);
	struct sysd_unit u;
	const char *a = u.active;

	memset(st, 0, sizeof(*st));
	legacy_unit_name(l->port, unit, sizeof(unit));
	if (sysd_show(l->user_unit ? UNIT_USER : UNIT_SYSTEM, unit, &u) ==
	    -1) {
		strlcpy(state, "stopped", ssz);
		strlcpy(reason, sysd_booted() ? "unknown" : "no-systemd", rsz);
	} else if (strcmp(a, "active") == 0 || strcmp(a, "reloading") == 0)
		active_state(&u, st);
	else if (strcmp(a, "activating") == 0) {
		strlcpy(state, "backoff", ssz);
		strlcpy(reason, "exited", rsz);
	} else if (strcmp(a, "failed") == 0) {
		strlcpy(state, "failed", ssz);
		strlcpy(reason, "exited", rsz);
	} else
		strlcpy(state, "stopped", ssz);
	if (l->problem[0] != '\0' && strcmp(state, "up") != 0) {
		strlcpy(state, "failed", ssz);
		strlcpy(reason, "unreadable", rsz);
	}
}

/* Stop (start again when restart) a 1.0 unit; nothing to do without systemd. */
int
autossh_stop(const struct legacy *l, int restart, struct sxerr *e)
{
	char unit[64];

	if (!sysd_booted())
		return 0;
	legacy_unit_name(l->port, unit, sizeof(unit));
	return sysd_ctl(l->user_unit ? UNIT_USER : UNIT_SYSTEM, e,
	    restart ? "start" : "stop", unit, NULL);
}

/*
 * Remove a 1.0 unit: disabled and stopped through systemd when it runs,
 * then the file and the enablement links that point at it.
 */
int
autossh_remove(const struct legacy *l, struct sxerr *e)
{
	static const char *const wants[] = { "multi-user.target.wants",
	    "default.target.wants", NULL };
	enum unit_kind k = l->user_unit ? UNIT_USER : UNIT_SYSTEM;
	char unit[64], dir[UNIT_PATH], link[UNIT_PATH + 128];
	char to[UNIT_PATH];
	const char *slash;
	ssize_t n;
	size_t i;

	legacy_unit_name(l->port, unit, sizeof(unit));
	if (sysd_booted() &&
	    sysd_ctl(k, e, "disable", "--now", unit, NULL) == -1)
		return -1;
	slash = strrchr(l->path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash != NULL ?
	    (int)(slash - l->path) : 1, slash != NULL ? l->path : ".");
	for (i = 0; wants[i] != NULL; i++) {
		snprintf(link, sizeof(link), "%s/%s/%s", dir, wants[i], unit);
		if ((n = readlink(link, to, sizeof(to) - 1)) == -1)
			continue;
		to[n] = '\0';
		if (strcmp(to, l->path) == 0 || strcmp(to, unit) == 0)
			(void)unlink(link);
	}
	if (unlink(l->path) == -1 && errno != ENOENT)
		return sxerr_errno(e, EX_NOPERM, "%s", l->path);
	if (sysd_booted()) {
		(void)sysd_ctl(k, NULL, "daemon-reload", NULL);
		(void)sysd_ctl(k, NULL, "reset-failed", unit, NULL);
	}
	return 0;
}
