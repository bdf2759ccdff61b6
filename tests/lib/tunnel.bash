# SPDX-License-Identifier: AGPL-3.0-only
# Helpers for the ssh-tunnel-* suites: the fixture's sshd plays the bastion
# and the lab machine at once (the tunnel forwards the bastion's port RPORT
# back to the same sshd), a config that allows tunnels, and a client
# ssh_config for "ssh labbox".
#
#   tunnel_fixture [KEYOPTS]   start the bastion; sets B, BPORT, RPORT, KEY
#   tunnel_up_args             the ssh-tunnel-up flags for that bastion
#   client_config NAME FILE    ssh-tunnel-ls -c NAME plus keys, into FILE
#   wait_state NAME STATE [S]  until ssh-tunnel-ls shows STATE (S seconds)
#   running PID                the process runs (not gone, not a zombie)
#   tunnel_teardown            stop every supervisor this test started

tunnel_fixture() {
	sshd_start "$BATS_TEST_TMPDIR/bastion" "${1:-}"
	B=$SSHD_DIR
	BPORT=$SSHD_PORT
	RPORT=$(free_port)
	KEY=$B/id_ed25519
	ME=$(id -un)
	write_config <<EOC
default: {tunnels: allow}
EOC
}

tunnel_up_args() {
	printf '%s\n' -b "$ME@127.0.0.1:$BPORT" -s "$KEY" -p "$RPORT" \
	    -l "127.0.0.1:$BPORT" -o "UserKnownHostsFile=$B/known_hosts"
}

client_config() {
	ssh-tunnel-ls -c "$1" >"$2" || return 1
	{
		printf 'labbox %s\n' "$(cut -d' ' -f1-2 "$B/host_ed25519.pub")"
		cat "$B/known_hosts"
	} >"$2.known"
	cat >>"$2" <<EOC
Host *
    User $ME
    IdentityFile $KEY
    IdentitiesOnly yes
    UserKnownHostsFile $2.known
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 5
EOC
}

# state_of NAME: the STATE column.
state_of() {
	ssh-tunnel-ls "$1" | cut -f3
}

wait_state() {
	local i n=$((${3:-30} * 10))
	for ((i = 0; i < n; i++)); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "wait_state: $1 never $2; now: $(ssh-tunnel-ls "$1")" >&2
	return 1
}

# wait_reason NAME REASON [SECONDS]: until the tunnel is in backoff for
# REASON (default 30 s).
wait_reason() {
	local i n=$((${3:-30} * 10))
	for ((i = 0; i < n; i++)); do
		[ "$(ssh-tunnel-ls "$1" | cut -f3,9)" = "$(printf 'backoff\t%s' "$2")" ] &&
		    return 0
		sleep 0.1
	done
	ssh-tunnel-ls "$1" >&2
	return 1
}

# running PID: the process exists and is not a zombie (an ended process
# whose parent is init waits there until init reaps it).
running() {
	ps -o stat= -p "$1" | grep -qv Z
}

# supervisor_pids: the pids our pid files name, where the process is ours.
supervisor_pids() {
	local f pid
	for f in "$XDG_RUNTIME_DIR"/scitex-ssh/*.pid; do
		[ -f "$f" ] || continue
		read -r pid _ <"$f"
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = ssh-tunnel-up ] &&
		    echo "$pid"
	done
}

tunnel_teardown() {
	local p
	ssh-tunnel-down -a -q >/dev/null 2>&1 || :
	for p in $(supervisor_pids); do
		kill -9 "$p" 2>/dev/null || :
	done
	sshd_stop_all
}
