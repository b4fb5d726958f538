#!/usr/bin/env bash
# The bridge over vsock, tested inside the binder VM (Debian's kernel under
# QEMU, /work/shared/tools/binder-vm or $BINDER_VM), whose kernel has
# vsock_loopback as a module: this host has no vsock loopback, so vsock
# cannot be tested here, and the VM is not in CI. Local, opt-in.
# Usage: run-vsock-vm.sh STATIC_DIR MODULES_DIR
#   STATIC_DIR    ubinderd, ubinder-servicemanager, ubinderctl, ubinder-rpc,
#                 kvstore-service and kvstore-client, statically linked
#                 (static-programs.sh makes them from a build)
#   MODULES_DIR   vsock.ko, vmw_vsock_virtio_transport_common.ko and
#                 vsock_loopback.ko of the VM's kernel (from its
#                 linux-image-*.deb, net/vmw_vsock/)
# Prints the VM's TAP lines; exits with their failures (124: the VM did not finish).
set -euo pipefail
if (($# != 2)); then
	sed -n '2,13s/^# \{0,1\}//p' "$0"
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$1 modules=$2
vm=${BINDER_VM:-/work/shared/tools/binder-vm}
work=$(mktemp -d /tmp/ubinder-vsock.XXXXXX)
trap 'rm -rf "$work"' EXIT
for name in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=vsock-$name" -keyout "$work/$name.key" -out "$work/$name.crt" 2>/dev/null
done
files=("$here/in-vm.sh" "$work"/*.crt "$work"/*.key)
for p in ubinderd ubinder-servicemanager ubinderctl ubinder-rpc kvstore-service kvstore-client; do
	file "$build/$p" | grep -q "statically linked" || {
		echo "run-vsock-vm.sh: $build/$p is not statically linked" >&2
		exit 2
	}
	files+=("$build/$p")
done
for m in vsock vmw_vsock_virtio_transport_common vsock_loopback; do
	files+=("$modules/$m.ko")
done
# the VM runs one static program: a launcher of its busybox shell
cc -O2 -static -o "$work/vm-sh" "$here/vm-sh.c"
BINDER_VM_FILES="${files[*]}" BINDER_VM_TIMEOUT=${BINDER_VM_TIMEOUT:-240} "$vm" run "$work/vm-sh" /in-vm.sh
