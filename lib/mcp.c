/* SPDX-License-Identifier: AGPL-3.0-only */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "mcp.h"
#include "mcptools.h"

/* Newest first: the answer to a version we do not know is the first. */
static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

enum state { ST_NEW, ST_ANSWERED, ST_READY };

struct mcp {
	struct jsonrpc	 rpc;
	struct mcptools	 tools;
	enum state	 state;
	const char	*version;	/* negotiated */
};

static const char *
negotiate(const char *asked)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(asked, versions[i]) == 0)
			return versions[i];
	return versions[0];
}

static json_t *
do_initialize(struct mcp *m, json_t *id, json_t *params)
{
	json_t *v, *result;

	if (m->state != ST_NEW)
		return jsonrpc_error(&m->rpc, id, RPC_REQUEST,
		    "Invalid Request: already initialized");
	v = json_object_get(params, "protocolVersion");
	if (!json_is_string(v))
		return jsonrpc_error(&m->rpc, id, RPC_PARAMS,
		    "Invalid params: protocolVersion must be a string");
	m->version = negotiate(json_string_value(v));
	result = json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}",
	    "protocolVersion", m->version,
	    "capabilities", "tools", "listChanged", 0,
	    "serverInfo", "name", "ssh-tunnel-mcp", "title", "scitex-ssh",
	    "version", VERSION,
	    "instructions", mcptools_instructions);
	if (result == NULL)
		return NULL;
	m->state = ST_ANSWERED;
	jsonrpc_note(&m->rpc, 0, "initialize: client %s, protocol %s",
	    json_string_value(v), m->version);
	return jsonrpc_reply(id, result);
}

static json_t *
do_tools_list(struct mcp *m, json_t *id, json_t *params)
{
	/* One page: a cursor can only be one we never handed out. */
	if (json_object_get(params, "cursor") != NULL)
		return jsonrpc_error(&m->rpc, id, RPC_PARAMS,
		    "Invalid params: unknown cursor");
	jsonrpc_note(&m->rpc, 0, "tools/list");
	return jsonrpc_reply(id, json_pack("{s:O}", "tools", m->tools.list));
}

static json_t *
do_tools_call(struct mcp *m, json_t *id, json_t *params)
{
	struct sxerr e;
	json_t *name, *args, *res;
	const char *tool;

	name = json_object_get(params, "name");
	if (!json_is_string(name))
		return jsonrpc_error(&m->rpc, id, RPC_PARAMS,
		    "Invalid params: name must be a string");
	tool = json_string_value(name);
	if (!mcptools_has(tool))
		return jsonrpc_error(&m->rpc, id, RPC_PARAMS,
		    "Unknown tool: %.100s", tool);
	args = json_object_get(params, "arguments");
	if (args != NULL && !json_is_object(args))
		return jsonrpc_error(&m->rpc, id, RPC_PARAMS,
		    "Invalid params: arguments must be an object");
	res = mcptools_call(&m->tools, tool, args, &e);
	jsonrpc_note(&m->rpc, 0, "tools/call %s: %s", tool, e.msg);
	return jsonrpc_reply(id, res);
}

/* Notifications are never answered, whatever they hold. */
static void
notification(void *arg, const char *method)
{
	struct mcp *m = arg;

	if (strcmp(method, "notifications/initialized") == 0) {
		if (m->state == ST_ANSWERED)
			m->state = ST_READY;
		jsonrpc_note(&m->rpc, 0, "notifications/initialized");
	} else
		jsonrpc_note(&m->rpc, 0, "notification %.100s: ignored",
		    method);
}

/* A request, its envelope checked: ping, initialize, then the tools. */
static json_t *
request(void *arg, json_t *id, const char *name, json_t *params, int inbatch)
{
	struct mcp *m = arg;

	if (strcmp(name, "ping") == 0) {
		jsonrpc_note(&m->rpc, 0, "ping");
		return jsonrpc_reply(id, json_object());
	}
	if (strcmp(name, "initialize") == 0) {
		if (inbatch)
			return jsonrpc_error(&m->rpc, id, RPC_REQUEST,
			    "Invalid Request: initialize in a batch");
		return do_initialize(m, id, params);
	}
	if (m->state == ST_NEW)
		return jsonrpc_error(&m->rpc, id, RPC_REQUEST,
		    "Invalid Request: not initialized");
	if (strcmp(name, "tools/list") == 0)
		return do_tools_list(m, id, params);
	if (strcmp(name, "tools/call") == 0)
		return do_tools_call(m, id, params);
	return jsonrpc_error(&m->rpc, id, RPC_METHOD,
	    "Method not found: %.100s", name);
}

/*
 * A new session. config is the -F file or NULL for the search order;
 * bindir holds ssh-tunnel-up, which backends run as the supervisor (NULL:
 * search PATH). NULL when out of memory.
 */
struct mcp *
mcp_new(const char *config, const char *bindir)
{
	struct mcp *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if (mcptools_init(&m->tools, config, bindir) == -1) {
		free(m);
		return NULL;
	}
	m->rpc.request = request;
	m->rpc.notify = notification;
	m->rpc.arg = m;
	m->state = ST_NEW;
	return m;
}

void
mcp_free(struct mcp *m)
{
	if (m == NULL)
		return;
	mcptools_free(&m->tools);
	free(m);
}

/* The log line for the last message; *iserr says it drew a protocol error. */
const char *
mcp_note(const struct mcp *m, int *iserr)
{
	if (iserr != NULL)
		*iserr = m->rpc.noteerr;
	return m->rpc.note;
}

/*
 * Handle one message (a line without its newline). *out is the response,
 * NUL-terminated, to be freed, or NULL when none is due. Returns -1 only
 * when out of memory.
 */
int
mcp_handle(struct mcp *m, const char *line, size_t len, char **out)
{
	return jsonrpc_handle(&m->rpc, line, len, out);
}

/* The answer to a line longer than JSONRPC_LINE_MAX, which was discarded. */
int
mcp_oversized(struct mcp *m, char **out)
{
	return jsonrpc_oversized(&m->rpc, out);
}
