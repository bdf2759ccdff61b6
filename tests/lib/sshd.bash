# SPDX-License-Identifier: AGPL-3.0-only
# A throwaway OpenSSH server on a free loopback port: own host key, own
# client key and authorized_keys, own config, all in one directory.
#
#   sshd_start DIR [KEYOPTS]   start one; KEYOPTS prefixes the authorized key
#                              (e.g. 'restrict,command="..."'); extra
#                              sshd_config lines come from $SSHD_EXTRA
#   sshd_stop DIR              stop it (by its pid); the port stays recorded
#   sshd_restart DIR           start it again on the same port
#   sshd_stop_all              stop every sshd this test started (teardown)
#
# After sshd_start, DIR holds: port, pid, id_ed25519 (client key, also
# authorized), known_hosts, ssh_config (Host "fixture" reaches the server)
# and sshd.log. SSHD_PORT and SSHD_DIR name the last one started.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

# free_port: print a loopback TCP port nobody listens on, and none that
# this test had from it before (a test taking 60 at random from 30,000
# drew the same one twice about once in twenty runs). Taken below the
# kernel's ephemeral range: a port in it can become the source port of
# a connection made meanwhile (ssh's own, to the bastion), and the
# forward that was to listen there then finds it busy.
free_port() {
	local p lo base=20000 span=40000 seen
	seen=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.free_ports
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=0
	if [ "$lo" -gt 12000 ]; then
		base=10000 span=$((lo - 10000))
	fi
	for _ in $(seq 1 200); do
		p=$((base + (RANDOM * 32768 + RANDOM) % span))
		grep -qx "$p" "$seen" 2>/dev/null && continue
		ss -Hltn "sport = :$p" | grep -q . && continue
		echo "$p" >>"$seen"
		echo "$p"
		return 0
	done
	return 1
}

# wait_port PORT [SECONDS]: until something listens on 127.0.0.1:PORT.
wait_port() {
	local i n=$((${2:-10} * 20))
	for ((i = 0; i < n; i++)); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

_sshd_files() {
	local dir=$1 keyopts=$2 user
	user=$(id -un)
	mkdir -p "$dir"
	chmod 700 "$dir"
	[ -f "$dir/host_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C fixture-host -f "$dir/host_ed25519"
	[ -f "$dir/id_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C fixture-client -f "$dir/id_ed25519"
	if [ -n "$keyopts" ]; then
		printf '%s %s\n' "$keyopts" "$(cat "$dir/id_ed25519.pub")"
	else
		cat "$dir/id_ed25519.pub"
	fi >"$dir/authorized_keys"
	cat >"$dir/sshd_config" <<EOC
Port $(cat "$dir/port")
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
PidFile none
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $user
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
${SSHD_EXTRA:-}
EOC
	printf '[127.0.0.1]:%s %s\n' "$(cat "$dir/port")" \
	    "$(cut -d' ' -f1-2 "$dir/host_ed25519.pub")" >"$dir/known_hosts"
	cat >"$dir/ssh_config" <<EOC
Host fixture
	HostName 127.0.0.1
	Port $(cat "$dir/port")
	User $user
	IdentityFile $dir/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $dir/known_hosts
	StrictHostKeyChecking yes
	BatchMode yes
	ControlMaster no
	ControlPath none
EOC
}

_sshd_launch() {
	local dir=$1
	[ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
	"$SSHD_BIN" -D -e -f "$dir/sshd_config" 2>>"$dir/sshd.log" &
	echo $! >"$dir/pid"
	echo "$dir" >>"$BATS_TEST_TMPDIR/.sshd_dirs"
	if ! wait_port "$(cat "$dir/port")" 10; then
		echo "sshd_start: sshd did not listen; log:" >&2
		cat "$dir/sshd.log" >&2
		return 1
	fi
}

sshd_start() {
	local dir=$1 keyopts=${2:-}
	mkdir -p "$dir"
	for _ in 1 2 3; do
		free_port >"$dir/port" || return 1
		_sshd_files "$dir" "$keyopts"
		if _sshd_launch "$dir"; then
			SSHD_PORT=$(cat "$dir/port")
			SSHD_DIR=$dir
			export SSHD_PORT SSHD_DIR
			return 0
		fi
		sshd_stop "$dir"
	done
	return 1
}

# _descendants PID: every process below PID (connection and session
# children of sshd run in their own sessions, so a process group kill
# would miss them). One ps for the whole tree: a bastion with hundreds of
# sessions is walked in milliseconds, not one ps per process.
_descendants() {
	ps -e -o pid=,ppid= | awk -v r="$1" '{ pp[$1] = $2 } END {
	    s[r] = 1
	    do {
		more = 0
		for (p in pp)
			if (!(p in s) && (pp[p] in s)) {
				s[p] = 1
				more = 1
				print p
			}
	    } while (more) }'
}

# _started PID...: "PID STARTTIME" for each that runs and is no zombie
# (a zombie has let its sockets go; init reaps orphans late on a busy
# host). The start time tells a process from a later one with its pid.
_started() {
	[ $# -gt 0 ] || return 0
	# shellcheck disable=SC2002,SC2046 # mawk stops at a file gone
	cat $(printf '/proc/%s/stat ' "$@") 2>/dev/null |
	    awk '{ p = $1; sub(/.*\) /, ""); if ($1 != "Z") print p, $20 }'
}

# sshd_stop DIR: the listener and every connection it serves, as when the
# bastion's sshd is killed or restarted. Only those processes: the pids
# of a busy host are reused within seconds.
sshd_stop() {
	local dir=$1 pid i all left
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	rm -f "$dir/pid"
	# shellcheck disable=SC2046
	all=$(_started "$pid" $(_descendants "$pid"))
	[ -n "$all" ] || return 0
	# shellcheck disable=SC2046
	kill $(cut -d' ' -f1 <<<"$all") 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		# shellcheck disable=SC2046
		left=$(_started $(cut -d' ' -f1 <<<"$all") |
		    grep -Fxf - <(echo "$all") || :)
		[ -n "$left" ] || return 0
		sleep 0.05
	done
	# shellcheck disable=SC2046
	kill -9 $(cut -d' ' -f1 <<<"$left") 2>/dev/null
	return 0
}

sshd_restart() {
	_sshd_launch "$1"
}

sshd_stop_all() {
	local d
	[ -f "$BATS_TEST_TMPDIR/.sshd_dirs" ] || return 0
	while read -r d; do
		sshd_stop "$d"
	done <"$BATS_TEST_TMPDIR/.sshd_dirs"
	rm -f "$BATS_TEST_TMPDIR/.sshd_dirs"
}
