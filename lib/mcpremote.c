/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "mcpremote.h"
#include "remote.h"

#define LIMIT_DEFAULT	60000		/* ms */
#define CAP_DEFAULT	1048576		/* bytes of stdout, of stderr */

static mcptool_fn run_exec, run_probe, run_copy_to, run_copy_from, run_sync;

#define HOST_ARG \
	"\"host\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":300," \
	"\"description\":\"[user@]host[:port], an IP address, or a Host " \
	"alias of ~/.ssh/config. The policy is asked about this name and " \
	"about the host ssh reaches through it; both must allow.\"}"
#define LIMIT_ARG \
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":100," \
	"\"maximum\":3600000,\"default\":60000,\"description\":\"Time " \
	"limit in milliseconds; then the local ssh and everything it " \
	"started are killed and timed_out is true\"}"
#define CAP_ARG \
	"\"max_output_bytes\":{\"type\":\"integer\",\"minimum\":0," \
	"\"maximum\":16777216,\"default\":1048576,\"description\":\"How " \
	"much of stdout, and of stderr, is kept; the rest is read and " \
	"dropped (the command is not stopped) and flagged truncated\"}"
#define LOCAL_ARG(what) \
	"\"local\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096," \
	"\"description\":\"" what " on this machine; not starting with " \
	"'-'\"}"
#define REMOTE_ARG(what) \
	"\"remote\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096," \
	"\"description\":\"" what " on the host: A-Z a-z 0-9 and " \
	"._/+@%,=:- only, ~ first for the home directory; relative to the " \
	"home directory\"}"
#define NULLABLE(t) "{\"anyOf\":[{\"type\":\"" t "\"},{\"type\":\"null\"}]"
#define RESULT_PROPS \
	"\"host\":{\"type\":\"string\",\"description\":\"The host, " \
	"canonical\"}," \
	"\"ok\":{\"type\":\"boolean\",\"description\":\"Exit code 0\"}," \
	"\"exit_code\":" NULLABLE("integer") ",\"description\":\"The exit " \
	"code; 255 is ssh's own failure; null when a signal or the time " \
	"limit ended it\"}," \
	"\"reached\":{\"type\":\"boolean\",\"description\":\"ssh reached " \
	"the host (the exit code is not ssh's 255)\"}," \
	"\"timed_out\":{\"type\":\"boolean\"}," \
	"\"stdout\":{\"type\":\"string\"}," \
	"\"stdout_truncated\":{\"type\":\"boolean\"}," \
	"\"stderr\":{\"type\":\"string\"}," \
	"\"stderr_truncated\":{\"type\":\"boolean\"}," \
	"\"duration_ms\":{\"type\":\"integer\"}"
#define RESULT_REQUIRED \
	"\"required\":[\"host\",\"ok\",\"exit_code\",\"reached\"," \
	"\"timed_out\",\"stdout\",\"stdout_truncated\",\"stderr\"," \
	"\"stderr_truncated\",\"duration_ms\"]"
#define RESULT_SCHEMA \
	"\"outputSchema\":{\"type\":\"object\",\"properties\":{" \
	RESULT_PROPS "}," RESULT_REQUIRED "}"
#define WRITES \
	"\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true," \
	"\"idempotentHint\":false,\"openWorldHint\":true}"

const struct mcptool mcpremote_tools[] = {
	{ "exec",
	  "{\"title\":\"Run a command on a host\","
	  "\"description\":\"Run one command on a remote host over ssh, in "
	  "batch mode (never a prompt, no shared connection, none of the "
	  "host's configured forwards), with a time limit and an output "
	  "cap, as scitex-ssh 1.0's exec_remote. Give argv (words, passed "
	  "exactly, quoted for the remote shell) or command (one string the "
	  "remote shell interprets: pipes, redirections, a script). Policy "
	  "feature: exec. Returns the exit code, stdout and stderr, and "
	  "whether ssh reached the host or the time limit ended it. A "
	  "non-zero exit code is a result, not an error.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  HOST_ARG ","
	  "\"argv\":{\"type\":\"array\",\"maxItems\":256,\"items\":{"
	  "\"type\":\"string\",\"maxLength\":4096},\"description\":\"The "
	  "command as words, the first the program; no control characters. "
	  "Give argv or command, not both\"},"
	  "\"command\":{\"type\":\"string\",\"minLength\":1,"
	  "\"maxLength\":65536,\"description\":\"The command for the "
	  "remote login shell, as ssh host 'command' runs it\"},"
	  LIMIT_ARG "," CAP_ARG ","
	  "\"tty\":{\"type\":\"boolean\",\"default\":false,\"description\":"
	  "\"Run on a terminal (ssh -tt): the remote command then gets "
	  "SIGHUP when the time limit ends it, but stderr comes in stdout "
	  "and lines end in CRLF. Without it a command that neither reads "
	  "nor writes may outlive the limit on the host\"}},"
	  "\"required\":[\"host\"],\"additionalProperties\":false},"
	  RESULT_SCHEMA "," WRITES "}",
	  run_exec },
	{ "probe_host",
	  "{\"title\":\"Probe a host\","
	  "\"description\":\"Whether a host is reachable over ssh (batch "
	  "mode), and which of the named programs it has on its PATH "
	  "(command -v, one ssh connection), as scitex-ssh 1.0's "
	  "probe_remote. Policy feature: exec.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  HOST_ARG ","
	  "\"programs\":{\"type\":\"array\",\"maxItems\":64,\"items\":{"
	  "\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
	  "\"pattern\":\"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}$\"},"
	  "\"description\":\"Program names to look for, e.g. rsync, "
	  "python3, git\"},"
	  LIMIT_ARG "},"
	  "\"required\":[\"host\"],\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"host\":{\"type\":\"string\"},"
	  "\"reachable\":{\"type\":\"boolean\"},"
	  "\"programs\":{\"type\":\"object\",\"additionalProperties\":"
	  NULLABLE("string") "},\"description\":\"Each name asked: its "
	  "path on the host, or null when it has none\"},"
	  "\"timed_out\":{\"type\":\"boolean\"},"
	  "\"stderr\":{\"type\":\"string\"},"
	  "\"duration_ms\":{\"type\":\"integer\"}},"
	  "\"required\":[\"host\",\"reachable\",\"programs\",\"timed_out\","
	  "\"stderr\",\"duration_ms\"]},"
	  "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":true}}",
	  run_probe },
	{ "copy_to",
	  "{\"title\":\"Copy to a host\","
	  "\"description\":\"Copy a local file (or a directory, with "
	  "recursive) to a host with scp in batch mode, as scitex-ssh 1.0's "
	  "copy_to. scp speaks SFTP: the remote path is not passed through "
	  "a remote shell. Policy feature: copy.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  HOST_ARG "," LOCAL_ARG("The file or directory") ","
	  REMOTE_ARG("Where it goes") ","
	  "\"recursive\":{\"type\":\"boolean\",\"default\":false},"
	  LIMIT_ARG "},"
	  "\"required\":[\"host\",\"local\",\"remote\"],"
	  "\"additionalProperties\":false},"
	  RESULT_SCHEMA "," WRITES "}",
	  run_copy_to },
	{ "copy_from",
	  "{\"title\":\"Copy from a host\","
	  "\"description\":\"Copy a file (or a directory, with recursive) "
	  "from a host to this machine with scp in batch mode, as "
	  "scitex-ssh 1.0's copy_from. Policy feature: copy.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  HOST_ARG "," REMOTE_ARG("The file or directory") ","
	  LOCAL_ARG("Where it goes") ","
	  "\"recursive\":{\"type\":\"boolean\",\"default\":false},"
	  LIMIT_ARG "},"
	  "\"required\":[\"host\",\"local\",\"remote\"],"
	  "\"additionalProperties\":false},"
	  RESULT_SCHEMA "," WRITES "}",
	  run_copy_from },
	{ "sync",
	  "{\"title\":\"Sync a directory with a host\","
	  "\"description\":\"rsync -a a directory to (push) or from (pull) "
	  "a host, in batch mode, as scitex-ssh 1.0's sync_dir. A trailing "
	  "/ on the source copies its contents. Nothing is deleted at the "
	  "destination unless delete is true. Policy feature: copy.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  HOST_ARG ","
	  "\"direction\":{\"type\":\"string\",\"enum\":[\"push\",\"pull\"],"
	  "\"description\":\"push: local to the host; pull: the host to "
	  "local\"},"
	  LOCAL_ARG("The directory") "," REMOTE_ARG("The directory") ","
	  "\"exclude\":{\"type\":\"array\",\"maxItems\":64,\"items\":{"
	  "\"type\":\"string\",\"minLength\":1,\"maxLength\":255},"
	  "\"description\":\"rsync --exclude patterns (printable ASCII, "
	  "not starting with + - or !)\"},"
	  "\"delete\":{\"type\":\"boolean\",\"default\":false,"
	  "\"description\":\"Delete what the source does not have\"},"
	  LIMIT_ARG "},"
	  "\"required\":[\"host\",\"direction\",\"local\",\"remote\"],"
	  "\"additionalProperties\":false},"
	  RESULT_SCHEMA "," WRITES "}",
	  run_sync },
};

const size_t mcpremote_ntools = sizeof(mcpremote_tools) /
    sizeof(mcpremote_tools[0]);

static int
int_arg(const json_t *args, const char *key, int dflt)
{
	const json_t *v = json_object_get(args, key);

	return v != NULL ? (int)json_integer_value(v) : dflt;
}

/* The strings of an array argument (checked by the schema), or NULL. */
static const char **
strings(const json_t *a, size_t *n)
{
	const char **v;
	json_t *x;
	size_t i;

	*n = json_array_size(a);
	if ((v = calloc(*n + 1, sizeof(*v))) == NULL)
		return NULL;
	json_array_foreach(a, i, x)
		v[i] = json_string_value(x);
	return v;
}

/*
 * Check, gate and run s->r under the policy (the session's, put in s->p
 * while it is in use), with the limits s gives, waiting through the
 * session for ssh -G and then for the job; the job is done when this
 * returns 0. A cancel ends either and is an error.
 */
static int
run_job(const struct mcptool_ctx *m, struct remote_start *s,
    const struct mcpwait *w, struct job *j, struct sxerr *e)
{
	struct config *cf;
	struct policy *p;
	char msg[128];
	int rc;

	memset(j, 0, sizeof(*j));
	if (mcptool_policy(m, &cf, &p, e) == -1)
		return -1;
	s->p = p;
	snprintf(msg, sizeof(msg), "%.100s: resolving", s->r->host);
	if ((rc = remote_start_resolve(s, e)) == 0 &&
	    (rc = mcptool_job(w, &s->rj, msg, NULL, e)) == -1)
		job_free(&s->rj);
	if (rc == 0)
		rc = remote_start_job(s, j, e);
	s->p = NULL;
	policy_free(p);
	config_free(cf);
	if (rc == -1)
		return -1;
	snprintf(msg, sizeof(msg), "%.100s: running", s->r->host);
	return mcptool_job(w, j, msg, NULL, e);
}

/* The result of a finished job, as RESULT_SCHEMA says. */
static json_t *
result(const struct remote_target *t, const struct job *j)
{
	int x = job_exit_code(j);

	return json_pack("{s:s, s:b, s:o, s:b, s:b, s:o, s:b, s:o, s:b, s:I}",
	    "host", t->dest.host, "ok", x == 0,
	    "exit_code", x >= 0 ? json_integer(x) : json_null(),
	    "reached", remote_reached(j), "timed_out", j->timed_out,
	    "stdout", jsonrpc_text(j->out.buf != NULL ? j->out.buf : ""),
	    "stdout_truncated", j->out.truncated,
	    "stderr", jsonrpc_text(j->err.buf != NULL ? j->err.buf : ""),
	    "stderr_truncated", j->err.truncated,
	    "duration_ms", (json_int_t)j->ms);
}

/* Run r and make its result: the one path of every remote tool. */
static int
run_result(const struct mcptool_ctx *m, const struct remote_req *r,
    json_t *args, const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	struct remote_start s = { .r = r,
	    .limit_ms = int_arg(args, "timeout_ms", LIMIT_DEFAULT),
	    .cap = (size_t)int_arg(args, "max_output_bytes", CAP_DEFAULT) };
	struct remote_target t;
	struct job j;
	int rc = -1;

	if (remote_check(r, &t, e) == -1)
		return -1;
	if (run_job(m, &s, w, &j, e) == 0)
		rc = mcptool_result(res, result(&t, &j), e);
	job_free(&j);
	return rc;
}

static int
run_exec(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	struct remote_req r;
	const char **argv = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.op = REMOTE_EXEC;
	r.host = mcptool_str(args, "host", NULL);
	r.command = mcptool_str(args, "command", NULL);
	r.tty = json_is_true(json_object_get(args, "tty"));
	if (json_object_get(args, "argv") != NULL &&
	    (r.argv = argv = strings(json_object_get(args, "argv"),
	    &r.argc)) == NULL)
		return sxerr_set(e, EX_OSERR, "out of memory");
	rc = run_result(m, &r, args, w, res, e);
	free(argv);
	return rc;
}

static int
run_probe(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	struct remote_target t;
	struct remote_req r;
	struct remote_start s = { .r = &r, .cap = 65536 };
	struct job j;
	const char **names;
	char path[4096];
	json_t *found;
	size_t i;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.op = REMOTE_PROBE;
	r.host = mcptool_str(args, "host", NULL);
	if ((r.names = names = strings(json_object_get(args, "programs"),
	    &r.nnames)) == NULL)
		return sxerr_set(e, EX_OSERR, "out of memory");
	s.limit_ms = int_arg(args, "timeout_ms", LIMIT_DEFAULT);
	if (remote_check(&r, &t, e) == -1 || run_job(m, &s, w, &j, e) == -1) {
		free(names);
		return -1;
	}
	if ((found = json_object()) != NULL)
		for (i = 0; i < r.nnames; i++)
			json_object_set_new(found, names[i],
			    remote_reached(&j) && remote_probe_found(
			    j.out.buf != NULL ? j.out.buf : "", names[i], path,
			    sizeof(path)) ? jsonrpc_text(path) : json_null());
	rc = mcptool_result(res, json_pack("{s:s, s:b, s:o, s:b, s:o, s:I}",
	    "host", t.dest.host, "reachable", remote_reached(&j), "programs",
	    found, "timed_out", j.timed_out, "stderr", jsonrpc_text(j.err.buf
	    != NULL ? j.err.buf : ""), "duration_ms", (json_int_t)j.ms), e);
	job_free(&j);
	free(names);
	return rc;
}

/* copy_to and copy_from: the same arguments, the other way. */
static int
run_copy(const struct mcptool_ctx *m, enum remote_op op, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	struct remote_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.host = mcptool_str(args, "host", NULL);
	r.local = mcptool_str(args, "local", NULL);
	r.remote = mcptool_str(args, "remote", NULL);
	r.recursive = json_is_true(json_object_get(args, "recursive"));
	return run_result(m, &r, args, w, res, e);
}

static int
run_copy_to(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	return run_copy(m, REMOTE_COPY_TO, args, w, res, e);
}

static int
run_copy_from(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	return run_copy(m, REMOTE_COPY_FROM, args, w, res, e);
}

static int
run_sync(const struct mcptool_ctx *m, json_t *args, const struct mcpwait *w,
    json_t **res, struct sxerr *e)
{
	struct remote_req r;
	const char **ex;
	int rc;

	memset(&r, 0, sizeof(r));
	r.op = strcmp(mcptool_str(args, "direction", ""), "pull") == 0 ?
	    REMOTE_SYNC_PULL : REMOTE_SYNC_PUSH;
	r.host = mcptool_str(args, "host", NULL);
	r.local = mcptool_str(args, "local", NULL);
	r.remote = mcptool_str(args, "remote", NULL);
	r.delete = json_is_true(json_object_get(args, "delete"));
	if ((r.exclude = ex = strings(json_object_get(args, "exclude"),
	    &r.nexclude)) == NULL)
		return sxerr_set(e, EX_OSERR, "out of memory");
	rc = run_result(m, &r, args, w, res, e);
	free(ex);
	return rc;
}
