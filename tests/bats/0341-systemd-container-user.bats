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
	if [ -e "$CT_DIR/root$NOUSERNS" ]; then
		ct rm -f "$NOUSERNS"
		ct systemctl daemon-reload
	fi
}

# A drop-in that keeps alice's user manager (and all it runs) from making
# user namespaces, as user.max_user_namespaces=0 would for everyone.
NOUSERNS=/etc/systemd/system/user@.service.d/nouserns.conf
DROPIN=/home/alice/.config/systemd/user/ssh-tunnel@.service.d/50-no-userns.conf


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
	awk -v s="$s" 'BEGIN { exit !(s <= 2.5) }'
}

@test "the user unit's sandbox applies: each setting seen on the running supervisor" {
	linger
	up_user
	uid=$(ct_uid alice)
	pid=$(ct_mainpid ssh-tunnel@labbox.service alice)
	[ "$pid" -gt 0 ]
	# NoNewPrivileges, the system call filter, CapabilityBoundingSet=
	ct_unprivileged "$pid"
	# PrivateUsers, a mount namespace, ProtectHostname (its own UTS)
	for n in user mnt uts; do
		[ "$(ct readlink "/proc/$pid/ns/$n")" != "$(ct readlink "/proc/1/ns/$n")" ]
	done
	# its mounts: OPTS of the last mount on exactly PATH
	mountinfo=$(ct cat "/proc/$pid/mountinfo")
	opts() {
		awk -v p="$1" '$5 == p { o = $6 } END { print o }' <<<"$mountinfo"
	}
	ro() { [[ ,$(opts "$1"), == *,ro,* ]]; }
	rw() { [[ ,$(opts "$1"), == *,rw,* ]]; }
	ro /				# ProtectSystem=strict (and /home with it)
	ro "/run/user/$uid"		# ProtectHome=read-only
	rw "/run/user/$uid/scitex-ssh"	# RuntimeDirectory=
	rw /home/alice/.ssh/known_hosts	# BindPaths=
	ro /proc/sys			# ProtectKernelTunables
	ro /sys/fs/cgroup		# ProtectControlGroups
	[ -n "$(opts /dev/null)" ]	# PrivateDevices: nodes bound one by one
	[ -n "$(opts /tmp)" ]		# PrivateTmp
	# and what the supervisor can do there: as alice, in its namespaces
	gid=$(ct id -g alice)
	in_unit() {
		ct nsenter -t "$pid" -m -U -S "$uid" -G "$gid" "$@"
	}
	ct touch /tmp/outside
	run in_unit ls /tmp/outside
	[ "$status" -ne 0 ]
	ct rm -f /tmp/outside
	run in_unit touch /home/alice/x
	echo "home: $output"
	[ "$status" -ne 0 ]
	run in_unit touch /home/alice/.config/scitex-ssh/tunnels.d/x
	[ "$status" -ne 0 ]
	run in_unit touch /usr/x
	[ "$status" -ne 0 ]
	run in_unit sh -c 'echo 1 >/proc/sys/kernel/sysrq'
	[ "$status" -ne 0 ]
	run in_unit touch /home/alice/.ssh/known_hosts "/run/user/$uid/scitex-ssh/x"
	echo "writable: $output"
	[ "$status" -eq 0 ]
	ct rm -f "/run/user/$uid/scitex-ssh/x"
	[ ! -e "$CT_DIR/root/home/alice/x" ]
	[ ! -e "$CT_DIR/root/usr/x" ]
}

@test "-m user: a bastion never seen before is remembered in ~/.ssh/known_hosts through the sandbox" {
	linger
	ct sed -i /127.0.0.1/d /home/alice/.ssh/known_hosts
	up_user
	run ct cat /home/alice/.ssh/known_hosts
	echo "$output"
	[ "$(wc -l <<<"$output")" -eq 1 ]
	ct_as alice ssh-keygen -F '[127.0.0.1]:2200' -f /home/alice/.ssh/known_hosts
	# the tunnel comes back after a restart of the unit with that key
	ct_as alice systemctl --user restart ssh-tunnel@labbox.service
	ct_wait_state labbox up 30 alice
	run ct_lab
	[ "$output" = labbox ]
}

@test "-m user where user namespaces are refused: up without the sandbox, said so; the sandbox back once they are not" {
	ct mkdir -p "${NOUSERNS%/*}"
	printf '[Service]\nRestrictNamespaces=~user\n' >"$CT_DIR/root$NOUSERNS"
	ct systemctl daemon-reload
	linger
	# ssh-tunnel-up run by that manager, so that it sees what the unit
	# will (a oneshot unit: systemd-run would need a session bus)
	mapfile -t args < <(ct_up_args alice)
	u=/home/alice/.config/systemd/user/up-once.service
	ct_as alice mkdir -p "${u%/*}"
	printf '[Service]\nType=oneshot\nExecStart=/usr/local/bin/ssh-tunnel-up -m user %s labbox\nStandardOutput=file:/home/alice/up.out\nStandardError=file:/home/alice/up.out\n' \
	    "${args[*]}" >"$CT_DIR/root$u"
	ct chown alice: "$u"
	ct_as alice systemctl --user daemon-reload
	ct_as alice systemctl --user start up-once.service
	output=$(ct cat /home/alice/up.out)
	echo "$output"
	ct rm -f "$u" /home/alice/up.out
	[[ $output == *"labbox: no user namespaces here: the user unit runs without its file system sandbox"* ]]
	ct test -f "$DROPIN"
	[ "$(ct_state labbox alice)" = up ]
	run ct_lab
	[ "$output" = labbox ]
	pid=$(ct_mainpid ssh-tunnel@labbox.service alice)
	[ "$(ct readlink "/proc/$pid/ns/user")" = "$(ct readlink /proc/1/ns/user)" ]
	# the filters stay
	run ct grep -E '^(NoNewPrivs|Seccomp):' "/proc/$pid/status"
	[[ $output == *"NoNewPrivs:	1"* ]] && [[ $output == *"Seccomp:	2"* ]]
	# user namespaces allowed again: the next ssh-tunnel-up that starts
	# the tunnel removes the drop-in, and the unit is in its sandbox
	ct rm -f "$NOUSERNS"
	ct systemctl daemon-reload
	ct systemctl restart user@"$(ct_uid alice)".service
	ct_user_manager alice 20
	ct_as alice ssh-tunnel-down -q labbox
	up_user
	[[ $output != *"no user namespaces"* ]]
	run ct test -e "$DROPIN"
	[ "$status" -ne 0 ]
	pid=$(ct_mainpid ssh-tunnel@labbox.service alice)
	[ "$(ct readlink "/proc/$pid/ns/user")" != "$(ct readlink /proc/1/ns/user)" ]
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
