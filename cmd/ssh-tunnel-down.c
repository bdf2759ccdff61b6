/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * ssh-tunnel-down: stop a tunnel through its backend and remove every
 * file it owns. Signals only a supervisor proven to be ours.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "host.h"
#include "lifecycle.h"
#include "out.h"
#include "tunnel.h"

static int quiet, verbose;

static void __attribute__((noreturn))
usage(FILE *fp, int ex)
{
	fprintf(fp, "usage: ssh-tunnel-down [-qv] [-F config] "
	    "[-a | -p port | name ...]\n");
	exit(out_usage_status(fp, ex));
}

int
main(int argc, char *argv[])
{
	struct lc_ctx c = { .note = out_note };
	struct lc_sel sel;
	struct config *cf;
	struct sxerr e;
	int ch, rc, j;

	memset(&sel, 0, sizeof(sel));
	verbose = out_debug_env();
	while ((ch = getopt(argc, argv, "aF:hp:qVv")) != -1) {
		switch (ch) {
		case 'a': sel.all = 1; break;
		case 'F': c.config = optarg; break;
		case 'p':
			if (host_parse_port(optarg, &sel.port, &e) == -1)
				errx(e.ex, "-p: %s", e.msg);
			break;
		default:	/* -h, -V, -q, -v, or a usage error */
			out_flag(ch, "ssh-tunnel-down", usage, &quiet,
			    &verbose);
		}
	}
	argc -= optind;
	argv += optind;
	/* The library's messages: -q keeps only errors, -v adds removals. */
	c.quiet = quiet;
	c.verbose = verbose;
	if ((sel.all + (sel.port != 0) + (argc > 0)) != 1)
		usage(stderr, EX_USAGE);
	for (j = 0; j < argc; j++)
		if (tunnel_valid_name(argv[j], &e) == -1)
			errx(e.ex, "%s", e.msg);

	sel.names = argv;
	sel.nnames = (size_t)argc;
	if (config_open(c.config, &cf, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if ((rc = lc_remove(&c, cf, &sel, &e)) == -1)
		errx(e.ex, "%s", e.msg);
	config_free(cf);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	return rc;
}
