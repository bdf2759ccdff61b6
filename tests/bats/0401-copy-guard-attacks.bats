#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The rssh/scponly/rrsync history as a battery of hostile
# SSH_ORIGINAL_COMMANDs run straight against ssh-copy-guard: every one is
# refused with one line and exit 77, and nothing anywhere changes. Then the
# command lines real clients send: every one is allowed.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro/sub" "$D/rw/prev" "$D/out"
	echo secret >"$D/out/secret"
	echo blob >"$D/ro/blob"
	echo spaced >"$D/ro/with space"
	ln -s "$D/out" "$D/rw/esc"
	ln -s "$D/out/secret" "$D/rw/escf"
	ln -s .. "$D/rw/up"
	ln -s ../out "$D/rw/rel"
	ln -s "$D/ro" "$D/rw/toro"
	ln -s loop "$D/rw/loop"
	G=(ssh-copy-guard -r "$D/ro:ro" -r "$D/rw:rw")
}

teardown() {
	sshd_stop_all
}

sums() {
	tree_sum "$D/ro"
	tree_sum "$D/rw"
	tree_sum "$D/out"
	find / -maxdepth 1 -newer "$D/out/secret" -name 'pwn*' 2>/dev/null
}

@test "copy-guard: hostile commands are refused and touch nothing" {
	local long many before c n=0
	long=$(printf 'a%.0s' $(seq 1 70000))
	many=$(printf ' a%.0s' $(seq 1 1100))
	local -a bad=(
		""
		"sh"
		"bash -i"
		"/bin/sh -c id"
		"id"
		"exec scp -f $D/ro/blob"
		"env LD_PRELOAD=$D/rw/x.so scp -f $D/ro/blob"
		"LD_PRELOAD=$D/rw/x.so scp -f $D/ro/blob"
		"scp -S /bin/sh -f $D/ro/blob"
		"scp -oProxyCommand=id -f $D/ro/blob"
		"scp -o ProxyCommand=touch\\ /pwn1 -t $D/rw"
		"scp -F $D/rw/cfg -f $D/ro/blob"
		"scp -i $D/out/secret -f $D/ro/blob"
		"scp -3 -f $D/ro/blob"
		"scp -f $D/ro/blob; touch /pwn2"
		"scp -f $D/ro/blob && id"
		"scp -f $D/ro/blob | id"
		"scp -f \$(touch /pwn3)"
		"scp -f \`touch /pwn4\`"
		"scp -t $D/rw >/pwn5"
		"scp -f $D/ro/blob #comment"
		"scp -f $D/ro/b*"
		"scp -f $D/out/secret"
		"scp -f $D/ro/../out/secret"
		"scp -f \"$D/out/secret\""
		"scp -f '$D/ro/blob' '/etc/passwd'"
		"scp -rf $D/out"
		"scp -f /etc/shadow"
		"scp -f /proc/self/root/etc/passwd"
		"scp -f ~root/.ssh/authorized_keys"
		"scp -t ~/.ssh"
		"scp -f '~/.bashrc'"
		"scp -t $D/ro"
		"scp -v -d -t $D/ro/sub"
		"scp -t $D/out"
		"scp -t $D/rw/../out"
		"scp -f $D/rw/esc/secret"
		"scp -f $D/rw/escf"
		"scp -t $D/rw/esc"
		"scp -t $D/rw/up/out"
		"scp -f $D/rw/rel/secret"
		"scp -t $D/rw/toro"
		"scp -f $D/rw/loop"
		"scp -f $D/rw/nx/../esc/secret"
		"scp -t $D/rw/nx/../toro/f"
		"scp -t $D/rw/nx/../../out/f"
		"scp -r -f"
		"scp -f -t $D/rw"
		"scp -t $D/rw $D/rw"
		"scp $D/ro/blob host:x"
		"scp -f $D/ro/blob -S /bin/sh"
		"scp -f $D/ro/blob\\"
		"scp -f '$D/ro/blob"
		$'scp -f '"$D"$'/ro/blob\nid'
		$'scp\t-f\t/etc/passwd'
		$'scp -f \x1b[31m'
		$'scp -f a\x7fb'
		"scp -f $long"
		"scp -f$many"
		"scp -f $D/ro/$(printf 'x%.0s' $(seq 1 300))"
		"rsync --server -e 'sh -c id' . $D/rw"
		"rsync --server -esh . $D/rw"
		"rsync --server --rsh=sh . $D/rw"
		"rsync --server --rsync-path=id . $D/rw"
		"rsync --server --config=$D/rw/c . $D/rw"
		"rsync --daemon"
		"rsync --server --daemon . $D/rw"
		"rsync --server --dae . $D/rw"
		"rsync --server --address=127.0.0.1 --port=8873 . $D/rw"
		"rsync --server --password-file=$D/out/secret --sender . $D/ro"
		"rsync --server -logDtpre.iLsfxC --log-file=$D/out/log . $D/rw"
		"rsync --server -s -logDtpre.iLsfxC . $D/rw"
		"rsync --server -slogDtpre.iLsfxCIvu"
		"rsync --server --protect-args -logDtpre.iLsfxC . $D/rw"
		"rsync --server --secluded-args -logDtpre.iLsfxC . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu . $D/ro"
		"rsync --server -logDtpre.iLsfxCIvu . $D/out"
		"rsync --server -vlogDtpre.iLsfxCIvu . $D/rw/../ro/x"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/out/secret"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/ro $D/out/secret"
		"rsync --server --sender -lLogDtpre.iLsfxCIvu . $D/ro"
		"rsync --server -lKogDtpre.iLsfxCIvu . $D/rw"
		"rsync --server --sender -lkogDtpre.iLsfxCIvu . $D/ro"
		"rsync --server --sender --copy-unsafe-links -logDtpre.iLsfxCIvu . $D/ro"
		"rsync --server --sender --copy-links -logDtpre.iLsfxCIvu . $D/ro"
		"rsync --server --keep-dirlinks -logDtpre.iLsfxCIvu . $D/rw"
		"rsync --server --sender --remove-source-files -logDtpre.iLsfxCIvu . $D/ro/blob"
		"rsync --server -logDtpre.iLsfxCIvu --backup-dir=$D/out . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --partial-dir $D/out . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --temp-dir /tmp . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --link-dest ../../out . $D/rw/x"
		"rsync --server -blogDtpre.iLsfxCIvu --suffix=/../../out/x . $D/rw"
		"rsync --server --sender -logDtpre.iLsfxCIvu --files-from $D/out/secret . $D/ro"
		"rsync --server -logDtpre.iLsfxCIvu --write-batch=$D/out/b . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --only-write-batch=$D/rw/b . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --read-batch=$D/rw/b . $D/rw"
		"rsync --server --copy-devices --sender -logDtpre.iLsfxCIvu . $D/ro"
		"rsync --server --write-devices -logDtpre.iLsfxCIvu . $D/rw"
		"rsync --server --super -logDtpre.iLsfxCIvu . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu . --daemon"
		"rsync --server -logDtpre.iLsfxCIvu . -e"
		"rsync --server -logDtpre.iLsfxCIvu $D/rw"
		"rsync -logDtpre.iLsfxCIvu --server . $D/rw"
		"rsync $D/ro/blob 127.0.0.1:/tmp/x"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/rw/esc/secret"
		"rsync --server -logDtpre.iLsfxCIvu . $D/rw/esc/new"
		"rsync --server -logDtpre.iLsfxCIvu . $D/rw/toro/new"
		"rsync --server -e.iLsfxC; touch /pwn6"
		"rsync --server -logDtpre.iLsfxCIvu --log-format=\"\$(touch /pwn7)\" . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu . $D/rw $D/rw/x"
		"/usr/lib/openssh/sftp-server -d /"
		"/usr/lib/openssh/sftp-server -P ''"
		"/usr/lib/openssh/sftp-server -l 'DEBUG3; id'"
		"internal-sftp -u 000"
		"sftp-server"
		"sftp -oProxyCommand=id host"
	)
	before=$(sums)
	for c in "${bad[@]}"; do
		n=$((n + 1))
		SSH_ORIGINAL_COMMAND=$c run "${G[@]}" </dev/null
		if [ "$status" -ne 77 ] || [ "${#lines[@]}" -ne 1 ]; then
			echo "not refused ($status): ${c:0:200}"
			echo "$output"
			return 1
		fi
	done
	echo "$n refused"
	[ "$n" -ge 60 ]
	[ "$(sums)" = "$before" ]
}

@test "copy-guard: command lines real clients send are allowed" {
	local c n=0
	local -a good=(
		"scp -t $D/rw/x"
		"scp -f $D/ro/blob"
		"scp -r -t $D/rw"
		"scp -r -p -f $D/ro/sub"
		"scp -v -r -p -t $D/rw"
		"scp -p -f blob"
		"scp -d -t $D/rw"
		"scp -f -- -dashfile"
		"scp -f '$D/ro/with space'"
		"scp -f $D/ro/with\\ space"
		"/usr/lib/openssh/sftp-server"
		"internal-sftp"
		"/usr/lib/openssh/sftp-server -l INFO -f AUTH"
		"/usr/libexec/openssh/sftp-server -e"
		"rsync --server -logDtpre.iLsfxCIvu . $D/rw/"
		"rsync --server --sender -logDtpre.iLsfxCIvu . $D/ro/"
		"rsync --server --sender -vlogDtprze.iLsfxCIvu . $D/ro/blob"
		"rsync --server -vlogDtprze.iLsfxCIvu --delete . $D/rw/x/"
		"rsync --server -logDtpre.iLsfxCIvu --log-format=X --partial . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --log-format=%i . $D/rw"
		"rsync --server -lHogDtpAXre.iLsfxCIvu . $D/rw"
		"rsync --server -blogDtpre.iLsfxCIvu --suffix=.bak --delete-after . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --checksum-choice=xxh128 --compress-choice=zstd . $D/rw"
		"rsync --server -logDtprze.iLsfxCIvu --compress-level=3 . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --partial-dir .rsync-partial . $D/rw"
		"rsync --server -logDtpre.iLsfxCIvu --link-dest ../prev . $D/rw/cur"
		"rsync --server -logDtpre.iLsfxCIvu --timeout=30 --max-size=10485760 . $D/rw"
		"rsync --server -logDtprSe.iLsfxCIvu --numeric-ids . $D/rw"
		"rsync --server --sender -logDtpre.iLsfxCIvu . blob sub with\\ space"
		"rsync --server --sender -logDtpRe.LsfxCIvu --files-from - --from0 . $D/ro"
		"rsync --server --sender -de.LsfxCIvu --list-only . $D/ro/"
		"rsync --server --sender -logDtpre.iLsfxCIvu --remove-source-files . $D/rw/x"
		"rsync --server -logDtpre.iLsfxCIvu --mkpath . $D/rw/a/b/c/"
		"rsync --server -logDtpre.iLsfxCIvu --iconv=latin1 . $D/rw"
		"rsync --server --sender -be.LsfxCIvu --backup-dir ../bak . $D/ro/blob"
		"rsync --server -be.LsfxCIvu --backup-dir ../bak . $D/rw/cur"
	)
	for c in "${good[@]}"; do
		n=$((n + 1))
		SSH_ORIGINAL_COMMAND=$c run "${G[@]}" -n </dev/null
		if [ "$status" -ne 0 ]; then
			echo "refused ($status): $c"
			echo "$output"
			return 1
		fi
	done
	echo "$n allowed"
	[ "$n" -ge 15 ]
}

@test "copy-guard: what runs is rebuilt, not passed through" {
	SSH_ORIGINAL_COMMAND="scp -rp -t $D/rw" run "${G[@]}" -n
	[ "$status" -eq 0 ]
	[ "$output" = "/usr/bin/scp -p -r -t -- $D/rw" ]
	SSH_ORIGINAL_COMMAND="rsync --server -logDtpre.iLsfxCIvu . $D/rw/" run "${G[@]}" -n
	[ "$output" = "/usr/bin/rsync --server --munge-links -logDtpre.iLsfxCIvu . $D/rw/" ]
	SSH_ORIGINAL_COMMAND="/usr/lib/openssh/sftp-server" run "${G[@]}" -n
	[ "$output" = "/usr/lib/openssh/sftp-server -P home-directory,users-groups-by-id" ]
	SSH_ORIGINAL_COMMAND="internal-sftp" run ssh-copy-guard -r "$D/ro" -n
	[ "$output" = "/usr/lib/openssh/sftp-server -R -P home-directory,users-groups-by-id" ]
	SSH_ORIGINAL_COMMAND="internal-sftp" run ssh-copy-guard -r "$D/ro" -n \
	    -s /opt/sftp-server
	[ "$output" = "/opt/sftp-server -R -P home-directory,users-groups-by-id" ]
}

@test "copy-guard: what this rsync client sends, both ways, is allowed" {
	local o n=0 line
	mkdir -p "$D/src"
	echo x >"$D/src/x"
	# the "remote shell" records the command line and fails the transfer
	cat >"$D/rsh" <<EOS
#!/bin/sh
shift
printf '%s\n' "\$*" >>"$D/sent"
exit 1
EOS
	chmod +x "$D/rsh"
	for o in -a -av -az -aP "-a --delete" -aHAX "-a --partial --inplace" \
	    -ac "-a --bwlimit=1000" -r -rlptgoD "-a --backup --suffix=.bak" \
	    -an "-a --size-only -u" "-a --numeric-ids -S" \
	    "-a --max-size=10M --timeout=30" -ai "-a --mkpath" \
	    "-a --append-verify" -aW "-a --zc=zstd --cc=xxh128" \
	    "-a --partial-dir=.rsync-partial" "-a --link-dest=../prev" \
	    "-a --remove-source-files" "-a --delete-excluded --exclude=*.o" \
	    "-a --iconv=utf8,latin1" -aR "-a -y" -ax "--list-only" \
	    "-a --delay-updates" "-a --fsync" "-a --checksum-seed=7" \
	    "-a --backup --backup-dir=../bak" "-a --compare-dest=../c" \
	    "-a --no-o --no-g" "-a --omit-dir-times" "-a --max-delete=5" \
	    "-a --chown=1:1" "-a --preallocate" "-a --open-noatime" -aU \
	    "-a --ignore-missing-args" "-a --stats" "-a --prune-empty-dirs"; do
		# shellcheck disable=SC2086
		rsync $o -e "$D/rsh" "$D/src/" "h:$D/rw/dst/" 2>/dev/null || :
		# shellcheck disable=SC2086
		rsync $o -e "$D/rsh" "h:$D/rw/src/" "$D/pulled/" 2>/dev/null || :
	done
	while IFS= read -r line; do
		n=$((n + 1))
		SSH_ORIGINAL_COMMAND=$line run "${G[@]}" -n </dev/null
		if [ "$status" -ne 0 ]; then
			echo "refused: $line"
			echo "$output"
			return 1
		fi
	done <"$D/sent"
	echo "$n command lines"
	[ "$n" -ge 80 ]
}

@test "copy-guard: what this scp client sends in legacy mode is allowed" {
	local o n=0 line
	mkdir -p "$D/src"
	echo x >"$D/src/x"
	# scp -S: the program gets ssh's options, "--", the host, the command
	cat >"$D/ssh" <<EOS
#!/bin/sh
while [ "\$1" != "--" ]; do shift; done
shift 2
printf '%s\n' "\$*" >>"$D/sent"
exit 1
EOS
	chmod +x "$D/ssh"
	for o in "" -r -p -rp -v -rpv -q -C "-l 100" -T; do
		# shellcheck disable=SC2086
		scp -O $o -S "$D/ssh" "$D/src/x" "h:$D/rw/x" 2>/dev/null || :
		# shellcheck disable=SC2086
		scp -O $o -S "$D/ssh" -r "$D/src" "h:$D/rw/" 2>/dev/null || :
		# shellcheck disable=SC2086
		scp -O $o -S "$D/ssh" "h:$D/ro/blob" "$D/got" 2>/dev/null || :
	done
	scp -O -S "$D/ssh" "$D/src/x" "$D/src/x" "h:$D/rw" 2>/dev/null || :
	while IFS= read -r line; do
		n=$((n + 1))
		SSH_ORIGINAL_COMMAND=$line run "${G[@]}" -n </dev/null
		if [ "$status" -ne 0 ]; then
			echo "refused: $line"
			echo "$output"
			return 1
		fi
	done <"$D/sent"
	echo "$n command lines"
	[ "$n" -ge 30 ]
}
