# shellcheck shell=bash
# What the two conformance runners share (scripts/conformance.sh, the kernel
# driver in a VM; scripts/conformance-ubinder.sh, ubinderd): which programs
# run, and the verdict on a program's transcript. Sourced.

# conformance_build PROG USAGE DIR: prints the build folder DIR as an absolute
# path; fails (status 2) with PROG's USAGE when DIR is empty, or a complaint
# when it is no folder.
conformance_build() {
	[[ -n $3 ]] || { echo "usage: $2" >&2; return 2; }
	(cd "$3" 2>/dev/null && pwd) || { echo "$1: no build folder $3" >&2; return 2; }
}

# conformance_programs SRC [NAME...]: the programs, one a line: every
# SRC/tests/conformance/*.c but the helper conf.c, in glob order (the order
# both runs use), or only the NAMEs given among them.
conformance_programs() {
	local src=$1
	shift
	(cd "$src/tests/conformance" && ls -- *.c) | sed 's/\.c$//' | grep -vx conf |
		if (($#)); then grep -Fx -f <(printf '%s\n' "$@"); else cat; fi
}

# transcript_verdict GOT EXPECTED LABEL DIFF: compares the transcript GOT
# (output, then "exit N") with EXPECTED. Sets verdict to PASS, SKIP (the
# program exited 77) or FAIL, and why to the reason of a SKIP or FAIL. A
# differing transcript leaves its diff in DIFF, its lines labelled with
# EXPECTED's path below tests/conformance/ and LABEL.
# shellcheck disable=SC2034 # verdict and why are for the caller
transcript_verdict() {
	local got=$1 exp=$2 label=$3 diff=$4
	verdict=FAIL
	why=
	if [[ -s $got && $(tail -n 1 "$got") == "exit 77" ]]; then
		verdict=SKIP
		why=$(head -n 1 "$got")
	elif [[ ! -s $got ]]; then
		why="no transcript"
	elif [[ ! -f $exp ]]; then
		why="no expected transcript tests/conformance/${exp#*/tests/conformance/}"
	elif diff -u --label "${exp#*/tests/conformance/}" --label "$label" "$exp" "$got" >"$diff"; then
		rm -f "$diff"
		verdict=PASS
	else
		why="transcript differs (${label%.txt}.diff)"
	fi
}
