/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "mcp.h"
#include "mcptools.h"
#include "now.h"

/* Newest first: the answer to a version we do not know is the first. */
static const char *const versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

enum state { ST_NEW, ST_ANSWERED, ST_READY };

#define POLL_MAX	8	/* fds a tool may wait on */

struct mcp {
	struct jsonrpc	 rpc;
	struct mcptool_ctx	 tools;
	enum state	 state;
	const char	*version;	/* negotiated */
	/* Serving while a tool waits (mcp_io). */
	struct jsonrpc_reader *rd;
	int		 infd;		/* -1: nothing to serve */
	int		(*send)(void *, const char *);
	void		*sendarg;
	struct kept {
		char	*s;
		size_t	 len;
	}		*queue;		/* lines kept for after the call */
	size_t		 nqueue, qhead;
	json_t		*callid;	/* the tools/call that waits */
	json_t		*token;		/* its progressToken, or NULL */
	long long	 lastprog;
	int		 cancelled;
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

/* Send msg now (a ping's answer, progress); the caller still owns it. */
static void
send_now(struct mcp *m, json_t *msg)
{
	char *s;

	if (msg == NULL || m->send == NULL)
		return;
	if ((s = json_dumps(msg, JSON_COMPACT)) != NULL)
		m->send(m->sendarg, s);
	free(s);
}

static int
keep(struct mcp *m, const char *line, size_t len)
{
	struct kept *q;

	if ((q = reallocarray(m->queue, m->nqueue + 1, sizeof(*q))) == NULL)
		return -1;
	m->queue = q;
	if ((q[m->nqueue].s = malloc(len + 1)) == NULL)
		return -1;
	memcpy(q[m->nqueue].s, line, len);
	q[m->nqueue].s[len] = '\0';
	q[m->nqueue++].len = len;
	return 0;
}

/*
 * A line read while a tool waits: a ping is answered now, a cancel of
 * the waiting call is noted; everything else is kept for after, in order
 * (a request answered out of turn could change what the waiting call
 * does; ping cannot).
 */
static void
interject(struct mcp *m, const char *line, size_t len)
{
	json_t *msg, *id, *params, *resp;
	const char *method;

	msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	method = json_string_value(json_object_get(msg, "method"));
	id = json_object_get(msg, "id");
	params = json_object_get(msg, "params");
	if (method == NULL || !json_is_string(json_object_get(msg,
	    "jsonrpc")) || strcmp(json_string_value(json_object_get(msg,
	    "jsonrpc")), "2.0") != 0 || (params != NULL &&
	    !json_is_object(params)))
		goto later;
	if (strcmp(method, "ping") == 0 && (json_is_string(id) ||
	    json_is_integer(id))) {
		resp = jsonrpc_reply(id, json_object());
		send_now(m, resp);
		json_decref(resp);
		jsonrpc_note(&m->rpc, 0, "ping (while a tool waits)");
		json_decref(msg);
		return;
	}
	if (strcmp(method, "notifications/cancelled") == 0 && id == NULL &&
	    m->callid != NULL && json_equal(json_object_get(params,
	    "requestId"), m->callid)) {
		m->cancelled = 1;
		json_decref(msg);
		return;
	}
later:
	json_decref(msg);
	if (keep(m, line, len) == -1)
		m->cancelled = 1;	/* out of memory: stop waiting */
}

/* Lines the caller's reader holds or, when ready, one read brings. */
static void
take_input(struct mcp *m, int ready)
{
	struct sxerr e;
	char *line, *resp;
	size_t len;
	int r;

	for (;;) {
		r = jsonrpc_read_some(m->rd, m->infd, ready, &line, &len, &e);
		ready = 0;
		if (r == JSONRPC_AGAIN || r == JSONRPC_EOF)
			return;
		if (r == -1) {
			/* The caller's next read says so; stop listening. */
			m->infd = -1;
			return;
		}
		if (r == JSONRPC_TOOLONG) {
			if (jsonrpc_oversized(&m->rpc, &resp) == 0 &&
			    resp != NULL && m->send != NULL)
				m->send(m->sendarg, resp);
			free(resp);
			continue;
		}
		if (len > 0 && strspn(line, " \t") != len)
			interject(m, line, len);
	}
}

/* struct mcpwait's poll: the tool's fds and the client's, together. */
static int
session_poll(void *arg, struct pollfd *fds, nfds_t n, int ms)
{
	struct mcp *m = arg;
	struct pollfd pfd[POLL_MAX + 1];
	nfds_t k = n, i;
	int rc;

	if (n > POLL_MAX) {
		errno = EINVAL;
		return -1;
	}
	take_input(m, 0);
	if (m->cancelled) {
		errno = ECANCELED;
		return -1;
	}
	if (n > 0)
		memcpy(pfd, fds, n * sizeof(*fds));
	if (m->infd != -1 && !m->rd->eof) {
		pfd[k].fd = m->infd;
		pfd[k].events = POLLIN;
		pfd[k++].revents = 0;
	}
	if (poll(pfd, k, ms) == -1)
		return -1;
	if (n > 0)
		memcpy(fds, pfd, n * sizeof(*fds));
	if (k > n && pfd[n].revents != 0)
		take_input(m, 1);
	if (m->cancelled) {
		errno = ECANCELED;
		return -1;
	}
	for (i = 0, rc = 0; i < n; i++)
		rc += fds[i].revents != 0;
	return rc;
}

/* struct mcpwait's progress: a notification at most once a second. */
static void
session_progress(void *arg, double done, double total, const char *msg)
{
	struct mcp *m = arg;
	json_t *n;
	long long now = now_ms();

	if (m->token == NULL || (m->lastprog != 0 && now - m->lastprog < 1000))
		return;
	m->lastprog = now;
	n = json_pack("{s:s, s:s, s:{s:O, s:f, s:o}}", "jsonrpc", "2.0",
	    "method", "notifications/progress", "params", "progressToken",
	    m->token, "progress", done, "message", jsonrpc_text(msg));
	if (n != NULL && total > 0)
		json_object_set_new(json_object_get(n, "params"), "total",
		    json_real(total));
	send_now(m, n);
	json_decref(n);
}

static json_t *
do_tools_call(struct mcp *m, json_t *id, json_t *params)
{
	struct mcpwait w = { session_poll, session_progress, m };
	struct sxerr e;
	json_t *name, *args, *res, *tok;
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
	tok = json_object_get(json_object_get(params, "_meta"),
	    "progressToken");
	m->token = json_is_string(tok) || json_is_integer(tok) ? tok : NULL;
	m->callid = id;
	m->cancelled = 0;
	m->lastprog = 0;
	res = mcptools_call(&m->tools, tool, args, m->send != NULL ? &w :
	    NULL, &e);
	m->callid = m->token = NULL;
	if (m->cancelled) {
		/* The client gave up on it: no response (MCP cancellation). */
		json_decref(res);
		m->rpc.silent = 1;
		jsonrpc_note(&m->rpc, 0, "tools/call %s: cancelled", tool);
		return NULL;
	}
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
	/* A method we do not have is that, initialized or not. */
	if (strcmp(name, "tools/list") != 0 && strcmp(name, "tools/call") != 0)
		return jsonrpc_error(&m->rpc, id, RPC_METHOD,
		    "Method not found: %.100s", name);
	if (m->state == ST_NEW)
		return jsonrpc_error(&m->rpc, id, RPC_REQUEST,
		    "Invalid Request: not initialized");
	if (strcmp(name, "tools/list") == 0)
		return do_tools_list(m, id, params);
	return do_tools_call(m, id, params);
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
	m->infd = -1;
	return m;
}

/*
 * What a waiting tool may use: rd, the caller's reader of infd (lines
 * it holds are the session's to take while a tool waits), and send,
 * which writes one message (no newline) to the client at once.
 */
void
mcp_io(struct mcp *m, struct jsonrpc_reader *rd, int infd,
    int (*send)(void *, const char *), void *arg)
{
	m->rd = rd;
	m->infd = rd != NULL ? infd : -1;
	m->send = send;
	m->sendarg = arg;
}

/* The next line kept while a tool waited (1, *line to free), or 0. */
int
mcp_queued(struct mcp *m, char **line, size_t *len)
{
	if (m->qhead == m->nqueue) {
		free(m->queue);
		m->queue = NULL;
		m->qhead = m->nqueue = 0;
		return 0;
	}
	*line = m->queue[m->qhead].s;
	*len = m->queue[m->qhead++].len;
	return 1;
}

void
mcp_free(struct mcp *m)
{
	if (m == NULL)
		return;
	while (m->qhead < m->nqueue)
		free(m->queue[m->qhead++].s);
	free(m->queue);
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
