# SPDX-License-Identifier: AGPL-3.0-only
# ssh reads ~/.ssh/config from the password database's home, not from
# $HOME. To test the shipped snippets as a user has them, a command runs
# in a private mount namespace where that home is the test's $HOME (the
# namespace, and the bind mount with it, end with the command).
#
#   userssh_skip             skip the test where mount namespaces are not
#                            available
#   userssh_config [LINE...] ~/.ssh/config: Include the policy snippet,
#                            then LINEs
#   in_home CMD...           CMD with ~ (for ssh) being $HOME

userssh_skip() {
	unshare -m true 2>/dev/null || skip "no mount namespaces here"
}

userssh_config() {
	{
		echo "Include $TOP/ssh_config.d/10-scitex-policy.conf"
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$HOME/.ssh/config"
}

in_home() {
	local pwhome rel='' rc=0 lock
	pwhome=${USERSSH_PWHOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
	# A clone inside that home (root's /root/scitex-ssh on a fresh
	# machine) would be hidden with it, the build and the snippet too: it
	# is bound into $HOME at the same place first, and comes along. The
	# mount point is removed again after the last in_home that needs it,
	# so that $HOME is as it was. Calls may overlap (one in the
	# background): a count kept under a lock, beside $HOME, not in it,
	# says which call is the last; removing it under a running one would
	# take the clone away from that one (rmdir of a mount point detaches
	# it in every namespace).
	case $TOP/ in "$pwhome"/*)
		rel=${TOP#"$pwhome"/}
		lock=$HOME.in_home
		_in_home_count "$lock" +1 "$HOME" "$rel" ;;
	esac
	# shellcheck disable=SC2016 # expanded by the inner sh, on purpose
	unshare -m sh -c '
		{ [ -z "$2" ] || mount -n --bind "$3" "$0/$2"; } &&
		    mount -n --rbind "$0" "$1" && shift 3 && exec "$@"' \
	    "$HOME" "$pwhome" "$rel" "$TOP" "$@" || rc=$?
	[ -z "$rel" ] || _in_home_count "$lock" -1 "$HOME" "$rel"
	return $rc
}

# _in_home_count LOCK +1|-1 HOME REL: count the calls using HOME/REL
# under LOCK; the first makes it (and notes whether it did), the last
# removes what the first made.
_in_home_count() {
	# shellcheck disable=SC2016 # expanded by the inner bash, on purpose
	flock "$1" bash -c '
		n=$(cat "$1.n" 2>/dev/null) || n=0
		n=$((n + $2))
		if [ "$n" -eq 1 ] && [ "$2" -gt 0 ]; then
			rm -f "$1.made"
			[ -e "$3/${4%%/*}" ] || : >"$1.made"
			mkdir -p "$3/$4"
		fi
		if [ "$n" -gt 0 ]; then
			echo "$n" >"$1.n"
			exit 0
		fi
		if [ -e "$1.made" ]; then
			(cd "$3" && rmdir -p "$4" 2>/dev/null) || :
		fi
		rm -f "$1.made" "$1.n"' _ "$@"
}
