#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# The exposure systemd-analyze security --offline=true gives our template
# units beside the unit scitex-ssh 1.0 wrote (tests/lib/, as that tool wrote
# it for a user, and as it was when run as root). Lower is better; goal for
# the system unit: 1.5 or lower ("OK").
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/run"
export XDG_RUNTIME_DIR=$tmp/run

score() {
	systemd-analyze ${2:+"$2"} security --offline=true --no-pager "$1" \
	    2>/dev/null |
	    sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}

for k in system user; do
	cp "systemd/$k/ssh-tunnel@.service" "$tmp/ssh-tunnel@$k.service"
done
sed 's/^User=.*/User=root/' tests/lib/autossh-tunnel-2222.service \
    >"$tmp/autossh-tunnel-2222.service"
ours=$(score "$tmp/ssh-tunnel@system.service")
user=$(score "$tmp/ssh-tunnel@user.service" --user)
old=$(score tests/lib/autossh-tunnel-2222.service)
oldroot=$(score "$tmp/autossh-tunnel-2222.service")
printf '%-44s %s\n' "unit (systemd-analyze security, offline)" exposure
printf '%-44s %s\n' "ssh-tunnel@.service (system)" "$ours" \
    "ssh-tunnel@.service (user manager)" "$user" \
    "autossh-tunnel-2222.service (1.0, User=)" "$old" \
    "autossh-tunnel-2222.service (1.0, root)" "$oldroot"
awk -v o="$ours" -v a="$old" -v r="$oldroot" 'BEGIN {
    printf "ratio 1.0/ours: %.1fx (as a user), %.1fx (as root); goal <= 1.5 %s\n",
        a / o, r / o, o <= 1.5 ? "met" : "MISSED"
    exit !(o <= 1.5) }'
