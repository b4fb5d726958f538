#!/bin/sh
# Builds the installed libubinder.a from the library's internal archive: all
# its objects linked into one relocatable object in which every symbol but
# ubinder_* is local, so that a program linking the static library sees the
# public API only, as it does with the shared library.
#
# usage: static-archive.sh LD OBJCOPY AR OUTPUT INTERNAL_ARCHIVE
set -eu
ld=$1 objcopy=$2 ar=$3 out=$4 in=$5
obj=$(dirname "$out")/ubinder.o # the archive's one member
trap 'rm -f "$obj" "$obj.tmp"' EXIT
"$ld" -r -o "$obj.tmp" --whole-archive "$in" --no-whole-archive
"$objcopy" --wildcard --keep-global-symbol='ubinder_*' "$obj.tmp" "$obj"
rm -f "$out"
"$ar" rcs "$out" "$obj"
