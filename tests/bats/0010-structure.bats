#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The shape of the code, as DESIGN.md draws it: includes point down only,
# no cycle, thin programs, short parameter lists, no test switches in what
# ships. Reads the sources; builds and runs nothing.

load ../lib/common

# Each module's layer, bottom up, as DESIGN.md's picture has them; a
# module may include its own layer and those below. A new module must be
# placed here.
LAYERS='
0 sxerr now slurp text xdg memtrim units fdpass dirwatch held vec
1 host match state spawn out job sshbin userns landlock slots
2 relay config netwatch
3 tunnel policy pcache guard sftp sftprelay sshopt discovery remote
4 supervise unit notify
5 backend sysd legacy autossh
6 lifecycle
7 jsonrpc
8 mcptool
9 mcptunnel mcpinfo mcpremote
10 mcptools
11 mcp
'

# edges: "from to" for every #include "x.h" of lib/*.[ch], lifecycle-*.c
# counted as lifecycle.
edges() {
	local f m i
	for f in "$TOP"/lib/*.[ch]; do
		m=${f##*/}
		m=${m%.*}
		m=${m%%-*}
		sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" |
		while read -r i; do
			i=${i%%-*}
			[ "$i" = "$m" ] || echo "$m $i"
		done
	done | sort -u
}

layer() {
	echo "$LAYERS" | awk -v m="$1" '{ for (i = 2; i <= NF; i++)
	    if ($i == m) { print $1; exit } }'
}

@test "structure: the include graph of lib/ has no cycle" {
	edges >"$BATS_TEST_TMPDIR/edges"
	[ -s "$BATS_TEST_TMPDIR/edges" ]
	run tsort "$BATS_TEST_TMPDIR/edges"
	[ "$status" -eq 0 ]
	[[ "$output" != *loop* ]]
}

@test "structure: every include in lib/ points to its layer or one below" {
	local from to lf lt bad=''
	while read -r from to; do
		lf=$(layer "$from")
		lt=$(layer "$to")
		[ -n "$lf" ] || bad="$bad $from(no layer)"
		[ -n "$lt" ] || bad="$bad $to(no layer)"
		if [ -n "$lf" ] && [ -n "$lt" ] && [ "$lt" -gt "$lf" ]; then
			bad="$bad $from->$to"
		fi
	done < <(edges)
	echo "up or unplaced:$bad"
	[ -z "$bad" ]
}

@test "structure: no program includes sysd.h, state.h or supervise.h" {
	run grep -l '#include "\(sysd\|state\|supervise\)\.h"' "$TOP"/cmd/*.c
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "structure: no function in lib/ or cmd/ takes more than 6 parameters" {
	run perl "$TOP/tests/lib/params.pl" 6 "$TOP"/lib/*.c "$TOP"/cmd/*.c
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The checker sees a long one: a definition of seven, in a scratch file.
	printf 'static int\nf(int a, int b, int c, int d, int e, int f,\n    int (*g)(int, int))\n{\n\treturn 0;\n}\n' \
	    >"$BATS_TEST_TMPDIR/seven.c"
	run perl "$TOP/tests/lib/params.pl" 6 "$BATS_TEST_TMPDIR/seven.c"
	[ "$status" -eq 1 ]
	[[ "$output" == *"f: 7 parameters"* ]]
}

@test "structure: every main in cmd/ is 60 lines or fewer" {
	local f n
	for f in "$TOP"/cmd/*.c; do
		n=$(awk '/^main\(/ { s = NR } s && /^}/ { print NR - s + 1;
		    exit }' "$f")
		echo "${f##*/}: $n"
		[ -n "$n" ] && [ "$n" -le 60 ]
	done
}

@test "structure: the shipped sources carry no test switches" {
	run grep -n '_TEST\b\|TEST_[A-Z]*\b\|#if.*TEST' "$TOP"/lib/* "$TOP"/cmd/*
	echo "$output"
	[ "$status" -eq 1 ]
}
