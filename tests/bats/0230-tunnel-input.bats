#!/usr/bin/env bats
# SPDX-License-Identifier: AGPL-3.0-only
# Hostile and malformed input: refused with a clear message and the exit
# code of DESIGN.md, nothing written, nothing started.

load ../lib/common
load ../lib/sshd
load ../lib/tunnel

setup() {
	common_setup
	tunnel_fixture
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
}

teardown() {
	tunnel_teardown
}

# refused CODE ARGS...: ssh-tunnel-up ARGS exits CODE, changes nothing,
# starts nothing.
refused() {
	local want=$1
	shift
	run ssh-tunnel-up "$@"
	echo "ssh-tunnel-up $*: $status: $output"
	[ "$status" -eq "$want" ]
	[[ $output == ssh-tunnel-up:* || $output == usage:* ]]
	[ "$(tree_sum "$BATS_TEST_TMPDIR/home")" = "$before" ]
	[ ! -e "$XDG_RUNTIME_DIR/scitex-ssh" ]
	[ -z "$(supervisor_pids)" ]
}

ok_args() {
	printf '%s\n' -b "$ME@127.0.0.1:$BPORT" -s "$KEY" -p "$RPORT"
}

@test "bad names" {
	mapfile -t a < <(ok_args)
	for n in 'bad/name' '.dot' 'a;b' '$(id)' 'a b' "$(printf 'a\nb')" \
	    "$(printf 'x%.0s' {1..65})" 'ünï' "a'b" 'a"b'; do
		refused 65 "${a[@]}" -- "$n"
	done
	refused 65 "${a[@]}" -- -x
}

@test "bad ports" {
	for p in 0 65536 22a -1 '' ' 22' '$(id)' 99999999999; do
		refused 65 -b "$ME@127.0.0.1:$BPORT" -s "$KEY" -p "$p" labbox
	done
}

@test "bad local forwards" {
	mapfile -t a < <(ok_args)
	for l in localhost host:0 'a b:22' x:22:33 ':22' 'h;x:22' \
	    "$(printf 'h\n:22')" '[::1:22' 'host:$(id)'; do
		refused 65 "${a[@]}" -l "$l" labbox
	done
}

@test "bad bastions" {
	for b in 'user@' 'a b' 'x;y' '$(touch /tmp/pwn)' '[::1' \
	    "$ME@127.0.0.1:99999" '-oProxyCommand=x' "$(printf 'h\nProxyCommand x')" \
	    'a"b' "a'b" '`id`' 'u@h@h' '::1'; do
		refused 65 -b "$b" -s "$KEY" -p "$RPORT" labbox
	done
	[ ! -e /tmp/pwn ]
}

@test "bad ssh options" {
	mapfile -t a < <(ok_args)
	for o in 'ProxyCommand=sh -c id' 'ProxyCommand=id' 'LocalCommand=id' \
	    'PermitLocalCommand=yes' 'KnownHostsCommand=id' 'PKCS11Provider=/x.so' \
	    'ControlMaster=yes' 'ExitOnForwardFailure=no' 'LogLevel=QUIET' \
	    "$(printf 'User=a\nProxyCommand id')" 'User=a"b' 'User=$(id)x y' \
	    'NoEquals' '=x' 'User='; do
		refused 65 "${a[@]}" -o "$o" labbox
	done
}

@test "bad key paths and a key others may read" {
	refused 65 -b "$ME@127.0.0.1:$BPORT" -s '/tmp/a"b' -p "$RPORT" labbox
	refused 65 -b "$ME@127.0.0.1:$BPORT" -s "$(printf '/tmp/a\nb')" -p "$RPORT" labbox
	cp "$KEY" "$BATS_TEST_TMPDIR/open_key"
	chmod 644 "$BATS_TEST_TMPDIR/open_key"
	refused 77 -b "$ME@127.0.0.1:$BPORT" -s "$BATS_TEST_TMPDIR/open_key" -p "$RPORT" labbox
	[[ $output == *"chmod 600"* ]]
	refused 65 -b "$ME@127.0.0.1:$BPORT" -s "$BATS_TEST_TMPDIR/missing" -p "$RPORT" labbox
}

@test "the environment fills -b and -s, flags win" {
	export SCITEX_SSH_BASTION_SERVER='a;b'
	refused 65 -s "$KEY" -p "$RPORT" labbox
	mapfile -t a < <(tunnel_up_args)
	run ssh-tunnel-up -n "${a[@]}" labbox
	[ "$status" -eq 0 ]
	export SCITEX_SSH_BASTION_SERVER="$ME@127.0.0.1:$BPORT"
	export SCITEX_SSH_SECRET_KEY_PATH="$KEY"
	run ssh-tunnel-up -n -p "$RPORT" labbox
	[ "$status" -eq 0 ]
	[[ $output == *"- \"$ME@127.0.0.1:$BPORT\""* ]]
	[[ $output == *"key: \"$KEY\""* ]]
}

@test "a definition that is not valid YAML: 78 with file:line:col" {
	d=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mkdir -p "$d"
	printf 'bastion: [\nforwards: x\n' >"$d/labbox.yaml"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 78 labbox
	[[ $output == *"$d/labbox.yaml:"[0-9]*:[0-9]*:* ]]
	printf 'bastion: h\nforwards: [R 2222:localhost:22]\ncolour: red\n' >"$d/labbox.yaml"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 78 labbox
	[[ $output == *"labbox.yaml:3:1: colour: unknown key"* ]]
	printf 'bastion: "h;x"\nforwards: [R 2222:localhost:22]\n' >"$d/labbox.yaml"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 78 labbox
	printf 'bastion: h\nforwards: ["R 2222:localhost:22\\nx"]\n' >"$d/labbox.yaml"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 78 labbox
	printf 'bastion: h\n' >"$d/labbox.yaml"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 78 labbox
	[[ $output == *"no forwards"* ]]
}

@test "ls -q keeps errors, -v says where each tunnel is defined; output the same" {
	d=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mkdir -p "$d"
	printf 'bastion: [\n' >"$d/bad.yaml"
	run --separate-stderr ssh-tunnel-ls
	[ "$status" -eq 1 ]
	plain=$output perr=$stderr
	[[ $perr == *"bad.yaml:"*"not valid YAML"* ]]
	run --separate-stderr ssh-tunnel-ls -q
	[ "$status" -eq 1 ]
	[ "$output" = "$plain" ]
	[ "$stderr" = "$perr" ]
	run --separate-stderr ssh-tunnel-ls -v
	[ "$status" -eq 1 ]
	[ "$output" = "$plain" ]
	[[ $stderr == *"bad: backend daemon, $d/bad.yaml"* ]]
	[[ $stderr == *"not valid YAML"* ]]
}

# ls_cache: the one file of ssh-tunnel-ls's cache of definitions.
ls_cache() {
	local f
	for f in "$XDG_CACHE_HOME"/scitex-ssh/defs1-*; do
		[ -e "$f" ] && echo "$f"
	done
}

@test "ls's cache of definitions: an edit shows at once, a cache not ours or not whole is not believed" {
	d=$XDG_CONFIG_HOME/scitex-ssh/tunnels.d
	mkdir -p "$d"
	for i in 1 2 3; do
		printf 'bastion: [u@gw%d.example.org, v@gw.example.net:2200]\n' \
		    "$i" >"$d/t$i.yaml"
		printf 'forwards: [R 220%d:localhost:22]\n' "$i" >>"$d/t$i.yaml"
	done
	run -1 ssh-tunnel-ls
	want=$output
	[[ $want == *"t2	daemon	stopped	2202	u@gw2.example.org"* ]]
	# changed in the last 2 s: not cached yet
	[ -z "$(ls_cache)" ]
	sleep 2.1
	run -1 ssh-tunnel-ls
	[ "$output" = "$want" ]
	c=$(ls_cache)
	[ -n "$c" ]
	[ "$(stat -c %a "$c")" = 600 ]
	[ "$(stat -c %a "$(dirname "$c")")" = 700 ]
	[ ! -L "$c" ]
	# a listing of some leaves it as it was; one from it says the same
	sum=$(sha256sum <"$c")
	run -1 ssh-tunnel-ls t1 t3
	[ "$(sha256sum <"$c")" = "$sum" ]
	run -1 ssh-tunnel-ls
	[ "$output" = "$want" ]
	[ "$(sha256sum <"$c")" = "$sum" ]

	# edited in place, the same size, within a second of the cache:
	# the new port at once, in every listing
	ino=$(stat -c %i "$d/t2.yaml")
	printf 'bastion: [u@gw2.example.org, v@gw.example.net:2200]\n' >"$d/t2.yaml"
	printf 'forwards: [R 2209:localhost:22]\n' >>"$d/t2.yaml"
	[ "$(stat -c %i "$d/t2.yaml")" = "$ino" ]
	run -1 ssh-tunnel-ls
	[[ $output == *"t2	daemon	stopped	2209	u@gw2.example.org"* ]]
	run -1 ssh-tunnel-ls -j
	[[ $output == *'"name":"t2","backend":"daemon","state":"stopped","port":2209,'* ]]
	# broken in place: said, as without a cache
	printf 'bastion: [\n' >"$d/t1.yaml"
	run --separate-stderr ssh-tunnel-ls
	[ "$status" -eq 1 ]
	[[ $stderr == *"t1.yaml:"*"not valid YAML"* ]]
	[[ $output == *"t1	daemon	stopped	-	-	"* ]]
	printf 'bastion: u@gw1.example.org\nforwards: [R 2201:localhost:22]\n' \
	    >"$d/t1.yaml"
	sleep 2.1
	run -1 ssh-tunnel-ls
	want=$output
	[[ $want == *"t1	daemon	stopped	2201	u@gw1.example.org"* ]]
	c=$(ls_cache)

	# a port changed in the cache (its sum not): not believed, made anew
	sed -i 's/2203/2299/' "$c"
	grep -q 2299 "$c"
	run -1 ssh-tunnel-ls
	[ "$output" = "$want" ]
	! grep -q 2299 "$c"
	# writable by the group: not believed, made anew (ours, 0600)
	chmod 620 "$c"
	ino=$(stat -c %i "$c")
	run -1 ssh-tunnel-ls
	[ "$output" = "$want" ]
	[ "$(stat -c %a "$c")" = 600 ]
	[ "$(stat -c %i "$c")" != "$ino" ]
	# believed: left as it is
	ino=$(stat -c %i "$c")
	run -1 ssh-tunnel-ls
	[ "$(stat -c %i "$c")" = "$ino" ]
	# a symlink planted in its place: not followed, and replaced
	rm -f "$c"
	printf 'x' >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$c"
	run -1 ssh-tunnel-ls
	[ "$output" = "$want" ]
	[ "$(cat "$BATS_TEST_TMPDIR/target")" = x ]
	c2=$(ls_cache)
	[ "$c2" = "$c" ]
	[ ! -L "$c" ]
	[ -f "$c" ]
	# the definitions hold nothing of it
	[ -z "$(find "$d" -newer "$c" -print)" ]
	[ "$(find "$d" -type f | wc -l)" -eq 3 ]
}

@test "the policy denies tunnels: 77, naming the file and the line to add" {
	write_config <<EOC
default: {tunnels: deny}
EOC
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	mapfile -t a < <(tunnel_up_args)
	refused 77 "${a[@]}" labbox
	[[ $output == *"$CONF"* ]]
	[[ $output == *"{tunnels: allow}"* ]]
	rm "$CONF"
	before=$(tree_sum "$BATS_TEST_TMPDIR/home")
	refused 77 "${a[@]}" labbox
	[[ $output == *"no config file"* ]]
}

@test "usage errors: 64; -h prints the usage to stdout; -V the version" {
	refused 64 -f
	refused 64 -f -p 22 labbox
	refused 64 a b
	refused 64 -x
	run ssh-tunnel-up -h
	[ "$status" -eq 0 ]
	[[ $output == "usage: ssh-tunnel-up [-Knqv]"* ]]
	run ssh-tunnel-up -V
	[ "$output" = "ssh-tunnel-up scitex-ssh 2.0.0" ]
	run ssh-tunnel-ls -x
	[ "$status" -eq 64 ]
	run ssh-tunnel-down
	[ "$status" -eq 64 ]
	run ssh-tunnel-down -a labbox
	[ "$status" -eq 64 ]
}

@test "-K with no name and no tunnel named after the host: what -K needs, 64" {
	refused 64 -K
	[[ $output == *"-K needs a defined tunnel's name, or -p and -b"* ]]
	[[ $output == *"no tunnel is named $(hostname -s)"* ]]
	# Named but not defined: not there, 1, as for every other use.
	refused 1 -K nosuch
	[[ $output == *"nosuch: no such tunnel"* ]]
}

@test "-n shows definition and exact argv and changes nothing" {
	mapfile -t a < <(tunnel_up_args)
	run ssh-tunnel-up -n "${a[@]}" labbox
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"forwards:"*"- \"R $RPORT:127.0.0.1:$BPORT\""* ]]
	[[ $output == *"ssh -N -T -v -o ExitOnForwardFailure=yes -o BatchMode=yes"* ]]
	[[ $output == *"-R $RPORT:127.0.0.1:$BPORT -l $ME -p $BPORT -- 127.0.0.1"* ]]
	[ "$(tree_sum "$BATS_TEST_TMPDIR/home")" = "$before" ]
	[ ! -e "$XDG_RUNTIME_DIR/scitex-ssh" ]
}

@test "ls and down refuse bad names and ports" {
	run ssh-tunnel-ls 'a;b'
	[ "$status" -eq 65 ]
	run ssh-tunnel-ls -p 0
	[ "$status" -eq 65 ]
	run ssh-tunnel-down '../x'
	[ "$status" -eq 65 ]
	run ssh-tunnel-down -p 70000
	[ "$status" -eq 65 ]
	run ssh-tunnel-down -p 2222
	[ "$status" -eq 1 ]
}

@test "an XDG directory too long for the places: 78, says which, nothing made" {
	seg=$(printf 'd%.0s' $(seq 100))
	long=$BATS_TEST_TMPDIR/x/$seg/$seg/$seg/$seg/$seg
	mkdir -p "$long"
	mapfile -t args < <(ok_args)
	XDG_CONFIG_HOME=$long refused 78 "${args[@]}" labbox
	[[ $output == *"tunnels.d: path too long"* ]]
	[ -z "$(ls -A "$long")" ]
	XDG_RUNTIME_DIR=$long refused 78 "${args[@]}" labbox
	[[ $output == *"state: path too long"* ]]
	[ -z "$(ls -A "$long")" ]
	rm -r "$BATS_TEST_TMPDIR/x"
}
