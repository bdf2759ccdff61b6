#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp never blocks on a tool, shown with the official MCP
# client (the TypeScript SDK) against real OpenSSH: while exec runs a
# command on the throwaway sshd, or tunnel_setup waits for a bastion that
# never answers, ping is answered at once and progress comes for a
# progressToken; a cancel ends the call (no response; nothing left of an
# exec, the supervisor of a setup left for tunnel_remove). Likewise for
# every other tool that runs a program: tunnel_probe through a silent
# bastion, tunnel_log on a log that never ends, and the ssh -G that a
# remote tool runs first, held up by a Match exec. And the remote tools,
# each once through the SDK, which checks every structuredContent
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

# silent_bastion: HOLE, a port that accepts and then says nothing (ssh
# waits there for a banner), served until teardown.
silent_bastion() {
	HOLE=$(free_port)
	socat "TCP-LISTEN:$HOLE,bind=127.0.0.1,reuseaddr,fork" \
	    SYSTEM:'sleep 60' 3>&- &
	HOLE_PID=$!
	wait_port "$HOLE" 10
}

# child_of PID COMM: PID@START of PID's child named COMM, once there is
# one (10 s at most).
child_of() {
	local i c
	for ((i = 0; i < 200; i++)); do
		c=$(pgrep -P "$1" -x "$2" | head -n 1) || :
		if [ -n "$c" ]; then
			echo "$c@$(pid_start "$c")"
			return 0
		fi
		sleep 0.05
	done
	echo "child_of: $1 never started $2" >&2
	return 1
}

# cancelled_while TOOL ARGS COMM: call TOOL through the SDK; once the
# server runs its child COMM, pings (each answered at once), then a
# cancel: no response, the server goes on, and nothing is left of that
# child or of what it started (checked by pid).
cancelled_while() {
	local np srv kid d kids
	node "$BATS_TEST_TMPDIR/mcp-wait.mjs" "$BUILD/bin/ssh-tunnel-mcp" \
	    "$1" "$2" 3 "$W/cancel" >"$W/out" 2>"$W/err" &
	np=$!
	srv=$(child_of "$np" ssh-tunnel-mcp)
	kid=$(child_of "${srv%@*}" "$3")
	sleep 0.3
	kids=$kid
	for d in $(_descendants "${kid%@*}"); do
		kids="$kids $d@$(pid_start "$d")"
	done
	touch "$W/cancel"
	wait "$np"
	output=$(cat "$W/out")
	echo "$output"
	echo "$3 and below: $kids"
	pings_fast
	[ "$(jq -r .done_before_ping <<<"$output")" = false ]
	[ "$(jq -r .cancelled <<<"$output")" = true ]
	[[ $(jq -r .error <<<"$output") == *"-32001"* ]]
	[ "$(jq -r .result <<<"$output")" = null ]
	jq -e --argjson max "$PING_MAX_MS" '.ping_after_cancel < $max' \
	    <<<"$output"
	# shellcheck disable=SC2086 # a list of PID@START
	gone $kids
}

# pings_fast: every ping answered within PING_MAX_MS.
pings_fast() {
	jq -e --argjson max "$PING_MAX_MS" \
	    '(.pings | length) > 0 and all(.pings[]; . < $max)' <<<"$output"
}

@test "exec: ping answered and progress sent while the command runs" {
	sdk exec '{"host":"fixture","command":"sleep 2; echo done"}' 4 0
	pings_fast
	[ "$(jq -r .done_before_ping <<<"$output")" = false ]
	[ "$(jq .progress <<<"$output")" -ge 1 ]
	[ "$(jq -r .result.isError <<<"$output")" = false ]
	[ "$(jq -r .result.sc.stdout <<<"$output")" = done ]
	[ "$(jq -r .result.sc.exit_code <<<"$output")" = 0 ]
}

@test "tunnel_setup waiting on a silent bastion: ping, progress, cancel" {
	tunnel_fixture
	write_config <<'EOC'
default: {ssh: allow, tunnels: allow}
EOC
	silent_bastion
	args=$(jq -cn --arg b "$ME@127.0.0.1:$HOLE" --arg k "$KEY" \
	    --argjson p "$RPORT" --arg f "R $RPORT:127.0.0.1:$BPORT" \
	    --arg o "UserKnownHostsFile=$B/known_hosts" \
	    '{name: "lab", bastion: $b, port: $p, key: $k, forwards: [$f],
	    ssh_options: [$o], backend: "daemon"}')
	sdk tunnel_setup "$args" 3 0
	pings_fast
	[ "$(jq -r .done_before_ping <<<"$output")" = false ]
	[ "$(jq .progress <<<"$output")" -ge 1 ]
	[ "$(jq -r .result.isError <<<"$output")" = false ]
	[ "$(jq -r .result.sc.up <<<"$output")" = false ]
	[[ $(jq -r .result.sc.next <<<"$output") == *tunnel_status* ]]
	run ssh-tunnel-down lab
	[ "$status" -eq 0 ]

	# Cancelled: no response; the supervisor stays for tunnel_remove.
	sdk tunnel_setup "$args" 1 500
	[ "$(jq -r .cancelled <<<"$output")" = true ]
	[ "$(jq -r .result <<<"$output")" = null ]
	[ -n "$(supervisor_pids)" ]
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_remove '{"name":"lab"}')"
	[ "$(mcp_result 1 .isError)" = false ]
	[ -z "$(supervisor_pids)" ]
}

@test "the remote tools through the SDK: results valid against their schemas" {
	echo hello >"$W/a.txt"
	mkdir -p "$W/src/sub" "$W/dst"
	echo x >"$W/src/sub/keep.txt"
	echo y >"$W/src/skip.log"
	sdk probe_host '{"host":"fixture","programs":["sh","nosuch42"]}' 0 0
	[ "$(jq -r .result.sc.reachable <<<"$output")" = true ]
	[ "$(jq -r .result.sc.programs.sh <<<"$output")" = "$(command -v sh)" ]
	[ "$(jq -r .result.sc.programs.nosuch42 <<<"$output")" = null ]
	sdk exec '{"host":"fixture","argv":["printf","%s|","a b","$(id)"]}' 0 0
	[ "$(jq -r .result.sc.stdout <<<"$output")" = 'a b|$(id)|' ]
	sdk copy_to "{\"host\":\"fixture\",\"local\":\"$W/a.txt\",\"remote\":\"$W/b.txt\"}" 0 0
	[ "$(jq -r .result.sc.ok <<<"$output")" = true ]
	cmp "$W/a.txt" "$W/b.txt"
	sdk copy_from "{\"host\":\"fixture\",\"remote\":\"$W/b.txt\",\"local\":\"$W/c.txt\"}" 0 0
	[ "$(jq -r .result.sc.ok <<<"$output")" = true ]
	cmp "$W/a.txt" "$W/c.txt"
	sdk sync "{\"host\":\"fixture\",\"direction\":\"push\",\"local\":\"$W/src/\",\"remote\":\"$W/dst/\",\"exclude\":[\"*.log\"]}" 0 0
	[ "$(jq -r .result.sc.ok <<<"$output")" = true ]
	[ -f "$W/dst/sub/keep.txt" ] && [ ! -e "$W/dst/skip.log" ]
	# Refusals are results with isError and the reason.
	sdk exec '{"host":"fixture;id","command":"true"}' 0 0
	[ "$(jq -r .result.isError <<<"$output")" = true ]
	[[ $(jq -r .result.text <<<"$output") == *"not a valid host"* ]]
	write_config <<'EOC'
default: {ssh: allow}
EOC
	sdk exec '{"host":"fixture","command":"true"}' 0 0
	[ "$(jq -r .result.isError <<<"$output")" = true ]
	[[ $(jq -r .result.text <<<"$output") == *"exec: denied"* ]]
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

@test "tunnel_probe through a silent bastion: ping at once, cancel kills its ssh" {
	silent_bastion
	write_config <<EOC
default: {ssh: allow, tunnels: allow}
tunnels:
  lab:
    bastion: $(id -un)@127.0.0.1:$HOLE
    forwards: [R 2222:localhost:22]
EOC
	cancelled_while tunnel_probe '{"name":"lab"}' ssh
}

@test "tunnel_log on a log that never ends: ping at once, cancel kills tail" {
	write_config <<EOC
default: {ssh: allow, tunnels: allow}
tunnels:
  lab:
    bastion: $(id -un)@127.0.0.1:22
    forwards: [R 2222:localhost:22]
EOC
	[ "$(ssh-tunnel-ls lab | cut -f2)" = daemon ] ||
	    skip "the tunnel's backend here is not daemon"
	# tail waits for a writer of the fifo that never comes.
	mkdir -p "$XDG_RUNTIME_DIR/scitex-ssh"
	mkfifo "$XDG_RUNTIME_DIR/scitex-ssh/lab.log"
	cancelled_while tunnel_log '{"name":"lab"}' tail
}

@test "exec while ssh -G waits on a Match exec: ping at once, cancel kills it" {
	printf 'Match originalhost fixture exec "sleep 30"\n' >>"$SSH_CFG"
	cancelled_while exec '{"host":"fixture","command":"true"}' ssh
}
