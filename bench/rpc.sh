#!/usr/bin/env bash
# A call across the RPC Binder bridge against, in the same run, a direct
# local ubinder call and a gRPC unary echo of the same payloads.
#   ubinder     the echo service called on its own ubinderd (side B);
#   bridge      the same service called from side A (a second ubinderd)
#               through ubinder-rpc import and export, over a Unix socket
#               and over TCP loopback, and over TCP loopback with TLS
#               (certificates made here with the openssl command);
#   gRPC        a unary echo (bench/rpc/bench-grpc-echo.cc, Debian's
#               libgrpc++), over a Unix socket and over TCP loopback.
# Each call carries PAYLOAD bytes and gets them back. Writes
# bench/results/rpc.md and bench/results/rpc.png (gnuplot).
#
# usage: bench/rpc.sh [BUILD_DIR] [ITERATIONS]     (default: build, 1000)
# Environment: PAYLOADS (default "128 4096 65536 1048576"), OUT (default
# bench/results/rpc.md). gRPC needs scripts/deps.sh --bench; without it the
# gRPC columns say why they are empty.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
iterations=${2:-1000}
read -r -a payloads <<< "${PAYLOADS:-128 4096 65536 1048576}"
out=${OUT:-bench/results/rpc.md}
daemon=$build/src/daemon/ubinderd
sm=$build/tools/servicemanager/ubinder-servicemanager
ctl=$build/tools/ubinderctl/ubinderctl
rpc=$build/tools/ubinder-rpc/ubinder-rpc
echo_bench=$build/bench/rpc/bench-rpc-echo
for f in "$daemon" "$sm" "$ctl" "$rpc" "$echo_bench"; do
	[[ -x $f ]] || { echo "build first: meson setup $build && ninja -C $build ($f missing)" >&2; exit 2; }
done

dir=$(mktemp -d)
pids=()
# Every process is stopped at exit, even one already gone (errexit would
# otherwise end the trap at the first kill that fails).
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
results=$dir/results.txt
: > "$results"

# The gRPC baseline, built here (protoc and grpc++ are bench-only deps).
grpc=$dir/bench-grpc-echo
grpc_note=
if ! command -v protoc >/dev/null || ! command -v grpc_cpp_plugin >/dev/null ||
	! pkg-config --exists grpc++ protobuf; then
	grpc_note="gRPC is not installed (scripts/deps.sh --bench)"
elif ! { protoc -I bench/rpc --cpp_out="$dir" --grpc_out="$dir" \
		--plugin=protoc-gen-grpc="$(command -v grpc_cpp_plugin)" echo.proto &&
	c++ -O2 -std=c++17 -I"$dir" bench/rpc/bench-grpc-echo.cc "$dir/echo.pb.cc" \
		"$dir/echo.grpc.pb.cc" $(pkg-config --cflags --libs grpc++ protobuf) -o "$grpc"; } \
	2>"$dir/grpc-build.log"; then
	grpc_note="bench-grpc-echo did not build: $(head -1 "$dir/grpc-build.log")"
fi

wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out: $*" >&2
	exit 1
}

side() { # side SOCKET: a daemon and its service manager
	mkdir -p -m 0700 "$(dirname "$1")"
	"$daemon" --socket "$1" 2>/dev/null &
	pids+=($!)
	wait_for test -S "$1"
	"$sm" --socket "$1" &
	pids+=($!)
	wait_for "$ctl" --socket "$1" list
}

a=$dir/a/binder b=$dir/b/binder
side "$b"
side "$a"
UBINDER_SOCKET=$b "$echo_bench" serve echo &
pids+=($!)
wait_for "$ctl" --socket "$b" ping echo
"$rpc" --socket "$b" export --listen "unix:$dir/rpc" --service echo 2>/dev/null &
pids+=($!)
"$rpc" --socket "$b" export --listen tcp:127.0.0.1:0 --service echo 2>"$dir/export-tcp.log" &
pids+=($!)
# TLS: a self-signed certificate per side, each pinning the other's
for side_name in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=bench-$side_name" -keyout "$dir/$side_name.key" -out "$dir/$side_name.crt" 2>/dev/null
done
"$rpc" --socket "$b" export --listen tcp:127.0.0.1:0 --service echo --tls-cert "$dir/b.crt" \
	--tls-key "$dir/b.key" --tls-peer-cert "$dir/a.crt" 2>"$dir/export-tls.log" &
pids+=($!)
wait_for test -S "$dir/rpc"
wait_for grep -q "on tcp:127.0.0.1:[1-9]" "$dir/export-tcp.log"
wait_for grep -q "on tcp:127.0.0.1:[1-9].*(TLS)" "$dir/export-tls.log"
port=$(sed -n 's/.* on tcp:127.0.0.1:\([0-9]*\)$/\1/p' "$dir/export-tcp.log")
tls_port=$(sed -n 's/.* on tcp:127.0.0.1:\([0-9]*\) (TLS)$/\1/p' "$dir/export-tls.log")
"$rpc" --socket "$a" import --connect "unix:$dir/rpc" --as echo-unix 2>/dev/null &
pids+=($!)
"$rpc" --socket "$a" import --connect "tcp:127.0.0.1:$port" --as echo-tcp 2>/dev/null &
pids+=($!)
"$rpc" --socket "$a" import --connect "tcp:127.0.0.1:$tls_port" --as echo-tls --tls-cert "$dir/a.crt" \
	--tls-key "$dir/a.key" --tls-peer-cert "$dir/b.crt" 2>/dev/null &
pids+=($!)
wait_for "$ctl" --socket "$a" ping echo-unix
wait_for "$ctl" --socket "$a" ping echo-tcp
wait_for "$ctl" --socket "$a" ping echo-tls
if [[ -z $grpc_note ]]; then
	"$grpc" serve "unix:$dir/grpc" 2>/dev/null &
	pids+=($!)
	# gRPC does not say which port 0 became: a random high one
	gport=$((20000 + RANDOM % 20000))
	"$grpc" serve "127.0.0.1:$gport" 2>/dev/null &
	pids+=($!)
	wait_for test -S "$dir/grpc"
	wait_for "$grpc" call "127.0.0.1:$gport" 1 1
fi

# A parcel, its token and length word included, must fit the receiver's
# 1 MiB Binder region: the 1 MiB row carries 4 KiB less, for every column.
fit() { (($1 >= 1048576)) && echo $(($1 - 4096)) || echo "$1"; }
for p in "${payloads[@]}"; do
	n=$iterations
	((p >= 1048576)) && n=$((iterations / 10 > 20 ? iterations / 10 : 20))
	q=$(fit "$p")
	echo "ubinder $p $(UBINDER_SOCKET=$b "$echo_bench" call echo "$q" "$n")" >> "$results"
	echo "bridge-unix $p $(UBINDER_SOCKET=$a "$echo_bench" call echo-unix "$q" "$n")" >> "$results"
	echo "bridge-tcp $p $(UBINDER_SOCKET=$a "$echo_bench" call echo-tcp "$q" "$n")" >> "$results"
	echo "bridge-tls $p $(UBINDER_SOCKET=$a "$echo_bench" call echo-tls "$q" "$n")" >> "$results"
	if [[ -z $grpc_note ]]; then
		echo "grpc-unix $p $("$grpc" call "unix:$dir/grpc" "$q" "$n")" >> "$results"
		echo "grpc-tcp $p $("$grpc" call "127.0.0.1:$gport" "$q" "$n")" >> "$results"
	fi
done

cell() { awk -v m="$1" -v p="$2" '$1==m && $2==p {print $3 " / " $4}' "$results"; }
med() { awk -v m="$1" -v p="$2" '$1==m && $2==p {print $3}' "$results"; }
ratio() {
	local x y
	x=$(med "$1" "$3") y=$(med "$2" "$3")
	[[ -n $x && -n $y ]] && awk -v x="$x" -v y="$y" 'BEGIN {printf "%.2fx", x / y}'
}
{
	echo "# RPC Binder bridge: a call across ubinder-rpc vs gRPC and a local call"
	echo
	echo "A synchronous call carrying PAYLOAD bytes (a byte array after the"
	echo "interface token) and its reply echoing them (the 1 MiB row carries 4 KiB"
	echo "less, so that the parcel fits a 1 MiB Binder region). Cells: median / p99 in µs of"
	echo "$iterations calls ($((iterations / 10 > 20 ? iterations / 10 : 20)) at 1 MiB) after a fifth as many warm-up calls."
	echo
	echo "- ubinder: bench-rpc-echo calling its service on the same ubinderd."
	echo "- bridge: the same client on a second ubinderd, through ubinder-rpc import"
	echo "  and export (two more processes, two daemons' hops, the RPC wire) over a"
	echo "  Unix socket and over TCP loopback; ratio = bridge / ubinder."
	echo "- bridge TLS: the same over TCP loopback with TLS 1.3 (OpenSSL, P-256"
	echo "  certificates, both sides authenticated); TLS/TCP = its median / bridge TCP's."
	echo "- gRPC: a unary echo (bench/rpc/bench-grpc-echo.cc) over a Unix socket and"
	echo "  TCP loopback; bridge/gRPC = bridge median / gRPC median, same transport."
	[[ -n $grpc_note ]] && echo "- gRPC skipped: $grpc_note"
	echo
	echo "- machine: $(nproc) vCPU ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%d GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
	echo "- load: shared machine, other work ran during the run: compare within this run"
	[[ -z $grpc_note ]] && echo "- gRPC: libgrpc++ $(pkg-config --modversion grpc++), protobuf $(pkg-config --modversion protobuf)"
	echo "- date: $(date -u +%F)"
	echo "- command: \`PAYLOADS=\"${payloads[*]}\" bench/rpc.sh $build $iterations\`"
	echo
	echo "| payload | ubinder | bridge unix | ratio | bridge TCP | ratio | bridge TLS | TLS/TCP | gRPC unix | bridge/gRPC | gRPC TCP | bridge/gRPC |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	for p in "${payloads[@]}"; do
		echo "| $p B | $(cell ubinder "$p") | $(cell bridge-unix "$p") | $(ratio bridge-unix ubinder "$p") | $(cell bridge-tcp "$p") | $(ratio bridge-tcp ubinder "$p") | $(cell bridge-tls "$p") | $(ratio bridge-tls bridge-tcp "$p") | $(cell grpc-unix "$p") | $(ratio bridge-unix grpc-unix "$p") | $(cell grpc-tcp "$p") | $(ratio bridge-tcp grpc-tcp "$p") |"
	done
} > "$out"

if [[ $out == bench/results/rpc.md ]] && command -v gnuplot >/dev/null; then
	for m in ubinder bridge-unix bridge-tcp bridge-tls grpc-unix grpc-tcp; do
		awk -v m=$m '$1==m {print $2, $3}' "$results" | sort -n > "$dir/$m.dat"
	done
	gnuplot <<PLOT
set terminal pngcairo size 900,500 noenhanced
set output "bench/results/rpc.png"
set title "Echo call, median latency (lower is better)"
set logscale xy
set xlabel "payload (bytes)"
set ylabel "µs"
set key top left
set grid
plot "$dir/ubinder.dat" with linespoints title "ubinder (local)", \
     "$dir/bridge-unix.dat" with linespoints title "bridge, unix", \
     "$dir/bridge-tcp.dat" with linespoints title "bridge, TCP", \
     "$dir/bridge-tls.dat" with linespoints title "bridge, TCP+TLS", \
     "$dir/grpc-unix.dat" with linespoints title "gRPC, unix", \
     "$dir/grpc-tcp.dat" with linespoints title "gRPC, TCP"
PLOT
fi
cat "$out"
