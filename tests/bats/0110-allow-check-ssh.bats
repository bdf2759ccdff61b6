#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The shipped policy snippet in front of the real OpenSSH client: ssh, scp,
# sftp and rsync reach the throwaway sshd only for hosts the policy allows;
# a refused host never opens a connection (the sshd log shows none).

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	sshd_start "$BATS_TEST_TMPDIR/sshd"
	write_config <<'EOF2'
default: {ssh: deny}
hosts:
  allowed:   {ssh: allow}
  127.0.0.1: {ssh: allow}
EOF2
	# The snippet first, as the man page says; then hosts whose own
	# blocks all lead to the fixture.
	CFG=$BATS_TEST_TMPDIR/ssh_config
	{
		echo "Include $TOP/ssh_config.d/10-scitex-policy.conf"
		echo "Host allowed denied"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2
		echo "Host bypass"
		echo "	ProxyCommand nc %h %p"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2
	} >"$CFG"
	WORK=$BATS_TEST_TMPDIR/work
	mkdir -p "$WORK"
}

teardown() {
	sshd_stop_all
}

# no_connection: sshd saw no connection at all (LogLevel VERBOSE logs each).
no_connection() {
	! grep -q "Connection from" "$SSHD_DIR/sshd.log" || false
}

logins() {
	grep -c "Accepted publickey" "$SSHD_DIR/sshd.log" || true
}

# refused_by_policy: the last run failed with the policy's one line.
refused_by_policy() {
	[ "$status" -ne 0 ]
	[[ $stderr == *"ssh-allow-check: "*": ssh denied by $CONF:"* ]]
	no_connection
}

@test "allowed host: ssh reaches the sshd and runs a command" {
	run --separate-stderr ssh -F "$CFG" allowed echo hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello" ]
	[ "$(logins)" -eq 1 ]
}

@test "denied host: refused with the policy's message, no connection" {
	run --separate-stderr ssh -F "$CFG" denied echo hello
	[ "$status" -eq 255 ]
	[ -z "$output" ]
	refused_by_policy
	[[ $stderr == *"$CONF:1:"*"default: ssh: deny"* ]]
}

@test "denied host whose HostName the policy allows: still refused" {
	# denied's block says HostName 127.0.0.1, which the policy allows; the
	# name typed is what is asked about.
	grep -q 'HostName 127.0.0.1' "$CFG"
	run ssh-allow-check 127.0.0.1
	[ "$status" -eq 0 ]
	run --separate-stderr ssh -F "$CFG" denied true
	refused_by_policy
}

@test "a later ProxyCommand in the host's block does not bypass the gate" {
	run --separate-stderr ssh -F "$CFG" bypass true
	refused_by_policy
	[[ $stderr == *"bypass: ssh denied"* ]]
}

@test "a config that does not parse refuses every host and tool, naming the place" {
	printf 'default: {ssh: allow}\nhosts:\n  allowed: [ssh\n' >"$CONF"
	run --separate-stderr ssh -F "$CFG" allowed true
	[ "$status" -eq 255 ]
	[[ $stderr == *"$CONF:"*"refusing"* ]]
	no_connection
	run --separate-stderr scp -F "$CFG" "$CFG" allowed:"$WORK/x"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/x" ]
	printf 'put %s %s\n' "$CFG" "$WORK/x" >"$WORK/batch"
	run --separate-stderr sftp -F "$CFG" -b "$WORK/batch" allowed
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/x" ]
	run --separate-stderr rsync -e "ssh -F $CFG" "$CFG" allowed:"$WORK/x"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/x" ]
	[[ $stderr == *"$CONF:"*"refusing"* ]]
	no_connection
}

@test "no config file anywhere refuses every host" {
	rm -f "$CONF"
	run --separate-stderr ssh -F "$CFG" allowed true
	[ "$status" -eq 255 ]
	[[ $stderr == *"no config file"* ]]
	no_connection
}

@test "a hostile host name never reaches a shell" {
	run --separate-stderr ssh -F "$CFG" "x\$(touch $WORK/pwned)" true
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/pwned" ]
	no_connection
}

@test "scp (sftp protocol and legacy -O) to an allowed host; denied refused" {
	head -c 1000000 /dev/urandom >"$WORK/src"
	run --separate-stderr scp -F "$CFG" "$WORK/src" allowed:"$WORK/up"
	[ "$status" -eq 0 ]
	cmp "$WORK/src" "$WORK/up"
	run --separate-stderr scp -O -F "$CFG" allowed:"$WORK/up" "$WORK/down"
	[ "$status" -eq 0 ]
	cmp "$WORK/src" "$WORK/down"
	: >"$SSHD_DIR/sshd.log"
	run --separate-stderr scp -F "$CFG" "$WORK/src" denied:"$WORK/no"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/no" ]
	refused_by_policy
	run --separate-stderr scp -O -F "$CFG" denied:"$WORK/src" "$WORK/no"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/no" ]
	refused_by_policy
}

@test "sftp to an allowed host; denied refused" {
	head -c 100000 /dev/urandom >"$WORK/src"
	printf 'put %s %s\nget %s %s\n' "$WORK/src" "$WORK/up" \
	    "$WORK/up" "$WORK/down" >"$WORK/batch"
	run --separate-stderr sftp -F "$CFG" -b "$WORK/batch" allowed
	[ "$status" -eq 0 ]
	cmp "$WORK/src" "$WORK/up"
	cmp "$WORK/src" "$WORK/down"
	: >"$SSHD_DIR/sshd.log"
	printf 'put %s %s\n' "$WORK/src" "$WORK/no" >"$WORK/batch"
	run --separate-stderr sftp -F "$CFG" -b "$WORK/batch" denied
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/no" ]
	refused_by_policy
}

@test "rsync over ssh to an allowed host; denied refused" {
	mkdir -p "$WORK/tree/sub"
	head -c 300000 /dev/urandom >"$WORK/tree/a"
	echo b >"$WORK/tree/sub/b"
	run --separate-stderr rsync -a -e "ssh -F $CFG" "$WORK/tree/" \
	    allowed:"$WORK/copy/"
	[ "$status" -eq 0 ]
	diff -r "$WORK/tree" "$WORK/copy"
	: >"$SSHD_DIR/sshd.log"
	run --separate-stderr rsync -a -e "ssh -F $CFG" "$WORK/tree/" \
	    denied:"$WORK/no/"
	[ "$status" -ne 0 ]
	[ ! -e "$WORK/no" ]
	refused_by_policy
}
