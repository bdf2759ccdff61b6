#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# ssh-tunnel-mcp's read-only tools against what the programs show: a
# tunnel's probe, client block, bastion line and log through the
# throwaway sshd as the bastion; the policy check; the copy guard's line
# and dry check. None changes a file.

bats_require_minimum_version 1.5.0
load ../lib/common
load ../lib/sshd
load ../lib/tunnel
load ../lib/mcp

setup() {
	common_setup
	tunnel_fixture
}

teardown() {
	tunnel_teardown
}

files() {
	echo "$(tree_sum "$HOME")$(tree_sum "$XDG_RUNTIME_DIR")"
}

@test "tunnel_probe, tunnel_client_config, tunnel_bastion_config, tunnel_log" {
	# shellcheck disable=SC2046 # the flags, one a line
	run ssh-tunnel-up -q -m daemon $(tunnel_up_args) labbox
	[ "$status" -eq 0 ]
	before=$(files)
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 tunnel_probe '{"name":"labbox"}')" \
	    "$(mcp_call 2 tunnel_client_config '{"name":"labbox"}')" \
	    "$(mcp_call 3 tunnel_bastion_config '{"name":"labbox"}')" \
	    "$(mcp_call 4 tunnel_log '{"name":"labbox","lines":5}')" \
	    "$(mcp_call 5 tunnel_probe '{"name":"nosuch"}')"
	echo "$output"
	[ "$(mcp_result 1 .structuredContent.verified)" = true ]
	[[ $(mcp_result 1 .structuredContent.answer) == SSH-2.0-* ]]
	[ "$(mcp_result 2 .structuredContent.client_config)" = \
	    "$(ssh-tunnel-ls -c labbox)" ]
	# -K prints the key line, a comment, then the sshd_config block
	[ "$(mcp_result 3 .structuredContent.authorized_keys)" = \
	    "$(ssh-tunnel-up -K labbox | head -n 1)" ]
	[ "$(mcp_result 3 .structuredContent.sshd_config)" = \
	    "$(ssh-tunnel-up -K labbox | sed 1,2d)" ]
	[[ $(mcp_result 4 .structuredContent.source) == *"/labbox.log" ]]
	[ "$(mcp_result 4 .structuredContent.log | wc -l)" -le 5 ]
	[ "$(mcp_result 4 .structuredContent.log)" = \
	    "$(tail -n 5 "$XDG_RUNTIME_DIR/scitex-ssh/labbox.log")" ]
	[ "$(mcp_result 5 .isError)" = true ]
	[ "$(files)" = "$before" ]
}

@test "policy_check: valid, broken (file:line:column), none" {
	run --separate-stderr mcp_session "$(mcp_call 1 policy_check '{}')"
	[ "$(mcp_result 1 .structuredContent.valid)" = true ]
	[ "$(mcp_result 1 .structuredContent.path)" = "$CONF" ]
	printf 'default: {ssh: maybe}\n' >"$CONF"
	run --separate-stderr mcp_session "$(mcp_call 1 policy_check '{}')"
	[ "$(mcp_result 1 .isError)" = false ]
	[ "$(mcp_result 1 .structuredContent.valid)" = false ]
	[[ $(mcp_result 1 .structuredContent.error) == *"$CONF:1:"* ]]
	rm "$CONF"
	run --separate-stderr mcp_session "$(mcp_call 1 policy_check '{}')"
	[ "$(mcp_result 1 .structuredContent.valid)" = false ]
	[ "$(mcp_resp 1 | jq -c .result.structuredContent.path)" = null ]
}

@test "copy_guard_line and copy_guard_check, as ssh-copy-guard -n decides" {
	r=$BATS_TEST_TMPDIR/roots
	mkdir -p "$r/ro" "$r/rw"
	echo x >"$r/ro/f"
	run --separate-stderr mcp_session \
	    "$(mcp_call 1 copy_guard_line '{"roots":["/data/shared:ro","/data/in:rw"]}')" \
	    "$(mcp_call 2 copy_guard_line '{"roots":["/a\"b"]}')" \
	    "$(mcp_call 3 copy_guard_line '{"roots":["/a/../etc"]}')" \
	    "$(mcp_call 4 copy_guard_check "{\"command\":\"scp -f $r/ro/f\",\"roots\":[\"$r/ro:ro\",\"$r/rw:rw\"]}")" \
	    "$(mcp_call 5 copy_guard_check "{\"command\":\"scp -t $r/ro/g\",\"roots\":[\"$r/ro:ro\"]}")" \
	    "$(mcp_call 6 copy_guard_check "{\"command\":\"bash -c id\",\"roots\":[\"$r/ro:ro\"]}")"
	echo "$output"
	[ "$(mcp_result 1 .structuredContent.options)" = \
	    'restrict,command="ssh-copy-guard -r /data/shared:ro -r /data/in:rw"' ]
	[ "$(mcp_result 2 .isError)" = true ]
	[ "$(mcp_result 3 .isError)" = true ]
	[ "$(mcp_result 4 .structuredContent.allowed)" = true ]
	[ "$(mcp_result 4 .structuredContent.runs)" = \
	    "$(SSH_ORIGINAL_COMMAND="scp -f $r/ro/f" ssh-copy-guard -n \
	    -r "$r/ro:ro" -r "$r/rw:rw")" ]
	[ "$(mcp_result 5 .structuredContent.allowed)" = false ]
	[ "$(mcp_result 6 .structuredContent.allowed)" = false ]
	[[ $(mcp_result 6 .structuredContent.reason) == *"no shell"* ]] ||
	    [[ $(mcp_result 6 .structuredContent.reason) == *"bash"* ]]
	[ ! -e "$r/ro/g" ]
}
