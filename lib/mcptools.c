/* SPDX-License-Identifier: AGPL-3.0-only */
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "mcpinfo.h"
#include "mcpremote.h"
#include "mcptools.h"
#include "mcptunnel.h"
#include "sshopt.h"

/*
 * The registry of ssh-tunnel-mcp's tools: every module's table (the
 * tunnel tools and allow_check in mcptunnel.c, the read-only helpers in
 * mcpinfo.c, scitex-ssh 1.0's remote primitives in mcpremote.c), the
 * tools/list they make, and each call's arguments checked against the
 * tool's inputSchema before it runs. Adding a tool touches its module's
 * table only; adding a module, one line of sets[].
 */

/* Every module's tools, in the order tools/list gives them. */
static const struct {
	const struct mcptool	*v;
	const size_t		*n;
} sets[] = {
	{ mcptunnel_tools, &mcptunnel_ntools },
	{ mcpinfo_tools, &mcpinfo_ntools },
	{ mcpremote_tools, &mcpremote_ntools },
};

/* Tool i of all; NULL past the last. */
static const struct mcptool *
tool_at(size_t i)
{
	size_t s;

	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); i -= *sets[s++].n)
		if (i < *sets[s].n)
			return &sets[s].v[i];
	return NULL;
}

const char mcptools_instructions[] =
    "scitex-ssh on this machine, every call behind the per-host SSH "
    "allowlist that also gates ssh, scp and rsync here: allow_check asks "
    "it; tunnel_setup, tunnel_status and tunnel_remove manage reverse "
    "tunnels that make this machine reachable through a bastion; exec, "
    "probe_host, copy_to, copy_from and sync run one command or copy "
    "on a remote host in batch mode, with a time limit and an output "
    "cap. A denial names the rule: report it, do not work around it.";

/*
 * A tool's entry from its text, with @OPTIONS@ made the list of ssh
 * options a tunnel may carry (tunnel.c keeps it, so it cannot drift).
 */
static json_t *
load_def(const char *def)
{
	const struct sshopt *o;
	const char *at;
	char *buf = NULL;
	size_t n, i, len;
	json_t *d;
	FILE *fp;

	if ((at = strstr(def, "@OPTIONS@")) == NULL)
		return json_loads(def, JSON_REJECT_DUPLICATES, NULL);
	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	fwrite(def, 1, (size_t)(at - def), fp);
	o = sshopt_table(&n);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%s", i ? ", " : "", o[i].name);
	fputs(at + strlen("@OPTIONS@"), fp);
	if (fclose(fp) == EOF) {
		free(buf);
		return NULL;
	}
	d = json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	return d;
}

/* The tools/list array, built from the table; NULL if out of memory. */
static json_t *
tools_list(void)
{
	json_t *a, *t, *d;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; tool_at(i) != NULL; i++) {
		t = json_pack("{s:s}", "name", tool_at(i)->name);
		d = load_def(tool_at(i)->def);
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

/* The index of the tool called name, or -1. */
static ssize_t
tool_find(const char *name)
{
	size_t i;

	for (i = 0; tool_at(i) != NULL; i++)
		if (strcmp(name, tool_at(i)->name) == 0)
			return (ssize_t)i;
	return -1;
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
mcptools_call(const struct mcptool_ctx *m, const char *name, json_t *args,
    const struct mcpwait *w, struct sxerr *e)
{
	const struct mcptool *t;
	json_t *owned = NULL, *res = NULL, *out;
	ssize_t i;
	char *dump;

	e->ex = EX_OSERR;
	e->msg[0] = '\0';
	if ((i = tool_find(name)) == -1)
		return NULL;
	t = tool_at((size_t)i);
	/*
	 * A supervisor tunnel_setup started is our child: reap the ones
	 * that have ended since, so that none lingers as a zombie. (A job
	 * of a remote tool is reaped by that tool, before it returns.)
	 */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		continue;
	if (args == NULL && (args = owned = json_object()) == NULL)
		return NULL;
	if (check_args(json_object_get(json_array_get(m->list, (size_t)i),
	    "inputSchema"), args, e) == -1 ||
	    t->run(m, args, w, &res, e) == -1) {
		json_decref(owned);
		mcptool_words(e->msg, sizeof(e->msg));
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
mcptools_init(struct mcptool_ctx *m, const char *config, const char *bindir)
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
mcptools_free(struct mcptool_ctx *m)
{
	json_decref(m->list);
	free(m->config);
	free(m->bindir);
	memset(m, 0, sizeof(*m));
}

int
mcptools_has(const char *name)
{
	return tool_find(name) != -1;
}
