# SPDX-License-Identifier: AGPL-3.0-only
# For the suites of the remote primitives (0660 through tests/lib/remote-run,
# 0670 through ssh-tunnel-mcp): the throwaway sshd as the remote host
# "fixture", reached with the real ssh and the fixture's client config, and
# a way to find and account for the processes a remote command leaves,
# here or there.
#
#   remote_fixture        start the sshd; SCITEX_SSH_SSH runs ssh -F SSH_CFG;
#                         W a work directory, MARK a word for command lines
#   remote_teardown       kill what a failed test left (REMOTE_PIDS), stop sshd
#   wait_remote_shell     until the remote shell of a ": $MARK; ..." command
#                         runs; then REMOTE_PIDS (PID@START, here and there)
#   gone PID@START...     none of them still running after at most 5 s
#   logins, field NAME    sessions the sshd accepted; a field of remote-run's JSON
#   run_marked ARGS...    remote-run in the background, REMOTE_PIDS taken
#   limit                 a time limit well past a connection's time here

remote_fixture() {
	sshd_start "$BATS_TEST_TMPDIR/sshd"
	# ssh reads ~/.ssh/config of the passwd entry, not $HOME: the
	# fixture's config is given with -F, through SCITEX_SSH_SSH.
	SSH_CFG=$BATS_TEST_TMPDIR/ssh_config
	cp "$SSHD_DIR/ssh_config" "$SSH_CFG"
	export SCITEX_SSH_SSH=$BATS_TEST_TMPDIR/ssh-fixture
	printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" \
	    "$SSH_CFG" >"$SCITEX_SSH_SSH"
	chmod 755 "$SCITEX_SSH_SSH"
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W"
	MARK=mark$$x$RANDOM
	REMOTE_PIDS=
}

remote_teardown() {
	local p
	# Each by pid, and only if it is still the process recorded.
	for p in $REMOTE_PIDS; do
		[ "$(pid_start "${p%@*}")" = "${p#*@}" ] &&
		    kill -9 "${p%@*}" 2>/dev/null
	done
	sshd_stop_all
}

# pid_start PID: when PID started (clock ticks since boot), or nothing.
pid_start() {
	awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null
}

# marked_pids: as PID@START, the processes whose command line holds
# $MARK (here the driver and ssh, there the remote shell), and their
# children (what the remote shell runs).
marked_pids() {
	local p c st
	for p in $(pgrep -f "$MARK"); do
		for c in "$p" $(ps -o pid= --ppid "$p"); do
			# One that ended meanwhile is not recorded (and is
			# no failure: bats runs this under set -e).
			st=$(pid_start "$c")
			if [ -n "$st" ]; then echo "$c@$st"; fi
		done
	done
}

# remote_shell: the pid of the shell sshd started for the marked command.
remote_shell() {
	pgrep -f -- "-c : $MARK"
}

# wait_remote_shell: until the remote shell runs (60 s at most), then
# REMOTE_PIDS.
wait_remote_shell() {
	local end=$((SECONDS + 60))
	until remote_shell >/dev/null; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
	sleep 0.5
	REMOTE_PIDS=$(marked_pids)
}

# gone PID@START...: none of them running after at most 5 s (a zombie,
# or another process that took the pid, counts as gone).
gone() {
	local i p left
	for ((i = 0; i < 100; i++)); do
		left=
		for p in "$@"; do
			[ "$(pid_start "${p%@*}")" = "${p#*@}" ] &&
			    [ "$(awk '{ sub(/.*\) /, ""); print $1 }' \
			    "/proc/${p%@*}/stat" 2>/dev/null)" != Z ] &&
			    left="$left $p"
		done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	echo "still running:$left" >&2
	return 1
}

# logins: how many sessions the sshd has accepted so far (on the wire).
logins() {
	grep -c 'Accepted publickey' "$SSHD_DIR/sshd.log" || true
}

# field NAME: from the JSON remote-run printed.
field() {
	jq -r ".$1" <<<"$output"
}

# run_marked ARGS...: remote-run ARGS in the background, REMOTE_PIDS
# taken once the remote shell runs, then its JSON in $output.
run_marked() {
	"$RUN" "$@" >"$W/out" 2>"$W/err" &
	local rp=$!
	wait_remote_shell
	wait "$rp"
	output=$(cat "$W/out")
	echo "$output"
}

# limit: a time limit well past what a connection takes on this machine
# now (a loaded machine takes seconds for the key exchange, and varies).
limit() {
	local ms
	ms=$("$RUN" sh fixture true | jq .ms)
	echo $((ms * 6 + 5000))
}
