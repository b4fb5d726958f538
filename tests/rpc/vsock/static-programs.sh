#!/usr/bin/env bash
# Links the programs the vsock VM test runs statically, from a build
# (meson setup BUILD -Dprefer_static=true -Db_pie=false): ninja builds them
# and libubinder.a, then each is linked again as ninja would, with -static
# and the static library in place of the shared one. The project has no
# static build of its programs (only of libubinder and the conformance
# programs), and -Dc_link_args=-static breaks the shared library's link.
# Usage: static-programs.sh BUILD OUTDIR
set -euo pipefail
if (($# != 2)); then
	sed -n '2,8s/^# \{0,1\}//p' "$0"
	exit 2
fi
build=$1 out=$2
targets=(src/daemon/ubinderd tools/servicemanager/ubinder-servicemanager tools/ubinderctl/ubinderctl
	tools/ubinder-rpc/ubinder-rpc examples/kvstore-service examples/kvstore-client)
ninja -C "$build" "${targets[@]}" lib/libubinder.a >/dev/null
mkdir -p "$out"
out=$(cd "$out" && pwd)
for t in "${targets[@]}"; do
	cmd=$(ninja -C "$build" -t commands "$t" | tail -n 1)
	cmd=${cmd//lib\/libubinder.so.0.1.0/lib/libubinder.a}
	cmd=${cmd/ -o $t / -o $out/${t##*/} }
	# static glibc warns about getaddrinfo and OpenSSL's dlopen: harmless for
	# numeric addresses and no engines
	(cd "$build" && eval "${cmd/#cc /cc -static }") 2>&1 | grep -v "statically linked\|in function" || true
done
file "$out"/* | grep -v "statically linked" && exit 1
echo "static programs in $out"
