#!/bin/sh
# SPDX-License-Identifier: AGPL-3.0-only
# Print the Debian mirror this machine's apt uses, read from apt's own
# sources (deb822 .sources files first, then one-line .list files), so that
# no registry host name is ever written into the repository.
# Usage: debian-mirror.sh [suite]   (default bookworm)
set -eu
suite=${1:-bookworm}
for f in /etc/apt/sources.list.d/*.sources; do
	[ -r "$f" ] || continue
	# One stanza per blank-line-separated paragraph; take the first whose
	# Suites name the suite and whose URI does not look like a security mirror.
	awk -v s="$suite" '
		BEGIN { RS = ""; FS = "\n" }
		{
			uri = ""; ok = 0; deb = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^#/) continue
				if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
				if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
				if ($i ~ /^Suites:/) {
					n = split($i, b, /[ \t]+/)
					for (j = 2; j <= n; j++) if (b[j] == s) ok = 1
				}
			}
			if (deb && ok && uri != "") { print uri; exit }
		}' "$f"
done | head -n 1 | grep . && exit 0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -r "$f" ] || continue
	awk -v s="$suite" '$1 == "deb" {
		i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++
		if ($i ~ /^\[/ || $i ~ /\]$/) i++
		if ($(i + 1) == s) { print $i; exit }
	}' "$f"
done | head -n 1 | grep . && exit 0
echo "debian-mirror.sh: no deb source for $suite in apt's sources" >&2
exit 1
