#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The throwaway sshd every end-to-end suite stands on.

load ../lib/common
load ../lib/sshd
load ../lib/userssh

setup() {
	common_setup
}

teardown() {
	sshd_stop_all
}

@test "fixture: sshd on loopback takes the fixture key and runs a command" {
	sshd_start "$BATS_TEST_TMPDIR/b"
	run ssh -F "$SSHD_DIR/ssh_config" fixture echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	grep -q "Accepted publickey" "$SSHD_DIR/sshd.log"
	ss -Hltn "sport = :$SSHD_PORT" | grep -q '127.0.0.1:'
}

@test "fixture: stop ends the server and its sessions; restart keeps the port" {
	sshd_start "$BATS_TEST_TMPDIR/b"
	local port=$SSHD_PORT pid
	ssh -F "$SSHD_DIR/ssh_config" fixture sleep 300 &
	pid=$!
	sleep 1
	sshd_stop "$SSHD_DIR"
	# the client sees its session end
	wait "$pid" || true
	! ss -Hltn "sport = :$port" | grep -q . || false
	sshd_restart "$SSHD_DIR"
	run ssh -F "$SSHD_DIR/ssh_config" fixture true
	[ "$status" -eq 0 ]
}

@test "fixture: key options from sshd_start reach authorized_keys" {
	sshd_start "$BATS_TEST_TMPDIR/b" 'restrict,command="/bin/echo forced"'
	run ssh -F "$SSHD_DIR/ssh_config" fixture id
	[ "$status" -eq 0 ]
	[ "$output" = "forced" ]
}

@test "fixture: in_home calls may overlap; the clone stays bound for the one still running" {
	# The clone on a fresh machine is /root/scitex-ssh, inside the home
	# in_home hides: this stands a made-up home in for root's.
	userssh_skip
	local pw=$BATS_TEST_TMPDIR/pw f=$BATS_TEST_TMPDIR/f a before
	mkdir -p "$pw/src/clone" && : >"$pw/src/clone/marker"
	mkfifo "$f"
	before=$(tree_sum "$HOME")
	export USERSSH_PWHOME=$pw
	# A starts first and ends first, while B still runs.
	# shellcheck disable=SC2016 # expanded by the inner sh, on purpose
	TOP=$pw/src/clone in_home sh -c 'read x <"$0"' "$f" &
	a=$!
	while [ ! -d "$HOME/src/clone" ]; do sleep 0.1; done
	# shellcheck disable=SC2016
	TOP=$pw/src/clone in_home sh -c 'echo go >"$1"
		while kill -0 "$2" 2>/dev/null; do sleep 0.1; done
		test -e "$0/src/clone/marker"' "$pw" "$f" "$a"
	wait "$a"
	# The last one out removed the mount point: $HOME is as it was.
	[ ! -e "$HOME/src" ]
	[ "$(tree_sum "$HOME")" = "$before" ]
}
