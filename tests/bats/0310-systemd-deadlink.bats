#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# SLOW (about 90 s): a dead link, for real. In a network namespace this
# test creates, a bastion sshd, a lab sshd and the supervisor; every packet
# to and from the bastion's port is dropped for 65 s, then the path comes
# back. The supervisor must notice while the link is down and the tunnel
# must work again once it is back. The bounds here are loose on purpose
# (a loaded machine must not fail it); bench/deadlink.sh measures the goals
# (notice <= 30 s, back <= 2 s) beside autossh.

load ../lib/common
load ../lib/sshd
load ../lib/netns

setup() {
	common_setup
	[ "$(id -u)" -eq 0 ] || skip "needs root (ip netns, iptables)"
	[ -x "$BUILD/bin/ssh-tunnel-up" ] || skip "ssh-tunnel-up not built"
	netns_create
}

teardown() {
	netns_cleanup
	sshd_stop_all
}

@test "dead link: noticed during the outage, tunnel back after it" {
	run netns_run bash "$TOP/tests/lib/deadlink.bash" ssh-tunnel-up 65
	echo "$output"
	echo "# $(tail -1 <<<"$output")" >&3
	[ "$status" -eq 0 ]
	notice=$(sed -n 's/.* notice=\([0-9.]*\) .*/\1/p' <<<"$output")
	back=$(sed -n 's/.* back=\([0-9.]*\)$/\1/p' <<<"$output")
	awk -v n="$notice" -v b="$back" 'BEGIN { exit !(n <= 45 && b <= 15) }'
}
