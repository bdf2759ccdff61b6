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

@test "the daemon's supervisor and its ssh keep no fd of the caller's" {
	held=$BATS_TEST_TMPDIR/held
	run_dir=$XDG_RUNTIME_DIR/scitex-ssh
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q -m daemon "${args[@]}" labbox 7>"$held"
	pid=$(supervisor_pids)
	sshpid=$(ps -o pid= --ppid "$pid" | tr -d ' ')
	[ -n "$sshpid" ]
	# the file held open by the caller's fd 7 (and bats' own files) are
	# nowhere; a path is the log, the lock handed on as fd 3, /dev/null,
	# and ssh's stdin the memfd whose lock proves it running
	for p in "$pid" "$sshpid"; do
		for f in "/proc/$p/fd/"*; do
			l=$(readlink "$f")
			echo "$f -> $l"
			case $p:$l in
			*:/dev/null | *:"$run_dir/labbox.log" | \
			    *:"$run_dir/labbox.lock" | *:pipe:* | *:socket:* | \
			    *:anon_inode:*) ;;
			"$sshpid:/memfd:scitex-ssh (deleted)")
				[ "$f" = "/proc/$sshpid/fd/0" ] ;;
			*) false ;;
			esac
		done
	done
	[ "$(readlink "/proc/$pid/fd/3")" = "$run_dir/labbox.lock" ]
	# that memfd is locked, and it is the one the table names
	wait_state labbox up 10
	ino=$(stat -L -c %i "/proc/$sshpid/fd/0")
	grep -qx "ssh_ino $ino" "$run_dir/labbox.state"
	grep -q "FLOCK .* [0-9a-f]*:[0-9a-f]*:$ino " /proc/locks
	[ ! -e "/proc/$pid/fd/7" ] || [ "$(readlink "/proc/$pid/fd/7")" != "$held" ]
}

@test "no tunnels: ls prints nothing and exits 0" {
	run ssh-tunnel-ls
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
