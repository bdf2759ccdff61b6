#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# A link that silently drops packets: how long until the tunnel's keeper
# notices, and how long after the path returns the tunnel works again.
# autossh -M 0 with scitex-ssh 1.0's options beside the supervisor with its
# defaults, each in a fresh network namespace (tests/lib/netns.bash), the
# bastion's port dropped for DEADLINK_OUTAGE seconds (default 65).
# Goals: notice <= 30 s, back <= 2 s. Needs root (ip netns, iptables).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${O:=build/out}"
export O
outage=${DEADLINK_OUTAGE:-65}
TMPDIR=$(mktemp -d)
export TMPDIR
# shellcheck source=tests/lib/netns.bash
. tests/lib/netns.bash
trap 'netns_cleanup; rm -rf "$TMPDIR"' EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "deadlink: skipped (needs root for ip netns and iptables)"
	exit 0
fi

# run TOOL: one episode in a namespace of its own; "TOOL notice=N back=N".
run() {
	local out
	netns_create || return 1
	out=$(netns_run bash tests/lib/deadlink.bash "$1" "$outage")
	netns_cleanup
	echo "$out" | tail -1
}

a=$(run autossh) || echo "deadlink: autossh: $a" >&2
s=$(run ssh-tunnel-up) || echo "deadlink: ssh-tunnel-up: $s" >&2
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
an=$(val notice "$a") ab=$(val back "$a")
sn=$(val notice "$s") sb=$(val back "$s")
printf '%-30s %10s %10s\n' "outage ${outage}s, seconds" notice back
printf '%-30s %10s %10s\n' "autossh -M 0 (1.0 options)" "${an:-none}" \
    "${ab:-none}"
printf '%-30s %10s %10s\n' "ssh-tunnel-up -f (defaults)" "${sn:-none}" \
    "${sb:-none}"
if [ -n "$an" ] && [ -n "$sn" ] && [ -n "$ab" ] && [ -n "$sb" ]; then
	awk -v an="$an" -v sn="$sn" -v ab="$ab" -v sb="$sb" 'BEGIN {
	    printf "ratio autossh/ours: notice %.1fx, back %.1fx\n",
	        an / (sn > 0 ? sn : 0.1), ab / (sb > 0 ? sb : 0.1)
	    printf "goals: notice <= 30 s %s, back <= 2 s %s\n",
	        sn <= 30 ? "met" : "MISSED", sb <= 2 ? "met" : "MISSED"
	    exit !(sn <= 30 && sb <= 2) }'
else
	exit 1
fi
