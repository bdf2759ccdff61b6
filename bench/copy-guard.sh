#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-copy-guard's price: 1 GiB pulled with scp, sftp and rsync from a
# throwaway sshd, once plain and once through the guard (goal: under 2%
# slower, in wall time and in the server's CPU time, which a busy machine
# disturbs far less), and the start-up the guard adds before the copy program runs
# (goal: under 5 ms), next to rrsync's when it is installed.
# COPY_GUARD_MB sets the size (default 1024), ROUNDS the runs per side
# (default 3; the fastest counts), RUNS the start-up samples (200).
set -eu
cd "$(dirname "$0")/.."
: "${O:=build/out}"
GUARD=$(cd "$O/bin" && pwd)/ssh-copy-guard
MB=${COPY_GUARD_MB:-1024}
T=$(mktemp -d /tmp/scitex-bench-guard.XXXXXX)
# the sshd fixture keeps the list of servers it started here
BATS_TEST_TMPDIR=$T
# shellcheck source=tests/lib/sshd.bash
. tests/lib/sshd.bash
trap 'sshd_stop_all; rm -rf "$T"' EXIT

mkdir -p "$T/ro" "$T/rw" "$T/dl"
head -c "${MB}M" /dev/urandom >"$T/ro/big"
head -c 4096 /dev/urandom >"$T/ro/small"
sshd_start "$T/plain" >/dev/null
sshd_start "$T/guarded" \
    "restrict,command=\"$GUARD -r $T/ro:ro -r $T/rw:rw\"" >/dev/null
printf 'get %s %s\n' "$T/ro/big" "$T/dl/big" >"$T/batch"

now() {
	date +%s.%N
}

# calc EXPR: floating point arithmetic; a comparison gives 1 or 0
calc() {
	awk "BEGIN { print ($1) }"
}

HZ=$(getconf CLK_TCK)

# srvcpu DIR: CPU seconds the sshd of DIR has reaped from its children so
# far, i.e. everything the server side of finished transfers used. Unlike
# wall time it hardly moves when other work shares the machine.
srvcpu() {
	local pid i
	pid=$(cat "$1/pid")
	for ((i = 0; i < 100; i++)); do
		pgrep -P "$pid" >/dev/null || break
		sleep 0.02
	done
	awk -v hz="$HZ" '{ sub(/^.*\) /, ""); print ($14 + $15) / hz }' \
	    "/proc/$pid/stat"
}

# pull TOOL DIR: copy big down once from the sshd of DIR; print the
# seconds it took and the server's CPU seconds.
pull() {
	local t0 t1 c0 c1 cfg=$2/ssh_config
	rm -f "$T/dl/big"
	c0=$(srvcpu "$2")
	t0=$(now)
	case $1 in
	scp)	scp -q -F "$cfg" "fixture:$T/ro/big" "$T/dl/big" ;;
	sftp)	sftp -q -F "$cfg" -b "$T/batch" fixture >/dev/null ;;
	rsync)	rsync -W -e "ssh -F $cfg" "fixture:$T/ro/big" "$T/dl/big" ;;
	esac
	t1=$(now)
	c1=$(srvcpu "$2")
	cmp -s "$T/ro/big" "$T/dl/big" || { echo "$1: copy differs" >&2; exit 1; }
	echo "$(calc "$t1 - $t0") $(calc "$c1 - $c0")"
}

# least N...: the smallest, i.e. the run the rest of the machine
# disturbed least
least() {
	printf '%s\n' "$@" | sort -g | head -1
}

pct() {
	calc "($2 - $1) * 100 / $1"
}

ROUNDS=${ROUNDS:-3}
echo "pull of $MB MiB over ssh on loopback, best of $ROUNDS alternating runs"
printf '%-6s %10s %10s %8s %10s %10s %8s\n' tool plain_MB/s guard_MB/s cost \
    plain_cpu guard_cpu cost
worst=0 worstc=0
for tool in scp sftp rsync; do
	pt=() gt=() pc=() gc=()
	for ((r = 0; r < ROUNDS; r++)); do
		read -r a b < <(pull "$tool" "$T/plain")
		pt+=("$a") pc+=("$b")
		read -r a b < <(pull "$tool" "$T/guarded")
		gt+=("$a") gc+=("$b")
	done
	p=$(least "${pt[@]}") g=$(least "${gt[@]}")
	cp=$(least "${pc[@]}") cg=$(least "${gc[@]}")
	cost=$(pct "$p" "$g") costc=$(pct "$cp" "$cg")
	printf '%-6s %10.1f %10.1f %7.2f%% %9.2fs %9.2fs %7.2f%%\n' "$tool" \
	    "$(calc "$MB / $p")" "$(calc "$MB / $g")" "$cost" \
	    "$cp" "$cg" "$costc"
	[ "$(calc "$cost > $worst")" -eq 1 ] && worst=$cost
	[ "$(calc "$costc > $worstc")" -eq 1 ] && worstc=$costc
done
printf 'throughput cost: worst %.2f%% wall, %.2f%% server CPU (goal < 2%%)\n' \
    "$worst" "$worstc"

command -v hyperfine >/dev/null || { echo "start-up: no hyperfine"; exit 0; }

# mean MS of a hyperfine run over the given commands, one a line
means() {
	hyperfine -N -i --warmup 10 --runs "${RUNS:-200}" --export-csv "$T/h.csv" \
	    "$@" >/dev/null 2>&1
	awk -F, 'NR > 1 { printf "%.3f\n", $2 * 1000 }' "$T/h.csv"
}

# The guard alone: parse, path checks, Landlock, exec of a program that
# exits at once, against that program started directly.
CMD="internal-sftp"
read -r -d '' a b < <(means \
    "env SSH_ORIGINAL_COMMAND=$CMD /bin/true" \
    "env SSH_ORIGINAL_COMMAND=$CMD $GUARD -r $T/ro -s /bin/true") || true
printf 'start-up: guard adds %.2f ms before exec (%.2f vs %.2f ms; goal < 5 ms)\n' \
    "$(calc "$b - $a")" "$b" "$a"

# Before rsync: the same rsync --server command line plain, through the
# guard and through rrsync (rsync's own restricted-rsync script).
RRSYNC=
for r in /usr/bin/rrsync /usr/share/doc/rsync/scripts/rrsync; do
	[ -x "$r" ] && RRSYNC=$r && break
done
CMD="rsync --server --sender -logDtpre.iLsfxCIvu . small"
set -- "env SSH_ORIGINAL_COMMAND='$CMD' /usr/bin/rsync --server --sender -logDtpre.iLsfxCIvu . $T/ro/small" \
    "env SSH_ORIGINAL_COMMAND='$CMD' $GUARD -r $T/ro"
[ -n "$RRSYNC" ] && set -- "$@" "env SSH_ORIGINAL_COMMAND='$CMD' $RRSYNC -ro $T/ro"
read -r -d '' a b c < <(means "$@") || true
gd=$(calc "$b - $a")
printf 'start-up before rsync: guard %+.2f ms' "$gd"
if [ -z "$RRSYNC" ]; then
	printf ', no rrsync here\n'
elif [ "$(calc "$gd < 0.1")" -eq 1 ]; then
	printf ', rrsync %+.2f ms (the guard is within the noise)\n' \
	    "$(calc "$c - $a")"
else
	printf ', rrsync %+.2f ms (rrsync costs %.0fx the guard)\n' \
	    "$(calc "$c - $a")" "$(calc "($c - $a) / $gd")"
fi
