#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# usage() is the man page SYNOPSIS; completions offer the tunnel names
# that ssh-tunnel-ls -N gives.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	d=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mkdir -p "$d"
	for n in labbox labcam; do
		printf 'bastion: gw\nforwards: [R 2222:localhost:22]\n' >"$d/$n.yaml"
	done
}

teardown() {
	sshd_stop_all
}

# squash: one line, runs of blanks as one space.
squash() {
	tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

@test "usage is the man page SYNOPSIS" {
	for p in ssh-tunnel-up ssh-tunnel-ls ssh-tunnel-down; do
		syn=$(MANWIDTH=300 mandoc -Tascii -O width=300 "$TOP/man/man1/$p.1" |
		    col -b | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
		    sed '1d;$d' | squash)
		use=$("$p" -h | sed 's/^usage: //' | squash)
		echo "$syn"
		echo "$use"
		[ "$syn" = "$use" ]
	done
}

@test "man pages are clean under mandoc -Tlint" {
	run mandoc -Tlint -W warning "$TOP"/man/man1/ssh-tunnel-{up,ls,down}.1
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "ssh-tunnel-ls -N lists the defined names" {
	run ssh-tunnel-ls -N
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'labbox\nlabcam')" ]
}

# complete PROG WORDS...: what the bash completion offers for the last word.
complete_bash() {
	local prog=$1 fn
	shift
	# shellcheck disable=SC1090
	source "$TOP/completions/bash/$prog"
	fn=_${prog//-/_}
	COMP_WORDS=("$prog" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	"$fn"
	printf '%s\n' "${COMPREPLY[@]}"
}

@test "bash completion offers tunnel names, options and backends" {
	for p in ssh-tunnel-up ssh-tunnel-ls ssh-tunnel-down; do
		[ "$(complete_bash "$p" lab)" = "$(printf 'labbox\nlabcam')" ]
		[ "$(complete_bash "$p" labc)" = labcam ]
	done
	[ "$(complete_bash ssh-tunnel-up -m d)" = daemon ]
	[[ $(complete_bash ssh-tunnel-ls --pr) == --probe ]]
	[[ $(complete_bash ssh-tunnel-down -) == *-a* ]]
	[ -z "$(complete_bash ssh-tunnel-up -p '')" ]
	[[ $(complete_bash ssh-tunnel-up -) == *-a* ]]
	[ -z "$(complete_bash ssh-tunnel-up -a '')" ]
}

@test "zsh completions parse and get the names from ssh-tunnel-ls -N" {
	for f in "$TOP"/completions/zsh/_ssh-tunnel-{up,ls,down}; do
		zsh -n "$f"
		grep -q '^#compdef ' "$f"
		grep -q 'ssh-tunnel-ls -N' "$f"
	done
	run zsh -f -c 'names=(${(f)"$(ssh-tunnel-ls -N 2>/dev/null)"}); print -l $names'
	[ "$output" = "$(printf 'labbox\nlabcam')" ]
}
