/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/param.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "jsonrpc.h"
#include "lifecycle.h"
#include "mcptunnel.h"
#include "now.h"
#include "out.h"
#include "policy.h"
#include "sshopt.h"
#include "tunnel.h"

/*
 * The tools. Each entry of tools/list is written once, as JSON, and its
 * inputSchema is also what arguments are checked against (check_args), so
 * that what a client is told and what the server accepts cannot drift.
 */
static mcptool_fn run_allow_check, run_tunnel_setup, run_tunnel_status,
    run_tunnel_remove;

#define NAME_SCHEMA(what) \
	"{\"type\":\"string\",\"minLength\":1,\"maxLength\":64," \
	"\"pattern\":\"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$\"," \
	"\"description\":\"" what "\"}"
#define PORT_SCHEMA(what) \
	"{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535," \
	"\"description\":\"" what "\"}"
#define OR_NULL(t, what) \
	"{\"anyOf\":[{\"type\":\"" t "\"},{\"type\":\"null\"}]," \
	"\"description\":\"" what "\"}"
#define TUNNEL_SCHEMA \
	"{\"type\":\"object\",\"description\":\"A tunnel, as ssh-tunnel-ls " \
	"-j shows it\",\"properties\":{" \
	"\"name\":{\"type\":\"string\"}," \
	"\"backend\":{\"type\":\"string\",\"enum\":[\"systemd\",\"user\"," \
	"\"daemon\",\"autossh\"],\"description\":\"What keeps it up; " \
	"autossh: a unit of scitex-ssh 1.0\"}," \
	"\"state\":{\"type\":\"string\",\"enum\":[\"up\",\"connecting\"," \
	"\"backoff\",\"stopped\",\"failed\"],\"description\":\"up: the " \
	"bastion confirmed every remote forward; connecting; backoff: " \
	"waiting before the next attempt; stopped: no supervisor runs; " \
	"failed: the supervisor died\"}," \
	"\"port\":" OR_NULL("integer", "The port on the bastion") "," \
	"\"bastion\":" OR_NULL("string", "The bastion in use") "," \
	"\"pid\":" OR_NULL("integer", "The supervisor's pid") "," \
	"\"uptime\":" OR_NULL("integer", "Seconds up") "," \
	"\"restarts\":" OR_NULL("integer", "Attempts since it started") "," \
	"\"reason\":{\"anyOf\":[{\"type\":\"string\",\"enum\":[\"auth\"," \
	"\"hostkey\",\"dns\",\"refused\",\"timeout\",\"port-busy\"," \
	"\"exited\",\"no-systemd\",\"unreadable\"]},{\"type\":\"null\"}]," \
	"\"description\":\"Why the last attempt failed; auth and hostkey " \
	"do not heal by waiting\"}}," \
	"\"required\":[\"name\",\"backend\",\"state\"]}"
#define BASTION_SCHEMA(what) \
	"{\"type\":\"string\",\"minLength\":1,\"maxLength\":300," \
	"\"description\":\"" what "\"}"
#define KEY_SCHEMA(what) \
	"{\"type\":\"string\",\"minLength\":1,\"maxLength\":4095," \
	"\"description\":\"" what "\"}"

const struct mcptool mcptunnel_tools[] = {
	{ "allow_check",
	  "{\"title\":\"Check the SSH allowlist\","
	  "\"description\":\"Ask the scitex-ssh policy whether a feature "
	  "(ssh, tunnels, or one the site defines) may be used with a host, "
	  "exactly as ssh-allow-check decides it. Returns the decision and "
	  "the rule that made it (file:line:column).\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"host\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
	  "\"description\":\"Host name, IPv4 or IPv6 address\"},"
	  "\"feature\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
	  "\"pattern\":\"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$\","
	  "\"default\":\"ssh\",\"description\":\"Feature to check; "
	  "default ssh\"}},"
	  "\"required\":[\"host\"],\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"host\":{\"type\":\"string\"},\"feature\":{\"type\":\"string\"},"
	  "\"decision\":{\"type\":\"string\",\"enum\":[\"allow\",\"deny\"]},"
	  "\"rule\":{\"type\":\"string\"}},"
	  "\"required\":[\"host\",\"feature\",\"decision\",\"rule\"]},"
	  "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false}}",
	  run_allow_check },
	{ "tunnel_setup",
	  "{\"title\":\"Set up a reverse tunnel\","
	  "\"description\":\"Make this machine reachable from anywhere "
	  "through a bastion: a reverse tunnel from here (behind NAT, a lab "
	  "workstation, an HPC login node) to a host with a public address, "
	  "kept up by systemd or a supervisor, as ssh-tunnel-up. A new "
	  "tunnel needs bastion and port; with only name, the tunnel "
	  "defined under that name is started. Gated by the policy (feature "
	  "tunnels for this machine's host name). Try dry_run first: it "
	  "shows the plan and the policy's decision and changes nothing. "
	  "The result says whether the bastion confirmed the forward (up), "
	  "the tunnel's row, and the ssh_config block for collaborators. "
	  "Not up yet is no failure: the supervisor keeps trying (follow it "
	  "with tunnel_status); a failure that waiting cannot heal (reason "
	  "auth or hostkey) is said so. A cancelled or failed call may "
	  "leave the supervisor running: tunnel_remove removes it and every "
	  "file of the tunnel.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA("Tunnel name; default: this machine's "
	  "short host name") ","
	  "\"bastion\":" BASTION_SCHEMA("The bastion: [user@]host[:port] "
	  "or a Host alias of ~/.ssh/config; default: "
	  "SCITEX_SSH_BASTION_SERVER") ","
	  "\"bastion_server\":" BASTION_SCHEMA("scitex-ssh 1.0's name for "
	  "bastion") ","
	  "\"port\":" PORT_SCHEMA("The port opened on the bastion: ssh -p "
	  "PORT bastion then reaches this machine") ","
	  "\"key\":" KEY_SCHEMA("Private key file, absolute or ~/...; "
	  "default: SCITEX_SSH_SECRET_KEY_PATH, else ssh's own") ","
	  "\"secret_key_path\":" KEY_SCHEMA("scitex-ssh 1.0's name for "
	  "key") ","
	  "\"forwards\":{\"type\":\"array\",\"maxItems\":1,\"items\":{"
	  "\"type\":\"string\",\"minLength\":1,\"maxLength\":300,"
	  "\"pattern\":\"^R [0-9]{1,5}:[^: ]+:[0-9]{1,5}$\"},"
	  "\"description\":\"At most one: R PORT:HOST:HOSTPORT (PORT is "
	  "port; no bind address), what the bastion's port reaches from "
	  "here; default R PORT:localhost:22. More forwards go in the "
	  "tunnel's tunnels.d file\"},"
	  "\"ssh_options\":{\"type\":\"array\",\"maxItems\":32,\"items\":{"
	  "\"type\":\"string\",\"minLength\":3,\"maxLength\":511},"
	  "\"description\":\"ssh options as Keyword=value, from: @OPTIONS@\"},"
	  "\"backend\":{\"type\":\"string\",\"enum\":[\"systemd\",\"user\","
	  "\"daemon\"],\"description\":\"systemd: a system unit (root); "
	  "user: a user unit; daemon: a supervisor of its own. Default: the "
	  "first that works here\"},"
	  "\"dry_run\":{\"type\":\"boolean\",\"default\":false,"
	  "\"description\":\"Show the plan and the policy's decision; change "
	  "nothing\"}},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\"},\"dry_run\":{\"type\":\"boolean\"},"
	  "\"up\":{\"type\":\"boolean\",\"description\":\"The bastion "
	  "confirmed the forward\"},"
	  "\"tunnel\":{\"anyOf\":[" TUNNEL_SCHEMA ",{\"type\":\"null\"}]},"
	  "\"client_config\":" OR_NULL("string", "The ssh_config block a "
	  "collaborator adds to reach this machine (a real run)") ","
	  "\"plan\":" OR_NULL("string", "What would be done (a dry run)") ","
	  "\"policy\":{\"anyOf\":[{\"type\":\"object\",\"properties\":{"
	  "\"decision\":{\"type\":\"string\",\"enum\":[\"allow\",\"deny\"]},"
	  "\"rule\":{\"type\":\"string\"}},\"required\":[\"decision\","
	  "\"rule\"]},{\"type\":\"null\"}],\"description\":\"The policy's "
	  "decision for this machine (a dry run)\"},"
	  "\"next\":" OR_NULL("string", "What to do when it is not up") ","
	  "\"messages\":" OR_NULL("string", "What was said along the way") "},"
	  "\"required\":[\"name\",\"dry_run\",\"up\"]},"
	  "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
	  "\"idempotentHint\":true,\"openWorldHint\":true}}",
	  run_tunnel_setup },
	{ "tunnel_status",
	  "{\"title\":\"List tunnels\","
	  "\"description\":\"The tunnels of this machine with their live "
	  "state, as ssh-tunnel-ls -j: all, or the one with the given name "
	  "or port (an error when there is none). Use it to follow a "
	  "tunnel_setup that was not up yet, or to see why a tunnel is "
	  "down (reason).\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA("Tunnel name") ","
	  "\"port\":" PORT_SCHEMA("Port on the bastion") "},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"tunnels\":{\"type\":\"array\",\"items\":" TUNNEL_SCHEMA "},"
	  "\"all_up\":{\"type\":\"boolean\",\"description\":\"Every tunnel "
	  "listed is up\"}},"
	  "\"required\":[\"tunnels\",\"all_up\"]},"
	  "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false}}",
	  run_tunnel_status },
	{ "tunnel_remove",
	  "{\"title\":\"Remove a tunnel\","
	  "\"description\":\"Stop a tunnel and remove every file it owns "
	  "(definition, unit, state), as ssh-tunnel-down. Give exactly one "
	  "of name or port. Returns the names of the tunnels removed.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA("Tunnel name") ","
	  "\"port\":" PORT_SCHEMA("Port on the bastion") "},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"removed\":{\"type\":\"boolean\"},"
	  "\"names\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
	  "\"description\":\"The tunnels removed\"},"
	  "\"port\":" OR_NULL("integer", "The port asked for") ","
	  "\"messages\":" OR_NULL("string", "What was said along the way") "},"
	  "\"required\":[\"removed\",\"names\"]},"
	  "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
	  "\"idempotentHint\":false,\"openWorldHint\":false}}",
	  run_tunnel_remove },
};

const size_t mcptunnel_ntools = sizeof(mcptunnel_tools) /
    sizeof(mcptunnel_tools[0]);

static int
run_allow_check(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	char host[HOST_MAX + 1], why[1024];
	const char *feature = mcptool_str(args, "feature", "ssh");
	struct config *cf;
	struct policy *p;
	struct decision d;

	if (host_canon(mcptool_str(args, "host", NULL), host, sizeof(host),
	    e) == -1 || policy_valid_feature(feature, e) == -1)
		return -1;
	if (mcptool_policy(m, &cf, &p, e) == -1)
		return -1;
	policy_decide(p, host, feature, &d);
	policy_explain(&d, host, why, sizeof(why));
	*res = json_pack("{s:s, s:s, s:s, s:o}", "host", host,
	    "feature", feature, "decision", d.allow ? "allow" : "deny",
	    "rule", jsonrpc_text(why));
	policy_free(p);
	config_free(cf);
	if (*res == NULL)
		return sxerr_set(e, EX_OSERR, "allow_check: out of memory");
	return 0;
}

/*
 * The supervisor a backend runs is ssh-tunnel-up -f, never this program:
 * the one installed beside it (bindir), else the first on PATH, resolved
 * as /proc/self/exe resolves it for the program. buf holds PATH_MAX.
 */
static int
find_up(const struct mcptool_ctx *m, char *buf, size_t sz, struct sxerr *e)
{
	const char *path = getenv("PATH");
	char *dirs, *d, *save = NULL, cand[PATH_MAX];

	if (m->bindir != NULL) {
		if ((size_t)snprintf(buf, sz, "%s/ssh-tunnel-up", m->bindir) >=
		    sz)
			return sxerr_set(e, EX_OSERR, "ssh-tunnel-up: path "
			    "too long");
		if (access(buf, X_OK) == -1)
			return sxerr_errno(e, EX_UNAVAILABLE, "%s", buf);
		return 0;
	}
	if (path == NULL || (dirs = strdup(path)) == NULL)
		return sxerr_set(e, EX_UNAVAILABLE, "ssh-tunnel-up: not found");
	for (d = strtok_r(dirs, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save))
		if (d[0] == '/' && (size_t)snprintf(cand, sizeof(cand),
		    "%s/ssh-tunnel-up", d) < sizeof(cand) &&
		    access(cand, X_OK) == 0 && realpath(cand, buf) != NULL) {
			free(dirs);
			return 0;
		}
	free(dirs);
	return sxerr_set(e, EX_UNAVAILABLE, "ssh-tunnel-up: not found in "
	    "PATH");
}

/* Trailing newlines off, for a message that ends a JSON string. */
static const char *
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

static json_t *
str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? jsonrpc_text(s) : json_null();
}

/* One row, with the keys and values of ssh-tunnel-ls -j. */
static json_t *
row_json(const struct lc_row *r)
{
	char bast[512];

	lc_row_bastion(r, bast, sizeof(bast));
	return json_pack("{s:o, s:s, s:o, s:i, s:o, s:I, s:I, s:I, s:o}",
	    "name", jsonrpc_text(r->ref.name), "backend", r->ref.b->name,
	    "state", jsonrpc_text(r->st.state), "port", lc_row_port(r),
	    "bastion", str_or_null(bast), "pid", (json_int_t)r->st.pid,
	    "uptime", (json_int_t)lc_row_uptime(r),
	    "restarts", (json_int_t)r->st.restarts,
	    "reason", str_or_null(r->st.reason));
}

static json_t *
rows_json(const struct lc_row *rows, size_t n, int *allup)
{
	json_t *a, *o;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].st.state, "up") != 0)
			*allup = 0;
		if ((o = row_json(&rows[i])) == NULL ||
		    json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The rows of ssh-tunnel-ls -j, with name or port (or neither). */
static int
list(const struct mcptool_ctx *m, const char *name, int port, json_t **arr,
    int *allup, struct sxerr *e)
{
	struct lc_rows rows;

	if (mcptool_rows(m, name, port, 0, &rows, e) == -1)
		return -1;
	*allup = !rows.bad;
	*arr = rows_json(rows.v, rows.n, allup);
	free(rows.v);
	return mcptool_result(arr, *arr, e);
}

/* Exactly one of name and port, checked. */
static int
name_or_port(json_t *args, int need, const char **name, int *port,
    struct sxerr *e)
{
	const json_t *p = json_object_get(args, "port");

	*name = mcptool_str(args, "name", NULL);
	*port = p != NULL ? (int)json_integer_value(p) : 0;
	if (*name != NULL && p != NULL)
		return sxerr_set(e, EX_USAGE, "give name or port, not both");
	if (need && *name == NULL && p == NULL)
		return sxerr_set(e, EX_USAGE, "give name or port");
	if (*name != NULL && tunnel_valid_name(*name, e) == -1)
		return -1;
	return 0;
}

static int
run_tunnel_status(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	const char *name;
	json_t *arr;
	int port, allup;

	if (name_or_port(args, 0, &name, &port, e) == -1 ||
	    list(m, name, port, &arr, &allup, e) == -1)
		return -1;
	/* A filter that matches nothing is no answer "all up". */
	if (port != 0 && json_array_size(arr) == 0) {
		json_decref(arr);
		return sxerr_set(e, 1, "port %d: no such tunnel", port);
	}
	return mcptool_result(res, json_pack("{s:o, s:b}", "tunnels", arr,
	    "all_up", allup), e);
}

static int
run_tunnel_remove(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	const char *name;
	char *names1[1];
	json_t *gone, *names, *v;
	struct lc_sel sel;
	struct config *cf;
	struct lc_ctx c;
	struct mcptool_said s;
	size_t i;
	int port, rc, allup;

	if (name_or_port(args, 1, &name, &port, e) == -1)
		return -1;
	/* The names it will remove, for the answer. */
	if (list(m, name, port, &gone, &allup, e) == -1)
		return -1;
	if ((names = json_array()) == NULL) {
		json_decref(gone);
		return sxerr_set(e, EX_OSERR, "out of memory");
	}
	json_array_foreach(gone, i, v)
		json_array_append(names, json_object_get(v, "name"));
	json_decref(gone);
	mcptool_lc(m, &c, &s);
	if (config_open(m->config, &cf, e) == -1) {
		json_decref(names);
		return -1;
	}
	names1[0] = (char *)name;
	memset(&sel, 0, sizeof(sel));
	sel.names = names1;
	sel.nnames = name != NULL;
	sel.port = port;
	rc = lc_remove(&c, cf, &sel, e);
	config_free(cf);
	if (rc != 0) {
		json_decref(names);
		return rc == -1 ? -1 : mcptool_said_error(&s, rc, "ssh-tunnel-down",
		    e);
	}
	return mcptool_result(res, json_pack("{s:b, s:o, s:o, s:o}", "removed",
	    1, "names", names, "port", port != 0 ? json_integer(port) :
	    json_null(), "messages", str_or_null(s.buf)), e);
}

/*
 * forwards as ssh-tunnel-up takes them: one R forward without a bind
 * address, "R port:host:hostport", which is -p port -l host:hostport.
 */
static int
setup_forward(const json_t *fw, const json_t *port, char *pbuf, size_t psz,
    const char **local, struct sxerr *e)
{
	struct forward f;
	const char *s;

	if (json_array_size(fw) == 0)
		return 0;
	s = json_string_value(json_array_get(fw, 0));
	if (tunnel_parse_forward(s, &f, e) == -1)
		return -1;
	if (json_array_size(fw) > 1 || f.dir != 'R' || f.bind[0] != '\0')
		return sxerr_set(e, EX_DATAERR, "forwards: one R forward "
		    "without a bind address, as ssh-tunnel-up -p and -l give; "
		    "define others in the tunnel's tunnels.d file");
	if (port != NULL && json_integer_value(port) != f.port)
		return sxerr_set(e, EX_DATAERR, "forwards: port %d is not "
		    "port %" JSON_INTEGER_FORMAT, f.port,
		    json_integer_value(port));
	snprintf(pbuf, psz, "%d", f.port);
	/* No bind address: the first ':' ends the port. */
	*local = strchr(s, ':') + 1;
	return 0;
}

/* An argument under either of its names (scitex-ssh 1.0's the second). */
static int
alias(json_t *args, const char *key, const char *old, const char **v,
    struct sxerr *e)
{
	const char *a = mcptool_str(args, key, NULL);
	const char *b = mcptool_str(args, old, NULL);

	if (a != NULL && b != NULL && strcmp(a, b) != 0)
		return sxerr_set(e, EX_USAGE, "%s and %s: the same argument, "
		    "given twice", key, old);
	*v = a != NULL ? a : b;
	return 0;
}

/* An lc_req made of a tool's arguments, and the strings it points into. */
struct setup_req {
	struct lc_req	 q;
	char		 name[NAME_MAX_LEN + 1];	/* q.name, when none is given */
	char		 port[16];			/* q.port */
};

/* The request ssh-tunnel-up's flags would make of the arguments. */
static int
setup_req(json_t *args, struct setup_req *sr, struct sxerr *e)
{
	const json_t *p = json_object_get(args, "port"), *v;
	struct lc_req *q = &sr->q;
	struct bastion b;
	size_t i;

	memset(q, 0, sizeof(*q));
	q->backend = mcptool_str(args, "backend", NULL);
	q->dry = json_is_true(json_object_get(args, "dry_run"));
	if (alias(args, "bastion", "bastion_server", &q->bastion[0], e) == -1 ||
	    alias(args, "key", "secret_key_path", &q->key, e) == -1)
		return -1;
	/* Checked here too, so that the message names the argument. */
	if ((q->name = mcptool_str(args, "name", NULL)) == NULL) {
		if (lc_default_name(sr->name, sizeof(sr->name), e) == -1)
			return -1;
		q->name = sr->name;
	} else if (tunnel_valid_name(q->name, e) == -1)
		return -1;
	if (q->bastion[0] != NULL) {
		if (host_parse_bastion(q->bastion[0], &b, e) == -1)
			return -1;
		q->nbastion = 1;
	}
	if (q->key != NULL && tunnel_valid_key(q->key, e) == -1)
		return -1;
	json_array_foreach(json_object_get(args, "ssh_options"), i, v) {
		if (tunnel_valid_option(json_string_value(v), e) == -1)
			return -1;
		q->opt[q->nopt++] = json_string_value(v);
	}
	sr->port[0] = '\0';
	if (p != NULL)
		snprintf(sr->port, sizeof(sr->port), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(p));
	if (setup_forward(json_object_get(args, "forwards"), p, sr->port,
	    sizeof(sr->port), &q->local, e) == -1)
		return -1;
	q->port = sr->port[0] != '\0' ? sr->port : NULL;
	return 0;
}

/*
 * lc_setup into a string: what ssh-tunnel-up prints on stdout. 0 up, 1
 * not up yet (e says why), -1 error.
 */
static int
setup_out(const struct lc_ctx *c, const struct lc_req *q, char **out,
    struct sxerr *e)
{
	size_t len;
	FILE *fp;
	int rc;

	*out = NULL;
	if ((fp = open_memstream(out, &len)) == NULL)
		return sxerr_errno(e, EX_OSERR, "open_memstream");
	rc = lc_setup(c, q, fp, e);
	if (fclose(fp) == EOF && rc != -1)
		rc = sxerr_errno(e, EX_OSERR, "open_memstream");
	if (rc == -1) {
		free(*out);
		*out = NULL;
		return -1;
	}
	chomp(*out);
	return rc;
}

/* The wait for the forward, through the session: ping, progress, cancel. */
struct setup_wait {
	const struct mcpwait	*w;
	long long		 start;
};

static int
setup_pause(void *arg, int ms)
{
	struct setup_wait *sw = arg;

	mcptool_progress(sw->w, (double)(now_ms() - sw->start) / 1000, 0,
	    "waiting for the bastion to confirm the forward");
	if (mcptool_poll(sw->w, NULL, 0, ms) == -1 && errno == ECANCELED)
		return -1;
	return 0;
}

/* A dry run: the policy's decision for this machine, and its rule. */
static json_t *
setup_policy(const struct mcptool_ctx *m)
{
	struct config *cf;
	struct sxerr e;
	char why[1024];
	int allow;

	if (config_open(m->config, &cf, &e) == -1)
		return json_pack("{s:s, s:o}", "decision", "deny", "rule",
		    jsonrpc_text(e.msg));
	if (lc_gate_rule(cf, &allow, why, sizeof(why), &e) == -1) {
		allow = 0;
		strlcpy(why, e.msg, sizeof(why));
	}
	config_free(cf);
	return json_pack("{s:s, s:o}", "decision", allow ? "allow" : "deny",
	    "rule", jsonrpc_text(why));
}

/* Not up yet: what the agent should do, by what the row says. */
static json_t *
setup_next(const json_t *tun, const char *why)
{
	const char *r = json_string_value(json_object_get(tun, "reason"));
	char buf[1536];

	if (r != NULL && (strcmp(r, "auth") == 0 ||
	    strcmp(r, "hostkey") == 0))
		snprintf(buf, sizeof(buf), "%s: waiting will not heal this "
		    "(reason %s: the bastion refused the key, or its host key "
		    "is unknown or changed). Fix that, then call tunnel_setup "
		    "again; tunnel_remove stops the supervisor meanwhile.",
		    why, r);
	else
		snprintf(buf, sizeof(buf), "%s. The supervisor keeps "
		    "trying: call tunnel_status to follow it, tunnel_remove "
		    "to stop it.", why);
	return jsonrpc_text(buf);
}

static int
run_tunnel_setup(const struct mcptool_ctx *m, json_t *args,
    const struct mcpwait *w, json_t **res, struct sxerr *e)
{
	struct setup_wait sw = { w, now_ms() };
	struct setup_req sr;
	const struct lc_req *q = &sr.q;
	char self[PATH_MAX], *out;
	json_t *arr = NULL, *tun, *next = json_null();
	struct sxerr le, why;
	struct lc_ctx c;
	struct mcptool_said s;
	int allup, rc;

	if (setup_req(args, &sr, e) == -1 ||
	    find_up(m, self, sizeof(self), e) == -1)
		return -1;
	mcptool_lc(m, &c, &s);
	c.self = self;
	c.pause = setup_pause;
	c.pausearg = &sw;
	if ((rc = setup_out(&c, q, &out, &why)) == -1) {
		*e = why;
		return -1;
	}
	/* Up or not: its row, if it is there. */
	if (!q->dry && list(m, q->name, 0, &arr, &allup, &le) == -1)
		arr = NULL;
	tun = json_incref(json_array_get(arr, 0));
	if (rc == 1) {
		mcptool_words(why.msg, sizeof(why.msg));
		next = setup_next(tun, why.msg);
	}
	*res = json_pack("{s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "name", q->name, "dry_run", q->dry, "up", !q->dry && rc == 0,
	    "tunnel", tun != NULL ? tun : json_null(),
	    "client_config", !q->dry && rc == 0 ? str_or_null(out) :
	    json_null(),
	    "plan", q->dry ? jsonrpc_text(out) : json_null(),
	    "policy", q->dry ? setup_policy(m) : json_null(),
	    "next", next, "messages", str_or_null(s.buf));
	rc = mcptool_result(res, *res, e);
	json_decref(arr);
	free(out);
	return rc;
}
