#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# Idle footprint: the supervisor and autossh -M 0 (scitex-ssh 1.0's
# options) each keep one tunnel up, side by side; after they settle, their
# private memory (Private_Dirty of /proc/PID/smaps_rollup) and the CPU time
# they use over IDLE seconds (default 60) with nothing happening. Their ssh
# children are shown too. Goals: under 256 KiB, 0.00 s.
set -u
# shellcheck source=bench/tunnel-lib.bash
. "$(dirname "$0")/tunnel-lib.bash"
IDLE=${IDLE:-60}
hz=$(getconf CLK_TCK)

dirty() {
	awk '/^Private_Dirty:/ { print $2 }' "/proc/$1/smaps_rollup"
}
ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
child() {
	pgrep -P "$1" -x ssh | head -1
}

# A binary just built has page-cache pages not yet written back: mapped
# by one process, they would count as its Private_Dirty.
sync "$O/bin/ssh-tunnel-up"
bench_sshds
declare -A pid
for tool in ssh-tunnel-up autossh; do
	start_tool "$tool" "$(free_port)"
	pid[$tool]=$TOOLPID
done
sleep 3
declare -A c0 s0
for tool in ssh-tunnel-up autossh; do
	c0[$tool]=$(ticks "${pid[$tool]}")
	s0[$tool]=$(ticks "$(child "${pid[$tool]}")")
done
sleep "$IDLE"
for tool in ssh-tunnel-up autossh; do
	p=${pid[$tool]} c=$(child "${pid[$tool]}")
	printf '%-14s Private_Dirty %4s KiB, CPU over %ss %s s; its ssh: %s KiB, %s s\n' \
	    "$tool" "$(dirty "$p")" "$IDLE" \
	    "$(awk -v a="${c0[$tool]}" -v b="$(ticks "$p")" -v h="$hz" 'BEGIN { printf "%.2f", (b - a) / h }')" \
	    "$(dirty "$c")" \
	    "$(awk -v a="${s0[$tool]}" -v b="$(ticks "$c")" -v h="$hz" 'BEGIN { printf "%.2f", (b - a) / h }')"
done
awk -v s="$(dirty "${pid[ssh-tunnel-up]}")" -v a="$(dirty "${pid[autossh]}")" 'BEGIN {
	printf "idle Private_Dirty: ssh-tunnel-up %d KiB, autossh %d KiB, ratio %.2fx\n",
	    s, a, (a > 0 ? s / a : 0) }'
