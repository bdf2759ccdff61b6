#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The user backend under a real systemd (tests/lib/container.bash): alice's
# tunnel in her user manager, with linger (up, and up again after a reboot
# with nobody logged in) and without (the warning, and the tunnel stopping
# at logout as it says); ls and down; ls without XDG_RUNTIME_DIR.

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
	ct loginctl enable-linger alice >/dev/null 2>&1 &&
	    ct_user_manager alice 10 >/dev/null 2>&1 &&
	    ct_as alice ssh-tunnel-down -q -a >/dev/null 2>&1
	ct_logout alice
	ct loginctl disable-linger alice >/dev/null 2>&1 || :
	ct loginctl terminate-user alice >/dev/null 2>&1 || :
}


# up_user [NAME [EXTRA...]]: alice's tunnel NAME (labbox) with -m user.
up_user() {
	mapfile -t args < <(ct_up_args alice)
	run ct_as alice ssh-tunnel-up -m user "${args[@]}" "${@:2}" "${1:-labbox}"
	echo "$output"
	[ "$status" -eq 0 ]
}

linger() {
	ct loginctl enable-linger alice
	ct_user_manager alice 20
}

@test "-m user with linger: up, no warning, the lab reached through the bastion" {
	linger
	T0=$EPOCHREALTIME
	up_user
	ct_took "ssh-tunnel-up -m user to up"
	[[ $output != *linger* ]]
	[ "$(ct_as alice ssh-tunnel-ls labbox | cut -f2,3)" = "$(printf 'user\tup')" ]
	[ "$(ct_as alice systemctl --user is-active ssh-tunnel@labbox.service)" = active ]
	[ "$(ct_as alice systemctl --user is-enabled ssh-tunnel@labbox.service)" = enabled ]
	run ct_lab
	echo "$output"
	[ "$output" = labbox ]
	run ct_as alice systemd-analyze --user security --no-pager ssh-tunnel@labbox.service
	s=$(ct_exposure <<<"$output")
	echo "# exposure (online): user ssh-tunnel@labbox.service $s" >&3
}

@test "-m user with linger: up again after a reboot, nobody logged in (time)" {
	linger
	up_user
	ct_reboot
	T0=$CT_BOOT_T0
	ct_user_manager alice 60
	ct_wait_state labbox up 60 alice
	ct_took "boot to up (user, linger)"
	[ -z "$(ct loginctl list-sessions --no-legend)" ]
	run ct_lab
	[ "$output" = labbox ]
}

@test "-m user: ssh-tunnel-ls and ssh-tunnel-down as the user" {
	linger
	up_user
	run ct_as alice ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'labbox\tuser\tup\t2222')" ]
	uid=$(ct_uid alice)
	run ct_as alice ssh-tunnel-down labbox
	echo "$output"
	[ "$status" -eq 0 ]
	run ct_as alice systemctl --user is-active ssh-tunnel@labbox.service
	[ "$output" = inactive ]
	run ct_as alice systemctl --user is-enabled ssh-tunnel@labbox.service
	[ "$output" != enabled ]
	[ ! -e "$CT_DIR/root/home/alice/.config/scitex-ssh/tunnels.d/labbox.yaml" ]
	ct test ! -e "/run/user/$uid/scitex-ssh/labbox.state"
	run ct_procs
	echo "$output"
	[ -z "$output" ]
}

@test "-m user without linger: the warning, and the tunnel stops at logout as it says" {
	ct_login alice
	up_user
	[[ $output == *"linger is off for alice"* ]]
	[[ $output == *"loginctl enable-linger alice"* ]]
	[ "$(ct_state labbox alice)" = up ]
	ct_logout alice
	for ((i = 0; i < 150; i++)); do
		[ -z "$(ct_procs)" ] && break
		sleep 0.1
	done
	run ct_procs
	echo "$output"
	[ -z "$output" ]
	run ct systemctl is-active "user@$(ct_uid alice).service"
	[ "$output" != active ]
}

@test "bug 5: the linger warning also when the user manager already runs the enabled tunnel" {
	ct_login alice
	up_user
	[[ $output == *"loginctl enable-linger alice"* ]]
	ct_logout alice
	# at the next login the user manager starts the enabled instance itself
	ct_login alice
	ct_wait_state labbox up 30 alice
	run ct_as alice ssh-tunnel-up labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"loginctl enable-linger alice"* ]]
}

@test "bug 7: without XDG_RUNTIME_DIR ssh-tunnel-ls still finds running user and daemon tunnels" {
	linger
	up_user
	mapfile -t args < <(ct_up_args alice)
	run ct_as alice ssh-tunnel-up -m daemon "${args[@]/2222/2223}" lab2
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ct_state lab2 alice)" = up ]
	# as sudo -u or cron run it: HOME, no XDG_RUNTIME_DIR
	run ct runuser -u alice -- env HOME=/home/alice ssh-tunnel-ls
	echo "$output"
	[ "$(cut -f1-3 <<<"$output")" = "$(printf 'lab2\tdaemon\tup\nlabbox\tuser\tup')" ]
}
