#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-copy-guard behind a real sshd: scp (sftp and legacy), sftp and rsync
# work inside the roots, and nothing else gets through.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro/sub" "$D/rw" "$D/out" "$D/local/tree/d"
	echo secret >"$D/out/secret"
	head -c 300000 /dev/urandom >"$D/ro/blob"
	echo small >"$D/ro/sub/small"
	head -c 100000 /dev/urandom >"$D/local/up"
	head -c 70000 /dev/urandom >"$D/local/tree/a"
	echo b >"$D/local/tree/d/b"
	sshd_start "$D/sshd" "restrict,command=\"$BUILD/bin/ssh-copy-guard -r $D/ro:ro -r $D/rw:rw\""
	SC=$SSHD_DIR/ssh_config
	RO_SUM=$(tree_sum "$D/ro")
	OUT_SUM=$(tree_sum "$D/out")
}

teardown() {
	sshd_stop_all
}

# unchanged: the read-only root and the outside directory are as before.
unchanged() {
	[ "$(tree_sum "$D/ro")" = "$RO_SUM" ]
	[ "$(tree_sum "$D/out")" = "$OUT_SUM" ]
}

@test "copy-guard: scp (sftp protocol) pulls from :ro and pushes to :rw" {
	run scp -F "$SC" "fixture:$D/ro/blob" "$D/local/blob"
	[ "$status" -eq 0 ]
	cmp "$D/ro/blob" "$D/local/blob"
	run scp -F "$SC" "$D/local/up" "fixture:$D/rw/up"
	[ "$status" -eq 0 ]
	cmp "$D/local/up" "$D/rw/up"
	run scp -F "$SC" -r "$D/local/tree" "fixture:$D/rw/"
	[ "$status" -eq 0 ]
	diff -r "$D/local/tree" "$D/rw/tree"
	unchanged
}

@test "copy-guard: scp -O (legacy protocol) pulls and pushes" {
	run scp -O -F "$SC" "fixture:$D/ro/blob" "$D/local/blob"
	[ "$status" -eq 0 ]
	cmp "$D/ro/blob" "$D/local/blob"
	run scp -O -F "$SC" -p "$D/local/up" "fixture:$D/rw/up"
	[ "$status" -eq 0 ]
	cmp "$D/local/up" "$D/rw/up"
	run scp -O -F "$SC" -r "$D/local/tree" "fixture:$D/rw/"
	[ "$status" -eq 0 ]
	diff -r "$D/local/tree" "$D/rw/tree"
	# relative paths start in the first root
	run scp -O -F "$SC" fixture:sub/small "$D/local/small"
	[ "$status" -eq 0 ]
	cmp "$D/ro/sub/small" "$D/local/small"
	unchanged
}

@test "copy-guard: scp into :ro or out of the roots is refused, nothing written" {
	run scp -O -F "$SC" "$D/local/up" "fixture:$D/ro/up"
	[ "$status" -ne 0 ]
	[[ $output == *"read-only"* ]]
	run scp -O -F "$SC" "$D/local/up" "fixture:$D/out/up"
	[ "$status" -ne 0 ]
	[[ $output == *"outside the copy roots"* ]]
	run scp -O -F "$SC" "fixture:$D/out/secret" "$D/local/s"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/s" ]
	run scp -O -F "$SC" "fixture:$D/ro/../out/secret" "$D/local/s"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/s" ]
	# sftp-based scp: the kernel stops it (sftp carries no arguments)
	run scp -F "$SC" "$D/local/up" "fixture:$D/ro/up"
	[ "$status" -ne 0 ]
	run scp -F "$SC" "$D/local/up" "fixture:$D/out/up"
	[ "$status" -ne 0 ]
	run scp -F "$SC" "fixture:$D/out/secret" "$D/local/s"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/s" ]
	unchanged
}

@test "copy-guard: sftp get, put, ls, mkdir, rename inside the roots" {
	cat >"$D/batch" <<EOB
ls $D/ro
get $D/ro/blob $D/local/blob
cd $D/rw
put $D/local/up up
mkdir newdir
rename up newdir/up2
ls newdir
EOB
	run sftp -F "$SC" -b "$D/batch" fixture
	[ "$status" -eq 0 ]
	[[ $output == *blob* ]]
	[[ $output == *up2* ]]
	cmp "$D/ro/blob" "$D/local/blob"
	cmp "$D/local/up" "$D/rw/newdir/up2"
	unchanged
}

@test "copy-guard: sftp outside the roots, into :ro, and symlinks fail" {
	local f
	for f in "get $D/out/secret $D/local/s" "put $D/local/up $D/ro/up" \
	    "put $D/local/up $D/out/up" "mkdir $D/ro/nd" "mkdir $D/out/nd" \
	    "rename $D/ro/blob $D/rw/blob" "rm $D/ro/blob" "ls $D/out" \
	    "symlink $D/out $D/rw/esc" "symlink /etc/passwd $D/rw/pw" \
	    "ln $D/ro/blob $D/rw/hard"; do
		printf '%s\n' "$f" >"$D/batch"
		run sftp -F "$SC" -b "$D/batch" fixture
		echo "$f -> $status: $output"
		[ "$status" -ne 0 ]
	done
	[ ! -e "$D/local/s" ]
	[ -z "$(ls -A "$D/rw")" ]
	unchanged
}

@test "copy-guard: rsync -a push and pull, bytes intact" {
	run rsync -a -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/rw/tree/"
	[ "$status" -eq 0 ]
	diff -r "$D/local/tree" "$D/rw/tree"
	run rsync -az --delete -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/rw/tree/"
	[ "$status" -eq 0 ]
	run rsync -a -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/pulled/"
	[ "$status" -eq 0 ]
	diff -r "$D/ro" "$D/local/pulled"
	run rsync -avP -e "ssh -F $SC" "fixture:$D/ro/blob" "$D/local/blob2"
	[ "$status" -eq 0 ]
	cmp "$D/ro/blob" "$D/local/blob2"
	unchanged
}

@test "copy-guard: rsync with --backup-dir, --link-dest, --partial-dir" {
	run rsync -a -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/rw/day1/"
	[ "$status" -eq 0 ]
	echo changed >"$D/local/tree/d/b"
	run rsync -a --link-dest=../day1 --partial-dir=.part \
	    -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/rw/day2/"
	[ "$status" -eq 0 ]
	diff -r "$D/local/tree" "$D/rw/day2"
	# unchanged files are hard links into the day before
	[ "$(stat -c %i "$D/rw/day1/a")" = "$(stat -c %i "$D/rw/day2/a")" ]
	run rsync -a --backup --backup-dir=../old -e "ssh -F $SC" \
	    "$D/local/tree/" "fixture:$D/rw/day1/"
	[ "$status" -eq 0 ]
	[ "$(cat "$D/rw/old/d/b")" = b ]
	# the same options on a pull are dropped, not refused
	run rsync -a --backup --backup-dir=../old -e "ssh -F $SC" \
	    "fixture:$D/ro/sub/" "$D/local/sub/"
	[ "$status" -eq 0 ]
	# and pointing out of the roots they are refused
	run rsync -a --link-dest=../../out -e "ssh -F $SC" \
	    "$D/local/tree/" "fixture:$D/rw/day3/"
	[ "$status" -ne 0 ]
	[ ! -e "$D/rw/day3" ]
	unchanged
}

@test "copy-guard: ForceCommand in sshd_config instead of command=" {
	sshd_stop_all
	SSHD_EXTRA="ForceCommand $BUILD/bin/ssh-copy-guard -r $D/ro:ro -r $D/rw:rw" \
	    sshd_start "$D/sshd3"
	SC=$SSHD_DIR/ssh_config
	run scp -F "$SC" "$D/local/up" "fixture:$D/rw/up"
	[ "$status" -eq 0 ]
	cmp "$D/local/up" "$D/rw/up"
	run sftp -F "$SC" -b - fixture <<<"get $D/ro/blob $D/local/blob"
	[ "$status" -eq 0 ]
	cmp "$D/ro/blob" "$D/local/blob"
	run rsync -a -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/pulled/"
	[ "$status" -eq 0 ]
	run ssh -F "$SC" fixture id
	[ "$status" -eq 77 ]
	run scp -O -F "$SC" "$D/local/up" "fixture:$D/ro/up"
	[ "$status" -ne 0 ]
	unchanged
}

@test "copy-guard: rsync into :ro or out of the roots is refused" {
	run rsync -a -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/ro/tree/"
	[ "$status" -ne 0 ]
	[[ $output == *"read-only"* ]]
	run rsync -a -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/out/tree/"
	[ "$status" -ne 0 ]
	run rsync -a -e "ssh -F $SC" "fixture:$D/out/" "$D/local/o/"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/o/secret" ]
	run rsync -a --remove-source-files -e "ssh -F $SC" "fixture:$D/ro/blob" "$D/local/b"
	[ "$status" -ne 0 ]
	run rsync -aL -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/l/"
	[ "$status" -ne 0 ]
	unchanged
}

@test "copy-guard: rsync push of a symlink that leads out cannot be followed" {
	ln -s "$D/out" "$D/local/tree/esc"
	run rsync -a -e "ssh -F $SC" "$D/local/tree/" "fixture:$D/rw/tree/"
	# --munge-links on the receiver: the link is stored so that it leads
	# nowhere
	[ "$(readlink "$D/rw/tree/esc")" = "/rsyncd-munged/$D/out" ]
	[ ! -e "$D/rw/tree/esc" ]
	run rsync -a -e "ssh -F $SC" "$D/local/up" "fixture:$D/rw/tree/esc/up"
	[ "$status" -ne 0 ]
	[ ! -e "$D/out/up" ]
	unchanged
}

@test "copy-guard: no shell, no command, no tty, no forwarding" {
	run ssh -F "$SC" fixture </dev/null
	[ "$status" -eq 77 ]
	[[ $output == *"no shell"* ]]
	run ssh -F "$SC" fixture id
	[ "$status" -eq 77 ]
	[[ $output == *"not a copy command: id"* ]]
	# restrict: no pty, so ssh -tt gives up; without a pty the guard refuses
	run ssh -F "$SC" -tt fixture </dev/null
	[ "$status" -ne 0 ]
	[[ $output == *"PTY allocation request failed"* ]]
	run ssh -F "$SC" -t fixture 'sh -i' </dev/null
	[ "$status" -eq 77 ]
	run ssh -F "$SC" -W "127.0.0.1:$SSHD_PORT" fixture </dev/null
	[ "$status" -ne 0 ]
	[[ $output != *SSH-2.0* ]]
	run ssh -F "$SC" -o ExitOnForwardFailure=yes -R 0:127.0.0.1:22 fixture true
	[ "$status" -eq 255 ]
	run ssh -F "$SC" -s fixture sftp-other </dev/null
	[ "$status" -ne 0 ]
	unchanged
}

@test "copy-guard: roots from the config file's copy: section" {
	sshd_stop_all
	cat >"$D/guard.yaml" <<EOC
copy:
  roots:
    - {path: $D/ro, mode: ro}
    - {path: $D/rw, mode: rw}
  require_landlock: true
EOC
	sshd_start "$D/sshd2" "restrict,command=\"$BUILD/bin/ssh-copy-guard -F $D/guard.yaml\""
	run scp -O -F "$SSHD_DIR/ssh_config" "$D/local/up" "fixture:$D/rw/up"
	[ "$status" -eq 0 ]
	cmp "$D/local/up" "$D/rw/up"
	run scp -O -F "$SSHD_DIR/ssh_config" "$D/local/up" "fixture:$D/ro/up"
	[ "$status" -ne 0 ]
	unchanged
}
