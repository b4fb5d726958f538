# shellcheck shell=bash
# What the shell tests share: TAP lines with their count, and stopping the
# processes a test started. Sourced; the caller prints its plan and exits
# with $failed.

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

# stop_pids PID...: SIGTERM to all, up to 5 s each to exit, then SIGKILL; every one reaped.
stop_pids() {
	local pid
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "$@"; do
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}

# wait_for COMMAND...: up to 10 s for COMMAND to succeed (quietly).
wait_for() {
	for _ in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# expect_output DESCRIPTION EXIT-STATUS PATTERN COMMAND...: COMMAND, bounded by
# 60 s, exits with EXIT-STATUS and its output (stdout and stderr, read as one
# text so PATTERN may span lines) matches the extended regex PATTERN.
expect_output() {
	local what=$1 status=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if ((rc != status)) || ! grep -qzE -- "$pattern" <<<"$out"; then
		printf '# %s: exit %d (want %d), output:\n%s\n' "$what" "$rc" "$status" "$out" | sed '2,$s/^/#   /'
		ok "$what" 1
	else
		ok "$what" 0
	fi
}
