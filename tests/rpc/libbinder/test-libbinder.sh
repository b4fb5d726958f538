#!/bin/bash
# ubinder-rpc against Android's own libbinder (RpcSession and RpcServer,
# built by build-libbinder.sh from an Android source tree):
#   export: kv-rpc-client (libbinder) -> ubinder-rpc export -> ubinderd -> kvstore-service
#   import: ubinderctl -> ubinderd -> ubinder-rpc import -> kv-rpc-server (libbinder)
# Usage: test-libbinder.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE-SERVICE UBINDER-RPC LIBBINDER-OUT
ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 lb=$6
source "$(dirname "${BASH_SOURCE[0]}")/../../lib/tap.sh"
test_dir libbinder
sock=$dir/binder

active() { "$ctl" --socket "$sock" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }

"$ubinderd" --socket "$sock" 2>"$dir/daemon.log" &
pids+=($!)
wait_for test -S "$sock"
"$servicemanager" --socket "$sock" &
pids+=($!)
wait_for "$ctl" --socket "$sock" list
UBINDER_SOCKET=$sock "$kvservice" >"$dir/kvstore.log" &
pids+=($!)
wait_for "$ctl" --socket "$sock" ping kvstore

# Export: libbinder's RpcSession calls a ubinder service.
"$rpc" --socket "$sock" export --listen "unix:$dir/rpc" --service kvstore 2>"$dir/export.log" &
pids+=($!)
"$rpc" --socket "$sock" export --listen "tcp:127.0.0.1:0" --service kvstore 2>"$dir/export-tcp.log" &
pids+=($!)
wait_for test -S "$dir/rpc"
wait_for grep -q "on tcp:127.0.0.1:[1-9]" "$dir/export-tcp.log"
refs_before=$(active ref) # the service manager's and each export's
port=$(sed -n "s/.*on tcp:127.0.0.1:\([0-9]*\)$/\1/p" "$dir/export-tcp.log")
calls="protocol version 1.*ping 0.*put 0 exception 0.*get 0 exception 0 value green.*note 0.*count 0 exception 0 value 1.*unknown code -74.*calls:"
expect_output "libbinder client, Unix socket" 0 "$calls" "$lb/kv-rpc-client" "unix:$dir/rpc"
expect_output "libbinder client, TCP loopback" 0 "$calls" "$lb/kv-rpc-client" "tcp:127.0.0.1:$port"
wait_for grep -c "from-libbinder" "$dir/kvstore.log"
expect_output "libbinder's oneway calls arrived" 0 "from-libbinder.*from-libbinder" cat "$dir/kvstore.log"
settled() { [[ $(active transaction) == 0 && $(active ref) == "$refs_before" ]]; }
wait_for settled
ok "no transaction left after the libbinder sessions" "$(($(active transaction) != 0))"
refs_after=$(active ref)
((refs_after == refs_before)) || echo "# refs: $refs_before before, $refs_after after"
ok "no ref left after the libbinder sessions" "$((refs_after != refs_before))"

# Import: a ubinder client calls libbinder's RpcServer.
"$lb/kv-rpc-server" "unix:$dir/lb" >"$dir/server.log" 2>&1 &
server=$!
pids+=($server)
wait_for test -S "$dir/lb"
"$rpc" --socket "$sock" import --connect "unix:$dir/lb" --as remote-kv 2>"$dir/import.log" &
import=$!
pids+=($import)
wait_for "$ctl" --socket "$sock" ping remote-kv
c=("$ctl" --socket "$sock" call)
expect_output "ping through the import" 0 "org.ubinder.example.IKeyValue" "$ctl" --socket "$sock" ping remote-kv
expect_output "put through the import" 0 "ex: 0 " "${c[@]}" --reply ex remote-kv 1 s:colour s:red
expect_output "get through the import" 0 "s: \"red\"" "${c[@]}" --reply ex,s remote-kv 2 s:colour
expect_output "oneway through the import" 0 "" "${c[@]}" --oneway remote-kv 4 s:oneway-through-import
expect_output "count through the import" 0 "i32: 1" "${c[@]}" --reply ex,i32 remote-kv 3
expect_output "libbinder's unknown code" 1 "UNKNOWN_TRANSACTION" "${c[@]}" remote-kv 99
expect_output "a parcel with no interface token is refused" 1 "BAD_VALUE" "${c[@]}" --no-token remote-kv 3 s:wrong.Token
wait_for grep -q "oneway-through-import" "$dir/server.log"
expect_output "the oneway call reached libbinder" 0 "note: oneway-through-import" cat "$dir/server.log"
kill -KILL "$server"
wait "$server" 2>/dev/null
wait_for sh -c "! kill -0 $import"
ok "the import ends with the libbinder server" "$(kill -0 "$import" 2>/dev/null && echo 1 || echo 0)"
wait_for sh -c "! '$ctl' --socket '$sock' ping remote-kv"
ok "the imported service is gone" "$("$ctl" --socket "$sock" ping remote-kv >/dev/null 2>&1 && echo 1 || echo 0)"

echo "1..$n"
exit "$failed"
