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
