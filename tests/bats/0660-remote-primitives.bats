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

@test "exec: argv words arrive as they are, through the remote shell" {
	run --separate-stderr "$RUN" exec fixture printf '%s|' 'a b' "it's" \
	    '$(id)' '' '`id`' '*' '-x'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field stdout)" = "a b|it's|\$(id)||\`id\`|*|-x|" ]
	[ "$(field exit_code)" = 0 ]
	[ "$(field reached)" = true ]
	[ "$(field timed_out)" = false ]
}

@test "exec: a command string is the remote shell's; exit code and stderr" {
	run --separate-stderr "$RUN" sh fixture \
	    'echo $((6 * 7)); echo warn >&2; exit 7'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field stdout)" = 42 ]
	[ "$(field stderr)" = warn ]
	[ "$(field exit_code)" = 7 ]
	[ "$(field reached)" = true ]
	# stdin is /dev/null: a command that reads it ends at once.
	run --separate-stderr "$RUN" -t 60000 sh fixture 'cat; echo end'
	[ "$(field stdout)" = end ]
	[ "$(field timed_out)" = false ]
}

@test "exec: an unreachable host is exit 255, reached false" {
	run --separate-stderr "$RUN" sh "127.0.0.1:$(free_port)" true
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field exit_code)" = 255 ]
	[ "$(field reached)" = false ]
	[[ $(field stderr) == *"Connection refused"* ]]
}

@test "policy: a denied host runs nothing and opens no connection" {
	before=$(logins)
	write_config <<'EOC'
default: {ssh: allow, exec: deny}
hosts:
  "fixture,127.0.0.1": {copy: allow}
EOC
	run --separate-stderr "$RUN" sh fixture "touch $W/ran"
	echo "$stderr"
	[ "$status" -eq 77 ]
	[[ $stderr == *"fixture: exec: denied by $CONF:1:"* ]]
	# A probe is exec too.
	run --separate-stderr "$RUN" probe fixture sh
	[ "$status" -eq 77 ]
	[ ! -e "$W/ran" ]
	[ "$(logins)" = "$before" ]
	# No config file: deny.
	rm "$CONF"
	run --separate-stderr "$RUN" sh fixture "touch $W/ran"
	[ "$status" -eq 77 ]
	[ ! -e "$W/ran" ]
	[ "$(logins)" = "$before" ]
}

@test "policy: an alias is asked about the host ssh reaches too" {
	before=$(logins)
	# fixture is allowed, the 127.0.0.1 its HostName reaches is not.
	write_config <<'EOC'
hosts:
  fixture: {exec: allow, copy: allow}
EOC
	run --separate-stderr "$RUN" sh fixture "touch $W/ran"
	echo "$stderr"
	[ "$status" -eq 77 ]
	[[ $stderr == *"fixture (reached as 127.0.0.1): exec: denied"* ]]
	run --separate-stderr "$RUN" copy-to fixture "$CONF" "$W/copied"
	[ "$status" -eq 77 ]
	[ ! -e "$W/ran" ] && [ ! -e "$W/copied" ]
	[ "$(logins)" = "$before" ]
}

@test "hostile host names and paths are refused before anything runs" {
	before=$(logins)
	for h in "fixture;touch $W/pwned" '-oProxyCommand=touch /tmp/x' \
	    "\$(touch $W/pwned)" "$(printf 'fixture\ntouch')" '`id`' \
	    'fixture touch' '-l'; do
		run --separate-stderr "$RUN" sh "$h" true
		echo "$h: $stderr"
		[ "$status" -eq 65 ]
		[[ $stderr == *"not a valid"* ]]
	done
	run --separate-stderr "$RUN" copy-to fixture "$CONF" "x;touch $W/pwned"
	[ "$status" -eq 65 ]
	run --separate-stderr "$RUN" copy-to fixture -e "$W/x"
	[ "$status" -eq 64 ] || [ "$status" -eq 65 ]
	run --separate-stderr "$RUN" copy-from fixture "-oProxyCommand=x" "$W/x"
	[ "$status" -eq 65 ]
	run --separate-stderr "$RUN" -x "+ *" push fixture "$W" "$W/y"
	[ "$status" -eq 65 ]
	run --separate-stderr "$RUN" probe fixture 'sh;touch'
	[ "$status" -eq 65 ]
	[ ! -e "$W/pwned" ] && [ ! -e /tmp/x ] && [ ! -e "$W/x" ]
	[ "$(logins)" = "$before" ]
}

@test "output cap: kept up to the cap, flagged, the command not blocked" {
	run --separate-stderr "$RUN" -c 1000 -t 20000 sh fixture \
	    'head -c 300000 /dev/zero | tr "\0" x; echo done >&2'
	echo "$output" | cut -c1-300
	[ "$status" -eq 0 ]
	[ "$(field stdout_bytes)" = 1000 ]
	[ "$(field stdout_truncated)" = true ]
	[ "$(field stdout)" = "$(printf 'x%.0s' $(seq 1000))" ]
	[ "$(field stderr)" = done ]
	[ "$(field stderr_truncated)" = false ]
	[ "$(field exit_code)" = 0 ]
	[ "$(field timed_out)" = false ]
}

@test "batch defaults: none of the host's forwards, no master, no prompt" {
	lport=$(free_port)
	{
		echo "Host fixture"
		echo "	LocalForward 127.0.0.1:$lport 127.0.0.1:$SSHD_PORT"
		echo "	ControlMaster auto"
		echo "	ControlPath $W/cm"
		echo "	BatchMode no"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2 |
		    grep -v -e ControlMaster -e ControlPath -e BatchMode
	} >"$SSH_CFG"
	"$RUN" -t 60000 sh fixture ": $MARK; sleep 2" >"$W/out" 2>"$W/err" &
	rp=$!
	for ((i = 0; i < 200; i++)); do
		[ -n "$(pgrep -f "$MARK")" ] && break
		sleep 0.05
	done
	[ -n "$(pgrep -f "$MARK")" ]
	# Connected and running: no forward listens, no master socket.
	! ss -Hltn "sport = :$lport" | grep -q . || false
	[ ! -e "$W/cm" ]
	wait "$rp"
	output=$(cat "$W/out")
	[ "$(field exit_code)" = 0 ]
}

@test "copy_to and copy_from: the bytes on disk, both ways" {
	head -c 70000 /dev/urandom >"$W/blob"
	mkdir -p "$W/there" "$W/tree/sub"
	echo one >"$W/tree/a"
	echo two >"$W/tree/sub/b"
	run --separate-stderr "$RUN" copy-to fixture "$W/blob" "$W/there/blob"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field exit_code)" = 0 ]
	cmp "$W/blob" "$W/there/blob"
	run --separate-stderr "$RUN" copy-from fixture "$W/there/blob" \
	    "$W/back"
	[ "$(field exit_code)" = 0 ]
	cmp "$W/blob" "$W/back"
	# A relative local path with a colon is a local path.
	cd "$W"
	cp blob 'a:b'
	run --separate-stderr "$RUN" copy-to fixture 'a:b' "$W/there/colon"
	[ "$(field exit_code)" = 0 ]
	cmp blob "$W/there/colon"
	# A directory needs -r.
	run --separate-stderr "$RUN" copy-to fixture "$W/tree" "$W/there/t1"
	[ "$(field exit_code)" != 0 ]
	[ ! -e "$W/there/t1" ]
	run --separate-stderr "$RUN" -r copy-to fixture "$W/tree" \
	    "$W/there/t2"
	[ "$(field exit_code)" = 0 ]
	[ "$(tree_sum "$W/tree")" = "$(tree_sum "$W/there/t2")" ]
	# Policy: copy denied for a host allowed exec, through the alias.
	echo "Host onlyexec" >>"$SSH_CFG"
	echo "	HostName 127.0.0.1" >>"$SSH_CFG"
	run --separate-stderr "$RUN" copy-to onlyexec "$W/blob" "$W/there/no"
	[ "$status" -eq 77 ]
	[ ! -e "$W/there/no" ]
}

@test "sync push and pull: excludes kept out, nothing deleted unless asked" {
	mkdir -p "$W/src/sub" "$W/dst"
	echo a >"$W/src/a.txt"
	echo b >"$W/src/sub/b.log"
	echo c >"$W/src/sub/c.txt"
	echo keep >"$W/dst/old.txt"
	run --separate-stderr "$RUN" -x '*.log' push fixture "$W/src/" \
	    "$W/dst/"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field exit_code)" = 0 ]
	[ "$(cd "$W/dst" && find . -type f | sort | tr '\n' ' ')" = \
	    "./a.txt ./old.txt ./sub/c.txt " ]
	cmp "$W/src/sub/c.txt" "$W/dst/sub/c.txt"
	# Pull back into a copy with an extra file: kept without -d...
	mkdir -p "$W/back"
	echo extra >"$W/back/extra"
	run --separate-stderr "$RUN" pull fixture "$W/dst/" "$W/back/"
	[ "$(field exit_code)" = 0 ]
	[ "$(cd "$W/back" && find . -type f | sort | tr '\n' ' ')" = \
	    "./a.txt ./extra ./old.txt ./sub/c.txt " ]
	# ...removed with it.
	run --separate-stderr "$RUN" -d pull fixture "$W/dst/" "$W/back/"
	[ "$(field exit_code)" = 0 ]
	[ "$(cd "$W/back" && find . -type f | sort | tr '\n' ' ')" = \
	    "./a.txt ./old.txt ./sub/c.txt " ]
	[ "$(tree_sum "$W/dst")" = "$(tree_sum "$W/back")" ]
}

@test "probe: reachable, and which of the named programs are there" {
	run --separate-stderr "$RUN" probe fixture sh rsync nosuchprog42
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(field reached)" = true ]
	[ "$(field found.sh)" = "$(command -v sh)" ]
	[ "$(field found.rsync)" = "$(command -v rsync)" ]
	[ "$(field found.nosuchprog42)" = null ]
	run --separate-stderr "$RUN" probe "127.0.0.1:$(free_port)" sh
	[ "$(field reached)" = false ]
	[ "$(field found.sh)" = null ]
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
