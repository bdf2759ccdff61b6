#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# The discovery forward: an L forward whose target host and port come from
# a JSON file that a scheduler rewrites on every relaunch, reached through
# a stable login host. Three throwaway sshds: the login host (the
# fixture's bastion) and two "compute nodes" behind it; which node answers
# on the local port is told by its host key (ssh-keyscan through the
# tunnel). The file is rewritten under a running tunnel; a missing,
# malformed or hostile file is reason `discovery`, never a crash, and
# never reaches ssh's argv.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	sshd_start "$BATS_TEST_TMPDIR/node1"
	N1=$SSHD_PORT
	sshd_start "$BATS_TEST_TMPDIR/node2"
	N2=$SSHD_PORT
	LPORT=$(free_port)
	DISC=$BATS_TEST_TMPDIR/shared/endpoint.json
	mkdir -p "$BATS_TEST_TMPDIR/shared"
	PWNED=$BATS_TEST_TMPDIR/pwned
}

teardown() {
	tunnel_teardown
}

# define: the tunnel "qwen", as a user (or configuration management)
# writes it into tunnels.d.
define() {
	mkdir -p "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d"
	cat >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/qwen.yaml" <<EOC
bastion: $ME@127.0.0.1:$BPORT
key: $KEY
discovery:
  file: $DISC
  local: 127.0.0.1:$LPORT
ssh_options: [UserKnownHostsFile=$B/known_hosts]
EOC
}

# publish NODE PORT: the scheduler's rewrite, atomic (a rename).
publish() {
	printf '{"node": "%s", "litellm_port": %s, "updated_at": "%s"}\n' \
	    "$1" "$2" "$(date -u +%FT%TZ)" >"$DISC.tmp"
	mv "$DISC.tmp" "$DISC"
}

# key_of DIR: the host key of the sshd in DIR, as ssh-keyscan prints it.
key_of() {
	cut -d' ' -f2 "$1/host_ed25519.pub"
}

# answering: the host key of whoever answers on the local port.
answering() {
	ssh-keyscan -T 3 -t ed25519 -p "$LPORT" 127.0.0.1 2>/dev/null |
	    awk '{ print $3 }'
}

# wait_node DIR SECONDS: until the node in DIR answers on the local port.
wait_node() {
	local i want n=$((${2:-10} * 10))
	want=$(key_of "$1")
	for ((i = 0; i < n; i++)); do
		[ "$(answering)" = "$want" ] && return 0
		sleep 0.1
	done
	echo "wait_node: ${1##*/} never answered; now: $(ssh-tunnel-ls qwen)" >&2
	return 1
}

supervisor() {
	read -r p _ <"$XDG_RUNTIME_DIR/scitex-ssh/qwen.pid"
	echo "$p"
}

# ssh_argv: the command line of the supervisor's ssh, if one runs.
ssh_argv() {
	local c
	for c in $(ps -o pid= --ppid "$(supervisor)"); do
		tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null
		echo
	done
}

@test "discovery: through the login host to the node the file names, re-pointed when it is rewritten" {
	define
	publish localhost "$N1"
	ssh-tunnel-up -q qwen
	wait_state qwen up 30
	wait_node "$BATS_TEST_TMPDIR/node1" 10
	pid=$(supervisor)
	ssh_argv | grep -q -- "-L 127.0.0.1:$LPORT:localhost:$N1"

	# The scheduler relaunched the service on another node: a rename.
	t0=$EPOCHREALTIME
	publish 127.0.0.1 "$N2"
	wait_node "$BATS_TEST_TMPDIR/node2" 10
	took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
	echo "re-pointed in $took s" >&3
	awk -v t="$took" 'BEGIN { exit !(t < 3) }'
	[ "$(supervisor)" = "$pid" ]
	wait_state qwen up 10

	# Rewritten in place (truncate and write), as a plain script would.
	printf '{"node": "localhost", "litellm_port": %s}\n' "$N1" >"$DISC"
	wait_node "$BATS_TEST_TMPDIR/node1" 10
	[ "$(supervisor)" = "$pid" ]

	# The same target written again: no reconnect.
	r=$(ssh-tunnel-ls qwen | cut -f8)
	printf '{"node": "localhost", "litellm_port": %s}\n' "$N1" >"$DISC"
	sleep 2
	[ "$(ssh-tunnel-ls qwen | cut -f8)" = "$r" ]
	[ "$(state_of qwen)" = up ]
}

@test "discovery: a missing file is reason discovery, and the tunnel comes up once it appears" {
	define
	run ssh-tunnel-up -q qwen
	[ "$status" -eq 69 ]
	wait_reason qwen discovery 10
	run ssh-tunnel-ls -j qwen
	[ "$status" -eq 1 ]
	[[ $output == *'"reason": "discovery"'* ]] ||
	    [[ $output == *'"reason":"discovery"'* ]]
	[ -z "$(ssh_argv)" ]
	running "$(supervisor)"

	publish localhost "$N1"
	wait_state qwen up 10
	wait_node "$BATS_TEST_TMPDIR/node1" 10
}

@test "discovery: malformed and hostile files are reason discovery and never reach ssh's argv" {
	define
	printf 'not json at all\n' >"$DISC"
	run ssh-tunnel-up -q qwen
	[ "$status" -eq 69 ]
	pid=$(supervisor)
	for bad in \
	    '[1, 2]' \
	    '{"node": "localhost"}' \
	    '{"litellm_port": 4000}' \
	    "{\"node\": \"localhost\", \"litellm_port\": 70000}" \
	    "{\"node\": \"localhost\", \"litellm_port\": 0}" \
	    "{\"node\": \"localhost\", \"litellm_port\": \"$N1; touch $PWNED\"}" \
	    "{\"node\": \"-oProxyCommand=touch $PWNED\", \"litellm_port\": $N1}" \
	    "{\"node\": \"localhost touch\", \"litellm_port\": $N1}" \
	    "{\"node\": \"localhost;touch $PWNED\", \"litellm_port\": $N1}" \
	    "{\"node\": \"\$(touch $PWNED)\", \"litellm_port\": $N1}" \
	    "{\"node\": \"local\\nhost\", \"litellm_port\": $N1}" \
	    '{"node": "localhost", "litellm_port": 4000'; do
		printf '%s\n' "$bad" >"$DISC"
		sleep 0.5
		wait_reason qwen discovery 10
		[ -z "$(ssh_argv | grep -e touch -e ProxyCommand -e 70000)" ]
		[ ! -e "$PWNED" ]
		[ "$(supervisor)" = "$pid" ]
	done
	run ssh-tunnel-ls qwen
	[ "$status" -eq 1 ]
	grep -q discovery "$XDG_RUNTIME_DIR/scitex-ssh/qwen.log"

	# And a good file brings it up, with the same supervisor.
	publish localhost "$N1"
	wait_state qwen up 10
	[ "$(supervisor)" = "$pid" ]
	[ ! -e "$PWNED" ]
}

@test "discovery: a file that goes bad under an up tunnel keeps the last good target" {
	define
	publish localhost "$N1"
	ssh-tunnel-up -q qwen
	wait_state qwen up 30
	wait_node "$BATS_TEST_TMPDIR/node1" 10
	r=$(ssh-tunnel-ls qwen | cut -f8)

	# Half written, then gone: the service may be moving; what works stays.
	printf '{"node": "local' >"$DISC"
	sleep 1
	rm -f "$DISC"
	sleep 1
	[ "$(state_of qwen)" = up ]
	[ "$(ssh-tunnel-ls qwen | cut -f9)" = discovery ]
	[ "$(ssh-tunnel-ls qwen | cut -f8)" = "$r" ]
	wait_node "$BATS_TEST_TMPDIR/node1" 5

	publish 127.0.0.1 "$N2"
	wait_node "$BATS_TEST_TMPDIR/node2" 10
	wait_state qwen up 10
	[ "$(ssh-tunnel-ls qwen | cut -f9)" = - ]
}

@test "discovery: a bad discovery block is a config error naming file:line:col" {
	mkdir -p "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d"
	f=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/qwen.yaml
	for block in \
	    'file: relative/endpoint.json' \
	    "file: $DISC
  port_field: \"litellm port\"" \
	    "file: $DISC
  local: 127.0.0.1:0" \
	    "file: $DISC
  remote_port: 70000" \
	    "file: $DISC
  nodes: gpu-a017"; do
		printf 'bastion: %s@127.0.0.1:%s\nkey: %s\ndiscovery:\n  %s\n' \
		    "$ME" "$BPORT" "$KEY" "$block" >"$f"
		before=$(tree_sum "$XDG_RUNTIME_DIR")
		run ssh-tunnel-up -q qwen
		[ "$status" -eq 78 ]
		[[ $output == *"qwen.yaml:"[0-9]*:[0-9]* ]]
		[ "$(tree_sum "$XDG_RUNTIME_DIR")" = "$before" ]
	done
}

@test "discovery: -n shows the ssh argv for the target the file names now" {
	define
	publish gpu-a017 4000
	run ssh-tunnel-up -n qwen
	[ "$status" -eq 0 ]
	[[ $output == *"-L 127.0.0.1:$LPORT:gpu-a017:4000"* ]]
}

@test "discovery: --discovery defines it from flags, the definition reads back the same" {
	publish localhost "$N1"
	ssh-tunnel-up -q -b "$ME@127.0.0.1:$BPORT" -s "$KEY" \
	    -o "UserKnownHostsFile=$B/known_hosts" \
	    --discovery "$DISC" -l "127.0.0.1:$LPORT" qwen
	wait_node "$BATS_TEST_TMPDIR/node1" 10
	f=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/qwen.yaml
	grep -q "^discovery:" "$f"
	grep -q "file: \"$DISC\"" "$f"
	grep -q "local: \"127.0.0.1:$LPORT\"" "$f"
	! grep -q "^forwards:" "$f" || false
	# Read back unchanged: a reload (SIGHUP) keeps the running ssh.
	pid=$(supervisor)
	r=$(ssh-tunnel-ls qwen | cut -f8)
	kill -HUP "$pid"
	sleep 1
	[ "$(ssh-tunnel-ls qwen | cut -f8)" = "$r" ]
	grep -q "reloaded; unchanged" "$XDG_RUNTIME_DIR/scitex-ssh/qwen.log"
}

@test "discovery: hostile --discovery and -l values are refused and change nothing" {
	before=$(tree_sum "$XDG_CONFIG_HOME")
	for bad in "/tmp/\$(touch $PWNED).json" "/tmp/a b.json" \
	    "/tmp/x;touch $PWNED" $'/tmp/a\nb.json'; do
		run ssh-tunnel-up -q -b "$ME@127.0.0.1:$BPORT" -s "$KEY" \
		    --discovery "$bad" -l "127.0.0.1:$LPORT" qwen
		[ "$status" -eq 65 ]
		[[ $output == *"--discovery"* ]]
	done
	for bad in "127.0.0.1:0" "127.0.0.1:70000" "-oProxyCommand=x:1" \
	    "\$(touch $PWNED):4000"; do
		run ssh-tunnel-up -q -b "$ME@127.0.0.1:$BPORT" -s "$KEY" \
		    --discovery "$DISC" -l "$bad" qwen
		[ "$status" -eq 65 ]
	done
	[ "$(tree_sum "$XDG_CONFIG_HOME")" = "$before" ]
	[ ! -e "$PWNED" ]
}
