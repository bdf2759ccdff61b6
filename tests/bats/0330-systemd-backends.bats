#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The backend choice on a machine without a running systemd (as here and
# in containers): daemon by default, systemd and user refused with a clear
# error. And the template's ExecStart, run for real as systemd would run
# it for an instance, brings the tunnel up against the throwaway bastion.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	[ ! -d /run/systemd/system ] || skip "systemd is running here"
}

teardown() {
	[ -z "${EXECPID:-}" ] || kill "$EXECPID" 2>/dev/null || :
	tunnel_teardown
}

@test "without systemd the default backend is daemon" {
	mapfile -t args < <(tunnel_up_args)
	run ssh-tunnel-up -n "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"# backend daemon: no unit"* ]]
	run ssh-tunnel-up "${args[@]}" labbox
	[ "$status" -eq 0 ]
	[ "$(ssh-tunnel-ls labbox | cut -f2,3)" = "$(printf 'daemon\tup')" ]
}

@test "-m systemd and -m user fail here with exit 69 and change nothing" {
	mapfile -t args < <(tunnel_up_args)
	before=$(tree_sum "$HOME")
	for m in systemd user; do
		run ssh-tunnel-up -m "$m" "${args[@]}" labbox
		echo "$output"
		[ "$status" -eq 69 ]
		[ "$output" = "ssh-tunnel-up: backend $m: systemd is not the init system here (no /run/systemd/system); use -m daemon" ]
		run ssh-tunnel-up -n -m "$m" "${args[@]}" labbox
		[ "$status" -eq 69 ]
	done
	[ "$(tree_sum "$HOME")" = "$before" ]
	[ ! -e "$XDG_CONFIG_HOME/systemd" ]
}

@test "the unit's ExecStart, run as systemd would, brings the tunnel up" {
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q "${args[@]}" labbox
	ssh-tunnel-down -q labbox
	# the definition stays where the user manager's supervisor looks
	mapfile -t args < <(tunnel_up_args)
	ssh-tunnel-up -q -n "${args[@]}" labbox | sed -n '2,/^# backend/p' |
	    sed '$d' >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml"
	for kind in user system; do
		# as make install writes it: ExecStart names the installed binary
		line=$(sed -n "s|^ExecStart=/usr/local/bin/|ExecStart=$BUILD/bin/|p" \
		    "$TOP/systemd/$kind/ssh-tunnel@.service")
		[ "$line" = "ExecStart=$BUILD/bin/ssh-tunnel-up -f %i" ]
	done
	read -r -a cmd <<<"${line#ExecStart=}"
	cmd=("${cmd[@]/\%i/labbox}")
	"${cmd[@]}" 2>"$BATS_TEST_TMPDIR/exec.log" &
	EXECPID=$!
	wait_state labbox up 20
	run ssh-tunnel-ls --probe labbox
	echo "$output"
	[[ $output == "labbox	verified	SSH-2.0-"* ]]
	kill -TERM "$EXECPID"
	wait "$EXECPID" || code=$?
	[ "${code:-0}" -eq 0 ]
	EXECPID=
}
