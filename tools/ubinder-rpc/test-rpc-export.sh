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
# The kvstore example client on A calls B's service through import and
# export: calls, a oneway call and its watcher (a binder A sends, which B's
# service calls back across the bridge), then waits for B's death.
# Usage: test-rpc-export.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE UBINDER_RPC CLIENT KVSTORE_CLIENT
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 client=$6 kvclient=$7
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/tap.sh"
test_dir rpc
sock=$dir/binder
# expect DESCRIPTION EXIT-STATUS PATTERN COMMAND...: tap.sh's expect_output.
expect() { expect_output "$@"; }

source "$(dirname "${BASH_SOURCE[0]}")/../../tests/rpc/rpc-sides.sh"

echo "1..70"
expect "help" 0 "Usage: ubinder-rpc" "$rpc" --help
expect "usage: no command" 2 "missing command" "$rpc"
expect "usage: export needs --listen and --service" 2 "export takes --listen and --service" \
	"$rpc" export --service kvstore
expect "usage: import needs --connect and --as" 2 "import takes --connect and --as" \
	"$rpc" import --connect unix:/nothing
expect "usage: bad address" 2 "bad address 'vsock:3'" "$rpc" --socket "$sock" export \
	--listen vsock:3 --service kvstore
# vsock: CID and port are decimal 32-bit numbers; a connection that cannot
# be made says why (this machine may have no vsock, or no loopback: the
# VM test tests/rpc/vsock/ runs the bridge over it)
for bad in vsock:x:1 vsock:1: vsock::1 vsock:1:4294967296 vsock:1:2:3 vsock:-1:5; do
	expect "usage: bad vsock address $bad" 2 "bad address '$bad'.*vsock:CID:PORT" \
		"$rpc" --socket "$sock" import --connect "$bad" --as x
done


# Side B: the kvstore service, exported.
start_side "$sock" "$dir/daemon.log"
b_refs_base=$(active ref "$sock")
UBINDER_SOCKET=$sock "$kvservice" >"$dir/kvstore.log" &
kv=$!
pids+=($kv)
wait_for "$ctl" --socket "$sock" ping kvstore
expect "import: nothing listening" 1 "cannot connect to unix:$dir/none" "$rpc" --socket "$sock" \
	import --connect "unix:$dir/none" --as x
expect "vsock: a connection that cannot be made is an error that says so" 1 \
	"cannot (open|connect to) vsock:1:5999: .*session lost" \
	"$rpc" --socket "$sock" import --connect vsock:1:5999 --as x
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
calls="version 1.put 0 0.get 0 0 blue.count 0 \(0, 1\).unknown code -74.wrong token -2147483647.no token -22.watch 0 0"
expect "kvstore over a Unix socket" 0 "$calls" "$client" "unix:$dir/rpc" kvstore
expect "kvstore over TCP loopback" 0 "$calls" "$client" "tcp:127.0.0.1:$port" kvstore
expect "TCP: replies are not held back (Nagle)" 0 "50 calls in" \
	"$client" "tcp:127.0.0.1:$port" no-delay
expect "oneway calls arrived in order" 0 "first.*second.*first.*second" cat "$dir/kvstore.log"

for k in garbage lying-size mid-frame stall lying-parcel bad-address bad-binder; do
	expect "hostile peer ($k): session closed" 0 "$k closed" "$client" "unix:$dir/rpc" "$k"
done
expect "hostile peers logged" 0 "closing a session" cat "$dir/rpc.log"
expect "a DEC_STRONG of nothing held is ignored" 0 "wrong-dec-strong ignored, session served" \
	"$client" "unix:$dir/rpc" wrong-dec-strong
expect "... and logged" 0 "ignoring a DEC_STRONG" cat "$dir/rpc.log"
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

# Descriptors: an import in fd transport mode Unix carries a dump's
# descriptor (B's service writes into A's pipe); without it, refused.
"$rpc" --socket "$a_sock" import --descriptors --connect "unix:$dir/rpc" --as kvstore-fd \
	2>"$dir/import-fd.log" &
import_fd=$!
pids+=($import_fd)
wait_for "$ctl" --socket "$a_sock" ping kvstore-fd
expect "A -> B (descriptors): B's service writes its dump into A's descriptor" 0 \
	"kvstore: [0-9]+ notes.*colour=blue" "$ctl" --socket "$a_sock" dump kvstore-fd
expect "A -> B (no descriptor transport): a dump is refused" 1 "BAD_VALUE" \
	"$ctl" --socket "$a_sock" dump kvstore
expect "usage: --descriptors over TCP" 2 "--descriptors is for an import over a Unix socket" \
	"$rpc" --socket "$a_sock" import --descriptors --connect "tcp:127.0.0.1:$port" --as x

# B's service manager exported, imported on A: checkService crosses with
# the binder it returns (IServiceManager's built-in layout).
"$rpc" --socket "$sock" export --listen "unix:$dir/sm" --service-manager 2>"$dir/rpc-sm.log" &
export_sm=$!
pids+=($export_sm)
wait_for test -S "$dir/sm"
"$rpc" --socket "$a_sock" import --connect "unix:$dir/sm" --as b-manager 2>"$dir/import-sm.log" &
import_sm=$!
pids+=($import_sm)
wait_for "$ctl" --socket "$a_sock" ping b-manager
expect "A -> B's service manager: its interface" 0 "interface 'android.os.IServiceManager'" \
	"$ctl" --socket "$a_sock" ping b-manager
expect "A -> B's service manager: checkService(kvstore) returns a binder" 0 "binder: binder" \
	"$ctl" --socket "$a_sock" call --reply ex,binder b-manager 2 s:kvstore
expect "A -> B's service manager: checkService(nothing) returns null" 0 "binder: null" \
	"$ctl" --socket "$a_sock" call --reply ex,binder b-manager 2 s:nothing
stop_pids "$import_sm" "$export_sm"

# The example client on A, its watcher called back from B (a oneway call
# to a stand-in on B, carried to A's watcher by the import's session).
for name in kvstore kvstore-tcp; do
	timeout 30 env UBINDER_SOCKET="$a_sock" "$kvclient" --service "$name" >"$dir/client-$name.log" 2>&1
	ok "kvstore-client on A -> B ($name): exit $?" $?
	expect "... its calls" 0 "get answer -> '42'.*count -> [0-9]+.*client: done" cat "$dir/client-$name.log"
	expect "... its watcher called back from B" 0 \
		"callback: colour changed to 'blue'.*callback: answer changed to '42'" cat "$dir/client-$name.log"
done
expect "B's service registered both watchers" 0 "a watcher registered.*a watcher registered" \
	cat "$dir/kvstore.log"
ok "B: no transaction left in flight" "$(($(active transaction "$sock") != 0))"
ok "A: no transaction left in flight" "$(($(active transaction "$a_sock") != 0))"

# A's side of the TCP session goes: that export session's context closes, so
# the stand-in of the TCP client's watcher dies for B's service, which drops
# it (a death notification on B, as if A's process were local and died).
watchers_died=$(grep -c "a watcher died" "$dir/kvstore.log")
kill -KILL "$import_tcp"
wait "$import_tcp" 2>/dev/null
wait_for grep -q "ubinder-rpc: .*closed by the server\|session" "$dir/rpc-tcp.log"
wait_for test "$(grep -c "a watcher died" "$dir/kvstore.log")" -gt "$watchers_died"
ok "B: the watcher behind the lost session died for the service" \
	"$(($(grep -c "a watcher died" "$dir/kvstore.log") <= watchers_died))"
expect "A: the imported TCP name is gone with its bridge" 1 "no service named 'kvstore-tcp'" \
	"$ctl" --socket "$a_sock" ping kvstore-tcp
expect "the export over TCP still serves" 0 "get 0 0 blue.count 0 \(0, [0-9]+\)" \
	"$client" "tcp:127.0.0.1:$port" kvstore

# A client on A waits for B's service to die.
UBINDER_SOCKET=$a_sock "$kvclient" --service kvstore --wait-for-death 20 >"$dir/client-death.log" 2>&1 &
death_client=$!
pids+=($death_client)
wait_for grep -q "waiting for the service to die" "$dir/client-death.log"

# B's service dies: the exports end their sessions, the imports end, and A's
# service manager drops both names (it saw their processes die).
kill -KILL "$kv"
wait "$kv" 2>/dev/null
for pid in "$export_unix" "$export_tcp" "$import_unix" "$import_tcp" "$import_fd"; do
	timeout 10 tail --pid="$pid" -f /dev/null
done
wait "$death_client"
rc=$?
ok "A's client was told B's service died (exit $rc)" "$rc"
expect "... by a death notification" 0 "death notification: 'kvstore' died" \
	cat "$dir/client-death.log"
expect "export: the service's death is logged" 0 "service 'kvstore' died" cat "$dir/rpc.log"
expect "import: the session's end is logged" 0 "session lost" cat "$dir/import.log"
expect "A: the imported service is gone" 1 "no service named 'kvstore'" \
	"$ctl" --socket "$a_sock" ping kvstore
a_refs=$(active ref "$a_sock")
reports=$(grep -l "Sanitizer\|runtime error" "$dir"/*.log)
[[ -z $reports ]] || sed 's/^/# /' $reports | head -40
ok "no sanitizer report from the bridges and daemons" "$((${#reports} != 0))"
ok "A: no ref left ($a_refs_before before the imports, $a_refs now)" "$((a_refs != a_refs_before))"
b_refs=$(active ref "$sock")
ok "B: no ref left ($b_refs_base before the service, $b_refs now)" "$((b_refs != b_refs_base))"

exit $((failed != 0))
