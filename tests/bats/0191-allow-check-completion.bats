#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Shell completion of ssh-allow-check(1), bash and zsh, typed as a user
# would: options, -F files, -f features, hosts as ssh completes them.

load ../lib/common
load ../lib/complete

setup() {
	common_setup
	cat >"$HOME/.ssh/known_hosts" <<'EOF'
gw.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3yvS1cLhnn0ni6w9bHRbUXfxCqIJcvHNvZ7q2fZJ8b
[node7.hpc.example.edu]:2022 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3yvS1cLhnn0ni6w9bHRbUXfxCqIJcvHNvZ7q2fZJ8b
EOF
	printf 'Host labbox\n\tHostName localhost\n' >"$HOME/.ssh/config"
	mkdir -p "$BATS_TEST_TMPDIR/pol"
	: >"$BATS_TEST_TMPDIR/pol/site.yaml"
	: >"$BATS_TEST_TMPDIR/pol/site-old.yaml"
}

# has WORD: WORD is one of the lines of $output.
has() {
	grep -qxF -- "$1" <<<"$output" || {
		printf 'no "%s" in:\n%s\n' "$1" "$output" >&2
		return 1
	}
}

# only PATTERN: every line of $output matches the shell PATTERN.
only() {
	local l
	while IFS= read -r l; do
		# shellcheck disable=SC2053
		[[ $l == $1 ]] || { printf '"%s" does not match %s\n' "$l" "$1" >&2; return 1; }
	done <<<"$output"
}

@test "bash: - offers every option, and nothing else" {
	run complete_bash ssh-allow-check "-"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "-- -F -P -V -W -d -f -h -n -q -v -x " ]
}

@test "bash: -f offers the features" {
	run complete_bash ssh-allow-check "-f "
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "copy exec ssh tunnels " ]
	run complete_bash ssh-allow-check "-q -f tu"
	[ "$output" = tunnels ]
}

@test "bash: -F completes file names" {
	run complete_bash ssh-allow-check "-F $BATS_TEST_TMPDIR/pol/site"
	[ "$status" -eq 0 ]
	has "$BATS_TEST_TMPDIR/pol/site.yaml"
	has "$BATS_TEST_TMPDIR/pol/site-old.yaml"
	[ "${#lines[@]}" -eq 2 ]
}

@test "bash: the host completes from known_hosts and ssh_config, as for ssh" {
	run complete_bash ssh-allow-check ""
	[ "$status" -eq 0 ]
	has gw.example.org
	has node7.hpc.example.edu
	has labbox
	run complete_bash ssh-allow-check "-f tunnels n"
	has node7.hpc.example.edu
	only 'n*'
	run complete_bash ssh-allow-check "-d -- l"
	has labbox
}

@test "bash: -W completes host: then the port" {
	run complete_bash ssh-allow-check "-P -W gw"
	[ "$status" -eq 0 ]
	[ "$output" = gw.example.org: ]
	# Readline replaces only what follows the ':', so that is what comes.
	run complete_bash ssh-allow-check "-W gw.example.org:"
	[ "$output" = 22 ]
}

@test "bash: nothing more after the host, after -W host:port, after -n" {
	run complete_bash ssh-allow-check "labbox "
	[ -z "$output" ]
	run complete_bash ssh-allow-check "-W gw.example.org:22 "
	[ -z "$output" ]
	run complete_bash ssh-allow-check "-n "
	[ -z "$output" ]
}

@test "bash: after --, a word with - is a host, not an option" {
	run complete_bash ssh-allow-check "-- -"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run complete_bash ssh-allow-check "-- g"
	has gw.example.org
}

@test "bash: without bash-completion installed it still completes" {
	BASH_COMPLETION=/nonexistent run complete_bash ssh-allow-check "-f "
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "copy exec ssh tunnels " ]
	BASH_COMPLETION=/nonexistent run complete_bash ssh-allow-check "-"
	has -W
	BASH_COMPLETION=/nonexistent run complete_bash ssh-allow-check "-F $BATS_TEST_TMPDIR/pol/site."
	[ "$output" = "$BATS_TEST_TMPDIR/pol/site.yaml" ]
}

@test "zsh: the completion loads" {
	complete_zsh_loads ssh-allow-check
}

@test "zsh: options, features, files and hosts" {
	run complete_zsh ssh-allow-check "-"
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "-F -P -V -W -d -f -h -n -q -v -x " ]
	run complete_zsh ssh-allow-check "-f "
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "copy exec ssh tunnels " ]
	run complete_zsh ssh-allow-check "-F $BATS_TEST_TMPDIR/pol/site."
	has site.yaml
	run complete_zsh ssh-allow-check ""
	has gw.example.org
	has node7.hpc.example.edu
	run complete_zsh ssh-allow-check "-W g"
	has gw.example.org
}

@test "zsh: after -n only what -n allows; after -W host:port no host" {
	run complete_zsh ssh-allow-check "-n "
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "-F -V -h " ]
	run complete_zsh ssh-allow-check "-W gw.example.org:22 "
	only '-*'
}
