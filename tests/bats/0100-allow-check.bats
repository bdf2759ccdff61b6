#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-allow-check as a program: decisions, exit codes, messages, hostile
# host operands, config errors, -d, -n, -x.

load ../lib/common

setup() {
	common_setup
	write_config <<'EOF2'
default:
  ssh: allow
  tunnels: deny
hosts:
  labbox:   {tunnels: allow}
  "*.hpc.example.edu": {ssh: allow, tunnels: deny}
  "!*.example.edu,*":  {ssh: deny}
EOF2
}

@test "allowed host: exit 0, nothing on stdout or stderr" {
	run --separate-stderr ssh-allow-check n1.hpc.example.edu
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "denied host: exit 1, silent" {
	run --separate-stderr ssh-allow-check labbox
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "-f picks the feature; first entry naming it decides" {
	run ssh-allow-check -f tunnels labbox
	[ "$status" -eq 0 ]
	run ssh-allow-check -f tunnels n1.hpc.example.edu
	[ "$status" -eq 1 ]
	run ssh-allow-check -f copy labbox
	[ "$status" -eq 1 ]
}

@test "case and one trailing dot do not matter" {
	run ssh-allow-check -f tunnels LABBOX.
	[ "$status" -eq 0 ]
	run ssh-allow-check N1.HPC.Example.EDU
	[ "$status" -eq 0 ]
}

@test "-x explains on stdout which rule decided" {
	run ssh-allow-check -x -f tunnels labbox
	[ "$status" -eq 0 ]
	[ "$output" = "labbox: tunnels: $CONF:5:23: hosts: \"labbox\": tunnels: allow" ]
	run ssh-allow-check -x www.example.edu
	[ "$status" -eq 0 ]
	[[ $output == *":2:8: default: ssh: allow"* ]]
}

@test "-v explains on stderr, SCITEX_SSH_DEBUG_MODE=1 too; -q wins" {
	run --separate-stderr ssh-allow-check -v labbox
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *'hosts: "!*.example.edu,*": ssh: deny'* ]]
	SCITEX_SSH_DEBUG_MODE=1 run --separate-stderr ssh-allow-check labbox
	[[ $stderr == *'ssh: deny'* ]]
	SCITEX_SSH_DEBUG_MODE=1 run --separate-stderr ssh-allow-check -q labbox
	[ -z "$stderr" ]
}

@test "hostile host operands are refused with a message, never matched" {
	# a policy that would allow anything at all
	printf 'default: {ssh: allow}\nhosts: {"*": {ssh: allow}}\n' >"$CONF"
	local h
	for h in 'a;id' '$(id)' '`id`' '-oProxyCommand=x' 'a b' \
	    $'a\nb' 'user@host' '' 'a/b' 'a,b' "a'b" 'a"b' 'a|b' '..' \
	    '127.1' '2130706433' '0x7f.1' '127.0.0.01' $'h\xc3\xa9' \
	    "$(printf 'a%.0s' $(seq 1 10000))"; do
		run --separate-stderr ssh-allow-check -- "$h"
		[ "$status" -eq 65 ] || { echo "accepted: $h"; false; }
		[ -z "$output" ]
		[[ $stderr == "ssh-allow-check: "*"not a valid host"* ]]
		[ "$(printf '%s' "$stderr" | wc -l)" -eq 0 ]
	done
}

@test "addresses are compared in one canonical form" {
	printf 'hosts:\n  127.0.0.1: {ssh: allow}\n  "fe80::1": {ssh: allow}\n' >"$CONF"
	run ssh-allow-check 127.0.0.1
	[ "$status" -eq 0 ]
	run ssh-allow-check ::ffff:127.0.0.1
	[ "$status" -eq 0 ]
	run ssh-allow-check FE80:0::0:1
	[ "$status" -eq 0 ]
	run ssh-allow-check 127.1
	[ "$status" -eq 65 ]
}

@test "no config file: deny, and -v lists where it looked" {
	rm -f "$CONF"
	run --separate-stderr ssh-allow-check -v anything
	[ "$status" -eq 1 ]
	[[ $stderr == *"no config file"*"$CONF"*"/.scitex/ssh/config.yaml"* ]]
}

@test "scitex-ssh 1.0's file at ~/.scitex/ssh/config.yaml works as is" {
	rm -f "$CONF"
	mkdir -p "$HOME/.scitex/ssh"
	printf 'default: {tunnels: deny}\nhosts: {mba: {tunnels: allow}}\n' \
	    >"$HOME/.scitex/ssh/config.yaml"
	run ssh-allow-check -f tunnels mba
	[ "$status" -eq 0 ]
	run ssh-allow-check -f tunnels labbox
	[ "$status" -eq 1 ]
}

@test "-F and SCITEX_SSH_CONFIG name the file; -F wins" {
	printf 'default: {ssh: deny}\n' >"$BATS_TEST_TMPDIR/deny.yaml"
	printf 'default: {ssh: allow}\n' >"$BATS_TEST_TMPDIR/allow.yaml"
	SCITEX_SSH_CONFIG="$BATS_TEST_TMPDIR/allow.yaml" run ssh-allow-check x
	[ "$status" -eq 0 ]
	SCITEX_SSH_CONFIG="$BATS_TEST_TMPDIR/allow.yaml" run ssh-allow-check \
	    -F "$BATS_TEST_TMPDIR/deny.yaml" x
	[ "$status" -eq 1 ]
	run --separate-stderr ssh-allow-check -F "$BATS_TEST_TMPDIR/none.yaml" x
	[ "$status" -eq 78 ]
	[[ $stderr == *"none.yaml: No such file"* ]]
}

@test "a config that does not parse: 78 with file:line:column, never a decision" {
	printf 'default: {ssh: allow}\nhosts:\n  a: [\n' >"$CONF"
	run --separate-stderr ssh-allow-check a
	[ "$status" -eq 78 ]
	[[ $stderr == "ssh-allow-check: $CONF:4:1: not valid YAML"* ]]
	printf 'default: {ssh: allow}\nhosts:\n  a: {ssh: alow}\n' >"$CONF"
	run --separate-stderr ssh-allow-check b
	[ "$status" -eq 78 ]
	[ "$stderr" = "ssh-allow-check: $CONF:3:12: ssh: expected allow or deny" ]
	printf 'defaults: {ssh: allow}\n' >"$CONF"
	run --separate-stderr ssh-allow-check b
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:1:1: unknown key \"defaults\""* ]]
}

@test "-n validates: 0 silent, 78 with the place" {
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 0 ]
	[ -z "$output$stderr" ]
	printf 'hosts:\n  "a,,b": {ssh: allow}\n' >"$CONF"
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:2:3: empty element"* ]]
	rm -f "$CONF"
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"no config file"* ]]
}

@test "-n checks tunnels: and copy: as their programs would" {
	cat >"$CONF" <<EOF2
default: {ssh: allow}
tunnels:
  labbox:
    bastion: u@gw.example.org
    forwards: [R 2222:localhost:22]
copy:
  roots:
    - {path: $BATS_TEST_TMPDIR, mode: rw}
EOF2
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 0 ]
	printf 'tunnels:\n  labbox:\n    bastion: u@gw\n    forwards: [R 99999:localhost:22]\n' >"$CONF"
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:4:16: "*"99999: not a valid port"* ]]
	printf 'tunnels:\n  labbox:\n    forwards: [R 2222:localhost:22]\n' >"$CONF"
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:3:5: tunnel labbox: no bastion"* ]]
	printf 'copy:\n  roots:\n    - {path: /tmp, mode: rx}\n' >"$CONF"
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:3:26: mode is ro or rw"* ]]
	# the policy itself does not depend on those sections
	run ssh-allow-check anything
	[ "$status" -eq 1 ]
}

@test "-d always refuses with the reason, exit 77" {
	run --separate-stderr ssh-allow-check -d labbox
	[ "$status" -eq 77 ]
	[[ $stderr == *'labbox: ssh denied by '*'hosts: "!*.example.edu,*": ssh: deny' ]]
	# reached although the policy allows: it never re-decides
	run --separate-stderr ssh-allow-check -d www.example.edu
	[ "$status" -eq 77 ]
	[[ $stderr == *"refusing"* ]]
	run --separate-stderr ssh-allow-check -d -- '-oProxyCommand=x'
	[ "$status" -eq 77 ]
	[[ $stderr == *"not a valid host"* ]]
	printf 'hosts: [\n' >"$CONF"
	run --separate-stderr ssh-allow-check -d labbox
	[ "$status" -eq 77 ]
	[[ $stderr == *"not valid YAML"*"refusing"* ]]
}

@test "usage errors: 64; -h and -V: 0" {
	run ssh-allow-check
	[ "$status" -eq 64 ]
	run ssh-allow-check a b
	[ "$status" -eq 64 ]
	run ssh-allow-check -n a
	[ "$status" -eq 64 ]
	run ssh-allow-check -P a
	[ "$status" -eq 64 ]
	run ssh-allow-check -d -W a:22
	[ "$status" -eq 64 ]
	run ssh-allow-check -Z
	[ "$status" -eq 64 ]
	run ssh-allow-check -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: ssh-allow-check [-qvx] [-F config] [-f feature] [--] host" ]]
	run ssh-allow-check -V
	[ "$output" = "ssh-allow-check scitex-ssh 2.0.0" ]
	run --separate-stderr ssh-allow-check -f 'a;b' x
	[ "$status" -eq 65 ]
}

@test "-W refuses hostile or denied targets before connecting" {
	run --separate-stderr ssh-allow-check -W 'a;id:22'
	[ "$status" -eq 65 ]
	run --separate-stderr ssh-allow-check -W 'labbox:0'
	[ "$status" -eq 65 ]
	run --separate-stderr ssh-allow-check -W 'labbox'
	[ "$status" -eq 65 ]
	run --separate-stderr ssh-allow-check -W 'labbox:22'
	[ "$status" -eq 77 ]
	[[ $stderr == *"labbox: ssh denied by"* ]]
}

@test "a closed stdout or full disk is an error for -x" {
	run bash -c 'ssh-allow-check -x -f tunnels labbox >/dev/full'
	[ "$status" -eq 71 ]
}
