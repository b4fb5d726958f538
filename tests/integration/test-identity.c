/* SPDX-License-Identifier: MIT */
/*
 * Whose memory the daemon reads: a thread's requests are copied from the
 * process that opened its connection, and only from it. A forked child that
 * dropped its privileges and uses its parent's inherited thread connection
 * gets EPERM and makes the daemon read nothing, while the connection goes on
 * serving the parent; a forked child that attaches its own thread
 * connection is served from its own memory.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "echo.h"
#include "harness.h"
#include "test-util.h"

#define NOBODY	    65534
#define SECRET_SIZE (100u << 10)

struct child {
	struct rc *c;	 /* the parent's client, inherited */
	struct sync go;	 /* parent -> child: where the secret is */
	struct sync got; /* child -> parent: 1 when the secret's address arrived */
};

/* Drops to nobody and points a call at memory the parent mapped after the fork. */
static int thief_main(void *arg)
{
	struct child *ch = arg;
	struct cmdbuf w = { .len = 0 };
	uint32_t lo, hi;
	uint64_t secret;

	if (setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return 2;
	lo = sync_wait(&ch->go, 5000);
	hi = sync_wait(&ch->go, 5000);
	secret = (uint64_t)hi << 32 | lo;
	sync_post(&ch->got, 1);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, (const void *)(uintptr_t)secret, SECRET_SIZE, NULL, 0);
	/* Refused, not copied: the write-read fails with EPERM, nothing consumed. */
	{
		uint64_t consumed = 1;
		int err = rc_bwr(ch->c, w.buf, w.len, NULL, 0, &consumed, NULL);

		return err == -EPERM && consumed == 0 ? 0 : 1;
	}
}

static void inherited_connection_reads_no_other_memory(void **state)
{
	struct child ch;
	struct echo_manager m;
	struct rc c;
	struct ubd d;
	long bc_before, readv_before;
	uint8_t *secret;
	int fds_before;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip(); /* needs root: the child drops to uid 65534 */
	assert_int_equal(ubd_start(&d, NULL), 0);
	chmod(d.dir, 0711);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	ch.c = &c;
	sync_init(&ch.go);
	sync_init(&ch.got);
	pid = spawn(thief_main, &ch);

	/* Mapped after the fork: only the parent has it. */
	secret =
		mmap(NULL, SECRET_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(secret != MAP_FAILED);
	memset(secret, 0x5e, SECRET_SIZE);
	bc_before = ubd_stat(&d, "BC_TRANSACTION");
	readv_before = ubd_stat(&d, "copies readv");
	sync_post(&ch.go, (uint32_t)(uintptr_t)secret);
	sync_post(&ch.go, (uint32_t)((uint64_t)(uintptr_t)secret >> 32));
	assert_int_equal(sync_wait(&ch.got, 5000), 1);
	assert_int_equal(reap(pid, 10000), 0);

	/* Nothing was run or read for the child. */
	assert_int_equal(ubd_stat(&d, "BC_TRANSACTION"), bc_before);
	assert_int_equal(ubd_stat(&d, "copies readv"), readv_before);
	assert_int_equal(ubd_stat(&d, "requests refused (not the opener)"), 1);
	/* The parent's thread connection still serves the parent. */
	{
		struct binder_transaction_data tr;
		struct cmdbuf w = { .len = 0 };
		uint32_t cmd = 0;

		cb_txn(&w, BC_TRANSACTION, 0, 1, 0, secret, 4096, NULL, 0);
		assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
		assert_int_equal(rc_wait_for(&c, &cmd, &tr), 0);
		assert_int_equal(cmd, BR_REPLY);
		assert_memory_equal((const void *)(uintptr_t)tr.data.ptr.buffer, secret, 4096);
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	}
	rc_close(&c);
	munmap(secret, SECRET_SIZE);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
}

/* Attaches its own thread connection and calls with its own memory. */
static int own_thread_main(void *arg)
{
	struct child *ch = arg;
	struct rc mine = *ch->c;
	struct cmdbuf w = { .len = 0 };
	uint8_t *data = malloc(SECRET_SIZE);
	uint32_t cmd = 0;

	if (!data || ubt_thread_open(&mine.t, &ch->c->s) != 0)
		return 2;
	memset(data, 0x3c, SECRET_SIZE);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, SECRET_SIZE, NULL, 0);
	if (rc_bwr(&mine, w.buf, w.len, NULL, 0, NULL, NULL) != 0 ||
	    rc_wait_for(&mine, &cmd, NULL) != 0)
		return 3;
	/* The reply is in the parent's region, which a child does not inherit. */
	return cmd == BR_REPLY ? 0 : 4;
}

static void forked_child_with_its_own_thread_is_served(void **state)
{
	struct child ch;
	struct echo_manager m;
	struct rc c;
	struct ubd d;
	long readv_before;
	int fds_before;

	(void)state;
	assert_int_equal(ubd_start(&d, NULL), 0);
	fds_before = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	ch.c = &c;
	readv_before = ubd_stat(&d, "copies readv");
	assert_int_equal(reap(spawn(own_thread_main, &ch), 10000), 0);
	assert_true(ubd_stat(&d, "copies readv") > readv_before);
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds_before);
	assert_int_equal(ubd_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inherited_connection_reads_no_other_memory),
		cmocka_unit_test(forked_child_with_its_own_thread_is_served),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
