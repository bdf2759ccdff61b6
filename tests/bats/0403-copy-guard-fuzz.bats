#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# A short, bounded libFuzzer run over the copy-guard command parser.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
}

teardown() {
	sshd_stop_all
}

@test "copy-guard fuzz: the command parser survives ${FUZZTIME:-10}s of libFuzzer" {
	command -v clang >/dev/null || skip "no clang"
	run make -C "$TOP" -s fuzz FUZZERS=guard FUZZTIME="${FUZZTIME:-10}"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^Done [0-9]* runs' "$TOP/build/fuzz/guard.log"
}
