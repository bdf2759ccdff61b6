#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-copy-guard's own interface: usage is the SYNOPSIS, exit codes,
# -v, the config file, completions.

load ../lib/common
load ../lib/sshd

setup() {
	common_setup
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/ro" "$D/rw"
}

teardown() {
	sshd_stop_all
}

@test "copy-guard options: usage is the man page SYNOPSIS; -h, -V, errors" {
	local syn
	syn=$(mandoc -Tascii "$TOP/man/man8/ssh-copy-guard.8" | col -b |
	    sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//')
	run ssh-copy-guard -h
	[ "$status" -eq 0 ]
	[ "$output" = "usage: $syn" ]
	run ssh-copy-guard -x
	[ "$status" -eq 64 ]
	[[ ${lines[1]} == "usage: $syn" ]]
	run ssh-copy-guard -r "$D/ro" extra
	[ "$status" -eq 64 ]
	run ssh-copy-guard -V
	[ "$status" -eq 0 ]
	[[ $output == "ssh-copy-guard scitex-ssh "[0-9]* ]]
	run ssh-copy-guard -r relative
	[ "$status" -eq 64 ]
	run ssh-copy-guard -s sftp-server -r "$D/ro"
	[ "$status" -eq 64 ]
}

@test "copy-guard options: bad roots and no roots are config errors (78)" {
	run ssh-copy-guard -r "$D/nope"
	[ "$status" -eq 78 ]
	[[ $output == "ssh-copy-guard: root $D/nope: No such file"* ]]
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard
	[ "$status" -eq 78 ]
	[[ $output == *"no roots"* ]]
	run ssh-copy-guard -r "$D:rw" -r "$D/ro:ro"
	[ "$status" -eq 78 ]
	[[ $output == *"beneath read-write root"* ]]
	run ssh-copy-guard -r "$D/ro:ro" -r "$D:rw"
	[ "$status" -eq 78 ]
}

@test "copy-guard options: the copy: section, errors named by file:line:col" {
	cat >"$D/c.yaml" <<EOC
copy:
  roots:
    - {path: $D/ro, mode: ro}
    - {path: $D/rw, mode: rw}
EOC
	SSH_ORIGINAL_COMMAND="scp -t $D/rw" run ssh-copy-guard -n -F "$D/c.yaml"
	[ "$status" -eq 0 ]
	[ "$output" = "/usr/bin/scp -t -- $D/rw" ]
	printf '  sftp_server: /opt/from-file\n' >>"$D/c.yaml"
	SSH_ORIGINAL_COMMAND=internal-sftp run ssh-copy-guard -n -F "$D/c.yaml"
	[[ $output == "/opt/from-file "* ]]
	SSH_ORIGINAL_COMMAND=internal-sftp run ssh-copy-guard -n -F "$D/c.yaml" \
	    -s /opt/from-flag
	[[ $output == "/opt/from-flag "* ]]
	# -r replaces the file's roots
	SSH_ORIGINAL_COMMAND="scp -t $D/rw" run ssh-copy-guard -n -F "$D/c.yaml" \
	    -r "$D/ro"
	[ "$status" -eq 77 ]
	cat >"$D/c.yaml" <<EOC
copy:
  roots:
    - {path: $D/ro, mode: rx}
EOC
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -n -F "$D/c.yaml"
	[ "$status" -eq 78 ]
	[[ $output == "ssh-copy-guard: $D/c.yaml:3:"[0-9]*": mode is ro or rw" ]]
	printf 'copy: [\n' >"$D/bad.yaml"
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -F "$D/bad.yaml"
	[ "$status" -eq 78 ]
	[[ $output == *"$D/bad.yaml:"* ]]
}

@test "copy-guard options: nothing the client may write steers the guard" {
	# the user's own config files are not read: the key may reach them
	write_config <<EOC
copy:
  roots: [{path: /, mode: rw}]
EOC
	cp "$CONF" "$D/user.yaml"
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -n
	[ "$status" -eq 78 ]
	[[ $output == *"no roots"* ]]
	SCITEX_SSH_CONFIG=$D/user.yaml SSH_ORIGINAL_COMMAND="scp -f x" \
	    run ssh-copy-guard -n
	[ "$status" -eq 78 ]
	[[ $output == *"no roots"* ]]
	# a config file inside a writable root, or writable by others
	printf 'copy:\n  require_landlock: true\n' >"$D/rw/c.yaml"
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -n -r "$D/rw:rw" \
	    -F "$D/rw/c.yaml"
	[ "$status" -eq 78 ]
	[[ $output == *"lies in the writable root"* ]]
	printf 'copy:\n  require_landlock: true\n' >"$D/c.yaml"
	chmod 0666 "$D/c.yaml"
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -n -r "$D/ro" \
	    -F "$D/c.yaml"
	[ "$status" -eq 78 ]
	[[ $output == *"writable by group or others"* ]]
	# an sftp server the client could have uploaded
	cp /bin/true "$D/rw/sftp-server"
	SSH_ORIGINAL_COMMAND=internal-sftp run ssh-copy-guard -n -r "$D/rw:rw" \
	    -s "$D/rw/sftp-server"
	[ "$status" -eq 78 ]
	[[ $output == *"lies in the writable root"* ]]
}

@test "copy-guard options: -v names the Landlock ABI and what runs" {
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -v -r "$D/ro" </dev/null
	[[ $output == *"ssh-copy-guard: landlock: ABI "[0-9]* ]]
	[[ $output == *"/usr/bin/scp -f -- x"* ]]
	SCITEX_SSH_DEBUG_MODE=1 SSH_ORIGINAL_COMMAND="scp -f x" \
	    run ssh-copy-guard -r "$D/ro" </dev/null
	[[ $output == *"landlock: ABI"* ]]
	SSH_ORIGINAL_COMMAND="scp -f x" run ssh-copy-guard -r "$D/ro" </dev/null
	[[ $output != *"landlock: ABI"* ]]
}

@test "copy-guard options: the copy program gets a scrubbed environment" {
	cat >"$D/envdump.c" <<'EOC'
#include <stdio.h>
extern char **environ;
int
main(void)
{
	char **e;

	/* stderr: stdout is the sftp stream, which the filter reads */
	for (e = environ; *e != NULL; e++)
		fprintf(stderr, "%s\n", *e);
	return 0;
}
EOC
	cc -o "$D/envdump" "$D/envdump.c"
	SSH_ORIGINAL_COMMAND=internal-sftp LD_PRELOAD=/nonexistent.so \
	    LD_LIBRARY_PATH=/tmp BASH_ENV=/tmp/x LANG='C.UTF-8' \
	    LC_ALL='$(id)' run ssh-copy-guard -r "$D/ro" -s "$D/envdump" \
	    </dev/null
	# the "server" sends no sftp at all: the filter ends the session
	[[ $output == *"PATH=/usr/bin:/bin"* ]]
	[[ $output == *"LANG=C.UTF-8"* ]]
	# no HOME: rsync would read aliases from $HOME/.popt (issue 9)
	! grep -q -e '^LD_' -e '^BASH_ENV' -e '^LC_ALL' -e '^SSH_' \
	    -e '^HOME=' <<<"$output" || false
}

@test "copy-guard options: bash completion offers flags and root modes" {
	# shellcheck disable=SC1091
	source "$TOP/completions/bash/ssh-copy-guard"
	COMP_WORDS=(ssh-copy-guard -)
	COMP_CWORD=1
	_ssh_copy_guard
	[[ " ${COMPREPLY[*]} " == *" -r "* ]]
	COMP_WORDS=(ssh-copy-guard -r "$D/ro:r")
	COMP_CWORD=2
	_ssh_copy_guard
	[ "${COMPREPLY[*]}" = "$D/ro:ro $D/ro:rw" ]
	if command -v zsh >/dev/null; then
		zsh -n "$TOP/completions/zsh/_ssh-copy-guard"
	fi
}
