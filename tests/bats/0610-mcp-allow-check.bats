#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp's allow_check: decisions from a real config file, the same
# as ssh-allow-check's, the rule that decided, and config errors as tool
# errors that leave the server running.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/mcp

setup() {
	common_setup
	write_config <<'EOC'
default:
  ssh: allow
  tunnels: deny
hosts:
  labbox:   {tunnels: allow}
  "*.hpc.example.edu": {ssh: allow, tunnels: deny}
  "!*.example.edu,*.edu":  {ssh: deny}
EOC
}

# check HOST FEATURE: one allow_check call; its result in $output.
check() {
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 allow_check "{\"host\":\"$1\",\"feature\":\"$2\"}")"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "allow: the decision and the hosts: entry that made it" {
	check LabBox. tunnels
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.decision)" = allow ]
	[ "$(mcp_result 1 .structuredContent.host)" = labbox ]
	[ "$(mcp_result 1 .structuredContent.feature)" = tunnels ]
	[ "$(mcp_result 1 .structuredContent.rule)" = \
	    "$CONF:5:23: hosts: \"labbox\": tunnels: allow" ]
	# The text block is the same JSON.
	mcp_result 1 '.content[0].text | fromjson == $x' \
	    --argjson x "$(mcp_result 1 .structuredContent)"
}

@test "deny is an answer, not an error" {
	check www.mit.edu ssh
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.decision)" = deny ]
	[[ $(mcp_result 1 .structuredContent.rule) == *'"!*.example.edu,*.edu": ssh: deny' ]]
	check other tunnels
	[ "$(mcp_result 1 .structuredContent.decision)" = deny ]
	[[ $(mcp_result 1 .structuredContent.rule) == *"default: tunnels: deny"* ]]
}

@test "feature defaults to ssh" {
	run mcp_session "$(mcp_call 1 allow_check '{"host":"n1.hpc.example.edu"}')"
	[ "$(mcp_result 1 .structuredContent.feature)" = ssh ]
	[ "$(mcp_result 1 .structuredContent.decision)" = allow ]
}

@test "the same decisions as ssh-allow-check, host by host" {
	local h f want got msgs=() i=1
	local cases="labbox:tunnels labbox:ssh n1.hpc.example.edu:tunnels
	    n1.hpc.example.edu:ssh www.mit.edu:ssh www.example.edu:ssh
	    127.0.0.1:ssh ::ffff:127.0.0.1:tunnels 2001:DB8::1:ssh
	    anything:copy LABBOX.:tunnels"
	for c in $cases; do
		msgs+=("$(mcp_call $i allow_check \
		    "{\"host\":\"${c%:*}\",\"feature\":\"${c##*:}\"}")")
		i=$((i + 1))
	done
	run --separate-stderr mcp_session "${msgs[@]}"
	[ "$status" -eq 0 ]
	i=1
	for c in $cases; do
		h=${c%:*} f=${c##*:}
		if ssh-allow-check -f "$f" -- "$h"; then want=allow; else want=deny; fi
		got=$(mcp_result $i .structuredContent.decision)
		echo "$h $f: ssh-allow-check $want, mcp $got"
		[ "$got" = "$want" ]
		i=$((i + 1))
	done
}

@test "-F and SCITEX_SSH_CONFIG choose the file" {
	mkdir -p "$BATS_TEST_TMPDIR/alt"
	printf 'default: {tunnels: allow}\n' >"$BATS_TEST_TMPDIR/alt/c.yaml"
	msgs=$(printf '%s\n' "$MCP_INIT" \
	    "$(mcp_call 1 allow_check '{"host":"x","feature":"tunnels"}')")
	run ssh-tunnel-mcp -F "$BATS_TEST_TMPDIR/alt/c.yaml" <<<"$msgs"
	[ "$(mcp_result 1 .structuredContent.decision)" = allow ]
	SCITEX_SSH_CONFIG=$BATS_TEST_TMPDIR/alt/c.yaml run ssh-tunnel-mcp \
	    <<<"$msgs"
	[ "$(mcp_result 1 .structuredContent.decision)" = allow ]
	run ssh-tunnel-mcp <<<"$msgs"
	[ "$(mcp_result 1 .structuredContent.decision)" = deny ]
}

@test "no config file anywhere: deny" {
	[ ! -e /etc/scitex-ssh/config.yaml ] || skip "a system config exists"
	rm -f "$CONF"
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 allow_check '{"host":"labbox"}')"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 1 .structuredContent.decision)" = deny ]
	[[ $(mcp_result 1 .structuredContent.rule) == *"no config file"* ]]
}

@test "a broken config: a tool error naming file:line:column; the server goes on" {
	printf 'default:\n  ssh: maybe\n' >"$CONF"
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 allow_check '{"host":"labbox"}')" \
	    "$(mcp_req 2 ping)"
	[ "$status" -eq 0 ]
	[ "$(mcp_result 1 .isError)" = true ]
	[[ $(mcp_result 1 '.content[0].text') == "$CONF:2:8: "*"allow or deny"* ]]
	mcp_resp 1 | jq -e '.result | has("structuredContent") | not'
	[ "$(mcp_resp 2 | jq -c .result)" = "{}" ]
	# Noted at start on stderr, for whoever reads the client's log.
	[[ $stderr == *"$CONF:2:8"* ]]
}

@test "-F naming a missing file: noted at start, each call answers the error" {
	run --separate-stderr ssh-tunnel-mcp -F /nonexistent/c.yaml \
	    < <(echo "$MCP_INIT"; mcp_call 1 allow_check '{"host":"a"}')
	[ "$status" -eq 0 ]
	[[ $stderr == *"/nonexistent/c.yaml"* ]]
	[ "$(mcp_result 1 .isError)" = true ]
	[[ $(mcp_result 1 '.content[0].text') == *"/nonexistent/c.yaml"* ]]
}

@test "the file is read on every call: an edit applies at once" {
	coproc MCP { ssh-tunnel-mcp; }
	# bash forgets MCP_PID once the coprocess has ended: keep it.
	pid=$MCP_PID
	echo "$MCP_INIT" >&"${MCP[1]}"
	read -r line <&"${MCP[0]}"
	mcp_call 1 allow_check '{"host":"x","feature":"tunnels"}' >&"${MCP[1]}"
	read -r output <&"${MCP[0]}"
	[ "$(mcp_result 1 .structuredContent.decision)" = deny ]
	printf 'default: {tunnels: allow}\n' >"$CONF"
	mcp_call 2 allow_check '{"host":"x","feature":"tunnels"}' >&"${MCP[1]}"
	read -r output <&"${MCP[0]}"
	[ "$(mcp_result 2 .structuredContent.decision)" = allow ]
	exec {MCP[1]}>&-
	wait "$pid"
}

@test "hostile or malformed hosts: a tool error with the library's message" {
	local h i=1 msgs=()
	local hosts=('a;reboot' '$(id)' 'a b' '-oProxyCommand=x' 'u@h'
	    'h/x' 'a,b' '127.1' '2130706433' 'a..b' 'é.example' '')
	for h in "${hosts[@]}"; do
		msgs+=("$(mcp_call $i allow_check "$(jq -cn --arg h "$h" \
		    '{host: $h}')")")
		i=$((i + 1))
	done
	run --separate-stderr mcp_session "${msgs[@]}"
	[ "$status" -eq 0 ]
	for ((i = 1; i <= ${#hosts[@]}; i++)); do
		mcp_result $i .isError | grep -qx true
		text=$(mcp_result $i '.content[0].text')
		echo "${hosts[i - 1]}: $text"
		[[ $text == *"not a valid host"* || $text == "host: empty" ]]
	done
}

@test "a bad feature name is a tool error" {
	run mcp_session "$(mcp_call 1 allow_check '{"host":"a","feature":"-x"}')" \
	    "$(mcp_call 2 allow_check '{"host":"a","feature":"a b"}')"
	[ "$(mcp_result 1 .isError)" = true ]
	[[ $(mcp_result 1 '.content[0].text') == *"feature"* ]]
	[ "$(mcp_result 2 .isError)" = true ]
}
