#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# make demo, as a test: the tunnel up, ssh labbox through it, all down.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
}

teardown() {
	sshd_stop_all
}

@test "the demo runs end to end and leaves nothing behind" {
	DEMO_NOBUILD=1 run "$TOP/tests/lib/demo.sh" "$BUILD/bin"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"labbox	verified	SSH-2.0-"* ]]
	[[ $output == *"$(hostname)"* ]]
	[[ ${lines[-1]} == "demo: OK" ]]
	pid=$(awk '$1 == "labbox" && $2 == "daemon" { print $6 }' <<<"$output")
	[ -n "$pid" ]
	# Ended: gone, or a zombie until init reaps it.
	[ -z "$(ps -o stat= -p "$pid" | grep -v Z)" ]
}
