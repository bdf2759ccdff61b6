#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The kernel layer on its own: tests/lib/llexec confines itself with the
# production guard_rules() and landlock_confine() and runs scp and rsync
# with the client's words unchecked, so escape attempts reach them, and
# Landlock stops every one with EACCES. Then the behaviour when the kernel
# offers no Landlock, shown by hiding the system calls with seccomp
# (tests/lib/nolandlock).

load ../lib/common
load ../lib/sshd

LX=$BUILD/test/llexec
NL=$BUILD/test/nolandlock

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro" "$D/rw" "$D/out" "$D/local/src"
	echo secret >"$D/out/secret"
	echo blob >"$D/ro/blob"
	echo data >"$D/local/src/f"
	ln -s "$D/out" "$D/rw/esc"
	OUT_SUM=$(tree_sum "$D/out")
	RO_SUM=$(tree_sum "$D/ro")
}

teardown() {
	sshd_stop_all
}

need_landlock() {
	[ -x "$LX" ] || skip "no $LX (make check builds it)"
	run ssh-copy-guard -v -n -r "$D/ro" </dev/null
	SSH_ORIGINAL_COMMAND=internal-sftp run ssh-copy-guard -v -r "$D/ro" \
	    -s /bin/true
	[[ $output == *"landlock: ABI "[1-9]* ]] || skip "kernel has no Landlock"
}

# nc_run CMD STDIN: Landlock alone on SSH_ORIGINAL_COMMAND=CMD
nc_run() {
	SSH_ORIGINAL_COMMAND=$1 run "$LX" -r "$D/ro:ro" -r "$D/rw:rw" \
	    < <(printf "$2")
}

@test "copy-guard landlock: the harness really skips the path checks" {
	need_landlock
	SSH_ORIGINAL_COMMAND="scp -f $D/out/secret" run "$LX" -n -r "$D/ro"
	[ "$status" -eq 0 ]
	[ "$output" = "landlock only: scp -f $D/out/secret" ]
	SSH_ORIGINAL_COMMAND="scp -f $D/out/secret" run ssh-copy-guard -n -r "$D/ro"
	[ "$status" -eq 77 ]
}

@test "copy-guard landlock: scp reads outside the roots fail with EACCES" {
	need_landlock
	nc_run "scp -f $D/out/secret" '\0'
	[ "$status" -ne 0 ]
	[[ $output == *"$D/out/secret: Permission denied"* ]]
	[[ $output != *secret$'\n'* ]]
	nc_run "scp -f $D/rw/esc/secret" '\0'
	[[ $output == *"Permission denied"* ]]
	nc_run "scp -f /etc/hostname" '\0'
	[[ $output == *"Permission denied"* ]]
}

@test "copy-guard landlock: scp writes outside :rw fail with EACCES" {
	need_landlock
	nc_run "scp -t $D/out/new" 'C0644 6 new\nhello\n\0'
	[[ $output == *"Permission denied"* ]]
	[ ! -e "$D/out/new" ]
	nc_run "scp -t $D/ro/new" 'C0644 6 new\nhello\n\0'
	[[ $output == *"Permission denied"* ]]
	[ ! -e "$D/ro/new" ]
	nc_run "scp -t $D/rw/esc/new" 'C0644 6 new\nhello\n\0'
	[[ $output == *"Permission denied"* ]]
	# and the same write into :rw works
	nc_run "scp -t $D/rw/new" 'C0644 6 new\nhello\n\0'
	[ "$status" -eq 0 ]
	[ "$(cat "$D/rw/new")" = hello ]
	[ "$(tree_sum "$D/out")" = "$OUT_SUM" ]
	[ "$(tree_sum "$D/ro")" = "$RO_SUM" ]
}

@test "copy-guard landlock: rsync push and pull outside the roots fail" {
	need_landlock
	cat >"$D/rsh" <<EOS
#!/bin/sh
shift
SSH_ORIGINAL_COMMAND="\$*" exec "$LX" -r "$D/ro:ro" -r "$D/rw:rw"
EOS
	chmod +x "$D/rsh"
	run rsync -a -e "$D/rsh" "$D/local/src/" "h:$D/out/x/"
	[ "$status" -ne 0 ]
	[[ $output == *"Permission denied"* ]]
	run rsync -a -e "$D/rsh" "h:$D/out/" "$D/local/o/"
	[ "$status" -ne 0 ]
	[ ! -e "$D/local/o/secret" ]
	run rsync -a -e "$D/rsh" "$D/local/src/" "h:$D/ro/x/"
	[ "$status" -ne 0 ]
	# the same client into :rw goes through the same wrapper
	run rsync -a -e "$D/rsh" "$D/local/src/" "h:$D/rw/x/"
	[ "$status" -eq 0 ]
	cmp "$D/local/src/f" "$D/rw/x/f"
	[ "$(tree_sum "$D/out")" = "$OUT_SUM" ]
	[ "$(tree_sum "$D/ro")" = "$RO_SUM" ]
}

@test "copy-guard landlock: inside, no TCP, no exec, nothing outside" {
	need_landlock
	sshd_start "$D/sshd"
	# a stand-in for sftp-server (-s): it gets exactly what sftp-server
	# gets; it speaks on stderr, as its stdout is the sftp filter's input
	cat >"$D/probe.c" <<'EOC'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void
say(const char *what, int rc)
{
	fprintf(stderr, "%s %s\n", what, rc == -1 ? strerror(errno) : "ok");
}
int
main(void)
{
	struct sockaddr_in a;
	char *const av[] = { "sh", "-c", "true", NULL };
	int s;

	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(PORT);
	s = socket(AF_INET, SOCK_STREAM, 0);
	say("connect", connect(s, (struct sockaddr *)&a, sizeof(a)));
	s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	say("bind", bind(s, (struct sockaddr *)&a, sizeof(a)));
	say("read-outside", open(OUTSIDE, O_RDONLY));
	say("read-etc", open("/etc/hostname", O_RDONLY));
	say("write-ro", open(ROFILE, O_WRONLY | O_CREAT, 0644));
	say("read-ro", open(ROFILE, O_RDONLY));
	say("write-rw", open(RWFILE, O_WRONLY | O_CREAT, 0644));
	say("exec", execv("/bin/sh", av));
	return 0;
}
EOC
	cc -DPORT="$SSHD_PORT" -DOUTSIDE="\"$D/out/secret\"" \
	    -DROFILE="\"$D/ro/blob\"" -DRWFILE="\"$D/rw/new\"" \
	    -o "$D/probe" "$D/probe.c"
	SSH_ORIGINAL_COMMAND=internal-sftp run "$BUILD/bin/ssh-copy-guard" \
	    -r "$D/ro:ro" -r "$D/rw:rw" -s "$D/probe"
	echo "$output"
	[[ $output == *"connect Permission denied"* ]]
	[[ $output == *"bind Permission denied"* ]]
	[[ $output == *"read-outside Permission denied"* ]]
	[[ $output == *"read-etc Permission denied"* ]]
	[[ $output == *"write-ro Permission denied"* ]]
	[[ $output == *"read-ro ok"* ]]
	[[ $output == *"write-rw ok"* ]]
	[[ $output == *"exec Permission denied"* ]]
	# the same probe unconfined reaches all of it
	run env -u SSH_ORIGINAL_COMMAND "$D/probe"
	[[ $output == *"connect ok"* ]]
	[[ $output == *"read-outside ok"* ]]
}

# hide_landlock: the wrapper that makes the Landlock system calls fail with
# ENOSYS, as on a kernel without it.
hide_landlock() {
	[ -x "$NL" ] || skip "no $NL (make check builds it)"
}

@test "copy-guard landlock: without Landlock, one notice, then argument checks" {
	hide_landlock
	SSH_ORIGINAL_COMMAND="scp -f $D/ro/blob" run "$NL" \
	    "$BUILD/bin/ssh-copy-guard" -v -r "$D/ro" < <(printf '\0')
	[[ $output == *"landlock: ABI 0 (none)"* ]]
	[[ $output == *"Landlock not available: argument checks only"* ]]
	[[ $output == *C0644\ 5\ blob* ]]
	[ "$(grep -c 'not available' <<<"$output")" -eq 1 ]
	# -q silences the notice
	SSH_ORIGINAL_COMMAND="scp -f $D/ro/blob" run "$NL" \
	    "$BUILD/bin/ssh-copy-guard" -q -r "$D/ro" < <(printf '\0')
	[[ $output != *"not available"* ]]
	# sftp is served: its request filter, not Landlock, confines it
	SSH_ORIGINAL_COMMAND=internal-sftp run "$NL" \
	    "$BUILD/bin/ssh-copy-guard" -q -r "$D/ro" </dev/null
	[ "$status" -eq 0 ]
	[[ $output != *"needs Landlock"* ]]
}

@test "copy-guard landlock: copy.require_landlock: true refuses without it" {
	hide_landlock
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
}
