# shellcheck shell=bash
# Two ubinderd instances standing for two machines, for the bridge's tests.
# Sourced after tests/lib/tap.sh; uses the caller's $ubinderd,
# $servicemanager and $ctl, and adds what it starts to $pids.

# active OBJECT SOCKET: that daemon's count of live OBJECTs (node, ref, transaction, ...)
active() { "$ctl" --socket "$2" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }

# start_side SOCKET LOG: a daemon and its service manager (its stderr in
# LOG's -sm.log), ready. The daemon is ready when it answers (its socket
# appears only once it listens); should the manager not answer in time,
# what became of it is shown.
start_side() {
	local sm_log=${2%.log}-sm.log sm
	mkdir -p -m 0700 "$(dirname "$1")"
	"$ubinderd" --socket "$1" 2>"$2" &
	pids+=($!)
	wait_for "$ctl" --socket "$1" stats
	"$servicemanager" --socket "$1" 2>"$sm_log" &
	sm=$!
	pids+=($sm)
	if ! wait_for "$ctl" --socket "$1" list; then
		echo "# no service manager on $1 after 10 s; it $(kill -0 "$sm" 2>/dev/null &&
			echo "still runs" || echo "exited"); its log:"
		sed 's/^/#   /' "$sm_log"
	fi
}
