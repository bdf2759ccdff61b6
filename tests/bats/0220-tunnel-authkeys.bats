#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-up -K: the authorized_keys line installed on the bastion lets
# the tunnel and --probe work, and nothing else.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	mapfile -t args < <(tunnel_up_args)
	line=$(ssh-tunnel-up -K "${args[@]}" labbox)
	# The bastion's administrator installs the line.
	printf '%s\n' "$line" >"$B/authorized_keys"
}

teardown() {
	tunnel_teardown
}

@test "-K prints exactly the restricted line and writes nothing" {
	pub=$(cut -d' ' -f1-2 "$KEY.pub")
	[ "$line" = "restrict,port-forwarding,permitlisten=\"localhost:$RPORT\",permitopen=\"localhost:$RPORT\",command=\"/bin/false\" $pub labbox" ]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d" ]
	[ ! -e "$XDG_RUNTIME_DIR/scitex-ssh" ]
}

@test "with the -K line: tunnel and probe work" {
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	run ssh-tunnel-ls --probe labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *verified* ]]
}

@test "with the -K line: no shell, no command" {
	run ssh -F "$B/ssh_config" fixture echo pwned
	[ "$status" -ne 0 ]
	[[ $output != *pwned* ]]
	run ssh -F "$B/ssh_config" -tt fixture </dev/null
	[ "$status" -ne 0 ]
}

@test "with the -K line: another listen port is refused" {
	other=$(free_port)
	run timeout 20 ssh -F "$B/ssh_config" -N -o ExitOnForwardFailure=yes \
	    -R "$other:localhost:22" fixture
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"remote port forwarding failed"* ]]
	! ss -Hltn "sport = :$other" | grep -q .
}

@test "with the -K line: a connection to any other destination is refused" {
	run timeout 20 ssh -F "$B/ssh_config" -W "127.0.0.1:$BPORT" fixture \
	    </dev/null
	echo "$output"
	[[ $output != *SSH-2.0-* ]]
	[[ $output == *"open failed"* ]]
	run timeout 20 ssh -F "$B/ssh_config" -W "localhost:$BPORT" fixture \
	    </dev/null
	[[ $output != *SSH-2.0-* ]]
}
