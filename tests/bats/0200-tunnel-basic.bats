#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Up, list, probe, ssh through the generated block, down: real OpenSSH.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
}

teardown() {
	tunnel_teardown
}

@test "up, ls, probe, ssh labbox through the client block, down" {
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"Host labbox"* ]]
	[[ $output == *"Port $RPORT"* ]]
	[ -f "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]

	run ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'labbox\tdaemon\tup\t%s' "$RPORT")" ]

	run ssh-tunnel-ls -j
	[[ $output == '[{"name":"labbox","backend":"daemon","state":"up","port":'"$RPORT"* ]]
	[[ $output == *'"reason":null}]' ]]

	run ssh-tunnel-ls -N
	[ "$output" = labbox ]

	run ssh-tunnel-ls --probe
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == "labbox	verified	SSH-2.0-"* ]]

	client_config labbox "$BATS_TEST_TMPDIR/client"
	run ssh -F "$BATS_TEST_TMPDIR/client" labbox hostname
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(hostname)" ]

	pid=$(supervisor_pids)
	sshpid=$(ps -o pid= --ppid "$pid" | tr -d ' ')
	[ -n "$sshpid" ]
	run ssh-tunnel-down labbox
	[ "$status" -eq 0 ]
	! running "$pid" || false
	! running "$sshpid" || false
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/scitex-ssh")" ]

	run ssh-tunnel-down labbox
	[ "$status" -eq 1 ]
	[[ $output == *"labbox: no such tunnel"* ]]
}

@test "a defined tunnel starts by name; a second up says it runs" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	ssh-tunnel-down labbox || :
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	run ssh-tunnel-up labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"already running"* ]]
}

@test "no tunnels: ls prints nothing and exits 0" {
	run ssh-tunnel-ls
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
