#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The template units, checked offline by systemd's own tools (no running
# systemd is needed): systemd-analyze verify, and the exposure score of
# systemd-analyze security beside the unit of scitex-ssh 1.0.

load ../lib/common
load ../lib/sshd

# systemd-analyze verify loads units as the manager does and leaves the
# manager's stamp /run/systemd/systemd-units-load; where there was none
# before (a machine without a running systemd), it is taken away again.
STAMP=/run/systemd/systemd-units-load

setup_file() {
	[ -e "$STAMP" ] || : >"$BATS_FILE_TMPDIR/.stamp-ours"
}

teardown_file() {
	[ ! -e "$BATS_FILE_TMPDIR/.stamp-ours" ] || rm -f "$STAMP"
}

setup() {
	common_setup
	UNITS=$BATS_TEST_TMPDIR/units
	mkdir -p "$UNITS"
}

teardown() {
	sshd_stop_all
}

# instance KIND NAME: the shipped template as the instance NAME, naming a
# supervisor binary that exists (verify insists on that).
instance() {
	local bin=$BUILD/bin/ssh-tunnel-up
	[ -x "$bin" ] || bin=/usr/bin/true
	sed "s|^ExecStart=/usr/local/bin/ssh-tunnel-up |ExecStart=$bin |" \
	    "$TOP/systemd/$1/ssh-tunnel@.service" >"$UNITS/ssh-tunnel@$2.service"
	echo "$UNITS/ssh-tunnel@$2.service"
}

# score UNIT [--user]: the overall exposure systemd-analyze gives UNIT.
score() {
	systemd-analyze ${2:+"$2"} security --offline=true --no-pager "$1" \
	    2>/dev/null |
	    sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}

# docs UNIT: every Documentation=man:PAGE(N) of UNIT is a page of this
# tree, clean under mandoc; verify runs with --man=no, since its own check
# needs man-db, which the project does not (mandoc reads the pages).
docs() {
	local d n=0
	for d in $(sed -n 's/^Documentation=//p' "$1"); do
		[[ $d =~ ^man:([a-z.@-]+)\(([1-8])\)$ ]] || return 1
		mandoc -Tlint -W warning \
		    "$TOP/man/man${BASH_REMATCH[2]}/${BASH_REMATCH[1]}.${BASH_REMATCH[2]}" ||
		    return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "system unit: systemd-analyze verify is clean" {
	u=$(instance system labbox)
	docs "$u"
	run systemd-analyze verify --man=no "$u"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "user unit: systemd-analyze --user verify is clean" {
	u=$(instance user labbox)
	docs "$u"
	run systemd-analyze --user verify --man=no "$u"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "system unit rates 1.5 or better, scitex-ssh 1.0's unit UNSAFE" {
	ours=$(score "$(instance system labbox)")
	sed 's/^User=.*/User=root/' "$TOP/tests/lib/autossh-tunnel-2222.service" \
	    >"$UNITS/autossh-tunnel-2222.service"
	old_root=$(score "$UNITS/autossh-tunnel-2222.service")
	old_user=$(score "$TOP/tests/lib/autossh-tunnel-2222.service")
	echo "# exposure: ssh-tunnel@.service $ours;" \
	    "autossh-tunnel-2222.service $old_user (User=ywatanabe)," \
	    "$old_root (User=root)" >&3
	[ -n "$ours" ] && [ -n "$old_user" ] && [ -n "$old_root" ]
	awk -v s="$ours" 'BEGIN { exit !(s <= 1.5) }'
	awk -v s="$old_user" 'BEGIN { exit !(s >= 9.0) }'
}

@test "user unit: exposure at most 2.5 (6.2 without its user namespace)" {
	u=$(instance user labbox)
	s=$(score "$u" --user)
	echo "# exposure: user ssh-tunnel@.service $s" >&3
	[ -n "$s" ]
	awk -v s="$s" 'BEGIN { exit !(s <= 2.5) }'
}

@test "system unit: the settings that keep a tunnel up and ssh working" {
	u=$(instance system labbox)
	grep -qx 'Restart=always' "$u"
	grep -qx 'RestartPreventExitStatus=78' "$u"
	grep -qx 'StartLimitIntervalSec=0' "$u"
	grep -qx 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK' "$u"
	grep -qx 'CapabilityBoundingSet=' "$u"
	grep -q '^ExecStart=/[^ ]* -f %i$' "$u"
}
