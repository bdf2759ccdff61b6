#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp driven by a second independent client, the MCP Inspector
# CLI (@modelcontextprotocol/inspector-cli, pinned beside the SDK by
# tests/mcp-sdk/package-lock.json and installed into build/mcp-sdk by
# .ci/deps check; MCP_SDK_DIR names another install). Nothing is fetched
# here.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/mcp

setup() {
	common_setup
	: "${MCP_SDK_DIR:=$TOP/build/mcp-sdk}"
	INSPECTOR=$MCP_SDK_DIR/node_modules/@modelcontextprotocol/inspector-cli/build/index.js
	[ -f "$INSPECTOR" ] ||
	    skip "no Inspector CLI in $MCP_SDK_DIR (make deps-check installs it)"
	command -v node >/dev/null || skip "node is not installed"
	write_config <<'EOC'
default: {ssh: allow, tunnels: deny}
hosts:
  labbox: {tunnels: allow}
EOC
	cd "$BATS_TEST_TMPDIR" || return 1
}

# inspect ARGS...: the Inspector CLI against the fresh build, over stdio.
inspect() {
	node "$INSPECTOR" "$BUILD/bin/ssh-tunnel-mcp" "$@"
}

@test "Inspector CLI tools/list: the tools the server lists itself" {
	run --separate-stderr inspect --method tools/list
	echo "$output" | head -50
	[ "$status" -eq 0 ]
	got=$(jq -c '[.tools[].name]' <<<"$output")
	run --separate-stderr mcp_session "$(mcp_req 1 tools/list)"
	[ "$got" = "$(mcp_result 1 '[.tools[].name]' -c)" ]
	[ "$(jq length <<<"$got")" -ge 4 ]
}

@test "Inspector CLI tools/call: a decision, a dry run, an unknown tool" {
	run --separate-stderr inspect --method tools/call \
	    --tool-name allow_check --tool-arg host=LabBox feature=tunnels
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .isError <<<"$output")" = false ]
	[ "$(jq -r .structuredContent.decision <<<"$output")" = allow ]
	[ "$(jq -r .structuredContent.host <<<"$output")" = labbox ]

	run --separate-stderr inspect --method tools/call \
	    --tool-name tunnel_setup --tool-arg name=lab \
	    bastion=u@gw.example.org port=2222 dry_run=true
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .structuredContent.dry_run <<<"$output")" = true ]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/lab.yaml" ]

	run --separate-stderr inspect --method tools/call --tool-name nope
	echo "$stderr"
	[ "$status" -ne 0 ]
	[[ $stderr == *"-32602"*"Unknown tool: nope"* ]] ||
	    [[ $output == *"-32602"*"Unknown tool: nope"* ]]
}
