/* SPDX-License-Identifier: AGPL-3.0-only */
/*
 * libFuzzer over the MCP message handler: the input is a stream of lines,
 * each handed to mcp_handle() on one session, which is initialized first
 * so that every method and tool is in reach. Every answer must be one line
 * of valid JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mcp.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char conf[] = "/tmp/mcp-fuzz-XXXXXX";
static char home[] = "/tmp/mcp-fuzz-home-XXXXXX";

static const char policy[] =
    "default: {ssh: allow, tunnels: deny}\n"
    "hosts:\n"
    "  \"*.example.org,!bad.example.org\": {ssh: allow, scp: deny}\n"
    "  \"10.0.0.?\": {ssh: deny}\n";

static const char init[] =
    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
    "{\"protocolVersion\":\"2025-06-18\"}}";

static void
cleanup(void)
{
	unlink(conf);
	rmdir(home);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	/* No user's files in reach: a private HOME and XDG directories. */
	if (mkdtemp(home) == NULL)
		abort();
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	setenv("XDG_STATE_HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", home, 1);
	unsetenv("SCITEX_SSH_CONFIG");
	if ((fd = mkstemp(conf)) == -1 ||
	    write(fd, policy, sizeof(policy) - 1) != sizeof(policy) - 1)
		abort();
	close(fd);
	atexit(cleanup);
	return 0;
}

static int
calls_remove(const json_t *msg)
{
	const json_t *params = json_object_get(msg, "params");
	const char *method, *tool;

	method = json_string_value(json_object_get(msg, "method"));
	tool = json_string_value(json_object_get(params, "name"));
	return method != NULL && strcmp(method, "tools/call") == 0 &&
	    tool != NULL && strcmp(tool, "tunnel_remove") == 0;
}

/*
 * tunnel_remove runs in the server's process: as root it would reach the
 * system's tunnels and scitex-ssh 1.0's units, which no private HOME
 * hides. A line that calls it, alone or in a batch, is not handed on.
 */
static int
harmful(const char *line, size_t len)
{
	json_t *msg, *v;
	size_t i;
	int bad = 0;

	msg = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
	    NULL);
	if (json_is_array(msg)) {
		json_array_foreach(msg, i, v)
			bad |= calls_remove(v);
	} else
		bad = calls_remove(msg);
	json_decref(msg);
	return bad;
}

static void
one(struct mcp *m, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *j;
	char *out;

	if (harmful(line, len))
		return;
	if (mcp_handle(m, line, len, &out) == -1)
		abort();
	if (out == NULL)
		return;
	if (strchr(out, '\n') != NULL ||
	    (j = json_loads(out, 0, &jerr)) == NULL)
		abort();
	json_decref(j);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct mcp *m;

	if ((m = mcp_new(conf, "/nonexistent")) == NULL)
		abort();
	one(m, init, sizeof(init) - 1);
	while (p < end) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		one(m, p, nl - p);
		p = nl + 1;
	}
	mcp_free(m);
	return 0;
}
