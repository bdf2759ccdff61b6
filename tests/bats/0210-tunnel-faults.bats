#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Real faults: the bastion's sshd killed and restarted, the remote port
# held, the bastion away at start, a dead first bastion, signals.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	HOLDER=
}

teardown() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	tunnel_teardown
}

# hold_port PORT: a listener on every address of PORT, as a stale session
# on the bastion would be; its pid in HOLDER.
hold_port() {
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(5)
time.sleep(600)' "$1" &
	HOLDER=$!
	wait_port "$1" 10
}

reason_of() {
	ssh-tunnel-ls "$1" | cut -f9
}

@test "bastion sshd killed and restarted: back by itself, backoff with a reason between" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	client_config labbox "$BATS_TEST_TMPDIR/client"
	ssh -F "$BATS_TEST_TMPDIR/client" labbox true

	sshd_stop "$B"
	wait_state labbox backoff 30
	[ -n "$(reason_of labbox)" ]
	[ "$(reason_of labbox)" != - ]
	run ssh-tunnel-ls labbox
	[ "$status" -eq 1 ]

	sshd_restart "$B"
	wait_state labbox up 60
	run ssh -F "$BATS_TEST_TMPDIR/client" labbox hostname
	[ "$status" -eq 0 ]
	[ "$output" = "$(hostname)" ]
	[ "$(ssh-tunnel-ls labbox | cut -f8)" -ge 1 ]
}

@test "remote port held by a stale listener: backoff port-busy, up once free" {
	hold_port "$RPORT"
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 69 ]
	[[ $output == *port-busy* ]]
	wait_reason labbox port-busy
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null || :
	HOLDER=
	wait_state labbox up 60
	run ssh-tunnel-ls --probe labbox
	[ "$status" -eq 0 ]
}

@test "bastion unreachable at start: keeps retrying, up once it is back" {
	sshd_stop "$B"
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 69 ]
	[[ $output == *refused* ]]
	wait_reason labbox refused
	r1=$(ssh-tunnel-ls labbox | cut -f8)
	sleep 2
	r2=$(ssh-tunnel-ls labbox | cut -f8)
	[ "$r2" -gt "$r1" ]
	sshd_restart "$B"
	wait_state labbox up 60
}

@test "a bastion whose SYNs go unanswered: timeout, once at once, then random growing waits" {
	# A listener with a full accept queue drops every new SYN, as a
	# saturated bastion's does: ssh's connect times out (5 s).
	python3 -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(0)
c = socket.create_connection(s.getsockname())
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$BATS_TEST_TMPDIR/port" &
	HOLDER=$!
	for _ in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.1
	done
	P=$(cat "$BATS_TEST_TMPDIR/port")
	run ssh-tunnel-up -b "$ME@127.0.0.1:$P" -s "$KEY" -p "$RPORT" \
	    -l "127.0.0.1:$BPORT" -o "UserKnownHostsFile=$B/known_hosts" labbox
	log=$XDG_RUNTIME_DIR/scitex-ssh/labbox.log
	# 5 s, then 20 s: after a timeout ssh is given longer to connect.
	for _ in $(seq 400); do
		[ "$(grep -c 'not up (timeout)' "$log")" -ge 2 ] && break
		sleep 0.1
	done
	grep 'not up (timeout)' "$log"
	# The first again at once; the second within a 2 s window.
	grep 'not up (timeout)' "$log" | head -1 | grep -q 'retrying in 0.00 s'
	grep 'not up (timeout)' "$log" | sed -n 2p |
	    grep -qE 'retrying in (0\.[0-9]+|1\.[0-9]+|2\.00) s'
	[ "$(ssh-tunnel-ls labbox | cut -f9)" = timeout ]
}

@test "refused, then a bastion slow to answer: ssh is given 40 s, not 5" {
	P=$(free_port)
	run ssh-tunnel-up -b "$ME@127.0.0.1:$P" -s "$KEY" -p "$RPORT" \
	    -l "127.0.0.1:$BPORT" -o "UserKnownHostsFile=$B/known_hosts" labbox
	[ "$status" -eq 69 ]
	wait_reason labbox refused 15
	# Something listens now, and never says its banner: a restarted
	# bastion with a herd in front of it.
	hold_port "$P"
	sup=$(supervisor_pids)
	[ -n "$sup" ]
	# The first ssh seen after the refusal is patient already (one
	# refused in between may end before its argv is read: the next).
	found= argv=
	for _ in $(seq 300); do
		found=$(pgrep -P "$sup" -x ssh | head -1)
		[ -n "$found" ] &&
		    argv=$(tr '\0' '\n' <"/proc/$found/cmdline" 2>/dev/null) &&
		    [ -n "$argv" ] && break
		sleep 0.05
	done
	[ -n "$argv" ]
	grep -qx 'ConnectTimeout=40' <<<"$argv"
	# Still waiting past the 5 s an impatient ssh would have given it.
	sleep 6
	[ "$(ps -o ppid= -p "$found" | tr -d ' ')" = "$sup" ]
}

@test "first bastion of a list dead: the second is used" {
	dead=$(free_port)
	ssh-tunnel-up -q -b "$ME@127.0.0.1:$dead" -b "$ME@127.0.0.1:$BPORT" \
	    -s "$KEY" -p "$RPORT" -l "127.0.0.1:$BPORT" \
	    -o "UserKnownHostsFile=$B/known_hosts" labbox
	[ "$(ssh-tunnel-ls labbox | cut -f3,5)" = "$(printf 'up\t%s' "$ME@127.0.0.1:$BPORT")" ]
	grep -q "127.0.0.1:$dead" "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml"
}

# ssh_child PID: the ssh the supervisor runs.
ssh_child() {
	ps -o pid= --ppid "$1" | tr -d ' '
}

gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		running "$1" || return 0
		sleep 0.1
	done
	return 1
}

@test "SIGTERM: the supervisor stops its ssh and exits 0, state stopped" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	child=$(ssh_child "$pid")
	[ -n "$child" ]
	kill -TERM "$pid"
	gone "$pid"
	gone "$child"
	[ "$(state_of labbox)" = stopped ]
	grep -q stopped "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log"
}

@test "SIGKILL of the supervisor: its ssh does not outlive it" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	child=$(ssh_child "$pid")
	[ -n "$child" ]
	kill -KILL "$pid"
	gone "$pid"
	gone "$child"
	[ "$(state_of labbox)" = failed ]
}

@test "SIGINT stops it too" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	child=$(ssh_child "$pid")
	kill -INT "$pid"
	gone "$pid"
	gone "$child"
}

@test "up again with another port: the running supervisor reloads (SIGHUP)" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	old=$RPORT
	RPORT=$(free_port)
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"Port $RPORT"* ]]
	[ "$(supervisor_pids)" = "$pid" ]
	run ssh-tunnel-ls --probe labbox
	[ "$status" -eq 0 ]
	[ "$(ssh-tunnel-ls labbox | cut -f4)" = "$RPORT" ]
	! ss -Hltn "sport = :$old" | grep -q . || false
}

@test "SIGHUP after editing the definition: the new forward works" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	new=$(free_port)
	def=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml
	sed -i "s/R $RPORT:/R $new:/" "$def"
	grep -q "R $new:" "$def"
	kill -HUP "$pid"
	wait_port "$new" 30
	wait_state labbox up 30
	run ssh-tunnel-ls --probe labbox
	[ "$status" -eq 0 ]
}

@test "two ssh-tunnel-up on one name at once: one supervisor, the other says so" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	ssh-tunnel-up -q "${args[@]}" labbox >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	ra=0 rb=0
	wait "$a" || ra=$?
	wait "$b" || rb=$?
	cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	[ "$(supervisor_pids | wc -l)" -eq 1 ]
	[ "$(pgrep -c -x ssh-tunnel-up)" -ge 1 ]
	if [ "$ra" -ne 0 ] || [ "$rb" -ne 0 ]; then
		grep -q "at work on this tunnel" "$BATS_TEST_TMPDIR/a" \
		    "$BATS_TEST_TMPDIR/b"
	fi
	wait_state labbox up 30
}

@test "a tunnel another process is working on: ssh-tunnel-up says so, exit 1" {
	mkdir -p "$XDG_RUNTIME_DIR/scitex-ssh"
	lock=$XDG_RUNTIME_DIR/scitex-ssh/labbox.lock
	mapfile -t args < <(tunnel_up_args)
	run flock "$lock" ssh-tunnel-up "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"labbox: another ssh-tunnel-up or ssh-tunnel-down is at work on this tunnel"* ]]
	[ -z "$(supervisor_pids)" ]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
}
