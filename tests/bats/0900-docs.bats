#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The documentation against the programs, for whatever programs exist:
# every man/man1/*.1 and man/man8/*.8 whose program is built is checked
# against that program; every page is linted; every completion loads.
#
# usage() against SYNOPSIS, defined once (synopsis_forms, usage_forms):
#   A "form" is one way to call the program: one SYNOPSIS block of the page,
#   one "usage:" line of -h with its continuation lines.
#   Page: the SYNOPSIS section rendered by mandoc -T ascii, wide enough
#   that no form wraps, overstrike removed; each non-empty line is a form.
#   Usage: the lines of -h up to the first empty one (a program may add a
#   word of help after an empty line). The first line must start
#   "usage: NAME "; a line that starts with blanks and then "NAME " begins
#   the next form; any other line continues the form before it. The
#   "usage:" prefix is dropped.
#   Both sides: blanks at either end removed, every run of blanks made one
#   space. The lists of forms must be equal, in order.
# An unknown option must print that same usage block on stderr, last.
# Layout of the usage block, checked apart from the words: no tab; a further form starts
# with exactly 7 spaces (the width of "usage: "); a continuation line is
# indented to the first flag of its form, that is 8 + length(NAME) spaces.

load ../lib/common
load ../lib/complete

setup() {
	common_setup
	VERSION=$(sed -n 's/^VERSION *= *//p' "$TOP/Makefile")
}

# pages SECTION...: the pages of those sections, one a line.
pages() {
	local s f
	for s in "$@"; do
		for f in "$TOP"/man/man"$s"/*."$s"; do
			[ -e "$f" ] && echo "$f"
		done
	done
}

# built_pages: "PAGE PROGRAM" for each man1/man8 page whose program is built.
built_pages() {
	local f p
	pages 1 8 | while read -r f; do
		p=${f##*/}
		p=${p%.*}
		[ -x "$BUILD/bin/$p" ] && echo "$f $p"
	done
}

# usage_block: the usage lines of -h, up to the first empty line.
usage_block() {
	awk '/^[[:blank:]]*$/ { exit } { print }'
}

squeeze() {
	sed -e 's/[[:blank:]]\+/ /g' -e 's/^ //' -e 's/ $//'
}

synopsis_forms() {
	LC_ALL=C mandoc -T ascii -O width=1000 "$1" | sed 's/.\x08//g' |
	    awk '/^SYNOPSIS$/ { on = 1; next } on && /^[^ ]/ { exit } on' |
	    squeeze | grep -v '^$'
}

usage_forms() {
	awk -v name="$2" '
	NR == 1 {
		if (index($0, "usage: " name " ") != 1) {
			print "first line does not start \"usage: " name " \"";
			exit 1
		}
		form = substr($0, 8); next
	}
	{
		line = $0; sub(/^[ \t]+/, "", line)
		if ($0 ~ /^[ \t]/ && index(line, name " ") == 1) {
			gsub(/[ \t]+/, " ", form); sub(/ $/, "", form)
			print form; form = line
		} else
			form = form " " line
	}
	END {
		if (form == "")
			exit
		gsub(/[ \t]+/, " ", form); sub(/^ /, "", form); sub(/ $/, "", form)
		print form
	}' "$1"
}

usage_layout() {
	awk -v name="$2" '
	/\t/ { printf "line %d: a tab\n", NR }
	NR == 1 { next }
	{
		match($0, /^ */); n = RLENGTH
		rest = substr($0, n + 1)
		if (index(rest, name " ") == 1) {
			if (n != 7)
				printf "line %d: a form indented %d, not 7\n", NR, n
		} else if (n != 8 + length(name))
			printf "line %d: continuation indented %d, not %d\n",
			    NR, n, 8 + length(name)
	}' "$1"
}

# unused_flag USAGEFILE: a letter that is no option of the program.
unused_flag() {
	local c used
	used=$(grep -o -- '-[A-Za-z0-9]\+' "$1" | tr -d '\n-')
	for c in Z Y z y J j X U u; do
		case $used in *"$c"*) ;; *) echo "$c"; return 0 ;; esac
	done
	return 1
}

# report: fail with the collected problems, or skip when nothing was checked.
report() {
	if [ -n "$bad" ]; then
		printf '%s' "$bad" >&2
		return 1
	fi
	[ "$n" -gt 0 ] || skip "no man1/man8 page has a built program yet"
}

@test "docs: -h prints exactly the SYNOPSIS of the page, laid out as usage" {
	local page prog out rc bad='' n=0
	while read -r page prog; do
		n=$((n + 1))
		out=$BATS_TEST_TMPDIR/$prog
		rc=0
		"$BUILD/bin/$prog" -h >"$out.h" 2>"$out.2" || rc=$?
		usage_block <"$out.h" >"$out.1"
		[ $rc -eq 0 ] || bad+="$prog -h: exit $rc, want 0"$'\n'
		[ -s "$out.2" ] && bad+="$prog -h: wrote on stderr: $(cat "$out.2")"$'\n'
		synopsis_forms "$page" >"$out.syn"
		if ! usage_forms "$out.1" "$prog" >"$out.use"; then
			bad+="$prog -h: $(cat "$out.use")"$'\n'
		elif ! diff -u "$out.syn" "$out.use" >"$out.diff"; then
			bad+="$prog -h differs from the SYNOPSIS of ${page#"$TOP"/} (- page, + usage):"$'\n'
			bad+=$(tail -n +3 "$out.diff")$'\n'
		fi
		usage_layout "$out.1" "$prog" >"$out.lay"
		[ -s "$out.lay" ] && bad+="$prog -h layout: $(cat "$out.lay")"$'\n'
	done < <(built_pages)
	report
}

@test "docs: -V prints PROGRAM scitex-ssh VERSION" {
	local page prog got rc bad='' n=0
	while read -r page prog; do
		n=$((n + 1))
		rc=0
		got=$("$BUILD/bin/$prog" -V 2>&1) || rc=$?
		[ $rc -eq 0 ] || bad+="$prog -V: exit $rc, want 0"$'\n'
		[ "$got" = "$prog scitex-ssh $VERSION" ] ||
		    bad+="$prog -V: \"$got\", want \"$prog scitex-ssh $VERSION\""$'\n'
	done < <(built_pages)
	report
}

@test "docs: -h and -V into a full disk exit 71, as every output does" {
	local page prog rc bad='' n=0
	while read -r page prog; do
		n=$((n + 1))
		for f in -h -V; do
			rc=0
			"$BUILD/bin/$prog" "$f" >/dev/full 2>/dev/null || rc=$?
			[ $rc -eq 71 ] || bad+="$prog $f >/dev/full: exit $rc, want 71"$'\n'
		done
	done < <(built_pages)
	report
}

@test "docs: an unknown option exits 64 with the usage on stderr" {
	local page prog out c rc bad='' n=0
	while read -r page prog; do
		n=$((n + 1))
		out=$BATS_TEST_TMPDIR/$prog
		"$BUILD/bin/$prog" -h 2>/dev/null | usage_block >"$out.h" || :
		c=$(unused_flag "$out.h") || { bad+="$prog: no unused letter"$'\n'; continue; }
		rc=0
		"$BUILD/bin/$prog" "-$c" >"$out.1" 2>"$out.2" </dev/null || rc=$?
		[ $rc -eq 64 ] || bad+="$prog -$c: exit $rc, want 64"$'\n'
		[ -s "$out.1" ] && bad+="$prog -$c: wrote on stdout"$'\n'
		tail -n "$(wc -l <"$out.h")" "$out.2" | cmp -s - "$out.h" ||
		    bad+="$prog -$c: stderr does not end with the usage: $(cat "$out.2")"$'\n'
	done < <(built_pages)
	report
}

@test "docs: every page is clean under mandoc -Tlint -W warning" {
	local page out bad='' n=0
	while read -r page; do
		n=$((n + 1))
		out=$(mandoc -T lint -W warning "$page" 2>&1) ||
		    bad+="${page#"$TOP"/}: $out"$'\n'
		[ -z "$out" ] || bad+="${page#"$TOP"/}: $out"$'\n'
	done < <(pages 1 5 7 8)
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -gt 0 ]
}

@test "docs: every page names itself, and man1/man8 pages have EXIT STATUS, EXAMPLES and CAVEATS" {
	local page base sec name bad='' n=0
	while read -r page; do
		n=$((n + 1))
		base=${page##*/}
		sec=${base##*.}
		name=${base%.*}
		grep -qix "\.Dt $name $sec" "$page" ||
		    bad+="${page#"$TOP"/}: .Dt is not \"${name^^} $sec\""$'\n'
		awk '/^\.Sh NAME/ { getline; print; exit }' "$page" |
		    grep -qx "\.Nm $name" ||
		    bad+="${page#"$TOP"/}: NAME does not start with .Nm $name"$'\n'
		case $sec in
		1 | 8)
			grep -qx '\.Sh EXIT STATUS' "$page" ||
			    bad+="${page#"$TOP"/}: no EXIT STATUS section"$'\n'
			grep -qx '\.Sh EXAMPLES' "$page" ||
			    bad+="${page#"$TOP"/}: no EXAMPLES section"$'\n'
			grep -qx '\.Sh CAVEATS' "$page" ||
			    bad+="${page#"$TOP"/}: no CAVEATS section"$'\n'
			;;
		esac
		grep -qx '\.Sh SEE ALSO' "$page" ||
		    bad+="${page#"$TOP"/}: no SEE ALSO section"$'\n'
	done < <(pages 1 5 7 8)
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -gt 0 ]
}

@test "docs: every built program has a page and completions" {
	local b p missing=''
	for b in "$BUILD"/bin/*; do
		[ -x "$b" ] || continue
		p=${b##*/}
		[ -e "$TOP/man/man1/$p.1" ] || [ -e "$TOP/man/man8/$p.8" ] ||
		    missing+=" $p(page)"
		[ -e "$TOP/completions/bash/$p" ] || missing+=" $p(bash)"
		[ -e "$TOP/completions/zsh/_$p" ] || missing+=" $p(zsh)"
	done
	# Programs land before their pages on some branches: say so, do not fail.
	[ -z "$missing" ] || skip "not yet documented:$missing"
}

@test "docs: every bash completion loads and registers its program" {
	local f p out bad='' n=0
	for f in "$TOP"/completions/bash/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		p=${f##*/}
		out=$(bash --norc --noprofile -c '
			. /usr/share/bash-completion/bash_completion
			. "$1" && complete -p "$2" >/dev/null' _ "$f" "$p" 2>&1) ||
		    bad+="completions/bash/$p: does not load or register $p: $out"$'\n'
		[ -z "$out" ] || bad+="completions/bash/$p: $out"$'\n'
		# Also without bash-completion installed.
		out=$(bash --norc --noprofile -c '
			. "$1" && complete -p "$2" >/dev/null' _ "$f" "$p" 2>&1) ||
		    bad+="completions/bash/$p: alone, does not load: $out"$'\n'
	done
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -gt 0 ] || skip "no bash completions yet"
}

@test "docs: every zsh completion autoloads and compdefs" {
	local f p bad='' n=0
	for f in "$TOP"/completions/zsh/_*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		p=${f##*/_}
		complete_zsh_loads "$p" 2>"$BATS_TEST_TMPDIR/err" ||
		    bad+=$(cat "$BATS_TEST_TMPDIR/err")$'\n'
	done
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -gt 0 ] || skip "no zsh completions yet"
}

# directives FILE: the lines of an ssh_config snippet that are not comments,
# trimmed and squeezed, joined by "|".
directives() {
	grep -v '^[[:blank:]]*\(#\|$\)' "$1" | squeeze | paste -sd '|'
}

# doc_lines FILE: a README or a rendered page as trimmed, squeezed lines,
# joined by "|", to find a snippet in.
doc_lines() {
	case $1 in
	*.md) cat "$1" ;;
	*) LC_ALL=C mandoc -T ascii -O width=1000 "$1" | sed 's/.\x08//g' ;;
	esac | squeeze | grep -v '^$' | paste -sd '|'
}

@test "docs: the snippets quoted in README and the pages are the shipped ones" {
	local f doc want bad='' n=0
	for f in "$TOP"/ssh_config.d/*.conf; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		want=$(directives "$f")
		for doc in "$TOP/README.md" "$TOP/man/man1/ssh-allow-check.1" \
		    "$TOP/man/man7/scitex-ssh.7"; do
			[ -e "$doc" ] || continue
			case "|$(doc_lines "$doc")|" in
			*"|$want|"*) ;;
			*) bad+="${doc#"$TOP"/} does not quote ${f#"$TOP"/}: $want"$'\n' ;;
			esac
		done
	done
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -gt 0 ] || skip "no snippets yet"
}

# yaml_examples PAGE DIR: each literal block of the EXAMPLES of PAGE that
# begins (after comments) with a key at the left margin, into DIR/1.yaml,
# DIR/2.yaml, ...
yaml_examples() {
	awk -v dir="$2" '
	/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
	ex && /^\.Bd -literal/ { inb = 1; n++; first = 1; head = ""; next }
	inb && /^\.Ed/ { inb = 0; close(f); next }
	inb {
		if (first && /^#/) { head = head $0 "\n"; next }
		if (first && $0 !~ /^[a-z_]+:/) { inb = 0; next }
		gsub(/\\e/, "\\")
		f = dir "/" n ".yaml"
		if (first)
			printf "%s", head > f
		first = 0
		print > f
	}' "$1"
}

@test "docs: the YAML examples of scitex-ssh.yaml.5 and README are valid" {
	local f page=$TOP/man/man5/scitex-ssh.yaml.5 bad='' n=0 out rc top
	# ssh-tunnel-ls lists a tunnel whose definition is bad, with the
	# error on stderr: any word there is a failure.
	mkdir -p "$BATS_TEST_TMPDIR/ex"
	yaml_examples "$page" "$BATS_TEST_TMPDIR/ex"
	# README's is a here-document naming this host, as the shell writes it.
	awk '/^    default:/ { on = 1 } on && /^([^ ]|    EOF$)/ { exit } on' \
	    "$TOP/README.md" | sed -e 's/^    //' -e "s/\$(hostname)/$(hostname)/" \
	    >"$BATS_TEST_TMPDIR/ex/readme.yaml"
	for f in "$BATS_TEST_TMPDIR"/ex/*.yaml; do
		[ -s "$f" ] || continue
		n=$((n + 1))
		top=$(grep -m1 -v '^#' "$f")
		case $top in
		default:* | hosts:* | tunnels:* | copy:*)
			# copy: roots must exist: move them under the test's dir
			local roots=$BATS_TEST_TMPDIR/roots d
			sed -i "s|path: /|path: $roots/|" "$f"
			for d in $(sed -n "s|.*path: \($roots/[^,}]*\).*|\1|p" "$f"); do
				mkdir -p "$d"
			done
			rc=0
			out=$(ssh-allow-check -n -F "$f" 2>&1) || rc=$?
			[ $rc -eq 0 ] || bad+="ssh-allow-check -n: $out"$'\n'
			if [ -x "$BUILD/bin/ssh-tunnel-ls" ]; then
				rc=0
				out=$(ssh-tunnel-ls -F "$f" 2>&1 >/dev/null) || rc=$?
				[ $rc -ne 78 ] && [ -z "$out" ] ||
				    bad+="ssh-tunnel-ls: $out"$'\n'
			fi
			;;
		*)	# a tunnels.d drop-in
			[ -x "$BUILD/bin/ssh-tunnel-ls" ] || continue
			mkdir -p "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d"
			cp "$f" "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/edge1.yaml"
			rc=0
			echo 'default: {ssh: allow}' >"$BATS_TEST_TMPDIR/min.yaml"
			out=$(ssh-tunnel-ls -F "$BATS_TEST_TMPDIR/min.yaml" edge1 \
			    2>&1 >/dev/null) || rc=$?
			[ $rc -ne 78 ] && [ -z "$out" ] ||
			    bad+="ssh-tunnel-ls (drop-in): $out"$'\n'
			rm "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/edge1.yaml"
			;;
		esac
	done
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
	[ "$n" -ge 5 ]
}

@test "docs: what the pages say of the first policy example holds" {
	mkdir -p "$BATS_TEST_TMPDIR/ex"
	yaml_examples "$TOP/man/man5/scitex-ssh.yaml.5" "$BATS_TEST_TMPDIR/ex"
	cp "$BATS_TEST_TMPDIR/ex/1.yaml" "$CONF"
	# ssh-allow-check.1, EXAMPLES
	run ssh-allow-check -x Node7.HPC.example.edu
	[ "$status" -eq 0 ]
	[ "$output" = "node7.hpc.example.edu: ssh: $CONF:6:30: hosts: \"*.hpc.example.edu\": ssh: allow" ]
	run ssh-allow-check -f tunnels labbox
	[ "$status" -eq 0 ]
	# scitex-ssh.yaml.5, EXAMPLES: the third entry decides www.example.org
	# and, since labbox's entry does not name ssh, labbox too.
	run ssh-allow-check -x www.example.org
	[ "$status" -eq 1 ]
	[[ $output == *':7:'*'"!*.example.edu,*": ssh: deny' ]]
	run ssh-allow-check -x labbox
	[ "$status" -eq 1 ]
	[[ $output == *':7:'*'"!*.example.edu,*": ssh: deny' ]]
	run ssh-allow-check -f tunnels node7.hpc.example.edu
	[ "$status" -eq 1 ]
}

@test "docs: make install puts things where the docs say, and the README's Include works" {
	local dest=$BATS_TEST_TMPDIR/dest f s inc
	make -s -C "$TOP" O="$O" SANITIZE="${SANITIZE:-}" DESTDIR="$dest" \
	    install >/dev/null
	for f in "$TOP"/man/man*/*.[1-8]; do
		s=${f##*.}
		[ -f "$dest/usr/local/share/man/man$s/${f##*/}" ]
	done
	for f in "$TOP"/completions/bash/*; do
		[ -f "$dest/usr/local/share/bash-completion/completions/${f##*/}" ]
	done
	for f in "$TOP"/completions/zsh/_*; do
		[ -f "$dest/usr/local/share/zsh/site-functions/${f##*/}" ]
	done
	# The Include line of the README, first in ~/.ssh/config, as told.
	inc=$(grep -m1 '^    Include /usr/local/share/scitex-ssh/ssh_config.d/' \
	    "$TOP/README.md" | sed 's/^ *//')
	[ -n "$inc" ]
	{
		echo "${inc/\/usr\/local/$dest/usr/local}"
		printf 'Host *\n\tProxyCommand nc %%h %%p\n'
	} >"$HOME/.ssh/config"
	# ssh reads the passwd entry's home, not $HOME: name the file.
	printf 'default: {ssh: allow}\nhosts: {blocked: {ssh: deny}}\n' >"$CONF"
	run ssh -F "$HOME/.ssh/config" -G blocked </dev/null
	[ "$status" -eq 0 ]
	grep -qx 'proxycommand ssh-allow-check -d -- %n' <<<"$output"
	run ssh -F "$HOME/.ssh/config" -G other </dev/null
	grep -qx 'proxycommand nc %h %p' <<<"$output"
	grep -qx 'batchmode no' <<<"$output"
	SCITEX_SSH_BATCH=1 run ssh -F "$HOME/.ssh/config" -G other </dev/null
	grep -qx 'batchmode yes' <<<"$output"
	grep -qx 'clearallforwardings yes' <<<"$output"
}

@test "docs: references to the project's own pages, and README links, resolve" {
	local f name sec link bad=''
	while read -r f name sec; do
		[ -e "$TOP/man/man$sec/$name.$sec" ] ||
		    bad+="${f#"$TOP"/}: .Xr $name $sec: no such page"$'\n'
	done < <(awk '$1 == ".Xr" && $2 ~ /^(ssh-tunnel-|ssh-allow-check|ssh-copy-guard|scitex-ssh)/ {
		print FILENAME, $2, $3 + 0 }' "$TOP"/man/man*/*.[1-8])
	while read -r link; do
		[ -e "$TOP/$link" ] || bad+="README.md: no $link"$'\n'
	done < <(grep -o '](\([^)#:]*\))' "$TOP/README.md" | sed 's/^](//; s/)$//')
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
}
