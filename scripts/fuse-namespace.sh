#!/bin/sh
# Runs PROGRAM in a private mount namespace whose /dev has the Binder
# devices of a `ubinderd --fuse-dev DIR` mount, as a container is given them:
#
#   scripts/fuse-namespace.sh DIR PROGRAM [ARGUMENT]...
#
# /dev is a new tmpfs with null, zero and urandom; DIR is bind-mounted at
# /dev/binderfs, and /dev/binder, /dev/hwbinder, /dev/vndbinder are symlinks
# into it, as Android sets up binderfs. The directory is bind-mounted, not
# each file: a bind mount of a file pins one inode, and each open of a FUSE
# Binder device needs its own (docs/emulation.md, "FUSE"). Needs root.
set -eu
[ $# -ge 2 ] || { echo "usage: scripts/fuse-namespace.sh DIR PROGRAM [ARGUMENT]..." >&2; exit 2; }
dir=$1
shift
exec unshare -m sh -euc '
	dir=$1
	shift
	mount --make-rprivate /
	mount -t tmpfs -o mode=0755 ubinder-dev /dev
	mknod -m 666 /dev/null c 1 3
	mknod -m 666 /dev/zero c 1 5
	mknod -m 666 /dev/urandom c 1 9
	mkdir /dev/binderfs
	mount --bind "$dir" /dev/binderfs
	for n in binder hwbinder vndbinder; do
		ln -s "binderfs/$n" "/dev/$n"
	done
	exec "$@"
' fuse-namespace "$dir" "$@"
