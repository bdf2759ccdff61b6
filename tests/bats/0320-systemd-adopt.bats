#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Taking over scitex-ssh 1.0's tunnels: its autossh-tunnel-PORT.service
# (tests/lib/autossh-tunnel-2222.service, pointed at the throwaway bastion)
# listed by ssh-tunnel-ls, adopted by ssh-tunnel-up --adopt, removed by
# ssh-tunnel-down -p. systemd is not running here: the old unit is found
# in the user's unit directory and is "stopped", reason no-systemd.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	UDIR=$XDG_CONFIG_HOME/systemd/user
}

teardown() {
	tunnel_teardown
}

# legacy_unit [EXTRA]: the 1.0 unit for port RPORT through our bastion,
# enabled as that tool did (a link in multi-user.target.wants).
legacy_unit() {
	OLD=$UDIR/autossh-tunnel-$RPORT.service
	mkdir -p "$UDIR/multi-user.target.wants"
	sed -e "s|-i /home/ywatanabe/.ssh/id_rsa|-p $BPORT -i $KEY|" \
	    -e "s|-R 2222:localhost:22|-R $RPORT:127.0.0.1:$BPORT|" \
	    -e "s|ywatanabe@bastion.example.org|$ME@127.0.0.1${1:-}|" \
	    -e "s|-i |-o \"UserKnownHostsFile=$HOME/.ssh/known_hosts\" -i |" \
	    -e "s|^User=.*|User=$ME|" \
	    "$TOP/tests/lib/autossh-tunnel-2222.service" >"$OLD"
	ln -s "$OLD" "$UDIR/multi-user.target.wants/autossh-tunnel-$RPORT.service"
	# the fixture's host key, as the old tunnel's account would know it;
	# named in the unit, since ssh reads the password database's home,
	# not $HOME, and would add the key to root's own known_hosts
	cp "$B/known_hosts" "$HOME/.ssh/known_hosts"
}

@test "ssh-tunnel-ls lists a 1.0 unit as backend autossh" {
	legacy_unit
	run ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf 'autossh-tunnel-%s\tautossh\tstopped\t%s\t%s@127.0.0.1:%s\t-\t-\t0\tno-systemd' \
	    "$RPORT" "$RPORT" "$ME" "$BPORT")" ]
	run ssh-tunnel-ls -N
	[ "$output" = "autossh-tunnel-$RPORT" ]
	run ssh-tunnel-ls -j -p "$RPORT"
	[[ $output == '[{"name":"autossh-tunnel-'"$RPORT"'","backend":"autossh","state":"stopped"'* ]]
	run ssh-tunnel-ls -c "autossh-tunnel-$RPORT"
	[[ $output == *"Port $RPORT"* ]]
}

@test "--adopt: the same tunnel comes up under the new backend, the old unit goes" {
	legacy_unit
	run ssh-tunnel-up --adopt "$RPORT" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"Host labbox"* ]]
	[[ $output == *"adopted $OLD (removed)"* ]]
	[ ! -e "$OLD" ]
	[ ! -L "$UDIR/multi-user.target.wants/autossh-tunnel-$RPORT.service" ]
	def=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml
	cat "$def"
	grep -q "$ME@127.0.0.1:$BPORT" "$def"
	grep -q "$KEY" "$def"
	grep -q "R $RPORT:127.0.0.1:$BPORT" "$def"
	run ssh-tunnel-ls
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cut -f1-4 <<<"$output")" = "$(printf 'labbox\tdaemon\tup\t%s' "$RPORT")" ]
	run ssh-tunnel-ls --probe labbox
	echo "$output"
	[[ $output == "labbox	verified	SSH-2.0-"* ]]
}

@test "--adopt keeps the old unit when the new tunnel does not come up" {
	legacy_unit
	sshd_stop "$B"
	run ssh-tunnel-up --adopt "$RPORT" labbox
	echo "$output"
	[ "$status" -eq 69 ]
	[[ $output == *"$OLD is kept"* ]]
	[ -f "$OLD" ]
	[ ! -e "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml" ]
	[ -z "$(supervisor_pids)" ]
}

@test "--adopt refuses what 1.0 never wrote, and changes nothing" {
	legacy_unit " uptime"
	before=$(tree_sum "$HOME")
	run ssh-tunnel-up --adopt "$RPORT" labbox
	echo "$output"
	[ "$status" -eq 65 ]
	[[ $output == *"remote command"* ]]
	[ "$(tree_sum "$HOME")" = "$before" ]
	run ssh-tunnel-up --adopt 1 labbox
	[ "$status" -eq 69 ]
	[[ $output == *"autossh-tunnel-1.service: no such unit"* ]]
	run ssh-tunnel-up --adopt 0x10 labbox
	[ "$status" -eq 65 ]
}

@test "--adopt will not replace a tunnel of the same name" {
	legacy_unit
	mkdir -p "$XDG_CONFIG_HOME/scitex-ssh/tunnels.d"
	printf 'bastion: u@h\nforwards: [R 1:h:2]\n' \
	    >"$XDG_CONFIG_HOME/scitex-ssh/tunnels.d/labbox.yaml"
	run ssh-tunnel-up --adopt "$RPORT" labbox
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"a tunnel named labbox exists already"* ]]
	[ -f "$OLD" ]
}

@test "ssh-tunnel-down -p PORT and by name remove a 1.0 unit" {
	legacy_unit
	run ssh-tunnel-down -v -p "$RPORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$OLD" ]
	[ ! -L "$UDIR/multi-user.target.wants/autossh-tunnel-$RPORT.service" ]
	run ssh-tunnel-down -p "$RPORT"
	[ "$status" -eq 1 ]
	legacy_unit
	run ssh-tunnel-down "autossh-tunnel-$RPORT"
	[ "$status" -eq 0 ]
	[ ! -e "$OLD" ]
	run ssh-tunnel-ls
	[ -z "$output" ]
}
