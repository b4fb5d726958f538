# The bridge over vsock, inside the binder VM (busybox sh, run as root by
# `binder-vm run vm-sh /in-vm.sh`, vm-sh.c; the static programs, the
# vsock modules and the certificates are copied next to it by
# run-vsock-vm.sh). Loads vsock_loopback (CID 1), then two ubinderd
# instances, B exporting kvstore over vsock (plaintext and TLS), A
# importing both: calls, a callback, B's service's death. TAP output;
# the exit status is the number of failures.
n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=$((failed + 1)); fi
}
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# expect DESCRIPTION PATTERN COMMAND...: COMMAND's output matches PATTERN (grep -E)
expect() {
	what=$1 pattern=$2
	shift 2
	out=$("$@" 2>&1)
	echo "$out" | grep -qE "$pattern"
	rc=$?
	[ $rc = 0 ] || echo "$out" | sed 's/^/#   /'
	ok "$what" $rc
}

for m in vsock vmw_vsock_virtio_transport_common vsock_loopback; do
	insmod "/$m.ko" || { echo "not ok - insmod $m"; exit 99; }
done
b=/tmp/b/binder a=/tmp/a/binder
mkdir -p /tmp/a /tmp/b
tls_b="--tls-cert /b.crt --tls-key /b.key --tls-peer-cert /a.crt"
tls_a="--tls-cert /a.crt --tls-key /a.key --tls-peer-cert /b.crt"
side() { # side SOCKET LOG
	/ubinderd --socket "$1" 2>"$2" &
	wait_for test -S "$1"
	/ubinder-servicemanager --socket "$1" &
	wait_for /ubinderctl --socket "$1" list
}
side "$b" /tmp/daemon-b.log
UBINDER_SOCKET=$b /kvstore-service >/tmp/kvstore.log 2>&1 &
kv=$!
wait_for /ubinderctl --socket "$b" ping kvstore
/ubinder-rpc --socket "$b" export --listen vsock:1:5000 --service kvstore 2>/tmp/export.log &
e1=$!
# shellcheck disable=SC2086
/ubinder-rpc --socket "$b" export --listen vsock:4294967295:5001 --service kvstore $tls_b \
	2>/tmp/export-tls.log &
e2=$!
wait_for grep -q "serving 'kvstore' on vsock:1:5000" /tmp/export.log
ok "export listens on vsock:1:5000" $?
wait_for grep -q "serving 'kvstore' on vsock:4294967295:5001 (TLS)" /tmp/export-tls.log
ok "export listens on vsock (any CID), TLS" $?

active() { /ubinderctl --socket "$2" stats | awk -v k="$1:" '$1 == k && $2 == "active" { print $3 }'; }
side "$a" /tmp/daemon-a.log
a_refs=$(active ref "$a")
/ubinder-rpc --socket "$a" import --connect vsock:1:5000 --as kvstore 2>/tmp/import.log &
i1=$!
# shellcheck disable=SC2086
/ubinder-rpc --socket "$a" import --connect vsock:1:5001 --as kvstore-tls $tls_a \
	2>/tmp/import-tls.log &
i2=$!
for name in kvstore kvstore-tls; do
	wait_for /ubinderctl --socket "$a" ping "$name"
	expect "A -> B over vsock ($name): interface" "org.ubinder.example.IKeyValue" \
		/ubinderctl --socket "$a" ping "$name"
	expect "A -> B over vsock ($name): put" "ex: 0 \(no exception\)" \
		/ubinderctl --socket "$a" call --reply ex "$name" 1 s:over s:"$name"
	expect "A -> B over vsock ($name): get" "s: \"$name\"" \
		/ubinderctl --socket "$a" call --reply ex,s "$name" 2 s:over
	expect "A -> B over vsock ($name): kvstore-client, its watcher called back" \
		"callback: colour changed to 'blue'" env UBINDER_SOCKET="$a" /kvstore-client --service "$name"
done
expect "a TLS import of the plaintext vsock export is refused" "TLS handshake with vsock:1:5000 failed" \
	/ubinder-rpc --socket "$a" import --connect vsock:1:5000 --as x $tls_a
expect "nothing listening on a vsock port" "cannot connect to vsock:1:5999" \
	/ubinder-rpc --socket "$a" import --connect vsock:1:5999 --as x

kill -9 "$kv"
for p in $e1 $e2 $i1 $i2; do
	j=0
	while kill -0 "$p" 2>/dev/null && [ $j -lt 100 ]; do sleep 0.1; j=$((j + 1)); done
done
expect "B's service died: the imports ended" "session lost" cat /tmp/import.log /tmp/import-tls.log
wait_for sh -c "! /ubinderctl --socket $a ping kvstore && ! /ubinderctl --socket $a ping kvstore-tls"
ok "A: the imported names are gone" $?
ok "A: no ref left ($a_refs before the imports, $(active ref "$a") now)" "$(($(active ref "$a") != a_refs))"
ok "A: no transaction in flight" "$(active transaction "$a")"
ok "B: no transaction in flight" "$(active transaction "$b")"
echo "1..$n"
exit $failed
