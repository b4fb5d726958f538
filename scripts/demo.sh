#!/usr/bin/env bash
# The README's first command: builds ubinder, then shows it working end to end.
#
#   1. ubinderd, serving the binder and hwbinder contexts;
#   2. ubinder-servicemanager, the context manager;
#   3. the example key-value service (examples/kvstore-service.c);
#   4. the example client: synchronous calls, a oneway call, a callback object
#      the service calls back, and a death notification when the service is
#      killed;
#   5. HIDL on hwbinder: ubinder-hwservicemanager, the example HIDL service
#      (examples/hidl-echo.c) registered, listed and called;
#   6. `ubinderctl stats`;
#   7. a clean shutdown: no process and no socket is left behind.
#
# Everything runs in a private runtime directory (XDG_RUNTIME_DIR is set to a
# new temporary directory), so the daemon's default socket lives there: the
# demo never meets a ubinderd you may already run, and leaves nothing behind.
#
# Usage: scripts/demo.sh [--build-dir DIR]
#   --build-dir DIR   use this existing build (the meson test 'demo' does);
#                     otherwise installs missing Debian packages
#                     (scripts/deps.sh) and builds in build-demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=
while (($#)); do
	case $1 in
	--build-dir)
		build_dir=${2:?--build-dir needs a directory}
		shift 2
		;;
	-h | --help)
		sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

if [[ -z $build_dir ]]; then
	step "Build (dependencies: scripts/deps.sh; build directory: build-demo)"
	scripts/deps.sh
	[[ -f build-demo/build.ninja ]] || meson setup build-demo >/dev/null
	ninja -C build-demo >/dev/null
	build_dir=build-demo
fi
build_dir=$(cd "$build_dir" && pwd)
ubinderd=$build_dir/src/daemon/ubinderd
servicemanager=$build_dir/tools/servicemanager/ubinder-servicemanager
hwservicemanager=$build_dir/tools/hwservicemanager/ubinder-hwservicemanager
ubinderctl=$build_dir/tools/ubinderctl/ubinderctl
examples=$build_dir/examples
for bin in "$ubinderd" "$servicemanager" "$hwservicemanager" "$ubinderctl" \
	"$examples/kvstore-service" "$examples/kvstore-client" "$examples/hidl-echo"; do
	[[ -x $bin ]] || die "$bin is missing: build first"
done

run_dir=$(mktemp -d "${TMPDIR:-/tmp}/ubinder-demo.XXXXXX")
export XDG_RUNTIME_DIR=$run_dir
unset UBINDER_SOCKET
socket=$run_dir/ubinder/binder
hwsocket=$run_dir/ubinder/hwbinder
pids=()

# Whatever happens, stop what we started (by pid) and remove the directory.
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$run_dir"
}
trap cleanup EXIT

# Waits up to 10 s for a command to succeed.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 100); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out waiting for $what"
}

step "1. ubinderd -c binder -c hwbinder (sockets \$XDG_RUNTIME_DIR/ubinder/binder, .../hwbinder)"
"$ubinderd" -c binder -c hwbinder &
daemon=$!
pids+=("$daemon")
wait_for "the daemon's socket" test -S "$socket"
echo "ubinderd running (pid $daemon), socket $socket"

step "2. ubinder-servicemanager"
"$servicemanager" --verbose &
manager=$!
pids+=("$manager")
wait_for "the service manager" "$ubinderctl" list
echo "service manager running (pid $manager)"

step "3. the example service"
"$examples/kvstore-service" &
service=$!
pids+=("$service")
wait_for "the kvstore service" "$ubinderctl" ping kvstore
echo "\$ ubinderctl list"
"$ubinderctl" list
echo "\$ ubinderctl ping kvstore"
"$ubinderctl" ping kvstore
echo "\$ ubinderctl call --reply ex,s kvstore 2 s:colour    # get(\"colour\"): not set yet"
"$ubinderctl" call --reply ex,s kvstore 2 s:colour

step "4. the example client (calls, a oneway, a callback, then a death notification)"
"$examples/kvstore-client" --wait-for-death 10 >"$run_dir/client.log" 2>&1 &
client=$!
pids+=("$client")
tail -n +1 -f --pid="$client" "$run_dir/client.log" &
follower=$!
pids+=("$follower")
for _ in $(seq 100); do
	grep -q "waiting for the service to die" "$run_dir/client.log" && break
	kill -0 "$client" 2>/dev/null || break
	sleep 0.1
done
grep -q "waiting for the service to die" "$run_dir/client.log" ||
	die "the client did not get that far"
echo ">> killing the service (SIGKILL, pid $service)"
kill -KILL "$service"
{ wait "$service"; } 2>/dev/null || true
client_status=0
wait "$client" || client_status=$?
wait "$follower" 2>/dev/null || true
pids=("$daemon" "$manager") # the others are reaped: never signal a reused pid
((client_status == 0)) || die "the client exited with status $client_status"
grep -q "death notification" "$run_dir/client.log" || die "no death notification"
echo "\$ ubinderctl list    # the dead service's name is gone"
for _ in $(seq 100); do
	[[ -z $("$ubinderctl" list) ]] && break
	sleep 0.1
done
"$ubinderctl" list
[[ -z $("$ubinderctl" list) ]] || die "the dead service is still listed"

step "5. HIDL on hwbinder: ubinder-hwservicemanager and the example HIDL service"
"$hwservicemanager" --verbose &
hwmanager=$!
pids+=("$hwmanager")
wait_for "the HIDL service manager" "$examples/hidl-echo" list
echo "HIDL service manager running (pid $hwmanager), socket $hwsocket"
"$examples/hidl-echo" serve &
hidl_service=$!
pids+=("$hidl_service")
wait_for "the HIDL echo service" "$examples/hidl-echo" call "hello"
echo "\$ hidl-echo list"
"$examples/hidl-echo" list
echo "\$ hidl-echo call \"hello, HIDL\""
"$examples/hidl-echo" call "hello, HIDL"
kill -TERM "$hidl_service"
wait "$hidl_service" || die "the HIDL service did not stop cleanly"
pids=("$daemon" "$manager" "$hwmanager")
for _ in $(seq 100); do
	"$examples/hidl-echo" list | grep -q IEcho || break
	sleep 0.1
done
! "$examples/hidl-echo" list | grep -q IEcho || die "the stopped HIDL service is still listed"
echo "the stopped service's instances are gone"

step "6. ubinderctl stats"
"$ubinderctl" stats

step "7. shutdown"
kill -TERM "$hwmanager"
wait "$hwmanager" || die "the HIDL service manager did not stop cleanly"
kill -TERM "$manager"
wait "$manager" || die "the service manager did not stop cleanly"
kill -TERM "$daemon"
wait "$daemon" || die "ubinderd did not stop cleanly"
pids=()
[[ ! -e $socket && ! -e $hwsocket ]] || die "a socket was left behind"
echo "all processes stopped (and reaped), socket removed"
echo
echo "demo: OK"
