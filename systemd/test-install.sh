#!/usr/bin/env bash
# `meson install --destdir` places the system mode's files: the service and
# socket units, the sysusers.d and tmpfiles.d entries; the service runs the
# installed ubinderd as the ubinder user, the socket is /run/ubinder/binder.
# With systemd-analyze, the units also pass `systemd-analyze verify`. TAP.
# Usage: test-install.sh MESON BUILD_DIR PREFIX BINDIR
set -uo pipefail

meson=$1 build=$2 prefix=$3 bindir=$4
dest=$(mktemp -d /tmp/ubinder-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
n=0 failed=0

ok() { # ok DESCRIPTION COMMAND...
	n=$((n + 1))
	if "${@:2}" >"$dest/.out" 2>&1; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/#   /' "$dest/.out"
		failed=$((failed + 1))
	fi
}

# The one installed file called @1 whose path contains @2.
installed() { find "$dest" -name "$1" -path "*$2*" -print -quit; }

echo "1..7"
ok "meson install --destdir" "$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet
service=$(installed ubinderd.service systemd/system)
socket=$(installed ubinderd.socket systemd/system)
ok "units in the systemd unit directory" test -f "$service" -a -f "$socket"
ok "sysusers.d entry" grep -q '^u ubinder ' "$(installed ubinder.conf sysusers.d)"
ok "tmpfiles.d entry" grep -q '^d /run/ubinder 0755 root root' "$(installed ubinder.conf tmpfiles.d)"
ok "the service runs the installed daemon as ubinder" \
	bash -c "grep -qx 'ExecStart=$prefix/$bindir/ubinderd' '$service' &&
		grep -qx 'User=ubinder' '$service' && test -x '$dest$prefix/$bindir/ubinderd'"
ok "the socket is /run/ubinder/binder, named for its context" \
	bash -c "grep -qx 'ListenSequentialPacket=/run/ubinder/binder' '$socket' &&
		grep -qx 'FileDescriptorName=binder' '$socket'"
if command -v systemd-analyze >/dev/null; then
	mkdir "$dest/verify"
	sed "s|^ExecStart=|ExecStart=$dest|" "$service" >"$dest/verify/ubinderd.service"
	cp "$socket" "$dest/verify/"
	ok "systemd-analyze verify" bash -c "cd '$dest/verify' &&
		systemd-analyze verify --man=no ./ubinderd.socket ./ubinderd.service"
else
	n=$((n + 1))
	echo "ok $n - systemd-analyze verify # SKIP systemd-analyze is not installed"
fi
((failed == 0))
