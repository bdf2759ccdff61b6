# SPDX-License-Identifier: AGPL-3.0-only
# Decoys for the copy-guard attack suites: trees outside the roots (and
# read-only roots) whose every file, directory and link is recorded before
# an attack and compared after it, so that a test shows on disk, not by an
# exit code, that nothing was written, chmodded, chowned or touched.
#
#   decoy_make DIR      a small tree: files (one 0600), a directory, links
#   decoy_snap DIR...   print a snapshot: path, type, mode, owner, group,
#                       mtime, ctime, size, link target, content hash

decoy_make() {
	mkdir -p "$1/sub"
	echo "secret $RANDOM" >"$1/secret"
	chmod 600 "$1/secret"
	echo "public" >"$1/public"
	echo "deep" >"$1/sub/deep"
	chmod 750 "$1/sub"
	ln -s secret "$1/link"
	# times in the past, so that a touch or utimes shows
	find "$1" -exec touch -h -d '2001-02-03 04:05:06' {} +
}

decoy_snap() {
	local d
	for d in "$@"; do
		find "$d" -printf '%p %y %m %U %G %T@ %C@ %s %l\n' | LC_ALL=C sort
		find "$d" -type f -print0 | LC_ALL=C sort -z |
		    xargs -0r sha256sum
	done
}
