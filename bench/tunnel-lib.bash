# SPDX-License-Identifier: AGPL-3.0-only
# Shared by bench/tunnel-*.sh: a lab sshd and a bastion sshd on loopback
# (tests/lib/sshd.bash), and one reverse tunnel kept either by the
# supervisor (ssh-tunnel-up -f, its defaults) or by autossh with the
# options scitex-ssh 1.0 used (-M 0, ServerAliveInterval 15,
# ServerAliveCountMax 3, ExitOnForwardFailure). Everything lives in a temp
# dir and is ended by pid on exit.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${O:=build/out}"
case $O in /*) ;; *) O=$top/$O ;; esac
export PATH="$O/bin:$PATH"
BATS_TEST_TMPDIR=$(mktemp -d /tmp/scitex-bench.XXXXXX)
export BATS_TEST_TMPDIR
export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/home/.config
export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
unset SCITEX_SSH_CONFIG SCITEX_SSH_DEBUG_MODE SCITEX_SSH_SSH
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d" "$XDG_RUNTIME_DIR"
chmod 700 "$HOME/.ssh" "$XDG_RUNTIME_DIR"
# shellcheck source=tests/lib/sshd.bash
. "$top/tests/lib/sshd.bash"
PIDS=()

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	sshd_stop_all
	rm -rf "$BATS_TEST_TMPDIR"
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM

now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# banner PORT: the lab's sshd answers through the bastion's PORT.
# shellcheck disable=SC2016
banner() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
	    IFS= read -r -t 0.5 l <&3 && [[ $l == SSH-2.0-* ]]' _ "$1" \
	    2>/dev/null
}

# wait_banner PORT SECONDS
wait_banner() {
	local t0
	t0=$(now)
	while awk -v a="$t0" -v b="$(now)" -v m="$2" 'BEGIN { exit !(b - a < m) }'
	do
		banner "$1" && return 0
		sleep 0.05
	done
	return 1
}

# bench_sshds: LPORT (the lab), BPORT and B (the bastion).
bench_sshds() {
	sshd_start "$BATS_TEST_TMPDIR/lab" || exit 1
	LPORT=$SSHD_PORT
	sshd_start "$BATS_TEST_TMPDIR/bastion" || exit 1
	BPORT=$SSHD_PORT B=$SSHD_DIR
}

# start_tool TOOL RPORT: the tunnel to RPORT on the bastion; pid in TOOLPID.
start_tool() {
	local tool=$1 rport=$2 name
	case $tool in
	autossh)
		AUTOSSH_GATETIME=0 autossh -M 0 -N -o "PubkeyAuthentication=yes" \
		    -o "PasswordAuthentication=no" -o "ServerAliveInterval=15" \
		    -o "ServerAliveCountMax=3" -o "ExitOnForwardFailure=yes" \
		    -F "$B/ssh_config" -i "$B/id_ed25519" \
		    -R "$rport:localhost:$LPORT" fixture 2>/dev/null &
		;;
	ssh-tunnel-up)
		name=t$rport
		cat >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/$name.yaml" <<EOC
bastion: $(id -un)@127.0.0.1:$BPORT
key: $B/id_ed25519
forwards:
  - R $rport:localhost:$LPORT
ssh_options: [UserKnownHostsFile=$B/known_hosts, StrictHostKeyChecking=yes]
EOC
		ssh-tunnel-up -f "$name" 2>/dev/null &
		;;
	esac
	TOOLPID=$!
	PIDS+=("$TOOLPID")
	wait_banner "$rport" 30 || { echo "bench: $tool did not come up" >&2; exit 1; }
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
