#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-up -a: every defined tunnel started at once, those running
# left alone, one line for each that is not up, the flags that define a
# tunnel refused; ssh-tunnel-down -a leaves nothing behind.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	TD=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mkdir -p "$TD"
}

teardown() {
	tunnel_teardown
}

# define NAME RPORT [BASTION_PORT]: a definition written by hand in
# tunnels.d, forwarding the bastion's RPORT back to the fixture's sshd.
define() {
	cat >"$TD/$1.yaml" <<EOY
bastion: ["$ME@127.0.0.1:${3:-$BPORT}"]
key: "$KEY"
forwards: ["R $2:127.0.0.1:$BPORT"]
ssh_options: ["UserKnownHostsFile=$B/known_hosts"]
EOY
}

# listens PORT: an sshd answers on the bastion's PORT (through the tunnel).
listens() {
	timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 8 <&3" |
	    grep -q '^SSH-2.0-'
}

# gone PID...: none of them runs any more.
gone() {
	local p
	for p; do
		if running "$p"; then
			echo "still running: $p" >&2
			return 1
		fi
	done
}

@test "-a brings every defined tunnel up; a second -a changes nothing; down -a ends all" {
	P1=$(free_port) P2=$(free_port) P3=$(free_port)
	define t1 "$P1"
	define t2 "$P2"
	define t3 "$P3"
	defs=$(tree_sum "$TD")

	run ssh-tunnel-up -a
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]

	run ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 't1\tdaemon\tup\t%s\nt2\tdaemon\tup\t%s\nt3\tdaemon\tup\t%s' "$P1" "$P2" "$P3")" ]
	for p in "$P1" "$P2" "$P3"; do
		listens "$p"
	done

	pids=$(supervisor_pids | sort)
	[ "$(wc -l <<<"$pids")" -eq 3 ]
	sshpids=$(for p in $pids; do ps -o pid= --ppid "$p"; done)
	[ "$(wc -w <<<"$sshpids")" -eq 3 ]

	run ssh-tunnel-up -a
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(supervisor_pids | sort)" = "$pids" ]
	[ "$(tree_sum "$TD")" = "$defs" ]
	for p in "$P1" "$P2" "$P3"; do
		listens "$p"
	done

	run ssh-tunnel-down -a
	echo "$output"
	[ "$status" -eq 0 ]
	gone $pids $sshpids
	[ -z "$(supervisor_pids)" ]
	[ -z "$(ls "$XDG_RUNTIME_DIR/scitex-ssh")" ]
	[ -z "$(ls "$TD")" ]
}

@test "-a with a broken definition: its line and a non-zero exit, the others up" {
	P1=$(free_port) P2=$(free_port) P3=$(free_port) dead=$(free_port)
	define t1 "$P1"
	define broken "$P2" "$dead"
	# one from the config file's tunnels: section too
	cat >>"$CONF" <<EOC
tunnels:
  t3:
    bastion: "$ME@127.0.0.1:$BPORT"
    key: "$KEY"
    forwards: ["R $P3:127.0.0.1:$BPORT"]
    ssh_options: ["UserKnownHostsFile=$B/known_hosts"]
EOC

	run ssh-tunnel-up -a
	echo "$output"
	[ "$status" -eq 69 ]
	[ "$(grep -c '^ssh-tunnel-up: ' <<<"$output")" -eq 1 ]
	[[ $output == "ssh-tunnel-up: broken: not up yet (refused via"* ]]
	[ "$(state_of t1)" = up ]
	[ "$(state_of t3)" = up ]
	listens "$P1"
	listens "$P3"
	wait_reason broken refused 15

	# the broken one is left trying, not started twice
	pids=$(supervisor_pids | sort)
	[ "$(wc -l <<<"$pids")" -eq 3 ]
	run ssh-tunnel-up -a
	[ "$status" -eq 0 ]
	[ "$(supervisor_pids | sort)" = "$pids" ]

	ssh-tunnel-down -a -q || :
	gone $pids
}

@test "-a takes no name and none of the defining flags: 64, nothing changed" {
	P1=$(free_port)
	define t1 "$P1"
	before=$(tree_sum "$HOME")
	for args in "t1" "-b $ME@127.0.0.1:$BPORT" "-p $P1" "-s $KEY" \
	    "-l 127.0.0.1:22" "-o BatchMode=yes" "-K" "-n" "-f" \
	    "--adopt $P1"; do
		# shellcheck disable=SC2086
		run ssh-tunnel-up -a $args
		echo "-a $args: $status: $output"
		[ "$status" -eq 64 ]
		[[ $output == "usage: ssh-tunnel-up "* ]]
	done
	[ "$(tree_sum "$HOME")" = "$before" ]
	[ -z "$(supervisor_pids)" ]
	[ ! -e "$XDG_RUNTIME_DIR/scitex-ssh" ]
}

@test "-a with nothing defined: 0, nothing started" {
	run ssh-tunnel-up -a
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$(supervisor_pids)" ]
}

@test "-a -m names the backend: one that does not exist is 64" {
	define t1 "$(free_port)"
	run ssh-tunnel-up -a -m nosuch
	echo "$output"
	[ "$status" -eq 64 ]
	[[ $output == *"-m: nosuch: no such backend"* ]]
	[ -z "$(supervisor_pids)" ]
	run ssh-tunnel-up -a -m daemon
	[ "$status" -eq 0 ]
	[ "$(state_of t1)" = up ]
}

@test "-a of 60 against sshd's MaxStartups 8: paced, none dropped, all up" {
	# sshd drops every unauthenticated connection past 8; the tunnels of
	# one host hold at most 8 connect slots a bastion (lib/slots.c).
	SSHD_EXTRA="MaxStartups 8" sshd_start "$BATS_TEST_TMPDIR/narrow"
	P=$SSHD_PORT D=$SSHD_DIR
	for ((i = 1; i <= 60; i++)); do
		cat >"$TD/n$i.yaml" <<EOY
bastion: ["$ME@127.0.0.1:$P"]
key: "$D/id_ed25519"
forwards: ["R $(free_port):127.0.0.1:$P"]
ssh_options: ["UserKnownHostsFile=$D/known_hosts"]
EOY
	done
	run ssh-tunnel-up -a
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ssh-tunnel-ls | cut -f3 | sort | uniq -c | awk '{ print $1, $2 }')" = "60 up" ]
	# On the wire: sshd accepted exactly 60, dropped none (without the
	# slots, most were dropped and not up within the 10 s).
	[ "$(grep -c 'Accepted publickey' "$D/sshd.log")" -eq 60 ]
	! grep 'past MaxStartups' "$D/sshd.log"
	! grep -h 'throttled' "$XDG_RUNTIME_DIR"/scitex-ssh/n*.log
	ssh-tunnel-down -a
	[ -z "$(ls "$XDG_RUNTIME_DIR/scitex-ssh")" ]
}
