#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh_config.d/20-scitex-batch.conf: under SCITEX_SSH_BATCH=1 a host's own
# LocalForward and ControlMaster are not used, BatchMode is on; without it
# they are. Shown with ssh -G and with real connections to the fixture.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	sshd_start "$BATS_TEST_TMPDIR/sshd"
	LPORT=$(free_port)
	CTL=$BATS_TEST_TMPDIR/cm
	CFG=$BATS_TEST_TMPDIR/ssh_config
	{
		echo "Include $TOP/ssh_config.d/20-scitex-batch.conf"
		echo "Host lab"
		echo "	LocalForward 127.0.0.1:$LPORT 127.0.0.1:$SSHD_PORT"
		echo "	ControlMaster auto"
		echo "	ControlPath $CTL"
		sed -n '/^Host fixture/,$p' "$SSHD_DIR/ssh_config" | tail -n +2 |
		    grep -v -e ControlMaster -e ControlPath -e BatchMode
	} >"$CFG"
	SSH_PID=
}

teardown() {
	if [ -n "$SSH_PID" ]; then
		kill "$SSH_PID" 2>/dev/null || true
		wait "$SSH_PID" 2>/dev/null || true
	fi
	sshd_stop_all
}

@test "ssh -G: the host's forward and master without, none under batch" {
	run ssh -F "$CFG" -G lab
	[ "$status" -eq 0 ]
	[[ $output == *"localforward [127.0.0.1]:$LPORT [127.0.0.1]:$SSHD_PORT"* ]]
	[[ $output == *"controlmaster auto"* ]]
	[[ $output == *"controlpath $CTL"* ]]
	[[ $output == *"batchmode no"* ]]
	SCITEX_SSH_BATCH=1 run ssh -F "$CFG" -G lab
	[ "$status" -eq 0 ]
	[[ $output != *"localforward"* ]]
	[[ $output == *"clearallforwardings yes"* ]]
	[[ $output == *"controlmaster false"* ]]
	# ssh -G leaves out a ControlPath of none
	[[ $output != *"controlpath"* ]]
	[[ $output == *"batchmode yes"* ]]
}

# session: start `ssh lab` in the background running a command that marks
# its start and then waits; return once the remote side is running.
session() {
	ssh -F "$CFG" lab "touch $BATS_TEST_TMPDIR/started; sleep 60" \
	    </dev/null >/dev/null 2>"$BATS_TEST_TMPDIR/ssh.err" 3>&- &
	SSH_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[ -e "$BATS_TEST_TMPDIR/started" ] && return 0
		kill -0 "$SSH_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/ssh.err" >&2
	return 1
}

listening() {
	ss -Hltn "sport = :$1" | grep -q .
}

@test "a real connection: forward and control socket are there" {
	session
	# ssh opens its forwards and master socket before the session
	# starts; both are there once the remote command runs.
	listening "$LPORT"
	[ -S "$CTL" ]
	# The forward works: it reaches the fixture's sshd banner.
	run bash -c 'exec 5<>/dev/tcp/127.0.0.1/$1; head -c 7 <&5' - "$LPORT"
	[ "$output" = "SSH-2.0" ]
}

@test "a real connection under SCITEX_SSH_BATCH=1: neither is used" {
	SCITEX_SSH_BATCH=1 session
	! listening "$LPORT" || false
	[ ! -e "$CTL" ]
	grep -q "Accepted publickey" "$SSHD_DIR/sshd.log"
}

@test "SCITEX_SSH_BATCH=1 never prompts: a missing host key fails at once" {
	: >"$SSHD_DIR/known_hosts"
	sed -i 's/StrictHostKeyChecking yes/StrictHostKeyChecking ask/' "$CFG"
	SCITEX_SSH_BATCH=1 run --separate-stderr ssh -F "$CFG" lab true \
	    </dev/null
	[ "$status" -eq 255 ]
	[[ $stderr == *"Host key verification failed"* ]]
}
