#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp: options, and the MCP lifecycle over a pipe (initialize,
# notifications/initialized, tools/list, ping, end of input).

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/mcp

setup() {
	common_setup
	write_config <<'EOC'
default: {ssh: allow, tunnels: deny}
EOC
}

@test "-h: usage line as in the man page, then a registration snippet" {
	run --separate-stderr ssh-tunnel-mcp -h
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "usage: ssh-tunnel-mcp [-qv] [-F config]" ]
	syn=$(mandoc -Tascii -O width=200 "$TOP/man/man1/ssh-tunnel-mcp.1" |
	    col -b | sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//')
	[ "usage: $syn" = "${lines[0]}" ]
	snippet=$(sed -n '/^{/,/^}/p' <<<"$output")
	cmd=$(jq -er '.mcpServers["scitex-ssh"].command' <<<"$snippet")
	[ -x "$cmd" ]
	[ "$(jq -c '.mcpServers["scitex-ssh"].args' <<<"$snippet")" = "[]" ]
}

@test "-h after -F: the snippet passes the same -F" {
	run ssh-tunnel-mcp -F "/etc/x y.yaml" -h
	[ "$status" -eq 0 ]
	snippet=$(sed -n '/^{/,/^}/p' <<<"$output")
	[ "$(jq -c '.mcpServers["scitex-ssh"].args' <<<"$snippet")" = \
	    '["-F","/etc/x y.yaml"]' ]
}

@test "-V prints the version" {
	run ssh-tunnel-mcp -V
	[ "$status" -eq 0 ]
	[[ $output =~ ^ssh-tunnel-mcp\ scitex-ssh\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "bad option or an operand: usage on stderr, exit 64" {
	run --separate-stderr ssh-tunnel-mcp -x
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ $stderr == *"usage: ssh-tunnel-mcp [-qv] [-F config]"* ]]
	run --separate-stderr ssh-tunnel-mcp extra </dev/null
	[ "$status" -eq 64 ]
	[ -z "$output" ]
}

@test "initialize, initialized, tools/list, ping: one answer a line, in order" {
	run --separate-stderr mcp_session "$(mcp_req 1 tools/list)" \
	    "$(mcp_req '"p"' ping)"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq -c .id <<<"${lines[0]}")" = 0 ]
	[ "$(jq -c .id <<<"${lines[1]}")" = 1 ]
	[ "$(jq -c .id <<<"${lines[2]}")" = '"p"' ]
	[ "$(mcp_result 0 .protocolVersion)" = 2025-06-18 ]
	[ "$(mcp_result 0 .serverInfo.name)" = ssh-tunnel-mcp ]
	mcp_result 0 '.capabilities.tools | type == "object"'
	[ "$(mcp_result 1 '[.tools[].name] | join(" ")')" = \
	    "allow_check tunnel_setup tunnel_status tunnel_remove tunnel_probe tunnel_client_config tunnel_bastion_config tunnel_log policy_check copy_guard_line copy_guard_check exec probe_host copy_to copy_from sync" ]
	mcp_result 1 'all(.tools[]; .inputSchema.type == "object" and
	    (.description | length > 0))'
	[ "$(mcp_resp '"p"' | jq -c .result)" = "{}" ]
	# Every line is exactly one JSON-RPC 2.0 message.
	for l in "${lines[@]}"; do
		jq -e '.jsonrpc == "2.0"' <<<"$l" >/dev/null
	done
}

@test "protocol versions: a known one is echoed, any other gets the latest" {
	for v in 2024-11-05 2025-03-26 2025-06-18 2025-11-25; do
		run --separate-stderr ssh-tunnel-mcp <<<"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$v\",\"capabilities\":{},\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}}}"
		[ "$status" -eq 0 ]
		[ "$(mcp_result 1 .protocolVersion)" = "$v" ]
	done
	run ssh-tunnel-mcp <<<'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2030-01-01"}}'
	[ "$(mcp_result 1 .protocolVersion)" = 2025-11-25 ]
}

@test "before initialize only ping is served; initialize only once" {
	run --separate-stderr ssh-tunnel-mcp < <(mcp_req 1 tools/list
	    mcp_req 2 ping; echo "$MCP_INIT"; echo "$MCP_INIT")
	[ "$status" -eq 0 ]
	[ "$(mcp_resp 1 | jq .error.code)" = -32600 ]
	[ "$(mcp_resp 2 | jq -c .result)" = "{}" ]
	[ "$(jq -sc '[.[] | select(.id == 0)] | map(.error.code)' \
	    <<<"$output")" = "[null,-32600]" ]
}

@test "-v logs one line per message on stderr; stdout carries JSON only" {
	run --separate-stderr bash -c 'printf "%s\n" "$1" "$2" "$3" |
	    ssh-tunnel-mcp -v' _ "$MCP_INIT" "$MCP_READY" "$(mcp_req 1 ping)"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ $stderr == *"ssh-tunnel-mcp: initialize: client 2025-06-18, protocol 2025-06-18"* ]]
	[[ $stderr == *"ssh-tunnel-mcp: notifications/initialized"* ]]
	[[ $stderr == *"ssh-tunnel-mcp: ping"* ]]
	SCITEX_SSH_DEBUG_MODE=1 run --separate-stderr ssh-tunnel-mcp \
	    <<<"$MCP_INIT"
	[[ $stderr == *"initialize: client"* ]]
}

@test "protocol errors are logged unless -q" {
	run --separate-stderr ssh-tunnel-mcp <<<'nonsense'
	[ "$status" -eq 0 ]
	[[ $stderr == *"error -32700"* ]]
	run --separate-stderr ssh-tunnel-mcp -q <<<'nonsense'
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(jq .error.code <<<"$output")" = -32700 ]
}

@test "end of input ends the server with 0, also after a last line without newline" {
	run --separate-stderr ssh-tunnel-mcp </dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr bash -c 'printf "%s" "$1" | ssh-tunnel-mcp' _ \
	    "$MCP_INIT"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 0 .protocolVersion)" = 2025-06-18 ]
}

@test "CRLF line ends and blank lines are accepted" {
	run --separate-stderr bash -c 'printf "\n%s\r\n\n  \n%s\r\n" "$1" "$2" |
	    ssh-tunnel-mcp' _ "$MCP_INIT" "$(mcp_req 1 ping)"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ -z "$stderr" ]
}
