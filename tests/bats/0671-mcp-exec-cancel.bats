#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp never blocks on a tool, shown with the official MCP
# client (the TypeScript SDK) against real OpenSSH: while exec runs a
# command on the throwaway sshd, or tunnel_setup waits for a bastion that
# never answers, ping is answered at once and progress comes for a
# progressToken; a cancel ends the call (no response; nothing left of an
# exec, the supervisor of a setup left for tunnel_remove). And the remote
# tools, each once through the SDK, which checks every structuredContent
# against its outputSchema.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd
load ../lib/remote
load ../lib/tunnel
load ../lib/mcp

# How long a ping may take while a tool waits (the goal is 50 ms; a loaded
# test machine gets slack).
PING_MAX_MS=${PING_MAX_MS:-500}

setup() {
	common_setup
	mcp_sdk_setup
	remote_fixture
	cp "$TOP/tests/lib/mcp-wait.mjs" "$BATS_TEST_TMPDIR/"
	write_config <<'EOC'
default: {ssh: allow, tunnels: allow}
hosts:
  "fixture,127.0.0.1": {exec: allow, copy: allow}
EOC
	HOLE_PID=
}

teardown() {
	# shellcheck disable=SC2046 # a list of pids
	[ -n "$HOLE_PID" ] &&
	    kill "$HOLE_PID" $(_descendants "$HOLE_PID") 2>/dev/null
	tunnel_teardown
	remote_teardown
}

# sdk TOOL ARGS PINGS CANCEL_MS: the SDK client's run, its JSON in $output.
sdk() {
	run --separate-stderr node "$BATS_TEST_TMPDIR/mcp-wait.mjs" \
	    "$BUILD/bin/ssh-tunnel-mcp" "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

# pings_fast: every ping answered within PING_MAX_MS.
pings_fast() {
	jq -e --argjson max "$PING_MAX_MS" \
	    '(.pings | length) > 0 and all(.pings[]; . < $max)' <<<"$output"
}

@test "exec cancelled: no response, the server goes on, nothing left there" {
	node "$BATS_TEST_TMPDIR/mcp-wait.mjs" "$BUILD/bin/ssh-tunnel-mcp" exec \
	    "{\"host\":\"fixture\",\"tty\":true,\"command\":\": $MARK; sleep 60; :\"}" \
	    1 "$W/cancel" >"$W/out" 2>"$W/err" &
	np=$!
	wait_remote_shell
	touch "$W/cancel"
	wait "$np"
	output=$(cat "$W/out")
	echo "$output"
	[ "$(jq -r .cancelled <<<"$output")" = true ]
	[[ $(jq -r .error <<<"$output") == *"-32001"* ]]
	[ "$(jq -r .result <<<"$output")" = null ]
	jq -e --argjson max "$PING_MAX_MS" '.ping_after_cancel < $max' \
	    <<<"$output"
	# shellcheck disable=SC2086
	gone $REMOTE_PIDS
}

