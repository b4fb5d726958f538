#!/usr/bin/env bash
# Installs the Debian packages ubinder needs to build and test, if any is missing.
# Usage: scripts/deps.sh [--vm] [--bench]
#   --vm     adds what the kernel-driver VM needs
#   --bench  adds what bench/ipc.sh and bench/rpc.sh compare against (dbus-daemon,
#            sd-bus, gRPC) and what bench/call-cost.sh counts with (perf, valgrind)
set -euo pipefail

packages=(meson ninja-build pkg-config gcc clang libclang-rt-14-dev linux-libc-dev
	libcmocka-dev uthash-dev libbsd-dev libssl-dev liburing-dev openssl gnuplot-nox file scdoc musl-tools
	golang-go)
for arg in "$@"; do
	case $arg in
	--vm) packages+=(qemu-system-x86 busybox-static cpio) ;;
	--bench) packages+=(dbus-daemon libsystemd-dev libgrpc++-dev protobuf-compiler
		protobuf-compiler-grpc linux-perf valgrind) ;;
	*) echo "usage: scripts/deps.sh [--vm] [--bench]" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
	sudo=sudo
else
	sudo=
fi
echo "ubinder: installing ${missing[*]}" >&2
$sudo apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
