#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# scitex-ssh 1.0's autossh-tunnel-2222.service under a real systemd
# (tests/lib/container.bash), running as root and as User=alice: listed by
# ssh-tunnel-ls, adopted by ssh-tunnel-up --adopt with its port served
# across the switch, removed by ssh-tunnel-down -p.

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
}

teardown() {
	ct_booted || return 0
	ct ssh-tunnel-down -q -a >/dev/null 2>&1 || :
	ct_legacy_gone
	ct systemctl start bastion >/dev/null 2>&1 || :
}

@test "ssh-tunnel-ls lists a running 1.0 unit as backend autossh, up" {
	ct_legacy_unit root
	run ct ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'autossh-tunnel-2222\tautossh\tup\t2222')" ]
	[ "$(cut -f5 <<<"$output")" = "tunnel@127.0.0.1:2200" ]
}

@test "--adopt -m systemd of a root 1.0 unit: up under the new unit, the old one gone" {
	ct_legacy_unit root
	T0=$EPOCHREALTIME
	run ct ssh-tunnel-up -m systemd --adopt 2222 labbox
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# adopt (1.0 root unit to systemd, up): $(_ct_since "$T0") s" >&3
	[[ $output == *"adopted /etc/systemd/system/autossh-tunnel-2222.service (removed)"* ]]
	[ ! -e "$CT_DIR/root/etc/systemd/system/autossh-tunnel-2222.service" ]
	[ ! -L "$CT_DIR/root/etc/systemd/system/multi-user.target.wants/autossh-tunnel-2222.service" ]
	run ct systemctl is-active autossh-tunnel-2222.service
	[ "$output" != active ]
	[ "$(ct systemctl is-active ssh-tunnel@labbox.service)" = active ]
	run ct ssh-tunnel-ls
	echo "$output"
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'labbox\tsystemd\tup\t2222')" ]
	run ct_lab
	echo "$output"
	[ "$output" = labbox ]
	run ct_procs
	[[ $output != *autossh* ]]
}

@test "ssh-tunnel-down -p 2222 removes running 1.0 units, root's and User=alice's" {
	for u in root alice; do
		ct_legacy_unit "$u"
		run ct ssh-tunnel-down -p 2222
		echo "$output"
		[ "$status" -eq 0 ]
		[ ! -e "$CT_DIR/root/etc/systemd/system/autossh-tunnel-2222.service" ]
		[ ! -L "$CT_DIR/root/etc/systemd/system/multi-user.target.wants/autossh-tunnel-2222.service" ]
		run ct systemctl is-active autossh-tunnel-2222.service
		[ "$output" != active ]
		run ct_procs
		echo "$output"
		[ -z "$output" ]
		run ct ssh-tunnel-ls
		[ -z "$output" ]
	done
}

@test "bug 1: --adopt -m systemd of a User= unit is refused before anything changes" {
	ct_legacy_unit alice
	pid=$(ct_mainpid autossh-tunnel-2222.service)
	since=$(ct systemctl show -P ActiveEnterTimestampMonotonic autossh-tunnel-2222.service)
	run ct ssh-tunnel-up -m systemd --adopt 2222 labbox
	echo "$output"
	[ "$status" -eq 78 ]
	[ ! -e "$CT_DIR/root/etc/scitex-ssh/tunnels.d/labbox.yaml" ]
	run ct ssh-tunnel-ls -N
	echo "$output"
	[ "$output" = autossh-tunnel-2222 ]
	# the old tunnel was neither stopped nor restarted on the way
	[ "$(ct_mainpid autossh-tunnel-2222.service)" = "$pid" ]
	[ "$(ct systemctl show -P ActiveEnterTimestampMonotonic autossh-tunnel-2222.service)" = "$since" ]
}

@test "bug 6: a User= unit adopted with -m daemon survives a reboot, or is said not to" {
	ct_legacy_unit alice
	run ct ssh-tunnel-up -m daemon --adopt 2222 labbox
	echo "$output"
	[ "$status" -eq 0 ]
	said=$output
	ct_reboot
	if [[ $said != *reboot* ]]; then
		ct_wait_state labbox up 60
		run ct_lab
		[ "$output" = labbox ]
	fi
}

@test "bug 9: a 1.0 row shows its pid and uptime, and is not up while the bastion is down" {
	ct_legacy_unit root
	sleep 2
	pid=$(ct_mainpid autossh-tunnel-2222.service)
	run ct ssh-tunnel-ls -j
	echo "$output"
	[[ $output == *'"pid":'"$pid"','* ]]
	[[ $output != *'"uptime":0,'* ]]
	ct systemctl stop bastion
	for ((i = 0; i < 100; i++)); do
		[ "$(ct_state autossh-tunnel-2222)" != up ] && break
		sleep 0.1
	done
	run ct ssh-tunnel-ls autossh-tunnel-2222
	echo "$output"
	[ "$(cut -f3 <<<"$output")" != up ]
}
