#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# A lab on one bastion. For each N of FLEET_N (default "50 200 500"), N
# "lab machines" (network namespaces, each with its own address on a
# bridge in the bastion's namespace) each keep one reverse tunnel into ONE
# bastion sshd (the fixture's, sshd's defaults: MaxStartups 10:30:100).
# The supervisor (ssh-tunnel-up -m daemon) and autossh -M 0 with
# scitex-ssh 1.0's options, one after the other, in the same run, against
# the same sshd:
#   up      seconds until all N remote ports listen on the bastion, every
#           lab machine starting its tunnel at once
#   ls      ssh-tunnel-ls -j, all up: median ms (and its worst during the
#           herd below)
#   mem     per tunnel, keeper and its ssh: PSS and Private_Dirty (KiB)
#   idle    CPU ticks of all keepers and their ssh over FLEET_IDLE s (20)
#   herd    the bastion's sshd and every session killed, started again
#           FLEET_OUTAGE s (2) after the kill: seconds from its return
#           until all N listen again, connection attempts it took (sshd's
#           "Connection from" and "drop connection" lines), the drops, the
#           supervisors' restarts, the CPU it cost on both sides, and how
#           many tunnels ssh-tunnel-ls still showed up once sshd was dead
#   down    ssh-tunnel-down -a (autossh: SIGTERM to all) and what of ours
#           still runs 0, 1 and 3 s after it returned
#   host    the same N tunnels from one host (lab machine 1, one address):
#           ours started by one ssh-tunnel-up -a, autossh's all at once;
#           up, the herd and down as above
# and the floor: N ssh handshakes ("ssh true", 8 at a time, below
# MaxStartups) against the same sshd from a lab: wall and CPU seconds.
# Ratios are autossh / ssh-tunnel-up: above 1 we are ahead.
# Needs root (ip netns); everything made is removed on exit, also on
# failure: the namespaces with every process inside, the temp dir.
set -u
cd "$(dirname "$0")/.." || exit 1

# Outside: the bastion's namespace, then this script again inside it.
if [ -z "${FLEET_BNS:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "fleet: skipped (needs root for ip netns)"
		exit 0
	fi
	command -v autossh >/dev/null || { echo "fleet: needs autossh"; exit 1; }
	TMPDIR=$(mktemp -d /tmp/scitex-fleet.XXXXXX)
	export TMPDIR
	# shellcheck source=tests/lib/netns.bash
	. tests/lib/netns.bash
	trap 'netns_cleanup; rm -rf "$TMPDIR"' EXIT
	trap 'exit 1' INT TERM
	netns_create || exit 1
	FLEET_BNS=$NETNS FLEET_NSLIST=$TMPDIR/.netns
	export FLEET_BNS FLEET_NSLIST
	# nsenter, not ip netns exec: the lab namespaces made inside must be
	# named in this mount namespace, for netns_cleanup to find them and
	# what runs in them when the inside fails.
	nsenter --net="/run/netns/$NETNS" bash "$0"
	exit $?
fi

# shellcheck source=bench/tunnel-lib.bash
. bench/tunnel-lib.bash
FLEET_N=${FLEET_N:-50 200 500}
IDLE=${FLEET_IDLE:-20}
OUTAGE=${FLEET_OUTAGE:-2}
BASE=30000			# remote port of tunnel i: BASE + i
BADDR=10.77.0.1
BMAC=02:77:00:00:00:01
hz=$(getconf CLK_TCK)
APIDS=()
declare -A R=() V=() F=()

# The stale processes of a run cut short go with the namespaces (the
# outer trap); only the temp dir and the sshd are ours to end here.
trap 'bench_cleanup' EXIT

printf 'default: {tunnels: allow}\n' >"$XDG_CONFIG_HOME/scitex-ssh/config.yaml"
ip link add sxbr type bridge &&
    ip link set sxbr address "$BMAC" &&
    ip addr add "$BADDR/16" dev sxbr &&
    ip link set sxbr up || exit 1
SSHD_EXTRA="ListenAddress $BADDR" sshd_start "$BATS_TEST_TMPDIR/bastion" ||
    exit 1
B=$SSHD_DIR BPORT=$SSHD_PORT
printf '[%s]:%s %s\n' "$BADDR" "$BPORT" \
    "$(cut -d' ' -f1-2 "$B/host_ed25519.pub")" >"$B/known_hosts_lab"

lab_ns() { echo "${FLEET_BNS}-l$1"; }
lab_addr() { echo "10.77.$(($1 / 200 + 1)).$(($1 % 200 + 1))"; }
lab_mac() { printf '02:77:00:01:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
# lsms: milliseconds one ssh-tunnel-ls -j takes (no fork to measure it).
lsms() {
	local a b
	a=${EPOCHREALTIME/./}
	ssh-tunnel-ls -j >/dev/null 2>&1
	b=${EPOCHREALTIME/./}
	LSMS=$(((b - a) / 1000))
}
ratio() { awk -v a="$1" -v s="$2" 'BEGIN { if (a == "-" || s == "-" ||
    s + 0 == 0) print "-"; else printf "%.2fx", a / s }'; }

# make_labs N: lab machines 1..N. Neighbours are static (nud permanent)
# so that a thousand of them stay clear of the kernel's neighbour-table
# limits (gc_thresh3 counts every namespace's dynamic entries).
NLABS=0
make_labs() {
	local i ns
	for ((i = NLABS + 1; i <= $1; i++)); do
		ns=$(lab_ns "$i")
		ip netns add "$ns" || return 1
		echo "$ns" >>"$FLEET_NSLIST"
		ip link add "vl$i" type veth peer name eth0 \
		    address "$(lab_mac "$i")" netns "$ns" &&
		    ip link set "vl$i" master sxbr up &&
		    ip neigh add "$(lab_addr "$i")" lladdr "$(lab_mac "$i")" \
		    dev sxbr nud permanent &&
		    ip -n "$ns" -batch - <<EOB || return 1
addr add $(lab_addr "$i")/16 dev eth0
link set eth0 up
link set lo up
neigh add $BADDR lladdr $BMAC dev eth0 nud permanent
EOB
		stat -L -c %i "/run/netns/$ns" >>"$BATS_TEST_TMPDIR/labino"
		NLABS=$i
	done
}

# listening N: how many of the N remote ports listen on the bastion.
listening() {
	ss -Hltn | awk -v lo=$((BASE + 1)) -v hi=$((BASE + $1)) '{
	    n = split($4, a, ":"); p = a[n] + 0
	    if (p >= lo && p <= hi) s[p] = 1 }
	    END { print length(s) }'
}

# wait_all N SECONDS [LS]: until all N listen; LS: time ssh-tunnel-ls
# every half second meanwhile, the worst in LSMAX (ms).
wait_all() {
	local t0 next=0
	t0=$(now)
	LSMAX=0
	while [ "$(listening "$1")" -lt "$1" ]; do
		awk -v a="$t0" -v b="$(now)" -v m="$2" 'BEGIN { exit !(b - a > m) }' &&
		    return 1
		if [ -n "${3:-}" ] && [ "$next" -le 0 ]; then
			lsms
			[ "$LSMS" -gt "$LSMAX" ] && LSMAX=$LSMS
			next=5
		fi
		next=$((next - 1))
		sleep 0.1
	done
}

# keepers TOOL: the pid of every supervisor / autossh, one a line.
keepers() {
	local f p
	case $1 in
	ssh-tunnel-up)
		for f in "$XDG_RUNTIME_DIR"/scitex-ssh/f*.pid; do
			[ -f "$f" ] && read -r p _ <"$f" && echo "$p"
		done
		;;
	autossh) printf '%s\n' "${APIDS[@]}" ;;
	esac
}

# kids: the children of the pids on stdin (their ssh).
kids() {
	local k
	k=$(cat)
	ps -e -o pid=,ppid= | K=$k awk 'BEGIN {
	    n = split(ENVIRON["K"], a, "\n")
	    for (i = 1; i <= n; i++) s[a[i]] = 1 }
	    ($2 in s) { print $1 }'
}

# files PIDS... FILE: /proc/PID/FILE for each.
files() {
	local f=${!#} p
	for p in "${@:1:$#-1}"; do
		echo "/proc/$p/$f"
	done
}

# cpu WHICH PIDS...: clock ticks in /proc/PID/stat; WHICH: self (utime +
# stime) or all (+ the reaped children's cutime + cstime).
cpu() {
	local w=$1
	shift
	[ $# -gt 0 ] || { echo 0; return; }
	# shellcheck disable=SC2046
	awk -v w="$w" '{ sub(/.*\) /, ""); t += $12 + $13
	    if (w == "all") t += $14 + $15 } END { print t + 0 }' \
	    $(files "$@" stat) 2>/dev/null
}

# keepcpu PIDS...: ticks of the keepers, what they reaped and their ssh.
keepcpu() {
	local k
	mapfile -t k < <(printf '%s\n' "$@" | kids)
	echo $(($(cpu all "$@") + $(cpu self "${k[@]}")))
}

# mem PIDS...: average PSS and Private_Dirty in KiB, "PSS DIRTY".
mem() {
	[ $# -gt 0 ] || { echo "- -"; return; }
	# shellcheck disable=SC2046
	awk '/^Pss:/ { p += $2; n++ } /^Private_Dirty:/ { d += $2 }
	    END { if (n) printf "%d %d", p / n, d / n; else print "- -" }' \
	    $(files "$@" smaps_rollup) 2>/dev/null
}

# tree PID: PID and every process below it.
tree() {
	echo "$1"
	_descendants "$1"
}

# ours_anywhere: keepers and ssh of this run, wherever they are (by the
# environment they inherited).
ours_anywhere() {
	grep -lsz "^BATS_TEST_TMPDIR=$BATS_TEST_TMPDIR\$" /proc/[0-9]*/environ |
	    sed 's|/environ$|/comm|' | xargs -r cat 2>/dev/null |
	    grep -cxE 'ssh-tunnel-up|ssh|autossh'
}

# ours_left: processes in the lab namespaces.
ours_left() {
	# shellcheck disable=SC2012
	ls -l /proc/[0-9]*/ns/net 2>/dev/null |
	    awk 'NR == FNR { ino["net:[" $1 "]"] = 1; next }
		($NF in ino) { n++ } END { print n + 0 }' \
	    "$BATS_TEST_TMPDIR/labino" -
}

defs() {
	local i
	for ((i = 1; i <= $1; i++)); do
		cat >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/f$i.yaml" <<EOC
bastion: root@$BADDR:$BPORT
key: $B/id_ed25519
forwards:
  - R $((BASE + i)):localhost:22
ssh_options: [UserKnownHostsFile=$B/known_hosts_lab, StrictHostKeyChecking=yes]
EOC
	done
}

# up TOOL N [host]: bring all N up, every lab machine at once (as a lab
# boots); R[up] the seconds, R[upfail] calls not 0. host: every tunnel
# from lab machine 1 instead, ours by one ssh-tunnel-up -a (R[call]: the
# seconds it took), autossh's all at once.
up() {
	local i t0 fail=0 calls=() p host=${3:-} ns
	t0=$(now)
	R[call]=-
	if [ "$1" = ssh-tunnel-up ] && [ -n "$host" ]; then
		ip netns exec "$(lab_ns 1)" ssh-tunnel-up -a -q -m daemon \
		    >/dev/null 2>&1 || fail=1
		R[call]=$(since "$t0")
	fi
	for ((i = 1; i <= $2; i++)); do
		if [ -n "$host" ]; then ns=$(lab_ns 1); else ns=$(lab_ns "$i"); fi
		case $1 in
		ssh-tunnel-up)
			[ -n "$host" ] && break
			ip netns exec "$ns" ssh-tunnel-up -q \
			    -m daemon "f$i" >/dev/null 2>&1 &
			calls+=("$!")
			;;
		autossh)
			AUTOSSH_GATETIME=0 ip netns exec "$ns" \
			    autossh -M 0 -N -F /dev/null \
			    -o PubkeyAuthentication=yes \
			    -o PasswordAuthentication=no \
			    -o ServerAliveInterval=15 -o ServerAliveCountMax=3 \
			    -o ExitOnForwardFailure=yes \
			    -o "UserKnownHostsFile=$B/known_hosts_lab" \
			    -o StrictHostKeyChecking=yes -i "$B/id_ed25519" \
			    -p "$BPORT" -R "$((BASE + i)):localhost:22" \
			    "root@$BADDR" </dev/null 2>/dev/null &
			APIDS+=("$!")
			PIDS+=("$!")
			;;
		esac
	done
	for p in "${calls[@]}"; do
		wait "$p" || fail=$((fail + 1))
	done
	wait_all "$2" 600 || { echo "fleet: $1: not all $2 up" >&2; return 1; }
	R[up]=$(since "$t0") R[upfail]=$fail
}

# herd TOOL N
herd() {
	local off t_kill t0 k s r0=0 r1=0 c0 c1 pids
	off=$(wc -c <"$B/sshd.log")
	mapfile -t pids < <(keepers "$1")
	[ "$1" = ssh-tunnel-up ] &&
	    r0=$(cat "$XDG_RUNTIME_DIR"/scitex-ssh/f*.state |
		awk '/^restarts / { s += $2 } END { print s + 0 }')
	c0=$(keepcpu "${pids[@]}")
	t_kill=$(now)
	sshd_stop "$B"
	R[stop]=$(since "$t_kill")
	R[stale]=-
	[ "$1" = ssh-tunnel-up ] &&
	    R[stale]=$(ssh-tunnel-ls -j 2>/dev/null | grep -o '"state": *"up"' | wc -l)
	R[outage]=$(since "$t_kill")
	sleep "$(awk -v o="$OUTAGE" -v a="$t_kill" -v b="$(now)" 'BEGIN {
	    d = o - (b - a); print (d > 0 ? d : 0) }')"
	R[outage]=$(since "$t_kill")
	sshd_restart "$B"
	t0=$(now)
	if ! wait_all "$2" 600 ${3:+ls}; then
		echo "fleet: $1: not all $2 back" >&2
		R[back]=-
		return 1
	fi
	R[back]=$(since "$t0") R[lsherd]=$LSMAX
	c1=$(keepcpu "${pids[@]}")
	# shellcheck disable=SC2046
	s=$(cpu all $(tree "$(cat "$B/pid")"))
	R[hcpu]=$(awk -v c=$((c1 - c0)) -v s="$s" -v h="$hz" 'BEGIN {
	    printf "%.2f", (c + s) / h }')
	R[hcpu_c]=$(awk -v c=$((c1 - c0)) -v h="$hz" 'BEGIN { printf "%.2f", c / h }')
	k=$(tail -c +"$((off + 1))" "$B/sshd.log")
	R[conns]=$(grep -c 'Connection from 10\.77\.' <<<"$k")
	R[drops]=$(grep -c 'past MaxStartups' <<<"$k")
	R[attempts]=$((R[conns] + R[drops]))
	R[restarts]=-
	if [ "$1" = ssh-tunnel-up ]; then
		r1=$(cat "$XDG_RUNTIME_DIR"/scitex-ssh/f*.state |
		    awk '/^restarts / { s += $2 } END { print s + 0 }')
		R[restarts]=$((r1 - r0))
	fi
}

# down TOOL: all taken down; R[down] seconds, R[left] ours 0/1/3 s after.
down() {
	local t0 p a b c
	t0=$(now)
	case $1 in
	ssh-tunnel-up)
		ssh-tunnel-down -a -q >/dev/null 2>&1
		R[down]=$(since "$t0")
		a=$(ours_left); sleep 1; b=$(ours_left); sleep 2; c=$(ours_left)
		R[left]="$a/$b/$c"
		R[pgrep]=$(ours_anywhere)
		;;
	autossh)
		kill "${APIDS[@]}" 2>/dev/null
		for p in "${APIDS[@]}"; do
			wait "$p" 2>/dev/null
		done
		R[down]=$(since "$t0")
		a=$(ours_left); R[left]="$a/-/-"
		APIDS=()
		;;
	esac
	# Sessions end on the bastion a moment later.
	for ((p = 0; p < 100; p++)); do
		[ "$(listening "$N")" -eq 0 ] && break
		sleep 0.1
	done
}

# floor N: N handshakes from lab 1, 8 at a time (below MaxStartups), each
# a key exchange, the public key authentication and one channel request,
# as a tunnel makes them; the channel asks for a closed port, so that no
# shell starts on the bastion (a user's rc files would be measured). CPU:
# the ssh processes (each worker's `times`) and the sshd tree.
floor() {
	local t0 s0 s1 w j ws=() c
	mapfile -t w < <(tree "$(cat "$B/pid")")
	s0=$(cpu all "${w[@]}")
	t0=$(now)
	for ((j = 1; j <= 8 && j <= $1; j++)); do
		# shellcheck disable=SC2016
		ip netns exec "$(lab_ns 1)" bash -c 'for ((i = $1; i <= $2; i += 8))
		    do ssh -F /dev/null -o BatchMode=yes -o "UserKnownHostsFile=$3" \
			-o StrictHostKeyChecking=yes -i "$4" -p "$5" \
			-W 127.0.0.1:1 "root@$6" </dev/null 2>/dev/null
		    done; times' _ "$j" "$1" "$B/known_hosts_lab" "$B/id_ed25519" \
		    "$BPORT" "$BADDR" >"$BATS_TEST_TMPDIR/floor.$j" &
		ws+=("$!")
	done
	wait "${ws[@]}"
	F[wall]=$(since "$t0")
	mapfile -t w < <(tree "$(cat "$B/pid")")
	s1=$(cpu all "${w[@]}")
	# The second line of times: the children's user and system time.
	c=$(awk 'FNR == 2 { for (i = 1; i <= 2; i++) {
	    split($i, a, /[ms]/); t += a[1] * 60 + a[2] } } END { print t }' \
	    "$BATS_TEST_TMPDIR"/floor.*)
	F[cpu]=$(awk -v c="$c" -v s=$((s1 - s0)) -v h="$hz" 'BEGIN {
	    printf "%.2f", c + s / h }')
	F[per]=$(awk -v c="${F[cpu]}" -v n="$1" 'BEGIN {
	    printf "%.1f", c * 1000 / n }')
}

# onehost TOOL: the N tunnels of one host (lab machine 1), brought up
# and through a bastion restart; kept in V as TOOL.h_KEY.
onehost() {
	local tool=$1 m
	declare -gA R=()
	# ssh-tunnel-down -a took the definitions with the tunnels.
	defs "$N"
	up "$tool" "$N" host || return 1
	sleep 3
	herd "$tool" "$N" "${tool/autossh/}" || { down "$tool"; return 1; }
	down "$tool"
	for m in "${!R[@]}"; do
		V[$tool.h_$m]=${R[$m]}
	done
}

measure() {
	local tool=$1 ls=() pids sshs c0 m a b
	declare -gA R=()
	up "$tool" "$N" || return 1
	sleep 3
	if [ "$tool" = ssh-tunnel-up ]; then
		for _ in 1 2 3 4 5; do
			lsms
			ls+=("$LSMS")
		done
		R[ls]=$(printf '%s\n' "${ls[@]}" | median)
	else
		R[ls]=-
	fi
	mapfile -t pids < <(keepers "$tool")
	mapfile -t sshs < <(printf '%s\n' "${pids[@]}" | kids)
	read -r a b <<<"$(mem "${pids[@]}")"
	R[kpss]=$a R[kdirty]=$b
	read -r a b <<<"$(mem "${sshs[@]}")"
	R[spss]=$a R[sdirty]=$b
	c0=$(( $(cpu self "${pids[@]}") + $(cpu self "${sshs[@]}") ))
	sleep "$IDLE"
	R[idle]=$(( $(cpu self "${pids[@]}") + $(cpu self "${sshs[@]}") - c0 ))
	# Down also when the herd did not come back: else the next tool is
	# measured beside this one's retries.
	herd "$tool" "$N" "${tool/autossh/}" || { down "$tool"; return 1; }
	down "$tool"
	for m in "${!R[@]}"; do
		V[$tool.$m]=${R[$m]}
	done
}

row() {
	local what=$1 k=$2
	printf '%-44s %14s %10s %8s\n' "$what" "${V[ssh-tunnel-up.$k]:--}" \
	    "${V[autossh.$k]:--}" "$(ratio "${V[autossh.$k]:--}" "${V[ssh-tunnel-up.$k]:--}")"
}

# FLEET_RUN: commands run here instead of the table, with everything
# above at hand (for looking into one phase, e.g. under perf or strace).
if [ -n "${FLEET_RUN:-}" ]; then
	eval "$FLEET_RUN"
	exit $?
fi

rc=0
for N in $FLEET_N; do
	make_labs "$N" || { echo "fleet: cannot make $N labs" >&2; exit 1; }
	rm -f "$XDG_CONFIG_HOME"/scitex-ssh/tunnels.d/f*.yaml
	defs "$N"
	declare -A V=() F=()
	for tool in ssh-tunnel-up autossh; do
		measure "$tool" || rc=1
	done
	for tool in ssh-tunnel-up autossh; do
		onehost "$tool" || rc=1
	done
	floor "$N"
	echo "-- N=$N lab machines, one bastion sshd (MaxStartups 10:30:100), outage ${OUTAGE}s"
	printf '%-44s %14s %10s %8s\n' "" ssh-tunnel-up autossh ratio
	row "bring-up, all N listening (s)" up
	row "  calls that did not exit 0" upfail
	row "ssh-tunnel-ls -j, all up (ms, median of 5)" ls
	row "  worst during the herd (ms)" lsherd
	row "keeper PSS per tunnel (KiB)" kpss
	row "keeper Private_Dirty per tunnel (KiB)" kdirty
	row "its ssh PSS (KiB)" spss
	row "its ssh Private_Dirty (KiB)" sdirty
	row "idle CPU over ${IDLE}s, all processes (ticks)" idle
	row "shown up after the bastion died" stale
	row "bastion killed, all its processes gone (s)" stop
	row "outage, kill to restart (s)" outage
	row "herd: all back after the bastion's return (s)" back
	row "  connection attempts (sshd)" attempts
	row "  MaxStartups drops" drops
	row "  supervisors' restarts" restarts
	row "  CPU, keepers + ssh + sshd (s)" hcpu
	row "  of which keepers + ssh (s)" hcpu_c
	row "down, all N (s)" down
	row "  ours left running 0/1/3 s after" left
	row "  ours anywhere 3 s after (by environment)" pgrep
	echo "-- the same N tunnels from one host (lab machine 1); ours by one ssh-tunnel-up -a"
	row "bring-up, all N listening (s)" h_up
	row "  the ssh-tunnel-up -a call (s)" h_call
	row "  calls that did not exit 0" h_upfail
	row "herd: all back after the bastion's return (s)" h_back
	row "  ssh-tunnel-ls -j, worst during it (ms)" h_lsherd
	row "  connection attempts (sshd)" h_attempts
	row "  MaxStartups drops" h_drops
	row "  CPU, keepers + ssh + sshd (s)" h_hcpu
	row "down, all N (s)" h_down
	printf 'floor: %d handshakes 8 at a time: %s s wall, %s s CPU (%s ms each)\n' \
	    "$N" "${F[wall]}" "${F[cpu]}" "${F[per]}"
	awk -v s="${V[ssh-tunnel-up.back]:-0}" -v a="${V[autossh.back]:-0}" \
	    -v sc="${V[ssh-tunnel-up.hcpu]:-0}" -v ac="${V[autossh.hcpu]:-0}" \
	    -v fw="${F[wall]}" -v fc="${F[cpu]}" -v n="$N" \
	    -v sa="${V[ssh-tunnel-up.attempts]:-0}" 'BEGIN {
	    printf "herd vs floor: ssh-tunnel-up %.1fx wall, %.1fx CPU; autossh %.1fx wall, %.1fx CPU\n",
		s / fw, sc / fc, a / fw, ac / fc
	    printf "attempts per tunnel: ssh-tunnel-up %.2f\n", sa / n }'
done
exit $rc
