#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-copy-guard's price: 1 GiB pulled with scp, sftp and rsync from a
# throwaway sshd, once plain and once through the guard (goal: under 2%
# slower), and the start-up the guard adds before the copy program runs
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
PLAIN=$SSHD_DIR/ssh_config
sshd_start "$T/guarded" \
    "restrict,command=\"$GUARD -r $T/ro:ro -r $T/rw:rw\"" >/dev/null
GUARDED=$SSHD_DIR/ssh_config
printf 'get %s %s\n' "$T/ro/big" "$T/dl/big" >"$T/batch"

now() {
	date +%s.%N
}

# pull TOOL CONFIG: copy big down once, print the seconds it took.
pull() {
	local t0 t1
	rm -f "$T/dl/big"
	t0=$(now)
	case $1 in
	scp)	scp -q -F "$2" "fixture:$T/ro/big" "$T/dl/big" ;;
	sftp)	sftp -q -F "$2" -b "$T/batch" fixture >/dev/null ;;
	rsync)	rsync -W -e "ssh -F $2" "fixture:$T/ro/big" "$T/dl/big" ;;
	esac
	t1=$(now)
	cmp -s "$T/ro/big" "$T/dl/big" || { echo "$1: copy differs" >&2; exit 1; }
	echo "$t1 - $t0" | bc -l
}

# best ROUND of TIMES: the least, i.e. the run the rest of the machine
# disturbed least
least() {
	printf '%s\n' "$@" | sort -g | head -1
}

ROUNDS=${ROUNDS:-3}
echo "pull of $MB MiB over ssh on loopback, best of $ROUNDS alternating runs"
printf '%-6s %10s %10s %8s\n' tool plain_MB/s guard_MB/s cost
worst=0
for tool in scp sftp rsync; do
	pt=() gt=()
	for ((r = 0; r < ROUNDS; r++)); do
		pt+=("$(pull "$tool" "$PLAIN")")
		gt+=("$(pull "$tool" "$GUARDED")")
	done
	p=$(least "${pt[@]}")
	g=$(least "${gt[@]}")
	cost=$(echo "($g - $p) * 100 / $p" | bc -l)
	printf '%-6s %10.1f %10.1f %7.2f%%\n' "$tool" \
	    "$(echo "$MB / $p" | bc -l)" "$(echo "$MB / $g" | bc -l)" "$cost"
	if [ "$(echo "$cost > $worst" | bc -l)" -eq 1 ]; then
		worst=$cost
	fi
done
printf 'throughput cost: worst %.2f%% (goal < 2%%)\n' "$worst"

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
    "$(echo "$b - $a" | bc -l)" "$b" "$a"

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
gd=$(echo "$b - $a" | bc -l)
printf 'start-up before rsync: guard +%.2f ms' "$gd"
if [ -n "$RRSYNC" ]; then
	[ "$(echo "$gd < 0.01" | bc -l)" -eq 1 ] && gd=0.01
	printf ', rrsync +%.2f ms (rrsync costs %.0fx the guard)\n' \
	    "$(echo "$c - $a" | bc -l)" "$(echo "($c - $a) / $gd" | bc -l)"
else
	printf ', no rrsync here\n'
fi
