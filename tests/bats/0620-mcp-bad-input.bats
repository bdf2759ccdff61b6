#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp under bad input: malformed JSON, wrong types, missing
# fields, unknown tools and methods, oversized messages, batches, floods and
# random bytes. Each gets its JSON-RPC error or tool error, the server keeps
# running, and nothing is written anywhere.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/mcp

setup() {
	common_setup
	write_config <<'EOC'
default: {ssh: allow, tunnels: allow}
EOC
}

# every_line_json: each line of $output is one JSON-RPC 2.0 message (or a
# batch of them).
every_line_json() {
	jq -Rne '[inputs | fromjson | if type == "array" then
	    all(.jsonrpc == "2.0") else .jsonrpc == "2.0" end] | all' \
	    <<<"$output" >/dev/null
}

@test "malformed JSON: -32700 with a null id, then the next request is served" {
	run --separate-stderr mcp_session '{"jsonrpc":"2.0","id":1,' \
	    '{"jsonrpc":"2.0","id":2,"method":"ping"}}' \
	    '{"jsonrpc":"2.0","id":3,"id":4,"method":"ping"}' \
	    '{"jsonrpc":"2.0","id":5,"method":"p\u0000"}' \
	    "$(printf '{"jsonrpc":"2.0","id":6,"method":"\377"}')" \
	    "$(mcp_req 7 ping)"
	[ "$status" -eq 0 ]
	every_line_json
	[ "$(jq -sc '[.[] | .error.code]' <<<"$output")" = \
	    "[null,-32700,-32700,-32700,-32700,-32700,null]" ]
	[ "$(jq -sc '[.[] | .id]' <<<"$output")" = \
	    "[0,null,null,null,null,null,7]" ]
	[[ $stderr == *"Parse error"* ]]
}

@test "not a request: -32600" {
	run --separate-stderr mcp_session 42 '"ping"' null '{}' \
	    '{"jsonrpc":"2.0","id":null,"method":"ping"}' \
	    '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}' \
	    '{"jsonrpc":"2.0","id":1.5,"method":"ping"}' \
	    '{"jsonrpc":"1.0","id":10,"method":"ping"}' \
	    '{"id":11,"method":"ping"}' \
	    '{"jsonrpc":"2.0","id":12,"method":["ping"]}'
	[ "$status" -eq 0 ]
	every_line_json
	[ "$(jq -sc '[.[1:][] | .error.code] | unique' <<<"$output")" = \
	    "[-32600]" ]
	[ "$(jq -sc '[.[1:][] | .id]' <<<"$output")" = \
	    "[null,null,null,null,null,null,null,10,11,12]" ]
}

@test "unknown method -32601; bad params -32602; unknown tool -32602" {
	run --separate-stderr mcp_session "$(mcp_req 1 resources/list)" \
	    "$(mcp_req 2 'tools/delete')" \
	    '{"jsonrpc":"2.0","id":3,"method":"ping","params":[1]}' \
	    "$(mcp_req 4 tools/call '{"name":"rm_rf","arguments":{}}')" \
	    "$(mcp_req 5 tools/call '{"arguments":{"host":"a"}}')" \
	    "$(mcp_req 6 tools/call '{"name":7}')" \
	    "$(mcp_req 7 tools/call \
	    '{"name":"allow_check","arguments":["host","a"]}')" \
	    "$(mcp_req 8 tools/list '{"cursor":"next"}')"
	[ "$status" -eq 0 ]
	[ "$(mcp_resp 1 | jq .error.code)" = -32601 ]
	[ "$(mcp_resp 2 | jq .error.code)" = -32601 ]
	for i in 3 4 5 6 7 8; do
		[ "$(mcp_resp $i | jq .error.code)" = -32602 ]
	done
	[ "$(mcp_resp 4 | jq -r .error.message)" = "Unknown tool: rm_rf" ]
}

@test "notifications and stray responses get no answer, even when wrong" {
	run --separate-stderr mcp_session '{"jsonrpc":"2.0","method":"nope"}' \
	    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}' \
	    '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm_rf"}}' \
	    '{"jsonrpc":"2.0","id":99,"result":{}}' "$(mcp_req 1 ping)"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -c .id <<<"${lines[1]}")" = 1 ]
}

@test "wrong types, missing and unknown arguments: tool errors, isError" {
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 allow_check '{}')" \
	    "$(mcp_call 2 allow_check '{"host":["a"]}')" \
	    "$(mcp_call 3 allow_check '{"host":"a","verbose":true}')" \
	    "$(mcp_call 4 tunnel_setup '{"name":"x","port":70000}')" \
	    "$(mcp_call 5 tunnel_setup '{"name":"x","port":22.5}')" \
	    "$(mcp_call 6 tunnel_setup '{"name":"x","forwards":"R 1:a:2"}')" \
	    "$(mcp_call 7 tunnel_setup '{"name":"x","backend":"sh -c id"}')" \
	    "$(mcp_call 8 tunnel_setup '{"bastion":"gw"}')" \
	    "$(mcp_call 9 tunnel_status '{"port":"2222"}')" \
	    "$(mcp_call 10 tunnel_remove '{"name":false}')"
	[ "$status" -eq 0 ]
	want=("host: missing" "host: expected a string"
	    "verbose: unknown argument"
	    "port: expected an integer from 1 to 65535"
	    "port: expected an integer from 1 to 65535"
	    "forwards: expected an array" "backend: not one of the allowed values"
	    "$(hostname -s): no remote port: give port"
	    "port: expected an integer from 1 to 65535"
	    "name: expected a string")
	for i in $(seq 1 10); do
		[ "$(mcp_result "$i" .isError)" = true ]
		[ "$(mcp_result "$i" '.content[0].text')" = "${want[i - 1]}" ]
	done
}

@test "a message over 1 MiB: discarded to its newline, answered, then the next is served" {
	pad=$(head -c $((1024 * 1024)) /dev/zero | tr '\0' x)
	run --separate-stderr mcp_session \
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"_meta\":{\"pad\":\"$pad\"}}}" \
	    "$(mcp_req 2 ping)"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq .error.code <<<"${lines[1]}")" = -32600 ]
	[[ $(jq -r .error.message <<<"${lines[1]}") == *"longer than 1048576 bytes"* ]]
	[ "$(jq .id <<<"${lines[2]}")" = 2 ]
}

@test "a message of just under 1 MiB is served" {
	head=$(printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"pad":"')
	tail='"}}}'
	n=$((1024 * 1024 - ${#head} - ${#tail}))
	pad=$(head -c $n /dev/zero | tr '\0' x)
	run --separate-stderr mcp_session "$head$pad$tail"
	[ "$status" -eq 0 ]
	[ "$(mcp_resp 1 | jq -c .result)" = "{}" ]
}

@test "batches: one array of the answers due" {
	run --separate-stderr mcp_session '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"nope"},5]' \
	    '[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]' \
	    '[]' "$(mcp_req 3 ping)"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(jq -c '[.[] | .id]' <<<"${lines[1]}")" = "[1,2,null]" ]
	[ "$(jq -c '[.[] | .error.code]' <<<"${lines[1]}")" = \
	    "[null,-32601,-32600]" ]
	[ "$(jq .error.code <<<"${lines[2]}")" = -32600 ]
	[ "$(jq .id <<<"${lines[3]}")" = 3 ]
}

@test "a flood of 5000 requests: 5000 answers, one by one, in order" {
	run --separate-stderr bash -c '
	    printf "%s\n" "$1"
	    for ((i = 1; i <= 2500; i++)); do
		printf "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}\n" $((2 * i - 1))
		printf "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\",\"params\":{\"name\":\"allow_check\",\"arguments\":{\"host\":\"h%d.example\"}}}\n" $((2 * i)) $i
	    done | cat - <(printf "%s\n" "$1")' _ "$MCP_INIT"
	run --separate-stderr ssh-tunnel-mcp <<<"$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5002 ]
	[ "$(jq -s '[.[1:5001][] | .id] == [range(1; 5001)]' <<<"$output")" = true ]
	[ "$(jq -s '[.[1:5001][] | select(.id % 2 == 0) |
	    .result.structuredContent.decision] | unique' <<<"$output" |
	    jq -c .)" = '["allow"]' ]
	[ "$(jq .error.code <<<"${lines[5001]}")" = -32600 ]
}

@test "random bytes: the server survives, every answer is JSON, nothing written" {
	before=$(tree_sum "$HOME")
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/noise"
	run --separate-stderr bash -c 'printf "%s\n" "$1"; cat "$2";
	    printf "\n%s\n" "$3"' _ "$MCP_INIT" "$BATS_TEST_TMPDIR/noise" \
	    "$(mcp_req '"last"' ping)"
	run --separate-stderr ssh-tunnel-mcp <<<"$output"
	[ "$status" -eq 0 ]
	every_line_json
	[ "$(jq -c .id <<<"${lines[-1]}")" = '"last"' ]
	[ "$(tree_sum "$HOME")" = "$before" ]
}

@test "refused tunnel calls write nothing and start nothing" {
	before=$(tree_sum "$HOME")$(tree_sum "$XDG_RUNTIME_DIR")
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup '{"name":"x;id","bastion":"gw","port":2222}')" \
	    "$(mcp_call 2 tunnel_setup '{"name":"lab","bastion":"gw","port":0}')" \
	    "$(mcp_call 3 tunnel_setup '{"name":"lab","bastion":"gw","port":2222,"forwards":[1]}')" \
	    "$(mcp_call 4 tunnel_setup '{"name":"lab","bastion":"-oProxyCommand=id","port":2222}')" \
	    "$(mcp_call 5 tunnel_remove '{"name":"../../etc"}')" \
	    "$(mcp_call 6 tunnel_remove '{}')"
	[ "$status" -eq 0 ]
	for i in 1 2 3 4 5 6; do
		[ "$(mcp_result $i .isError)" = true ]
	done
	[ "$(tree_sum "$HOME")$(tree_sum "$XDG_RUNTIME_DIR")" = "$before" ]
}
