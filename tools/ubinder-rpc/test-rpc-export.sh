#!/usr/bin/env bash
# ubinder-rpc between two ubinderd instances (side A and side B, separate
# socket directories). On B, ubinder-rpc export serves the kvstore service:
# an RPC Binder client (rpc-test-client.py) calls it over a Unix socket and
# over TCP loopback (calls, oneway calls in order, unknown code, wrong token,
# a binder it cannot carry); hostile peers get a closed session while the
# bridge keeps serving. On A, ubinder-rpc import registers both as local
# services, which ubinderctl on A calls. Killing B's service ends the
# export's sessions and so the imports: A's holders see the service die.
# The daemons' counters show nothing left behind. TAP output.
# Usage: test-rpc-export.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE UBINDER_RPC CLIENT
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 client=$6
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/tap.sh"
test_dir rpc
sock=$dir/binder
# expect DESCRIPTION EXIT-STATUS PATTERN COMMAND...: tap.sh's expect_output.
expect() { expect_output "$@"; }

# active OBJECT SOCKET: that daemon's count of live OBJECTs (node, ref, transaction, ...)
active() { "$ctl" --socket "$2" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }

echo "1..40"
expect "help" 0 "Usage: ubinder-rpc" "$rpc" --help
expect "usage: no command" 2 "missing command" "$rpc"
expect "usage: export needs --listen and --service" 2 "export takes --listen and --service" \
	"$rpc" export --service kvstore
expect "usage: import needs --connect and --as" 2 "import takes --connect and --as" \
	"$rpc" import --connect unix:/nothing
expect "usage: bad address" 2 "bad address 'vsock:3'" "$rpc" --socket "$sock" export \
	--listen vsock:3 --service kvstore

# start_side SOCKET LOG: a daemon and its service manager, ready.
start_side() {
	"$ubinderd" --socket "$1" 2>"$2" &
	pids+=($!)
	wait_for test -S "$1"
	"$servicemanager" --socket "$1" &
	pids+=($!)
	wait_for "$ctl" --socket "$1" list
}

# Side B: the kvstore service, exported.
start_side "$sock" "$dir/daemon.log"
UBINDER_SOCKET=$sock "$kvservice" >"$dir/kvstore.log" &
kv=$!
pids+=($kv)
wait_for "$ctl" --socket "$sock" ping kvstore
expect "import: nothing listening" 1 "cannot connect to unix:$dir/none" "$rpc" --socket "$sock" \
	import --connect "unix:$dir/none" --as x
expect "no such service" 1 "no service named 'nothing'" "$rpc" --socket "$sock" export \
	--listen "unix:$dir/none" --service nothing

refs_before=$(active ref "$sock")
"$rpc" --socket "$sock" export --listen "unix:$dir/rpc" --service kvstore 2>"$dir/rpc.log" &
export_unix=$!
pids+=($export_unix)
"$rpc" --socket "$sock" export --listen "tcp:127.0.0.1:0" --service kvstore \
	2>"$dir/rpc-tcp.log" &
export_tcp=$!
pids+=($export_tcp)
wait_for test -S "$dir/rpc"
# port 0: the kernel chooses, the bridge says which
wait_for grep -q "serving 'kvstore' on tcp:127.0.0.1:[1-9]" "$dir/rpc-tcp.log"
port=$(sed -n "s/.*serving 'kvstore' on tcp:127.0.0.1:\([0-9]*\)$/\1/p" "$dir/rpc-tcp.log")

# put, get, oneway notes (in order), count, the refusals
calls="version 1.put 0 0.get 0 0 blue.count 0 \(0, 1\).unknown code -74.wrong token -2147483647.no token -22.watch -61"
expect "kvstore over a Unix socket" 0 "$calls" "$client" "unix:$dir/rpc" kvstore
expect "kvstore over TCP loopback" 0 "$calls" "$client" "tcp:127.0.0.1:$port" kvstore
expect "TCP: replies are not held back (Nagle)" 0 "50 calls in" \
	"$client" "tcp:127.0.0.1:$port" no-delay
expect "oneway calls arrived in order" 0 "first.*second.*first.*second" cat "$dir/kvstore.log"

for k in garbage lying-size mid-frame stall lying-parcel bad-address wrong-dec-strong; do
	expect "hostile peer ($k): session closed" 0 "$k closed" "$client" "unix:$dir/rpc" "$k"
done
expect "hostile peers logged" 0 "closing a session" cat "$dir/rpc.log"
expect "a bystander is still served" 0 "$calls" "$client" "unix:$dir/rpc" kvstore

# nothing left behind: the two bridges hold one ref each, no transaction in flight
refs=$(active ref "$sock")
((refs == refs_before + 2)) || echo "# refs: $refs_before before the bridges, $refs now"
ok "refs: only the bridges' own" "$((refs != refs_before + 2))"
ok "no transaction left in flight" "$(($(active transaction "$sock") != 0))"

# Side A: its own daemon and service manager, B's kvstore imported twice.
a_sock=$dir/a/binder
mkdir -m 0700 "$dir/a"
start_side "$a_sock" "$dir/daemon-a.log"
a_refs_before=$(active ref "$a_sock")
"$rpc" --socket "$a_sock" import --connect "unix:$dir/rpc" --as kvstore 2>"$dir/import.log" &
import_unix=$!
pids+=($import_unix)
"$rpc" --socket "$a_sock" import --connect "tcp:127.0.0.1:$port" --as kvstore-tcp \
	2>"$dir/import-tcp.log" &
import_tcp=$!
pids+=($import_tcp)
wait_for "$ctl" --socket "$a_sock" ping kvstore
wait_for "$ctl" --socket "$a_sock" ping kvstore-tcp
for name in kvstore kvstore-tcp; do
	expect "A -> B ($name): interface" 0 "interface 'org.ubinder.example.IKeyValue'" \
		"$ctl" --socket "$a_sock" ping "$name"
	expect "A -> B ($name): put" 0 "ex: 0 \(no exception\)" \
		"$ctl" --socket "$a_sock" call --reply ex "$name" 1 s:from-a s:"$name"
	expect "A -> B ($name): get" 0 "s: \"$name\"" \
		"$ctl" --socket "$a_sock" call --reply ex,s "$name" 2 s:from-a
	expect "A -> B ($name): oneway" 0 "sent \(oneway\)" \
		"$ctl" --socket "$a_sock" call --oneway "$name" 4 s:"oneway-from-$name"
	expect "A -> B ($name): unknown code" 1 "UNKNOWN_TRANSACTION" \
		"$ctl" --socket "$a_sock" call "$name" 77
	expect "A -> B ($name): a descriptor is refused" 1 "BAD_VALUE" \
		"$ctl" --socket "$a_sock" call "$name" 5 fd:/dev/null
done
wait_for grep -q "oneway-from-kvstore-tcp" "$dir/kvstore.log"
expect "A's oneway calls arrived" 0 "oneway-from-kvstore.*oneway-from-kvstore-tcp" \
	cat "$dir/kvstore.log"

# B's service dies: the exports end their sessions, the imports end, and A's
# service manager drops both names (it saw their processes die).
kill -KILL "$kv"
wait "$kv" 2>/dev/null
for pid in "$export_unix" "$export_tcp" "$import_unix" "$import_tcp"; do
	timeout 10 tail --pid="$pid" -f /dev/null
done
expect "export: the service's death is logged" 0 "service 'kvstore' died" cat "$dir/rpc.log"
expect "import: the session's end is logged" 0 "session lost" cat "$dir/import.log"
expect "A: the imported service is gone" 1 "no service named 'kvstore'" \
	"$ctl" --socket "$a_sock" ping kvstore
a_refs=$(active ref "$a_sock")
reports=$(grep -l "Sanitizer\|runtime error" "$dir"/*.log)
[[ -z $reports ]] || sed 's/^/# /' $reports | head -40
ok "no sanitizer report from the bridges and daemons" "$((${#reports} != 0))"
ok "A: no ref left ($a_refs_before before the imports, $a_refs now)" "$((a_refs != a_refs_before))"

exit $((failed != 0))
