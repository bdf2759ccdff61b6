/* SPDX-License-Identifier: AGPL-3.0-only */
#include <err.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "out.h"
#include "policy.h"
#include "sxerr.h"

static void __attribute__((noreturn))
usage(FILE *fp, int ex)
{
	fprintf(fp, "usage: %s [-qv] [-F config]\n", getprogname());
	exit(out_usage_status(fp, ex));
}

/* The absolute path of this program; -1 when the kernel will not say. */
static int
self_path(char *buf, size_t sz)
{
	ssize_t n;

	if ((n = readlink("/proc/self/exe", buf, sz - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * The supervisor tunnel_setup starts is ssh-tunnel-up -f: the one
 * installed with this program, so that a build tree or a second
 * installation uses its own; else whatever PATH finds.
 */
static const char *
tools_dir(char *buf, size_t sz)
{
	char up[PATH_MAX + 16];
	char *slash;

	if (self_path(buf, sz) == -1 || (slash = strrchr(buf, '/')) == NULL)
		return NULL;
	*slash = '\0';
	snprintf(up, sizeof(up), "%s/ssh-tunnel-up", buf);
	return access(up, X_OK) == 0 ? buf : NULL;
}

/*
 * -h: the usage line, then what to paste into an MCP client's settings to
 * run this very binary (clients start servers with a bare environment, so
 * the absolute path is the one that works).
 */
static void __attribute__((noreturn))
help(const char *config)
{
	char self[PATH_MAX];
	const char *cmd = getprogname();
	json_t *snip;

	if (self_path(self, sizeof(self)) == 0)
		cmd = self;
	printf("usage: %s [-qv] [-F config]\n\n"
	    "An MCP server on stdin and stdout. To register it with an MCP "
	    "client, add to its\nsettings (mcpServers in .mcp.json, "
	    "claude_desktop_config.json, and the like):\n\n", getprogname());
	snip = json_pack("{s:{s:{s:s, s:[]}}}", "mcpServers", "scitex-ssh",
	    "command", cmd, "args");
	if (snip != NULL && config != NULL)
		json_array_extend(json_object_get(json_object_get(
		    json_object_get(snip, "mcpServers"), "scitex-ssh"),
		    "args"), json_pack("[s, s]", "-F", config));
	if (snip == NULL || json_dumpf(snip, stdout, JSON_INDENT(2)) == -1)
		errx(EX_DATAERR, "%s: not valid UTF-8", cmd);
	putchar('\n');
	json_decref(snip);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	exit(0);
}

/*
 * The policy is read anew on every call, so a broken file is only noted
 * here, for whoever reads the client's log: the server still starts.
 */
static int
check_config(const char *config, struct sxerr *e)
{
	struct config *cf;
	struct policy *p;

	if (config_open(config, &cf, e) == -1)
		return -1;
	if (policy_load(cf, &p, e) == -1) {
		config_free(cf);
		return -1;
	}
	policy_free(p);
	config_free(cf);
	return 0;
}

/*
 * Blocking stdin and stdout: a client may hand us pipes it made
 * non-blocking, and the loop reads and writes one message at a time.
 */
static void
blocking(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) != -1 && (fl & O_NONBLOCK) != 0 &&
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		err(EX_OSERR, "fcntl");
}

/* One message, one line, flushed: the client waits for it. */
static int
send_msg(void *arg, const char *msg)
{
	fputs(msg, stdout);
	putchar('\n');
	if (fflush(stdout) == EOF || ferror(stdout))
		err(EX_OSERR, "stdout");
	return 0;
}

/*
 * Messages from stdin answered on stdout until EOF; the log on stderr.
 * What came in while a tool waited (the session kept it) goes first.
 */
static void
serve(struct mcp *m, int quiet, int verbose)
{
	struct jsonrpc_reader rd;
	struct sxerr e;
	const char *note;
	char *line, *resp, *kept;
	size_t len;
	int r, iserr;

	if (jsonrpc_reader_init(&rd, &e) == -1)
		errx(e.ex, "%s", e.msg);
	mcp_io(m, &rd, STDIN_FILENO, send_msg, NULL);
	for (;;) {
		kept = NULL;
		if (mcp_queued(m, &kept, &len) == 1) {
			line = kept;
			r = JSONRPC_LINE;
		} else if ((r = jsonrpc_read(&rd, STDIN_FILENO, &line, &len,
		    &e)) == JSONRPC_EOF)
			break;
		if (r == -1)
			errx(e.ex, "%s", e.msg);
		if (r == JSONRPC_TOOLONG)
			r = mcp_oversized(m, &resp);
		else if (len == 0 || strspn(line, " \t") == len) {
			free(kept);
			continue;	/* blank lines are no messages */
		} else
			r = mcp_handle(m, line, len, &resp);
		free(kept);
		if (r == -1)
			errx(EX_OSERR, "out of memory");
		note = mcp_note(m, &iserr);
		if (verbose || (iserr && !quiet))
			warnx("%s", note);
		if (resp != NULL)
			send_msg(NULL, resp);
		free(resp);
	}
	jsonrpc_reader_free(&rd);
}

int
main(int argc, char *argv[])
{
	struct sxerr e;
	struct mcp *m;
	const char *config = NULL;
	char dir[PATH_MAX];
	int ch, quiet = 0, verbose = 0;

	if (out_stdfd() == -1)
		err(EX_OSERR, "/dev/null");
	verbose = out_debug_env();
	while ((ch = getopt(argc, argv, "F:hqVv")) != -1) {
		switch (ch) {
		case 'F': config = optarg; break;
		case 'h':
			help(config);
		default:	/* -V, -q, -v, or a usage error */
			out_flag(ch, "ssh-tunnel-mcp", usage, &quiet,
			    &verbose);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 0)
		usage(stderr, EX_USAGE);

	if (check_config(config, &e) == -1 && !quiet)
		warnx("%s", e.msg);
	if (isatty(STDIN_FILENO) && !quiet)
		warnx("reading JSON-RPC messages, one a line, on stdin; "
		    "-h shows how to register with an MCP client");
	blocking(STDIN_FILENO);
	blocking(STDOUT_FILENO);
	if ((m = mcp_new(config, tools_dir(dir, sizeof(dir)))) == NULL)
		err(EX_OSERR, "mcp_new");
	serve(m, quiet, verbose);
	mcp_free(m);
	if (out_close(stdout) == -1)
		err(EX_OSERR, "stdout");
	return 0;
}
