#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Shell completion of ssh-tunnel-mcp(1), bash and zsh: its options, and
# files after -F.

load ../lib/common
load ../lib/complete

setup() {
	common_setup
	mkdir -p "$BATS_TEST_TMPDIR/pol"
	: >"$BATS_TEST_TMPDIR/pol/site.yaml"
}

@test "bash: - offers the options, and nothing else" {
	run complete_bash ssh-tunnel-mcp "-"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "-F -V -h -q -v " ]
}

@test "bash: -F completes file names" {
	run complete_bash ssh-tunnel-mcp "-F $BATS_TEST_TMPDIR/pol/si"
	[ "$status" -eq 0 ]
	[ "$output" = "$BATS_TEST_TMPDIR/pol/site.yaml" ]
}

@test "zsh: - offers the options; -F completes file names" {
	run complete_zsh ssh-tunnel-mcp "-"
	[ "$status" -eq 0 ]
	for o in -F -V -h -q -v; do
		grep -qx -- "$o" <<<"$output"
	done
	run complete_zsh ssh-tunnel-mcp "-F $BATS_TEST_TMPDIR/pol/si"
	[ "$status" -eq 0 ]
	[[ $output == *site.yaml* ]]
}
