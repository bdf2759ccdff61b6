# SPDX-License-Identifier: AGPL-3.0-only
# A network namespace of the test's own, with only loopback up, so that a
# test can drop packets (iptables inside the namespace) without touching
# the machine's network. Everything it made goes away in netns_cleanup:
# the processes inside (all started by the test, ended by pid), the rules
# and the namespace itself.
#
#   netns_create         make one; its name in NETNS
#   netns_run CMD...     run CMD inside it
#   netns_drop PORT      silently drop TCP to and from PORT (a dead link)
#   netns_undrop PORT    the path is back
#   netns_cleanup        end what runs inside, delete the namespace (and
#                        /run/netns when this test made it)

NETNS=

netns_create() {
	NETNS=sx-$$-$RANDOM
	# ip makes /run/netns, mounted on itself, on first use: if this test
	# is the first, netns_cleanup takes both away again.
	[ -e /run/netns ] ||
	    : >"${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.netns-run"
	ip netns add "$NETNS" || return 1
	echo "$NETNS" >>"${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.netns"
	ip -n "$NETNS" link set lo up
}

netns_run() {
	ip netns exec "$NETNS" "$@"
}

# Both directions: on loopback each packet passes INPUT once.
netns_drop() {
	netns_run iptables -w -I INPUT -p tcp --dport "$1" -j DROP &&
	    netns_run iptables -w -I INPUT -p tcp --sport "$1" -j DROP
}

netns_undrop() {
	netns_run iptables -w -D INPUT -p tcp --dport "$1" -j DROP
	netns_run iptables -w -D INPUT -p tcp --sport "$1" -j DROP
}

# Processes inside a namespace this test made are the test's own.
_netns_kill() {
	local sig=$1 pids
	pids=$(ip netns pids "$2" 2>/dev/null)
	[ -n "$pids" ] || return 1
	# shellcheck disable=SC2086
	kill "-$sig" $pids 2>/dev/null
	return 0
}

netns_cleanup() {
	local f=${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/.netns ns i
	[ -f "$f" ] || return 0
	while read -r ns; do
		if _netns_kill TERM "$ns"; then
			for ((i = 0; i < 50; i++)); do
				[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
				sleep 0.1
			done
			_netns_kill KILL "$ns"
		fi
		ip netns del "$ns" 2>/dev/null
	done <"$f"
	rm -f "$f"
	f=${f%/*}/.netns-run
	if [ -f "$f" ] && [ -z "$(ip netns list 2>/dev/null)" ]; then
		for ((i = 0; i < 3; i++)); do
			umount -n /run/netns 2>/dev/null || break
		done
		rmdir /run/netns 2>/dev/null
	fi
	rm -f "$f"
	return 0
}
