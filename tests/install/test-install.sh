#!/usr/bin/env bash
# What a user gets from `meson install`: this build installed with --destdir
# into a temporary folder, then docs/api.md's example compiled through
# `pkg-config ubinder` against the installed tree and run with the installed
# ubinderd, ubinder-servicemanager and ubinderctl, and every man page
# installed and rendering.
# Usage: test-install.sh MESON BUILD_DIR SOURCE_DIR CC SANITIZE BINDIR LIBDIR MANDIR [MAN_PAGE...]
#   BINDIR, LIBDIR, MANDIR  where the build installs (absolute, before DESTDIR)
#   MAN_PAGE  NAME.SECTION of each page the build generates (none: scdoc
#             was missing, and the man page check fails saying so).
set -uo pipefail

meson=$1 build=$2 src=$3 cc=$4 sanitize=$5 bin=$6 lib=$7 man=$8
shift 8
pages=("$@")
dest=$(mktemp -d /tmp/ubinder-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
echo "1..3"
failed=0
result() { # result OK|FAIL N TEXT
	if [[ $1 == ok ]]; then echo "ok $2 - $3"; else echo "not ok $2 - $3"; failed=1; fi
}

# 1. The install itself.
if "$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$dest.log" 2>&1; then
	result ok 1 "meson install --destdir"
else
	sed 's/^/# /' "$dest.log"
	result fail 1 "meson install --destdir"
	rm -f "$dest.log"
	exit 1
fi
rm -f "$dest.log"

# 2. The example, through pkg-config only (nothing of the build tree).
pc=$dest$lib/pkgconfig/ubinder.pc
bindir=$dest$bin
if [[ ! -f $pc || ! -x $bindir/ubinderd ]]; then
	result fail 2 "no $lib/pkgconfig/ubinder.pc or $bin/ubinderd in the installed tree"
else
	export PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$dest
	libdir=$(pkg-config --libs-only-L ubinder)
	libdir=${libdir#-L}
	libdir=${libdir%% *}
	# The installed tools find the installed library (as with the prefix in
	# the loader's path), never the build tree's.
	export LD_LIBRARY_PATH=$libdir
	echo "# pkg-config --cflags --libs ubinder: $(pkg-config --cflags --libs ubinder)"
	out=$("$src/tests/lib/test-doc-example.sh" "$src/docs/api.md" "$cc" "$sanitize" \
		--pkg-config - "$bindir/ubinderd" "$bindir/ubinder-servicemanager" \
		"$bindir/ubinderctl" 2>&1)
	sed 's/^/# /' <<<"$out"
	if grep -q '^ok 1' <<<"$out"; then
		result ok 2 "docs/api.md's example built with pkg-config ubinder and run"
	else
		result fail 2 "docs/api.md's example against the installed tree"
	fi
fi

# 3. Every man page: installed where man finds it, groff, rendering, and,
# for a program, naming every long option its --help lists; and no program
# installed without one.
man_ok=1
((${#pages[@]})) || { echo "# no man pages were built (is scdoc installed?)"; man_ok=0; }
for page in "${pages[@]}"; do
	file=$dest$man/man${page##*.}/$page
	if [[ ! -s $file ]]; then
		echo "# $page: not installed as $man/man${page##*.}/$page"
		man_ok=0
	elif ! grep -q '^\.TH ' "$file"; then
		echo "# $page: no .TH line (not a man page)"
		man_ok=0
	elif command -v man >/dev/null 2>&1; then
		text=$(MANPAGER=cat MANWIDTH=80 man -l "$file" 2>&1)
		if ! grep -q '^NAME' <<<"$text" || (($(wc -l <<<"$text") < 10)); then
			echo "# $page: man -l does not render it:"
			sed 's/^/#   /' <<<"$text" | head -5
			man_ok=0
		fi
	fi
	program=$bindir/${page%.*}
	[[ -x $program && -s $file ]] || continue
	for option in $("$program" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		if ! grep -qF -- "$option" "$file"; then
			echo "# $page: --help lists $option, the man page does not (docs/man/$page.scd)"
			man_ok=0
		fi
	done
done
# Every installed program has a page of its own (docs/man/meson.build).
for program in "$dest$bin"/*; do
	name=${program##*/}
	if [[ -x $program ]] && ! compgen -G "$dest$man/man[18]/$name.[18]" >/dev/null; then
		echo "# $bin/$name is installed without a man page (add $name.1 or .8 to docs/man/meson.build)"
		man_ok=0
	fi
done
if ((man_ok)); then
	result ok 3 "${#pages[@]} man pages installed and rendering"
else
	result fail 3 "man pages"
fi
exit $failed
