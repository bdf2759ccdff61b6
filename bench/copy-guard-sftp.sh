#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# The sftp filter's price: 1 GiB downloaded and uploaded with sftp from a
# throwaway sshd, once with plain sftp-server and once through
# ssh-copy-guard's request filter (goal: at least 90% of the plain rate
# both ways), and the guard's start-up with its filter in front of a server
# that exits at once (goal: under 5 ms).
# COPY_GUARD_MB sets the size (default 1024), ROUNDS the runs per side
# (default 3; the fastest counts), RUNS the start-up samples (200).
set -eu
cd "$(dirname "$0")/.."
: "${O:=build/out}"
GUARD=$(cd "$O/bin" && pwd)/ssh-copy-guard
MB=${COPY_GUARD_MB:-1024}
T=$(mktemp -d /tmp/scitex-bench-sftp.XXXXXX)
# the sshd fixture keeps the list of servers it started here
BATS_TEST_TMPDIR=$T
# shellcheck source=tests/lib/sshd.bash
. tests/lib/sshd.bash
trap 'sshd_stop_all; rm -rf "$T"' EXIT

mkdir -p "$T/ro" "$T/rw" "$T/local"
# The start-up first, before 3 GiB of test files fill the page cache and
# the transfers leave the machine busy (either adds milliseconds).
startup() {
	# wall time (the median: this 2-core VM has outliers of several ms), and CPU time (user + system, children included), which a
	# busy machine disturbs less
	hyperfine -N -i --warmup 10 --runs "${RUNS:-200}" --export-csv "$T/h.csv" \
	    "env SSH_ORIGINAL_COMMAND=internal-sftp /bin/true" \
	    "env SSH_ORIGINAL_COMMAND=internal-sftp $GUARD -r $T/ro -s /bin/true" \
	    >/dev/null 2>&1
	read -r -d '' a b ca cb < <(awk -F, 'NR > 1 { printf "%.3f\n", $4 * 1000 }
	    NR > 1 { c[NR] = ($5 + $6) * 1000 }
	    END { printf "%.3f\n%.3f\n", c[2], c[3] }' "$T/h.csv") || true
	printf 'start-up: the guard and its filter add %.2f ms wall, median (%.2f vs %.2f ms), %.2f ms CPU (%.2f vs %.2f ms); goal < 5 ms\n' \
	    "$(calc "$b - $a")" "$b" "$a" "$(calc "$cb - $ca")" "$cb" "$ca"
}
now() {
	date +%s.%N
}

calc() {
	awk "BEGIN { print ($1) }"
}

# xfer get|put DIR: one transfer through the sshd of DIR; seconds taken
xfer() {
	local t0 t1
	rm -f "$T/local/down" "$T/rw/up"
	t0=$(now)
	sftp -q -F "$2/ssh_config" -b "$T/$1" fixture >/dev/null
	t1=$(now)
	if [ "$1" = get ]; then
		cmp -s "$T/ro/big" "$T/local/down"
	else
		cmp -s "$T/local/big" "$T/rw/up"
	fi || { echo "sftp $1: copy differs" >&2; exit 1; }
	calc "$t1 - $t0"
}

least() {
	printf '%s\n' "$@" | sort -g | head -1
}

if command -v hyperfine >/dev/null; then
	startup
else
	echo "start-up: no hyperfine"
fi

head -c "${MB}M" /dev/urandom >"$T/ro/big"
cp "$T/ro/big" "$T/local/big"
sshd_start "$T/plain" >/dev/null
sshd_start "$T/guarded" \
    "restrict,command=\"$GUARD -r $T/ro:ro -r $T/rw:rw\"" >/dev/null
printf 'get %s %s\n' "$T/ro/big" "$T/local/down" >"$T/get"
printf 'put %s %s\n' "$T/local/big" "$T/rw/up" >"$T/put"

ROUNDS=${ROUNDS:-3}
echo "sftp of $MB MiB over ssh on loopback, best of $ROUNDS alternating runs"
printf '%-9s %10s %10s %8s\n' direction plain_MB/s filter_MB/s ratio
worst=
for dir in get put; do
	pt=() gt=()
	for ((r = 0; r < ROUNDS; r++)); do
		pt+=("$(xfer "$dir" "$T/plain")")
		gt+=("$(xfer "$dir" "$T/guarded")")
	done
	p=$(least "${pt[@]}") g=$(least "${gt[@]}")
	ratio=$(calc "$p * 100 / $g")
	printf '%-9s %10.1f %10.1f %7.1f%%\n' \
	    "$([ "$dir" = get ] && echo download || echo upload)" \
	    "$(calc "$MB / $p")" "$(calc "$MB / $g")" "$ratio"
	if [ -z "$worst" ] || [ "$(calc "$ratio < $worst")" -eq 1 ]; then
		worst=$ratio
	fi
done
printf 'filtered rate: worst %.1f%% of plain (goal >= 90%%)\n' "$worst"

