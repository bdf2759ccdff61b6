#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# deadlink.bash TOOL [OUTAGE]: one dead-link episode, run INSIDE a network
# namespace of the caller's (tests/lib/netns.bash). A bastion sshd and a
# lab sshd on loopback, a reverse tunnel kept by TOOL (autossh: scitex-ssh
# 1.0's options; ssh-tunnel-up: the supervisor with its defaults), then
# every packet to and from the bastion's port dropped for OUTAGE seconds
# (default 65). Prints one line:
#   TOOL notice=SECONDS back=SECONDS
# notice: from the drop until TOOL's ssh exits; back: from the path's
# return until the lab's SSH banner is read through the bastion's port.
# Both are measured the same way for every TOOL. Exit 1 when either did
# not happen (notice: within the outage; back: within 60 s).
# DEADLINK_LOG=FILE keeps TOOL's log there, the bastion's in FILE.bastion
# and the sockets seen after the path's return in FILE.ss.
set -u
tool=$1 outage=${2:-65}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${O:=build/out}"
case $O in /*) ;; *) O=$top/$O ;; esac
export PATH="$O/bin:$PATH"
BATS_TEST_TMPDIR=$(mktemp -d)
export BATS_TEST_TMPDIR
export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/home/.config
export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d" "$XDG_RUNTIME_DIR"
chmod 700 "$HOME/.ssh" "$XDG_RUNTIME_DIR"
# shellcheck source=tests/lib/sshd.bash
. "$here/sshd.bash"
toolpid='' bport='' B=''

cleanup() {
	if [ -n "${DEADLINK_LOG:-}" ]; then
		cp "$BATS_TEST_TMPDIR/tool.log" "$DEADLINK_LOG"
		cp "$B/sshd.log" "$DEADLINK_LOG.bastion"
	fi
	[ -n "$bport" ] && undrop
	if [ -n "$toolpid" ]; then
		kill "$toolpid" 2>/dev/null
		wait "$toolpid" 2>/dev/null
	fi
	sshd_stop_all
	rm -rf "$BATS_TEST_TMPDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

drop() {
	iptables -w -I INPUT -p tcp --dport "$bport" -j DROP &&
	    iptables -w -I INPUT -p tcp --sport "$bport" -j DROP
}
undrop() {
	iptables -w -D INPUT -p tcp --dport "$bport" -j DROP 2>/dev/null
	iptables -w -D INPUT -p tcp --sport "$bport" -j DROP 2>/dev/null
}

# banner PORT: the lab's sshd answers through the bastion's PORT.
# shellcheck disable=SC2016
banner() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
	    IFS= read -r -t 0.5 l <&3 && [[ $l == SSH-2.0-* ]]' _ "$1" \
	    2>/dev/null
}

# sshchild: the ssh that TOOL runs now.
sshchild() { pgrep -P "$toolpid" -x ssh | head -1; }

sshd_start "$BATS_TEST_TMPDIR/lab" || exit 1
lport=$SSHD_PORT
sshd_start "$BATS_TEST_TMPDIR/bastion" || exit 1
bport=$SSHD_PORT B=$SSHD_DIR
rport=$(free_port)
user=$(id -un)

case $tool in
autossh)
	# scitex-ssh 1.0's ExecStart, with the fixture's address, key and
	# known_hosts (-F) in place of a real bastion's.
	AUTOSSH_GATETIME=0 autossh -M 0 -N -o "PubkeyAuthentication=yes" \
	    -o "PasswordAuthentication=no" -o "ServerAliveInterval=15" \
	    -o "ServerAliveCountMax=3" -o "ExitOnForwardFailure=yes" \
	    -F "$B/ssh_config" -i "$B/id_ed25519" \
	    -R "$rport:localhost:$lport" fixture 2>>"$BATS_TEST_TMPDIR/tool.log" &
	toolpid=$!
	;;
ssh-tunnel-up)
	cat >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/deadlink.yaml" <<EOC
bastion: $user@127.0.0.1:$bport
key: $B/id_ed25519
forwards:
  - R $rport:localhost:$lport
ssh_options: [UserKnownHostsFile=$B/known_hosts, StrictHostKeyChecking=yes]
EOC
	ssh-tunnel-up -v -f deadlink 2>>"$BATS_TEST_TMPDIR/tool.log" &
	toolpid=$!
	;;
*)
	echo "deadlink: unknown tool $tool" >&2
	exit 64
	;;
esac

for ((i = 0; i < 100; i++)); do
	banner "$rport" && break
	sleep 0.2
done
if ! banner "$rport"; then
	echo "deadlink: $tool: tunnel did not come up" >&2
	cat "$BATS_TEST_TMPDIR/tool.log" >&2
	exit 1
fi
first=$(sshchild)
# Let the probe's channel close travel first: a link rarely dies in the
# very millisecond after traffic, and a bastion with unacknowledged data
# in flight backs off its retransmissions for minutes.
sleep 2

t0=$(now)
drop || exit 1
echo "deadlink: dropping at $(date +%T.%N)" >>"$BATS_TEST_TMPDIR/tool.log"
notice=
while awk -v a="$t0" -v b="$(now)" -v o="$outage" 'BEGIN { exit !(b - a < o) }'
do
	if [ -z "$notice" ] && ! kill -0 "$first" 2>/dev/null; then
		notice=$(since "$t0")
	fi
	sleep 0.1
done
t1=$(now)
undrop
echo "deadlink: path back at $(date +%T.%N)" >>"$BATS_TEST_TMPDIR/tool.log"
back=
if [ -n "${DEADLINK_LOG:-}" ]; then
	for _ in 1 2 3 4 5 6; do
		{ date +%T.%N; ss -tlnp "sport = :$rport"; ss -tanpo | grep ":$bport "; } >>"$DEADLINK_LOG.ss"
		sleep 0.5
	done &
fi
while awk -v a="$t1" -v b="$(now)" 'BEGIN { exit !(b - a < 60) }'; do
	if banner "$rport"; then
		back=$(since "$t1")
		echo "deadlink: banner at $(date +%T.%N)" >>"$BATS_TEST_TMPDIR/tool.log"
		break
	fi
	sleep 0.1
done
echo "$tool notice=${notice:-none} back=${back:-none}"
if [ -z "$notice" ] || [ -z "$back" ]; then
	echo "deadlink: $tool's log:" >&2
	tail -30 "$BATS_TEST_TMPDIR/tool.log" >&2
	echo "deadlink: the bastion's log:" >&2
	tail -15 "$B/sshd.log" >&2
	exit 1
fi
