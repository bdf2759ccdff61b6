/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/param.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "jsonrpc.h"
#include "lifecycle.h"
#include "mcptools.h"
#include "out.h"
#include "policy.h"
#include "tunnel.h"

/*
 * The tools. Each entry of tools/list is written once, as JSON, and its
 * inputSchema is also what arguments are checked against (check_args), so
 * that what a client is told and what the server accepts cannot drift.
 */
struct tool {
	const char	*name;
	const char	*def;		/* the rest of its tools/list entry */
	int		(*run)(const struct mcptools *, json_t *, json_t **,
			    struct sxerr *);
};

static int	run_allow_check(const struct mcptools *, json_t *, json_t **,
		    struct sxerr *);
static int	run_tunnel_setup(const struct mcptools *, json_t *, json_t **,
		    struct sxerr *);
static int	run_tunnel_status(const struct mcptools *, json_t *, json_t **,
		    struct sxerr *);
static int	run_tunnel_remove(const struct mcptools *, json_t *, json_t **,
		    struct sxerr *);

#define NAME_SCHEMA \
	"{\"type\":\"string\",\"minLength\":1,\"maxLength\":64," \
	"\"pattern\":\"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$\"," \
	"\"description\":\"Tunnel name\"}"
#define PORT_SCHEMA(what) \
	"{\"type\":\"integer\",\"minimum\":1,\"maximum\":65535," \
	"\"description\":\"" what "\"}"
#define TUNNEL_SCHEMA \
	"{\"type\":\"object\",\"properties\":{" \
	"\"name\":{\"type\":\"string\"},\"backend\":{\"type\":\"string\"}," \
	"\"state\":{\"type\":\"string\"},\"port\":{\"type\":[\"integer\"," \
	"\"null\"]},\"bastion\":{\"type\":[\"string\",\"null\"]}," \
	"\"pid\":{\"type\":[\"integer\",\"null\"]}," \
	"\"uptime\":{\"type\":[\"integer\",\"null\"]}," \
	"\"restarts\":{\"type\":[\"integer\",\"null\"]}," \
	"\"reason\":{\"type\":[\"string\",\"null\"]}}," \
	"\"required\":[\"name\",\"backend\",\"state\"]}"

static const struct tool tools[] = {
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
	  "\"description\":\"Define a tunnel and bring it up, as "
	  "ssh-tunnel-up does: a reverse tunnel from this machine to a "
	  "bastion, kept up by systemd or a supervisor. Gated by the policy "
	  "(feature tunnels for this host). With dry_run, shows what would "
	  "be done and changes nothing.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA ","
	  "\"bastion\":{\"type\":\"string\",\"minLength\":1,"
	  "\"maxLength\":300,\"description\":\"[user@]host[:port] or an "
	  "ssh_config alias\"},"
	  "\"port\":" PORT_SCHEMA("Port opened on the bastion") ","
	  "\"key\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4095,"
	  "\"description\":\"Private key file\"},"
	  "\"forwards\":{\"type\":\"array\",\"maxItems\":64,\"items\":{"
	  "\"type\":\"string\",\"minLength\":1,\"maxLength\":300},"
	  "\"description\":\"Forwards as R|L [bind:]port:host:hostport\"},"
	  "\"ssh_options\":{\"type\":\"array\",\"maxItems\":32,\"items\":{"
	  "\"type\":\"string\",\"minLength\":3,\"maxLength\":511},"
	  "\"description\":\"ssh options as Keyword=value, from the list "
	  "ssh-tunnel-up accepts (no ProxyCommand or LocalCommand)\"},"
	  "\"backend\":{\"type\":\"string\",\"enum\":[\"systemd\",\"user\","
	  "\"daemon\"],\"description\":\"Default: the first that works "
	  "here\"},"
	  "\"dry_run\":{\"type\":\"boolean\",\"default\":false}},"
	  "\"required\":[\"name\"],\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":{\"type\":\"string\"},\"dry_run\":{\"type\":\"boolean\"},"
	  "\"output\":{\"type\":\"string\"},"
	  "\"tunnel\":{\"anyOf\":[" TUNNEL_SCHEMA ",{\"type\":\"null\"}]},"
	  "\"messages\":{\"type\":[\"string\",\"null\"]}},"
	  "\"required\":[\"name\",\"dry_run\",\"output\"]},"
	  "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
	  "\"idempotentHint\":true,\"openWorldHint\":true}}",
	  run_tunnel_setup },
	{ "tunnel_status",
	  "{\"title\":\"List tunnels\","
	  "\"description\":\"The tunnels of this machine with their live "
	  "state, as ssh-tunnel-ls -j shows them: all, or the one with the "
	  "given name or port.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA ","
	  "\"port\":" PORT_SCHEMA("Port on the bastion") "},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"tunnels\":{\"type\":\"array\",\"items\":" TUNNEL_SCHEMA "},"
	  "\"all_up\":{\"type\":\"boolean\"}},"
	  "\"required\":[\"tunnels\",\"all_up\"]},"
	  "\"annotations\":{\"readOnlyHint\":true,\"openWorldHint\":false}}",
	  run_tunnel_status },
	{ "tunnel_remove",
	  "{\"title\":\"Remove a tunnel\","
	  "\"description\":\"Stop a tunnel and remove every file it owns, as "
	  "ssh-tunnel-down does. Give exactly one of name or port.\","
	  "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"name\":" NAME_SCHEMA ","
	  "\"port\":" PORT_SCHEMA("Port on the bastion") "},"
	  "\"additionalProperties\":false},"
	  "\"outputSchema\":{\"type\":\"object\",\"properties\":{"
	  "\"removed\":{\"type\":\"boolean\"},"
	  "\"name\":{\"type\":[\"string\",\"null\"]},"
	  "\"port\":{\"type\":[\"integer\",\"null\"]},"
	  "\"messages\":{\"type\":[\"string\",\"null\"]}},"
	  "\"required\":[\"removed\"]},"
	  "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
	  "\"idempotentHint\":false,\"openWorldHint\":false}}",
	  run_tunnel_remove },
};

#define NTOOLS	(sizeof(tools) / sizeof(tools[0]))

const char mcptools_instructions[] =
    "scitex-ssh on this machine: allow_check asks the per-host SSH "
    "allowlist; tunnel_setup, tunnel_status and tunnel_remove manage "
    "reverse tunnels to a bastion. Every call is subject to the same "
    "policy and checks as the ssh-allow-check and ssh-tunnel-* programs.";

/* The tools/list array, built from the table; NULL if out of memory. */
static json_t *
tools_list(void)
{
	json_t *a, *t, *d;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < NTOOLS; i++) {
		t = json_pack("{s:s}", "name", tools[i].name);
		d = json_loads(tools[i].def, JSON_REJECT_DUPLICATES, NULL);
		if (t == NULL || d == NULL || json_object_update(t, d) == -1 ||
		    json_array_append(a, t) == -1) {
			json_decref(d);
			json_decref(t);
			json_decref(a);
			return NULL;
		}
		json_decref(d);
		json_decref(t);
	}
	return a;
}

static const struct tool *
tool_find(const char *name)
{
	size_t i;

	for (i = 0; i < NTOOLS; i++)
		if (strcmp(name, tools[i].name) == 0)
			return &tools[i];
	return NULL;
}

/*
 * One argument against its schema: the keywords our schemas use (type,
 * enum, minLength, maxLength, minimum, maximum, items, maxItems). pattern
 * is left to the library, which knows the syntax better than a regex.
 */
static int
check_value(const char *key, const json_t *s, const json_t *v,
    struct sxerr *e)
{
	const char *type = json_string_value(json_object_get(s, "type"));
	const json_t *x, *lo, *hi;
	char sub[96];
	size_t i;

	if (strcmp(type, "string") == 0) {
		if (!json_is_string(v))
			return sxerr_set(e, EX_DATAERR, "%s: expected a "
			    "string", key);
		lo = json_object_get(s, "minLength");
		hi = json_object_get(s, "maxLength");
		if (json_string_length(v) == 0 && lo != NULL)
			return sxerr_set(e, EX_DATAERR, "%s: empty", key);
		if (lo != NULL && json_string_length(v) <
		    (size_t)json_integer_value(lo))
			return sxerr_set(e, EX_DATAERR, "%s: shorter than "
			    "%" JSON_INTEGER_FORMAT " bytes", key,
			    json_integer_value(lo));
		if (hi != NULL && json_string_length(v) >
		    (size_t)json_integer_value(hi))
			return sxerr_set(e, EX_DATAERR, "%s: longer than "
			    "%" JSON_INTEGER_FORMAT " bytes", key,
			    json_integer_value(hi));
		if ((x = json_object_get(s, "enum")) == NULL)
			return 0;
		json_array_foreach(x, i, lo)
			if (json_equal(lo, v))
				return 0;
		return sxerr_set(e, EX_DATAERR, "%s: not one of the allowed "
		    "values", key);
	}
	if (strcmp(type, "integer") == 0) {
		lo = json_object_get(s, "minimum");
		hi = json_object_get(s, "maximum");
		if (!json_is_integer(v) ||
		    (lo != NULL && json_integer_value(v) <
		    json_integer_value(lo)) ||
		    (hi != NULL && json_integer_value(v) >
		    json_integer_value(hi)))
			return sxerr_set(e, EX_DATAERR, "%s: expected an "
			    "integer from %" JSON_INTEGER_FORMAT " to %"
			    JSON_INTEGER_FORMAT, key, json_integer_value(lo),
			    json_integer_value(hi));
		return 0;
	}
	if (strcmp(type, "boolean") == 0) {
		if (!json_is_boolean(v))
			return sxerr_set(e, EX_DATAERR, "%s: expected true "
			    "or false", key);
		return 0;
	}
	/* array */
	if (!json_is_array(v))
		return sxerr_set(e, EX_DATAERR, "%s: expected an array", key);
	hi = json_object_get(s, "maxItems");
	if (hi != NULL && json_array_size(v) > (size_t)json_integer_value(hi))
		return sxerr_set(e, EX_DATAERR, "%s: more than %"
		    JSON_INTEGER_FORMAT " items", key, json_integer_value(hi));
	json_array_foreach(v, i, x) {
		snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
		if (check_value(sub, json_object_get(s, "items"), x, e) == -1)
			return -1;
	}
	return 0;
}

/* The arguments object against an inputSchema (additionalProperties off). */
static int
check_args(const json_t *schema, json_t *args, struct sxerr *e)
{
	const json_t *props = json_object_get(schema, "properties"), *s, *r;
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(args, k, v) {
		if ((s = json_object_get(props, k)) == NULL)
			return sxerr_set(e, EX_DATAERR, "%.64s: unknown "
			    "argument", k);
		if (check_value(k, s, v, e) == -1)
			return -1;
	}
	json_array_foreach(json_object_get(schema, "required"), i, r)
		if (json_object_get(args, json_string_value(r)) == NULL)
			return sxerr_set(e, EX_DATAERR, "%s: missing",
			    json_string_value(r));
	return 0;
}

static const char *
arg_str(const json_t *args, const char *key, const char *dflt)
{
	const json_t *v = json_object_get(args, key);

	return v != NULL ? json_string_value(v) : dflt;
}

static int
run_allow_check(const struct mcptools *m, json_t *args, json_t **res, struct sxerr *e)
{
	char host[HOST_MAX + 1], why[1024];
	const char *feature = arg_str(args, "feature", "ssh");
	struct config *cf;
	struct policy *p;
	struct decision d;

	if (host_canon(arg_str(args, "host", NULL), host, sizeof(host),
	    e) == -1 || policy_valid_feature(feature, e) == -1)
		return -1;
	/* Read afresh on every call, as ssh-allow-check does. */
	if (config_open(m->config, &cf, e) == -1)
		return -1;
	if (policy_load(cf, &p, e) == -1) {
		config_free(cf);
		return -1;
	}
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
 * The tunnel tools call the library the ssh-tunnel-* programs are built
 * on, in this process: the same gate, locks, waits and messages, so an
 * agent meets exactly what a person meets. What a program would have
 * warned along the way is kept here and returned as messages.
 */
struct said {
	char	buf[8192];
	size_t	len;
};

static void
collect(void *arg, int level, const char *msg)
{
	struct said *s = arg;
	int n;

	if (level == LC_DEBUG || s->len >= sizeof(s->buf) - 1)
		return;
	n = snprintf(s->buf + s->len, sizeof(s->buf) - s->len, "%s%s",
	    s->len > 0 ? "\n" : "", msg);
	if (n > 0)
		s->len = MIN(s->len + (size_t)n, sizeof(s->buf) - 1);
}

static void
tool_ctx(const struct mcptools *m, struct lc_ctx *c, struct said *s)
{
	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	c->config = m->config;
	c->verbose = out_debug_env();
	c->note = collect;
	c->arg = s;
}

/* What was said is the tool's error; ex is the program's exit status. */
static int
said_error(const struct said *s, int ex, const char *what, struct sxerr *e)
{
	if (s->len > 0)
		return sxerr_set(e, ex, "%s", s->buf);
	return sxerr_set(e, ex, "%s: failed", what);
}

/*
 * The supervisor a backend runs is ssh-tunnel-up -f, never this program:
 * the one installed beside it (bindir), else the first on PATH, resolved
 * as /proc/self/exe resolves it for the program. buf holds PATH_MAX.
 */
static int
find_up(const struct mcptools *m, char *buf, size_t sz, struct sxerr *e)
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
list(const struct mcptools *m, const char *name, int port, json_t **arr,
    int *allup, struct sxerr *e)
{
	char *names[1] = { (char *)name };
	struct lc_sel sel = { names, name != NULL, port, 0 };
	struct lc_rows rows;
	struct config *cf;
	struct lc_ctx c;
	struct said s;
	int rc;

	tool_ctx(m, &c, &s);
	if (config_open(m->config, &cf, e) == -1)
		return -1;
	rc = lc_list(&c, cf, &sel, &rows, e);
	config_free(cf);
	if (rc == -1)
		return -1;
	/* A name it does not know: no rows and a message; an error. */
	if (rows.n == 0 && rows.bad) {
		free(rows.v);
		return said_error(&s, 1, "ssh-tunnel-ls", e);
	}
	*allup = !rows.bad;
	*arr = rows_json(rows.v, rows.n, allup);
	free(rows.v);
	return *arr == NULL ? sxerr_set(e, EX_OSERR, "out of memory") : 0;
}

/* Exactly one of name and port, checked. */
static int
name_or_port(json_t *args, int need, const char **name, int *port,
    struct sxerr *e)
{
	const json_t *p = json_object_get(args, "port");

	*name = arg_str(args, "name", NULL);
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
run_tunnel_status(const struct mcptools *m, json_t *args, json_t **res,
    struct sxerr *e)
{
	const char *name;
	json_t *arr;
	int port, allup;

	if (name_or_port(args, 0, &name, &port, e) == -1 ||
	    list(m, name, port, &arr, &allup, e) == -1)
		return -1;
	*res = json_pack("{s:o, s:b}", "tunnels", arr, "all_up", allup);
	return *res == NULL ? sxerr_set(e, EX_OSERR, "out of memory") : 0;
}

static int
run_tunnel_remove(const struct mcptools *m, json_t *args, json_t **res,
    struct sxerr *e)
{
	const char *name;
	char *names[1];
	struct lc_sel sel;
	struct config *cf;
	struct lc_ctx c;
	struct said s;
	int port, rc;

	if (name_or_port(args, 1, &name, &port, e) == -1)
		return -1;
	tool_ctx(m, &c, &s);
	if (config_open(m->config, &cf, e) == -1)
		return -1;
	names[0] = (char *)name;
	memset(&sel, 0, sizeof(sel));
	sel.names = names;
	sel.nnames = name != NULL;
	sel.port = port;
	rc = lc_remove(&c, cf, &sel, e);
	config_free(cf);
	if (rc == -1)
		return -1;
	if (rc != 0)
		return said_error(&s, rc, "ssh-tunnel-down", e);
	*res = json_pack("{s:b, s:o, s:o, s:o}", "removed", 1,
	    "name", str_or_null(name), "port", port != 0 ?
	    json_integer(port) : json_null(), "messages", str_or_null(s.buf));
	return *res == NULL ? sxerr_set(e, EX_OSERR, "out of memory") : 0;
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

/* The request ssh-tunnel-up's flags would make of the arguments. */
static int
setup_req(json_t *args, struct lc_req *q, char *port, size_t portsz,
    struct sxerr *e)
{
	const json_t *p = json_object_get(args, "port"), *v;
	struct bastion b;
	size_t i;

	memset(q, 0, sizeof(*q));
	q->name = arg_str(args, "name", NULL);
	q->key = arg_str(args, "key", NULL);
	q->backend = arg_str(args, "backend", NULL);
	q->dry = json_is_true(json_object_get(args, "dry_run"));
	/* Checked here too, so that the message names the argument. */
	if (tunnel_valid_name(q->name, e) == -1)
		return -1;
	if ((q->bastion[0] = arg_str(args, "bastion", NULL)) != NULL) {
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
	port[0] = '\0';
	if (p != NULL)
		snprintf(port, portsz, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(p));
	if (setup_forward(json_object_get(args, "forwards"), p, port,
	    portsz, &q->local, e) == -1)
		return -1;
	q->port = port[0] != '\0' ? port : NULL;
	return 0;
}

/* lc_setup into a string: what ssh-tunnel-up prints on stdout. */
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
	if (fclose(fp) == EOF && rc == 0)
		rc = sxerr_errno(e, EX_OSERR, "open_memstream");
	if (rc != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	chomp(*out);
	return 0;
}

static int
run_tunnel_setup(const struct mcptools *m, json_t *args, json_t **res,
    struct sxerr *e)
{
	char port[16], self[PATH_MAX], *out;
	json_t *arr = NULL, *tun;
	struct sxerr le;
	struct lc_req q;
	struct lc_ctx c;
	struct said s;
	int allup, rc;

	if (setup_req(args, &q, port, sizeof(port), e) == -1 ||
	    find_up(m, self, sizeof(self), e) == -1)
		return -1;
	tool_ctx(m, &c, &s);
	c.self = self;
	if (setup_out(&c, &q, &out, e) == -1)
		return -1;
	/* It is up: a listing that fails now only leaves tunnel null. */
	if (!q.dry && list(m, q.name, 0, &arr, &allup, &le) == -1)
		arr = NULL;
	tun = json_incref(json_array_get(arr, 0));
	*res = json_pack("{s:s, s:b, s:o, s:o, s:o}", "name", q.name,
	    "dry_run", q.dry, "output", jsonrpc_text(out),
	    "tunnel", tun != NULL ? tun : json_null(),
	    "messages", str_or_null(s.buf));
	rc = *res == NULL ? sxerr_set(e, EX_OSERR, "out of memory") : 0;
	json_decref(arr);
	free(out);
	return rc;
}

static json_t *
text_result(const char *msg, json_t *structured, int iserror)
{
	json_t *r;

	r = json_pack("{s:[{s:s, s:o}], s:b}", "content", "type", "text",
	    "text", jsonrpc_text(msg), "isError", iserror);
	if (r != NULL && structured != NULL &&
	    json_object_set(r, "structuredContent", structured) == -1) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/*
 * Run a tool. What goes wrong in it, bad arguments included, is a result
 * with isError set and the library's message, so that the model sees it;
 * e->msg is that message, or "ok", for the log. NULL when out of memory
 * or when there is no such tool.
 */
json_t *
mcptools_call(const struct mcptools *m, const char *name, json_t *args,
    struct sxerr *e)
{
	const struct tool *t;
	json_t *owned = NULL, *res = NULL, *out;
	char *dump;

	e->ex = EX_OSERR;
	e->msg[0] = '\0';
	if ((t = tool_find(name)) == NULL)
		return NULL;
	/*
	 * A supervisor tunnel_setup started is our child: reap the ones
	 * that have ended since, so that none lingers as a zombie.
	 */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	if (args == NULL && (args = owned = json_object()) == NULL)
		return NULL;
	if (check_args(json_object_get(json_array_get(m->list,
	    t - tools), "inputSchema"), args, e) == -1 ||
	    t->run(m, args, &res, e) == -1) {
		json_decref(owned);
		return text_result(e->msg, NULL, 1);
	}
	json_decref(owned);
	/* The JSON as text too, for clients older than structuredContent. */
	if ((dump = json_dumps(res, JSON_COMPACT)) == NULL) {
		json_decref(res);
		return NULL;
	}
	out = text_result(dump, res, 0);
	sxerr_set(e, 0, "ok");
	free(dump);
	json_decref(res);
	return out;
}


/*
 * config is the -F file or NULL for the search order; bindir holds
 * ssh-tunnel-up, which backends run as the supervisor (NULL: search
 * PATH). -1 when out of memory.
 */
int
mcptools_init(struct mcptools *m, const char *config, const char *bindir)
{
	memset(m, 0, sizeof(*m));
	if ((config != NULL && (m->config = strdup(config)) == NULL) ||
	    (bindir != NULL && (m->bindir = strdup(bindir)) == NULL) ||
	    (m->list = tools_list()) == NULL) {
		mcptools_free(m);
		return -1;
	}
	return 0;
}

void
mcptools_free(struct mcptools *m)
{
	json_decref(m->list);
	free(m->config);
	free(m->bindir);
	memset(m, 0, sizeof(*m));
}

int
mcptools_has(const char *name)
{
	return tool_find(name) != NULL;
}
