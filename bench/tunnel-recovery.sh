#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# Time to recover: the bastion's sshd is killed (with every session) and
# started again 1 s later, five times in a row; for each outage, the
# seconds from the bastion's return until the lab's SSH banner is read
# through the tunnel again. The supervisor beside autossh -M 0 with the
# options of scitex-ssh 1.0, same machine, same run. Goal: back within
# 1 s of the bastion's return, every time, and never slower than autossh.
set -u
# shellcheck source=bench/tunnel-lib.bash
. "$(dirname "$0")/tunnel-lib.bash"
OUTAGES=${OUTAGES:-5}

bench_sshds
declare -A med
for tool in ssh-tunnel-up autossh; do
	rport=$(free_port)
	start_tool "$tool" "$rport"
	times=()
	for ((i = 1; i <= OUTAGES; i++)); do
		sleep 1
		sshd_stop "$B"
		sleep 1
		sshd_restart "$B"
		t0=$(now)
		if wait_banner "$rport" 120; then
			times+=("$(since "$t0")")
		else
			times+=(120)
		fi
	done
	med[$tool]=$(printf '%s\n' "${times[@]}" | median)
	printf '%-14s back after each outage (s): %s; median %s\n' "$tool" \
	    "${times[*]}" "${med[$tool]}"
	kill "$TOOLPID" 2>/dev/null
	wait "$TOOLPID" 2>/dev/null
done
awk -v a="${med[autossh]}" -v s="${med[ssh-tunnel-up]}" 'BEGIN {
	printf "recovery median: ssh-tunnel-up %.2f s, autossh %.2f s, ratio %.1fx\n",
	    s, a, (s > 0 ? a / s : 0) }'
