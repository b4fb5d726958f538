#!/usr/bin/env bash
# docs/api.md's complete example, compiled and run exactly as printed: the
# ```c blocks that start with /* hello-service.c and /* hello-client.c.
# Usage: test-doc-example.sh API_MD CC SANITIZE INCLUDE_DIR LIB_DIR UBINDERD SERVICEMANAGER UBINDERCTL
# INCLUDE_DIR --pkg-config: compile and link with `pkg-config --cflags --libs
# ubinder` instead (as the docs say), run with its -L folders (LIB_DIR unused).
set -uo pipefail

doc=$1 cc=$2 sanitize=$3 inc=$4 libdir=$5 ubinderd=$6 servicemanager=$7 ctl=$8
dir=$(mktemp -d /tmp/ubinder-doc.XXXXXX)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "not ok 1 - $*"
	exit 1
}
echo "1..1"

for name in hello-service hello-client; do
	awk -v name="/* $name.c" '
		/^```c$/ { inblock = 1; first = 1; next }
		/^```$/ { if (keep) exit; inblock = 0; next }
		inblock && first { first = 0; keep = index($0, name) == 1 }
		inblock && keep { print }
	' "$doc" >"$dir/$name.c"
	[[ -s $dir/$name.c ]] || fail "no $name.c block in $doc"
	flags=(-std=gnu17 -Wall -Wextra -Werror -g -pthread)
	[[ $sanitize != none ]] && flags+=("-fsanitize=$sanitize")
	if [[ $inc == --pkg-config ]]; then
		read -ra lib_flags <<<"$(pkg-config --cflags --libs ubinder)" || fail "pkg-config ubinder fails"
		for l in $(pkg-config --libs-only-L ubinder); do lib_flags+=("-Wl,-rpath,${l#-L}"); done
	else
		lib_flags=(-I"$inc" -L"$libdir" -lubinder -Wl,-rpath,"$libdir")
	fi
	"$cc" "${flags[@]}" -o "$dir/$name" "$dir/$name.c" "${lib_flags[@]}" \
		2>"$dir/cc.log" || { cat "$dir/cc.log" | sed 's/^/# /'; fail "$name.c does not compile"; }
done

export UBINDER_SOCKET=$dir/binder
"$ubinderd" --socket "$UBINDER_SOCKET" &
pids+=($!)
# Until the daemon answers: its socket exists a moment before it listens.
for _ in $(seq 100); do "$ctl" stats >/dev/null 2>&1 && break; sleep 0.1; done
"$servicemanager" &
pids+=($!)
for _ in $(seq 100); do "$ctl" list >/dev/null 2>&1 && break; sleep 0.1; done
"$dir/hello-service" >"$dir/service.log" 2>&1 &
pids+=($!)
out=$(timeout 30 "$dir/hello-client" 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
((rc == 0)) || fail "hello-client exited with $rc"
grep -q '^2 + 3 = 5$' <<<"$out" || fail "no sum"
grep -qE '^hello, world \(you are pid [0-9]+\)$' <<<"$out" || fail "no greeting"
echo "ok 1 - docs/api.md example compiles and runs"
