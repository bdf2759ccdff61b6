#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The README's policy example and its tunnel example together, as written:
# the here-document run as it stands, then the tunnel named labbox goes up
# on this host, whatever it is called, because the tunnels feature is asked
# about the local host name, not about the tunnel's.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	# The README's block from its mkdir to its EOF, unindented.
	awk '/^    mkdir -p ~\/.config\/scitex-ssh$/ { on = 1 } on; on && /^    EOF$/ { exit }' \
	    "$TOP/README.md" | sed 's/^    //' >"$BATS_TEST_TMPDIR/policy.sh"
}

teardown() {
	tunnel_teardown
}

@test "README: its policy, written as it says, lets its tunnel up here" {
	grep -q '^default:' "$BATS_TEST_TMPDIR/policy.sh"
	rm -f "$CONF"
	bash -e "$BATS_TEST_TMPDIR/policy.sh"
	[ -s "$HOME/.config/scitex-ssh/config.yaml" ]
	grep -q "^  \"$(hostname)\": {tunnels: allow}" "$CONF"
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	wait_state labbox up
	ssh-tunnel-down labbox
}

@test "README: the same policy naming another host refuses, 77" {
	sed "s/\"\$(hostname)\"/notthishost/" "$BATS_TEST_TMPDIR/policy.sh" |
	    bash -e
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 77 ]
	[[ $output == *"tunnels from $(hostname)"*denied* ]]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
}
