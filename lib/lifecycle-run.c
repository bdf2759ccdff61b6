/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"
#include "lifecycle-priv.h"
#include "memtrim.h"
#include "sshbin.h"
#include "supervise.h"

/* ssh-tunnel-up -f. */

struct sv {
	const struct lc_ctx	*c;
	const char		*name;
};

/* The supervisor's messages: state changes, and ssh's lines (level 1). */
static void
sv_log(void *arg, int level, const char *msg)
{
	struct sv *v = arg;

	lc_say(v->c, level > 0 ? LC_DEBUG : LC_INFO, "%s: %s", v->name, msg);
}

/* SIGHUP: the definition read anew. */
static int
sv_reload(void *arg, struct tunnel *t, struct sxerr *e)
{
	struct sv *v = arg;
	struct config *cf;
	struct tref r;
	int rc;

	if (config_open(v->c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, v->name, &r, e)) == 1)
		sxerr_set(e, EX_CONFIG, "%s: no longer defined", v->name);
	if (rc == 0 && (rc = backend_load(cf, &r, t, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	mem_trim();
	return rc == 0 ? 0 : -1;
}

/* The definition of name and where its state goes. */
static int
sv_load(const struct lc_ctx *c, const char *name, struct tunnel *t,
    struct tref *r, struct sxerr *e)
{
	struct config *cf;
	int rc;

	if (config_open(c->config, &cf, e) == -1)
		return -1;
	if ((rc = backend_lookup(cf, name, r, e)) == 1)
		rc = sxerr_set(e, EX_CONFIG, "%s: no such tunnel (not in %s "
		    "nor in tunnels.d)", name, cf->path[0] ? cf->path :
		    "a config file");
	if (rc == 0 && (rc = backend_load(cf, r, t, e)) == 0)
		rc = tunnel_check_key(t, e);
	config_free(cf);
	return rc;
}

/*
 * The lock handed over by the ssh-tunnel-up that started us (fd 3), or
 * our own; 1 (the exit status DESIGN.md gives a lock held) when another
 * supervisor holds it.
 */
static int
sv_lock(const struct places *pl, const char *name, int *fdp,
    struct sxerr *e)
{
	char path[STATE_PATH], pidf[STATE_PATH];
	struct stat a, b;
	pid_t pid;
	int rc;

	if (state_path(path, sizeof(path), pl->state, name, ".lock") == -1 ||
	    state_path(pidf, sizeof(pidf), pl->state, name, ".pid") == -1)
		return sxerr_set(e, EX_OSERR, "%s: path too long", pl->state);
	if (fstat(3, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	    a.st_ino == b.st_ino && flock(3, LOCK_EX | LOCK_NB) == 0) {
		if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
			return sxerr_errno(e, EX_OSERR, "fcntl");
		*fdp = 3;
		return 0;
	}
	if ((rc = state_lock(path, fdp, e)) != 1)
		return rc;
	state_pidfile_proven(pidf, SUPERVISOR_COMM, &pid);
	return sxerr_set(e, 1, "%s: already supervised (pid %ld)", name,
	    (long)pid);
}

/*
 * What a supervisor keeps of its places: its files (on the heap, not two
 * 4 KiB buffers in a frame that lasts its whole life), its lock. The
 * names are allocated before the definition is loaded and shrunk in
 * place once known, so that they sit low in the heap with what else
 * lives for good, not in a page of their own above what loading freed.
 */
#define SV_NAME_FIRST	256

struct sv_files {
	char	*pid;
	char	*state;
	int	lockfd;
};

/* src into *dst, resized to fit (in place when smaller); 0 or -1. */
static int
sv_keep(char **dst, const char *src)
{
	size_t n = strlen(src) + 1;
	char *q;

	if ((q = realloc(*dst, n)) == NULL)
		return -1;
	memcpy(q, src, n);
	*dst = q;
	return 0;
}

/* f's files, both or neither; 0, or -1 with f's lock closed. */
static int
sv_name_files(const char *dir, const char *name, struct sv_files *f,
    struct sxerr *e)
{
	char p[STATE_PATH], s[STATE_PATH];

	if (state_path(p, sizeof(p), dir, name, ".pid") == -1 ||
	    state_path(s, sizeof(s), dir, name, ".state") == -1)
		sxerr_set(e, EX_OSERR, "%s: path too long", dir);
	else if (sv_keep(&f->pid, p) == -1 || sv_keep(&f->state, s) == -1)
		sxerr_errno(e, EX_OSERR, "realloc");
	else
		return 0;
	close(f->lockfd);
	return -1;
}

/*
 * Load the definition, take the lock, name the files. The tref
 * (4 KiB) on the heap, and this function not inlined, so that neither
 * it nor sv_lock's paths widen the frame of lc_supervise, which stays
 * on the stack under everything the supervisor does: what is freed, or
 * below the frames in use, mem_trim() hands back.
 */
static __attribute__((noinline)) int
sv_prepare(const struct lc_ctx *c, const char *name, struct tunnel *t,
    struct sv_files *f, struct sxerr *e)
{
	struct tref *r;
	int rc = -1;

	if ((r = malloc(sizeof(*r))) == NULL)
		return sxerr_errno(e, EX_OSERR, "malloc");
	if (sv_load(c, name, t, r, e) == -1 || state_mkdir(r->pl->state,
	    e) == -1 || sv_lock(r->pl, name, &f->lockfd, e) == -1)
		goto out;
	rc = sv_name_files(r->pl->state, name, f, e);
out:
	free(r);
	return rc;
}

/*
 * Be the supervisor of name until SIGTERM or SIGINT: its lock held, its
 * pid file written, its ssh kept running (lib/supervise.c). What it does
 * goes to the note hook; 0 when stopped by a signal, -1 on error.
 */
int
lc_supervise(const struct lc_ctx *c, const char *name, struct sxerr *e)
{
	struct sv_files f;
	struct sv v = { c, name };
	struct sv_hooks h = { sv_reload, sv_log, &v };
	struct tunnel *t, *tmp;
	int rc = -1;

	/*
	 * What lives for good first, low in the heap: the time zone glibc
	 * keeps once loaded, the file names. The tunnel is loaded on the
	 * heap (tunnel_init memsets it whole) and kept in pages of its own
	 * that only what is set makes private: 3 of 5 for a tunnel with one
	 * bastion and forward and a few options.
	 */
	tzset();
	f.pid = malloc(SV_NAME_FIRST);
	f.state = malloc(SV_NAME_FIRST);
	tmp = malloc(sizeof(*tmp));
	if ((t = mem_pages(sizeof(*t))) == NULL || tmp == NULL ||
	    f.pid == NULL || f.state == NULL) {
		sxerr_errno(e, EX_OSERR, "malloc");
		free(tmp);
		goto out;
	}
	rc = sv_prepare(c, name, tmp, &f, e);
	mem_copy_sparse(t, tmp, sizeof(*t));
	free(tmp);
	if (rc == -1)
		goto out;
	rc = -1;
	if (state_pidfile_write(f.pid, getpid(), e) == 0) {
		sv_log(&v, 0, "supervising");
		/*
		 * What loading the definition freed (the YAML tree, every
		 * tunnel's tref from the listing) stays in glibc's heap, and
		 * the stack it took stays touched, unless handed back: most
		 * of an idle supervisor's private memory, times the tunnels
		 * of a host.
		 */
		mem_trim();
		if ((rc = supervise_run(t, ssh_bin(), f.state, f.lockfd, &h, e)) == 0)
			sv_log(&v, 0, "stopped");
		(void)unlink(f.pid);
	}
	close(f.lockfd);
out:
	free(f.pid);
	free(f.state);
	mem_pages_free(t, sizeof(*t));
	return rc;
}
