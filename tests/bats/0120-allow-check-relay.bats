#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-allow-check -W as the gating ProxyCommand, relaying and with
# ProxyUseFdpass (-P): real ssh sessions and large scp transfers through
# it, refusals that never connect, and the exit codes of each failure.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	sshd_start "$BATS_TEST_TMPDIR/sshd"
	write_config <<'EOF2'
default: {ssh: deny}
hosts:
  127.0.0.1: {ssh: allow}
  "::1":     {ssh: allow}
EOF2
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$WORK"
}

teardown() {
	if [ -n "${LISTENER:-}" ]; then
		kill "$LISTENER" 2>/dev/null || true
		wait "$LISTENER" 2>/dev/null || true
	fi
	sshd_stop_all
}

# echo_server ADDR PORT: a listener that sends back what it receives, then
# closes its side; its pid in LISTENER (teardown stops it).
echo_server() {
	local kind=TCP4
	case $1 in *:*) kind=TCP6 ;; esac
	socat "$kind-LISTEN:$2,bind=$1,reuseaddr" SYSTEM:cat 3>&- &
	LISTENER=$!
	wait_port "$2"
}

stop_echo_server() {
	kill "$LISTENER" 2>/dev/null || true
	wait "$LISTENER" 2>/dev/null || true
	LISTENER=
}

# cfg NAME PROXYLINES...: an ssh_config whose Host NAME is the fixture
# reached through the given lines.
cfg() {
	local name=$1
	shift
	CFG=$BATS_TEST_TMPDIR/ssh_config.$name
	{
		echo "Host $name"
		printf '\t%s\n' "$@"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2
	} >"$CFG"
}

no_connection() {
	! grep -q "Connection from" "$SSHD_DIR/sshd.log" || false
}

# session_and_copy NAME: a command, and 64 MiB each way by scp, intact.
session_and_copy() {
	run --separate-stderr ssh -F "$CFG" "$1" echo through
	[ "$status" -eq 0 ]
	[ "$output" = "through" ]
	head -c 67108864 /dev/urandom >"$WORK/big"
	run --separate-stderr scp -F "$CFG" "$WORK/big" "$1:$WORK/up"
	[ "$status" -eq 0 ]
	run --separate-stderr scp -F "$CFG" "$1:$WORK/up" "$WORK/down"
	[ "$status" -eq 0 ]
	local want
	want=$(sha256sum <"$WORK/big")
	[ "$(sha256sum <"$WORK/up")" = "$want" ]
	[ "$(sha256sum <"$WORK/down")" = "$want" ]
	# The relay, not a direct connection: sshd saw it from loopback.
	[ "$(grep -c "Accepted publickey" "$SSHD_DIR/sshd.log")" -eq 3 ]
}

@test "ProxyCommand -W carries a session and 64 MiB scp both ways" {
	cfg relayed 'ProxyCommand ssh-allow-check -W %h:%p'
	session_and_copy relayed
}

@test "ProxyUseFdpass with -P -W carries a session and 64 MiB scp" {
	cfg passed 'ProxyCommand ssh-allow-check -P -W %h:%p' \
	    'ProxyUseFdpass yes'
	session_and_copy passed
}

@test "-W moves bytes both ways with half-close (no ssh involved)" {
	local port rc=0
	port=$(free_port)
	echo_server 127.0.0.1 "$port"
	head -c 5000000 /dev/urandom >"$WORK/in"
	ssh-allow-check -W "127.0.0.1:$port" <"$WORK/in" >"$WORK/out" || rc=$?
	stop_echo_server
	[ "$rc" -eq 0 ]
	cmp "$WORK/in" "$WORK/out"
}

@test "denied: 77, one line, no connection attempted" {
	cfg gated 'ProxyCommand ssh-allow-check -W %h:%p'
	printf 'default: {ssh: deny}\n' >"$CONF"
	run --separate-stderr ssh-allow-check -W "127.0.0.1:$SSHD_PORT" \
	    </dev/null
	[ "$status" -eq 77 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "ssh-allow-check: 127.0.0.1: ssh denied by $CONF:1:"* ]]
	run --separate-stderr ssh -F "$CFG" gated true
	[ "$status" -eq 255 ]
	[[ $stderr == *"ssh denied by"* ]]
	cfg gatedfd 'ProxyCommand ssh-allow-check -P -W %h:%p' \
	    'ProxyUseFdpass yes'
	run --separate-stderr ssh -F "$CFG" gatedfd true
	[ "$status" -eq 255 ]
	[[ $stderr == *"ssh denied by"* ]]
	no_connection
}

@test "the gate sees the final HostName, not the alias typed" {
	printf 'default: {ssh: allow}\nhosts: {127.0.0.1: {ssh: deny}}\n' \
	    >"$CONF"
	cfg harmless 'ProxyCommand ssh-allow-check -W %h:%p'
	run --separate-stderr ssh -F "$CFG" harmless true
	[ "$status" -eq 255 ]
	[[ $stderr == *"127.0.0.1: ssh denied by"* ]]
	no_connection
}

@test "an unreadable config refuses (77), it never relays" {
	printf 'default: {ssh: allow\n' >"$CONF"
	run --separate-stderr ssh-allow-check -W "127.0.0.1:$SSHD_PORT" \
	    </dev/null
	[ "$status" -eq 77 ]
	[[ $stderr == *"$CONF:"*"refusing"* ]]
	no_connection
}

@test "nothing listening: 69, the message names host:port" {
	local port
	port=$(free_port)
	run --separate-stderr ssh-allow-check -W "127.0.0.1:$port" </dev/null
	[ "$status" -eq 69 ]
	[ -z "$output" ]
	[[ $stderr == *"127.0.0.1:$port"*"refused"* ]]
	run --separate-stderr ssh-allow-check -W "[::1]:$port" </dev/null
	[ "$status" -eq 69 ]
	[[ $stderr == *"[::1]:$port"* ]]
	run --separate-stderr ssh-allow-check -P -W "127.0.0.1:$port" </dev/null
	[ "$status" -eq 69 ]
}

@test "hostile host:port values: 65, nothing connected" {
	printf 'default: {ssh: allow}\n' >"$CONF"
	local hp
	for hp in "a;id:$SSHD_PORT" "\$(id):$SSHD_PORT" "a b:$SSHD_PORT" \
	    "-oProxyCommand=x:$SSHD_PORT" "user@127.0.0.1:$SSHD_PORT" \
	    ":$SSHD_PORT" "127.1:$SSHD_PORT" "2130706433:$SSHD_PORT" \
	    $'a\nb:'"$SSHD_PORT" "127.0.0.1:0" "127.0.0.1:65536" \
	    "127.0.0.1:-1" "127.0.0.1:22x" "127.0.0.1:" "127.0.0.1" \
	    "[::1:$SSHD_PORT" "127.0.0.1:$SSHD_PORT:1"; do
		run --separate-stderr ssh-allow-check -W "$hp" </dev/null
		[ "$status" -eq 65 ] || { echo "status $status: $hp"; false; }
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
	no_connection
}

@test "-P into a pipe or file (no ProxyUseFdpass): 78 with the fix" {
	run --separate-stderr bash -c 'set -o pipefail
	    ssh-allow-check -P -W "127.0.0.1:$1" </dev/null | cat' - "$SSHD_PORT"
	[ "$status" -eq 78 ]
	[[ $stderr == *"ProxyUseFdpass"* ]]
	run --separate-stderr ssh-allow-check -P -W "127.0.0.1:$SSHD_PORT" \
	    </dev/null >"$WORK/file"
	[ "$status" -eq 78 ]
}

@test "IPv6: HostName ::1 through -W %h:%p (ssh gives no brackets)" {
	SSHD_EXTRA="ListenAddress ::1" sshd_start "$BATS_TEST_TMPDIR/sshd6"
	printf '[::1]:%s %s\n' "$SSHD_PORT" \
	    "$(cut -d' ' -f1-2 "$SSHD_DIR/host_ed25519.pub")" \
	    >>"$SSHD_DIR/known_hosts"
	cfg six 'ProxyCommand ssh-allow-check -W %h:%p'
	sed -i 's/HostName 127.0.0.1/HostName ::1/' "$CFG"
	run --separate-stderr ssh -F "$CFG" six echo v6
	[ "$status" -eq 0 ]
	[ "$output" = "v6" ]
	grep -q "Connection from ::1" "$SSHD_DIR/sshd.log"
}

# in_hosts HOSTSFILE CMD...: CMD with /etc/hosts replaced, in a private
# mount namespace (nothing outside sees it); not root, in a user namespace
# of its own too, where the bind mount is allowed.
in_hosts() {
	local f=$1 ns=-m
	shift
	[ "$(id -u)" -eq 0 ] || ns=-rm
	unshare $ns sh -c 'mount -n --bind "$0" /etc/hosts && exec "$@"' "$f" "$@"
}

@test "every address of a name is tried in turn until one answers" {
	in_hosts /etc/hosts true || skip "no mount namespaces here"
	printf 'default: {ssh: allow}\n' >"$CONF"
	printf '::1 multi\n127.0.0.1 multi\n' >"$WORK/hosts"
	local port fam
	# The listener on one family only: whichever the resolver puts
	# first, one of the two runs must fall back to the other address.
	for fam in 127.0.0.1 ::1; do
		port=$(free_port)
		echo_server "$fam" "$port"
		run in_hosts "$WORK/hosts" ssh-allow-check -W "multi:$port" \
		    <<<"hello $fam"
		stop_echo_server
		[ "$status" -eq 0 ]
		[ "$output" = "hello $fam" ]
	done
	# Neither answers: 69 and the last error.
	port=$(free_port)
	run --separate-stderr in_hosts "$WORK/hosts" ssh-allow-check \
	    -W "multi:$port" </dev/null
	[ "$status" -eq 69 ]
	[[ $stderr == *"multi:$port"*"refused"* ]]
}
