#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp, in one run against a throwaway sshd on loopback:
#  1. ping latency while tunnel_setup waits for a bastion that accepts and
#     never answers (goal: under 50 ms at the worst);
#  2. the cost of an exec call ("true" on the host, through one server
#     session) against plain `ssh host true` with the same options, runs
#     alternated (goal: within 10% by the median).
# The client is a few lines of Python speaking JSON-RPC on the pipe.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${O:=build/out}"
case $O in /*) ;; *) O=$PWD/$O ;; esac
MCP=$O/bin/ssh-tunnel-mcp
[ -x "$MCP" ] || { echo "mcp: build first"; exit 1; }
command -v socat >/dev/null || { echo "mcp: needs socat"; exit 1; }
N=${N:-15}

BATS_TEST_TMPDIR=$(mktemp -d /tmp/scitex-bench.XXXXXX)
export BATS_TEST_TMPDIR
export HOME=$BATS_TEST_TMPDIR/home XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/home/.config
export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/run XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
unset SCITEX_SSH_CONFIG SCITEX_SSH_DEBUG_MODE
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/scitex-ssh" "$XDG_RUNTIME_DIR"
chmod 700 "$HOME/.ssh" "$XDG_RUNTIME_DIR"
# shellcheck source=tests/lib/sshd.bash
. tests/lib/sshd.bash
HOLE=

cleanup() {
	# shellcheck disable=SC2046 # a list of pids
	[ -n "$HOLE" ] && kill "$HOLE" $(_descendants "$HOLE") 2>/dev/null
	PATH=$O/bin:$PATH ssh-tunnel-down -a -q 2>/dev/null
	sshd_stop_all
	rm -rf "$BATS_TEST_TMPDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sshd_start "$BATS_TEST_TMPDIR/sshd" >/dev/null || exit 1
export SCITEX_SSH_SSH=$BATS_TEST_TMPDIR/ssh-fixture
printf '#!/bin/sh\nexec %s -F %s "$@"\n' "$(command -v ssh)" \
    "$SSHD_DIR/ssh_config" >"$SCITEX_SSH_SSH"
chmod 755 "$SCITEX_SSH_SSH"
cat >"$XDG_CONFIG_HOME/scitex-ssh/config.yaml" <<'EOC'
default: {ssh: allow, tunnels: allow, exec: allow}
EOC
hole=$(free_port)
socat "TCP-LISTEN:$hole,bind=127.0.0.1,reuseaddr,fork" SYSTEM:'sleep 60' &
HOLE=$!
wait_port "$hole" 10

cat >"$BATS_TEST_TMPDIR/client.py" <<'EOF'
import json, statistics, subprocess, sys, time

mcp, ssh, hole, key, n = sys.argv[1:6]
n = int(n)
p = subprocess.Popen([mcp], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     text=True, bufsize=1)

def send(o):
    p.stdin.write(json.dumps(o) + "\n")
    p.stdin.flush()

def until(i):
    while True:
        m = json.loads(p.stdout.readline())
        if m.get("id") == i:
            return m

send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"}}})
until(0)
send({"jsonrpc": "2.0", "method": "notifications/initialized"})

# 1. Pings while tunnel_setup waits for the silent bastion.
send({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": "tunnel_setup", "arguments": {"name": "bench",
    "bastion": "root@127.0.0.1:" + hole, "port": 2222, "key": key,
    "backend": "daemon"}}})
time.sleep(0.5)
lat, i = [], 100
while len(lat) < 40:
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "id": i, "method": "ping"})
    until(i)
    lat.append((time.perf_counter() - t) * 1000)
    i += 1
    time.sleep(0.05)
t = time.perf_counter()
until(1)
print("ping while tunnel_setup waits: median %.2f ms, max %.2f ms over %d "
      "(setup answered %.1f s later)" % (statistics.median(lat), max(lat),
      len(lat), time.perf_counter() - t))

# 2. exec true through the session against plain ssh, alternated.
mcp_ms, ssh_ms = [], []
for k in range(n):
    t = time.perf_counter()
    send({"jsonrpc": "2.0", "id": 1000 + k, "method": "tools/call",
          "params": {"name": "exec", "arguments": {"host": "fixture",
          "argv": ["true"]}}})
    r = until(1000 + k)
    mcp_ms.append((time.perf_counter() - t) * 1000)
    assert r["result"]["structuredContent"]["exit_code"] == 0, r
    t = time.perf_counter()
    subprocess.run([ssh, "-T", "-o", "BatchMode=yes", "-o",
                    "ControlMaster=no", "-o", "ControlPath=none", "-o",
                    "ClearAllForwardings=yes", "--", "fixture", "true"],
                   check=True, stdin=subprocess.DEVNULL)
    ssh_ms.append((time.perf_counter() - t) * 1000)
a, b = statistics.median(mcp_ms), statistics.median(ssh_ms)
print("exec true: median %.1f ms; plain ssh host true: median %.1f ms; "
      "ratio %.2f (%d runs each, alternated)" % (a, b, a / b, n))
p.stdin.close()
p.wait()
EOF

python3 "$BATS_TEST_TMPDIR/client.py" "$MCP" "$SCITEX_SSH_SSH" "$hole" \
    "$SSHD_DIR/id_ed25519" "$N"
