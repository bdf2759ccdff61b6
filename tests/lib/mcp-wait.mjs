// SPDX-License-Identifier: AGPL-3.0-only
// The MCP TypeScript SDK's client against ssh-tunnel-mcp while a tool
// waits: pings sent meanwhile and their latency, progress received, a
// cancel through an AbortSignal. Prints one JSON object.
//
//   node mcp-wait.mjs SERVER TOOL ARGS_JSON PINGS CANCEL_AFTER_MS
//
// PINGS pings are sent 300 ms apart once the call is under way;
// CANCEL_AFTER_MS > 0 aborts the call then (or, when it names a file,
// once that file exists), and a ping after it shows the server goes on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync } from "node:fs";

const [server, tool, argsJson, pingsArg, cancelArg] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: server,
    env: process.env, stderr: "ignore" });
const client = new Client({ name: "scitex-ssh-bats", version: "1" });
await client.connect(transport);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = { pings: [], progress: 0, cancelled: false };
const abort = new AbortController();
const t0 = Date.now();
const call = client.callTool({ name: tool, arguments: JSON.parse(argsJson) },
    undefined, { signal: abort.signal, timeout: 120000,
    onprogress: () => { out.progress++; } }).then(
    (r) => { out.result = { isError: r.isError === true,
	sc: r.structuredContent ?? null, text: r.content[0].text };
	out.call_ms = Date.now() - t0; },
    (e) => { out.error = String(e); out.call_ms = Date.now() - t0; });

await sleep(300);
for (let i = 0; i < Number(pingsArg); i++) {
	const t = performance.now();
	await client.ping();
	out.pings.push(Math.round((performance.now() - t) * 10) / 10);
	out.done_before_ping = out.result !== undefined;
	await sleep(300);
}
if (cancelArg !== "0") {
	if (Number(cancelArg) > 0)
		await sleep(Number(cancelArg));
	else
		for (let i = 0; i < 600 && !existsSync(cancelArg); i++)
			await sleep(100);
	abort.abort("bats");
	out.cancelled = true;
	const t = performance.now();
	await client.ping();
	out.ping_after_cancel = Math.round((performance.now() - t) * 10) / 10;
}
await call;
await client.close();
console.log(JSON.stringify(out));
