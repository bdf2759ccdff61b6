# SPDX-License-Identifier: AGPL-3.0-only
# Drive ssh-tunnel-mcp over a pipe with real JSON-RPC exchanges, one
# message a line, as an MCP client does.
#
#   mcp_session MSG...      initialize, notifications/initialized, then each
#                           MSG, into one server; its stdout on stdout
#   mcp_call ID TOOL ARGS   print a tools/call request (ARGS: JSON object)
#   mcp_req ID METHOD [PARAMS]  print a request
#   mcp_resp ID             from $output: the response with that id
#   mcp_result ID FILTER [JQARGS]  jq FILTER applied to that response's
#                           result; fails when it yields false or null
#   mcp_sdk_setup           skip unless the pinned MCP TypeScript SDK is in
#                           MCP_SDK_DIR (default build/mcp-sdk); link its
#                           node_modules into the test's directory, so that
#                           a script there finds it

MCP_INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
MCP_READY='{"jsonrpc":"2.0","method":"notifications/initialized"}'

mcp_session() {
	printf '%s\n' "$MCP_INIT" "$MCP_READY" "$@" | ssh-tunnel-mcp
}

mcp_req() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"%s","params":%s}\n' \
	    "$1" "$2" "${3:-{\}}"
}

mcp_call() {
	mcp_req "$1" tools/call \
	    "$(printf '{"name":"%s","arguments":%s}' "$2" "$3")"
}

mcp_resp() {
	# shellcheck disable=SC2154 # $output is set by bats' run
	jq -ce --argjson id "$1" 'select(.id == $id)' <<<"$output"
}

mcp_result() {
	local id=$1 filter=$2
	shift 2
	mcp_resp "$id" | jq -er "$@" ".result | $filter"
}

mcp_sdk_setup() {
	: "${MCP_SDK_DIR:=$TOP/build/mcp-sdk}"
	[ -d "$MCP_SDK_DIR/node_modules/@modelcontextprotocol/sdk" ] ||
	    skip "no SDK in $MCP_SDK_DIR (make deps-check installs it)"
	command -v node >/dev/null || skip "node is not installed"
	ln -sfn "$MCP_SDK_DIR/node_modules" "$BATS_TEST_TMPDIR/node_modules"
}
