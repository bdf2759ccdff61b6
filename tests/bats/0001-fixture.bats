#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The throwaway sshd every end-to-end suite stands on.

load ../lib/common
load ../lib/sshd

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
