#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# scitex-ssh 1.0's primitives (lib/remote.c) end to end against the
# throwaway sshd: exec with argv and with a command string, probe, scp
# both ways, rsync push and pull; the policy gate, hostile values, the
# time limit (nothing left, here or there) and the output cap. Driven by
# tests/lib/remote-run, which links the library unchanged.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd
load ../lib/remote

setup() {
	common_setup
	remote_fixture
	RUN=$BUILD/test/remote-run
	[ -x "$RUN" ] || skip "make check builds $RUN"
	write_config <<'EOC'
default: {ssh: allow}
hosts:
  "fixture,127.0.0.1": {exec: allow, copy: allow}
  "onlyexec": {exec: allow, copy: deny}
EOC
}

teardown() {
	remote_teardown
}

@test "time limit: ssh's process group is killed, and the remote command dies" {
	# Without a terminal, a remote command dies when it next writes.
	t=$(limit)
	run_marked -t "$t" sh fixture \
	    ": $MARK; while :; do echo tick; sleep 0.2; done"
	[ "$(field timed_out)" = true ]
	[ "$(field signal)" = 9 ]
	[ "$(field reached)" = false ]
	ms=$(field ms)
	[ "$ms" -ge "$t" ] && [ "$ms" -lt $((t + 5000)) ]
	[[ $(field stdout) == tick* ]]
	pid=$(field pid)
	# Here: the ssh it started, its whole process group.
	! kill -0 "$pid" 2>/dev/null || false
	! kill -0 -- "-$pid" 2>/dev/null || false
	# There: the remote shell and its children.
	# shellcheck disable=SC2086
	gone $REMOTE_PIDS
}

@test "time limit with a terminal: a silent remote command gets SIGHUP" {
	run_marked -p -t "$(limit)" sh fixture ": $MARK; sleep 60; :"
	[ "$(field timed_out)" = true ]
	pid=$(field pid)
	! kill -0 -- "-$pid" 2>/dev/null || false
	# The remote shell, which would wait for sleep 60 if it could.
	# shellcheck disable=SC2086
	gone $REMOTE_PIDS
}

