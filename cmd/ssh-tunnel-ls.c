/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-ls: the tunnels, their live state, an end-to-end probe, and
 * the ssh_config block a collaborator needs.
 */
#include <sys/wait.h>

#include <err.h>
#include <getopt.h>
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
#include "spawn.h"
#include "state.h"
#include "supervise.h"
#include "sysd.h"
#include "tunnel.h"

#define PROBE_MS	((TUN_CONNECT_TIMEOUT + 5) * 1000)
#define NCOL		9

struct row {
	struct tref	 ref;
	struct tunnel	 t;
	int		 loaded;
	struct tstate	 st;
};

static void
usage(FILE *fp, int ex)
{
	fprintf(fp, "usage: ssh-tunnel-ls [-cHjN] [-F config] [-p port] "
	    "[--probe] [name ...]\n");
	exit(ex);
}

static int
port_of(const struct row *r)
{
	const struct forward *f;

	if (!r->loaded)
		return 0;
	if ((f = tunnel_first_remote(&r->t)) != NULL)
		return f->port;
	return r->t.nfwd > 0 ? r->t.fwd[0].port : 0;
}

static int
has_port(const struct row *r, int port)
{
	size_t i;

	for (i = 0; r->loaded && i < r->t.nfwd; i++)
		if (r->t.fwd[i].port == port)
			return 1;
	return 0;
}

/* The bastion in use, else the first of the definition. */
static size_t
bastion_of(const struct row *r, char *buf, size_t sz)
{
	char b[512];
	size_t i;

	buf[0] = '\0';
	if (!r->loaded)
		return 0;
	for (i = 0; i < r->t.nbastion; i++)
		if (host_fmt_bastion(&r->t.bastion[i], b, sizeof(b)) == 0 &&
		    strcmp(b, r->st.bastion) == 0) {
			strlcpy(buf, b, sz);
			return i;
		}
	if (host_fmt_bastion(&r->t.bastion[0], buf, sz) == -1)
		buf[0] = '\0';
	return 0;
}

static long long
uptime(const struct row *r)
{
	time_t now = time(NULL);

	if (strcmp(r->st.state, "up") != 0 || r->st.up_since == 0 ||
	    r->st.up_since > now)
		return 0;
	return (long long)(now - r->st.up_since);
}

static void
human(long long s, char *buf, size_t sz)
{
	if (s < 60)
		snprintf(buf, sz, "%llds", s);
	else if (s < 3600)
		snprintf(buf, sz, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, sz, "%lldh", s / 3600);
	else
		snprintf(buf, sz, "%lldd", s / 86400);
}

static void
print_table(const struct row *rows, size_t n, int header)
{
	static const char *const heads[NCOL] = { "NAME", "BACKEND", "STATE",
	    "PORT", "BASTION", "PID", "UPTIME", "RESTARTS", "REASON" };
	char port[16], bast[512], pid[24], up[32], rs[16];
	const char *cell[NCOL];
	struct table *tb;
	size_t i;

	if ((tb = table_new(NCOL, heads)) == NULL)
		err(EX_OSERR, "table");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		snprintf(port, sizeof(port), "%d", port_of(r));
		bastion_of(r, bast, sizeof(bast));
		snprintf(pid, sizeof(pid), "%ld", (long)r->st.pid);
		if (strcmp(r->st.state, "up") == 0)
			human(uptime(r), up, sizeof(up));
		else
			strlcpy(up, "-", sizeof(up));
		snprintf(rs, sizeof(rs), "%u", r->st.restarts);
		cell[0] = r->ref.name;
		cell[1] = r->ref.b->name;
		cell[2] = r->st.state;
		cell[3] = port_of(r) ? port : "-";
		cell[4] = bast[0] ? bast : "-";
		cell[5] = r->st.pid ? pid : "-";
		cell[6] = up;
		cell[7] = rs;
		cell[8] = r->st.reason[0] ? r->st.reason : "-";
		if (table_add(tb, cell) == -1)
			err(EX_OSERR, "table");
	}
	table_print(tb, stdout, isatty(STDOUT_FILENO), header);
	table_free(tb);
}

static void
print_json(const struct row *rows, size_t n)
{
	char bast[512];
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		bastion_of(r, bast, sizeof(bast));
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, r->ref.name);
		printf(",\"backend\":");
		json_str(stdout, r->ref.b->name);
		printf(",\"state\":");
		json_str(stdout, r->st.state);
		printf(",\"port\":%d,\"bastion\":", port_of(r));
		json_str(stdout, bast[0] ? bast : NULL);
		printf(",\"pid\":%ld,\"uptime\":%lld,\"restarts\":%u,"
		    "\"reason\":", (long)r->st.pid, uptime(r), r->st.restarts);
		json_str(stdout, r->st.reason[0] ? r->st.reason : NULL);
		putchar('}');
	}
	puts("]");
}

/* The last line of ssh's stderr that is not debug chatter. */
static void
last_line(char *err, char *buf, size_t sz)
{
	char *l, *save = NULL;

	strlcpy(buf, "no banner", sz);
	for (l = strtok_r(err, "\r\n", &save); l != NULL;
	    l = strtok_r(NULL, "\r\n", &save))
		if (strncmp(l, "debug", 5) != 0 && *l != '\0')
			strlcpy(buf, l, sz);
}

/* Through the bastion to the remote port: an SSH banner must come back. */
static int
probe(const struct row *r)
{
	static struct sshargv a;
	static char out[4096], errbuf[16384];
	struct capture c;
	const struct forward *f;
	char why[256], bast[512];
	const char *ssh = getenv("SCITEX_SSH_SSH");
	struct sxerr e;
	size_t bi;

	if (!r->loaded || (f = tunnel_first_remote(&r->t)) == NULL) {
		printf("%s\tnot verified: no R forward\n", r->ref.name);
		return 1;
	}
	bi = bastion_of(r, bast, sizeof(bast));
	if (tunnel_probe_argv(&r->t, bi, f, ssh != NULL && *ssh ? ssh : "ssh",
	    &a, &e) == -1) {
		printf("%s\tnot verified: %s\n", r->ref.name, e.msg);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.outsz = sizeof(out);
	c.err = errbuf;
	c.errsz = sizeof(errbuf);
	c.until = "\n";
	c.timeout_ms = PROBE_MS;
	if (spawn_capture(a.argv, &c, &e) == -1) {
		printf("%s\tnot verified: %s\n", r->ref.name, e.msg);
		return 1;
	}
	if (strncmp(out, "SSH-2.0-", 8) == 0) {
		out[strcspn(out, "\r\n")] = '\0';
		printf("%s\tverified\t%s\n", r->ref.name, host_is_clean(out) ?
		    out : "SSH-2.0-");
		return 0;
	}
	last_line(errbuf, why, sizeof(why));
	printf("%s\tnot verified: %s\n", r->ref.name, host_is_clean(why) ?
	    why : "bad answer");
	return 1;
}

static int
client_blocks(const struct row *rows, size_t n)
{
	char buf[2048], bast[512];
	struct sxerr e;
	size_t i, bi;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (!rows[i].loaded)
			continue;
		bi = bastion_of(&rows[i], bast, sizeof(bast));
		if (tunnel_client_block(&rows[i].t, bi, buf, sizeof(buf),
		    &e) == -1) {
			warnx("%s", e.msg);
			rc = 1;
			continue;
		}
		printf("%s%s", i ? "\n" : "", buf);
	}
	return rc;
}

static int
wanted(const char *name, int argc, char *argv[], char *seen)
{
	int i;

	if (argc == 0)
		return 1;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0) {
			seen[i] = 1;
			return 1;
		}
	return 0;
}

/*
 * scitex-ssh 1.0's units (branch systemd): rows of backend autossh named
 * autossh-tunnel-PORT, in systemd's state, so that they can be seen,
 * probed, adopted and removed.
 */
static const struct backend autossh_backend = { .name = "autossh" };

static struct row *
add_legacy(struct row *rows, size_t *n, int argc, char *argv[], char *seen,
    int port)
{
	char name[NAME_MAX_LEN + 1];
	struct legacy *v;
	struct sxerr e;
	struct row *r;
	size_t nv, i;

	if (legacy_list(&v, &nv, &e) == -1) {
		warnx("%s", e.msg);
		return rows;
	}
	for (i = 0; i < nv; i++) {
		snprintf(name, sizeof(name), LEGACY_PREFIX "%d", v[i].port);
		if (!wanted(name, argc, argv, seen) ||
		    (port != 0 && v[i].port != port))
			continue;
		if ((rows = reallocarray(rows, *n + 1, sizeof(*rows))) == NULL)
			err(EX_OSERR, "reallocarray");
		r = &rows[(*n)++];
		memset(r, 0, sizeof(*r));
		strlcpy(r->ref.name, name, sizeof(r->ref.name));
		strlcpy(r->ref.path, v[i].path, sizeof(r->ref.path));
		r->ref.b = &autossh_backend;
		r->loaded = legacy_tunnel(&v[i], name, &r->t, &e) == 0;
		sysd_legacy_state(&v[i], r->st.state, sizeof(r->st.state),
		    r->st.reason, sizeof(r->st.reason));
	}
	free(v);
	return rows;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "probe", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	const char *file = NULL;
	struct config *cf;
	struct tref *refs;
	struct row *rows;
	struct sxerr e;
	size_t nref, n = 0, i;
	char *seen;
	int ch, cflag = 0, header = 0, json = 0, names = 0, probing = 0;
	int port = 0, rc = 0;

	while ((ch = getopt_long(argc, argv, "F:HNVchjp:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'F':
			file = optarg;
			break;
		case 'H':
			header = 1;
			break;
		case 'N':
			names = 1;
			break;
		case 'P':
			probing = 1;
			break;
		case 'V':
			printf("ssh-tunnel-ls scitex-ssh %s\n", VERSION);
			return out_close(stdout) == -1 ? EX_OSERR : 0;
		case 'c':
			cflag = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'j':
			json = 1;
			break;
		case 'p':
			if (host_parse_port(optarg, &port, &e) == -1)
				errx(e.ex, "-p: %s", e.msg);
			break;
		case '?':
		default:
			usage(stderr, EX_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (cflag + json + names + probing > 1)
		usage(stderr, EX_USAGE);
	for (i = 0; i < (size_t)argc; i++)
		if (host_valid_name(argv[i], &e) == -1)
			errx(e.ex, "%s", e.msg);

	if (config_open(file, &cf, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (backend_list(cf, &refs, &nref, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if ((rows = calloc(nref + 1, sizeof(*rows))) == NULL ||
	    (seen = calloc((size_t)argc + 1, 1)) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < nref; i++) {
		struct row *r = &rows[n];

		if (!wanted(refs[i].name, argc, argv, seen))
			continue;
		r->ref = refs[i];
		if (backend_load(cf, &r->ref, &r->t, &e) == 0)
			r->loaded = 1;
		else {
			warnx("%s", e.msg);
			rc = 1;
		}
		if (port != 0 && !has_port(r, port))
			continue;
		backend_status(&r->ref, &r->st);
		n++;
	}
	rows = add_legacy(rows, &n, argc, argv, seen, port);
	for (i = 0; i < (size_t)argc; i++)
		if (!seen[i]) {
			warnx("%s: no such tunnel", argv[i]);
			rc = 1;
		}
	if (names) {
		for (i = 0; i < n; i++)
			puts(rows[i].ref.name);
	} else if (json)
		print_json(rows, n);
	else if (cflag)
		rc |= client_blocks(rows, n);
	else if (probing) {
		for (i = 0; i < n; i++)
			rc |= probe(&rows[i]);
	} else
		print_table(rows, n, header || isatty(STDOUT_FILENO));
	if (!probing && !names && !cflag)
		for (i = 0; i < n; i++)
			if (strcmp(rows[i].st.state, "up") != 0)
				rc = 1;
	free(rows);
	free(refs);
	free(seen);
	config_free(cf);
	if (out_close(stdout) == -1)
		errx(EX_OSERR, "stdout: write error");
	return rc;
}
