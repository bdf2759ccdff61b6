#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The agent skill, skills/scitex-ssh/SKILL.md, against what it describes:
# its front matter; every program it names is built and has a page; every
# flag it gives a program is in that program's usage (which 0900 holds
# equal to the page's SYNOPSIS); every MCP tool in its table is one
# ssh-tunnel-mcp lists, and every tool listed is in the table; make
# install puts it under the data directory.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/mcp

SKILL=$TOP/skills/scitex-ssh/SKILL.md
OURS="ssh-allow-check ssh-copy-guard ssh-tunnel-down ssh-tunnel-ls
ssh-tunnel-mcp ssh-tunnel-up"

# Tools SKILL.md may name before ssh-tunnel-mcp offers them (none now).
# The test fails for a name still here once the server lists it, so this
# never goes stale.
PENDING=""

setup() {
	common_setup
}

# usage_flags PROG: every short flag letter, one a line, and every long
# flag, of PROG's usage block.
usage_flags() {
	local u
	u=$("$1" -h 2>&1 | sed '/^$/q')
	# Every program has -h and -V (DESIGN.md), outside its usage.
	printf '%s\n' h V
	grep -oE '(^|[][ |])--[a-z][a-z-]*' <<<"$u" | tr -d ' []|'
	grep -oE '(^|[][ |])-[A-Za-z]+' <<<"$u" | tr -d ' []|-' | fold -w1
}

# check_flags PROG TEXT: each flag in TEXT (a code span) is PROG's.
check_flags() {
	local prog=$1 w flags
	flags=$(usage_flags "$prog")
	for w in $2; do
		case $w in
		--) ;;
		--*)
			grep -qx -- "$w" <<<"$flags" ||
			    { echo "$prog: no flag $w" >&2; return 1; } ;;
		-*)
			for l in $(fold -w1 <<<"${w#-}"); do
				grep -qx -- "$l" <<<"$flags" ||
				    { echo "$prog: no flag -$l ($w)" >&2; return 1; }
			done ;;
		esac
	done
}

@test "SKILL.md: front matter with a name and a description" {
	[ "$(sed -n 1p "$SKILL")" = --- ]
	fm=$(sed -n '2,/^---$/p' "$SKILL")
	[ "$(tail -1 <<<"$fm")" = --- ]
	name=$(sed -n 's/^name: //p' <<<"$fm")
	desc=$(sed -n 's/^description: //p' <<<"$fm")
	[ "$name" = scitex-ssh ]
	[ "$name" = "$(basename "$(dirname "$SKILL")")" ]
	[[ $name =~ ^[a-z0-9-]{1,64}$ ]]
	[ -n "$desc" ] && [ "${#desc}" -le 1024 ]
	[[ $desc != *[\<\>]* ]]
	[ "$(grep -c '^[a-z]*:' <<<"$fm")" = 2 ]
}

@test "SKILL.md: every program it names exists, and it names them all" {
	named=$(grep -oE '\bssh-(tunnel|allow|copy)-[a-z]+' "$SKILL" | sort -u)
	# shellcheck disable=SC2086 # word lists
	[ "$(echo $named)" = "$(echo $OURS)" ]
	for p in $named; do
		[ -x "$BUILD/bin/$p" ]
		ls "$TOP"/man/man[18]/"$p".[18] >/dev/null
	done
}

@test "SKILL.md: every flag it gives a program is in that program's usage" {
	local span prog n=0
	# A code span that starts with a program: its flags.
	while IFS= read -r span; do
		prog=${span%% *}
		check_flags "$prog" "${span#"$prog"}"
		n=$((n + 1))
	done < <(grep -oE '`ssh-(tunnel|allow|copy)-[a-z]+( [^`]*)?`' "$SKILL" |
	    tr -d '`')
	# A bullet of "## Programs": its bare flags are its program's.
	while IFS= read -r bullet; do
		prog=$(grep -oE '`ssh-[a-z-]+' <<<"$bullet" | head -1 | tr -d '`')
		[ -n "$prog" ] || continue
		check_flags "$prog" "$(grep -oE '`-[^`]*`' <<<"$bullet" |
		    tr -d '`' | tr '\n' ' ')"
		n=$((n + 1))
	done < <(sed -n '/^## Programs/,/^## /p' "$SKILL" |
	    awk '/^- /{ if (b) print b; b = $0; next }
	    /^  /{ b = b " " $0; next } { if (b) print b; b = "" }
	    END { if (b) print b }')
	[ "$n" -ge 10 ]
}

@test "SKILL.md: every tool in its table is one ssh-tunnel-mcp lists" {
	table=$(grep -oE '^\| `[a-z_]+` \|' "$SKILL" | tr -d '|` ')
	[ "$(wc -l <<<"$table")" -ge 16 ]
	run --separate-stderr mcp_session "$(mcp_req 1 tools/list)"
	[ "$status" -eq 0 ]
	listed=$(mcp_result 1 '.tools[].name')
	for t in $table; do
		# shellcheck disable=SC2086 # a word list
		if [[ " $(echo $PENDING) " == *" $t "* ]]; then
			# Pending: not offered yet (then take it off PENDING).
			! grep -qx "$t" <<<"$listed" ||
			    { echo "$t is listed now: drop it from PENDING" >&2; false; }
		else
			grep -qx "$t" <<<"$listed" ||
			    { echo "$t: not a tool of ssh-tunnel-mcp" >&2; false; }
		fi
	done
	for t in $listed; do
		grep -qx "$t" <<<"$table" ||
		    { echo "$t: missing from SKILL.md" >&2; false; }
	done
}

@test "SKILL.md: make install puts it under the data directory" {
	local dest=$BATS_TEST_TMPDIR/dest f
	make -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-}" DESTDIR="$dest" \
	    install >/dev/null
	f=$dest/usr/local/share/scitex-ssh/skills/scitex-ssh/SKILL.md
	cmp "$SKILL" "$f"
	[ "$(stat -c %a "$f")" = 644 ]
	make -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-}" DESTDIR="$dest" \
	    uninstall >/dev/null
	[ ! -e "$f" ]
}
