#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Why a tunnel is down, from real ssh failures; listing and removing
# several tunnels; a reload that fails keeps the running definition.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
}

teardown() {
	tunnel_teardown
}

@test "a key the bastion does not know: auth" {
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/other"
	run ssh-tunnel-up -b "$ME@127.0.0.1:$BPORT" -s "$BATS_TEST_TMPDIR/other" \
	    -p "$RPORT" -l "127.0.0.1:$BPORT" \
	    -o "UserKnownHostsFile=$B/known_hosts" labbox
	[ "$status" -eq 69 ]
	[[ $output == *"(auth via"* ]]
	wait_reason labbox auth 15
}

@test "a bastion whose host key changed: hostkey" {
	ssh-keygen -q -t ed25519 -N '' -f "$BATS_TEST_TMPDIR/otherhost"
	printf '[127.0.0.1]:%s %s\n' "$BPORT" \
	    "$(cut -d' ' -f1-2 "$BATS_TEST_TMPDIR/otherhost.pub")" \
	    >"$BATS_TEST_TMPDIR/known_hosts"
	run ssh-tunnel-up -b "$ME@127.0.0.1:$BPORT" -s "$KEY" -p "$RPORT" \
	    -l "127.0.0.1:$BPORT" \
	    -o "UserKnownHostsFile=$BATS_TEST_TMPDIR/known_hosts" labbox
	[ "$status" -eq 69 ]
	[[ $output == *"(hostkey via"* ]]
	wait_reason labbox hostkey 15
}

@test "a new bastion is trusted on first use (accept-new)" {
	run ssh-tunnel-up -b "$ME@127.0.0.1:$BPORT" -s "$KEY" -p "$RPORT" \
	    -l "127.0.0.1:$BPORT" \
	    -o "UserKnownHostsFile=$BATS_TEST_TMPDIR/fresh_known_hosts" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	ssh-keygen -F "[127.0.0.1]:$BPORT" -f "$BATS_TEST_TMPDIR/fresh_known_hosts"
}

@test "two tunnels: ls lists both, -p picks one, down -p and -a remove them" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" one
	p1=$RPORT
	RPORT=$(free_port)
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" two
	run ssh-tunnel-ls -N
	[ "$output" = "$(printf 'one\ntwo')" ]
	run ssh-tunnel-ls -H
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'NAME\tBACKEND\tSTATE\tPORT\tBASTION\tPID\tUPTIME\tRESTARTS\tREASON')" ]
	[ "${#lines[@]}" -eq 3 ]
	run ssh-tunnel-ls -p "$p1"
	[ "$(cut -f1 <<<"$output")" = one ]
	run ssh-tunnel-ls -c
	[ "$(grep -c '^Host ' <<<"$output")" -eq 2 ]
	run ssh-tunnel-ls one nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"nosuch: no such tunnel"* ]]
	run ssh-tunnel-down -p "$p1"
	[ "$status" -eq 0 ]
	[ "$(ssh-tunnel-ls -N)" = two ]
	run ssh-tunnel-down -a
	[ "$status" -eq 0 ]
	[ -z "$(ssh-tunnel-ls -N)" ]
	[ -z "$(supervisor_pids)" ]
}

@test "SIGHUP with a broken definition: the running one is kept" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	printf 'bastion: [\n' >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml"
	kill -HUP "$pid"
	for ((i = 0; i < 50; i++)); do
		grep -q "keeping the running definition" \
		    "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log" && break
		sleep 0.1
	done
	grep -q "labbox.yaml:2:1" "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log"
	running "$pid"
	# The forward still answers on the bastion's side.
	# shellcheck disable=SC2016
	timeout 10 bash -c 'exec 5<>"/dev/tcp/127.0.0.1/$1" &&
	    IFS= read -r -t 5 l <&5 && [[ $l == SSH-2.0-* ]]' _ "$RPORT"
}

@test "a tunnel from the config file's tunnels: section" {
	write_config <<EOC
default: {tunnels: allow}
tunnels:
  cfgbox:
    bastion: $ME@127.0.0.1:$BPORT
    key: $KEY
    forwards: [R $RPORT:127.0.0.1:$BPORT]
    ssh_options: [UserKnownHostsFile=$B/known_hosts]
EOC
	run ssh-tunnel-up cfgbox
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/cfgbox.yaml" ]
	run ssh-tunnel-ls --probe cfgbox
	[ "$status" -eq 0 ]
	run ssh-tunnel-down cfgbox
	[ "$status" -eq 0 ]
	[[ $output == *"defined in $CONF:3; remove it there"* ]]
	[ "$(state_of cfgbox)" = stopped ]
}

@test "a bastion name that does not resolve: dns; refused port: refused" {
	run ssh-tunnel-up -b "$ME@nonexistent.invalid" -s "$KEY" -p "$RPORT" \
	    labbox
	echo "$output"
	[ "$status" -eq 69 ]
	[[ $output == *"(dns via"* ]]
	wait_reason labbox dns 15
	ssh-tunnel-down labbox
	run ssh-tunnel-up -b "$ME@127.0.0.1:$(free_port)" -s "$KEY" \
	    -p "$RPORT" labbox
	[ "$status" -eq 69 ]
	wait_reason labbox refused 15
}

# busy_sshd: an sshd (P, D) whose only startup (MaxStartups 1) one
# unauthenticated connection holds open, by a process of its own (pid in
# hold), so that a supervisor started later does not inherit it (and keep
# sshd full after the holder is gone).
busy_sshd() {
	SSHD_EXTRA="MaxStartups 1" sshd_start "$BATS_TEST_TMPDIR/busy"
	P=$SSHD_PORT D=$SSHD_DIR
	(exec 5<>"/dev/tcp/127.0.0.1/$P"; exec sleep 60) &
	hold=$!
	sleep 0.5
}

@test "sshd past MaxStartups: throttled, waited out past 10 s, and up once it has room" {
	busy_sshd
	# sshd's room back after the 10 s a call waits for a timeout: a
	# busy bastion is waited out longer (60 s), as a lab booting
	# together meets it.
	(sleep 13; kill "$hold") &
	free=$!
	t0=$SECONDS
	run ssh-tunnel-up -b "$ME@127.0.0.1:$P" -s "$D/id_ed25519" -p "$RPORT" \
	    -l "127.0.0.1:$P" -o "UserKnownHostsFile=$D/known_hosts" labbox
	kill "$hold" 2>/dev/null || :
	wait "$free" || :
	echo "$output"
	[ "$status" -eq 0 ]
	[ $((SECONDS - t0)) -ge 12 ]
	grep -q 'past MaxStartups' "$D/sshd.log"
	grep -q 'not up (throttled), retrying in' \
	    "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log"
	[ "$(state_of labbox)" = up ]
	# The forward listens on the bastion.
	wait_port "$RPORT" 5
}

@test "a throttle that ends within the call's wait: the call says up" {
	busy_sshd
	# sshd's room back as soon as the supervisor has been throttled.
	log=$XDG_RUNTIME_DIR/scitex-ssh/labbox.log
	(for ((i = 0; i < 200; i++)); do
		grep -qs 'not up (throttled)' "$log" && break
		sleep 0.05
	done; kill "$hold") &
	free=$!
	run ssh-tunnel-up -b "$ME@127.0.0.1:$P" -s "$D/id_ed25519" -p "$RPORT" \
	    -l "127.0.0.1:$P" -o "UserKnownHostsFile=$D/known_hosts" labbox
	wait "$free" || :
	wait "$hold" || :
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'past MaxStartups' "$D/sshd.log"
	grep -q 'not up (throttled), retrying in' \
	    "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log"
	[ "$(state_of labbox)" = up ]
}

@test "ssh gone while its supervisor cannot say so: not shown up" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	pid=$(supervisor_pids)
	[ -n "$pid" ]
	kill -STOP "$pid"
	sshd_stop "$B"
	for ((i = 0; i < 50; i++)); do
		[ "$(state_of labbox)" = connecting ] && break
		sleep 0.1
	done
	state=$(state_of labbox)
	kill -CONT "$pid"
	[ "$state" = connecting ]
	sshd_restart "$B"
	wait_state labbox up 30
}

@test "down -a: every supervisor signalled first, all gone together" {
	for n in t1 t2 t3 t4 t5 t6; do
		RPORT=$(free_port)
		mapfile -t args < <(tunnel_up_args)
		ssh-tunnel-up -q "${args[@]}" "$n"
	done
	mapfile -t pids < <(supervisor_pids)
	[ "${#pids[@]}" -eq 6 ]
	t0=$EPOCHREALTIME
	run ssh-tunnel-down -a
	took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	[ "$status" -eq 0 ]
	echo "down -a of 6: $took s" >&3
	for p in "${pids[@]}"; do
		run running "$p"
		[ "$status" -ne 0 ]
	done
	[ -z "$(ssh-tunnel-ls -N)" ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/scitex-ssh")" ]
	awk -v t="$took" 'BEGIN { exit !(t < 5) }'
}
