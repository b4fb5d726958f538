#!/bin/sh
# Plots ubinder-bench-alloc tables (gnuplot): ns per operation (mean of the
# alloc and free medians) against the region size, ours and the baseline, per
# workload; with a second table (an earlier run), its "ours" as a dashed line.
# Usage: bench/alloc/plot.sh TABLE.md OUT.png [EARLIER_TABLE.md]
set -eu
table=$1 out=$2 earlier=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# extract FILE WORKLOAD A F: "region_kib mean_ns" rows; fields 4,5 ours, 6,7 baseline.
extract() {
	awk -F'|' -v w="$2" -v a="$3" -v f="$4" '
		{ gsub(/ /, "", $2) }
		$2 == w { kib = $3; gsub(/[^0-9]/, "", kib); print kib, ($a + $f) / 2 }' "$1"
}
for w in binder small; do
	extract "$table" $w 4 5 >"$tmp/$w-ours.dat"
	extract "$table" $w 6 7 >"$tmp/$w-base.dat"
	if [ -n "$earlier" ]; then
		extract "$earlier" $w 4 5 >"$tmp/$w-before.dat"
	else
		: >"$tmp/$w-before.dat"
	fi
done
before() {
	[ -s "$tmp/$1-before.dat" ] && printf '%s' ", \"$tmp/$1-before.dat\" u (\$1/1024):2 w lp dt 2 lc rgb \"gray\" t \"ubinder, earlier run\""
	return 0
}
gnuplot <<PLOT
set terminal pngcairo size 1000,450 noenhanced
set output "$out"
set multiplot layout 1,2 title "Range allocator: ns per operation, mean of the alloc and free medians (lower is better)"
set logscale xy
set xrange [0.08:2048]
set yrange [20:2000]
set xtics ("128K" 0.125, "4M" 4, "64M" 64, "1G" 1024)
set xlabel "region (MiB)"
set ylabel "ns per operation"
set grid
set key left top
set title "binder-like"
plot "$tmp/binder-ours.dat" u (\$1/1024):2 w lp lw 2 t "ubinder", \
     "$tmp/binder-base.dat" u (\$1/1024):2 w lp t "rb-tree best fit"$(before binder), \
     50 w l dt 3 lc rgb "red" t "target at 4 MiB: 50 ns"
set title "small only"
plot "$tmp/small-ours.dat" u (\$1/1024):2 w lp lw 2 t "ubinder", \
     "$tmp/small-base.dat" u (\$1/1024):2 w lp t "rb-tree best fit"$(before small)
unset multiplot
PLOT
