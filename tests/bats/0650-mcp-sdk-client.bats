#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp driven by the reference MCP client, the TypeScript SDK,
# which negotiates the version, lists the tools and checks every
# structuredContent against the tool's outputSchema. The SDK, pinned by
# tests/mcp-sdk/package-lock.json, is what `make check` (.ci/deps check)
# installs into build/mcp-sdk; MCP_SDK_DIR names another install. Nothing
# is fetched here.

load ../lib/common

setup() {
	common_setup
	: "${MCP_SDK_DIR:=$TOP/build/mcp-sdk}"
	[ -d "$MCP_SDK_DIR/node_modules/@modelcontextprotocol/sdk" ] ||
	    skip "no SDK in $MCP_SDK_DIR (make deps-check installs it)"
	command -v node >/dev/null || skip "node is not installed"
	# The script beside a link to the SDK: node finds the modules, and
	# nothing is written outside the test's own directory.
	ln -s "$MCP_SDK_DIR/node_modules" "$BATS_TEST_TMPDIR/node_modules"
	write_config <<'EOC'
default: {ssh: allow, tunnels: deny}
hosts:
  labbox: {tunnels: allow}
EOC
	cat >"$BATS_TEST_TMPDIR/check.mjs" <<'EOJ'
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const transport = new StdioClientTransport({ command: process.argv[2],
    env: process.env, stderr: "ignore" });
const client = new Client({ name: "scitex-ssh-bats", version: "1" });
await client.connect(transport);
const out = { server: client.getServerVersion().name };
out.tools = (await client.listTools()).tools.map((t) => t.name);
const call = async (name, args) => {
	const r = await client.callTool({ name, arguments: args });
	return { isError: r.isError === true, sc: r.structuredContent ?? null,
	    text: r.content[0].text };
};
out.allow = await call("allow_check", { host: "LabBox", feature: "tunnels" });
out.deny = await call("allow_check", { host: "other", feature: "tunnels" });
out.bad = await call("allow_check", { host: "a;b" });
out.status = await call("tunnel_status", {});
out.dry = await call("tunnel_setup", { name: "lab",
    bastion: "u@gw.example.org", port: 2222, dry_run: true });
try {
	await client.callTool({ name: "nope", arguments: {} });
} catch (e) {
	out.unknown = e.code;
}
await client.ping();
await client.close();
console.log(JSON.stringify(out));
EOJ
}

@test "the MCP TypeScript SDK client: handshake, tools, schemas, errors" {
	run node "$BATS_TEST_TMPDIR/check.mjs" "$BUILD/bin/ssh-tunnel-mcp"
	echo "$output"
	[ "$status" -eq 0 ]
	r=$output
	[ "$(jq -r .server <<<"$r")" = ssh-tunnel-mcp ]
	[ "$(jq -c .tools <<<"$r")" = \
	    '["allow_check","tunnel_setup","tunnel_status","tunnel_remove","tunnel_probe","tunnel_client_config","tunnel_bastion_config","tunnel_log","policy_check","copy_guard_line","copy_guard_check","exec","probe_host","copy_to","copy_from","sync"]' ]
	[ "$(jq -r .allow.sc.decision <<<"$r")" = allow ]
	[ "$(jq -r .deny.sc.decision <<<"$r")" = deny ]
	[ "$(jq -r .bad.isError <<<"$r")" = true ]
	[ "$(jq -c .status.sc <<<"$r")" = '{"tunnels":[],"all_up":true}' ]
	[ "$(jq -r .dry.sc.dry_run <<<"$r")" = true ]
	[ "$(jq -r .unknown <<<"$r")" = -32602 ]
}
