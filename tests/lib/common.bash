# SPDX-License-Identifier: AGPL-3.0-only
# Shared set-up for the bats suites: the fresh build first on PATH, and a
# private HOME, config and state so that no test sees the user's files or
# another test's.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
: "${O:=build/out}"
case $O in /*) BUILD=$O ;; *) BUILD=$TOP/$O ;; esac
export PATH="$BUILD/bin:$PATH"

# common_setup: isolate this test. Call from setup().
common_setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_CONFIG_HOME="$HOME/.config"
	export XDG_STATE_HOME="$HOME/.local/state"
	export XDG_CACHE_HOME="$HOME/.cache"
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/run"
	mkdir -p "$HOME/.ssh" "$XDG_CONFIG_HOME/scitex-ssh" "$XDG_STATE_HOME" \
	    "$XDG_RUNTIME_DIR"
	chmod 700 "$HOME/.ssh" "$XDG_RUNTIME_DIR"
	unset SCITEX_SSH_CONFIG SCITEX_SSH_BASTION_SERVER \
	    SCITEX_SSH_SECRET_KEY_PATH SCITEX_SSH_DEBUG_MODE SCITEX_SSH_SSH \
	    SCITEX_SSH_BATCH
	CONF="$XDG_CONFIG_HOME/scitex-ssh/config.yaml"
}

# write_config: the config file from stdin.
write_config() {
	cat >"$CONF"
}

# tree_sum DIR: a digest of every path, mode and content under DIR, to show
# that a refused command changed nothing.
tree_sum() {
	(cd "$1" && find . -printf '%p %m %s\n' | LC_ALL=C sort &&
	    find . -type f -print0 | LC_ALL=C sort -z | xargs -0r cat) |
	    sha256sum | cut -d' ' -f1
}
