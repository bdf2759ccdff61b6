#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-up -K: the authorized_keys line and the sshd_config block,
# both installed on the bastion, let the tunnel and --probe work, and
# nothing else: no command, no other port, no unix socket.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -K "${args[@]}" labbox >"$BATS_TEST_TMPDIR/K"
	line=$(head -n 1 "$BATS_TEST_TMPDIR/K")
	# The bastion's administrator installs both: the key line, and the
	# Match block at the end of sshd_config.
	printf '%s\n' "$line" >"$B/authorized_keys"
	cp "$B/sshd_config" "$B/sshd_config.orig"
	sed -n '/^Match /,$p' "$BATS_TEST_TMPDIR/K" >>"$B/sshd_config"
	sshd_stop "$B"
	sshd_restart "$B"
	SOCK=$BATS_TEST_TMPDIR/sock
	mkdir -p "$SOCK"
}

teardown() {
	tunnel_teardown
}

@test "-K prints exactly the restricted line and the Match block, and writes nothing" {
	pub=$(cut -d' ' -f1-2 "$KEY.pub")
	[ "$line" = "restrict,port-forwarding,permitlisten=\"localhost:$RPORT\",permitopen=\"localhost:$RPORT\",command=\"/bin/false\" $pub labbox" ]
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/K")" = "# and in the bastion's sshd_config (no key option refuses unix-socket forwarding):" ]
	[ "$(tail -n +3 "$BATS_TEST_TMPDIR/K")" = "$(printf '%s\n' "Match User $ME" \
	    '	AllowStreamLocalForwarding no' '	AllowTcpForwarding yes' \
	    '	GatewayPorts no' '	AllowAgentForwarding no' \
	    '	X11Forwarding no' '	PermitTunnel no' '	PermitTTY no' \
	    '	PermitUserRC no' '	ForceCommand /bin/false')" ]
	# sshd takes the block as it is.
	/usr/sbin/sshd -t -f "$B/sshd_config"
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
	! ss -Hltn "sport = :$other" | grep -q . || false
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

@test "with both: a unix socket cannot be made to listen on the bastion" {
	run timeout 20 ssh -F "$B/ssh_config" -N -o ExitOnForwardFailure=yes \
	    -R "$SOCK/planted:localhost:22" fixture
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"remote port forwarding failed"* ]]
	[ ! -e "$SOCK/planted" ]
	# Nor with the key line alone replaced by an unrestricted key: the
	# block holds on its own.
	cat "$KEY.pub" >"$B/authorized_keys"
	run timeout 20 ssh -F "$B/ssh_config" -N -o ExitOnForwardFailure=yes \
	    -R "$SOCK/planted:localhost:22" fixture
	[ "$status" -ne 0 ]
	[ ! -e "$SOCK/planted" ]
}

@test "without the block the key line alone lets a unix socket listen (why both are needed)" {
	cp "$B/sshd_config.orig" "$B/sshd_config"
	sshd_stop "$B"
	sshd_restart "$B"
	timeout 20 ssh -F "$B/ssh_config" -N -o ExitOnForwardFailure=yes \
	    -R "$SOCK/planted:localhost:22" fixture 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK/planted" ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || :
	wait "$pid" || :
	[ -S "$SOCK/planted" ] || [ -e "$SOCK/planted" ]
}

@test "with both: a local forward to another port is refused" {
	lport=$(free_port)
	ssh -F "$B/ssh_config" -N -L "127.0.0.1:$lport:127.0.0.1:$BPORT" \
	    fixture 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	wait_port "$lport" 10
	out=$(timeout 10 nc -q 2 127.0.0.1 "$lport" </dev/null | head -c 100) || :
	kill "$pid" 2>/dev/null || :
	wait "$pid" || :
	echo "$out"
	[[ $out != *SSH-2.0-* ]]
	grep -q "open failed" "$BATS_TEST_TMPDIR/err"
}

@test "with both: the tunnel comes up and carries a connection" {
	run ssh-tunnel-up "${args[@]}" labbox
	[ "$status" -eq 0 ]
	out=$(timeout 10 nc -q 1 127.0.0.1 "$RPORT" </dev/null | head -1)
	[[ $out == SSH-2.0-* ]]
}
