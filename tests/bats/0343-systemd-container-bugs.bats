#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The root backend's bugs of issue 11, each shown under a real systemd
# (tests/lib/container.bash); bugs 5 and 7 are in 0341 (user backend), 6
# and the 1.0 rows of 9 in 0342 (adoption).

load ../lib/common
load ../lib/container

setup_file() {
	ct_setup
}

teardown_file() {
	ct_teardown
}

setup() {
	ct_skip
	R=$CT_DIR/root
	ROOTCONF=$R/root/.config/scitex-ssh/config.yaml
	cp "$ROOTCONF" "$BATS_TEST_TMPDIR/rootconf"
}

teardown() {
	ct_booted || return 0
	ct ssh-tunnel-down -q -a >/dev/null 2>&1 || :
	# a unit the tools no longer know of is stopped here, by its name
	ct systemctl disable -q --now ssh-tunnel@labbox.service 2>/dev/null || :
	ct systemctl reset-failed ssh-tunnel@labbox.service 2>/dev/null || :
	cp "$BATS_TEST_TMPDIR/rootconf" "$ROOTCONF"
	ct rm -rf /etc/scitex-ssh /run/scitex-ssh
}

up() {
	mapfile -t args < <(ct_up_args)
	run ct ssh-tunnel-up -m systemd "${args[@]}" "$@" labbox
	echo "$output"
	[ "$status" -eq 0 ]
}

# The definition from ct_up_args as one entry of a tunnels: section.
tunnels_section() {
	cat <<EOC
tunnels:
  labbox:
    bastion: tunnel@127.0.0.1:$CT_BPORT
    key: /root/.ssh/id_ed25519
    forwards: [R 2222:localhost:22]
EOC
}

@test "bug 1: a refused start (key under /home) writes no definition" {
	mapfile -t args < <(ct_up_args alice)
	run ct ssh-tunnel-up -m systemd "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 78 ]
	[ ! -e "$R/etc/scitex-ssh/tunnels.d/labbox.yaml" ]
	run ct ssh-tunnel-ls
	echo "$output"
	[ -z "$output" ]
	run ct systemctl is-enabled ssh-tunnel@labbox.service
	[ "$output" != enabled ]
}

@test "bug 2: a tunnels: entry in root's own config is refused at once for -m systemd" {
	{ printf 'default: {tunnels: allow}\n'; tunnels_section; } >"$ROOTCONF"
	T0=$EPOCHREALTIME
	run ct ssh-tunnel-up -m systemd labbox
	echo "$output"
	took=$(_ct_since "$T0")
	echo "took $took s"
	[ "$status" -eq 78 ]
	awk -v t="$took" 'BEGIN { exit !(t < 5) }'
	[[ $output != *"keeps trying"* ]]
	run ct systemctl is-enabled ssh-tunnel@labbox.service
	[ "$output" != enabled ]
	run ct systemctl is-active ssh-tunnel@labbox.service
	[ "$output" != active ]
}

@test "bug 2: a tunnels: entry in /etc/scitex-ssh/config.yaml: up, listed, and down for real" {
	rm -f "$ROOTCONF"
	mkdir -p "$R/etc/scitex-ssh"
	{ printf 'default: {tunnels: allow}\n'; tunnels_section; } >"$R/etc/scitex-ssh/config.yaml"
	run ct ssh-tunnel-up -m systemd labbox
	echo "$output"
	[ "$status" -eq 0 ]
	run ct ssh-tunnel-ls labbox
	echo "$output"
	[ "$(cut -f1-3 <<<"$output")" = "$(printf 'labbox\tsystemd\tup')" ]
	ct test -f "/run/scitex-ssh/labbox.state"
	run ct ssh-tunnel-down labbox
	echo "$output"
	[ "$status" -eq 0 ]
	run ct systemctl is-active ssh-tunnel@labbox.service
	[ "$output" != active ]
	run ct systemctl is-enabled ssh-tunnel@labbox.service
	[ "$output" != enabled ]
	run ct_procs
	echo "$output"
	[ -z "$output" ]
}

@test "bug 3: the same ssh-tunnel-up again on a running tunnel leaves it untouched" {
	up
	pid=$(ct_mainpid ssh-tunnel@labbox.service)
	ssh1=$(ct ps -o pid= --ppid "$pid" | tr -d ' ')
	def=$(stat -c '%i %Y' "$R/etc/scitex-ssh/tunnels.d/labbox.yaml")
	sleep 1
	up
	[[ $output == *"already running"* ]]
	[ "$(ct ps -o pid= --ppid "$pid" | tr -d ' ')" = "$ssh1" ]
	[ "$(stat -c '%i %Y' "$R/etc/scitex-ssh/tunnels.d/labbox.yaml")" = "$def" ]
	run ct journalctl -q -o cat -u ssh-tunnel@labbox.service
	echo "$output"
	[[ $output != *reloaded* ]]
}

@test "bug 4: /etc/scitex-ssh is made 0755, so that everyone reads the system config" {
	[ ! -e "$R/etc/scitex-ssh" ]
	up
	[ "$(stat -c %a "$R/etc/scitex-ssh")" = 755 ]
	printf 'default: {tunnels: allow}\n' >"$R/etc/scitex-ssh/config.yaml"
	chmod 0644 "$R/etc/scitex-ssh/config.yaml"
	# bob has no config of his own: the system's decides
	run ct runuser -u bob -- env HOME=/home/bob ssh-allow-check -x -f tunnels labbox
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "bug 4: a system config that exists but cannot be read denies, and says so" {
	mkdir -m 0700 "$R/etc/scitex-ssh"
	printf 'default: {tunnels: allow}\n' >"$R/etc/scitex-ssh/config.yaml"
	chmod 0644 "$R/etc/scitex-ssh/config.yaml"
	run ct runuser -u bob -- env HOME=/home/bob ssh-allow-check -x -f tunnels labbox
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"/etc/scitex-ssh/config.yaml"* ]]
	[[ $output != *"no config file"* ]]
}

@test "bug 8: while systemd restarts the supervisor ssh-tunnel-ls never says failed" {
	up
	seen=
	for round in 1 2 3; do
		pid=$(ct_mainpid ssh-tunnel@labbox.service)
		ct kill -9 "$pid"
		for ((i = 0; i < 300; i++)); do
			s=$(ct_state labbox)
			seen="$seen $s"
			[ "$s" = up ] && [ "$(ct_mainpid ssh-tunnel@labbox.service)" != "$pid" ] &&
			    break
		done
	done
	echo "states seen:$seen" | tr ' ' '\n' | sort | uniq -c
	[[ $seen != *failed* ]]
}

@test "bug 9: a missing key is exit 65, as the manual says" {
	run ct ssh-tunnel-up -m systemd -b "tunnel@127.0.0.1:$CT_BPORT" \
	    -s /root/.ssh/missing -p 2222 labbox
	echo "$output"
	[ "$status" -eq 65 ]
	[ ! -e "$R/etc/scitex-ssh/tunnels.d/labbox.yaml" ]
	# EXIT STATUS of ssh-tunnel-up(1): the key's absence is under 65
	run sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$TOP/man/man1/ssh-tunnel-up.1"
	[[ $output != *".It 66"* ]]
}

@test "bug 9: the journal's lines carry systemd's prefix only" {
	up
	# this run of the unit only
	id=$(ct systemctl show -P InvocationID ssh-tunnel@labbox.service)
	run ct journalctl -q -o short _SYSTEMD_INVOCATION_ID="$id"
	echo "$output"
	grep -q 'ssh-tunnel-up\[[0-9]*\]: .*labbox' <<<"$output"
	run ct journalctl -q -o cat _SYSTEMD_INVOCATION_ID="$id" _COMM=ssh-tunnel-up
	echo "$output"
	[ -n "$output" ]
	run grep -E '^ssh-tunnel-up(\[[0-9]+\])?:|^[0-9]{4}-[0-9]{2}-[0-9]{2}T' <<<"$output"
	[ "$status" -eq 1 ]
}
