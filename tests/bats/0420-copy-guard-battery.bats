#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# An attacker's battery against ssh-copy-guard with Landlock in effect,
# behind a real sshd: raw command lines as a hostile client sends them,
# real scp (legacy and sftp mode), sftp and rsync with hostile options and
# names, links planted by the client and by others, and the clients
# combined. After each, a snapshot of the decoys outside the roots (mode,
# owner, times, content, link targets) and of the :ro root is compared:
# what counts is the disk, not the exit code.
#
# Tests named "[sftp filter]" rely on the sftp request filter (lib/sftp.c,
# branch sec-sftp) and fail until it is merged.

load ../lib/common
load ../lib/sshd
load ../lib/decoy

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro/sub" "$D/rw" "$D/local/tree/d"
	decoy_make "$D/out"
	echo blob >"$D/ro/blob"
	echo small >"$D/ro/sub/small"
	echo data >"$D/local/tree/d/f"
	# links in the :ro root that others placed: to a file the Landlock
	# rules leave readable for the programs' own start-up, and out
	ln -s /etc/passwd "$D/ro/pw"
	ln -s "$D/out" "$D/ro/esc"
	PWLINE=$(head -1 /etc/passwd)
	sshd_start "$D/sshd" "restrict,command=\"$BUILD/bin/ssh-copy-guard -r $D/ro:ro -r $D/rw:rw\""
	SC=$SSHD_DIR/ssh_config
	SNAP=$(decoy_snap "$D/out" "$D/ro")
}

teardown() {
	sshd_stop_all
}

untouched() {
	[ "$(decoy_snap "$D/out" "$D/ro")" = "$SNAP" ]
	[ ! -e /rsyncd-munged ]
}

# not_leaked DIR: no file under DIR holds a line of /etc/passwd or the
# decoy's secret. (A function, not "! grep": bats does not fail on "!".)
not_leaked() {
	! grep -rqsF -e "$PWLINE" \
	    -e "secret $(cut -d' ' -f2 "$D/out/secret")" "$1"
}

@test "battery: hostile command lines over ssh are refused, nothing moves" {
	local c n=0
	local -a bad=(
		"scp -t '$D/rw/x' ; cat /etc/passwd"
		"scp -t $D/rw/\$(touch $D/out/pwn)"
		"scp -t \"$D/rw/\`touch $D/out/pwn\`\""
		$'scp -f '"$D"$'/ro/blob\ncat /etc/passwd'
		"scp -f $D/ro/pw"
		"scp -f /etc/passwd"
		"scp -f /etc/group"
		"scp -f /etc/nsswitch.conf"
		"scp -f /usr/lib/os-release"
		"scp -f /proc/self/environ"
		"scp -f $D/ro/esc/secret"
		"scp -f $D/ro/sub/../../out/secret"
		"scp -f '$D/ro/blob' \"/etc/shadow\""
		"scp -r -f $D/ro"
		"scp -r -f $D/ro/sub $D/ro"
		"scp -rp -t $D/ro"
		"scp -t $D/ro/esc"
		"scp -t -- -oProxyCommand=x"
		"scp -p -t $D/out"
		"scp -f -- \$HOME/.ssh/id_ed25519"
		"rsync --server --no-munge-links -logDtpre.iLsfxCIvu . $D/rw/"
		"rsync --server -logDtpre.iLsfxCIvu --link-dest=$D/ro . $D/rw/x"
		"rsync --server -logDtpre.iLsfxCIvu --copy-dest=/etc . $D/rw/x"
		"rsync --server -logDtpre.iLsfxCIvu --compare-dest=$D/ro/esc . $D/rw/x"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/ro/pw"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/ro/esc/"
		"rsync --server --sender -LlogDtpre.iLsfxCIvu . $D/ro/"
		"rsync --server --sender --copy-unsafe-links -logDtpre.iLsfxCIvu . $D/ro/"
		"rsync --server --sender --files-from=/etc/passwd -logDtpre.iLsfxCIvu . $D/ro"
		"rsync --server --sender -logDtpre.iLsfxCIvu . '-e sh'"
		"rsync --server --sender -logDtpre.iLsfxCIvu . --daemon"
		"rsync --server -logDtpre.iLsfxCIvu --log-file=$D/rw/l . $D/rw/"
		"rsync --server -logDtpre.iLsfxCIvu --temp-dir=/tmp . $D/rw/"
		"rsync --server -logDtpre.iLsfxCIvu . $D/ro/esc/x"
		"rsync --server -logDtpre.iLsfxCIvu --insecure-links . $D/rw/"
		"rsync --server -logDtpre.iLsfxCIvu --confine-root=/ . $D/rw/"
		"rsync --server -logDtpre.iLsfxCIvu -M--copy-links . $D/rw/"
		"/usr/lib/openssh/sftp-server -d /etc"
		"internal-sftp -R -l DEBUG3"
	)
	for c in "${bad[@]}"; do
		n=$((n + 1))
		run ssh -F "$SC" fixture "$c" </dev/null
		if [ "$status" -ne 77 ] || [[ $output == *"$PWLINE"* ]]; then
			echo "not refused ($status): $c"
			echo "$output"
			return 1
		fi
	done
	echo "$n refused"
	[ ! -e "$D/out/pwn" ]
	[ -z "$(ls -A "$D/rw")" ]
	untouched
}

@test "battery: a link to /etc/passwd in a root is not followed by scp or rsync" {
	run scp -O -F "$SC" "fixture:$D/ro/pw" "$D/local/pw"
	[ "$status" -ne 0 ]
	[[ $output == *"outside the copy roots"* ]]
	run scp -O -r -F "$SC" "fixture:$D/ro" "$D/local/r1"
	[ "$status" -ne 0 ]
	[[ $output == *"symbolic link $D/ro/pw in the tree"* ]]
	run scp -O -r -F "$SC" "fixture:$D/ro/" "$D/local/r2"
	[ "$status" -ne 0 ]
	# rsync sends the links as links and reads nothing through them
	run rsync -a -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/r3/"
	[ "$status" -eq 0 ]
	[ "$(readlink "$D/local/r3/pw")" = /etc/passwd ]
	run rsync -aL -e "ssh -F $SC" "fixture:$D/ro/" "$D/local/r4/"
	[ "$status" -ne 0 ]
	run rsync -a --copy-unsafe-links -e "ssh -F $SC" "fixture:$D/ro/" \
	    "$D/local/r5/"
	[ "$status" -ne 0 ]
	run rsync -a -M--copy-links -e "ssh -F $SC" "fixture:$D/ro/" \
	    "$D/local/r6/"
	[ "$status" -ne 0 ]
	run rsync -a --files-from=- -e "ssh -F $SC" "fixture:$D/ro/" \
	    "$D/local/r7/" <<<"pw"
	not_leaked "$D/local"
	untouched
}

@test "battery: links a client pushes with rsync lead nowhere" {
	mkdir -p "$D/local/l/a/b"
	ln -s ../../out "$D/local/l/a/b/up"
	ln -s /etc/passwd "$D/local/l/abs"
	ln -s "$D/out/secret" "$D/local/l/sec"
	ln -s "$D/ro" "$D/local/l/toro"
	run rsync -a -e "ssh -F $SC" "$D/local/l/" "fixture:$D/rw/l/"
	[ "$status" -eq 0 ]
	local f
	for f in a/b/up abs sec toro; do
		[[ $(readlink "$D/rw/l/$f") == /rsyncd-munged/* ]]
		[ ! -e "$D/rw/l/$f" ]
	done
	# pulled back, the client gets what it sent
	run rsync -a -e "ssh -F $SC" "fixture:$D/rw/l/" "$D/local/back/"
	[ "$status" -eq 0 ]
	[ "$(readlink "$D/local/back/abs")" = /etc/passwd ]
	# writing through them goes nowhere, with every client
	echo evil >"$D/local/sec"
	run scp -O -F "$SC" "$D/local/sec" "fixture:$D/rw/l/"
	run scp -F "$SC" "$D/local/sec" "fixture:$D/rw/l/sec"
	run rsync -a --inplace -e "ssh -F $SC" "$D/local/sec" "fixture:$D/rw/l/"
	run scp -O -F "$SC" "fixture:$D/rw/l/abs" "$D/local/got-abs"
	run scp -O -r -F "$SC" "fixture:$D/rw/l" "$D/local/got-l"
	not_leaked "$D/local/got-abs"
	not_leaked "$D/local/got-l"
	untouched
}

@test "battery: issue 9 §3: rsync link, sftp rename, scp -O -rp cannot touch outside" {
	# a link that is safe where rsync makes it and leads out two levels up
	mkdir -p "$D/local/t/a/b" "$D/local/x/up/inner"
	ln -s ../../out "$D/local/t/a/b/up"
	echo boom >"$D/local/x/up/inner/f"
	chmod 777 "$D/local/x/up"
	run rsync -a -e "ssh -F $SC" "$D/local/t/" "fixture:$D/rw/t/"
	[ "$status" -eq 0 ]
	run sftp -F "$SC" -b - fixture <<<"rename $D/rw/t/a/b/up $D/rw/t/up"
	run scp -O -rp -F "$SC" "$D/local/x/up" "fixture:$D/rw/t/"
	run scp -O -rp -F "$SC" "$D/local/x/up" "fixture:$D/rw/"
	run rsync -a -e "ssh -F $SC" "$D/local/x/" "fixture:$D/rw/t/"
	[ ! -e "$D/out/inner" ]
	[ "$(stat -c %a "$D/out")" != 777 ]
	untouched
}

@test "battery: links placed in a :rw root by others stop recursive writes" {
	ln -s "$D/out" "$D/rw/adm"
	mkdir -p "$D/local/y/adm"
	echo x >"$D/local/y/adm/f"
	chmod 777 "$D/local/y/adm"
	run scp -O -rp -F "$SC" "$D/local/y/adm" "fixture:$D/rw/"
	[ "$status" -ne 0 ]
	[[ $output == *"symbolic link $D/rw/adm in the tree"* ]]
	run rsync -a -e "ssh -F $SC" "$D/local/y/" "fixture:$D/rw/"
	[ "$status" -ne 0 ]
	# a link into the read-only root is as bad for a writer
	rm "$D/rw/adm"
	ln -s "$D/ro/sub" "$D/rw/adm"
	run scp -O -rp -F "$SC" "$D/local/y/adm" "fixture:$D/rw/"
	[ "$status" -ne 0 ]
	[[ $output == *"is read-only"* ]]
	untouched
}

@test "battery: rsync never reads \$HOME/.popt" {
	command -v strace >/dev/null || skip "no strace"
	mkdir -p "$D/rw/home"
	echo "rsync alias --sender --sender --log-file=$D/rw/poptlog" \
	    >"$D/rw/home/.popt"
	cat >"$D/rsh" <<EOS
#!/bin/sh
shift
HOME=$D/rw/home SSH_ORIGINAL_COMMAND="\$*" exec strace -f -o "$D/trace" \\
    -e trace=open,openat "$BUILD/bin/ssh-copy-guard" -r "$D/ro:ro" -r "$D/rw:rw"
EOS
	chmod +x "$D/rsh"
	run rsync -a -e "$D/rsh" "h:$D/ro/sub/" "$D/local/p/"
	[ "$status" -eq 0 ]
	cmp "$D/ro/sub/small" "$D/local/p/small"
	[ ! -e "$D/rw/poptlog" ]
	grep -q 'openat.*/etc/popt' "$D/trace"
	run grep -c '\.popt' "$D/trace"
	[ "$output" = 0 ]
	untouched
}

@test "battery: [sftp filter] /etc/passwd is not readable through sftp" {
	run sftp -F "$SC" -b - fixture <<<"get $D/ro/pw $D/local/s1"
	run sftp -F "$SC" -b - fixture <<<"get /etc/passwd $D/local/s2"
	run scp -F "$SC" "fixture:$D/ro/pw" "$D/local/s3"
	run scp -F "$SC" "fixture:/etc/passwd" "$D/local/s4"
	not_leaked "$D/local"
	untouched
}

@test "battery: [sftp filter] sftp makes and moves no link out" {
	mkdir -p "$D/rw/a/b"
	run sftp -F "$SC" -b - fixture <<EOB
symlink ../../../out $D/rw/a/b/l1
symlink /etc/passwd $D/rw/l2
symlink $D/out $D/rw/l3
EOB
	local f
	for f in a/b/l1 l2 l3; do
		[ ! -e "$D/rw/$f" ] || [[ $(realpath "$D/rw/$f") == "$D/rw"* ]]
	done
	untouched
}
