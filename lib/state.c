/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurp.h"
#include "state.h"
#include "xdg.h"

/*
 * $XDG_RUNTIME_DIR, else the one logind makes for us when it is there
 * (sudo -u, cron and su leave the variable unset while the user's
 * manager and daemons run with it): /run/user/UID, a directory of ours
 * that no one else may enter. NULL when there is none.
 */
static const char *
runtime_dir(char *buf, size_t sz)
{
	const char *x;
	struct stat st;

	if ((x = getenv("XDG_RUNTIME_DIR")) != NULL && *x == '/')
		return x;
	snprintf(buf, sz, "/run/user/%lu", (unsigned long)getuid());
	if (lstat(buf, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == getuid() && (st.st_mode & 077) == 0)
		return buf;
	return NULL;
}

/* Per-user places (backends user and daemon), as DESIGN.md's table says. */
int
state_places_user(struct places *p, struct sxerr *e)
{
	char rt[64];
	const char *x;
	int n;

	if (xdg_home(XDG_ENV_HOME) == NULL)
		return sxerr_set(e, EX_CONFIG, "HOME: not an absolute path");
	if (xdg_path(p->defs, sizeof(p->defs), "XDG_CONFIG_HOME", ".config",
	    "scitex-ssh/tunnels.d", XDG_ENV_HOME) == -1)
		return sxerr_set(e, EX_CONFIG, "tunnels.d: path too long");
	p->defsmode = 0700;
	if ((x = runtime_dir(rt, sizeof(rt))) != NULL)
		n = snprintf(p->state, sizeof(p->state), "%s/scitex-ssh", x) <
		    (int)sizeof(p->state) ? 0 : -1;
	else
		n = xdg_path(p->state, sizeof(p->state), "XDG_STATE_HOME",
		    ".local/state", "scitex-ssh", XDG_ENV_HOME);
	if (n == -1)
		return sxerr_set(e, EX_CONFIG, "state: path too long");
	return 0;
}

/* The places of backend systemd, the same for every user. */
int
state_places_system(struct places *p, struct sxerr *e)
{
	strlcpy(p->defs, "/etc/scitex-ssh/tunnels.d", sizeof(p->defs));
	strlcpy(p->state, "/run/scitex-ssh", sizeof(p->state));
	/* Under /etc as every directory there: the system config beside
	 * tunnels.d must stay readable to all (the definitions are 0600). */
	p->defsmode = 0755;
	return 0;
}

/* mkdir -p with mode 0700 for what we create; existing parts are kept. */
int
state_mkdir(const char *dir, struct sxerr *e)
{
	return state_mkdir_mode(dir, 0700, e);
}

/* mkdir -p with mode for what we create (less the umask). */
int
state_mkdir_mode(const char *dir, mode_t mode, struct sxerr *e)
{
	char buf[STATE_PATH], *s;

	if (strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		return sxerr_set(e, EX_CONFIG, "%s: path too long", dir);
	for (s = buf + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		int end = *s == '\0';
		*s = '\0';
		if (mkdir(buf, mode) == 0) {
			/* the mode asked for, whatever the umask */
			if (chmod(buf, mode) == -1)
				return sxerr_errno(e, EX_OSERR, "%s", buf);
		} else if (errno != EEXIST)
			return sxerr_errno(e, EX_OSERR, "%s", buf);
		if (end)
			break;
		*s = '/';
	}
	return 0;
}

/* dir/name.ext into buf; -1 when it does not fit. */
int
state_path(char *buf, size_t sz, const char *dir, const char *name,
    const char *ext)
{
	int n;

	n = snprintf(buf, sz, "%s/%s%s", dir, name, ext);
	return n < 0 || (size_t)n >= sz ? -1 : 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replace path with buf atomically: a reader sees the old or the new
 * file, never half of one. The temporary file sits in the same directory
 * so that rename(2) cannot cross file systems. Durable (STATE_DURABLE):
 * a crash, too, leaves the old or the new, for what must outlive one (a
 * definition, a unit); the runtime files (the state table, the pid file)
 * describe processes that a crash ends, and are written without the two
 * fsync(2)s: where the runtime directory is not a tmpfs, 500 supervisors
 * recovering together queued on the file system's journal.
 */
int
state_write_file(const char *path, const void *buf, size_t len, mode_t mode,
    int flags, struct sxerr *e)
{
	char tmp[STATE_PATH], *slash;
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return sxerr_set(e, EX_OSERR, "%s: path too long", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return sxerr_errno(e, EX_OSERR, "%s", tmp);
	if (fchmod(fd, mode) == -1 || write_all(fd, buf, len) == -1 ||
	    ((flags & STATE_DURABLE) && fsync(fd) == -1)) {
		sxerr_errno(e, EX_OSERR, "%s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) == -1) {
		sxerr_errno(e, EX_OSERR, "%s", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		sxerr_errno(e, EX_OSERR, "%s", path);
		unlink(tmp);
		return -1;
	}
	if (!(flags & STATE_DURABLE))
		return 0;
	/*
	 * The rename is durable only once the directory is. tmp, spent,
	 * holds its name.
	 */
	strlcpy(tmp, path, sizeof(tmp));
	if ((slash = strrchr(tmp, '/')) != NULL && slash != tmp)
		*slash = '\0';
	if ((dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/*
 * Take the lock file path without waiting. Returns 0 with *fd holding the
 * lock (closing it releases the lock), 1 when someone else holds it.
 */
int
state_lock(const char *path, int *fd, struct sxerr *e)
{
	int f;

	if ((f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		return sxerr_errno(e, EX_OSERR, "%s", path);
	if (flock(f, LOCK_EX | LOCK_NB) == -1) {
		int busy = errno == EWOULDBLOCK;

		sxerr_errno(e, busy ? EX_UNAVAILABLE : EX_OSERR, "%s", path);
		close(f);
		return busy ? 1 : -1;
	}
	*fd = f;
	return 0;
}

/*
 * A small file whole, in one read (slurp_once): a fifth of what
 * ssh-tunnel-ls spends on each of a thousand tunnels is saved. One that
 * fills buf is refused as too long.
 */
static int
read_small(const char *path, char *buf, size_t sz)
{
	size_t len;
	int rc;

	if ((rc = slurp_once(path, O_NOFOLLOW, buf, sz, &len)) == 1)
		errno = EFBIG;
	return rc == 0 ? 0 : -1;
}

static int
num(const char *s, long long max, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *v < 0 || *v > max ?
	    -1 : 0;
}

/* The field of t a proof's key names (start times, locks), or NULL. */
static unsigned long long *
proof(struct tstate *t, const char *key)
{
	static const struct {
		const char	*key;
		size_t		 off;
	} f[] = {
		{ "start", offsetof(struct tstate, start) },
		{ "ssh_start", offsetof(struct tstate, ssh_start) },
		{ "lock_dev", offsetof(struct tstate, lock_dev) },
		{ "lock_ino", offsetof(struct tstate, lock_ino) },
		{ "ssh_dev", offsetof(struct tstate, ssh_dev) },
		{ "ssh_ino", offsetof(struct tstate, ssh_ino) },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(key, f[i].key) == 0)
			return (unsigned long long *)((char *)t + f[i].off);
	return NULL;
}

/*
 * The state table: "key value" lines, one per field, in the order
 * state_write() writes them. Unknown keys are skipped so that a newer
 * supervisor's file stays readable.
 */
int
state_read(const char *path, struct tstate *t, struct sxerr *e)
{
	char buf[4096], *line, *next, *val;
	unsigned long long *u;
	long long v;

	memset(t, 0, sizeof(*t));
	if (read_small(path, buf, sizeof(buf)) == -1)
		return sxerr_errno(e, errno == ENOENT ? 1 : EX_OSERR, "%s",
		    path);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((val = strchr(line, ' ')) == NULL)
			continue;
		*val++ = '\0';
		if (strcmp(line, "state") == 0)
			strlcpy(t->state, val, sizeof(t->state));
		else if (strcmp(line, "reason") == 0)
			strlcpy(t->reason, strcmp(val, "-") == 0 ? "" : val,
			    sizeof(t->reason));
		else if (strcmp(line, "bastion") == 0)
			strlcpy(t->bastion, strcmp(val, "-") == 0 ? "" : val,
			    sizeof(t->bastion));
		else if (num(val, INT64_MAX, &v) == -1)
			continue;
		else if (strcmp(line, "pid") == 0 && v <= INT_MAX)
			t->pid = (pid_t)v;
		else if (strcmp(line, "ssh_pid") == 0 && v <= INT_MAX)
			t->ssh_pid = (pid_t)v;
		else if (strcmp(line, "since") == 0)
			t->since = (time_t)v;
		else if (strcmp(line, "up_since") == 0)
			t->up_since = (time_t)v;
		else if (strcmp(line, "restarts") == 0 && v <= UINT_MAX)
			t->restarts = (unsigned)v;
		else if ((u = proof(t, line)) != NULL)
			*u = (unsigned long long)v;
	}
	if (t->state[0] == '\0')
		return sxerr_set(e, EX_DATAERR, "%s: no state", path);
	return 0;
}

int
state_write(const char *path, const struct tstate *t, struct sxerr *e)
{
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf),
	    "state %s\npid %ld\nssh_pid %ld\nsince %lld\nup_since %lld\n"
	    "restarts %u\nreason %s\nbastion %s\nstart %llu\nssh_start %llu\n"
	    "lock_dev %llu\nlock_ino %llu\nssh_dev %llu\nssh_ino %llu\n",
	    t->state, (long)t->pid, (long)t->ssh_pid, (long long)t->since,
	    (long long)t->up_since, t->restarts,
	    t->reason[0] != '\0' ? t->reason : "-",
	    t->bastion[0] != '\0' ? t->bastion : "-", t->start,
	    t->ssh_start, t->lock_dev, t->lock_ino, t->ssh_dev, t->ssh_ino);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return sxerr_set(e, EX_OSERR, "%s: state too long", path);
	return state_write_file(path, buf, (size_t)n, 0644, 0, e);
}

/*
 * What /proc/PID/stat says of a process, read once. The name sits in
 * parentheses and may itself hold ')' or spaces, so the fields are
 * counted from the last ')'.
 */
int
state_pstat(pid_t pid, struct pstat *p)
{
	char path[64], buf[2048], *l, *r, *q;
	long ppid;
	int field;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof(buf)) == -1)
		return -1;
	if ((l = strchr(buf, '(')) == NULL || (r = strrchr(buf, ')')) == NULL ||
	    r < l || sscanf(r + 1, " %c %ld", &p->state, &ppid) != 2)
		return -1;
	*r = '\0';
	strlcpy(p->comm, l + 1, sizeof(p->comm));
	p->ppid = (pid_t)ppid;
	/* After ")": field 3 (state) ... field 22 (starttime). */
	for (q = r + 1, field = 2; *q != '\0' && field < 22; q++)
		if (*q == ' ')
			field++;
	if (field != 22)
		return -1;
	p->start = strtoull(q, NULL, 10);
	return 0;
}

/* Ended: a zombie waiting for whoever reaps it runs no more. */
static int
ended(const struct pstat *p)
{
	return p->state == 'Z' || p->state == 'X';
}

/* The name (comm) and start time (clock ticks since boot) of a process. */
int
state_proc(pid_t pid, char *comm, size_t commsz, unsigned long long *start)
{
	struct pstat p;

	if (state_pstat(pid, &p) == -1)
		return -1;
	if (comm != NULL)
		strlcpy(comm, p.comm, commsz);
	*start = p.start;
	return 0;
}

/* 1 once the process pid that started at start has ended or is gone. */
int
state_proc_gone(pid_t pid, unsigned long long start)
{
	struct pstat p;

	return state_pstat(pid, &p) == -1 || p.start != start || ended(&p);
}

/* 1 when pid runs (no zombie) as a child of parent. */
int
state_proc_child(pid_t pid, pid_t parent)
{
	struct pstat p;

	return state_pstat(pid, &p) == 0 && !ended(&p) && p.ppid == parent;
}

/* 1 when pid runs (no zombie) as a child of parent, started at start. */
int
state_child_proven(pid_t pid, pid_t parent, unsigned long long start)
{
	struct pstat p;

	return parent > 1 && state_pstat(pid, &p) == 0 && !ended(&p) &&
	    p.ppid == parent && p.start == start;
}

/*
 * 1 when pid is a live process (not a zombie) named comm that started at
 * start (a reused pid has another start time).
 */
int
state_proven(pid_t pid, const char *comm, unsigned long long start)
{
	struct pstat p;

	return pid > 1 && state_pstat(pid, &p) == 0 && !ended(&p) &&
	    p.start == start && strcmp(p.comm, comm) == 0;
}

/* "PID STARTTIME\n": enough to prove later that the pid is still ours. */
int
state_pidfile_write(const char *path, pid_t pid, struct sxerr *e)
{
	unsigned long long start;
	char buf[64];
	int n;

	if (state_proc(pid, NULL, 0, &start) == -1)
		return sxerr_errno(e, EX_OSERR, "/proc/%ld/stat", (long)pid);
	n = snprintf(buf, sizeof(buf), "%ld %llu\n", (long)pid, start);
	return state_write_file(path, buf, (size_t)n, 0644, 0, e);
}

/*
 * 1 when the pid file names a process state_proven proves; 0 otherwise.
 * *pid gets the recorded pid either way (0 when unreadable).
 */
int
state_pidfile_proven(const char *path, const char *comm, pid_t *pid)
{
	char buf[128], *sp;
	long long v;

	*pid = 0;
	if (read_small(path, buf, sizeof(buf)) == -1)
		return 0;
	buf[strcspn(buf, "\n")] = '\0';
	if ((sp = strchr(buf, ' ')) == NULL)
		return 0;
	*sp++ = '\0';
	if (num(buf, INT_MAX, &v) == -1 || v < 2)
		return 0;
	*pid = (pid_t)v;
	return state_proven(*pid, comm, strtoull(sp, NULL, 10));
}
