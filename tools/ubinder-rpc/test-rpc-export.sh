#!/usr/bin/env bash
# ubinder-rpc export against a real daemon, service manager and kvstore
# service: an RPC Binder client (rpc-test-client.py) calls kvstore over a Unix
# socket and over TCP loopback (calls, oneway calls in order, unknown code,
# wrong token, a binder it cannot carry); hostile peers get a closed session
# while the bridge keeps serving; killing the service fails calls with
# DEAD_OBJECT; the daemon's counters show nothing left behind. TAP output.
# Usage: test-rpc-export.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE UBINDER_RPC CLIENT
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 client=$6
dir=$(mktemp -d /tmp/ubinder-rpc.XXXXXX)
sock=$dir/binder
pids=()
n=0 failed=0

cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT

ok() { # ok DESCRIPTION STATUS
	n=$((n + 1))
	if (($2 == 0)); then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		failed=$((failed + 1))
	fi
}

# expect DESCRIPTION EXIT-STATUS PATTERN COMMAND...: status and output (stdout+stderr) match.
expect() {
	local what=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if ((rc != status)) || ! grep -qzE -- "$pattern" <<<"$out"; then
		printf '# %s: exit %d (want %d), output:\n%s\n' "$what" "$rc" "$status" "$out" | sed '2,$s/^/#   /'
		ok "$what" 1
	else
		ok "$what" 0
	fi
}

wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# active OBJECT: the daemon's count of live OBJECTs (node, ref, transaction, ...)
active() { "$ctl" --socket "$sock" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }

echo "1..20"
expect "help" 0 "Usage: ubinder-rpc" "$rpc" --help
expect "usage: no command" 2 "missing command" "$rpc"
expect "usage: export needs --listen and --service" 2 "needs --listen and --service" \
	"$rpc" export --service kvstore
expect "usage: bad address" 2 "bad address 'vsock:3'" "$rpc" --socket "$sock" export \
	--listen vsock:3 --service kvstore

"$ubinderd" --socket "$sock" 2>"$dir/daemon.log" &
pids+=($!)
wait_for test -S "$sock"
"$servicemanager" --socket "$sock" &
pids+=($!)
wait_for "$ctl" --socket "$sock" list
UBINDER_SOCKET=$sock "$kvservice" >"$dir/kvstore.log" &
kv=$!
pids+=($kv)
wait_for "$ctl" --socket "$sock" ping kvstore
expect "no such service" 1 "no service named 'nothing'" "$rpc" --socket "$sock" export \
	--listen "unix:$dir/none" --service nothing

refs_before=$(active ref)
"$rpc" --socket "$sock" export --listen "unix:$dir/rpc" --service kvstore 2>"$dir/rpc.log" &
pids+=($!)
port=$((20000 + RANDOM % 20000))
"$rpc" --socket "$sock" export --listen "tcp:127.0.0.1:$port" --service kvstore \
	2>"$dir/rpc-tcp.log" &
pids+=($!)
wait_for test -S "$dir/rpc"
wait_for bash -c "echo >/dev/tcp/127.0.0.1/$port"

# put, get, oneway notes (in order), count, the refusals
calls="version 1.put 0 0.get 0 0 blue.count 0 \(0, 1\).unknown code -74.wrong token -2147483647.no token -22.watch -61"
expect "kvstore over a Unix socket" 0 "$calls" "$client" "unix:$dir/rpc" kvstore
expect "kvstore over TCP loopback" 0 "$calls" "$client" "tcp:127.0.0.1:$port" kvstore
expect "oneway calls arrived in order" 0 "first.*second.*first.*second" cat "$dir/kvstore.log"

for k in garbage lying-size mid-frame lying-parcel bad-address wrong-dec-strong; do
	expect "hostile peer ($k): session closed" 0 "$k closed" "$client" "unix:$dir/rpc" "$k"
done
expect "hostile peers logged" 0 "closing a session" cat "$dir/rpc.log"
expect "a bystander is still served" 0 "$calls" "$client" "unix:$dir/rpc" kvstore

# nothing left behind: the two bridges hold one ref each, no transaction in flight
refs=$(active ref)
((refs == refs_before + 2)) || echo "# refs: $refs_before before the bridges, $refs now"
ok "refs: only the bridges' own" "$((refs != refs_before + 2))"
ok "no transaction left in flight" "$(($(active transaction) != 0))"

kill -KILL "$kv"
wait "$kv" 2>/dev/null
expect "service killed: calls fail with DEAD_OBJECT" 0 "put -32 None" "$client" "unix:$dir/rpc" kvstore
expect "the bridge still answers the session itself" 0 "version 1" "$client" "unix:$dir/rpc" kvstore

exit $((failed != 0))
