#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The systemd backend under a real systemd: a Debian 12 container booted
# with systemd-nspawn (tests/lib/container.bash), the bastion's sshd and
# the lab sshd inside on loopback. The root unit comes up with its sandbox
# applied, systemd brings it back after kill -9 of the supervisor, after a
# bastion restart and after a reboot with nobody logged in; reload,
# status, ls and down. One container for the file; the tests run in order
# and each leaves no tunnel behind.

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
	T0=$EPOCHREALTIME
}

teardown() {
	ct_booted || return 0
	ct ssh-tunnel-down -q -a >/dev/null 2>&1 || :
	ct systemctl start bastion >/dev/null 2>&1 || :
}

up() {
	mapfile -t args < <(ct_up_args)
	run ct ssh-tunnel-up -m systemd "${args[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "container: booted (times of debootstrap and boot)" {
	cat "$CT_DIR/times"
	echo "# $(tr '\n' ';' <"$CT_DIR/times")" >&3
	run ct systemctl is-system-running
	echo "$output"
	[[ $output == running || $output == degraded ]]
	run ct systemctl is-active bastion ssh
	[ "$status" -eq 0 ]
	[ "$(ct hostname)" = labbox ]
}

@test "-m systemd: up, verified end to end, the lab sshd reached through the bastion" {
	up
	ct_took "ssh-tunnel-up to up (first: unit written, daemon-reload)"
	ct ssh-tunnel-down -q labbox
	T0=$EPOCHREALTIME
	up
	ct_took "ssh-tunnel-up to up (again)"
	[[ $output == *"Host labbox"* ]]
	[ "$(ct_state labbox)" = up ]
	[ "$(ct ssh-tunnel-ls labbox | cut -f2,4)" = "$(printf 'systemd\t2222')" ]
	[ "$(ct systemctl is-active ssh-tunnel@labbox.service)" = active ]
	[ "$(ct systemctl is-enabled ssh-tunnel@labbox.service)" = enabled ]
	[ -f "$CT_DIR/root/etc/systemd/system/ssh-tunnel@.service" ]
	[ -f "$CT_DIR/root/etc/scitex-ssh/tunnels.d/labbox.yaml" ]
	ct test -f "/run/scitex-ssh/labbox.state"
	# the table's proof by locks holds in here: ssh's (its stdin, a
	# memfd) and the supervisor's, taken inside, listed in /proc/locks
	ino=$(ct sed -n 's/^ssh_ino //p' /run/scitex-ssh/labbox.state)
	lino=$(ct sed -n 's/^lock_ino //p' /run/scitex-ssh/labbox.state)
	echo "ssh_ino $ino lock_ino $lino"
	[ "${ino:-0}" != 0 ] && [ "${lino:-0}" != 0 ]
	ct grep -q "FLOCK .*:$ino " /proc/locks
	ct grep -q "FLOCK .*:$lino " /proc/locks
	run ct ssh-tunnel-ls --probe labbox
	echo "$output"
	[[ $output == "labbox	verified	SSH-2.0-"* ]]
	run ct_lab
	echo "$output"
	[ "$output" = labbox ]
}

@test "the sandbox applies: online exposure, no capabilities, seccomp, homes hidden" {
	up
	run ct systemd-analyze security --no-pager ssh-tunnel@labbox.service
	s=$(ct_exposure <<<"$output")
	echo "# exposure (online): ssh-tunnel@labbox.service $s" >&3
	[ -n "$s" ]
	awk -v s="$s" 'BEGIN { exit !(s <= 1.5) }'
	pid=$(ct_mainpid ssh-tunnel@labbox.service)
	[ "$pid" -gt 0 ]
	ct_unprivileged "$pid"
	# what the supervisor sees: /home empty, / read-only, root's .ssh there
	run ct nsenter -t "$pid" -m -U --preserve-credentials ls -A /home
	echo "home: $output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run ct nsenter -t "$pid" -m -U --preserve-credentials touch /usr/x
	[ "$status" -ne 0 ]
	run ct nsenter -t "$pid" -m -U --preserve-credentials ls /root/.ssh
	[[ $output == *id_ed25519* ]]
}

@test "systemctl status and the journal say what the tunnel does" {
	up
	run ct systemctl status --no-pager -n 20 ssh-tunnel@labbox.service
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"scitex-ssh tunnel labbox"* ]]
	[[ $output == *"Active: active (running)"* ]]
	[[ $output == *"ssh-tunnel-up -f labbox"* ]]
	[[ $output == *"ssh -N"* || $output == *"/ssh "*"-N"* ]]
}

@test "systemctl reload (SIGHUP): still up, same supervisor, ssh not restarted" {
	up
	pid=$(ct_mainpid ssh-tunnel@labbox.service)
	ssh1=$(ct ps -o pid= --ppid "$pid" | tr -d ' ')
	run ct systemctl reload ssh-tunnel@labbox.service
	echo "$output"
	[ "$status" -eq 0 ]
	sleep 1
	[ "$(ct_state labbox)" = up ]
	[ "$(ct_mainpid ssh-tunnel@labbox.service)" = "$pid" ]
	[ "$(ct ps -o pid= --ppid "$pid" | tr -d ' ')" = "$ssh1" ]
}

@test "kill -9 of the supervisor: systemd restarts it, up again (time)" {
	up
	pid=$(ct_mainpid ssh-tunnel@labbox.service)
	T0=$EPOCHREALTIME
	ct kill -9 "$pid"
	ct_wait_state labbox up 30
	ct_took "kill -9 to up"
	[ "$(ct_mainpid ssh-tunnel@labbox.service)" != "$pid" ]
	[ "$(ct systemctl show -P NRestarts ssh-tunnel@labbox.service)" -ge 1 ]
	run ct_lab
	[ "$output" = labbox ]
}

@test "the bastion's sshd restarted: up again (time)" {
	up
	T0=$EPOCHREALTIME
	ct systemctl restart bastion
	# the old connection is gone with the bastion's cgroup: not up for a while
	ct_wait_state labbox up 60
	ct_took "bastion restart to up"
	run ct_lab
	echo "$output"
	[ "$output" = labbox ]
}

@test "the bastion's sshd killed, down 5 s, started: up again (time)" {
	up
	ct systemctl kill -s KILL bastion
	ct systemctl stop bastion
	sleep 5
	[ "$(ct_state labbox)" != up ]
	T0=$EPOCHREALTIME
	ct systemctl start bastion
	ct_wait_state labbox up 60
	ct_took "bastion back after 5 s to up"
	run ct_lab
	[ "$output" = labbox ]
}

@test "reboot with nobody logged in: up again after boot (time)" {
	up
	ct_reboot
	grep '^boot ' "$CT_DIR/times" | tail -1
	# ct_boot returned once systemd runs; measure from its start
	T0=$CT_BOOT_T0
	ct_wait_state labbox up 60
	ct_took "boot to up"
	[ -z "$(ct loginctl list-sessions --no-legend)" ]
	run ct_lab
	[ "$output" = labbox ]
}

@test "ssh-tunnel-down: unit stopped and disabled, files gone, no process left" {
	up
	run ct ssh-tunnel-down labbox
	echo "$output"
	[ "$status" -eq 0 ]
	run ct systemctl is-active ssh-tunnel@labbox.service
	[ "$output" = inactive ]
	run ct systemctl is-enabled ssh-tunnel@labbox.service
	[ "$output" != enabled ]
	[ ! -e "$CT_DIR/root/etc/scitex-ssh/tunnels.d/labbox.yaml" ]
	ct test ! -e "/run/scitex-ssh/labbox.state"
	ct test ! -e "/run/scitex-ssh/labbox.pid"
	[ ! -L "$CT_DIR/root/etc/systemd/system/multi-user.target.wants/ssh-tunnel@labbox.service" ]
	run ct_procs
	echo "$output"
	[ -z "$output" ]
	run ct ssh-tunnel-ls
	[ -z "$output" ]
	run ct ssh-tunnel-down labbox
	[ "$status" -eq 1 ]
}
