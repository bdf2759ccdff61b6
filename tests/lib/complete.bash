# SPDX-License-Identifier: AGPL-3.0-only
# Drive the shell completions the way a shell would, for the bats suites.
#
#   complete_bash PROGRAM "WORDS"  print, one per line, what bash offers
#                                  after "PROGRAM WORDS" is typed and TAB
#                                  pressed: WORDS ending in a space asks
#                                  for a new word, otherwise the last word
#                                  is completed. No quoting inside WORDS.
#   complete_zsh PROGRAM "WORDS"   the same for zsh: every match the
#                                  completion system offers (each group
#                                  once, in the order offered; empty
#                                  matches dropped), typed into a real
#                                  interactive zsh on a pseudo-terminal.
#   complete_zsh_loads PROGRAM     zsh autoloads completions/zsh/_PROGRAM,
#                                  compinit registers it for PROGRAM, and
#                                  compdef takes it, all without a word on
#                                  stderr.
#
# Both run in a child shell with no startup files, so nothing leaks into
# the test; they see the test's HOME (and so its ~/.ssh). bash-completion
# is sourced when installed ($BASH_COMPLETION overrides the path), so
# helpers such as _known_hosts_real behave as in a user's shell.

: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

complete_bash() {
	local prog=$1
	shift
	bash --norc --noprofile -c '
		top=$1 prog=$2 line="$2 $3"
		bc=${BASH_COMPLETION:-/usr/share/bash-completion/bash_completion}
		[ -r "$bc" ] && . "$bc"
		. "$top/completions/bash/$prog" || exit 1

		# Split the line as readline does for COMP_WORDS: blanks separate
		# words, and a run of the other COMP_WORDBREAKS characters (such
		# as ":" or "=") is a word of its own.
		COMP_WORDS=() w= kind=
		for ((i = 0; i < ${#line}; i++)); do
			c=${line:i:1}
			if [[ $c == [[:blank:]] ]]; then
				[ -n "$w" ] && COMP_WORDS+=("$w")
				w= kind=
				continue
			fi
			k=w
			[[ $COMP_WORDBREAKS == *"$c"* ]] && k=b
			if [ -n "$w" ] && [ "$k" != "$kind" ]; then
				COMP_WORDS+=("$w")
				w=
			fi
			w+=$c kind=$k
		done
		COMP_WORDS+=("$w")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line COMP_POINT=${#line} COMP_TYPE=9 COMP_KEY=9

		spec=$(complete -p "$prog") || exit 1
		[[ $spec =~ -F\ ([^ ]+) ]] || { echo "no -F in: $spec" >&2; exit 1; }
		COMPREPLY=()
		"${BASH_REMATCH[1]}" "$prog" "${COMP_WORDS[COMP_CWORD]}" \
		    "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' complete_bash "$TOP" "$prog" "$*"
}

# The zsh side: a real interactive zsh on a pseudo-terminal (zsh/zpty)
# sources setup.zsh, which wraps compadd so that every call adding matches
# also appends them to a file (calls that only gather, -O/-A/-D, pass
# through), and binds TAB to a widget that completes and then leaves a
# mark: the next keys are sent only once completion is over, since zsh
# gives up on completing when keys are already waiting.
complete_zsh() {
	local prog=$1 tmp rc
	shift
	tmp=$(mktemp -d) || return 1
	cat >"$tmp/setup.zsh" <<'EOZ'
PS1='% '
unsetopt AUTO_LIST AUTO_MENU BEEP
fpath=("$SX_DIR" $fpath)
autoload -Uz compinit && compinit -u -D
compadd() {
	local -a h
	if (( ${@[(I)-[OAD]*]} )); then
		builtin compadd "$@"
		return
	fi
	builtin compadd -A h "$@"
	print -rl -- $h >>$SX_OUT/matches
	builtin compadd "$@"
}
zle -C sx-complete complete-word _main_complete
sx-tab() { zle sx-complete; : >$SX_OUT/done; }
zle -N sx-tab
bindkey '^I' sx-tab
EOZ
	cat >"$tmp/drive.zsh" <<'EOZ'
zmodload zsh/zpty || exit 1
zpty z TERM=xterm zsh -f -i || exit 1
zpty -w z ". ${(q)SX_OUT}/setup.zsh"
zpty -w -n z "$1"$'\t'
for i in {1..200}; do
	[[ -e $SX_OUT/done ]] && break
	zpty -r -t z line 2>/dev/null || sleep 0.05
done
zpty -w -n z $'\C-u'
zpty -w z exit
while zpty -r -t z line 2>/dev/null || sleep 0.05; do
	zpty -t z || break
done
zpty -d z
[[ -e $SX_OUT/done ]] || { print -u2 "complete_zsh: no completion ran"; exit 1; }
EOZ
	SX_DIR=$TOP/completions/zsh SX_OUT=$tmp zsh -f "$tmp/drive.zsh" "$prog $*"
	rc=$?
	[ -f "$tmp/matches" ] && awk 'length && !seen[$0]++' "$tmp/matches"
	rm -rf "$tmp"
	return "$rc"
}

complete_zsh_loads() {
	local prog=$1 err
	[ -r "$TOP/completions/zsh/_$prog" ] || {
		echo "complete_zsh_loads: no completions/zsh/_$prog" >&2
		return 1
	}
	err=$(zsh -f -c '
		dir=$1 prog=$2
		zsh -n "$dir/_$prog" || exit 1
		fpath=("$dir" $fpath)
		autoload -Uz compinit && compinit -u -D || exit 1
		[[ $_comps[$prog] == _$prog ]] ||
		    { print -u2 "compinit did not register _$prog for $prog"; exit 1; }
		autoload +X -Uz _$prog || exit 1
		compdef _$prog $prog || exit 1
		(( $+functions[_$prog] )) ||
		    { print -u2 "_$prog is not a function"; exit 1; }
	' complete_zsh_loads "$TOP/completions/zsh" "$prog" 2>&1)
	local rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$err" ]; then
		printf 'complete_zsh_loads %s: exit %d\n%s\n' "$prog" "$rc" "$err" >&2
		return 1
	fi
}
