#!/usr/bin/env bash
# SPDX-License-Identifier: AGPL-3.0-only
# make demo: the project's main job, end to end, on this machine. A
# throwaway sshd on loopback plays the bastion and the lab machine; a
# reverse tunnel goes up, a collaborator's "ssh labbox" goes through it,
# and everything is taken down again. Touches nothing outside a temp dir.
# DEMO_NOBUILD=1 (the test suite) skips installing and building.
set -eu
cd "$(dirname "$0")/../.."
if [ -z "${DEMO_NOBUILD:-}" ]; then
	sh .ci/deps demo
	make -s all
fi
BIN=$(cd "${1:-build/out/bin}" && pwd)
export PATH="$BIN:$PATH"

BATS_TEST_TMPDIR=$(mktemp -d /tmp/scitex-demo.XXXXXX)
export BATS_TEST_TMPDIR
# shellcheck source=tests/lib/sshd.bash
. tests/lib/sshd.bash

cleanup() {
	ssh-tunnel-down -q labbox 2>/dev/null || :
	sshd_stop_all
	rm -rf "$BATS_TEST_TMPDIR"
}
trap cleanup EXIT

say() {
	printf '\n==> %s\n' "$*"
}

export HOME="$BATS_TEST_TMPDIR/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_STATE_HOME="$HOME/.local/state"
export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
unset SCITEX_SSH_CONFIG SCITEX_SSH_BASTION_SERVER SCITEX_SSH_SECRET_KEY_PATH
mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/scitex-ssh" "$XDG_RUNTIME_DIR"
chmod 700 "$HOME/.ssh" "$XDG_RUNTIME_DIR"

say "a throwaway sshd on 127.0.0.1 plays the bastion (and the lab's sshd)"
sshd_start "$BATS_TEST_TMPDIR/bastion"
B=$SSHD_DIR BPORT=$SSHD_PORT RPORT=$(free_port) ME=$(id -un)
echo "bastion: $ME@127.0.0.1:$BPORT; the tunnel will open port $RPORT on it"

say "policy: this host may make tunnels"
printf 'default: {tunnels: allow}\n' | tee "$XDG_CONFIG_HOME/scitex-ssh/config.yaml"

say "ssh-tunnel-up -p $RPORT -b $ME@127.0.0.1:$BPORT -s .../id_ed25519 labbox"
ssh-tunnel-up -p "$RPORT" -b "$ME@127.0.0.1:$BPORT" -s "$B/id_ed25519" \
    -l "127.0.0.1:$BPORT" -o "UserKnownHostsFile=$B/known_hosts" labbox

say "ssh-tunnel-ls"
ssh-tunnel-ls -H

say "ssh-tunnel-ls --probe"
ssh-tunnel-ls --probe

say "ssh-tunnel-ls -c labbox > client.conf (plus the collaborator's key)"
ssh-tunnel-ls -c labbox | tee "$BATS_TEST_TMPDIR/client.conf"
{
	printf 'labbox %s\n' "$(cut -d' ' -f1-2 "$B/host_ed25519.pub")"
	cat "$B/known_hosts"
} >"$BATS_TEST_TMPDIR/known"
cat >>"$BATS_TEST_TMPDIR/client.conf" <<EOC
Host *
    User $ME
    IdentityFile $B/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $BATS_TEST_TMPDIR/known
    BatchMode yes
EOC

say "ssh -F client.conf labbox hostname   (through the bastion and the tunnel)"
ssh -F "$BATS_TEST_TMPDIR/client.conf" labbox hostname

say "ssh-tunnel-down labbox"
ssh-tunnel-down -v labbox
ssh-tunnel-ls
echo
echo "demo: OK"
