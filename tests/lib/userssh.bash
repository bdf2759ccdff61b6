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
	local pwhome rel='' made='' rc=0
	pwhome=$(getent passwd "$(id -u)" | cut -d: -f6)
	# A clone inside that home (root's /root/scitex-ssh on a fresh
	# machine) would be hidden with it, the build and the snippet too: it
	# is bound into $HOME at the same place first, and comes along. The
	# mount point is removed again after, so that $HOME is as it was.
	case $TOP/ in "$pwhome"/*)
		rel=${TOP#"$pwhome"/}
		[ -e "$HOME/${rel%%/*}" ] || made=$rel
		mkdir -p "$HOME/$rel" ;;
	esac
	# shellcheck disable=SC2016 # expanded by the inner sh, on purpose
	unshare -m sh -c '
		{ [ -z "$2" ] || mount -n --bind "$3" "$0/$2"; } &&
		    mount -n --rbind "$0" "$1" && shift 3 && exec "$@"' \
	    "$HOME" "$pwhome" "$rel" "$TOP" "$@" || rc=$?
	[ -z "$made" ] || (cd "$HOME" && rmdir -p "$made" 2>/dev/null) || :
	return $rc
}
