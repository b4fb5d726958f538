/* SPDX-License-Identifier: MIT */
/*
 * The ring transport end to end (docs/protocol.md, "The ring"): a thread's
 * calls travel through its ring, and only what the ring does not carry
 * (the connection's setup, descriptors, large packets) over its socket, as
 * the daemon's per-process counters show; with ubinderd --rings off or
 * UBINDER_TRANSPORT=socket everything travels over the socket and works the
 * same; a daemon killed while a call waits for its reply ends the call as
 * over the socket (EBADF), promptly, in either phase of the wait (futex,
 * then socket); the daemon and clients spin a bounded time before they
 * sleep (ubinderd --spin, UBINDER_SPIN) and serve alike without, and once
 * idle they use no CPU; the futex wake-ups the daemon owes several callers
 * go out batched through io_uring (or in pairs: --wake-batch off, or a
 * kernel without io_uring's futex requests), and none is lost.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "echo.h"
#include "harness.h"

#define CALLS 50

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CALLS echoed calls of @size bytes from @c, each checked. */
static void calls(struct rc *c, size_t size)
{
	static uint8_t data[64 * 1024];

	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 13);
	for (int i = 0; i < CALLS; i++)
		assert_int_equal(echo_call_on(c, data, size, size < 4096 ? size : 4096), BR_REPLY);
}

struct counts {
	long ring_in, ring_out, socket_in, socket_out;
};

static struct counts packets(const struct ubd *d, pid_t pid)
{
	return (struct counts){
		ubd_proc_stat(d, pid, "packets in over the ring"),
		ubd_proc_stat(d, pid, "packets out over the ring"),
		ubd_proc_stat(d, pid, "packets in over the socket"),
		ubd_proc_stat(d, pid, "packets out over the socket"),
	};
}

/* Small calls go through the ring, large ones over the socket behind a marker. */
static void ring_carries_the_calls(void **state)
{
	struct echo_manager m;
	struct counts before, after;
	long markers;
	struct rc c;
	struct ubd d;
	int fds_before;

	(void)state;
	assert_int_equal(ubd_start(&d, NULL), 0);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	/* Not before the first BINDER_WRITE_READ: an idle thread costs no ring. */
	assert_null(c.t.ring);
	calls(&c, 128);
	assert_non_null(c.t.ring);
	before = packets(&d, getpid());
	/* Before the ring: ATTACH, BINDER_VERSION, MMAP, MMAP_DONE and RING. */
	assert_int_equal(before.socket_in, 5);
	calls(&c, 128);
	after = packets(&d, getpid());
	/* Each call is a request and a free, each with its answer. */
	assert_true(after.ring_in - before.ring_in >= 2 * CALLS);
	assert_true(after.ring_out - before.ring_out >= 2 * CALLS);
	assert_int_equal(after.socket_in, before.socket_in);
	assert_int_equal(after.socket_out, before.socket_out);

	/* Pushed inline and larger than half the ring: over the socket, in order,
	 * announced by markers. */
	markers = ubd_stat(&d, "ring markers in/out");
	calls(&c, 40 * 1024);
	before = after;
	after = packets(&d, getpid());
	assert_true(after.socket_in - before.socket_in >= CALLS);
	assert_true(ubd_stat(&d, "ring markers in/out") >= markers + CALLS);
	assert_true(ubd_stat(&d, "rings opened") >= 2); /* ours and the manager's */
	assert_int_equal(ubd_stat(&d, "ring protocol errors"), 0);
	/* Honest clients ring only after posting: never throttled. */
	assert_int_equal(ubd_stat(&d, "ring doorbells muted (empty rings)"), 0);
	assert_int_equal(ubd_proc_stat(&d, getpid(), "doorbells muted (rung with an empty ring)"),
			 0);
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
}

/* Everything over the socket, and the calls work as well. */
static void expect_socket_only(const char *const *args)
{
	struct echo_manager m;
	struct counts after;
	struct rc c;
	struct ubd d;
	int fds_before;

	assert_int_equal(ubd_start(&d, args), 0);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	assert_null(c.t.ring);
	calls(&c, 128);
	calls(&c, 40 * 1024);
	after = packets(&d, getpid());
	assert_int_equal(after.ring_in, 0);
	assert_int_equal(after.ring_out, 0);
	assert_true(after.socket_in >= 4 * CALLS);
	assert_int_equal(ubd_stat(&d, "rings opened"), 0);
	assert_int_equal(ubd_stat(&d, "rings refused"), 0); /* nobody asked */
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
}

static void rings_off_falls_back_to_the_socket(void **state)
{
	static const char *const args[] = { "--rings", "off", NULL };

	(void)state;
	expect_socket_only(args);
}

static void transport_socket_forces_the_socket(void **state)
{
	(void)state;
	setenv("UBINDER_TRANSPORT", "socket", 1);
	expect_socket_only(NULL);
	unsetenv("UBINDER_TRANSPORT");
}

static bool more_than_one_cpu(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1;
}

/*
 * Calls served with the daemon's spin @spin ("0": none) and the clients'
 * UBINDER_SPIN @client_spin; the daemon spins (ubinderctl stats) exactly
 * when it may: not with --spin 0, and not on one CPU.
 */
static void calls_with_spin(const char *spin, const char *client_spin)
{
	const char *const args[] = { "--spin", spin, NULL };
	struct echo_manager m;
	struct rc c;
	struct ubd d;
	int fds_before;
	long spins;

	setenv("UBINDER_SPIN", client_spin, 1); /* the manager and our thread alike */
	assert_int_equal(ubd_start(&d, args), 0);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	calls(&c, 128);
	calls(&c, 40 * 1024);
	assert_non_null(c.t.ring);
	spins = ubd_stat(&d, "ring spins before sleeping");
	if (strcmp(spin, "0") == 0 || !more_than_one_cpu())
		assert_int_equal(spins, 0);
	else
		assert_true(spins > 0); /* a new daemon spins after its first work */
	assert_int_equal(ubd_stat(&d, "ring protocol errors"), 0);
	assert_int_equal(ubd_stat(&d, "ring doorbells muted (empty rings)"), 0);
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
	unsetenv("UBINDER_SPIN");
}

static void spinning_serves_alike(void **state)
{
	(void)state;
	calls_with_spin("30", "30");
	calls_with_spin("1000", "1000");
}

static void no_spin_serves_alike(void **state)
{
	(void)state;
	calls_with_spin("0", "0");
	calls_with_spin("0", "30");
	calls_with_spin("30", "0");
}

#define CALLERS	     4
#define CALLER_CALLS 200

/* CALLER_CALLS echoed, checked 128-byte calls on a connection of its own. */
static int caller_main(void *arg)
{
	const char *sock = arg;
	uint8_t data[128];
	struct rc c;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	if (rc_open(&c, sock, 1 << 20) != 0)
		return 1;
	for (int i = 0; i < CALLER_CALLS; i++)
		if (echo_call_on(&c, data, sizeof(data), sizeof(data)) != BR_REPLY)
			return 2;
	rc_close(&c);
	return 0;
}

/*
 * CALLERS processes call at once, nobody spinning, so that the daemon owes
 * several futex wake-ups after a batch: they go out the way the daemon
 * says (ubinderctl stats; "io_uring": batched, "pairs ...": two per
 * FUTEX_WAKE_OP), which must begin with @mode, and none is lost (a lost
 * one costs its waiter the 20 ms futex timeout: all of them would take
 * over 30 s, the bound here is 15). Returns the daemon's counter of wakes
 * sent that way.
 */
static long callers_at_once(const char *const *args, const char *mode)
{
	char *stats, *line, want[64];
	bool batched;
	struct echo_manager m;
	pid_t pids[CALLERS];
	long start, sent, wakes, paired, in_batches;
	struct ubd d;
	int fds_before;

	setenv("UBINDER_SPIN", "0", 1);
	assert_int_equal(ubd_start(&d, args), 0);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	start = now_ms();
	for (int i = 0; i < CALLERS; i++)
		pids[i] = spawn(caller_main, d.sock);
	for (int i = 0; i < CALLERS; i++)
		assert_int_equal(reap(pids[i], 30000), 0);
	assert_true(now_ms() - start < 15000);
	stats = ubd_admin(&d, UBW_ADMIN_STATS, 0, NULL);
	assert_non_null(stats);
	snprintf(want, sizeof(want), "ring futex wake-ups sent: %s", mode);
	line = strstr(stats, "ring futex wake-ups sent: ");
	if (!line || strncmp(line, want, strlen(want)) != 0)
		fail_msg("want '%s' in:\n%s", want, stats);
	batched = strncmp(line, "ring futex wake-ups sent: io_uring\n", 35) == 0;
	line = strstr(stats, "ring futex wakes: ");
	assert_non_null(line);
	assert_int_equal(sscanf(line, "ring futex wakes: %ld (paired: %ld, batched: %ld)", &wakes,
				&paired, &in_batches),
			 3);
	print_message("# %.*s; %ld futex wakes, %ld pairs, %ld in batches\n",
		      (int)strcspn(strstr(stats, "ring futex wake-ups sent: "), "\n"),
		      strstr(stats, "ring futex wake-ups sent: "), wakes, paired, in_batches);
	free(stats);
	/* Every wake counted once, each way's within the total. */
	assert_true(2 * paired + in_batches <= wakes);
	sent = batched ? in_batches : paired;
	assert_int_equal(ubd_stat(&d, "ring protocol errors"), 0);
	/* Every batched request taken as encoded: none woken alone. */
	assert_int_equal(ubd_stat(&d, "ring futex wake requests failed"), 0);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
	unsetenv("UBINDER_SPIN");
	return sent;
}

static void owed_wakes_batched_or_paired(void **state)
{
	const char *const spin0[] = { "--spin", "0", NULL };
	const char *const off[] = { "--spin", "0", "--wake-batch", "off", NULL };

	(void)state;
	/* By default: batched, or in pairs where the kernel or build cannot. */
	assert_true(callers_at_once(spin0, "") > 0);
	assert_true(callers_at_once(off, "pairs (--wake-batch off)") > 0);
}

/*
 * After calls, with a manager's looper waiting for work on its ring and our
 * thread's ring open, the daemon and the manager use no CPU: spins happen
 * only right after work and are bounded (a generous bound for a shared
 * machine: 50 ms over 2 s, for both together).
 */
static void idle_costs_no_cpu(void **state)
{
	struct echo_manager m;
	struct rc c;
	struct ubd d;
	long before;

	(void)state;
	assert_int_equal(ubd_start(&d, NULL), 0);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	calls(&c, 128);
	poll(NULL, 0, 100); /* past the last spin and the futex wait */
	before = proc_cpu_ms(d.pid) + proc_cpu_ms(m.pid);
	poll(NULL, 0, 2000);
	assert_true(proc_cpu_ms(d.pid) + proc_cpu_ms(m.pid) - before < 50);
	calls(&c, 128); /* and it still serves */
	rc_close(&c);
	echo_stop(&m, d.sock);
	assert_int_equal(ubd_stop(&d), 0);
}

struct held_call {
	const char *sock;
	struct sync started; /* child -> test: its ring is up, the call goes out */
};

/* A call the manager holds: ends when the daemon dies, with EBADF. */
static int held_call_main(void *arg)
{
	struct held_call *h = arg;
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;
	struct rc c;
	int err;

	if (rc_open(&c, h->sock, 1 << 20) != 0)
		return 2;
	cb_u32(&w, BC_ENTER_LOOPER); /* a first write-read: the ring comes */
	if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) != 0 || !c.t.ring)
		return 2;
	w.len = 0;
	cb_txn(&w, BC_TRANSACTION, 0, ECHO_HOLD, 0, "held", 4, NULL, 0);
	sync_post(&h->started, 1);
	err = rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL);
	if (err == 0)
		err = rc_wait_for(&c, &cmd, &tr);
	return err == -EBADF ? 0 : 3;
}

/*
 * The daemon killed while a caller waits for its reply, after @wait_ms: the
 * call ends with EBADF within a second (the futex wait is bounded, and a
 * longer wait is on the socket, which reports the hang-up at once).
 */
static void daemon_killed_during_a_wait(int wait_ms)
{
	struct held_call h;
	struct echo_manager m;
	struct ubd d;
	long start;
	pid_t pid;

	assert_int_equal(ubd_start(&d, NULL), 0);
	echo_start(&m, d.sock);
	h.sock = d.sock;
	sync_init(&h.started);
	pid = spawn(held_call_main, &h);
	assert_int_equal(sync_wait(&h.started, 5000), 1);
	assert_int_equal(sync_wait(&m.ready, 5000), 2); /* the manager holds the call */
	poll(NULL, 0, wait_ms);
	kill(d.pid, SIGKILL);
	start = now_ms();
	assert_int_equal(reap(pid, 5000), 0);
	assert_true(now_ms() - start < 1000);
	assert_int_equal(reap(d.pid, 5000), -1);
	d.pid = 0;
	sync_post(&m.go, 1);
	(void)reap(m.pid, 5000);
	(void)ubd_stop(&d);
}

static void daemon_killed_during_a_futex_wait(void **state)
{
	(void)state;
	daemon_killed_during_a_wait(0);
}

static void daemon_killed_during_a_socket_wait(void **state)
{
	(void)state;
	daemon_killed_during_a_wait(300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_carries_the_calls),
		cmocka_unit_test(rings_off_falls_back_to_the_socket),
		cmocka_unit_test(transport_socket_forces_the_socket),
		cmocka_unit_test(daemon_killed_during_a_futex_wait),
		cmocka_unit_test(daemon_killed_during_a_socket_wait),
		cmocka_unit_test(spinning_serves_alike),
		cmocka_unit_test(no_spin_serves_alike),
		cmocka_unit_test(idle_costs_no_cpu),
		cmocka_unit_test(owed_wakes_batched_or_paired),
	};

	unsetenv("UBINDER_TRANSPORT");
	unsetenv("UBINDER_SPIN");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
