#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Every libFuzzer target (config parser, pattern matcher, and whatever else
# tests/fuzz/ holds) built and run for a short bounded time: no crash, no
# sanitizer report. `make fuzz` runs them longer.

load ../lib/common

@test "fuzzers: each target runs ${FUZZTIME:-8}s without a finding" {
	command -v clang >/dev/null || skip "clang not installed"
	run make -C "$TOP" -s fuzz FUZZTIME="${FUZZTIME:-8}"
	echo "$output"
	[ "$status" -eq 0 ]
}
