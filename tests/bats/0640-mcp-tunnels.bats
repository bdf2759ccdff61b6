#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp's tunnel tools against real OpenSSH: tunnel_setup ->
# tunnel_status (up) -> tunnel_remove, over a pipe, with the throwaway sshd
# as the bastion; a dry run and a policy denial that change nothing.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd
load ../lib/tunnel
load ../lib/mcp

setup() {
	common_setup
	tunnel_fixture
}

teardown() {
	tunnel_teardown
}

# setup_args [EXTRA]: tunnel_setup arguments for the fixture's bastion.
setup_args() {
	jq -cn --arg b "$ME@127.0.0.1:$BPORT" --arg k "$KEY" \
	    --argjson p "$RPORT" --arg f "R $RPORT:127.0.0.1:$BPORT" \
	    --arg o "UserKnownHostsFile=$B/known_hosts" \
	    "{name: \"labbox\", bastion: \$b, port: \$p, key: \$k,
	    forwards: [\$f], ssh_options: [\$o], backend: \"daemon\"} +
	    ${1:-{\}}"
}

files() {
	echo "$(tree_sum "$HOME")$(tree_sum "$XDG_RUNTIME_DIR")"
}

@test "tunnel_setup -> tunnel_status (up) -> tunnel_remove, end to end" {
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args)")" \
	    "$(mcp_call 2 tunnel_status '{"name":"labbox"}')" \
	    "$(mcp_call 3 tunnel_status "{\"port\":$RPORT}")" \
	    "$(mcp_call 4 tunnel_status '{}')"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.tunnel.state)" = up ]
	[ "$(mcp_result 1 .structuredContent.up)" = true ]
	[[ $(mcp_result 1 .structuredContent.client_config) == *"Host labbox"* ]]
	[[ $(mcp_result 1 .structuredContent.client_config) == *"Port $RPORT"* ]]
	[ "$(mcp_resp 1 | jq -c .result.structuredContent.plan)" = null ]
	[ -f "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
	for i in 2 3 4; do
		[ "$(mcp_result $i '.structuredContent.tunnels | length')" = 1 ]
		[ "$(mcp_result $i '.structuredContent.tunnels[0] |
		    [.name, .backend, .state, .port] | @tsv')" = \
		    "$(printf 'labbox\tdaemon\tup\t%s' "$RPORT")" ]
		mcp_result $i .structuredContent.all_up
	done
	# The same fields, the same values, as ssh-tunnel-ls -j.
	[ "$(mcp_result 2 '.structuredContent.tunnels[0] | keys_unsorted' |
	    jq -c .)" = "$(ssh-tunnel-ls -j | jq -c '.[0] | keys_unsorted')" ]
	pid=$(supervisor_pids)
	[ "$(mcp_result 2 '.structuredContent.tunnels[0].pid')" = "$pid" ]

	# Verified through the bastion, back to the sshd: the forward works.
	run ssh-tunnel-ls --probe labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "labbox	verified	SSH-2.0-"* ]]

	run --separate-stderr mcp_session \
	    "$(mcp_call 5 tunnel_remove '{"name":"labbox"}')" \
	    "$(mcp_call 6 tunnel_status '{"name":"labbox"}')" \
	    "$(mcp_call 7 tunnel_remove '{"name":"labbox"}')"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 5 .isError)" = false ]
	mcp_result 5 .structuredContent.removed
	! running "$pid" || false
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/scitex-ssh")" ]
	[ "$(mcp_result 6 .isError)" = true ]
	[[ $(mcp_result 6 '.content[0].text') == *"labbox: no such tunnel"* ]]
	[ "$(mcp_result 7 .isError)" = true ]
	[[ $(mcp_result 7 '.content[0].text') == *"labbox: no such tunnel"* ]]
}

@test "tunnel_remove by port" {
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args)")"
	[ "$(mcp_result 1 .structuredContent.tunnel.state)" = up ]
	run --separate-stderr mcp_session \
	    "$(mcp_call 2 tunnel_remove "{\"port\":$RPORT}")"
	[ "$(mcp_result 2 .isError)" = false ]
	[ "$(mcp_result 2 .structuredContent.port)" = "$RPORT" ]
	[ "$(mcp_result 2 .structuredContent.names -c)" = '["labbox"]' ]
	[ -z "$(supervisor_pids)" ]
	run ssh-tunnel-ls -j
	[ "$output" = "[]" ]
}

@test "dry_run shows the definition and the ssh argv, and changes nothing" {
	before=$(files)
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args '{"dry_run":true}')")"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 1 .isError)" = false ]
	mcp_result 1 .structuredContent.dry_run
	out=$(mcp_result 1 .structuredContent.plan)
	[ "$(mcp_result 1 .structuredContent.policy.decision)" = allow ]
	[[ $(mcp_result 1 .structuredContent.policy.rule) == *"default: tunnels: allow"* ]]
	[ "$(mcp_result 1 .structuredContent.up)" = false ]
	[[ $out == *"R $RPORT:127.0.0.1:$BPORT"* ]]
	[[ $out == *"ssh -N"*"-R $RPORT:127.0.0.1:$BPORT"* ]]
	[ "$(mcp_result 1 .structuredContent.tunnel)" = null ] ||
	    [ "$(mcp_resp 1 | jq -c .result.structuredContent.tunnel)" = null ]
	[ "$(files)" = "$before" ]
	[ -z "$(supervisor_pids)" ]
}

@test "a policy denial is a tool error with the policy's message; nothing written or started" {
	write_config <<'EOC'
default: {tunnels: deny}
EOC
	before=$(files)
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args)")" "$(mcp_req 2 ping)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 1 .isError)" = true ]
	text=$(mcp_result 1 '.content[0].text')
	[[ $text == *"denied"* ]]
	[[ $text == *"{tunnels: allow}"* ]]
	[ "$(mcp_resp 2 | jq -c .result)" = "{}" ]
	[ "$(files)" = "$before" ]
	[ -z "$(supervisor_pids)" ]
}

@test "arguments ssh-tunnel-up would refuse are refused before anything runs" {
	before=$(files)
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args '{"key":"id_ed25519"}')")" \
	    "$(mcp_call 2 tunnel_setup "$(setup_args '{"ssh_options":["ProxyCommand=id"]}')")" \
	    "$(mcp_call 3 tunnel_setup "$(setup_args '{"bastion":"-oProxyCommand=id"}')")" \
	    "$(mcp_call 4 tunnel_setup "$(setup_args '{"forwards":["L 1:a:2"]}')")" \
	    "$(mcp_call 5 tunnel_setup "$(setup_args '{"forwards":["R 1:a:2"]}')")" \
	    "$(mcp_call 6 tunnel_setup "$(setup_args '{"name":"../x"}')")" \
	    "$(mcp_call 7 tunnel_status '{"name":"a","port":1}')" \
	    "$(mcp_call 8 tunnel_remove '{}')"
	[ "$status" -eq 0 ]
	want=("bad key path" "ProxyCommand: ssh option not allowed"
	    "not a valid host" "forwards: one R forward"
	    "forwards: port 1 is not port $RPORT" "not a valid tunnel name"
	    "give name or port, not both" "give name or port")
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(mcp_result $i .isError)" = true ]
		text=$(mcp_result $i '.content[0].text')
		echo "$i: $text"
		[[ $text == *"${want[i - 1]}"* ]]
	done
	[ "$(files)" = "$before" ]
	[ -z "$(supervisor_pids)" ]
}

@test "a dry run reports the policy's refusal; the real call is refused the same" {
	write_config <<'EOC'
default: {tunnels: deny}
EOC
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "$(setup_args '{"dry_run":true}')")"
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.policy.decision)" = deny ]
	[[ $(mcp_result 1 .structuredContent.policy.rule) == *"default: tunnels: deny"* ]]
}

@test "scitex-ssh 1.0's argument names, the default name, messages in arguments" {
	before=$(files)
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_setup "{\"port\":$RPORT,\"bastion_server\":\"$ME@127.0.0.1:$BPORT\",\"secret_key_path\":\"$KEY\",\"dry_run\":true}")" \
	    "$(mcp_call 2 tunnel_setup '{"name":"nosuch"}')" \
	    "$(mcp_call 4 tunnel_status "{\"port\":1}")" \
	    "$(mcp_call 5 tunnel_setup '{"bastion":"a","bastion_server":"b"}')"
	echo "$output"
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.name)" = "$(hostname -s)" ]
	[[ $(mcp_result 1 .structuredContent.plan) == *"$ME@127.0.0.1:$BPORT"* ]]
	[[ $(mcp_result 1 .structuredContent.plan) == *"$KEY"* ]]
	[[ $(mcp_result 2 '.content[0].text') == *"nosuch: no such tunnel; define it with port and bastion"* ]]
	[ "$(mcp_result 4 .isError)" = true ]
	[[ $(mcp_result 4 '.content[0].text') == *"port 1: no such tunnel"* ]]
	[[ $(mcp_result 5 '.content[0].text') == *"bastion and bastion_server"* ]]
	# No flag of a program in any message.
	! mcp_resp 2 | grep -E -- ' -[bpslom]\b' || false
	[ "$(files)" = "$before" ]
}

@test "not up yet: the row and what to do; auth does not heal by waiting" {
	ssh-keygen -q -t ed25519 -N '' -C stranger -f "$BATS_TEST_TMPDIR/stranger"
	run --separate-stderr mcp_session "$(mcp_call 1 tunnel_setup \
	    "$(setup_args "{\"key\":\"$BATS_TEST_TMPDIR/stranger\"}")")"
	echo "$output"
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.up)" = false ]
	[ "$(mcp_result 1 .structuredContent.tunnel.reason)" = auth ]
	[[ $(mcp_result 1 .structuredContent.next) == *"waiting will not heal this"* ]]
	[[ $(mcp_result 1 .structuredContent.next) == *tunnel_remove* ]]
	run --separate-stderr mcp_session \
	    "$(mcp_call 2 tunnel_remove '{"name":"labbox"}')"
	[ "$(mcp_result 2 .isError)" = false ]
}
