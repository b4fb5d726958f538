#!/bin/bash
# ubinder-rpc against Android's own libbinder (RpcSession and RpcServer,
# built by build-libbinder.sh from an Android source tree):
#   export: kv-rpc-client (libbinder) -> ubinder-rpc export -> ubinderd -> kvstore-service
#   import: ubinderctl -> ubinderd -> ubinder-rpc import -> kv-rpc-server (libbinder)
# Both ways a watcher crosses too: libbinder's client hands kvstore-service
# a BBinder it calls back; kvstore-client hands libbinder's server a ubinder
# object it calls back.
# Usage: test-libbinder.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE-SERVICE UBINDER-RPC LIBBINDER-OUT KVSTORE-CLIENT
ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 lb=$6 kvclient=$7
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
calls="protocol version 1.*ping 0.*watch 0 exception 0.*put 0 exception 0.*callback colour=green.*get 0 exception 0 value green.*note 0.*count 0 exception 0 value 1.*unknown code -74.*calls:"
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
expect_output "kvstore-client through the import, its watcher called back by libbinder" 0 \
	"callback: colour changed to 'blue'.*client: done" env UBINDER_SOCKET="$sock" "$kvclient" --service remote-kv
expect_output "libbinder's server registered and notified it" 0 "a watcher registered.*notified a watcher: 0" \
	cat "$dir/server.log"
wait_for grep -q "oneway-through-import" "$dir/server.log"
expect_output "the oneway call reached libbinder" 0 "note: oneway-through-import" cat "$dir/server.log"
kill -KILL "$server"
wait "$server" 2>/dev/null
wait_for sh -c "! kill -0 $import"
ok "the import ends with the libbinder server" "$(kill -0 "$import" 2>/dev/null && echo 1 || echo 0)"
wait_for sh -c "! '$ctl' --socket '$sock' ping remote-kv"
ok "the imported service is gone" "$("$ctl" --socket "$sock" ping remote-kv >/dev/null 2>&1 && echo 1 || echo 0)"

# TLS both ways (when build-libbinder.sh built libbinder's RpcTransportTls):
# each side pins the other's self-signed certificate.
if "$lb/kv-rpc-client" --tls /dev/null /dev/null /dev/null tcp:127.0.0.1:1 2>&1 |
	grep -q "built without TLS"; then
	echo "# libbinder built without TLS: no TLS interop"
elif ! command -v openssl >/dev/null; then
	echo "# no openssl command: no TLS interop"
else
	for name in ub lb stranger; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj "/CN=interop-$name" -keyout "$dir/$name.key" -out "$dir/$name.crt" 2>/dev/null
	done
	ub_tls=(--tls-cert "$dir/ub.crt" --tls-key "$dir/ub.key" --tls-peer-cert "$dir/lb.crt")
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore "${ub_tls[@]}" \
		2>"$dir/export-tls.log" &
	pids+=($!)
	wait_for grep -q "on tcp:127.0.0.1:[1-9].*(TLS)" "$dir/export-tls.log"
	port=$(sed -n "s/.*on tcp:127.0.0.1:\([0-9]*\) (TLS)$/\1/p" "$dir/export-tls.log")
	expect_output "TLS: libbinder client -> ubinder-rpc export" 0 "$calls" \
		"$lb/kv-rpc-client" --tls "$dir/lb.crt" "$dir/lb.key" "$dir/ub.crt" "tcp:127.0.0.1:$port"
	expect_output "TLS: a libbinder client with a stranger's certificate is refused" 1 "" \
		"$lb/kv-rpc-client" --tls "$dir/stranger.crt" "$dir/stranger.key" "$dir/ub.crt" \
		"tcp:127.0.0.1:$port"
	expect_output "... and the export says why" 0 "its certificate is not one of --tls-peer-cert's" \
		cat "$dir/export-tls.log"
	"$lb/kv-rpc-server" --tls "$dir/lb.crt" "$dir/lb.key" "$dir/ub.crt" tcp:127.0.0.1:0 \
		>"$dir/server-tls.log" 2>&1 &
	server=$!
	pids+=($server)
	wait_for grep -q "serving on tcp:127.0.0.1:[1-9]" "$dir/server-tls.log"
	sport=$(sed -n "s/serving on tcp:127.0.0.1:\([0-9]*\)$/\1/p" "$dir/server-tls.log")
	expect_output "TLS: an import pinning a stranger refuses libbinder's server" 1 \
		"its certificate is not one of --tls-peer-cert's" "$rpc" --socket "$sock" import \
		--connect "tcp:127.0.0.1:$sport" --as x --tls-cert "$dir/ub.crt" --tls-key "$dir/ub.key" \
		--tls-peer-cert "$dir/stranger.crt"
	"$rpc" --socket "$sock" import --connect "tcp:127.0.0.1:$sport" --as remote-tls "${ub_tls[@]}" \
		2>"$dir/import-tls.log" &
	import=$!
	pids+=($import)
	wait_for "$ctl" --socket "$sock" ping remote-tls
	expect_output "TLS: put through the import" 0 "ex: 0 " "${c[@]}" --reply ex remote-tls 1 s:colour s:tls
	expect_output "TLS: get through the import" 0 "s: \"tls\"" "${c[@]}" --reply ex,s remote-tls 2 s:colour
	expect_output "TLS: kvstore-client through the import, its watcher called back" 0 \
		"callback: colour changed to 'blue'.*client: done" env UBINDER_SOCKET="$sock" "$kvclient" --service remote-tls
	kill -KILL "$server"
	wait "$server" 2>/dev/null
	wait_for sh -c "! kill -0 $import"
	ok "TLS: the import ends with the libbinder server" "$(kill -0 "$import" 2>/dev/null && echo 1 || echo 0)"
fi

echo "1..$n"
exit "$failed"
