#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# A tunnel definition cannot run a command. ssh puts HostName (%h), User
# (%r), Port and ProxyJump into the Match exec line of the shipped snippet
# and into a ProxyCommand, which /bin/sh runs; so every ssh_options value
# has a grammar, checked wherever a definition comes from: -o, the config
# file's tunnels:, a tunnels.d file edited by hand, the MCP server. Each
# attack runs with the snippet Included in the user's ~/.ssh/config, and
# the test shows that nothing ran (the marker is absent) and nothing was
# written.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd
load ../lib/tunnel
load ../lib/mcp
load ../lib/userssh

setup() {
	common_setup
	userssh_skip
	tunnel_fixture
	write_config <<EOC
default: {ssh: deny, tunnels: allow}
hosts:
  127.0.0.1: {ssh: allow}
EOC
	userssh_config
	M=$BATS_TEST_TMPDIR/pwned
	TD=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mapfile -t a < <(printf '%s\n' -m daemon -b "$ME@127.0.0.1:$BPORT" \
	    -s "$KEY" -p "$RPORT" -l "127.0.0.1:$BPORT" \
	    -o "UserKnownHostsFile=$B/known_hosts")
}

teardown() {
	tunnel_teardown
}

# attacks: ssh_options values, each of which would create $M if it reached
# a shell (a redirection alone creates the file: no space needed, as in the
# issue's HostName=127.0.0.1$(id>FILE)).
attacks() {
	printf '%s\n' \
	    "HostName=127.0.0.1\$(>$M)" \
	    "HostName=127.0.0.1\`>$M\`" \
	    "HostName=127.0.0.1;>$M" \
	    "HostName=x|>$M" \
	    "HostName=x&>$M" \
	    "ProxyJump=x;>$M" \
	    "ProxyJump=\$(>$M)@127.0.0.1" \
	    "ProxyJump=127.0.0.1,x\$(>$M)" \
	    "User=\$(>$M)" \
	    "User=a;>$M" \
	    "HostKeyAlias=\$(>$M)" \
	    "Port=22\$(>$M)" \
	    "BindAddress=\$(>$M)" \
	    "UserKnownHostsFile=/x\$(>$M)" \
	    "IdentityFile=~/\$(>$M)" \
	    "IdentityAgent=\${HOME}" \
	    "HostName=%h" \
	    "User=%u" \
	    "HostName=0.0.0.0" \
	    "StrictHostKeyChecking=no\$(>$M)" \
	    "Ciphers=aes128-ctr\$(>$M)"
}

# nothing_happened: no marker, no definition, no state, no supervisor.
nothing_happened() {
	sleep 0.3
	[ ! -e "$M" ]
	[ ! -e "$TD" ] || [ -z "$(ls -A "$TD")" ]
	[ ! -e "$XDG_RUNTIME_DIR/scitex-ssh" ] ||
	    [ -z "$(ls -A "$XDG_RUNTIME_DIR/scitex-ssh")" ]
	[ -z "$(supervisor_pids)" ]
}

@test "the fixture is live: a good tunnel with the snippet comes up and carries a connection" {
	run in_home ssh-tunnel-up "${a[@]}" -o HostName=127.0.0.1 t1
	echo "$output"
	[ "$status" -eq 0 ]
	wait_state t1 up
	banner=$(timeout 10 nc -q 1 127.0.0.1 "$RPORT" </dev/null | head -1)
	[[ $banner == SSH-2.0-* ]]
}

@test "the fixture is live: the snippet's gate applies to the supervisor's ssh" {
	# The same tunnel under a policy that denies ssh to 127.0.0.1 never
	# comes up, and sshd sees no connection: Match exec did run.
	write_config <<EOC
default: {ssh: deny, tunnels: allow}
EOC
	: >"$B/sshd.log"
	in_home ssh-tunnel-up "${a[@]}" -o HostName=127.0.0.1 t1 &
	wait_state t1 backoff
	! grep -q "Connection from" "$B/sshd.log" || false
}

@test "-o: each hostile value is refused, naming the option; nothing ran, nothing written" {
	while IFS= read -r o; do
		run --separate-stderr in_home ssh-tunnel-up "${a[@]}" -o "$o" t1
		echo "-o $o: $status: $stderr"
		[ "$status" -eq 65 ]
		[[ $stderr == "ssh-tunnel-up: -o: ${o%%=*}: "* ]]
		nothing_happened
	done < <(attacks)
}

@test "-n (dry run) refuses them too" {
	run --separate-stderr in_home ssh-tunnel-up -n "${a[@]}" \
	    -o "HostName=127.0.0.1\$(>$M)" t1
	[ "$status" -eq 65 ]
	[ -z "$output" ]
	nothing_happened
}

@test "a tunnels.d file edited by hand: 78 with file:line:col, for up and for the supervisor" {
	mkdir -p "$TD"
	while IFS= read -r o; do
		cat >"$TD/t1.yaml" <<EOY
bastion: "$ME@127.0.0.1:$BPORT"
key: "$KEY"
forwards: ["R $RPORT:127.0.0.1:$BPORT"]
ssh_options:
  - "UserKnownHostsFile=$B/known_hosts"
  - '$o'
EOY
		before=$(tree_sum "$HOME")
		for cmd in "ssh-tunnel-up -m daemon t1" "ssh-tunnel-up -f t1"; do
			# shellcheck disable=SC2086
			run --separate-stderr in_home $cmd
			echo "$cmd ($o): $status: $stderr"
			[ "$status" -eq 78 ]
			[[ $stderr == *"$TD/t1.yaml:6:5: ${o%%=*}: "* ]]
			[ "$(tree_sum "$HOME")" = "$before" ]
			[ ! -e "$M" ]
			[ -z "$(supervisor_pids)" ]
		done
	done < <(attacks)
}

@test "the config file's tunnels: section: 78 with file:line:col, and -n says so" {
	write_config <<EOC
default: {ssh: deny, tunnels: allow}
hosts:
  127.0.0.1: {ssh: allow}
tunnels:
  t1:
    bastion: $ME@127.0.0.1:$BPORT
    key: $KEY
    forwards: [R $RPORT:127.0.0.1:$BPORT]
    ssh_options: ['HostName=127.0.0.1\$(>$M)']
EOC
	run --separate-stderr in_home ssh-tunnel-up -m daemon t1
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:9:19: HostName: "* ]]
	run --separate-stderr ssh-allow-check -n
	[ "$status" -eq 78 ]
	[[ $stderr == *"$CONF:9:19: HostName: "* ]]
	nothing_happened
}

@test "ssh-tunnel-mcp tunnel_setup: each hostile value is an error result; nothing ran, nothing written" {
	local i=0 msgs=()
	before=$(tree_sum "$HOME")
	while IFS= read -r o; do
		i=$((i + 1))
		msgs+=("$(mcp_call "$i" tunnel_setup "$(jq -cn \
		    --arg b "$ME@127.0.0.1:$BPORT" --arg k "$KEY" \
		    --argjson p "$RPORT" --arg f "R $RPORT:127.0.0.1:$BPORT" \
		    --arg o "$o" '{name: "t1", bastion: $b, port: $p, key: $k,
		    forwards: [$f], ssh_options: [$o], backend: "daemon"}')")")
	done < <(attacks)
	run --separate-stderr in_home bash -c "$(declare -f mcp_session); \
	    MCP_INIT='$MCP_INIT' MCP_READY='$MCP_READY' mcp_session \"\$@\"" \
	    _ "${msgs[@]}"
	[ "$status" -eq 0 ]
	i=0
	while IFS= read -r o; do
		i=$((i + 1))
		[ "$(mcp_result "$i" .isError)" = true ]
		text=$(mcp_result "$i" '.content[0].text')
		echo "$o: $text"
		[[ $text == *"${o%%=*}: "* ]]
	done < <(attacks)
	[ "$(tree_sum "$HOME")" = "$before" ]
	nothing_happened
}

@test "ProxyCommand ssh-allow-check -W %h:%p: the gate sees the definition's HostName, a hostile one never reaches it" {
	# The data-path gate, as ssh-allow-check(1) documents it.
	userssh_config "Host *" "	ProxyCommand ssh-allow-check -W %h:%p"
	run --separate-stderr in_home ssh-tunnel-up "${a[@]}" \
	    -o "HostName=127.0.0.1\$(>$M)" t1
	[ "$status" -eq 65 ]
	nothing_happened
	# A HostName the policy denies: the relay refuses, sshd sees nothing.
	write_config <<EOC
default: {ssh: deny, tunnels: allow}
hosts:
  127.0.0.1: {ssh: allow}
  localhost: {ssh: deny}
EOC
	: >"$B/sshd.log"
	in_home ssh-tunnel-up "${a[@]}" -o HostName=localhost t1 &
	wait_state t1 backoff
	! grep -q "Connection from" "$B/sshd.log" || false
	ssh-tunnel-down -q t1
	# Allowed: up, through the relay.
	in_home ssh-tunnel-up "${a[@]}" -o HostName=127.0.0.1 t2
	wait_state t2 up
}
