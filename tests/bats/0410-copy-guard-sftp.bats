#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The sftp request filter of ssh-copy-guard, behind a real sshd, with the
# real sftp and scp clients and a raw client (tests/lib/sftpraw.py) for the
# requests the sftp CLI cannot send. Every refusal is checked on disk: mode,
# owner, times (ctime too, so a chmod put back shows) and content of
# everything outside the roots and in the :ro root stay as they were.

load ../lib/common
load ../lib/sshd

RAW=$BATS_TEST_DIRNAME/../lib/sftpraw.py

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro/sub" "$D/rw/wd" "$D/out/od" "$D/local"
	echo secret >"$D/out/secret"
	chmod 600 "$D/out/secret"
	echo ro >"$D/ro/f"
	chmod 644 "$D/ro/f"
	echo w >"$D/rw/w"
	chmod 644 "$D/rw/w"
	echo up >"$D/local/up"
	# hostile links already in the :rw root (made by someone else)
	ln -s "$D/out" "$D/rw/esc"
	ln -s ../out/secret "$D/rw/rel"
	mkdir -p "$D/rw/tree/a"
	ln -s ../../../out "$D/rw/tree/a/up"
	sshd_start "$D/sshd" "restrict,command=\"$BUILD/bin/ssh-copy-guard -r $D/ro:ro -r $D/rw:rw\""
	SC=$SSHD_DIR/ssh_config
	# one connection for all the sftp runs of a test: the load stays low
	MUX=(-o ControlMaster=auto -o "ControlPath=$D/cm" -o ControlPersist=60)
	BEFORE=$(snap)
}

teardown() {
	ssh -F "$SC" -o "ControlPath=$D/cm" -O exit fixture 2>/dev/null || true
	sshd_stop_all
}

# snap: everything that must not change, down to the ctime.
snap() {
	find "$D/out" "$D/ro" /etc/passwd /etc/shadow \
	    -printf '%p %m %U %G %T@ %C@ %s %l\n' | LC_ALL=C sort
	find "$D/out" "$D/ro" -type f -exec sha256sum {} + | LC_ALL=C sort
}

unchanged() {
	local now
	now=$(snap)
	if [ "$now" != "$BEFORE" ]; then
		diff <(echo "$BEFORE") <(echo "$now")
		return 1
	fi
}

# sftp_one CMD: one sftp command in batch mode; status and output as run's
sftp_one() {
	printf '%s\n' "$1" >"$D/batch"
	run sftp -F "$SC" "${MUX[@]}" -b "$D/batch" fixture
}

# raw: the raw client through sshd's sftp subsystem, requests on stdin
raw() {
	python3 "$RAW" ssh -F "$SC" "${MUX[@]}" -s fixture sftp
}

@test "copy-guard sftp: the reproductions of issue 9 are refused, nothing changes" {
	sftp_one "chmod 777 $D/out/secret"
	[ "$status" -ne 0 ]
	sftp_one "chmod 777 $D/out/od"
	[ "$status" -ne 0 ]
	sftp_one "chmod 700 $D/ro/f"
	[ "$status" -ne 0 ]
	sftp_one "ls -l /etc/shadow"
	[ "$status" -ne 0 ]
	[[ $output != *"-rw"* ]]
	sftp_one "get /etc/passwd $D/local/passwd"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/passwd" ]
	# the key is root's (the fixture's sshd runs as us): set-uid and chown
	# of a root-owned 0600 file outside the roots
	[ "$(id -u)" -eq 0 ] || skip "not root: the set-uid and chown cases"
	[ "$(stat -c '%U %a' "$D/out/secret")" = "root 600" ]
	sftp_one "chmod 4777 $D/out/secret"
	[ "$status" -ne 0 ]
	sftp_one "chown 1000 $D/out/secret"
	[ "$status" -ne 0 ]
	sftp_one "chgrp 1000 $D/out/secret"
	[ "$status" -ne 0 ]
	[ "$(stat -c '%u %g %a' "$D/out/secret")" = "0 0 600" ]
	unchanged
}

@test "copy-guard sftp: put, get, ls, mkdir, rename, chmod, rm inside the roots" {
	cat >"$D/batch" <<EOB
ls -l $D/ro
get $D/ro/f $D/local/f
cd $D/rw
put $D/local/up up
chmod 600 up
mkdir nd
rename up nd/up2
ls nd
symlink nd/up2 l
ln -s $D/ro/f toro
put $D/local/up gone
rm gone
mkdir gonedir
rmdir gonedir
df -h .
EOB
	run sftp -F "$SC" "${MUX[@]}" -b "$D/batch" fixture
	echo "$output"
	[ "$status" -eq 0 ]
	cmp "$D/ro/f" "$D/local/f"
	cmp "$D/local/up" "$D/rw/nd/up2"
	[ "$(stat -c %a "$D/rw/nd/up2")" = 600 ]
	[ ! -e "$D/rw/gone" ] && [ ! -e "$D/rw/gonedir" ]
	# links the filter lets make point at the absolute canonical target
	[ "$(readlink "$D/rw/l")" = "$D/rw/nd/up2" ]
	[ "$(readlink "$D/rw/toro")" = "$D/ro/f" ]
	# relative paths start in the first root
	sftp_one "get f $D/local/f2"
	[ "$status" -eq 0 ]
	cmp "$D/ro/f" "$D/local/f2"
	unchanged
}

@test "copy-guard sftp: scp (sftp protocol) both ways, with -r and -p" {
	mkdir -p "$D/local/lt/d"
	head -c 300000 /dev/urandom >"$D/local/lt/big"
	echo x >"$D/local/lt/d/x"
	chmod 640 "$D/local/lt/d/x"
	touch -d 2001-02-03 "$D/local/lt/d/x"
	run scp -F "$SC" -rp "$D/local/lt" "fixture:$D/rw/"
	[ "$status" -eq 0 ]
	diff -r "$D/local/lt" "$D/rw/lt"
	[ "$(stat -c '%a %Y' "$D/rw/lt/d/x")" = \
	    "640 $(stat -c %Y "$D/local/lt/d/x")" ]
	run scp -F "$SC" "fixture:$D/rw/lt/big" "$D/local/big"
	[ "$status" -eq 0 ]
	cmp "$D/local/lt/big" "$D/local/big"
	run scp -F "$SC" -r "fixture:$D/ro" "$D/local/rocopy"
	[ "$status" -eq 0 ]
	diff -r "$D/ro" "$D/local/rocopy"
	# and out of the roots, in or out, it fails
	run scp -F "$SC" "fixture:$D/out/secret" "$D/local/s"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/s" ]
	run scp -F "$SC" "$D/local/up" "fixture:$D/out/up"
	[ "$status" -ne 0 ]
	run scp -F "$SC" -p "$D/local/up" "fixture:$D/ro/up"
	[ "$status" -ne 0 ]
	unchanged
}

@test "copy-guard sftp: an attacker's sftp batch, every line refused" {
	local c
	local -a bad=(
		"chmod 777 $D/out/secret"
		"chmod 777 $D/out"
		"chmod 777 $D/rw/esc/secret"
		"chmod 777 $D/rw/rel"
		"chmod 700 $D/ro/f"
		"chmod 700 $D/ro"
		"chmod 4755 $D/rw/w"
		"chmod 2755 $D/rw/wd"
		"chmod 1777 $D/rw/wd"
		"chown 1000 $D/rw/w"
		"chgrp 1000 $D/rw/w"
		"chown 0 $D/out/secret"
		"get /etc/passwd $D/local/x"
		"get /etc/shadow $D/local/x"
		"get /etc/group $D/local/x"
		"get /usr/lib/os-release $D/local/x"
		"get /proc/self/environ $D/local/x"
		"get $D/out/secret $D/local/x"
		"get $D/rw/esc/secret $D/local/x"
		"get $D/rw/rel $D/local/x"
		"get $D/ro/../out/secret $D/local/x"
		"get $D/rw/tree/a/up/secret $D/local/x"
		"ls $D/out"
		"ls -l $D/rw/esc/"
		"ls -l $D/rw/esc/secret"
		"ls /"
		"ls -l /etc/shadow"
		"cd /etc"
		"df $D/out"
		"put $D/local/up $D/out/up"
		"put $D/local/up $D/ro/up"
		"put $D/local/up $D/rw/esc/up"
		"put $D/local/up /tmp/up"
		"mkdir $D/out/nd"
		"mkdir $D/ro/nd"
		"mkdir $D/rw/esc/nd"
		"rmdir $D/ro/sub"
		"rmdir $D/out/od"
		"rmdir $D/rw"
		"rm $D/ro/f"
		"rm $D/out/secret"
		"rm $D/rw/esc/secret"
		"rename $D/ro/f $D/rw/f"
		"rename $D/rw/w $D/out/w"
		"rename $D/rw/w $D/ro/w"
		"rename $D/rw $D/rw2"
		"rename $D/rw/esc $D/rw/esc2"
		"rename $D/rw/tree $D/rw/wd/tree"
		"symlink /etc $D/rw/etc"
		"symlink $D/out/secret $D/rw/s"
		"symlink ../out $D/rw/o"
		"symlink ../../../../../../../../etc/shadow $D/rw/sh"
		"symlink /etc/passwd $D/ro/pw"
		"ln $D/ro/f $D/rw/hard"
		"ln $D/out/secret $D/rw/hard2"
		"ln $D/rw/rel $D/rw/rel3"
	)
	for c in "${bad[@]}"; do
		sftp_one "$c"
		echo "$c -> $status: $output"
		[ "$status" -ne 0 ]
		[ ! -e "$D/local/x" ]
		unchanged
	done
	# nothing new in the :rw root either
	[ "$(ls -A "$D/rw" | tr '\n' ' ')" = "esc rel tree w wd " ]
	[ "$(stat -c %a "$D/rw/w")" = 644 ]
	[ "$(stat -c %a "$D/rw/wd")" = 755 ]
}

@test "copy-guard sftp: raw requests, each refused as it should, the session lives" {
	local long
	long=$(printf 'a%.0s' $(seq 1 5000))
	# the last but one request ends the session: exit 65
	raw >"$D/got" <<EOR || true
hardlink $D/ro/f $D/rw/h
hardlink $D/out/secret $D/rw/h
hardlink $D/rw/rel $D/rw/h2
posix-rename $D/rw/w $D/out/w
posix-rename $D/rw/esc $D/rw/wd/esc
posix-rename $D/rw/rel $D/rw/rel2
rename $D/rw/tree $D/rw/wd/tree
symlink /etc/passwd $D/rw/pw
symlink ../out/secret $D/rw/o
symlink ../../../../../../../../../../etc $D/rw/up
symlink "" $D/rw/empty
lsetstat $D/out/secret mode=0777
setstat $D/rw/esc mode=0777
setstat $D/rw/rel mode=0777
setstat $D/out/secret mode=04777
setstat $D/rw/w uid=1000,gid=1000
setstat $D/rw/w mode=06755
setstat $D/ro/f time=0
setstat $D/ro/f size=0
open h $D/out/secret r
open h $D/ro/f w
open h $D/ro/f rt
open h $D/rw/esc/new wc
open h $D/rw/new wc mode=04755
open h $D/rw/new wc uid=0
opendir d $D/out
opendir d /
read 0 0 10
read 1 0 10
write 0 0 xx
close 7
stat $D/ro/f\x00/etc/passwd
stat $D/rw/../out/secret
stat ../out/secret
stat /etc/shadow
lstat /etc/shadow
readlink /proc/self/exe
realpath ..
realpath /
statvfs $D/out
expand ~root
expand ~/../out
remove $D/rw/esc/secret
rmdir $D/out/od
mkdir $D/rw/esc/x
mkdir $D/rw/x mode=01777
stat $long
home root
home ""
ugids 0 0
ext evil@example.com
ext copy-data-but-not
type 99
type 1
stat $D/ro/f
EOR
	cat "$D/got"
	cat >"$D/want" <<EOW
hardlink: status 3 in a read-only root
hardlink: status 3 outside the copy roots
hardlink: status 3 symbolic link target outside the copy roots
posix-rename: status 3 outside the copy roots
posix-rename: status 3 symbolic link target outside the copy roots
posix-rename: status 3 symbolic link target outside the copy roots
rename: status 3 holds a relative symbolic link that climbs out
symlink: status 3 symbolic link target outside the copy roots
symlink: status 3 symbolic link target outside the copy roots
symlink: status 3 symbolic link target outside the copy roots
symlink: status 3 empty symbolic link target
lsetstat: status 3 outside the copy roots
setstat: status 3 outside the copy roots
setstat: status 3 outside the copy roots
setstat: status 3 outside the copy roots
setstat: status 3 changing the owner is not allowed
setstat: status 3 set-id and sticky bits are not allowed
setstat: status 3 in a read-only root
setstat: status 3 in a read-only root
open: status 3 outside the copy roots
open: status 3 in a read-only root
open: status 3 in a read-only root
open: status 3 outside the copy roots
open: status 3 set-id and sticky bits are not allowed
open: status 3 changing the owner is not allowed
opendir: status 3 outside the copy roots
opendir: status 3 outside the copy roots
read: status 4 unknown handle
read: status 4 unknown handle
write: status 4 unknown handle
close: status 4 unknown handle
stat: status 3 not a path
stat: status 3 outside the copy roots
stat: status 3 outside the copy roots
stat: status 3 outside the copy roots
lstat: status 3 outside the copy roots
readlink: status 3 outside the copy roots
realpath: status 3 outside the copy roots
realpath: status 3 outside the copy roots
statvfs: status 3 outside the copy roots
expand: status 3 other users' home directories are not told
expand: status 3 outside the copy roots
remove: status 3 outside the copy roots
rmdir: status 3 outside the copy roots
mkdir: status 3 outside the copy roots
mkdir: status 3 set-id and sticky bits are not allowed
stat: status 3 not a path
home: status 8 request not supported
home: status 8 request not supported
ugids: status 8 request not supported
ext: status 8 request not supported
ext: status 8 request not supported
type: status 8 request not supported
type: closed
EOW
	# the version line lists only what the filter allows
	head -1 "$D/got" | grep -q '^version 3 posix-rename@openssh.com '
	! head -1 "$D/got" | grep -q 'users-groups\|home-directory' || false
	diff "$D/want" <(tail -n +2 "$D/got")
	[ "$(ls -A "$D/rw" | tr '\n' ' ')" = "esc rel tree w wd " ]
	unchanged
}

@test "copy-guard sftp: handles are what they were opened as" {
	raw >"$D/got" <<EOR
open r $D/ro/f r
open w $D/rw/w rw
opendir d $D/rw
write r 0 xx
fsetstat r mode=0777
fsync r
fstat r
read r 0 10
readdir r
read d 0 10
fstat d
write w 0 W2
fsetstat w mode=0600
fsetstat w mode=04755
fsync w
copy-data r 0 0 w 0
copy-data w 0 0 r 0
copy-data r 0 0 r 0
readdir d
close r
read r 0 10
fsetstat r mode=0600
close d
close w
open n $D/rw/new wc mode=0640
write n 0 new
close n
stat $D/ro/f
EOR
	cat "$D/got"
	cat >"$D/want" <<EOW
open: handle
open: handle
opendir: handle
write: status 3 not open for writing
fsetstat: status 3 in a read-only root
fsync: status 3 not open for writing
fstat: attrs size=3 uid=0 gid=0 mode=0644
read: data 3
readdir: status 3 not a directory handle
read: status 3 not a file handle
fstat: status 3 not a file handle
write: ok
fsetstat: ok
fsetstat: status 3 set-id and sticky bits are not allowed
fsync: ok
copy-data: ok
copy-data: status 3 not open for writing
copy-data: status 4 unknown handle
readdir: name .
close: ok
read: status 4 unknown handle
fsetstat: status 4 unknown handle
close: ok
close: ok
open: handle
write: ok
close: ok
stat: attrs size=3 uid=0 gid=0 mode=0644
EOW
	diff <(tail -n +2 "$D/got" | sed -e 's/^readdir: name .*/readdir: name ./' \
	    -e "s/uid=$(id -u) gid=$(id -g)/uid=0 gid=0/") "$D/want"
	[ "$(cat "$D/rw/w")" = ro ]
	[ "$(stat -c %a "$D/rw/w")" = 600 ]
	[ "$(cat "$D/rw/new")" = new ]
	[ "$(stat -c %a "$D/rw/new")" = 640 ]
	unchanged
}

@test "copy-guard sftp: a malformed stream ends the session, sftp-server too" {
	local pkt
	for pkt in 0004ffff05 00000000 000000050100000003 0000000911000000010000ffff 000000021100 00000009060000000200000004; do
		printf 'stat %s\nraw %s\nstat %s\n' "$D/ro/f" "$pkt" "$D/ro/f" |
		    raw >"$D/got" || true
		cat "$D/got"
		[ "$(sed -n 2p "$D/got")" = "stat: attrs size=3 uid=$(id -u) gid=$(id -g) mode=0644" ]
		grep -q '^raw: closed$' "$D/got"
		! grep -q '^stat: .*' <(tail -n +4 "$D/got") || false
	done
	# no sftp-server left behind in the first root
	sleep 0.5
	! for p in $(pgrep -x sftp-server); do readlink "/proc/$p/cwd"; done |
	    grep -qx "$D/ro" || false
	unchanged
}

@test "copy-guard sftp: without Landlock the filter alone confines sftp" {
	local nl=$BUILD/test/nolandlock
	[ -x "$nl" ] || skip "no $nl (the seccomp wrapper of tests/lib)"
	SSH_ORIGINAL_COMMAND=internal-sftp python3 "$RAW" "$nl" \
	    "$BUILD/bin/ssh-copy-guard" -q -r "$D/ro:ro" -r "$D/rw:rw" \
	    >"$D/got" <<EOR
stat $D/out/secret
setstat $D/out/secret mode=0777
symlink $D/out $D/rw/o
open h $D/rw/esc/new wc
stat $D/ro/f
EOR
	cat "$D/got"
	grep -q "^setstat: status 3 outside" "$D/got"
	grep -q "^symlink: status 3 symbolic link target outside" "$D/got"
	grep -q "^open: status 3 outside" "$D/got"
	grep -q "^stat: attrs size=3" "$D/got"
	[ ! -e "$D/rw/o" ] && [ ! -e "$D/out/new" ]
	unchanged
}
