#!/bin/sh
# Golden tests of ubinder-alloc-trace's fixed line interface: every command,
# every error name, malformed lines, the stats dump, spam flags, --help.
# Usage: test-alloc-trace.sh PATH_TO_TOOL
set -eu
tool=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# check NAME: runs the tool (4K pages) on $tmp/in and compares with $tmp/want.
check() {
	if ! "$tool" --page-size 4096 <"$tmp/in" >"$tmp/got" 2>"$tmp/err"; then
		echo "not ok - $1: exit status $?"; cat "$tmp/err"; failures=$((failures + 1)); return
	fi
	if diff -u "$tmp/want" "$tmp/got"; then
		echo "ok - $1"
	else
		echo "not ok - $1"; failures=$((failures + 1))
	fi
}

echo "1..6"

cat >"$tmp/in" <<'IN'
region 65536
alloc 1 100 0 0 sync
alloc 2 0 0 0 sync 12
reserve 3 5000 0 0 async 7
free 3
deliver 3
deliver 3
alloc 1 8 0 0 sync
alloc 4 70000 0 0 sync
alloc 5 18446744073709551615 0 0 sync
alloc 5 9223372036854775808 9223372036854775808 0 sync
alloc 6 32768 0 0 async
pages
pagemap
free 9
release 9
deliver 9
release 3
pages
pagemap
shrink all
pagemap
free 1
free 1
free 2
pages
alloc 7 12288 8 16 sync 3
pagemap
shrink 1
pages
IN
cat >"$tmp/want" <<'OUT'
ok
ok 1 0
ok 2 104
ok 3 112
err 3 EPERM
ok
err 3 EPERM
err 1 EEXIST
err 4 ENOSPC
err 5 EINVAL
err 5 EINVAL
err 6 ENOSPC
pages 2 0 14
pagemap AA..............
err 9 ENOENT
err 9 ENOENT
err 9 ENOENT
ok
pages 1 1 14
pagemap AL..............
shrunk 1
pagemap A...............
ok
err 1 ENOENT
ok
pages 0 1 15
ok 7 0
pagemap AAAA............
shrunk 0
pages 4 0 12
OUT
check "every command and error name"

cat >"$tmp/in" <<'IN'
pages
region 8192
region 4096
bogus
alloc x 1 2 3 sync
alloc 7 1 2 sync
alloc 7 1 2 3 maybe
alloc 7 1 2 3 sync -1
alloc 7 -1 2 3 sync

shrink -1
shrink
pages extra
deliver
free 1 2
alloc 8 1 2 3 async 2147483648
alloc 8 1 2 3 async 2147483647
pages
IN
cat >"$tmp/want" <<'OUT'
err parse 1
ok
err parse 3
err parse 4
err parse 5
err parse 6
err parse 7
err parse 8
err parse 9
err parse 10
err parse 11
err parse 12
err parse 13
err parse 14
err parse 15
err parse 16
ok 8 0
pages 1 0 1
OUT
check "malformed lines are err parse N and the replay goes on"

cat >"$tmp/in" <<'IN'
region 16384
alloc 1 10 16 24 sync 5
reserve 2 5000 0 0 async 6
alloc 3 0 0 0 async 6
release 3
shrink all
stats
IN
cat >"$tmp/want" <<'OUT'
ok
ok 1 0
ok 2 56
ok 3 5056
ok
shrunk 0
buffer 1: 0 size 10:16:24 delivered pid 5
buffer 2: 56 size 5000:0:0 active async pid 6
pages: 2:0:2
pages high watermark: 2
buffers: 2
free async space: 3192
lru: 0 pages, 0 released
end
OUT
check "stats dump"

# Spam: pid 7 takes the oneway space down to just above a tenth of 1 MiB,
# then pid 9's 51st small oneway buffer is flagged, once.
{
	echo "region 1048576"
	echo "alloc 0 419424 0 0 async 7"
	i=1
	while [ $i -le 60 ]; do echo "alloc $i 64 0 0 async 9"; i=$((i + 1)); done
} >"$tmp/in"
{
	echo "ok"
	echo "ok 0 0"
	i=1
	while [ $i -le 60 ]; do
		if [ $i -eq 51 ]; then s=" spam"; else s=""; fi
		echo "ok $i $((419424 + (i - 1) * 64))$s"
		i=$((i + 1))
	done
} >"$tmp/want"
check "oneway spam flagged once"

# A last line without a newline still counts; the machine's page size works.
printf 'region 1048576\npages' | "$tool" >"$tmp/got"
printf 'ok\npages 0 0 %s\n' $((1048576 / $(getconf PAGESIZE))) >"$tmp/want"
if diff -u "$tmp/want" "$tmp/got"; then echo "ok - machine page size, no final newline"; else
	echo "not ok - machine page size, no final newline"; failures=$((failures + 1)); fi

if "$tool" --help | grep -q '^Usage: ubinder-alloc-trace' && ! "$tool" --page-size 1000 </dev/null 2>/dev/null; then
	echo "ok - --help and option checking"
else
	echo "not ok - --help and option checking"; failures=$((failures + 1))
fi

[ "$failures" -eq 0 ]
