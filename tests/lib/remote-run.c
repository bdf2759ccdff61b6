/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * Test only, never installed: drives lib/remote.c, linked unchanged, from
 * the command line, so that the bats suite runs each primitive against
 * the throwaway sshd before the MCP tools offer them. Prints one JSON
 * object: the job's results, and its pid (also its process group) so
 * that a test can show nothing of it is left.
 *
 * usage: remote-run [-dpr] [-c cap] [-F config] [-t ms] [-x exclude] ...
 *            op host [operand ...]
 * op: exec (operands: argv words), sh (one command string), probe
 * (program names), copy-to and push (local remote), copy-from and pull
 * (remote local).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "policy.h"
#include "remote.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: remote-run [-dpr] [-c cap] [-F config] [-t ms] "
	    "[-x exclude] ... op host [operand ...]\n");
	exit(64);
}

static json_t *
str(const char *s)
{
	json_t *j = json_stringn(s != NULL ? s : "", s != NULL ?
	    strlen(s) : 0);

	return j != NULL ? j : json_string("(not UTF-8)");
}

int
main(int argc, char *argv[])
{
	const char *config = NULL, *ex[REMOTE_EXCLUDES_MAX + 1];
	struct remote_req r;
	struct policy *p;
	struct sxerr e;
	struct job j;
	json_t *o;
	size_t nex = 0;
	int ch, limit = 10000;
	long cap = 1 << 20;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt(argc, argv, "+c:dF:prt:x:")) != -1) {
		switch (ch) {
		case 'c':
			cap = atol(optarg);
			break;
		case 'd':
			r.delete = 1;
			break;
		case 'F':
			config = optarg;
			break;
		case 'p':
			r.tty = 1;
			break;
		case 'r':
			r.recursive = 1;
			break;
		case 't':
			limit = atoi(optarg);
			break;
		case 'x':
			if (nex == REMOTE_EXCLUDES_MAX + 1)
				usage();
			ex[nex++] = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	r.host = argv[1];
	r.exclude = ex;
	r.nexclude = nex;
	if (strcmp(argv[0], "exec") == 0) {
		r.op = REMOTE_EXEC;
		r.argv = (const char *const *)argv + 2;
		r.argc = argc - 2;
	} else if (strcmp(argv[0], "sh") == 0 && argc == 3) {
		r.op = REMOTE_EXEC;
		r.command = argv[2];
	} else if (strcmp(argv[0], "probe") == 0) {
		r.op = REMOTE_PROBE;
		r.names = (const char *const *)argv + 2;
		r.nnames = argc - 2;
	} else if (argc == 4) {
		if (strcmp(argv[0], "copy-to") == 0)
			r.op = REMOTE_COPY_TO;
		else if (strcmp(argv[0], "copy-from") == 0)
			r.op = REMOTE_COPY_FROM;
		else if (strcmp(argv[0], "push") == 0)
			r.op = REMOTE_SYNC_PUSH;
		else if (strcmp(argv[0], "pull") == 0)
			r.op = REMOTE_SYNC_PULL;
		else
			usage();
		r.local = argv[r.op == REMOTE_COPY_TO ||
		    r.op == REMOTE_SYNC_PUSH ? 2 : 3];
		r.remote = argv[r.op == REMOTE_COPY_TO ||
		    r.op == REMOTE_SYNC_PUSH ? 3 : 2];
	} else
		usage();

	if (policy_open(config, &p, &e) == -1)
		errx(e.ex, "%s", e.msg);
	if (remote_start(&r, p, limit, (size_t)cap, &j, &e) == -1)
		errx(e.ex, "%s", e.msg);
	/* The pid first, for a test that looks for it while it runs. */
	fprintf(stderr, "remote-run: pid %d\n", (int)j.pid);
	o = json_pack("{s:i}", "pid", (int)j.pid);
	if (job_wait(&j, &e) == -1)
		errx(e.ex, "%s", e.msg);
	json_object_set_new(o, "exit_code", json_integer(job_exit_code(&j)));
	json_object_set_new(o, "signal", json_integer(job_signal(&j)));
	json_object_set_new(o, "timed_out", json_boolean(j.timed_out));
	json_object_set_new(o, "reached", json_boolean(remote_reached(&j)));
	json_object_set_new(o, "stdout", str(j.out.buf));
	json_object_set_new(o, "stdout_truncated",
	    json_boolean(j.out.truncated));
	json_object_set_new(o, "stdout_bytes", json_integer(j.out.len));
	json_object_set_new(o, "stderr", str(j.err.buf));
	json_object_set_new(o, "stderr_truncated",
	    json_boolean(j.err.truncated));
	json_object_set_new(o, "ms", json_integer(j.ms));
	if (r.op == REMOTE_PROBE) {
		json_t *found = json_object();
		char path[4096];
		size_t i;

		for (i = 0; i < r.nnames; i++)
			json_object_set_new(found, r.names[i],
			    remote_probe_found(j.out.buf != NULL ? j.out.buf :
			    "", r.names[i], path, sizeof(path)) ?
			    json_string(path) : json_null());
		json_object_set_new(o, "found", found);
	}
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	job_free(&j);
	policy_free(p);
	return ferror(stdout) || fflush(stdout) == EOF ? 71 : 0;
}
