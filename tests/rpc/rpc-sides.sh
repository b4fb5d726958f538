# shellcheck shell=bash
# Two ubinderd instances standing for two machines, for the bridge's tests.
# Sourced after tests/lib/tap.sh; uses the caller's $ubinderd,
# $servicemanager and $ctl, and adds what it starts to $pids.

# active OBJECT SOCKET: that daemon's count of live OBJECTs (node, ref, transaction, ...)
active() { "$ctl" --socket "$2" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }

# start_side SOCKET LOG: a daemon and its service manager, ready.
start_side() {
	mkdir -p -m 0700 "$(dirname "$1")"
	"$ubinderd" --socket "$1" 2>"$2" &
	pids+=($!)
	wait_for test -S "$1"
	"$servicemanager" --socket "$1" &
	pids+=($!)
	wait_for "$ctl" --socket "$1" list
}
