/* SPDX-License-Identifier: MIT */
/*
 * Identity across namespaces, as the kernel presents it: sender_pid is the
 * sender's pid in the receiver's pid namespace, or 0 if the sender is not
 * visible there; sender_euid is mapped into the receiver's user namespace,
 * or the overflow uid. Real namespaces (needs root; skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

#define CODE_QUERY 1
#define CODE_STOP  2

/*
 * A context manager that answers each call with the sender_pid and
 * sender_euid it saw.
 */
static int reporter_main(struct sync *ready)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open_manager(&c, D.sock, 1 << 20, NULL) == 0);
	sync_post(ready, 1);
	for (;;) {
		int32_t seen[2];

		CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
		if (cmd != BR_TRANSACTION)
			continue;
		seen[0] = tr.sender_pid;
		seen[1] = (int32_t)tr.sender_euid;
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		cb_txn(&w, BC_REPLY, 0, 0, 0, seen, sizeof(seen), NULL, 0);
		CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
		if (tr.code == CODE_STOP)
			return 0;
	}
}

/* Calls the context manager; returns what it saw in @seen. */
static int query(uint32_t code, int32_t seen[2])
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open(&c, D.sock, 1 << 20) == 0);
	cb_txn(&w, BC_TRANSACTION, 0, code, 0, NULL, 0, NULL, 0);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0 && cmd == BR_REPLY && tr.data_size == 8);
	memcpy(seen, (const void *)(uintptr_t)tr.data.ptr.buffer, 8);
	rc_close(&c);
	return 0;
}

/* Child of a process that unshared its pid namespace: asks, reports our in-namespace pid. */
static int query_and_expect(uint32_t code, int32_t want_pid, int32_t want_euid)
{
	int32_t seen[2];

	CHECK(query(code, seen) == 0);
	if (seen[0] != want_pid || (want_euid >= 0 && seen[1] != want_euid)) {
		fprintf(stderr, "saw pid %d euid %d, expected %d %d\n", seen[0], seen[1], want_pid,
			want_euid);
		return 1;
	}
	return 0;
}

static int container_main(void *arg)
{
	struct sync ready;
	pid_t reporter, member;
	int status;

	(void)arg;
	if (unshare(CLONE_NEWPID) < 0)
		return 77;
	sync_init(&ready);
	reporter = fork(); /* pid 1 of the new namespace */
	if (reporter == 0)
		_exit(reporter_main(&ready));
	if (sync_wait(&ready, 10000) != 1)
		return 1;
	/* A member of the same namespace is seen by its in-namespace pid (2). */
	member = fork();
	if (member == 0)
		_exit(query_and_expect(CODE_QUERY, 2, -1));
	if (waitpid(member, &status, 0) != member || !WIFEXITED(status) || WEXITSTATUS(status))
		return 2;
	/* Our own pid (we are outside the namespace): invisible, 0. */
	if (query_and_expect(CODE_STOP, 0, -1))
		return 3;
	if (waitpid(reporter, &status, 0) != reporter || !WIFEXITED(status) || WEXITSTATUS(status))
		return 4;
	return 0;
}

static void sender_pid_in_the_receivers_namespace(void **state)
{
	int ret;

	(void)state;
	if (geteuid() != 0)
		skip();
	ret = reap(spawn(container_main, NULL), 30000);
	if (ret == 77)
		skip(); /* no pid namespaces here */
	assert_int_equal(ret, 0);
	assert_int_equal(ubd_wait_idle(&D), 0);
}

/* A caller inside a new pid namespace: the receiver outside sees its outer pid. */
static int inner_caller_main(void *arg)
{
	pid_t child;
	int status;

	(void)arg;
	if (unshare(CLONE_NEWPID) < 0)
		return 77;
	child = fork(); /* pid 1 inside */
	if (child == 0) {
		int32_t seen[2];

		if (query(CODE_QUERY, seen))
			_exit(1);
		/* Its pid here is 1; the receiver must have seen the outer one. */
		_exit(seen[0] > 1 ? 0 : 1);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status))
		return 2;
	return WEXITSTATUS(status);
}

static void receiver_outside_sees_the_outer_pid(void **state)
{
	struct sync ready;
	pid_t reporter;
	int ret;

	(void)state;
	if (geteuid() != 0)
		skip();
	sync_init(&ready);
	reporter = fork();
	if (reporter == 0)
		_exit(reporter_main(&ready));
	assert_int_equal(sync_wait(&ready, 10000), 1);
	ret = reap(spawn(inner_caller_main, NULL), 30000);
	{
		int32_t seen[2];

		assert_int_equal(query(CODE_STOP, seen), 0);
		assert_int_equal(seen[0], getpid());
	}
	assert_int_equal(reap(reporter, 10000), 0);
	if (ret == 77)
		skip();
	assert_int_equal(ret, 0);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A context manager in a user namespace mapping only outside uid 1000 (as its 0). */
static void sender_euid_in_the_receivers_user_namespace(void **state)
{
	struct sync ready, mapped;
	char path[64];
	pid_t reporter;

	(void)state;
	if (geteuid() != 0)
		skip();
	sync_init(&ready);
	sync_init(&mapped);
	reporter = fork();
	if (reporter == 0) {
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(77);
		sync_post(&ready, 2);
		if (sync_wait(&mapped, 10000) != 1)
			_exit(1);
		_exit(reporter_main(&ready));
	}
	if (sync_wait(&ready, 10000) != 2) {
		reap(reporter, 1000);
		skip();
	}
	/* Our unprivileged sender must reach the socket. */
	assert_int_equal(chmod(D.dir, 0755), 0);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", reporter);
	if (write_file(path, "0 1000 1\n") < 0) {
		kill(reporter, SIGKILL);
		reap(reporter, 1000);
		skip();
	}
	sync_post(&mapped, 1);
	assert_int_equal(sync_wait(&ready, 10000), 1);
	/* We (root, uid 0 outside) are not mapped there: the overflow uid. */
	{
		int32_t seen[2];

		assert_int_equal(query(CODE_QUERY, seen), 0);
		assert_int_equal(seen[1], 65534);
	}
	/* A sender with euid 1000 is its uid 0. */
	{
		pid_t p = fork();

		if (p == 0) {
			if (setresuid(1000, 1000, 1000) < 0)
				_exit(5);
			_exit(query_and_expect(CODE_STOP, getpid(), 0));
		}
		assert_int_equal(reap(p, 10000), 0);
	}
	assert_int_equal(reap(reporter, 10000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sender_pid_in_the_receivers_namespace),
		cmocka_unit_test(receiver_outside_sees_the_outer_pid),
		cmocka_unit_test(sender_euid_in_the_receivers_user_namespace),
	};

	return cmocka_run_group_tests(tests, ubd_group_setup, ubd_group_teardown);
}
