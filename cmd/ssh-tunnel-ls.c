/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-ls: the tunnels, their live state, an end-to-end probe, and
 * the ssh_config block a collaborator needs.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "lifecycle.h"
#include "out.h"
#include "tunnel.h"

#define NCOL		9

static void __attribute__((noreturn))
usage(FILE *fp, int ex)
{
	fprintf(fp, "usage: ssh-tunnel-ls [-cHjNqv] [-F config] [-p port] "
	    "[--probe] [name ...]\n");
	exit(out_usage_status(fp, ex));
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
print_table(const struct lc_row *rows, size_t n, int header)
{
	static const char *const heads[NCOL] = { "NAME", "BACKEND", "STATE",
	    "PORT", "BASTION", "PID", "UPTIME", "RESTARTS", "REASON" };
	char port[16], bast[512], pid[24], up[32], rs[16];
	const char *cell[NCOL];
	struct out_table *tb;
	size_t i;

	if ((tb = out_table_new(NCOL, heads)) == NULL)
		err(EX_OSERR, "table");
	for (i = 0; i < n; i++) {
		const struct lc_row *r = &rows[i];

		snprintf(port, sizeof(port), "%d", lc_row_port(r));
		lc_row_bastion(r, bast, sizeof(bast));
		snprintf(pid, sizeof(pid), "%ld", (long)r->st.pid);
		if (strcmp(r->st.state, "up") == 0)
			human(lc_row_uptime(r), up, sizeof(up));
		else
			strlcpy(up, "-", sizeof(up));
		snprintf(rs, sizeof(rs), "%u", r->st.restarts);
		cell[0] = r->ref.name;
		cell[1] = r->ref.b->name;
		cell[2] = r->st.state;
		cell[3] = lc_row_port(r) ? port : "-";
		cell[4] = bast[0] ? bast : "-";
		cell[5] = r->st.pid ? pid : "-";
		cell[6] = up;
		cell[7] = rs;
		cell[8] = r->st.reason[0] ? r->st.reason : "-";
		if (out_table_add(tb, cell) == -1)
			err(EX_OSERR, "table");
	}
	out_table_print(tb, stdout, isatty(STDOUT_FILENO), header);
	out_table_free(tb);
}

static void
print_json(const struct lc_row *rows, size_t n)
{
	char bast[512];
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		const struct lc_row *r = &rows[i];

		lc_row_bastion(r, bast, sizeof(bast));
		printf("%s{\"name\":", i ? "," : "");
		out_json_str(stdout, r->ref.name);
		printf(",\"backend\":");
		out_json_str(stdout, r->ref.b->name);
		printf(",\"state\":");
		out_json_str(stdout, r->st.state);
		printf(",\"port\":%d,\"bastion\":", lc_row_port(r));
		out_json_str(stdout, bast[0] ? bast : NULL);
		printf(",\"pid\":%ld,\"uptime\":%lld,\"restarts\":%u,"
		    "\"reason\":", (long)r->st.pid, lc_row_uptime(r), r->st.restarts);
		out_json_str(stdout, r->st.reason[0] ? r->st.reason : NULL);
		putchar('}');
	}
	puts("]");
}

/* --probe: one line, verified or why not. */
static int
probe(const struct lc_row *r)
{
	char buf[512];
	int rc;

	if ((rc = lc_row_probe(r, buf, sizeof(buf))) == -1)
		err(EX_OSERR, "probe");
	if (rc == 0)
		printf("%s\tverified\t%s\n", r->ref.name, buf);
	else
		printf("%s\tnot verified: %s\n", r->ref.name, buf);
	return rc;
}

static int
client_blocks(const struct lc_row *rows, size_t n)
{
	char buf[2048], bast[512];
	struct sxerr e;
	size_t i, bi;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (!rows[i].loaded)
			continue;
		bi = lc_row_bastion(&rows[i], bast, sizeof(bast));
		if (tunnel_client_block(rows[i].t, bi, buf, sizeof(buf),
		    &e) == -1) {
			warnx("%s", e.msg);
			rc = 1;
			continue;
		}
		printf("%s%s", i ? "\n" : "", buf);
	}
	return rc;
}

/* What to print: -c, -j, -N, --probe, else the table. */
enum how { TABLE, BLOCKS, JSON, NAMES, PROBE };

/* The rows as asked; the exit status (1: a row not up, not verified). */
static int
show(const struct lc_rows *rows, enum how how, int header)
{
	size_t i;
	int rc = rows->bad;

	if (how == NAMES) {
		for (i = 0; i < rows->n; i++)
			puts(rows->v[i].ref.name);
		return rc;
	}
	if (how == BLOCKS)
		return rc | client_blocks(rows->v, rows->n);
	if (how == PROBE) {
		for (i = 0; i < rows->n; i++)
			rc |= probe(&rows->v[i]);
		return rc;
	}
	if (how == JSON)
		print_json(rows->v, rows->n);
	else
		print_table(rows->v, rows->n, header || isatty(STDOUT_FILENO));
	for (i = 0; i < rows->n; i++)
		if (strcmp(rows->v[i].st.state, "up") != 0)
			rc = 1;
	return rc;
}

static void
set_how(enum how *how, enum how want)
{
	if (*how != TABLE && *how != want)
		usage(stderr, EX_USAGE);
	*how = want;
}

/* The rows of the tunnels sel names, shown as asked; the exit status. */
static int
list(const struct lc_ctx *c, const struct lc_sel *sel, enum how how,
    int header)
{
	struct lc_rows rows;
	struct config *cf;
	struct sxerr e;
	size_t i;
	int rc;

	for (i = 0; i < sel->nnames; i++)
		if (tunnel_valid_name(sel->names[i], &e) == -1)
			errx(e.ex, "%s", e.msg);
	if (config_open(c->config, &cf, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (lc_list(c, cf, sel, &rows, &e) == -1)
		errx(e.ex, "%s", e.msg);
	rc = show(&rows, how, header);
	free(rows.v);
	config_free(cf);
	if (out_close(stdout) == -1)
		errx(EX_OSERR, "stdout: write error");
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "probe", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	/* The library's warnings: a definition that does not load, a name. */
	struct lc_ctx c = { .note = out_note };
	struct lc_sel sel = { NULL, 0, 0, 0, 0 };
	struct sxerr e;
	enum how how = TABLE;
	int ch, header = 0, quiet = 0, verbose = out_debug_env();

	while ((ch = getopt_long(argc, argv, "cF:HhjNp:qVv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': set_how(&how, BLOCKS); break;
		case 'F': c.config = optarg; break;
		case 'H': header = 1; break;
		case 'j': set_how(&how, JSON); break;
		case 'N': set_how(&how, NAMES); break;
		case 'P': set_how(&how, PROBE); break;
		case 'p':
			if (host_parse_port(optarg, &sel.port, &e) == -1)
				errx(e.ex, "-p: %s", e.msg);
			break;
		default:	/* -h, -V, -q, -v, or a usage error */
			out_flag(ch, "ssh-tunnel-ls", usage, &quiet, &verbose);
		}
	}
	c.quiet = quiet;
	c.verbose = verbose;
	argc -= optind;
	argv += optind;
	sel.names = argv;
	sel.nnames = (size_t)argc;
	/* Only the client blocks and the probe need whole definitions. */
	sel.defs = how == BLOCKS || how == PROBE;
	return list(&c, &sel, how, header);
}
