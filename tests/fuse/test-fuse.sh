#!/usr/bin/env bash
# The FUSE devices (ubinderd --fuse-dev, docs/emulation.md "FUSE"), end to
# end: a real ubinderd mounts them in a temporary folder; programs written
# against the kernel API only (static glibc, and musl and Go ones where the
# build has them) run in a private mount namespace whose /dev has them
# (scripts/fuse-namespace.sh) and call the service manager, which is a
# libubinder client on the daemon's socket. A hostile caller gets the
# kernel's errors and harms nobody; a caller killed in a blocking read
# leaks nothing (the daemon's stats); the daemon's death ends a blocked
# call and makes the mount fail with ENOTCONN, with no hang.
#
# Environment (meson sets it): UBINDERD, SERVICEMANAGER, UBINDERCTL,
# PING_GLIBC, FUSE_HOSTILE, and optionally PING_MUSL, PING_GO.
# Skipped (TAP "1..0 # SKIP") where FUSE cannot be mounted.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/tap.sh
. "$here/../lib/tap.sh"
ns=$here/../../scripts/fuse-namespace.sh

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[[ $(id -u) == 0 ]] || skip "FUSE mounts need root"
[[ -c /dev/fuse ]] || skip "no /dev/fuse"
unshare -m true 2>/dev/null || skip "no mount namespaces"

tmp=$(mktemp -d /tmp/ubinder-fuse.XXXXXX)
chmod 0755 "$tmp"
mkdir "$tmp/dev"
daemon=
sm=
pids=()
daemon2=
cleanup() {
	stop_pids "${pids[@]}" $sm $daemon $daemon2
	umount -l "$tmp/dev2" 2>/dev/null
	# A dead server's mount fails mountpoint(1) too (ENOTCONN): always detach.
	umount -l "$tmp/dev" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

start_daemon() {
	"$UBINDERD" --socket "$tmp/sock/binder" -c binder -c hwbinder -c vndbinder \
		--fuse-dev "$tmp/dev" -l info >> "$tmp/ubinderd.log" 2>&1 &
	daemon=$!
	wait_for mountpoint -q "$tmp/dev" && wait_for test -S "$tmp/sock/binder"
}
stats() { "$UBINDERCTL" -s "$tmp/sock/binder" stats; }
# stat_is LINE-PATTERN: the daemon's stats have a line matching it (within 5 s).
stat_is() {
	for _ in $(seq 50); do
		stats 2>/dev/null | grep -qE "$1" && return 0
		sleep 0.1
	done
	stats | grep -E "^(fuse|procs|proc:)" | sed 's/^/#   /'
	return 1
}

echo "1..23"
start_daemon
ok "ubinderd mounts the devices" $?
if ((failed)); then
	sed 's/^/#   /' "$tmp/ubinderd.log"
	exit 1
fi
ls "$tmp/dev" | tr '\n' ' ' | grep -q "binder hwbinder vndbinder"
ok "the mount lists binder, hwbinder, vndbinder" $?
"$SERVICEMANAGER" -s "$tmp/sock/binder" >> "$tmp/sm.log" 2>&1 &
sm=$!
wait_for "$UBINDERCTL" -s "$tmp/sock/binder" list
ok "the service manager runs (a libubinder client)" $?

expect_output "static glibc ping through /dev/binder in a mount namespace" 0 "ping ok 50" \
	"$ns" "$tmp/dev" "$PING_GLIBC" 50
for v in PING_MUSL PING_GO; do
	if [[ -n ${!v:-} ]]; then
		expect_output "${v#PING_} ping through the FUSE device" 0 "ping ok 20" "$ns" "$tmp/dev" "${!v}" 20
	else
		ok "# SKIP ${v#PING_}: not built" 0
	fi
done

expect_output "a hostile caller gets the kernel's errors" 0 "hostile done" "$ns" "$tmp/dev" "$FUSE_HOSTILE"
expect_output "others are served after it" 0 "ping ok 5" "$ns" "$tmp/dev" "$PING_GLIBC" 5
# /proc/self/fd of an O_PATH descriptor opens the same inode again: the new
# session must not map what was delivered to the old one.
expect_output "a reopened inode shows nothing of its previous session" 0 "reopen: clean" \
	"$ns" "$tmp/dev" "$FUSE_HOSTILE" reopen

expect_output "a signal ends a blocked read with EINTR (SA_RESTART too)" 0 \
	"read: Interrupted system call" "$ns" "$tmp/dev" "$FUSE_HOSTILE" eintr

# A caller killed while it waits in a read: everything of it goes. (The
# namespace script execs the program: $! is its pid.)
"$ns" "$tmp/dev" "$PING_GLIBC" 1 block > "$tmp/block.out" 2>&1 &
blocker=$!
pids+=("$blocker")
wait_for grep -q "ping ok 1" "$tmp/block.out" && stat_is "^fuse calls: 1 pending"
ok "a blocked reader waits unanswered" $?
stop_pids "$blocker"
pids=()
stat_is "^fuse files: 0 open" && stat_is "^fuse calls: 0 pending" && stat_is "^procs: 1$"
ok "a killed caller leaks nothing (files, calls, Binder processes: the manager's only)" $?

# A caller whose write buffer stalls the daemon's copy (a userfaultfd it
# holds and never serves): a signal ends its call at once (EINTR, nothing
# done) and SIGKILL ends it. Before, its interrupted call stayed unanswered
# while the copy blocked, and FUSE waits uninterruptibly for the answer of
# a request the server has: the process could not be killed, and its
# userfaultfd (which it held) kept the copy worker blocked for ever. The
# same with its read buffer, where the daemon writes a read's results: a
# dying caller's call ends (EFAULT) without them.
for mode in stall stall-read; do
	what="its write buffer"
	[[ $mode == stall-read ]] && what="its read buffer (the results)"
	"$ns" "$tmp/dev" "$FUSE_HOSTILE" $mode > "$tmp/stall.out" 2>&1 &
	staller=$!
	pids+=("$staller")
	if wait_for grep -q "stalling" "$tmp/stall.out" && stat_is "^fuse calls: 1 pending"; then
		kill -KILL "$staller"
		for _ in $(seq 50); do gone "$staller" && break; sleep 0.1; done
		gone "$staller"
		ok "a caller whose memory stalls the daemon's copy can still be killed: $what" $?
		stat_is "^fuse files: 0 open" && stat_is "^fuse calls: 0 pending" && stat_is "^procs: 1$"
		ok "and leaks nothing (the copy ends with its memory)" $?
	else
		sed 's/^/#   /' "$tmp/stall.out"
		ok "# SKIP the stalling caller did not start (no userfaultfd?)" 0
		ok "# SKIP" 0
	fi
	kill -KILL "$staller" 2>/dev/null
	wait "$staller" 2>/dev/null
	pids=()
done

# --max-threads-per-uid counts a FUSE caller's threads, as a socket's
# thread connections (each costs the daemon descriptors: its pidfd and
# fdinfo); the quota is given back with the file. A daemon of its own, with
# a small quota.
mkdir "$tmp/dev2"
"$UBINDERD" --socket "$tmp/sock2/binder" --fuse-dev "$tmp/dev2" --max-threads-per-uid 3 \
	-l info >> "$tmp/ubinderd2.log" 2>&1 &
daemon2=$!
wait_for mountpoint -q "$tmp/dev2" && wait_for test -S "$tmp/sock2/binder"
expect_output "--max-threads-per-uid holds for a FUSE caller's threads" 0 \
	"threads: 3 attached, 2 refused \\(EAGAIN\\)" "$ns" "$tmp/dev2" "$FUSE_HOSTILE" threads 5
expect_output "and its threads are given back with the file" 0 \
	"threads: 3 attached, 2 refused \\(EAGAIN\\)" "$ns" "$tmp/dev2" "$FUSE_HOSTILE" threads 5
"$UBINDERCTL" -s "$tmp/sock2/binder" stats | grep -q "^quota refused threads: 4$"
ok "the refusals are counted (quota refused threads)" $?
stop_pids $daemon2
daemon2=
umount -l "$tmp/dev2" 2>/dev/null

# A clean stop with a blocked caller: exit 0 (a sanitized daemon checks for
# leaks then), the mount gone, the caller's call ended.
"$ns" "$tmp/dev" "$FUSE_HOSTILE" block > "$tmp/block1.out" 2>&1 &
blocker=$!
pids+=("$blocker")
wait_for grep -q "blocking" "$tmp/block1.out" && stat_is "^fuse calls: 1 pending"
stop_pids $sm
sm=
kill -TERM "$daemon"
wait "$daemon"
rc=$?
daemon=
ok "SIGTERM stops the daemon cleanly under a blocked caller (exit $rc)" $rc
wait_for sh -c "! mountpoint -q '$tmp/dev'"
ok "and unmounts the devices" $?
stop_pids "$blocker"
pids=()
start_daemon || { ok "the daemon starts again" 1; exit 1; }

# The daemon dies under a blocked caller: the call ends, the mount says ENOTCONN.
"$ns" "$tmp/dev" "$FUSE_HOSTILE" block > "$tmp/block2.out" 2>&1 &
blocker=$!
pids+=("$blocker")
wait_for grep -q "blocking" "$tmp/block2.out" && stat_is "^fuse calls: 1 pending"
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
daemon=
for _ in $(seq 100); do
	kill -0 "$blocker" 2>/dev/null || break
	sleep 0.1
done
! kill -0 "$blocker" 2>/dev/null && grep -q "^read: Software caused connection abort" "$tmp/block2.out"
ok "the daemon's death ends a blocked call (ECONNABORTED)" $?
sed 's/^/#   /' "$tmp/block2.out"
stop_pids "$blocker"
pids=()
out=$(timeout 10 cat "$tmp/dev/binder" 2>&1)
rc=$?
[[ $rc != 124 && $out == *"not connected"* ]]
ok "then the mount fails cleanly (ENOTCONN), no hang" $?
[[ $rc == 124 || $out != *"not connected"* ]] && echo "#   cat: exit $rc: $out"
exit $((failed > 0))
