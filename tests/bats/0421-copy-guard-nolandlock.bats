#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-copy-guard on a kernel without Landlock, made so for the guard alone
# by tests/lib/nolandlock (seccomp: the Landlock calls fail with ENOSYS),
# behind a real sshd with real clients: what only Landlock can confine
# (recursion, writes to names the client picks, rsync receivers,
# --files-from) is refused with the reason; what the path checks confine
# alone (a named file read, a named file written) still works. Every test
# compares a snapshot of the decoys outside the roots and of the :ro root.

load ../lib/common
load ../lib/sshd
load ../lib/decoy

NL=$BUILD/test/nolandlock

setup() {
	common_setup
	[ -x "$NL" ] || skip "no $NL (make check builds it)"
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro/sub" "$D/rw" "$D/local/src"
	decoy_make "$D/out"
	echo blob >"$D/ro/blob"
	echo small >"$D/ro/sub/small"
	echo data >"$D/local/src/f"
	echo evil >"$D/local/secret"
	# links that lead out, present in the roots (not made by the client)
	ln -s "$D/out" "$D/ro/esc"
	ln -s "$D/out/secret" "$D/rw/secret"
	ln -s "$D/out/sub" "$D/rw/sub"
	sshd_start "$D/sshd" "restrict,command=\"$NL $BUILD/bin/ssh-copy-guard -r $D/ro:ro -r $D/rw:rw\""
	SC=$SSHD_DIR/ssh_config
	SNAP=$(decoy_snap "$D/out" "$D/ro")
}

teardown() {
	sshd_stop_all
}

untouched() {
	[ "$(decoy_snap "$D/out" "$D/ro")" = "$SNAP" ]
}

@test "copy-guard nolandlock: scp -O -r through a link in a :ro root is refused, nothing read" {
	run scp -O -r -F "$SC" "fixture:$D/ro" "$D/local/got"
	[ "$status" -ne 0 ]
	[[ $output == *"Landlock is not available and scp -r follows symbolic links"* ]]
	[ ! -e "$D/local/got" ]
	# the named path through the link is refused by the path check
	run scp -O -F "$SC" "fixture:$D/ro/esc/secret" "$D/local/s"
	[ "$status" -ne 0 ]
	[[ $output == *"outside the copy roots"* ]]
	[ ! -e "$D/local/s" ]
	untouched
}

@test "copy-guard nolandlock: scp -O into a :rw directory holding a link out is refused" {
	# the client names the file "secret", which is a link to the decoy
	run scp -O -F "$SC" "$D/local/secret" "fixture:$D/rw/"
	[ "$status" -ne 0 ]
	[[ $output == *"scp -t into a directory writes to a name the client chooses"* ]]
	run scp -O -r -p -F "$SC" "$D/local/src" "fixture:$D/rw/"
	[ "$status" -ne 0 ]
	[[ $output == *"scp -r follows symbolic links"* ]]
	[ "$(cat "$D/out/secret")" != evil ]
	untouched
}

@test "copy-guard nolandlock: rsync --link-dest into :ro, then a write in place, is refused" {
	run rsync -a --link-dest="$D/ro" -e "ssh -F $SC" "$D/ro/" \
	    "fixture:$D/rw/x/"
	[ "$status" -ne 0 ]
	[[ $output == *"$D/ro is read-only"* ]]
	run rsync -a --link-dest=../y -e "ssh -F $SC" "$D/ro/" \
	    "fixture:$D/rw/x/"
	[ "$status" -ne 0 ]
	[[ $output == *"Landlock is not available and an rsync receiver"* ]]
	echo changed >"$D/local/blob"
	run rsync -a --inplace -e "ssh -F $SC" "$D/local/blob" \
	    "fixture:$D/rw/x/blob"
	[ "$status" -ne 0 ]
	[ ! -e "$D/rw/x" ]
	[ "$(cat "$D/ro/blob")" = blob ]
	# and with Landlock or without, --link-dest must be writable
	SSH_ORIGINAL_COMMAND="rsync --server -logDtpre.iLsfxCIvu --link-dest=$D/ro . $D/rw/x/" \
	    run ssh-copy-guard -n -r "$D/ro:ro" -r "$D/rw:rw"
	[ "$status" -eq 77 ]
	[[ $output == *"is read-only"* ]]
	untouched
}

@test "copy-guard nolandlock: a named file is still read and written, with one notice" {
	run scp -O -F "$SC" "fixture:$D/ro/blob" "$D/local/blob"
	[ "$status" -eq 0 ]
	[[ $output == *"Landlock not available: argument checks only"* ]]
	cmp "$D/ro/blob" "$D/local/blob"
	run scp -O -F "$SC" "$D/local/src/f" "fixture:$D/rw/new"
	[ "$status" -eq 0 ]
	cmp "$D/local/src/f" "$D/rw/new"
	# an rsync sender sends links as links and follows none
	run rsync -a -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/pulled/"
	[ "$status" -eq 0 ]
	[ -L "$D/local/pulled/esc" ]
	run grep -rqs "secret" "$D/local/pulled"
	[ "$status" -ne 0 ]
	untouched
}

@test "copy-guard nolandlock: rsync --files-from is refused; sftp is served through its filter" {
	run rsync -a --files-from=- -e "ssh -F $SC" "fixture:$D/ro/" \
	    "$D/local/ff/" <<<"esc/secret"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/ff/esc/secret" ]
	# sftp: its request filter, not Landlock, confines it (0410 has the
	# hostile cases); a named file in a root still comes, a secret does not
	run sftp -F "$SC" -b - fixture <<<"get $D/ro/blob $D/local/sf"
	[ "$status" -eq 0 ]
	cmp "$D/ro/blob" "$D/local/sf"
	run sftp -F "$SC" -b - fixture <<<"get $D/ro/esc/secret $D/local/sf2"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/sf2" ]
	untouched
}

@test "copy-guard nolandlock: copy.require_landlock: true refuses everything" {
	cat >"$D/c.yaml" <<EOC
copy:
  roots: [{path: $D/ro, mode: ro}]
  require_landlock: true
EOC
	SSH_ORIGINAL_COMMAND="scp -f $D/ro/blob" run "$NL" \
	    "$BUILD/bin/ssh-copy-guard" -F "$D/c.yaml" </dev/null
	[ "$status" -eq 77 ]
	[[ $output == *"copy.require_landlock is true"* ]]
	[[ $output != *C0644* ]]
	untouched
}
