/* SPDX-License-Identifier: AGPL-3.0-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonrpc.h"

/*
 * What happened to the last message, one line for the log. It quotes what
 * the client sent, so anything but printable ASCII becomes '?': a log
 * line must not carry terminal escapes or break into two.
 */
void
jsonrpc_note(struct jsonrpc *r, int iserr, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
	for (s = r->note; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
	r->noteerr = iserr;
}

/*
 * A JSON string for text that need not be UTF-8 (a path in a message, a
 * program's output, a name cut short by %.100s): if it is not, every byte
 * outside ASCII becomes '?'. NULL only when out of memory.
 */
json_t *
jsonrpc_text(const char *s)
{
	json_t *j;
	char *c, *p;

	if ((j = json_string(s)) != NULL || (c = strdup(s)) == NULL)
		return j;
	for (p = c; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	return j;
}

json_t *
jsonrpc_reply(json_t *id, json_t *result)
{
	if (result == NULL)
		return NULL;
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id,
	    "result", result);
}

/* An error response; id is NULL when the request's id is unknown. */
json_t *
jsonrpc_error(struct jsonrpc *r, json_t *id, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *null = json_null();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonrpc_note(r, 1, "error %d: %s", code, msg);
	return json_pack("{s:s, s:O, s:{s:i, s:o}}", "jsonrpc", "2.0",
	    "id", id != NULL ? id : null, "error", "code", code,
	    "message", jsonrpc_text(msg));
}

static int
valid_id(const json_t *id)
{
	/* MCP narrows JSON-RPC: a string or an integer, never null. */
	return json_is_string(id) || json_is_integer(id);
}

/*
 * One message: the response, or NULL with *silent set when none is due (a
 * notification, a stray response); NULL otherwise: out of memory.
 */
static json_t *
answer(struct jsonrpc *r, json_t *msg, int inbatch, int *silent)
{
	json_t *id, *method, *params;
	const char *name;

	*silent = 0;
	if (!json_is_object(msg))
		return jsonrpc_error(r, NULL, RPC_REQUEST,
		    "Invalid Request: not an object");
	id = json_object_get(msg, "id");
	method = json_object_get(msg, "method");
	if (method == NULL && id != NULL &&
	    (json_object_get(msg, "result") != NULL ||
	    json_object_get(msg, "error") != NULL)) {
		/* A response, yet we never send requests. */
		jsonrpc_note(r, 0, "response from client: ignored");
		*silent = 1;
		return NULL;
	}
	if (id != NULL && !valid_id(id))
		return jsonrpc_error(r, NULL, RPC_REQUEST,
		    "Invalid Request: id must be a string or an integer");
	if (!json_is_string(json_object_get(msg, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(msg, "jsonrpc")),
	    "2.0") != 0)
		return jsonrpc_error(r, id, RPC_REQUEST,
		    "Invalid Request: jsonrpc must be \"2.0\"");
	if (!json_is_string(method))
		return jsonrpc_error(r, id, RPC_REQUEST,
		    "Invalid Request: method must be a string");
	name = json_string_value(method);
	params = json_object_get(msg, "params");
	if (id == NULL) {
		r->notify(r->arg, name);
		*silent = 1;
		return NULL;
	}
	if (params != NULL && !json_is_object(params))
		return jsonrpc_error(r, id, RPC_PARAMS,
		    "Invalid params: params must be an object");
	return r->request(r->arg, id, name, params, inbatch);
}

static json_t *
handle_one(struct jsonrpc *r, json_t *msg, int inbatch, int *oom)
{
	json_t *resp;
	int silent;

	resp = answer(r, msg, inbatch, &silent);
	*oom = resp == NULL && !silent;
	return resp;
}

static json_t *
handle_batch(struct jsonrpc *rpc, json_t *batch, int *oom)
{
	json_t *out, *r, *v;
	size_t i;
	int n = 0, anyerr = 0;

	if (json_array_size(batch) == 0) {
		r = jsonrpc_error(rpc, NULL, RPC_REQUEST,
		    "Invalid Request: empty batch");
		*oom = r == NULL;
		return r;
	}
	if ((out = json_array()) == NULL) {
		*oom = 1;
		return NULL;
	}
	json_array_foreach(batch, i, v) {
		r = handle_one(rpc, v, 1, oom);
		anyerr |= rpc->noteerr;
		if (r == NULL) {
			if (*oom)
				break;
			continue;
		}
		if (json_array_append_new(out, r) == -1) {
			*oom = 1;
			break;
		}
		n++;
	}
	if (*oom || n == 0) {
		json_decref(out);
		return NULL;
	}
	/* One log line for the lot; an error in any makes it one. */
	jsonrpc_note(rpc, anyerr, "batch of %zu: %d answered",
	    json_array_size(batch), n);
	return out;
}

static int
emit(json_t *resp, char **out)
{
	/* Compact JSON escapes every newline: one message, one line. */
	*out = json_dumps(resp, JSON_COMPACT);
	json_decref(resp);
	return *out == NULL ? -1 : 0;
}

/*
 * Handle one message (a line without its newline). *out is the response,
 * NUL-terminated, to be freed, or NULL when none is due. Returns -1 only
 * when out of memory.
 */
int
jsonrpc_handle(struct jsonrpc *r, const char *line, size_t len, char **out)
{
	json_error_t jerr;
	json_t *msg, *resp;
	int oom = 0;

	*out = NULL;
	r->note[0] = '\0';
	r->noteerr = 0;
	/* Duplicate keys would let two readers see two different requests. */
	msg = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    &jerr);
	if (msg == NULL) {
		resp = jsonrpc_error(r, NULL, RPC_PARSE, "Parse error: %s "
		    "(column %d)", jerr.text, jerr.column);
		return resp == NULL ? -1 : emit(resp, out);
	}
	if (json_is_array(msg))
		resp = handle_batch(r, msg, &oom);
	else
		resp = handle_one(r, msg, 0, &oom);
	json_decref(msg);
	if (resp == NULL)
		return oom ? -1 : 0;
	return emit(resp, out);
}

/* The answer to a line longer than JSONRPC_LINE_MAX, which was discarded. */
int
jsonrpc_oversized(struct jsonrpc *r, char **out)
{
	json_t *resp;

	*out = NULL;
	resp = jsonrpc_error(r, NULL, RPC_REQUEST, "Invalid Request: message "
	    "longer than %d bytes, discarded", JSONRPC_LINE_MAX);
	return resp == NULL ? -1 : emit(resp, out);
}

int
jsonrpc_reader_init(struct jsonrpc_reader *r, struct sxerr *e)
{
	memset(r, 0, sizeof(*r));
	if ((r->buf = malloc(JSONRPC_LINE_MAX + 2)) == NULL)
		return sxerr_errno(e, EX_OSERR, "line buffer");
	return 0;
}

void
jsonrpc_reader_free(struct jsonrpc_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/*
 * The next line from fd, without its newline (and a CR before it), NUL
 * terminated, valid until the next call. JSONRPC_TOOLONG once for a line
 * longer than JSONRPC_LINE_MAX, whose bytes are then skipped up to its
 * newline; JSONRPC_EOF at the end; -1 on a read error. A last line without a
 * newline still counts.
 */
int
jsonrpc_read(struct jsonrpc_reader *r, int fd, char **line, size_t *len,
    struct sxerr *e)
{
	char *nl;
	ssize_t n;
	size_t cap = JSONRPC_LINE_MAX + 1;

	for (;;) {
		nl = memchr(r->buf + r->off + r->scan, '\n',
		    r->len - r->off - r->scan);
		if (nl != NULL) {
			*line = r->buf + r->off;
			*len = nl - *line;
			*nl = '\0';
			r->off += *len + 1;
			r->scan = 0;
			if (r->skip) {
				r->skip = 0;
				continue;
			}
			if (*len > 0 && (*line)[*len - 1] == '\r')
				(*line)[--*len] = '\0';
			return JSONRPC_LINE;
		}
		r->scan = r->len - r->off;
		if (r->eof) {
			if (r->scan == 0 || r->skip)
				return JSONRPC_EOF;
			*line = r->buf + r->off;
			*len = r->scan;
			(*line)[*len] = '\0';
			r->off = r->len;
			r->scan = 0;
			return JSONRPC_LINE;
		}
		if (r->off > 0) {
			memmove(r->buf, r->buf + r->off, r->len - r->off);
			r->len -= r->off;
			r->off = 0;
		}
		if (r->len == cap) {
			/* No newline in more than JSONRPC_LINE_MAX bytes. */
			r->len = r->scan = 0;
			if (!r->skip) {
				r->skip = 1;
				return JSONRPC_TOOLONG;
			}
		}
		n = read(fd, r->buf + r->len, cap - r->len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return sxerr_errno(e, EX_OSERR, "read");
		}
		if (n == 0)
			r->eof = 1;
		r->len += n;
	}
}
