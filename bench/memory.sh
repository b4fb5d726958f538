#!/usr/bin/env bash
# What idle client processes cost the daemon: ubinder-bench-idle opens
# COUNT libubinder contexts (one process each, STEP at a time) against a
# fresh ubinderd and reads the daemon's VmRSS and open descriptors after each
# step. Then what region pages cost (ubinder-bench-pages): a 1 MiB call
# needing fresh pages against one reusing lru pages, with base pages and with
# --huge-pages 2M; reclaim throughput; and resident pages over time through a
# burst, real pressure (a page-cache thrasher in the daemon's limited v1
# memory cgroup) and idle decay. Writes bench/results/memory.md (Markdown),
# bench/results/memory.png (idle clients) and bench/results/memory-pages.png
# (the timeline), with gnuplot.
#
# The huge-page rows and the pressure phase need root (shmem_enabled is set
# to advise and restored, under the lock file the tests use; a cgroup is made
# and removed); without it they say why they are missing.
#
# usage: bench/memory.sh [BUILD_DIR] [COUNT] [STEP]    (default: build, 1000, 100)
# Environment: OUT (default bench/results/memory.md).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
count=${2:-1000}
step=${3:-100}
out=${OUT:-bench/results/memory.md}
png=${out%.md}.png
daemon=$build/src/daemon/ubinderd
bench=$build/bench/memory/ubinder-bench-idle
pages=$build/bench/memory/ubinder-bench-pages
for f in "$daemon" "$bench" "$pages"; do
	[[ -x $f ]] || { echo "build first: meson setup $build && ninja -C $build ($f missing)" >&2; exit 2; }
done
command -v gnuplot >/dev/null || { echo "gnuplot is missing (scripts/deps.sh)" >&2; exit 2; }

dir=$(mktemp -d)
pid=
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
thp_saved=
thp64=/sys/kernel/mm/transparent_hugepage/hugepages-64kB/shmem_enabled
thp64_saved=
cg=
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null
	wait 2>/dev/null || true
	[[ -n $thp_saved ]] && echo "$thp_saved" > "$thp"
	[[ -n $thp64_saved ]] && echo "$thp64_saved" > "$thp64"
	[[ -n $cg && -d $cg ]] && rmdir "$cg" 2>/dev/null
	rm -f /var/tmp/ubinder-bench-thrash-$$
	rm -rf "$dir"
}
trap cleanup EXIT
"$daemon" --socket "$dir/binder" &
pid=$!
for _ in $(seq 100); do [[ -S $dir/binder ]] && break; sleep 0.05; done
"$bench" "$dir/binder" "$pid" "$count" "$step" > "$dir/raw.txt"
kill "$pid"
wait "$pid" || true
pid=

awk '$1 != "fd"' "$dir/raw.txt" > "$dir/steps.dat"

# Starts ubinderd with "$@" (in cgroup $2 when $1 is "--in-cgroup"), waits for its socket.
start_daemon() {
	local into=
	if [[ $1 == --in-cgroup ]]; then into=$2; shift 2; fi
	rm -f "$dir/binder"
	if [[ -n $into ]]; then
		sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$into" "$daemon" --socket "$dir/binder" "$@" 2>>"$dir/daemon.log" &
	else
		"$daemon" --socket "$dir/binder" "$@" 2>>"$dir/daemon.log" &
	fi
	pid=$!
	for _ in $(seq 100); do [[ -S $dir/binder ]] && break; sleep 0.05; done
}
stop_daemon() { kill "$pid"; wait "$pid" || true; pid=; }

# Fresh pages against lru pages, and reclaim, with base pages.
start_daemon --lru-decay 0
"$pages" calls "$dir/binder" 1048576 50 > "$dir/calls-base.txt"
"$pages" reclaim "$dir/binder" 30 > "$dir/reclaim-base.txt"
stop_daemon
# The same with 2 MiB pages, where this machine can have them.
huge_note=
exec 9>/tmp/ubinder-test-thp.lock
if [[ $(id -u) != 0 || ! -w $thp ]]; then
	huge_note="not measured: $thp cannot be written (root needed)"
elif flock 9; then
	thp_saved=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp")
	echo advise > "$thp"
	start_daemon --lru-decay 0 --huge-pages 2M
	"$pages" calls "$dir/binder" 1048576 50 > "$dir/calls-huge.txt"
	"$pages" reclaim "$dir/binder" 30 > "$dir/reclaim-huge.txt"
	stop_daemon
	# 64 KiB pages (mTHP): their own size at advise, the PMD size off (the
	# kernel takes the largest size allowed).
	if [[ -w $thp64 ]]; then
		thp64_saved=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp64")
		echo never > "$thp"
		echo advise > "$thp64"
		start_daemon --lru-decay 0 --huge-pages 64K
		"$pages" calls "$dir/binder" 1048576 50 > "$dir/calls-64k.txt"
		"$pages" reclaim "$dir/binder" 30 > "$dir/reclaim-64k.txt"
		stop_daemon
		echo "$thp64_saved" > "$thp64"
		thp64_saved=
	fi
	echo "$thp_saved" > "$thp"
	thp_saved=
	flock -u 9
fi
grep -q 'huge pages refused' "$dir/daemon.log" && huge_note="refused: $(grep -m1 'huge pages refused' "$dir/daemon.log")"

# Resident pages over time: the daemon in a limited v1 memory cgroup (its
# reclaim notification is the pressure signal), a thrasher joining it.
v1=/sys/fs/cgroup/memory
pressure_note=
if [[ $(id -u) == 0 && -w $v1 ]]; then
	cg=$v1/ubinder-bench-$$
	mkdir "$cg"
	echo $((96 << 20)) > "$cg/memory.limit_in_bytes"
	start_daemon --in-cgroup "$cg" --lru-decay 3
	thrash="sh -c 'echo \$\$ > $cg/cgroup.procs && dd if=/dev/zero of=/var/tmp/ubinder-bench-thrash-$$ bs=1M count=256 status=none && cat /var/tmp/ubinder-bench-thrash-$$ > /dev/null && cat /var/tmp/ubinder-bench-thrash-$$ > /dev/null'"
else
	pressure_note="no pressure phase: a v1 memory cgroup cannot be made here (root and $v1 needed)"
	start_daemon --lru-decay 3
	thrash=true
fi
"$pages" timeline "$dir/binder" "$thrash" > "$dir/timeline.dat"
stop_daemon
rm -f /var/tmp/ubinder-bench-thrash-$$
[[ -n $cg ]] && { rmdir "$cg" 2>/dev/null || true; cg=; }

# The shrinker under real pressure, from the cgroup test's own measurements
# (it needs root and a cgroup hierarchy; its lines say why when skipped).
cgroup_test=$build/tests/integration/test-cgroup
if [[ -x $cgroup_test ]]; then
	UBINDERD=$daemon "$cgroup_test" 2>/dev/null | grep -E '^# (pressure|skipped|reclaimed|a [0-9]+ MiB)' |
		sed 's/^# //' > "$dir/drain.txt" || true
else
	echo "$cgroup_test is not built" > "$dir/drain.txt"
fi
read -r base_rss base_fds < <(awk 'NR == 1 { print $2, $3 }' "$dir/steps.dat")
read -r last_n last_rss last_fds < <(tail -1 "$dir/steps.dat")
per_kib=$(awk -v a="$base_rss" -v b="$last_rss" -v n="$last_n" 'BEGIN { printf "%.1f", (b - a) / n }')
per_fds=$(awk -v a="$base_fds" -v b="$last_fds" -v n="$last_n" 'BEGIN { printf "%.2f", (b - a) / n }')
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)

{
	echo "# Memory: the daemon's cost per idle client"
	echo
	echo "Each client is a process that opened a libubinder context (its session,"
	echo "one thread connection, the 1 MiB region mapped) and then does nothing."
	echo "The daemon's VmRSS and open descriptors are read from /proc once they"
	echo "are steady after each step. Target: at most 16 KiB per idle client."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| machine | $(uname -srm), $(nproc) cores, $cpu |"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| command | \`bench/memory.sh $build $count $step\` |"
	echo "| per idle client | **$per_kib KiB** RSS, **$per_fds** descriptors |"
	echo
	echo "| clients | daemon RSS (KiB) | daemon descriptors |"
	echo "|---:|---:|---:|"
	awk '{ printf "| %d | %d | %d |\n", $1, $2, $3 }' "$dir/steps.dat"
	echo
	echo "Descriptors per client, by kind (against the daemon before the first client):"
	echo
	echo "| kind | per client |"
	echo "|---|---:|"
	awk '$1 == "fd" { kind = $2; for (i = 3; i < NF; i++) kind = kind " " $i; printf "| `%s` | %s |\n", kind, $NF }' "$dir/raw.txt"
	echo
	echo "- \`socket\` x4: the session connection; the thread connection (one per"
	echo "  client thread, an idle context has one); and both ends of the poll"
	echo "  socketpair a libubinder session asks for (UBW_HELLO_WANT_POLL_FD): the"
	echo "  daemon writes to one end to make the client's end readable, and keeps"
	echo "  the client's end too, to drain it. That fourth one could go: an eventfd"
	echo "  (set by a write, cleared by a read, polled by the client) would be one"
	echo "  descriptor for both (src/daemon/session.c and the transport)."
	echo "- \`pidfd\`: the client's identity held from the kernel, so that a"
	echo "  reused pid is never mistaken for it. Needed."
	echo "- \`memfd\`: the daemon's read-write handle of the region, for punching"
	echo "  holes (fallocate) and measuring residency (st_blocks, SEEK_DATA). It could"
	echo "  go (MADV_REMOVE and mincore on the daemon's mapping instead), at one"
	echo "  descriptor per client."
	echo
	echo "The memory is the daemon's heap: the process, thread, session and two"
	echo "connection records (about 3.4 KiB), the region's allocator (bitmaps, bin"
	echo "heads, its first extent records) and the hash tables' share. The region's"
	echo "LRU nodes (32 bytes a page, 8 KiB for the 1 MiB region) wait for its first"
	echo "reservation; allocated with the region, as before, they made an idle"
	echo "client cost 17.6 KiB (same bench, 1000 clients)."
	echo
	echo "## What region pages cost a call"
	echo
	echo "\`ubinder-bench-pages calls\`: one client process calls the echo manager"
	echo "(a 4 MiB region) with 1 MiB, 50 rounds, median of each: *fresh* after"
	echo "\`shrink all\` emptied the LRU (the call installs its pages:"
	echo "MADV_POPULATE_WRITE, zeroing), *reuse* right after, on the pages the last"
	echo "call left on the LRU. Resident: the manager's region after the run"
	echo "(st_blocks). Huge pages: \`--huge-pages 2M\` with shmem_enabled=advise;"
	echo "\`--huge-pages 64K\` with hugepages-64kB/shmem_enabled=advise and the PMD size off."
	echo
	echo "| pages | fresh (us) | reuse (us) | fresh / reuse | region resident (KiB) |"
	echo "|---|---:|---:|---:|---:|"
	awk '{ printf "| 4 KiB | %s | %s | %s | %s |\n", $5, $7, $9, $11 }' "$dir/calls-base.txt"
	if [[ -s $dir/calls-huge.txt ]]; then
		awk '{ printf "| 2 MiB | %s | %s | %s | %s |\n", $5, $7, $9, $11 }' "$dir/calls-huge.txt"
	fi
	[[ -s $dir/calls-64k.txt ]] && awk '{ printf "| 64 KiB | %s | %s | %s | %s |\n", $5, $7, $9, $11 }' "$dir/calls-64k.txt"
	[[ -n $huge_note ]] && echo "| 2 MiB | $huge_note | | | |"
	if [[ -s $dir/calls-huge.txt ]]; then
		echo
		awk 'NR == FNR { b = $5; r = $7; next } { printf "A fresh 1 MiB call costs %.2fx with 2 MiB pages what it costs with base pages (a reused one %.2fx); ", $5 / b, $7 / r }' "$dir/calls-base.txt" "$dir/calls-huge.txt"
		awk 'NR == FNR { b = $11; next } { printf "the memory it holds afterwards is %.2fx (a 1 MiB buffer takes a whole 2 MiB page).\n", $11 / b }' "$dir/calls-base.txt" "$dir/calls-huge.txt"
	fi
	if [[ -s $dir/calls-64k.txt ]]; then
		awk 'NR == FNR { b = $5; m = $11; next } { printf "With 64 KiB pages it costs %.2fx, and holds %.2fx the memory.\n", $5 / b, $11 / m }' "$dir/calls-base.txt" "$dir/calls-64k.txt"
	fi
	echo
	echo "## Reclaim throughput"
	echo
	echo "\`ubinder-bench-pages reclaim\`: a 3.5 MiB call fills the LRU, then"
	echo "\`shrink all\` on the admin channel is timed from request to answer (so"
	echo "the figure includes one admin round trip); base pages (4 KiB) given back"
	echo "per second, median of 30 rounds."
	echo
	echo "| pages | base pages per shrink | base pages per second |"
	echo "|---|---:|---:|"
	awk '{ printf "| 4 KiB | %s | %s |\n", $3, $5 }' "$dir/reclaim-base.txt"
	[[ -s $dir/reclaim-huge.txt ]] && awk '{ printf "| 2 MiB | %s | %s |\n", $3, $5 }' "$dir/reclaim-huge.txt"
	[[ -s $dir/reclaim-64k.txt ]] && awk '{ printf "| 64 KiB | %s | %s |\n", $3, $5 }' "$dir/reclaim-64k.txt"
	echo
	echo "## Resident pages through a burst, pressure and decay"
	echo
	echo "\`ubinder-bench-pages timeline\` samples the stats every 20 ms: a burst"
	echo "(4 clients, calls of 4 KiB to 3 MiB, 1 s), a quiet 0.7 s, *pressure* (a"
	echo "page-cache thrasher of 256 MiB joining the daemon's v1 memory cgroup,"
	echo "limited to 96 MiB: the cgroup's reclaim notification drains the LRU),"
	echo "another quiet 0.7 s, a second burst, then idle decay (\`--lru-decay 3\`)."
	echo "The thrasher's page cache keeps the cgroup at its limit afterwards, so"
	echo "the second burst's installs make the kernel reclaim again: pressure"
	echo "drains then too, counted in the pressure figure below."
	[[ -n $pressure_note ]] && { echo; echo "$pressure_note."; }
	echo
	grep '^# ' "$dir/timeline.dat" | sed 's/^# /    /'
	echo
	echo "![resident pages over time](memory-pages.png)"
	echo
	echo "## Draining the LRU under real pressure"
	echo
	echo "From \`$cgroup_test\` (tests/integration/test-cgroup.c), same run: a"
	echo "page-cache thrasher in a limited memory cgroup; the first line is the v1"
	echo "reclaim notification, the second a PSI trigger on a v2 cgroup (the"
	echo "kernel's own notification to the LRU empty, polled from the stats), the"
	echo "last the burst past a 32 MiB limit."
	echo
	sed 's/^/    /' "$dir/drain.txt"
	echo
	echo "![daemon RSS against idle clients](memory.png)"
} > "$out"

gnuplot <<PLOT
set terminal pngcairo size 800,450 noenhanced
set output "$png"
set title "ubinderd: RSS against idle client processes ($per_kib KiB each)"
set xlabel "idle clients"
set ylabel "daemon RSS (MiB)"
set y2label "daemon descriptors"
set ytics nomirror
set y2tics
set grid
set key top left
plot "$dir/steps.dat" u 1:(\$2/1024) w lp t "RSS (MiB)", \
     "$dir/steps.dat" u 1:3 axes x1y2 w lp t "descriptors"
PLOT
# A line and a label where each phase of the timeline begins.
awk '$1 !~ /^#/ && $5 != last { printf "set arrow from %.2f, graph 0 to %.2f, graph 1 nohead dt 3 lc rgb \"gray\"\nset label \"%s\" at %.2f, graph 0.96 offset 0.3,0\n", $1 / 1000, $1 / 1000, $5, $1 / 1000; last = $5 }' \
	"$dir/timeline.dat" > "$dir/phases.gp"
gnuplot <<PLOT
set terminal pngcairo size 900,450 noenhanced
set output "${out%.md}-pages.png"
load "$dir/phases.gp"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set title "ubinderd: region pages through a burst, pressure, a burst and idle decay"
set xlabel "time (s)"
set ylabel "pages (4 KiB)"
set grid
set key center right
plot "$dir/timeline.dat" u (\$1/1000):2 w l lw 2 t "resident (st_blocks)", \
     "$dir/timeline.dat" u (\$1/1000):3 w l t "active (live buffers)", \
     "$dir/timeline.dat" u (\$1/1000):4 w l t "lru"
PLOT
echo "wrote $out and $png: $per_kib KiB and $per_fds descriptors per idle client"
