/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-down: stop a tunnel through its backend and remove every
 * file it owns. Signals only a supervisor proven to be ours.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "config.h"
#include "host.h"
#include "legacy.h"
#include "out.h"
#include "state.h"
#include "sysd.h"
#include "tunnel.h"

static int quiet, verbose;

static void
usage(FILE *fp, int ex)
{
	fprintf(fp, "usage: ssh-tunnel-down [-qv] [-F config] "
	    "[-a | -p port | name ...]\n");
	exit(ex);
}

static void
rm(const char *dir, const char *name, const char *ext)
{
	char path[STATE_PATH];

	if (state_path(path, sizeof(path), dir, name, ext) == -1)
		return;
	if (unlink(path) == 0) {
		if (verbose)
			fprintf(stderr, "%s: removed %s\n", getprogname(),
			    path);
	} else if (errno != ENOENT)
		warn("%s", path);
}

/* Stop it, then remove its files under its lock. 0 done, 1 not done. */
static int
down(const struct tref *r)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char lock[STATE_PATH];
	struct sxerr e;
	int fd = -1, rc = 1, i, stopped;

	if ((stopped = r->b->stop(&r->pl, r->name, &e)) == -1) {
		warnx("%s: backend %s: %s", r->name, r->b->name, e.msg);
		return 1;
	}
	if (verbose && stopped)
		fprintf(stderr, "%s: %s: stopped\n", getprogname(), r->name);
	if (state_path(lock, sizeof(lock), r->pl.state, r->name, ".lock") == -1)
		errx(EX_OSERR, "%s: path too long", r->pl.state);
	if (access(lock, F_OK) == 0) {
		for (i = 0; i < 30 && (rc = state_lock(lock, &fd, &e)) == 1;
		    i++)
			nanosleep(&ts, NULL);
		if (rc != 0) {
			warnx("%s: busy: another ssh-tunnel-up or "
			    "ssh-tunnel-down is at work on it", r->name);
			return 1;
		}
	}
	if (r->in_config)
		warnx("%s: defined in %s:%u; remove it there", r->name,
		    r->path, r->line);
	else
		rm(r->pl.defs, r->name, ".yaml");
	rm(r->pl.state, r->name, ".state");
	rm(r->pl.state, r->name, ".pid");
	rm(r->pl.state, r->name, ".log");
	rm(r->pl.state, r->name, ".lock");
	if (fd != -1)
		close(fd);
	return 0;
}

static int
has_port(const struct config *cf, const struct tref *r, int port)
{
	static struct tunnel t;
	struct sxerr e;
	size_t i;

	if (backend_load(cf, r, &t, &e) == -1)
		return 0;
	for (i = 0; i < t.nfwd; i++)
		if (t.fwd[i].port == port)
			return 1;
	return 0;
}

/*
 * scitex-ssh 1.0's autossh-tunnel-PORT.service (branch systemd): 1 when
 * there was one and it is gone, 0 when there was none, -1 on error.
 */
static int
down_legacy(int port)
{
	struct legacy l;
	struct sxerr e;

	if (legacy_find(port, &l, &e) == -1)
		return e.ex == EX_UNAVAILABLE ? 0 : (warnx("%s", e.msg), -1);
	if (sysd_legacy_remove(&l, &e) == -1) {
		warnx("%s", e.msg);
		return -1;
	}
	if (verbose)
		warnx("%s: removed", l.path);
	return 1;
}

int
main(int argc, char *argv[])
{
	const char *file = NULL, *dbg;
	struct config *cf;
	struct tref *refs;
	struct sxerr e;
	size_t n, i;
	int ch, all = 0, port = 0, rc = 0, j, found;

	if ((dbg = getenv("SCITEX_SSH_DEBUG_MODE")) != NULL &&
	    strcmp(dbg, "1") == 0)
		verbose = 1;
	while ((ch = getopt(argc, argv, "F:Vahp:qv")) != -1) {
		switch (ch) {
		case 'F':
			file = optarg;
			break;
		case 'V':
			printf("ssh-tunnel-down scitex-ssh %s\n", VERSION);
			return out_close(stdout) == -1 ? EX_OSERR : 0;
		case 'a':
			all = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'p':
			if (host_parse_port(optarg, &port, &e) == -1)
				errx(e.ex, "-p: %s", e.msg);
			break;
		case 'q':
			quiet = 1;
			verbose = 0;
			break;
		case 'v':
			verbose = 1;
			quiet = 0;
			break;
		case '?':
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if ((all + (port != 0) + (argc > 0)) != 1)
		usage(stderr, EX_USAGE);
	for (j = 0; j < argc; j++)
		if (host_valid_name(argv[j], &e) == -1)
			errx(e.ex, "%s", e.msg);

	if (config_open(file, &cf, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (backend_list(cf, &refs, &n, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (all) {
		for (i = 0; i < n; i++)
			rc |= down(&refs[i]);
	} else if (port != 0) {
		for (i = 0, found = 0; i < n; i++)
			if (has_port(cf, &refs[i], port)) {
				found = 1;
				rc |= down(&refs[i]);
			}
		if ((j = down_legacy(port)) != 0) {
			found = 1;
			rc |= j == -1;
		}
		if (!found) {
			if (!quiet)
				warnx("port %d: no such tunnel", port);
			rc = 1;
		}
	} else {
		for (j = 0; j < argc; j++) {
			for (i = 0, found = 0; i < n; i++)
				if (strcmp(refs[i].name, argv[j]) == 0) {
					found = 1;
					rc |= down(&refs[i]);
				}
			if (!found && legacy_name(argv[j]) > 0) {
				found = down_legacy(legacy_name(argv[j]));
				rc |= found == -1;
			}
			if (!found) {
				if (!quiet)
					warnx("%s: no such tunnel", argv[j]);
				rc = 1;
			}
		}
	}
	free(refs);
	config_free(cf);
	return rc;
}
