/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "discovery.h"
#include "netwatch.h"
#include "notify.h"
#include "now.h"
#include "memtrim.h"
#include "slots.h"
#include "spawn.h"
#include "state.h"
#include "supervise.h"

/*
 * How ssh's stderr is read. With -v, OpenSSH logs each remote forward the
 * server accepted ("remote forward success for: listen ...") and, once
 * every reply is in, "forwarding_success: all expected forwarding replies
 * received" (older: "All remote forwarding requests processed"). Counting
 * the successes against the number of R forwards holds for all of these.
 * Local forwards are bound before the session starts and, with
 * ExitOnForwardFailure, fatal if they cannot be: "Entering interactive
 * session." is the confirmation for a tunnel that has no R forward.
 */
#define CONFIRM_R	"remote forward success for: listen "
#define CONFIRM_L	"Entering interactive session."

/* How long a port-busy retry waits for the nudge below to be done, or
 * for the bastion to act on the reset of our stale connection. */
#define NUDGE_MS	(TUN_CONNECT_TIMEOUT * 1000)
#define RESET_MS	200

/* The first window of random waits after sshd throttled us (1 s: labs
 * of 200 and 500 booting together were up in 13.0 and 33.2 s against
 * 15.9 and 36.8 s with 2 s, and 20.7 and 41.0 s with 4 s, medians of
 * five runs each, with as many attempts; bench/fleet.md), the one after
 * the second connection timeout in a row, and the spread of the retries
 * that a network change triggers. */
#define THROTTLE_MS	1000
/* And the largest window after a throttle: sshd turns over its
 * unauthenticated connections within seconds (4 s for 100 on the 2-core
 * bench machine), so a longer wait tells nothing of the bastion and only
 * stretches the tail: 500 labs up in 29.3 s against 31.3 s uncapped, the
 * worst of six 31.9 s against 34.7 s, no more attempts (bench/fleet.md). */
#define THROTTLE_CAP_S	8
#define TIMEOUT_MS	2000
#define NETCHANGE_MS	500
/* The wait for a connect slot that cannot be watched (a tenth of the
 * longest for one that is: its holder is done within a ConnectTimeout). */
#define SLOT_WAIT_MS	1000

/*
 * ConnectTimeout (seconds) once the bastion was found busy (throttled,
 * or a connection timed out after seconds), until up: a bastion with a
 * hundred startups in flight sends its banner after more than the usual
 * 5 s, and a client that gives up then has cost it the fork and exec of
 * a session for nothing, which kept a herd of 500 from ever getting
 * through (bench/fleet.md); at 20 s, 245 of a herd of 500 labs still
 * gave up so. A path that died meanwhile is met again within it: the
 * kernel retransmits the SYN at 1, 3, 7, 15 and 31 s.
 */
#define PATIENT_S	(8 * TUN_CONNECT_TIMEOUT)

/*
 * The discovery file: read again this long after the last event on it
 * (a scheduler's write is several), and, while it is missing or bad,
 * this often without any (inotify misses writes on network file systems).
 */
#define DISC_SETTLE_MS	100
#define DISC_RETRY_MS	2000

/* Memory is handed back once an up tunnel has been quiet this long. */
#define SETTLE_MS	1000

/*
 * The first line that names a cause decides the reason. sshd past
 * MaxStartups (or a per-source limit) accepts the connection, may send
 * "Exceeded MaxStartups" in place of its banner, and closes: ssh -v says
 *	debug1: kex_exchange_identification: banner line 0: Exceeded MaxStartups
 *	kex_exchange_identification: read: Connection reset by peer
 * or "... Connection closed by remote host" when the close wins. The
 * bastion is there and busy: throttled, not refused (nothing listens).
 */
struct reason {
	const char	*text;
	const char	*reason;
};

static const struct reason debug_reasons[] = {
	{ "Exceeded MaxStartups", "throttled" },
};

static const struct reason reasons[] = {
	{ "Exceeded MaxStartups", "throttled" },
	{ "kex_exchange_identification: Connection closed by remote host",
	    "throttled" },
	{ "kex_exchange_identification: read: Connection reset by peer",
	    "throttled" },
	/* Accepted, but no banner within ConnectTimeout: a bastion too busy
	 * to answer, not a dead path; retrying at once would keep it so. */
	{ "Connection timed out during banner exchange", "throttled" },
	{ "remote port forwarding failed", "port-busy" },
	{ "Could not request local forwarding", "port-busy" },
	{ "Address already in use", "port-busy" },
	{ "Permission denied", "auth" },
	{ "Too many authentication failures", "auth" },
	{ "Host key verification failed", "hostkey" },
	{ "REMOTE HOST IDENTIFICATION HAS CHANGED", "hostkey" },
	{ "No matching host key", "hostkey" },
	{ "Could not resolve hostname", "dns" },
	{ "Name or service not known", "dns" },
	{ "Temporary failure in name resolution", "dns" },
	{ "Connection refused", "refused" },
	{ "timed out", "timeout" },
	{ "Timeout, server", "timeout" },
	{ "No route to host", "timeout" },
	{ "Network is unreachable", "timeout" },
};

static const char *
match_reason(const char *line, const struct reason *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strstr(line, r[i].text) != NULL)
			return r[i].reason;
	return NULL;
}

/* The reason a line of ssh's stderr gives, or NULL. Debug lines talk about
 * options and channels, not about why ssh failed: only sshd's "Exceeded
 * MaxStartups", which ssh shows as a debug line, counts there. */
const char *
supervise_classify(const char *line)
{
	if (strncmp(line, "debug", 5) == 0)
		return match_reason(line, debug_reasons,
		    sizeof(debug_reasons) / sizeof(debug_reasons[0]));
	return match_reason(line, reasons, sizeof(reasons) / sizeof(reasons[0]));
}

/*
 * The wait before the next attempt after fails failed rounds in a row:
 * none after the first, then a quarter second doubling up to retry_max,
 * with up to a quarter off at random so that many tunnels cut by one
 * outage do not come back in step. rnd is a random number.
 */
long
supervise_delay_ms(unsigned fails, int retry_max, unsigned rnd)
{
	long max = (long)retry_max * 1000, d;

	if (fails <= 1)
		return 0;
	d = fails - 2 >= 20 ? max : 250L << (fails - 2);
	if (d > max)
		d = max;
	return d - (long)((unsigned long long)(d / 4) * (rnd % 1024) / 1023);
}

/*
 * The k-th random wait in a row (k >= 1): a uniform random time in [0, W],
 * W = first_ms doubling up to retry_max ("full jitter"). A herd cut by
 * one outage then arrives as a stream the bastion can take instead of in
 * the steps of a ladder. rnd is a random number.
 */
long
supervise_throttle_ms(unsigned k, long first_ms, int retry_max, unsigned rnd)
{
	long max = (long)retry_max * 1000, w;

	w = k < 1 ? 0 : k - 1 >= 16 ? max : first_ms << (k - 1);
	if (w > max)
		w = max;
	return (long)((unsigned long long)w * (rnd % 4096) / 4095);
}

struct sv {
	struct tunnel		*t;
	const char		*ssh;
	const char		*statepath;
	const struct sv_hooks	*h;
	struct tstate		 st;
	size_t			 bi;		/* bastion in use */
	size_t			 tried;		/* bastions failed this round */
	unsigned		 fails;		/* failed rounds in a row */
	unsigned		 throttles;	/* throttled or timed-out
						 * attempts in a row */
	int			 patient;	/* found busy: PATIENT_S */
	pid_t			 ssh_pid;
	pid_t			 nudge_pid;	/* frees a stale remote port */
	int			 nudge_wake;	/* retry once it is done */
	struct nw_conn		 conn;		/* of the ssh that was up */
	int			 errfd;		/* ssh's stderr, or -1 */
	char			 line[2048];
	size_t			 linelen;
	size_t			 confirms;
	int			 up;
	long long		 settle_at;	/* hand memory back then, ms;
						 * -1: not up, or done */
	const char		*reason;
	long long		 started;	/* start of the attempt, ms */
	long long		 retry_at;	/* -1: no wait pending */
	int			 started_once;
	int			 wfd;		/* inotify on the discovery
						 * file, or -1 */
	long long		 check_at;	/* read it then; -1: no */
	struct dtarget		 cur;		/* the target ssh was given */
	int			 slotfd;	/* a connect slot held, or -1 */
	unsigned long long	 slotkey;	/* its bastion's */
	int			 slotw;		/* on a slot's holder while
						 * waiting for it, or -1 */
};

/*
 * A random number for spreading retries, straight from getrandom(2):
 * libbsd's arc4random keeps its state in pages it maps and in globals,
 * 8 KiB more of every supervisor's private memory for a few numbers an
 * outage. Never blocks; a clock-based value if it ever fails.
 */
static unsigned
rnd(void)
{
	unsigned r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned)now_ms() * 2654435761u ^ (unsigned)getpid();
	return r;
}

static void
logf_(struct sv *s, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (s->h == NULL || s->h->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->h->log(s->h->arg, level, buf);
}

/* The state to systemd too, when it started us (Type=notify). */
static void
sv_notify(struct sv *s)
{
	char msg[512];
	long long wait = s->retry_at >= 0 ? s->retry_at - now_ms() : 0;

	if (notify_fmt(&s->st, s->t, wait > 0 ? (long)wait : 0, msg,
	    sizeof(msg)) == 0 && notify_send(msg) == -1)
		logf_(s, 1, "sd_notify: %s", strerror(errno));
}

static void
put_state(struct sv *s, const char *state, const char *reason)
{
	char r[sizeof(s->st.reason)];
	struct sxerr e;

	if (strcmp(s->st.state, state) != 0)
		s->st.since = time(NULL);
	strlcpy(s->st.state, state, sizeof(s->st.state));
	strlcpy(r, reason != NULL ? reason : "", sizeof(r));
	strlcpy(s->st.reason, r, sizeof(s->st.reason));
	s->st.pid = getpid();
	s->st.ssh_pid = s->ssh_pid;
	if (s->ssh_pid == 0)
		s->st.ssh_start = s->st.ssh_dev = s->st.ssh_ino = 0;
	s->st.up_since = s->up ? s->st.up_since : 0;
	if (host_fmt_bastion(&s->t->bastion[s->bi], s->st.bastion,
	    sizeof(s->st.bastion)) < 0)
		s->st.bastion[0] = '\0';
	if (state_write(s->statepath, &s->st, &e) == -1)
		logf_(s, 0, "%s", e.msg);
	sv_notify(s);
}

static void
stop_nudge(struct sv *s)
{
	spawn_stop(s->nudge_pid, 1000);
	s->nudge_pid = 0;
}

/* The connect slot let go: the handshake is done, or over. */
static void
slot_done(struct sv *s)
{
	slot_give(&s->slotfd);
}

static void
slot_unwatch(struct sv *s)
{
	if (s->slotw != -1)
		close(s->slotw);
	s->slotw = -1;
}

/*
 * A connect slot for the bastion to try (lib/slots.c), or none to be had
 * here: go (1). All taken: wait (0) to be handed one, or for SLOT_WAIT_MS
 * when that cannot be watched.
 */
static int
slot_ready(struct sv *s)
{
	char b[sizeof(s->st.bastion)];
	unsigned r = rnd();

	/* Handed one while waiting; else the watch ends here. */
	if (s->slotw != -1 && slot_handed(&s->slotw, &s->slotfd) == 0)
		return 1;
	if (s->slotfd != -1)
		return 1;
	if (host_fmt_bastion(&s->t->bastion[s->bi], b, sizeof(b)) < 0)
		return 1;
	s->slotkey = slot_key(b);
	if (slot_take(s->slotkey, r, &s->slotfd) != 1)
		return 1;
	if ((s->slotw = slot_wait(s->slotkey, r)) == -1 && errno == EPERM) {
		/* Let go meanwhile, or not ours to wait on: one more try,
		 * then on without. */
		(void)slot_take(s->slotkey, r, &s->slotfd);
		return 1;
	}
	s->retry_at = now_ms() + (s->slotw != -1 ? 10 : 1) * SLOT_WAIT_MS +
	    rnd() % SLOT_WAIT_MS;
	return 0;
}

static void
stop_ssh(struct sv *s)
{
	slot_done(s);
	spawn_stop(s->ssh_pid, 2000);
	s->ssh_pid = 0;
	if (s->errfd != -1)
		close(s->errfd);
	s->errfd = -1;
	s->up = 0;
}

/*
 * Point the discovery forward at what the file names now: 1, or 0 with
 * the tunnel in backoff for reason "discovery" until the file is read
 * again (an event on it, or DISC_RETRY_MS).
 */
static int
discover(struct sv *s)
{
	struct dtarget d;
	struct sxerr e;

	if (s->t->disc.file[0] == '\0')
		return 1;
	if (discovery_read(s->t, &d, &e) == -1) {
		if (strcmp(s->st.reason, "discovery") != 0)
			logf_(s, 0, "discovery: %s", e.msg);
		s->retry_at = now_ms() + DISC_RETRY_MS;
		put_state(s, "backoff", "discovery");
		return 0;
	}
	if (!discovery_same(&d, &s->cur))
		logf_(s, 0, "discovery: %s port %d", d.host, d.port);
	s->cur = d;
	discovery_point(s->t, &d);
	return 1;
}

/*
 * The discovery file changed: a new target re-points a running ssh at
 * once; the same one changes nothing; a bad file leaves a running ssh on
 * the last good target, its reason "discovery" until a good one comes.
 */
static void
rediscover(struct sv *s)
{
	struct dtarget d;
	struct sxerr e;

	s->check_at = -1;
	if (s->ssh_pid == 0) {
		if (strcmp(s->st.reason, "discovery") == 0)
			s->retry_at = now_ms();
		return;
	}
	if (discovery_read(s->t, &d, &e) == -1) {
		logf_(s, 0, "discovery: %s; keeping %s port %d", e.msg,
		    s->cur.host, s->cur.port);
		if (s->up)
			put_state(s, "up", "discovery");
		return;
	}
	if (discovery_same(&d, &s->cur)) {
		if (s->up && strcmp(s->st.reason, "discovery") == 0)
			put_state(s, "up", NULL);
		return;
	}
	logf_(s, 0, "discovery: moved to %s port %d; re-pointing", d.host,
	    d.port);
	stop_ssh(s);
	s->fails = s->tried = s->throttles = 0;
	s->retry_at = now_ms();
}

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL	0x0008U
#endif

/*
 * A file ssh holds locked for as long as it runs, its identity in the
 * table: ssh's stdin, an empty memfd locked here and handed down.
 * ssh-tunnel-ls finds the lock in /proc/locks, read once for all rows,
 * and so proves an up row's ssh running without a read of its
 * /proc/PID/stat (for a thousand rows, half of its time). The kernel
 * drops the lock as ssh exits, before it is reaped, and nothing else
 * holds the file: ssh gives its helpers (ProxyJump's ssh and the like)
 * a stdin of their own, and LocalCommand, which would inherit it, is
 * off (tunnel_argv). -1, the table without it, when it cannot be made.
 */
static int
ssh_lock(struct tstate *st)
{
	struct stat sb;
	int fd;

	st->ssh_dev = st->ssh_ino = 0;
	/* Never to be run: said so where the kernel can (Linux 6.3). */
	fd = memfd_create("scitex-ssh", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
	if (fd == -1 && errno == EINVAL)
		fd = memfd_create("scitex-ssh", MFD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1 || fstat(fd, &sb) == -1) {
		close(fd);
		return -1;
	}
	st->ssh_dev = sb.st_dev;
	st->ssh_ino = sb.st_ino;
	return fd;
}

static int
start_ssh(struct sv *s, struct sxerr *e)
{
	struct sshargv *a;
	int lk, p[2], rc;

	stop_nudge(s);
	if (!discover(s)) {
		/* Not connecting for a while: the slot to another. */
		slot_done(s);
		return 0;
	}
	if ((a = malloc(sizeof(*a))) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	if (tunnel_argv(s->t, s->bi, s->ssh, s->patient ? PATIENT_S : 0, a,
	    e) == -1) {
		free(a);
		return -1;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		free(a);
		return sxerr_errno(e, EX_OSERR, "pipe");
	}
	lk = ssh_lock(&s->st);
	rc = spawn_tied(a->argv, lk, p[1], &s->ssh_pid, e);
	if (lk != -1)
		close(lk);	/* ssh's alone now */
	free(a);
	if (rc == -1) {
		close(p[0]), close(p[1]);
		return -1;
	}
	/* With its pid, what proves in the table that it is still ours. */
	if (state_proc(s->ssh_pid, NULL, 0, &s->st.ssh_start) == -1)
		s->st.ssh_start = 0;
	/* The argv (25 KiB) was needed for the spawn only. */
	mem_trim();
	close(p[1]);
	s->errfd = p[0];
	s->linelen = 0;
	s->confirms = 0;
	s->up = 0;
	s->settle_at = -1;
	s->reason = NULL;
	s->started = now_ms();
	s->retry_at = -1;
	if (s->started_once)
		s->st.restarts++;
	s->started_once = 1;
	/* The last failure's reason stays until the forward is confirmed. */
	put_state(s, "connecting", s->st.reason);
	logf_(s, 1, "ssh pid %ld via %s", (long)s->ssh_pid, s->st.bastion);
	return 0;
}

static void
on_line(struct sv *s, const char *line)
{
	size_t need = tunnel_nremote(s->t);
	const char *r;

	logf_(s, 1, "ssh: %s", line);
	if ((r = supervise_classify(line)) != NULL && s->reason == NULL)
		s->reason = r;
	if (s->up)
		return;
	if (strstr(line, CONFIRM_R) != NULL)
		s->confirms++;
	if ((need > 0 && s->confirms >= need) ||
	    (need == 0 && strstr(line, CONFIRM_L) != NULL)) {
		s->up = 1;
		slot_done(s);
		s->fails = 0;
		s->throttles = 0;
		s->patient = 0;
		s->tried = 0;
		s->st.up_since = time(NULL);
		s->settle_at = now_ms() + SETTLE_MS;
		if (netwatch_conn(s->ssh_pid, &s->conn) == -1)
			s->conn.family = 0;
		put_state(s, "up", NULL);
		logf_(s, 0, "up via %s", s->st.bastion);
	}
}

/* Read what ssh wrote; 0 once the pipe is closed. Not inlined: its
 * buffer would widen supervise_run's frame, which lasts for good. */
static __attribute__((noinline)) int
read_err(struct sv *s)
{
	char buf[4096];
	ssize_t n, i;

	for (;;) {
		if ((n = read(s->errfd, buf, sizeof(buf))) == -1)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return 0;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (buf[i] != '\n') {
				if (s->linelen + 1 < sizeof(s->line))
					s->line[s->linelen++] = buf[i];
				continue;
			}
			s->line[s->linelen] = '\0';
			on_line(s, s->line);
			s->linelen = 0;
		}
	}
}

/*
 * A remote forward refused as busy is most often held by the bastion's
 * own stale session from before a dead link. Connecting to that port
 * through the bastion makes the stale session open a channel on its dead
 * connection, which the kernel answers with a reset: the port is free a
 * moment later, with no change to the bastion's sshd_config (the -K line
 * permits exactly this connection).
 */
static void
nudge(struct sv *s, int wake)
{
	const struct forward *f;
	struct sshargv *a;
	struct sxerr e;

	if ((f = tunnel_first_remote(s->t)) == NULL ||
	    (a = malloc(sizeof(*a))) == NULL)
		return;
	s->nudge_wake = wake;
	if (tunnel_probe_argv(s->t, s->bi, f, s->ssh, a, &e) == 0 &&
	    spawn_tied(a->argv, -1, -1, &s->nudge_pid, &e) == 0)
		logf_(s, 1, "port %d busy: nudging a stale session (pid %ld)",
		    f->port, (long)s->nudge_pid);
	free(a);
}

/*
 * The stale half of the link that was up, once: the bastion holds the
 * remote port until it learns that we are gone. 0 when it was reset.
 */
static int
conn_reset(struct sv *s)
{
	struct nw_conn c = s->conn;

	s->conn.family = 0;
	return netwatch_reset(&c);
}

/* A random wait, not the ladder, which stays where it was; the round
 * starts again with the next bastion. say: log it. */
static void
busy_wait(struct sv *s, const char *reason, long delay, int say)
{
	if (say)
		logf_(s, 0, "not up (%s), retrying in %.2f s", reason,
		    delay / 1000.0);
	s->patient = 1;
	s->tried = 0;
	s->retry_at = now_ms() + delay;
	put_state(s, "backoff", reason);
	s->bi = (s->bi + 1) % s->t->nbastion;
}

/* ssh has exited: decide where and when to try next. */
static void
ssh_gone(struct sv *s, int status)
{
	long long elapsed = now_ms() - s->started;
	long delay;
	const char *reason;
	int streak, slow;

	while (s->errfd != -1 && read_err(s))
		;
	if (s->errfd != -1 && s->linelen > 0) {
		s->line[s->linelen] = '\0';
		on_line(s, s->line);
	}
	if (s->errfd != -1)
		close(s->errfd);
	s->errfd = -1;
	s->ssh_pid = 0;
	slot_done(s);
	reason = s->reason != NULL ? s->reason : "exited";
	streak = strcmp(reason, "port-busy") == 0 &&
	    strcmp(s->st.reason, "port-busy") != 0;
	(void)status;
	if (s->up) {
		/* A link that worked: at once, to the same bastion; this
		 * is the retry made at once, the next failure waits. */
		logf_(s, 0, "down (%s), reconnecting", reason);
		s->up = 0;
		s->fails = 1;
		s->retry_at = now_ms();
		put_state(s, "backoff", reason);
		return;
	}
	if (strcmp(reason, "throttled") == 0) {
		/* There and busy. */
		delay = supervise_throttle_ms(++s->throttles, THROTTLE_MS,
		    s->t->retry_max < THROTTLE_CAP_S ? s->t->retry_max :
		    THROTTLE_CAP_S, rnd());
		busy_wait(s, reason, delay, s->throttles == 1);
		return;
	}
	slow = strcmp(reason, "timeout") == 0 && elapsed >= 2000;
	if (!slow)
		s->throttles = 0;
	if (++s->tried < s->t->nbastion && !streak) {
		/* Failover: the next bastion at once, still connecting. */
		logf_(s, 0, "%s: %s; trying the next bastion", s->st.bastion,
		    reason);
		strlcpy(s->st.reason, reason, sizeof(s->st.reason));
		s->bi = (s->bi + 1) % s->t->nbastion;
		s->retry_at = now_ms();
		return;
	}
	s->tried = 0;
	if (slow) {
		/*
		 * A connection that timed out after seconds: a dead path, or
		 * a bastion too busy to take it (its listen queue full, a
		 * herd on one machine). The first is retried at once, so a
		 * short cut is met within a SYN retransmission, unless the
		 * bastion was found there and busy or restarting already
		 * (patient); from the second in a row the waits are random
		 * and grow, as after a throttle: retrying each at once kept a
		 * saturated bastion saturated (500 tunnels, one 2-core
		 * machine, bench/fleet.md).
		 */
		s->throttles++;
		delay = s->throttles == 1 && !s->patient ? 0 :
		    supervise_throttle_ms(s->throttles > 1 ? s->throttles - 1 :
		    1, TIMEOUT_MS, s->t->retry_max, rnd());
		busy_wait(s, reason, delay, s->throttles <= 2);
		return;
	}
	/*
	 * Patient, too, once refused: the host answered, only sshd was not
	 * listening (a bastion restarting), so the path is not dead, and
	 * the sshd that comes back meets every tunnel cut with it at once.
	 * Of 500 coming back impatient, 356 gave up on a banner sshd was
	 * about to send ("Broken pipe [preauth]"; bench/fleet.md).
	 */
	if (strcmp(reason, "refused") == 0)
		s->patient = 1;
	/* A new run of port-busy starts the waits small again. */
	if (streak)
		s->fails = 1;
	else
		s->fails++;
	delay = supervise_delay_ms(s->fails, s->t->retry_max, rnd()) -
	    (long)elapsed;
	if (delay < 0)
		delay = 0;
	if (s->fails == 1 || strcmp(reason, s->st.reason) != 0)
		logf_(s, 0, "not up (%s), retrying in %.2f s", reason,
		    delay / 1000.0);
	s->retry_at = now_ms() + delay;
	put_state(s, "backoff", reason);
	if (strcmp(reason, "port-busy") == 0 && conn_reset(s) == 0) {
		logf_(s, 0, "reset our stale connection to the bastion");
		s->retry_at = now_ms() + RESET_MS;
	} else if (strcmp(reason, "port-busy") == 0) {
		/* The first retry of a run waits for the nudge instead. */
		nudge(s, streak);
		if (streak && s->nudge_pid > 0)
			s->retry_at = now_ms() + NUDGE_MS;
	}
	/* A nudged bastion is tried again; otherwise the next round starts
	 * with the next bastion. */
	if (!(streak && s->nudge_pid > 0))
		s->bi = (s->bi + 1) % s->t->nbastion;
}

/*
 * SIGHUP: the definition again. The new one is not on on_signals' stack:
 * 28 KB pushed on every SIGCHLD would stay in the supervisor's private
 * memory for good.
 */
static void
reload(struct sv *s)
{
	struct tunnel *nt;
	struct sxerr e;

	if (s->h == NULL || s->h->reload == NULL ||
	    (nt = malloc(sizeof(*nt))) == NULL)
		return;
	if (s->h->reload(s->h->arg, nt, &e) == -1) {
		logf_(s, 0, "reload: %s; keeping the running definition",
		    e.msg);
		free(nt);
		return;
	}
	/* Both came through tunnel_init: compared whole, the new one with
	 * the target the running one was pointed at. */
	if (nt->disc.file[0] != '\0' && s->cur.port != 0)
		discovery_point(nt, &s->cur);
	if (memcmp(nt, s->t, sizeof(*nt)) == 0) {
		logf_(s, 0, "reloaded; unchanged");
		free(nt);
		return;
	}
	logf_(s, 0, "reloaded; reconnecting");
	stop_ssh(s);
	/* Only the pages that changed: most of a tunnel is zero. */
	mem_copy_sparse(s->t, nt, sizeof(*nt));
	free(nt);
	if (s->wfd != -1)
		close(s->wfd);
	s->wfd = discovery_watch(s->t);
	s->bi = s->tried = s->fails = s->throttles = 0;
	s->retry_at = now_ms();
}

/* Signals that arrived: 1 to go on, 0 to stop. */
static int
on_signals(struct sv *s, int sfd)
{
	struct signalfd_siginfo si;
	int st;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			return 0;
		case SIGHUP:
			reload(s);
			break;
		case SIGCHLD:
			if (s->nudge_pid > 0 &&
			    waitpid(s->nudge_pid, &st, WNOHANG) ==
			    s->nudge_pid) {
				s->nudge_pid = 0;
				if (s->nudge_wake && s->ssh_pid == 0)
					s->retry_at = now_ms();
			}
			if (s->ssh_pid > 0 &&
			    waitpid(s->ssh_pid, &st, WNOHANG) == s->ssh_pid)
				ssh_gone(s, st);
			break;
		}
	}
	return 1;
}

/*
 * Run until SIGTERM or SIGINT. All waiting is one ppoll on a signalfd,
 * ssh's stderr and a netlink socket, with a timeout only while a retry is
 * pending: an idle supervisor uses no CPU. lockfd: the tunnel's lock we
 * hold (-1: none), named in the table as ssh's is.
 */
int
supervise_run(struct tunnel *t, const char *ssh, const char *statepath,
    int lockfd, const struct sv_hooks *h, struct sxerr *e)
{
	struct stat lk;
	struct sv s;
	struct pollfd pfd[5];
	struct timespec ts;
	sigset_t mask, old;
	int sfd, nfd, rc = 0;
	long long at;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.ssh = ssh;
	s.statepath = statepath;
	s.h = h;
	s.errfd = -1;
	s.retry_at = now_ms();
	s.check_at = -1;
	s.settle_at = -1;
	s.slotfd = s.slotw = -1;
	/* With the pid, the proofs ssh-tunnel-ls needs in the state table. */
	if (state_proc(getpid(), NULL, 0, &s.st.start) == -1)
		s.st.start = 0;
	if (lockfd != -1 && fstat(lockfd, &lk) == 0) {
		s.st.lock_dev = lk.st_dev;
		s.st.lock_ino = lk.st_ino;
	}
	s.wfd = discovery_watch(t);
	if (t->disc.file[0] != '\0' && s.wfd == -1)
		logf_(&s, 1, "inotify: %s; the discovery file is read at "
		    "every connect only", strerror(errno));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &old) == -1)
		return sxerr_errno(e, EX_OSERR, "sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1) {
		sxerr_errno(e, EX_OSERR, "signalfd");
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	/* Without netlink (some sandboxes) the backoff still works. */
	if ((nfd = netwatch_open()) == -1)
		logf_(&s, 1, "netlink: %s; network changes will not cut waits "
		    "short", strerror(errno));
	for (;;) {
		if (s.ssh_pid == 0 && s.retry_at >= 0 &&
		    now_ms() >= s.retry_at && slot_ready(&s) &&
		    start_ssh(&s, e) == -1) {
			rc = -1;
			break;
		}
		pfd[0].fd = sfd;
		pfd[1].fd = s.errfd;
		pfd[2].fd = nfd;
		pfd[3].fd = s.wfd;
		pfd[4].fd = s.slotw;
		pfd[0].events = pfd[1].events = pfd[2].events =
		    pfd[3].events = pfd[4].events = POLLIN;
		at = s.ssh_pid == 0 ? s.retry_at : -1;
		if (s.check_at >= 0 && (at < 0 || s.check_at < at))
			at = s.check_at;
		if (s.settle_at >= 0 && (at < 0 || s.settle_at < at))
			at = s.settle_at;
		if (at >= 0) {
			at = at > now_ms() ? at - now_ms() : 0;
			ts.tv_sec = at / 1000;
			ts.tv_nsec = (at % 1000) * 1000000;
		}
		if (ppoll(pfd, 5, at >= 0 ? &ts : NULL, NULL) == -1 &&
		    errno != EINTR) {
			rc = sxerr_errno(e, EX_OSERR, "ppoll");
			break;
		}
		/* The slot waited on handed to us, or let go: now. */
		if (pfd[4].fd != -1 && pfd[4].revents != 0 &&
		    s.ssh_pid == 0 && s.retry_at >= 0)
			s.retry_at = now_ms();
		if (pfd[3].fd != -1 && pfd[3].revents != 0 &&
		    discovery_news(s.wfd, s.t) && s.check_at < 0)
			s.check_at = now_ms() + DISC_SETTLE_MS;
		if (s.check_at >= 0 && now_ms() >= s.check_at)
			rediscover(&s);
		if (pfd[1].fd != -1 && pfd[1].revents != 0 && !read_err(&s)) {
			/* EOF: ssh is exiting; SIGCHLD follows. */
			close(s.errfd);
			s.errfd = -1;
		}
		/*
		 * Up and quiet for a moment (ssh says a few more lines after
		 * the confirmation): idle from now on, so what connecting
		 * took, heap and stack, back.
		 */
		if (s.settle_at >= 0 && (pfd[1].revents != 0 ||
		    pfd[3].revents != 0))
			s.settle_at = now_ms() + SETTLE_MS;
		else if (s.settle_at >= 0 && now_ms() >= s.settle_at) {
			mem_trim();
			s.settle_at = -1;
		}
		if (pfd[2].fd != -1 && pfd[2].revents != 0 &&
		    netwatch_news(nfd) && s.ssh_pid == 0 && s.retry_at >= 0) {
			/* Every tunnel of this host sees the same change: a
			 * spread, not all at once. */
			logf_(&s, 1, "network change: retrying now");
			s.retry_at = now_ms() + rnd() % NETCHANGE_MS;
		}
		if (pfd[0].revents != 0 && !on_signals(&s, sfd))
			break;
	}
	stop_ssh(&s);
	stop_nudge(&s);
	slot_unwatch(&s);
	if (rc == 0)
		put_state(&s, "stopped", NULL);
	else
		put_state(&s, "failed", "exited");
	if (nfd != -1)
		close(nfd);
	if (s.wfd != -1)
		close(s.wfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
