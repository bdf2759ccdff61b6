/* SPDX-License-Identifier: AGPL-3.0-only */
/* The MCP message handler and line reader, driven directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonrpc.h"
#include "mcp.h"

static char conf[] = "/tmp/mcp-unit-XXXXXX";

static const char policy_yaml[] =
    "default:\n"
    "  ssh: allow\n"
    "  tunnels: deny\n"
    "hosts:\n"
    "  labbox: {tunnels: allow}\n"
    "  \"*.evil.example\": {ssh: deny}\n";

/*
 * Send one line, written with ' for " to spare the eye; the parsed
 * response, or NULL when none came.
 */
static json_t *
rpc(struct mcp *m, const char *text)
{
	json_error_t jerr;
	json_t *r;
	char *line, *out, *q;

	line = strdup(text);
	for (q = line; (q = strchr(q, '\'')) != NULL; q++)
		*q = '"';
	assert_int_equal(mcp_handle(m, line, strlen(line), &out), 0);
	free(line);
	if (out == NULL)
		return NULL;
	assert_null(strchr(out, '\n'));
	r = json_loads(out, 0, &jerr);
	assert_non_null(r);
	if (json_is_object(r))
		assert_string_equal(json_string_value(json_object_get(r,
		    "jsonrpc")), "2.0");
	free(out);
	return r;
}

static int
errcode(const json_t *r)
{
	return (int)json_integer_value(json_object_get(
	    json_object_get(r, "error"), "code"));
}

/* An error response with this code and a null id. */
static void
expect_error(struct mcp *m, const char *line, int code, int null_id)
{
	json_t *r = rpc(m, line);

	assert_non_null(r);
	assert_int_equal(errcode(r), code);
	assert_null(json_object_get(r, "result"));
	if (null_id)
		assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
}

static struct mcp *
ready(void)
{
	struct mcp *m = mcp_new(conf, "/nonexistent");
	json_t *r;

	assert_non_null(m);
	r = rpc(m, "{'jsonrpc':'2.0','id':0,'method':'initialize',"
	    "'params':{'protocolVersion':'2025-06-18','capabilities':{},"
	    "'clientInfo':{'name':'unit','version':'1'}}}");
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
	assert_null(rpc(m, "{'jsonrpc':'2.0',"
	    "'method':'notifications/initialized'}"));
	return m;
}

static void
test_negotiate(void **state)
{
	static const struct {
		const char *asked, *got;
	} t[] = {
		{ "2024-11-05", "2024-11-05" },
		{ "2025-03-26", "2025-03-26" },
		{ "2025-06-18", "2025-06-18" },
		{ "2025-11-25", "2025-11-25" },
		{ "2099-01-01", "2025-11-25" },
		{ "", "2025-11-25" },
	};
	char line[256];
	struct mcp *m;
	json_t *r, *res;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		m = mcp_new(NULL, "/nonexistent");
		snprintf(line, sizeof(line), "{'jsonrpc':'2.0','id':'a',"
		    "'method':'initialize','params':{'protocolVersion':"
		    "'%s'}}", t[i].asked);
		r = rpc(m, line);
		res = json_object_get(r, "result");
		assert_string_equal(json_string_value(json_object_get(res,
		    "protocolVersion")), t[i].got);
		assert_string_equal(json_string_value(json_object_get(r, "id")),
		    "a");
		assert_non_null(json_object_get(json_object_get(res,
		    "capabilities"), "tools"));
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(res, "serverInfo"), "name")),
		    "ssh-tunnel-mcp");
		json_decref(r);
		/* Once only. */
		expect_error(m, line, -32600, 0);
		mcp_free(m);
	}
	m = mcp_new(NULL, "/nonexistent");
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':"
	    "'initialize','params':{}}", -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':"
	    "'initialize','params':{'protocolVersion':20250618}}",
	    -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':"
	    "'initialize'}", -32602, 0);
	mcp_free(m);
}

static void
test_lifecycle(void **state)
{
	struct mcp *m = mcp_new(NULL, "/nonexistent");
	json_t *r;

	/* Before initialize: ping only. */
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':"
	    "'tools/list'}", -32600, 0);
	r = rpc(m, "{'jsonrpc':'2.0','id':2,'method':'ping'}");
	assert_true(json_is_object(json_object_get(r, "result")));
	assert_int_equal(json_object_size(json_object_get(r, "result")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);
	mcp_free(m);
}

static void
test_malformed(void **state)
{
	struct mcp *m = ready();
	char *deep;
	size_t i;

	expect_error(m, "{", -32700, 1);
	expect_error(m, "not json", -32700, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'id':2,"
	    "'method':'ping'}", -32700, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'p\\u0000'}",
	    -32700, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'\xff'}",
	    -32700, 1);
	expect_error(m, "42", -32600, 1);
	expect_error(m, "'ping'", -32600, 1);
	expect_error(m, "null", -32600, 1);
	expect_error(m, "{}", -32600, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':null,'method':'ping'}",
	    -32600, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':1.5,'method':'ping'}",
	    -32600, 1);
	expect_error(m, "{'jsonrpc':'2.0','id':[1],'method':'ping'}",
	    -32600, 1);
	expect_error(m, "{'jsonrpc':'1.0','id':1,'method':'ping'}",
	    -32600, 0);
	expect_error(m, "{'id':1,'method':'ping'}", -32600, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':7}",
	    -32600, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1}", -32600, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'nope'}",
	    -32601, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':"
	    "'resources/list'}", -32601, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'ping',"
	    "'params':[]}", -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/list',"
	    "'params':{'cursor':'x'}}", -32602, 0);

	/* A name cut at 100 bytes inside a character is still answered. */
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\u00e9'}",
	    -32601, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call','params':"
	    "{'name':'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\u00e9'}}",
	    -32602, 0);

	/* Nesting far past any sane message: refused, not recursed into. */
	deep = malloc(200001);
	for (i = 0; i < 100000; i++)
		deep[i] = '[';
	for (; i < 200000; i++)
		deep[i] = ']';
	deep[i] = '\0';
	expect_error(m, deep, -32700, 1);
	free(deep);
	mcp_free(m);
}

static void
test_silent(void **state)
{
	struct mcp *m = ready();

	/* Notifications are never answered, not even when wrong. */
	assert_null(rpc(m, "{'jsonrpc':'2.0','method':'nope'}"));
	assert_null(rpc(m, "{'jsonrpc':'2.0','method':"
	    "'notifications/cancelled','params':{'requestId':1}}"));
	assert_null(rpc(m, "{'jsonrpc':'2.0','method':'ping',"
	    "'params':5}"));
	/* Nor are responses: we never ask anything. */
	assert_null(rpc(m, "{'jsonrpc':'2.0','id':1,'result':{}}"));
	assert_null(rpc(m, "{'jsonrpc':'2.0','id':1,'error':"
	    "{'code':1,'message':'x'}}"));
	mcp_free(m);
}

static void
test_tools_list(void **state)
{
	static const char *const want[] = {
		"allow_check", "tunnel_setup", "tunnel_status", "tunnel_remove",
	};
	struct mcp *m = ready();
	json_t *r, *tools, *t, *s;
	size_t i;

	r = rpc(m, "{'jsonrpc':'2.0','id':1,'method':'tools/list',"
	    "'params':{}}");
	tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_int_equal(json_array_size(tools), 4);
	json_array_foreach(tools, i, t) {
		assert_string_equal(json_string_value(json_object_get(t,
		    "name")), want[i]);
		assert_true(json_is_string(json_object_get(t, "description")));
		s = json_object_get(t, "inputSchema");
		assert_string_equal(json_string_value(json_object_get(s,
		    "type")), "object");
		assert_true(json_is_object(json_object_get(s, "properties")));
		assert_true(json_is_false(json_object_get(s,
		    "additionalProperties")));
	}
	json_decref(r);
	mcp_free(m);
}

/* tools/call name with arguments (JSON text); the result object. */
static json_t *
call(struct mcp *m, const char *tool, const char *args)
{
	char line[1024];
	json_t *r, *res;

	snprintf(line, sizeof(line), "{'jsonrpc':'2.0','id':9,'method':"
	    "'tools/call','params':{'name':'%s','arguments':%s}}",
	    tool, args);
	r = rpc(m, line);
	assert_null(json_object_get(r, "error"));
	res = json_incref(json_object_get(r, "result"));
	json_decref(r);
	assert_non_null(res);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(res, "content"), 0), "type")),
	    "text");
	return res;
}

/* A tool error whose text contains want. */
static void
expect_tool_error(struct mcp *m, const char *tool, const char *args,
    const char *want)
{
	json_t *res = call(m, tool, args);
	const char *text;

	assert_true(json_is_true(json_object_get(res, "isError")));
	assert_null(json_object_get(res, "structuredContent"));
	text = json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "content"), 0), "text"));
	if (strstr(text, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", text, want);
	json_decref(res);
}

static void
expect_decision(struct mcp *m, const char *args, const char *host,
    const char *decision, const char *rule)
{
	json_t *res = call(m, "allow_check", args), *sc;
	json_error_t jerr;
	json_t *again;

	assert_true(json_is_false(json_object_get(res, "isError")));
	sc = json_object_get(res, "structuredContent");
	assert_string_equal(json_string_value(json_object_get(sc, "host")),
	    host);
	assert_string_equal(json_string_value(json_object_get(sc,
	    "decision")), decision);
	if (strstr(json_string_value(json_object_get(sc, "rule")), rule) ==
	    NULL)
		fail_msg("rule %s lacks %s",
		    json_string_value(json_object_get(sc, "rule")), rule);
	/* The text block is the same JSON, for older clients. */
	again = json_loads(json_string_value(json_object_get(json_array_get(
	    json_object_get(res, "content"), 0), "text")), 0, &jerr);
	assert_true(json_equal(again, sc));
	json_decref(again);
	json_decref(res);
}

static void
test_allow_check(void **state)
{
	struct mcp *m = ready();

	expect_decision(m, "{'host':'LabBox.','feature':'tunnels'}",
	    "labbox", "allow", "hosts: \"labbox\": tunnels: allow");
	expect_decision(m, "{'host':'other','feature':'tunnels'}",
	    "other", "deny", "default: tunnels: deny");
	expect_decision(m, "{'host':'a.evil.example'}", "a.evil.example",
	    "deny", "*.evil.example");
	expect_decision(m, "{'host':'good.example'}", "good.example",
	    "allow", "default: ssh: allow");
	expect_decision(m, "{'host':'::FFFF:127.0.0.1'}", "127.0.0.1",
	    "allow", "default");
	expect_decision(m, "{'host':'x','feature':'rsync'}", "x",
	    "deny", "neither");

	expect_tool_error(m, "allow_check", "{}", "host: missing");
	expect_tool_error(m, "allow_check", "{'host':5}",
	    "host: expected a string");
	expect_tool_error(m, "allow_check", "{'host':''}", "host: empty");
	expect_tool_error(m, "allow_check", "{'host':'a;reboot'}",
	    "not a valid host");
	expect_tool_error(m, "allow_check", "{'host':'-oProxyCommand=x'}",
	    "not a valid host");
	expect_tool_error(m, "allow_check", "{'host':'127.1'}",
	    "not a valid host");
	expect_tool_error(m, "allow_check", "{'host':'a','x':1}",
	    "x: unknown argument");
	expect_tool_error(m, "allow_check", "{'host':'a','feature':"
	    "'no way'}", "feature");
	expect_tool_error(m, "allow_check", "{'host':'a','feature':"
	    "null}", "feature: expected a string");
	mcp_free(m);
}

static void
test_tool_errors(void **state)
{
	char home[] = "/tmp/mcp-home-XXXXXX";
	struct mcp *m = ready();
	struct mcp *nofile;
	json_t *r;

	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call',"
	    "'params':{'name':'rm_rf'}}", -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call',"
	    "'params':{}}", -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call',"
	    "'params':{'name':['allow_check']}}", -32602, 0);
	expect_error(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call',"
	    "'params':{'name':'allow_check','arguments':'x'}}",
	    -32602, 0);
	/* No arguments at all: as {}. */
	r = rpc(m, "{'jsonrpc':'2.0','id':1,'method':'tools/call',"
	    "'params':{'name':'allow_check'}}");
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"),
	    "isError")));
	json_decref(r);

	expect_tool_error(m, "tunnel_setup", "{'name':'x','port':0}",
	    "port: expected an integer from 1 to 65535");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','port':'22'}",
	    "port: expected an integer");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','forwards':"
	    "['R 1:a:2',3]}", "forwards[1]: expected a string");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','backend':"
	    "'launchd'}", "backend: not one of");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','ssh_options':"
	    "['a=']}", "ssh_options[0]: shorter than 3 bytes");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','dry_run':1}",
	    "dry_run: expected true or false");

	/* Arguments are checked before any program would run. */
	expect_tool_error(m, "tunnel_status", "{'name':'a','port':1}",
	    "give name or port, not both");
	expect_tool_error(m, "tunnel_remove", "{}", "give name or port");
	expect_tool_error(m, "tunnel_setup", "{'name':'-x'}",
	    "not a valid tunnel name");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','key':'rel/key'}",
	    "bad key path");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','ssh_options':"
	    "['LocalCommand=id']}", "not allowed");
	expect_tool_error(m, "tunnel_setup", "{'name':'x','forwards':"
	    "['R 1:a:2','R 3:a:4']}", "forwards: one R forward");
	/* ssh-tunnel-up, the supervisor, is not where it was said to be. */
	expect_tool_error(m, "tunnel_setup", "{'name':'x','dry_run':true}",
	    "/nonexistent/ssh-tunnel-up: No such file or directory");
	/* Status and removal run here, in an empty home of their own. */
	assert_non_null(mkdtemp(home));
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", home, 1);
	setenv("XDG_STATE_HOME", home, 1);
	expect_tool_error(m, "tunnel_status", "{'name':'x'}",
	    "x: no such tunnel");
	expect_tool_error(m, "tunnel_remove", "{'port':2222}",
	    "port 2222: no such tunnel");
	expect_tool_error(m, "tunnel_remove", "{'name':'x'}",
	    "x: no such tunnel");
	assert_int_equal(rmdir(home), 0);

	/* A missing config file is the tool's error, not the protocol's. */
	nofile = mcp_new("/nonexistent/scitex-ssh.yaml", "/nonexistent");
	r = rpc(nofile, "{'jsonrpc':'2.0','id':0,'method':"
	    "'initialize','params':{'protocolVersion':'2025-06-18'}}");
	json_decref(r);
	expect_tool_error(nofile, "allow_check", "{'host':'a'}",
	    "/nonexistent/scitex-ssh.yaml");
	mcp_free(nofile);
	/* A message quoting a path that is not UTF-8 is still JSON. */
	nofile = mcp_new("/nonexistent/\xff.yaml", "/nonexistent");
	r = rpc(nofile, "{'jsonrpc':'2.0','id':0,'method':"
	    "'initialize','params':{'protocolVersion':'2025-06-18'}}");
	json_decref(r);
	expect_tool_error(nofile, "allow_check", "{'host':'a'}",
	    "/nonexistent/?.yaml");
	mcp_free(nofile);
	mcp_free(m);
}

static void
test_batch(void **state)
{
	struct mcp *m = ready();
	json_t *r;

	r = rpc(m, "[{'jsonrpc':'2.0','id':1,'method':'ping'},"
	    "{'jsonrpc':'2.0','method':'notifications/x'},"
	    "{'jsonrpc':'2.0','id':2,'method':'nope'},3]");
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 3);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(r, 0), "id")), 1);
	assert_int_equal(errcode(json_array_get(r, 1)), -32601);
	assert_int_equal(errcode(json_array_get(r, 2)), -32600);
	json_decref(r);
	assert_null(rpc(m, "[{'jsonrpc':'2.0','method':'a'},"
	    "{'jsonrpc':'2.0','method':'b'}]"));
	expect_error(m, "[]", -32600, 1);
	r = rpc(m, "[{'jsonrpc':'2.0','id':1,'method':'initialize',"
	    "'params':{'protocolVersion':'2025-03-26'}}]");
	assert_int_equal(errcode(json_array_get(r, 0)), -32600);
	json_decref(r);
	mcp_free(m);
}

static void
test_oversized(void **state)
{
	struct mcp *m = ready();
	char *out;
	json_t *r;

	assert_int_equal(mcp_oversized(m, &out), 0);
	r = json_loads(out, 0, NULL);
	assert_int_equal(errcode(r), -32600);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	free(out);
	mcp_free(m);
}

/* The lines jsonrpc_read cuts from a file holding data. */
static void
read_lines(const char *data, size_t n, const int *want_kind,
    const size_t *want_len, size_t nwant)
{
	struct jsonrpc_reader rd;
	struct sxerr e;
	char path[] = "/tmp/mcp-read-XXXXXX", *line;
	size_t len, i;
	int fd;

	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(jsonrpc_reader_init(&rd, &e), 0);
	for (i = 0; i < nwant; i++) {
		assert_int_equal(jsonrpc_read(&rd, fd, &line, &len, &e),
		    want_kind[i]);
		if (want_kind[i] == JSONRPC_LINE) {
			assert_int_equal(len, want_len[i]);
			assert_int_equal(line[len], '\0');
		}
	}
	assert_int_equal(jsonrpc_read(&rd, fd, &line, &len, &e), JSONRPC_EOF);
	jsonrpc_reader_free(&rd);
	close(fd);
}

static void
test_reader(void **state)
{
	static const int k1[] = { JSONRPC_LINE, JSONRPC_LINE, JSONRPC_LINE, JSONRPC_LINE };
	static const size_t l1[] = { 3, 0, 2, 4 };
	size_t big = JSONRPC_LINE_MAX + 10, n;
	char *data;

	read_lines("abc\n\nde\r\nlast", 13, k1, l1, 4);

	/* Exactly the limit passes; one byte more is refused, and skipped
	 * up to its newline without upsetting the next line. */
	data = malloc(3 * big);
	memset(data, 'x', JSONRPC_LINE_MAX);
	data[JSONRPC_LINE_MAX] = '\n';
	memset(data + JSONRPC_LINE_MAX + 1, 'y', JSONRPC_LINE_MAX + 1);
	n = 2 * JSONRPC_LINE_MAX + 2;
	data[n++] = '\n';
	memcpy(data + n, "ok\n", 3);
	n += 3;
	{
		static const int k[] = { JSONRPC_LINE, JSONRPC_TOOLONG, JSONRPC_LINE };
		static const size_t l[] = { JSONRPC_LINE_MAX, 0, 2 };

		read_lines(data, n, k, l, 3);
	}
	/* An oversized last line without a newline: refused, then EOF. */
	memset(data, 'z', big);
	{
		static const int k[] = { JSONRPC_TOOLONG };
		static const size_t l[] = { 0 };

		read_lines(data, big, k, l, 1);
	}
	/* Many times the limit in one line: one refusal only. */
	free(data);
	n = 3 * JSONRPC_LINE_MAX + 5;
	data = malloc(n + 4);
	memset(data, '{', n);
	memcpy(data + n, "\n{}\n", 4);
	{
		static const int k[] = { JSONRPC_TOOLONG, JSONRPC_LINE };
		static const size_t l[] = { 0, 2 };

		read_lines(data, n + 4, k, l, 2);
	}
	free(data);
}

static int
setup_conf(void **state)
{
	int fd;

	if ((fd = mkstemp(conf)) == -1)
		return -1;
	if (write(fd, policy_yaml, sizeof(policy_yaml) - 1) !=
	    (ssize_t)sizeof(policy_yaml) - 1)
		return -1;
	return close(fd);
}

static int
remove_conf(void **state)
{
	return unlink(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_tools_list),
		cmocka_unit_test(test_allow_check),
		cmocka_unit_test(test_tool_errors),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_reader),
	};

	return cmocka_run_group_tests(tests, setup_conf, remove_conf);
}
