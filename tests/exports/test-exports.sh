#!/usr/bin/env bash
# What the installed libraries export, as a program's linker sees it:
#   libubinder.so and libubinder.a: ubinder_* only (and the .so's version node);
#   libubinder-preload.so: only libc entry points it interposes, i.e. names
#   libc itself exports.
# TAP output; one failure line per offending symbol.
#
# usage: test-exports.sh LIBUBINDER_SO LIBUBINDER_A PRELOAD_SO
set -uo pipefail
so=$1 archive=$2 preload=$3
n=0 bad=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $*"; }

# Defined global symbols: name only.
dynamic_exports() { nm -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u; }
archive_exports() { nm -g --defined-only "$1" | awk 'NF >= 3 { print $3 }' | sort -u; }

check() { # description, list of exports, allowed-name filter command...
	local what=$1 list=$2 offenders
	shift 2
	if [[ -z $list ]]; then
		not_ok "$what: exports nothing (nm failed?)"
		return
	fi
	offenders=$(grep -v -x -f <("$@") <<<"$list" || true)
	if [[ -n $offenders ]]; then
		not_ok "$what: exports $(wc -l <<<"$offenders") symbol(s) it should not"
		sed 's/^/#   /' <<<"$offenders"
	else
		ok "$what: $(wc -l <<<"$list") exports, all allowed"
	fi
}

api_names() { printf '%s\n' 'ubinder_[A-Za-z0-9_]*' 'LIBUBINDER_[0-9_]*'; }
check "$(basename "$so")" "$(dynamic_exports "$so")" api_names
check "$(basename "$archive")" "$(archive_exports "$archive")" api_names

libc=$(ldd "$preload" | awk '$1 ~ /^libc\.so/ { print $3 }')
if [[ -r $libc ]]; then
	check "$(basename "$preload")" "$(dynamic_exports "$preload")" dynamic_exports "$libc"
else
	not_ok "$(basename "$preload"): cannot find the libc it links"
fi
echo "1..$n"
((bad == 0))
