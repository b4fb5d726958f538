#!/usr/bin/env bash
# ubinder-rpc over TLS between two ubinderd instances (side A imports, side
# B exports kvstore), bridged over TCP loopback (and one Unix socket), with
# throwaway self-signed certificates made here by `openssl req`: mutual
# authentication (each side pins the other's certificate), the kvstore
# calls, a callback, death across the bridge, and nothing left behind.
# Hostile peers: the plaintext suite's hostile frames sent inside TLS, a
# plaintext RPC client, TLS garbage, a ClientHello cut
# short, one that stops halfway (the handshake's time limit ends it while a
# bystander is served), a session that stops halfway through a TLS record,
# a stranger's certificate, a server pinned wrong.
# Configuration errors: options alone, missing, empty or foreign files, a
# key that is not the certificate's, descriptors with TLS. TAP output.
# Usage: test-rpc-tls.sh UBINDERD SERVICEMANAGER UBINDERCTL KVSTORE_SERVICE UBINDER_RPC CLIENT KVSTORE_CLIENT
set -uo pipefail

ubinderd=$1 servicemanager=$2 ctl=$3 kvservice=$4 rpc=$5 client=$6 kvclient=$7
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tap.sh"
test_dir rpc-tls
sock=$dir/binder
expect() { expect_output "$@"; }
source "$(dirname "${BASH_SOURCE[0]}")/rpc-sides.sh"

if ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP no openssl command (scripts/deps.sh installs it)"
	exit 0
fi
# cert NAME: $dir/NAME.crt and NAME.key, a self-signed P-256 certificate
cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=ubinder-test-$1" -keyout "$dir/$1.key" -out "$dir/$1.crt" 2>/dev/null
}
for name in a b stranger; do cert "$name" || exit 1; done
tls_b=(--tls-cert "$dir/b.crt" --tls-key "$dir/b.key" --tls-peer-cert "$dir/a.crt")
tls_a=(--tls-cert "$dir/a.crt" --tls-key "$dir/a.key" --tls-peer-cert "$dir/b.crt")

echo "1..60"
# configuration: all three files or none, each checked
expect "usage: --tls-cert alone" 2 "together" "$rpc" --socket "$sock" export \
	--listen tcp:127.0.0.1:0 --service kvstore --tls-cert "$dir/b.crt"
expect "usage: --descriptors with TLS" 2 "without TLS" "$rpc" --socket "$sock" import \
	--descriptors --connect "unix:$dir/x" --as x "${tls_a[@]}"
expect "a missing certificate file" 2 "--tls-cert $dir/none: No such file" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/none" --tls-key "$dir/b.key" --tls-peer-cert "$dir/a.crt"
printf 'not a certificate\n' >"$dir/garbage.crt"
expect "a file that is no certificate" 2 "--tls-cert $dir/garbage.crt: no PEM certificate" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/garbage.crt" --tls-key "$dir/b.key" --tls-peer-cert "$dir/a.crt"
expect "a key that is not the certificate's" 2 "not the key of --tls-cert" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/b.crt" --tls-key "$dir/a.key" --tls-peer-cert "$dir/a.crt"
expect "a certificate as the key" 2 "--tls-key $dir/b.crt: no PEM private key" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/b.crt" --tls-key "$dir/b.crt" --tls-peer-cert "$dir/a.crt"
: >"$dir/empty.crt"
expect "an empty peer certificate file" 2 "--tls-peer-cert $dir/empty.crt: no PEM certificate" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/b.crt" --tls-key "$dir/b.key" --tls-peer-cert "$dir/empty.crt"
expect "a directory as the peer certificates" 2 "--tls-peer-cert $dir: not a regular file" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/b.crt" --tls-key "$dir/b.key" --tls-peer-cert "$dir"
head -c 1100000 /dev/zero >"$dir/huge.crt"
expect "an oversize file" 2 "larger than 1048576 bytes" \
	"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore \
	--tls-cert "$dir/b.crt" --tls-key "$dir/b.key" --tls-peer-cert "$dir/huge.crt"


# Side B: kvstore, exported over TCP and a Unix socket, TLS only.
start_side "$sock" "$dir/daemon.log"
b_refs_base=$(active ref "$sock")
UBINDER_SOCKET=$sock "$kvservice" >"$dir/kvstore.log" &
kv=$!
pids+=($kv)
wait_for "$ctl" --socket "$sock" ping kvstore
"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore "${tls_b[@]}" \
	2>"$dir/export.log" &
export_tcp=$!
pids+=($export_tcp)
"$rpc" --socket "$sock" export --listen "unix:$dir/rpc" --service kvstore "${tls_b[@]}" \
	2>"$dir/export-unix.log" &
export_unix=$!
pids+=($export_unix)
wait_for grep -q "serving 'kvstore' on tcp:127.0.0.1:[1-9][0-9]* (TLS)" "$dir/export.log"
wait_for test -S "$dir/rpc"
port=$(sed -n "s/.*serving 'kvstore' on tcp:127.0.0.1:\([0-9]*\) (TLS)$/\1/p" "$dir/export.log")
addr=tcp:127.0.0.1:$port

calls="version 1.put 0 0.get 0 0 blue.count 0 \(0, 1\).unknown code -74.wrong token -2147483647.no token -22.watch 0 0"
expect "kvstore over TLS (TCP)" 0 "$calls" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" kvstore
expect "kvstore over TLS (Unix socket)" 0 "$calls" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "unix:$dir/rpc" kvstore

# hostile RPC frames inside TLS: the same refusals as in plaintext
for k in garbage lying-size mid-frame stall lying-parcel bad-address bad-binder; do
	expect "inside TLS, hostile peer ($k): session closed" 0 "$k closed" \
		"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" "$k"
done
expect "inside TLS: a DEC_STRONG of nothing held is ignored" 0 "ignored, session served" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" wrong-dec-strong
expect "inside TLS: replies are not held back (Nagle)" 0 "50 calls in" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" no-delay

# hostile and wrong peers: each refused, the export goes on
expect "a plaintext RPC client is refused" 0 "plaintext closed" "$client" "$addr" plaintext
expect "... and logged" 0 "TLS handshake with tcp:127.0.0.1:[0-9]+ failed: wrong version number" \
	cat "$dir/export.log"
expect "plaintext garbage is refused" 0 "garbage closed" "$client" "$addr" garbage
expect "TLS garbage is refused" 0 "tls-garbage closed" "$client" "$addr" tls-garbage
expect "a truncated ClientHello is refused" 0 "tls-truncated closed" "$client" "$addr" tls-truncated
expect "a stranger's certificate is refused (client side)" 1 "refused:.*alert bad certificate" \
	"$client" --tls "$dir/stranger.crt" "$dir/stranger.key" "$dir/b.crt" "$addr" kvstore
expect "... (server side)" 0 "failed: its certificate is not one of --tls-peer-cert's" \
	cat "$dir/export.log"
expect "a client that pins another server refuses B" 1 "refused:.*certificate verify failed" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/stranger.crt" "$addr" kvstore
expect "... and B hears of it" 0 "the peer refused it \(tlsv1 alert unknown ca\)" \
	cat "$dir/export.log"

# a peer that stops mid-handshake holds one connection for the limit, not the bridge
"$client" "$addr" tls-stall >"$dir/stall.out" 2>&1 &
stall=$!
pids+=($stall)
sleep 0.5
expect "a bystander is served while a handshake stalls" 0 "$calls" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" kvstore
wait "$stall"
ok "the stalled handshake is closed (exit $?)" $?
expect "... within the limit" 0 "tls-stall closed after [4-6] s" cat "$dir/stall.out"
expect "... and logged" 0 "failed: timed out" cat "$dir/export.log"
expect "a session stopping mid-record is closed within the frame limit" 0 \
	"tls-record-stall closed after [4-6] s" \
	"$client" --tls "$dir/a.crt" "$dir/a.key" "$dir/b.crt" "$addr" tls-record-stall
expect "... and logged" 0 "TLS read with tcp:127.0.0.1:[0-9]+ failed: the peer stopped mid-record" \
	cat "$dir/export.log"
ok "B: no transaction in flight" "$(($(active transaction "$sock") != 0))"

# Side A: B's kvstore imported over TLS.
a_sock=$dir/a/binder
mkdir -m 0700 "$dir/a"
start_side "$a_sock" "$dir/daemon-a.log"
a_refs_before=$(active ref "$a_sock")
"$rpc" --socket "$a_sock" import --connect "$addr" --as kvstore "${tls_a[@]}" \
	2>"$dir/import.log" &
import=$!
pids+=($import)
wait_for "$ctl" --socket "$a_sock" ping kvstore
expect "A -> B over TLS: interface" 0 "interface 'org.ubinder.example.IKeyValue'" \
	"$ctl" --socket "$a_sock" ping kvstore
expect "A -> B over TLS: put" 0 "ex: 0 \(no exception\)" \
	"$ctl" --socket "$a_sock" call --reply ex kvstore 1 s:from-a s:tls
expect "A -> B over TLS: get" 0 "s: \"tls\"" \
	"$ctl" --socket "$a_sock" call --reply ex,s kvstore 2 s:from-a
expect "A -> B over TLS: oneway" 0 "sent \(oneway\)" \
	"$ctl" --socket "$a_sock" call --oneway kvstore 4 s:oneway-over-tls
wait_for grep -q "oneway-over-tls" "$dir/kvstore.log"
expect "... arrived" 0 "oneway-over-tls" cat "$dir/kvstore.log"
expect "A -> B over TLS: unknown code" 1 "UNKNOWN_TRANSACTION" \
	"$ctl" --socket "$a_sock" call kvstore 77
expect "A -> B over TLS: a dump's descriptor is refused (no fds over TLS)" 1 "BAD_VALUE" \
	"$ctl" --socket "$a_sock" dump kvstore
timeout 30 env UBINDER_SOCKET="$a_sock" "$kvclient" --service kvstore >"$dir/client.log" 2>&1
ok "kvstore-client on A -> B over TLS: exit $?" $?
expect "... its watcher called back from B" 0 \
	"callback: colour changed to 'blue'.*callback: answer changed to '42'" cat "$dir/client.log"

# the other way: a second import goes with the watcher it carried; B's
# service sees that watcher die (the export's session context closes)
"$rpc" --socket "$a_sock" import --connect "$addr" --as kvstore-2 "${tls_a[@]}" \
	2>"$dir/import-2.log" &
import2=$!
pids+=($import2)
wait_for "$ctl" --socket "$a_sock" ping kvstore-2
timeout 30 env UBINDER_SOCKET="$a_sock" "$kvclient" --service kvstore-2 >"$dir/client-2.log" 2>&1
ok "kvstore-client through a second TLS import: exit $?" $?
watchers_died=$(grep -c "a watcher died" "$dir/kvstore.log")
kill -KILL "$import2"
wait "$import2" 2>/dev/null
wait_for test "$(grep -c "a watcher died" "$dir/kvstore.log")" -gt "$watchers_died"
ok "B: the watcher behind the killed TLS import died for the service" \
	"$(($(grep -c "a watcher died" "$dir/kvstore.log") <= watchers_died))"

# imports that must fail, each saying why
expect "an import pinning a stranger refuses B" 1 \
	"TLS handshake with $addr failed: its certificate is not one of --tls-peer-cert's" \
	"$rpc" --socket "$a_sock" import --connect "$addr" --as x --tls-cert "$dir/a.crt" \
	--tls-key "$dir/a.key" --tls-peer-cert "$dir/stranger.crt"
expect "an import B does not know is refused" 1 \
	"TLS read with $addr failed: the peer refused it \(.*alert bad certificate\)" \
	"$rpc" --socket "$a_sock" import --connect "$addr" --as x --tls-cert "$dir/stranger.crt" \
	--tls-key "$dir/stranger.key" --tls-peer-cert "$dir/b.crt"
expect "a plaintext import of a TLS export fails" 1 "session lost" \
	"$rpc" --socket "$a_sock" import --connect "$addr" --as x
"$rpc" --socket "$sock" export --listen tcp:127.0.0.1:0 --service kvstore 2>"$dir/plain.log" &
export_plain=$!
pids+=($export_plain)
wait_for grep -q "serving 'kvstore' on tcp:127.0.0.1:[1-9]" "$dir/plain.log"
plain_port=$(sed -n "s/.*serving 'kvstore' on tcp:127.0.0.1:\([0-9]*\)$/\1/p" "$dir/plain.log")
expect "a TLS import of a plaintext export fails" 1 "TLS handshake with tcp:127.0.0.1:$plain_port failed" \
	"$rpc" --socket "$a_sock" import --connect "tcp:127.0.0.1:$plain_port" --as x "${tls_a[@]}"
stop_pids "$export_plain"
expect "A -> B still served" 0 "s: \"tls\"" \
	"$ctl" --socket "$a_sock" call --reply ex,s kvstore 2 s:from-a

# death: B's service dies, the export ends its sessions, the import ends,
# and A's client hears it
UBINDER_SOCKET=$a_sock "$kvclient" --service kvstore --wait-for-death 20 >"$dir/client-death.log" 2>&1 &
death_client=$!
pids+=($death_client)
wait_for grep -q "waiting for the service to die" "$dir/client-death.log"
kill -KILL "$kv"
wait "$kv" 2>/dev/null
for pid in "$export_tcp" "$export_unix" "$import"; do
	timeout 10 tail --pid="$pid" -f /dev/null
done
wait "$death_client"
rc=$?
ok "A's client was told B's service died (exit $rc)" "$rc"
expect "... by a death notification" 0 "death notification: 'kvstore' died" \
	cat "$dir/client-death.log"
expect "import: the session's end is logged" 0 "session lost" cat "$dir/import.log"
expect "A: the imported service is gone" 1 "no service named 'kvstore'" \
	"$ctl" --socket "$a_sock" ping kvstore
reports=$(grep -l "Sanitizer\|runtime error" "$dir"/*.log)
[[ -z $reports ]] || sed 's/^/# /' $reports | head -40
ok "no sanitizer report from the bridges and daemons" "$((${#reports} != 0))"
a_refs=$(active ref "$a_sock")
ok "A: no ref left ($a_refs_before before the import, $a_refs now)" "$((a_refs != a_refs_before))"
b_refs=$(active ref "$sock")
ok "B: no ref left ($b_refs_base before the service, $b_refs now)" "$((b_refs != b_refs_base))"
ok "A: no transaction in flight" "$(($(active transaction "$a_sock") != 0))"

exit $((failed != 0))
