# shellcheck shell=bash
# What the shell tests share: TAP lines with their count, waiting for a
# condition, checking what a command prints, and stopping the processes a
# test started. Sourced; the caller prints its plan and exits with $failed.

n=0 failed=0

ok() { # ok DESCRIPTION STATUS
	n=$((n + 1))
	if (($2 == 0)); then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		failed=$((failed + 1))
	fi
}

# wait_for COMMAND...: up to 10 s for COMMAND (a program or a function) to
# succeed (quietly).
wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# gone PID: the process PID has exited (for wait_for).
gone() { ! kill -0 "$1" 2>/dev/null; }

# stop_pids PID...: SIGTERM to all, up to 10 s each to exit, then SIGKILL; every one reaped.
stop_pids() {
	local pid
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "$@"; do
		wait_for gone "$pid"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

# test_dir NAME: a fresh folder $dir (/tmp/ubinder-NAME.XXXXXX) and an empty
# array pids; at exit, every process in pids is stopped and $dir removed.
test_dir() {
	dir=$(mktemp -d "/tmp/ubinder-$1.XXXXXX") || exit 1
	pids=()
	trap 'stop_pids "${pids[@]}"; rm -rf "$dir"' EXIT
}

# expect_run GREP-OPTIONS DESCRIPTION EXIT-STATUS PATTERN COMMAND...: COMMAND,
# bounded by 60 s, exits with EXIT-STATUS and `grep GREP-OPTIONS PATTERN`
# finds its output (stdout and stderr together); else the output is shown.
expect_run() {
	local grepopt=$1 what=$2 status=$3 pattern=$4 out rc
	shift 4
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if ((rc != status)) || ! grep "$grepopt" -- "$pattern" <<<"$out"; then
		printf '# %s: exit %d (want %d), output:\n%s\n' "$what" "$rc" "$status" "$out" | sed '2,$s/^/#   /'
		ok "$what" 1
	else
		ok "$what" 0
	fi
}

# expect_output DESCRIPTION EXIT-STATUS PATTERN COMMAND...: the output, read as
# one text (PATTERN may span lines; ^ and $ are its start and end), matches
# the extended regex PATTERN.
expect_output() { expect_run -qzE "$@"; }

# expect_line DESCRIPTION EXIT-STATUS PATTERN COMMAND...: a line of the output
# matches the extended regex PATTERN (^ and $ are a line's start and end).
expect_line() { expect_run -qE "$@"; }
