#!/bin/bash
# Builds Android's RPC-only libbinder (libbinder_sdk's flags: no kernel
# Binder, no libbase) and libutils' binder part from an Android source tree,
# and the two interop programs against it. Nothing is vendored: the sources
# stay wherever the user keeps them. With Debian's android-libboringssl-dev
# installed (Android's BoringSSL), libbinder's TLS transport is built too
# (RpcTransportTls, RpcTlsUtils) and the programs take --tls.
# Usage: build-libbinder.sh FRAMEWORKS_NATIVE SYSTEM_CORE OUTDIR
#   FRAMEWORKS_NATIVE  a checkout of platform/frameworks/native (android-14)
#   SYSTEM_CORE        a checkout of platform/system/core (same release)
#   OUTDIR             where libbinder-rpc.a, kv-rpc-client, kv-rpc-server go
set -euo pipefail
if (($# != 3)) || [[ $1 == --help ]]; then
	sed -n '2,12s/^# \{0,1\}//p' "$0"
	(($# == 1)) && [[ $1 == --help ]] && exit 0
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
native=$(cd "$1" && pwd)/libs/binder core=$(cd "$2" && pwd) out=$3
utils=$core/libutils/binder
[[ -f $native/RpcSession.cpp && -f $utils/RefBase.cpp ]] || {
	echo "build-libbinder.sh: no libbinder RPC sources in $1, or no libutils/binder in $2" >&2
	exit 1
}
mkdir -p "$out/obj"
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -g -fPIC -w -DBINDER_ENABLE_LIBLOG_ASSERT -DBINDER_DISABLE_NATIVE_HANDLE
	-DBINDER_DISABLE_BLOB -DBINDER_NO_LIBBASE -DANDROID_UTILS_CALLSTACK_ENABLED=0
	-DANDROID_BASE_UNIQUE_FD_DISABLE_IMPLICIT_CONVERSION
	-DANDROID_UTILS_REF_BASE_DISABLE_IMPLICIT_CONSTRUCTION
	-I"$native/include" -I"$native/liblog_stub/include" -I"$utils/include" -I"$native"
	-I"$core/libcutils/include" -I"$core/libsystem/include")
sources=()
for f in Binder BpBinder Debug FdTrigger IInterface IResultReceiver Parcel ParcelFileDescriptor \
	RecordedTransaction RpcSession RpcServer RpcState RpcTransportRaw Stability Status \
	TextOutput Utils file OS_non_android_linux OS_unix_base; do
	sources+=("$native/$f.cpp")
done
for f in Errors RefBase SharedBuffer String16 String8 StrongPointer Unicode VectorImpl; do
	sources+=("$utils/$f.cpp")
done
# TLS: BoringSSL's headers alone on the include path (/usr/include/android
# also holds Debian's older libutils headers, which must not shadow the
# release's), its libraries by rpath
boringssl=/usr/lib/$(gcc -print-multiarch)/android
link=(-lpthread)
if [[ -f /usr/include/android/openssl/ssl.h && -f $boringssl/libssl.so ]]; then
	mkdir -p "$out/boringssl-include"
	ln -sfn /usr/include/android/openssl "$out/boringssl-include/openssl"
	flags+=(-DKV_RPC_TLS -I"$native/include_tls" -I"$out/boringssl-include")
	sources+=("$native/RpcTransportTls.cpp" "$native/RpcTlsUtils.cpp")
	link+=(-L"$boringssl" -Wl,-rpath,"$boringssl" -lssl -lcrypto)
else
	echo "build-libbinder.sh: no android-libboringssl-dev: building without TLS" >&2
fi
compile() { # compile SOURCE: one object, unless it is newer than its source
	local o=$out/obj/$(basename "$1" .cpp).o
	[[ $o -nt $1 ]] || "$cxx" "${flags[@]}" -c "$1" -o "$o"
}
jobs=()
for s in "${sources[@]}"; do
	compile "$s" &
	jobs+=($!)
	if ((${#jobs[@]} == 2)); then # the machine's two cores
		wait "${jobs[0]}" && wait "${jobs[1]}"
		jobs=()
	fi
done
for j in "${jobs[@]}"; do wait "$j"; done
rm -f "$out/libbinder-rpc.a"
ar rcs "$out/libbinder-rpc.a" "$out"/obj/*.o
for p in kv-rpc-client kv-rpc-server; do
	"$cxx" "${flags[@]}" "$here/$p.cpp" "$out/libbinder-rpc.a" "${link[@]}" -o "$out/$p"
done
echo "built $out/libbinder-rpc.a, $out/kv-rpc-client, $out/kv-rpc-server"
