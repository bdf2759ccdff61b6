#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# A rule that silently never applies is a hole: a mis-spelt or mis-cased
# feature name, or a host pattern no valid host can match, is a config
# error (78, file:line:col, "did you mean"), for the check, for -n, and
# through the snippet (which then refuses). Patterns are compared in the
# canonical form of hosts. The compiled copy hides none of it.

bats_require_minimum_version 1.5.0
load ../lib/common

setup() {
	common_setup
}

# bad TEXT WANT: the file TEXT is refused with WANT, by the check and by -n.
bad() {
	printf '%s' "$1" >"$CONF"
	run --separate-stderr ssh-allow-check labbox
	echo "$stderr"
	[ "$status" -eq 78 ]
	[[ $stderr == "ssh-allow-check: $CONF:"*"$2"* ]]
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == "ssh-allow-check: $CONF:"*"$2"* ]]
	run --separate-stderr ssh-allow-check -d labbox
	[ "$status" -eq 77 ]
}

@test "unknown and mis-cased feature names: 78 with a did you mean" {
	bad $'default: {ssh: allow}\nhosts:\n  labbox: {tunels: allow}\n' \
	    '3:12: unknown feature "tunels": did you mean "tunnels"?'
	bad $'hosts:\n  "*": {SSH: deny}\n' \
	    '2:9: unknown feature "SSH": did you mean "ssh"?'
	bad $'default: {Copy: deny}\n' 'did you mean "copy"?'
	bad $'default: {exce: deny}\n' 'did you mean "exec"?'
	bad $'default: {jupyter: deny}\n' \
	    'unknown feature "jupyter": known are ssh, tunnels, copy, exec'
}

@test "a site declares its own features in features:" {
	printf 'features: [jupyter, x11]\ndefault: {jupyter: deny}\nhosts:\n  labbox: {jupyter: allow}\n' >"$CONF"
	run ssh-allow-check -n
	[ "$status" -eq 0 ]
	run ssh-allow-check -f jupyter labbox
	[ "$status" -eq 0 ]
	run ssh-allow-check -f jupyter other
	[ "$status" -eq 1 ]
	bad $'features: [jupyter]\nhosts:\n  labbox: {jupiter: allow}\n' \
	    'did you mean "jupyter"?'
	bad $'features: [Jupyter]\n' 'features: "Jupyter" is not a valid feature name'
}

@test "scitex-ssh 1.0's file is valid as is" {
	printf 'default: {tunnels: deny}\nhosts: {mba: {tunnels: allow}}\n' >"$CONF"
	run ssh-allow-check -n
	[ "$status" -eq 0 ]
	run ssh-allow-check -f tunnels mba
	[ "$status" -eq 0 ]
}

@test "patterns are canonicalised as hosts: a trailing dot, IPv6 spellings, mapped IPv4" {
	cat >"$CONF" <<'EOC'
default: {ssh: allow}
hosts:
  "evil.test.": {ssh: deny}
  "0:0:0:0:0:0:0:1": {ssh: deny}
  "::FFFF:10.1.2.3": {ssh: deny}
  "*.Bad.Example.": {ssh: deny}
EOC
	run ssh-allow-check -n
	[ "$status" -eq 0 ]
	for h in evil.test evil.test. EVIL.TEST ::1 0::1 10.1.2.3 \
	    ::ffff:10.1.2.3 a.bad.example a.bad.example.; do
		run ssh-allow-check "$h"
		echo "$h: $status"
		[ "$status" -eq 1 ]
	done
	run ssh-allow-check good.example
	[ "$status" -eq 0 ]
	# -x names the pattern as written
	run ssh-allow-check -x 0::1
	[[ $output == *'hosts: "0:0:0:0:0:0:0:1": ssh: deny'* ]]
}

@test "a pattern that can never match: 78 with the place" {
	bad $'hosts:\n  "127.1": {ssh: deny}\n' \
	    '2:3: pattern "127.1" can never match: 127.1: not a valid host'
	bad $'hosts:\n  "a,2130706433": {ssh: deny}\n' 'can never match'
	bad $'hosts:\n  "a..b": {ssh: deny}\n' 'can never match'
	bad $'hosts:\n  "*..example.org": {ssh: deny}\n' 'empty label'
	bad $'hosts:\n  "0.0.0.0": {ssh: deny}\n' 'unspecified address'
	bad $'hosts:\n  "!-x,*": {ssh: deny}\n' 'can never match'
	bad $'hosts:\n  "a b": {ssh: deny}\n' 'not allowed in host pattern'
}

@test "the compiled copy hides none of it" {
	printf 'default: {ssh: allow}\nhosts:\n  "evil.test.": {ssh: deny}\n' >"$CONF"
	sleep 2.2 # the compiled copy is kept only for a file older than 2 s
	run ssh-allow-check evil.test
	[ "$status" -eq 1 ]
	run ssh-allow-check evil.test
	[ "$status" -eq 1 ]
	ls "$HOME/.cache/scitex-ssh/"pol2-*
	# An edit to a bad name is seen at once, never the compiled copy.
	printf 'default: {ssh: allow}\nhosts:\n  "evil.test.": {tunels: deny}\n' >"$CONF"
	sleep 2.2 # the compiled copy is kept only for a file older than 2 s
	run --separate-stderr ssh-allow-check evil.test
	[ "$status" -eq 78 ]
	[[ $stderr == *"did you mean"* ]]
	run --separate-stderr ssh-allow-check evil.test
	[ "$status" -eq 78 ]
	# A compiled copy of an older format is never read.
	[ -z "$(ls "$HOME/.cache/scitex-ssh/" | grep -v '^pol2-')" ]
}
