# SPDX-License-Identifier: AGPL-3.0-only
# A real systemd, booted in a container, for the 034x suites: a Debian 12
# tree made once by debootstrap (cached under build/container, made again
# when the package list or the provisioning below changes), and for each
# bats file an overlay of it with `make install DESTDIR=` of this build,
# booted by systemd-nspawn with only a loopback network. Inside: the lab
# sshd (ssh.service, port 22), a bastion sshd of its own (bastion.service,
# 127.0.0.1:2200, account "tunnel" with its own host key), root's key and
# the user alice's key authorized there, and a policy allowing tunnels for
# both. Commands run inside through nsenter into the container's PID 1.
#
#   ct_usable                  0, or prints why this machine cannot
#   ct_setup                   base tree, overlay, install, boot (setup_file)
#   ct_skip                    skip the test where ct_usable said no (setup)
#   ct_boot / ct_poweroff      boot the overlay / shut it down cleanly
#   ct_reboot                  systemctl reboot, then boot the same tree
#   ct CMD...                  run CMD inside as root (clean environment)
#   ct_as USER CMD...          as USER, with XDG_RUNTIME_DIR of a login
#   ct_teardown                stop it, unmount and remove the overlay
#
# Times (seconds) go to $CT_DIR/times and, from ct_took, to bats' fd 3
# (bats tests/bats/0340-*.bats shows them). The first run debootstraps
# (minutes: it downloads); SCITEX_SSH_CONTAINER_CACHE=DIR keeps the tree
# elsewhere, e.g. shared by several checkouts.

CT_CACHE=${SCITEX_SSH_CONTAINER_CACHE:-$TOP/build/container}
# Runtime libraries of our programs (libjansson; libyaml and libbsd in case
# a build links them dynamically; the sanitizers' for SANITIZE=1), what the
# tests use inside (autossh for the 1.0 units, ps, ss).
CT_PKGS="systemd systemd-sysv dbus libpam-systemd openssh-server
openssh-client autossh libjansson4 libyaml-0-2 libbsd0 libasan8 libubsan1
procps iproute2"
CT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CT_NAME=labbox
CT_BPORT=2200	# the bastion's sshd inside

ct_usable() {
	local t
	[ "$(id -u)" -eq 0 ] || { echo "needs root (systemd-nspawn)"; return 1; }
	for t in systemd-nspawn debootstrap nsenter; do
		command -v "$t" >/dev/null ||
		    { echo "no $t (apt-get install systemd-container debootstrap)"; return 1; }
	done
	grep -qw cgroup2 /proc/filesystems || { echo "no cgroup v2 in this kernel"; return 1; }
	grep -qw overlay /proc/filesystems || modprobe -q overlay 2>/dev/null ||
	    { echo "no overlay file system"; return 1; }
	[ -n "$(sh "$TOP/tests/lib/debian-mirror.sh" 2>/dev/null)" ] ||
	    { echo "no Debian mirror in apt's sources"; return 1; }
	return 0
}

# What is done to the tree once, after debootstrap (part of the cache key).
_ct_provision() {
	local r=$1
	chroot "$r" useradd -m -s /usr/sbin/nologin tunnel
	chroot "$r" useradd -m -s /bin/bash alice
	chroot "$r" useradd -m -s /bin/bash bob	# no config file of his own
	echo "$CT_NAME" >"$r/etc/hostname"
	mkdir -p "$r/etc/bastion" "$r/root/.ssh" "$r/home/alice/.ssh" \
	    "$r/root/.config/scitex-ssh" "$r/home/alice/.config/scitex-ssh"
	ssh-keygen -q -t ed25519 -N '' -C bastion-host -f "$r/etc/bastion/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C root@labbox -f "$r/root/.ssh/id_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C alice@labbox -f "$r/home/alice/.ssh/id_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C collaborator -f "$r/etc/bastion/collab"
	# the tunnel account: forwarding only
	for k in "$r/root/.ssh/id_ed25519.pub" "$r/home/alice/.ssh/id_ed25519.pub"; do
		printf 'restrict,port-forwarding,command="/bin/false" %s\n' "$(cat "$k")"
	done >"$r/etc/bastion/authorized_keys"
	# alice logs in to the lab sshd with her key (a login session)
	cp "$r/home/alice/.ssh/id_ed25519.pub" "$r/home/alice/.ssh/authorized_keys"
	# the bastion's host key, as the 1.0 units' ssh (no accept-new) needs
	printf '[127.0.0.1]:%s %s\n' "$CT_BPORT" "$(cut -d' ' -f1-2 "$r/etc/bastion/host_ed25519.pub")" |
	    tee "$r/root/.ssh/known_hosts" >"$r/home/alice/.ssh/known_hosts"
	# the collaborator logs in to the lab sshd (as root, through the tunnel)
	cp "$r/etc/bastion/collab.pub" "$r/root/.ssh/authorized_keys"
	printf '[127.0.0.1]:%s %s\n' 2222 "$(cut -d' ' -f1-2 "$r/etc/ssh/ssh_host_ed25519_key.pub")" \
	    >"$r/etc/bastion/lab_known_hosts"
	cat >"$r/etc/bastion/sshd_config" <<EOC
Port $CT_BPORT
ListenAddress 127.0.0.1
HostKey /etc/bastion/host_ed25519
PidFile none
AuthorizedKeysFile /etc/bastion/authorized_keys
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers tunnel
LogLevel VERBOSE
EOC
	cat >"$r/etc/systemd/system/bastion.service" <<EOC
[Unit]
Description=the bastion's sshd (test)
After=network.target
[Service]
ExecStartPre=/bin/mkdir -p -m 0755 /run/sshd
ExecStart=/usr/sbin/sshd -D -e -f /etc/bastion/sshd_config
[Install]
WantedBy=multi-user.target
EOC
	ln -s /etc/systemd/system/bastion.service \
	    "$r/etc/systemd/system/multi-user.target.wants/bastion.service"
	printf 'default: {tunnels: allow}\n' |
	    tee "$r/root/.config/scitex-ssh/config.yaml" \
	    >"$r/home/alice/.config/scitex-ssh/config.yaml"
	chroot "$r" chown -R alice:alice /home/alice
	chmod 700 "$r/root/.ssh" "$r/home/alice/.ssh"
	# nothing on the console waits for a login
	chroot "$r" systemctl mask -q console-getty.service getty@.service
	: >"$r/etc/machine-id"
}

# The base tree for this package list and provisioning, made if missing.
ct_base() {
	local key dir mirror t0
	key=$( { echo "$CT_PKGS"; declare -f _ct_provision; } | sha256sum | cut -c1-12)
	dir=$CT_CACHE/base-$key
	CT_BASE=$dir
	[ -f "$dir/.done" ] && return 0
	mkdir -p "$CT_CACHE"
	(
		flock 9
		[ -f "$dir/.done" ] && exit 0
		t0=$EPOCHREALTIME
		mirror=$(sh "$TOP/tests/lib/debian-mirror.sh") || exit 1
		rm -rf "$dir.tmp"
		debootstrap --variant=minbase --include="$(printf %s "$CT_PKGS" | tr -s ' \n' ,)" \
		    bookworm "$dir.tmp" "$mirror" >"$CT_CACHE/debootstrap.log" 2>&1 ||
		    { tail -20 "$CT_CACHE/debootstrap.log" >&2; exit 1; }
		_ct_provision "$dir.tmp" || exit 1
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
		# older bases are of no more use
		find "$CT_CACHE" -maxdepth 1 -name 'base-*' ! -path "$dir" \
		    -exec rm -rf {} +
		echo "base $(_ct_since "$t0")" >"$dir/.done"
	) 9>"$CT_CACHE/.lock"
}

# What is done to each copy (cheap; not in the cache key): its own
# machine id; /etc/hosts (minbase has none, and "localhost" must resolve
# offline); the accounts unlocked for sshd without PAM (no password).
_ct_prepare() {
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$1/etc/machine-id"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n127.0.1.1\t%s\n' \
	    "$CT_NAME" >"$1/etc/hosts"
	for u in tunnel alice bob; do
		chroot "$1" usermod -p '*' "$u" || return 1
	done
}

# ct_setup: everything up to a booted container; CT_DIR holds the overlay.
# Where this machine cannot, CT_SKIP says why and ct_skip skips each test
# (bats 1.8 cannot skip from setup_file).
ct_setup() {
	CT_DIR=
	CT_SKIP=
	CT_SKIP=$(ct_usable) || { export CT_SKIP; return 0; }
	CT_DIR=$BATS_FILE_TMPDIR/ct
	export CT_DIR
	mkdir -p "$CT_DIR"/{upper,work,root}
	ct_base || return 1
	cat "$CT_BASE/.done" >"$CT_DIR/times"
	mount -t overlay overlay -o "lowerdir=$CT_BASE,upperdir=$CT_DIR/upper,workdir=$CT_DIR/work" \
	    "$CT_DIR/root" || return 1
	echo "$CT_DIR/root" >"$CT_DIR/mounted"
	make -s -C "$TOP" O="$O" install DESTDIR="$CT_DIR/root" \
	    >"$CT_DIR/install.log" 2>&1 || { cat "$CT_DIR/install.log" >&2; return 1; }
	_ct_prepare "$CT_DIR/root" || return 1
	ct_boot
}

# ct_skip: in setup(), skip where the container could not be made here.
ct_skip() {
	[ -z "${CT_SKIP:-}" ] || skip "$CT_SKIP"
}

# ct_booted: the container runs (teardown() does nothing otherwise: its
# paths under $CT_DIR would name the host's files).
ct_booted() {
	[ -z "${CT_SKIP:-}" ] && [ -n "${CT_DIR:-}" ] && [ -f "$CT_DIR/init.pid" ]
}

# ct_boot: boot the overlay in the background; return once systemd says
# the system runs (CT_PID: the container's PID 1 as seen here).
ct_boot() {
	local i t0=$EPOCHREALTIME nspawn state
	systemd-nspawn -q -b --private-network --register=no --keep-unit \
	    -M "$CT_NAME" -D "$CT_DIR/root" --console=read-only \
	    </dev/null >>"$CT_DIR/console.log" 2>&1 3>&- &
	nspawn=$!
	echo "$nspawn" >"$CT_DIR/nspawn.pid"
	CT_PID=
	for ((i = 0; i < 200; i++)); do
		CT_PID=$(ps -o pid= --ppid "$nspawn" 2>/dev/null | tr -d ' ' | head -1)
		[ -n "$CT_PID" ] && [ "$(cat "/proc/$CT_PID/comm" 2>/dev/null)" = systemd ] &&
		    break
		kill -0 "$nspawn" 2>/dev/null || break
		CT_PID=
		sleep 0.05
	done
	if [ -z "$CT_PID" ]; then
		echo "ct_boot: the container did not start (nspawn $nspawn: $(ps -o stat=,args= -p "$nspawn")); console:" >&2
		tail -30 "$CT_DIR/console.log" >&2
		return 1
	fi
	echo "$CT_PID" >"$CT_DIR/init.pid"
	CT_BOOT_T0=$t0
	export CT_PID CT_BOOT_T0
	for ((i = 0; i < 300; i++)); do
		state=$(timeout 35 nsenter -t "$CT_PID" -a env -i PATH=$CT_PATH \
		    systemctl is-system-running --wait 2>/dev/null) || :	# degraded: 1
		case $state in running | degraded) break ;; esac
		sleep 0.1
	done
	echo "boot $(_ct_since "$t0") $state" >>"$CT_DIR/times"
	case $state in running | degraded) return 0 ;; esac
	echo "ct_boot: systemd says ${state:-nothing}" >&2
	return 1
}

# ct CMD...: as root inside, with a clean environment.
ct() {
	local pid
	ct_booted || return 1
	read -r pid <"$CT_DIR/init.pid" || return 1
	nsenter -t "$pid" -a env -i PATH=$CT_PATH HOME=/root LANG=C.UTF-8 \
	    USER=root LOGNAME=root "$@"
}

# ct_as USER CMD...: as USER, with the XDG_RUNTIME_DIR a login gives.
ct_as() {
	local u=$1 uid
	shift
	uid=$(ct id -u "$u") || return 1
	ct runuser -u "$u" -- env HOME="/home/$u" USER="$u" LOGNAME="$u" \
	    XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

# _ct_since T0: seconds since EPOCHREALTIME was T0.
_ct_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

# ct_took WHAT [T0]: how long since T0 (default $T0), on fd 3 for the
# report and in $CT_DIR/times.
ct_took() {
	local s
	s=$(_ct_since "${2:-$T0}")
	echo "# $1: ${s} s" >&3
	echo "$1 $s" >>"$CT_DIR/times"
}

# ct_exposure: the overall exposure systemd-analyze security
# gives, read from its output on stdin.
ct_exposure() {
	sed -n 's/^→ Overall exposure level for .*: \([0-9.]*\) .*/\1/p'
}

# _ct_wait_gone PID SECONDS: until PID has ended.
_ct_wait_gone() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# ct_poweroff: a clean shutdown; the processes are killed when it hangs.
ct_poweroff() {
	local nspawn init
	[ -f "$CT_DIR/nspawn.pid" ] || return 0
	nspawn=$(cat "$CT_DIR/nspawn.pid")
	init=$(cat "$CT_DIR/init.pid" 2>/dev/null)
	if kill -0 "$nspawn" 2>/dev/null; then
		[ -n "$init" ] && ct systemctl poweroff --no-block >/dev/null 2>&1
		if ! _ct_wait_gone "$nspawn" 30; then
			# our container's PID 1 takes every process inside with it
			[ -n "$init" ] && kill -9 "$init" 2>/dev/null
			_ct_wait_gone "$nspawn" 5 || kill -9 "$nspawn" 2>/dev/null
		fi
	fi
	wait "$nspawn" 2>/dev/null
	rm -f "$CT_DIR/nspawn.pid" "$CT_DIR/init.pid"
}

# ct_reboot: systemctl reboot inside; nspawn exits 133, as systemd-nspawn@
# would restart it we boot the same tree again.
ct_reboot() {
	local nspawn t0=$EPOCHREALTIME rc
	nspawn=$(cat "$CT_DIR/nspawn.pid")
	ct systemctl reboot --no-block
	_ct_wait_gone "$nspawn" 30 || return 1
	rc=0
	wait "$nspawn" 2>/dev/null || rc=$?	# 127: another shell's child
	rm -f "$CT_DIR/nspawn.pid" "$CT_DIR/init.pid"
	case $rc in 133 | 127) ;; *) echo "ct_reboot: nspawn exited $rc, not 133" >&2 ;; esac
	echo "shutdown $(_ct_since "$t0")" >>"$CT_DIR/times"
	ct_boot
}

ct_teardown() {
	[ -n "${CT_DIR:-}" ] && [ -d "$CT_DIR" ] || return 0
	ct_poweroff
	if [ -f "$CT_DIR/mounted" ]; then
		umount "$CT_DIR/root" || umount -l "$CT_DIR/root"
		rm -f "$CT_DIR/mounted"
	fi
	rm -rf "$CT_DIR"
}

# --- tunnels inside ---

# The flags of a tunnel from USER's key (root by default) through the
# bastion inside, forwarding its port 2222 to the lab sshd.
ct_up_args() {
	local key=/root/.ssh/id_ed25519
	[ "${1:-root}" = root ] || key=/home/$1/.ssh/id_ed25519
	printf '%s\n' -b "tunnel@127.0.0.1:$CT_BPORT" -s "$key" -p 2222 \
	    -l localhost:22
}

# ct_run_as USER CMD...: as root or as USER (ct or ct_as).
ct_run_as() {
	local u=$1
	shift
	if [ "$u" = root ]; then ct "$@"; else ct_as "$u" "$@"; fi
}

# ct_state NAME [USER]: the STATE column of ssh-tunnel-ls.
ct_state() {
	ct_run_as "${2:-root}" ssh-tunnel-ls "$1" | cut -f3
}

# ct_wait_state NAME STATE [SECONDS [USER]]: until ssh-tunnel-ls shows it.
ct_wait_state() {
	local end=$((EPOCHSECONDS + ${3:-30}))
	while [ "$EPOCHSECONDS" -lt "$end" ]; do
		[ "$(ct_state "$1" "${4:-root}")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "ct_wait_state: $1 never $2; now: $(ct_run_as "${4:-root}" ssh-tunnel-ls "$1")" >&2
	return 1
}

# ct_lab: a collaborator's ssh through the bastion's port 2222 reaches the
# lab sshd (its host key, not the bastion's) and runs hostname there.
ct_lab() {
	ct ssh -p 2222 -i /etc/bastion/collab -o IdentitiesOnly=yes \
	    -o UserKnownHostsFile=/etc/bastion/lab_known_hosts \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 \
	    root@127.0.0.1 hostname
}

# ct_mainpid UNIT [USER]: systemd's MainPID of the unit (0: none).
ct_mainpid() {
	if [ "${2:-root}" = root ]; then
		ct systemctl show -P MainPID "$1"
	else
		ct_as "$2" systemctl --user show -P MainPID "$1"
	fi
}

# ct_procs: the command lines of every ssh-tunnel-up, autossh and ssh -N
# running inside.
ct_procs() {
	ct ps -eo pid=,args= | grep -E ' (/usr/local/bin/)?(ssh-tunnel-up|/usr/bin/autossh|autossh|ssh .*-N)' |
	    grep -v grep || :
}

# ct_unprivileged PID: the process runs with no new privileges, under a
# seccomp filter and with no capability, effective or bounding.
ct_unprivileged() {
	local out
	# pids are the container's: read its /proc from inside
	out=$(ct grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' "/proc/$1/status")
	echo "$out"
	[[ $out == *"NoNewPrivs:	1"* ]] && [[ $out == *"Seccomp:	2"* ]] &&
	    [[ $out == *"CapEff:	0000000000000000"* ]] &&
	    [[ $out == *"CapBnd:	0000000000000000"* ]]
}

# --- sessions of a user inside ---

# ct_uid USER
ct_uid() {
	ct id -u "$1"
}

# ct_user_manager USER [SECONDS]: until USER's manager answers.
ct_user_manager() {
	local i uid
	uid=$(ct_uid "$1")
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		ct test -S "/run/user/$uid/systemd/private" &&
		    ct_as "$1" systemctl --user is-system-running >/dev/null 2>&1 &&
		    return 0
		ct_as "$1" systemctl --user is-system-running 2>/dev/null | grep -q degraded &&
		    return 0
		sleep 0.1
	done
	echo "ct_user_manager: no manager for $1" >&2
	return 1
}

# ct_login USER: a login session of USER (ssh to the lab sshd, PAM and
# logind as for a person), held open in the background until ct_logout.
ct_login() {
	local i
	ct ssh -n -i "/home/$1/.ssh/id_ed25519" -o IdentitiesOnly=yes \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o LogLevel=ERROR "$1@127.0.0.1" sleep 3600 \
	    </dev/null >/dev/null 2>&1 3>&- &
	echo $! >>"$CT_DIR/login.pids"
	for ((i = 0; i < 200; i++)); do
		ct loginctl list-sessions --no-legend | grep -qw "$1" &&
		    ct_user_manager "$1" 10 && return 0
		sleep 0.1
	done
	echo "ct_login: no session for $1" >&2
	return 1
}

# ct_logout USER: every session of USER ends, as at logout.
ct_logout() {
	local p
	ct loginctl terminate-user "$1" 2>/dev/null || :
	[ -f "$CT_DIR/login.pids" ] || return 0
	while read -r p; do
		_ct_wait_gone "$p" 10 || kill "$p" 2>/dev/null
	done <"$CT_DIR/login.pids"
	rm -f "$CT_DIR/login.pids"
}

# --- scitex-ssh 1.0's units ---

# ct_legacy_unit USER: tests/lib/autossh-tunnel-2222.service as 1.0 wrote
# it for USER (User=USER, USER's key), through the bastion inside, in
# /etc/systemd/system, enabled and started as 1.0 did; returns once its
# port reaches the lab sshd.
ct_legacy_unit() {
	local u=$1 key=/root/.ssh/id_ed25519 i
	[ "$u" = root ] || key=/home/$u/.ssh/id_ed25519
	sed -e "s|^User=.*|User=$u|" \
	    -e "s|-i /home/ywatanabe/.ssh/id_rsa|-p $CT_BPORT -i $key|" \
	    -e "s|ywatanabe@bastion.example.org|tunnel@127.0.0.1|" \
	    "$TOP/tests/lib/autossh-tunnel-2222.service" \
	    >"$CT_DIR/root/etc/systemd/system/autossh-tunnel-2222.service"
	ct systemctl daemon-reload
	ct systemctl enable -q --now autossh-tunnel-2222.service || return 1
	for ((i = 0; i < 100; i++)); do
		[ "$(ct_lab 2>/dev/null)" = "$CT_NAME" ] && return 0
		sleep 0.2
	done
	echo "ct_legacy_unit: the 1.0 tunnel never served port 2222" >&2
	ct systemctl status --no-pager autossh-tunnel-2222.service >&2
	return 1
}

# ct_legacy_gone: remove what ct_legacy_unit made, if still there.
ct_legacy_gone() {
	ct systemctl disable -q --now autossh-tunnel-2222.service 2>/dev/null
	rm -f "$CT_DIR/root/etc/systemd/system/autossh-tunnel-2222.service"
	ct systemctl daemon-reload
	ct systemctl reset-failed autossh-tunnel-2222.service 2>/dev/null
	return 0
}
