#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Holes an attacker found in the gate, each closed: a ControlMaster opened
# while a host was allowed carries no session once the policy denies it;
# the unspecified addresses (which connect to this machine) are refused;
# hostile names that reach the shell through %h in Match exec fail closed
# and run nothing. All through the real ssh client with the shipped
# snippet Included.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	sshd_start "$BATS_TEST_TMPDIR/sshd"
	write_config <<'EOC'
default: {ssh: deny}
hosts:
  allowed:   {ssh: allow}
  127.0.0.1: {ssh: allow}
EOC
	CM=$BATS_TEST_TMPDIR/cm
	CFG=$BATS_TEST_TMPDIR/ssh_config
	{
		echo "Include $TOP/ssh_config.d/10-scitex-policy.conf"
		echo "Host allowed"
		echo "	ControlPath $CM"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2 |
		    grep -v -e ControlMaster -e ControlPath
		echo "Host *"
		echo "	Port $SSHD_PORT"
		echo "	UserKnownHostsFile $SSHD_DIR/known_hosts"
		echo "	IdentityFile $SSHD_DIR/id_ed25519"
		echo "	BatchMode yes"
		echo "	ConnectTimeout 5"
	} >"$CFG"
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$WORK"
	MASTER=
}

teardown() {
	if [ -n "$MASTER" ]; then
		kill "$MASTER" 2>/dev/null || :
		wait "$MASTER" 2>/dev/null || :
	fi
	sshd_stop_all
}

@test "a master opened while allowed carries no session once the policy denies the host" {
	ssh -F "$CFG" -o ControlMaster=yes -o ControlPersist=no -N allowed \
	    </dev/null 2>"$WORK/master.err" &
	MASTER=$!
	for ((i = 0; i < 200; i++)); do
		[ -S "$CM" ] && break
		sleep 0.05
	done
	[ -S "$CM" ]
	run ssh -F "$CFG" -O check allowed
	[ "$status" -eq 0 ]
	# While allowed, a session goes through the master: no new connection.
	n=$(grep -c "Connection from" "$SSHD_DIR/sshd.log")
	run ssh -F "$CFG" allowed echo shared
	[ "$status" -eq 0 ]
	[ "$output" = shared ]
	[ "$(grep -c "Connection from" "$SSHD_DIR/sshd.log")" -eq "$n" ]
	# The policy now denies it: the master is still there, but a new
	# ssh does not use it, and is refused.
	sed -i 's/allowed:   {ssh: allow}/allowed:   {ssh: deny}/' "$CONF"
	run ssh-allow-check allowed
	[ "$status" -eq 1 ]
	kill -0 "$MASTER"
	[ -S "$CM" ]
	run --separate-stderr ssh -F "$CFG" allowed touch "$WORK/ran"
	echo "$stderr"
	[ "$status" -eq 255 ]
	[[ $stderr == *"ssh-allow-check: allowed: ssh denied by $CONF:"* ]]
	[ ! -e "$WORK/ran" ]
	# Nor do scp and sftp.
	run scp -F "$CFG" "$CFG" allowed:"$WORK/copied"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/copied" ]
	[ "$(grep -c "Connection from" "$SSHD_DIR/sshd.log")" -eq "$n" ]
	kill "$MASTER"
	wait "$MASTER" || :
	MASTER=
	[ ! -e "$CM" ]
}

@test "the unspecified addresses are refused, in every spelling" {
	for h in 0.0.0.0 0.0.0.0. :: ::0 0:0:0:0:0:0:0:0 ::ffff:0.0.0.0 \
	    ::FFFF:0:0 ::0.0.0.0 0 0x0 0.0; do
		run --separate-stderr ssh-allow-check "$h"
		echo "$h: $status $stderr"
		[ "$status" -eq 65 ]
		[[ $stderr == *"not a valid host"* ]]
		run --separate-stderr ssh-allow-check -d "$h"
		[ "$status" -eq 77 ]
		run --separate-stderr ssh-allow-check -W "[$h]:$SSHD_PORT"
		[ "$status" -ne 0 ]
	done
	[[ $(ssh-allow-check 0.0.0.0 2>&1) == *"unspecified address"* ]]
}

@test "0.0.0.0 and ::ffff:0.0.0.0 through ssh: refused, no connection, though 127.0.0.1 is allowed" {
	run ssh -F "$CFG" 127.0.0.1 echo direct
	[ "$status" -eq 0 ]
	[ "$output" = direct ]
	: >"$SSHD_DIR/sshd.log"
	for h in 0.0.0.0 ::ffff:0.0.0.0 0:0:0:0:0:ffff:0:0; do
		run --separate-stderr ssh -F "$CFG" "$h" touch "$WORK/ran"
		echo "$h: $status $stderr"
		[ "$status" -eq 255 ]
		[[ $stderr == *"unspecified address"*refusing* ]]
		[ ! -e "$WORK/ran" ]
	done
	! grep -q "Connection from" "$SSHD_DIR/sshd.log" || false
}

@test "%h reaches the shell in Match exec: hostile names fail closed and run nothing" {
	# Debian's ssh refuses some of these itself ("hostname contains
	# invalid characters"); the others reach the check, expanded by the
	# shell, and are refused there. Either way: no marker, no connection.
	cd "$WORK"
	: >"$SSHD_DIR/sshd.log"
	M=$WORK/pwned
	for h in '~' '~root' "\$(>$M)" "a;>$M" "\`>$M\`" "a|>$M" "a&>$M" \
	    "a>$M" '$HOME' '*' 'a?' '[a]' 'a#b' 'a!b' '%h' '{a,b}' 'a b' \
	    '-oProxyCommand=x' "$(printf 'a\nb')"; do
		run --separate-stderr ssh -F "$CFG" "$h" touch "$WORK/ran"
		echo "$h: $status: $stderr"
		[ "$status" -eq 255 ]
		[ ! -e "$M" ]
		[ ! -e "$WORK/ran" ]
	done
	! grep -q "Connection from" "$SSHD_DIR/sshd.log" || false
	# '~' is the case that reaches us: the check saw the home directory.
	run --separate-stderr ssh -F "$CFG" '~' true
	[[ $stderr == *"ssh-allow-check: $HOME: not a valid host"*refusing* ]] ||
	    [[ $stderr == *"ssh-allow-check: /"*": not a valid host"*refusing* ]]
}

@test "%h: a cwd of many files does not turn '*' into an allowed host" {
	cd "$WORK"
	touch allowed 127.0.0.1
	: >"$SSHD_DIR/sshd.log"
	run --separate-stderr ssh -F "$CFG" '*' touch "$WORK/ran"
	echo "$stderr"
	[ "$status" -eq 255 ]
	[ ! -e "$WORK/ran" ]
	! grep -q "Connection from" "$SSHD_DIR/sshd.log" || false
}
