/* SPDX-License-Identifier: MIT */
/*
 * The basic path end to end: a context manager and a client, a synchronous
 * call with a reply, identity fields, a oneway, and that nothing is left in
 * the daemon once both are gone.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

struct pair {
	struct sync ready;
	size_t payload;
};

static int manager_main(void *arg)
{
	struct pair *p = arg;
	struct binder_transaction_data tr;
	struct rc c;
	struct cmdbuf w = { .len = 0 };
	uint8_t reply[64];
	uint32_t cmd;

	int err = rc_open_manager(&c, D.sock, 1 << 20, NULL);
	if (err)
		fprintf(stderr, "rc_open_manager: %d\n", err);
	CHECK(err == 0);
	sync_post(&p->ready, 1);

	/* A sync call: check it, reply. */
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
	CHECK(cmd == BR_TRANSACTION);
	CHECK(tr.code == 7 && tr.flags == 0);
	CHECK(tr.data_size == p->payload && tr.offsets_size == 0);
	CHECK(tr.sender_euid == geteuid());
	CHECK(tr.sender_pid > 0 && tr.sender_pid != getpid());
	CHECK(tr.data.ptr.buffer >= (uintptr_t)c.map &&
	      tr.data.ptr.buffer + tr.data_size <= (uintptr_t)c.map + c.map_size);
	for (size_t i = 0; i < tr.data_size; i++)
		CHECK(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[i] == (uint8_t)(i * 7));
	memset(reply, 0x5a, sizeof(reply));
	w.len = 0;
	if (tr.data_size > 65536) {
		/* Forward the received bytes: the daemon copies them from our region. */
		cb_txn(&w, BC_REPLY, 0, 9, 0, (const void *)(uintptr_t)tr.data.ptr.buffer,
		       tr.data_size, NULL, 0);
	} else {
		cb_txn(&w, BC_REPLY, 0, 9, 0, reply, sizeof(reply), NULL, 0);
	}
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);

	/* A oneway: sender_pid is 0. */
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
	CHECK(cmd == BR_TRANSACTION);
	CHECK(tr.flags == TF_ONE_WAY && tr.sender_pid == 0 && tr.code == 8);
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	sync_wait(&p->ready, 10000); /* until the client is done */
	rc_close(&c);
	return 0;
}

static int client_main(void *arg)
{
	struct pair *p = arg;
	struct binder_transaction_data tr;
	static uint8_t data[1 << 18];
	uint8_t rbuf[256];
	struct cmdbuf w = { .len = 0 };
	uint64_t wc, rcons;
	struct rc c;
	uint32_t cmd;

	CHECK(p->payload <= sizeof(data));
	for (size_t i = 0; i < p->payload; i++)
		data[i] = (uint8_t)(i * 7);
	CHECK(rc_open(&c, D.sock, 1 << 20) == 0);
	cb_txn(&w, BC_TRANSACTION, 0, 7, 0, data, p->payload, NULL, 0);
	/* Write and read in one call: [NOOP, TRANSACTION_COMPLETE, REPLY] at once. */
	CHECK(rc_bwr(&c, w.buf, w.len, rbuf, sizeof(rbuf), &wc, &rcons) == 0);
	CHECK(wc == w.len);
	CHECK(rcons == 4 + 4 + 4 + sizeof(tr));
	memcpy(&cmd, rbuf + 4, 4);
	CHECK(cmd == BR_TRANSACTION_COMPLETE);
	memcpy(&cmd, rbuf + 8, 4);
	CHECK(cmd == BR_REPLY);
	memcpy(&tr, rbuf + 12, sizeof(tr));
	CHECK(tr.code == 9 && tr.sender_pid == 0);
	if (p->payload > 65536) {
		CHECK(tr.data_size == p->payload);
		for (size_t i = 0; i < tr.data_size; i++)
			CHECK(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[i] ==
			      (uint8_t)(i * 7));
	} else {
		CHECK(tr.data_size == 64);
		CHECK(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[63] == 0x5a);
	}

	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	cb_txn(&w, BC_TRANSACTION, 0, 8, TF_ONE_WAY, data, 16, NULL, 0);
	/* A oneway completes at once: [NOOP, TRANSACTION_COMPLETE]. */
	CHECK(rc_bwr(&c, w.buf, w.len, rbuf, sizeof(rbuf), &wc, &rcons) == 0);
	CHECK(wc == w.len && rcons == 8);
	memcpy(&cmd, rbuf + 4, 4);
	CHECK(cmd == BR_TRANSACTION_COMPLETE);
	rc_close(&c);
	sync_post(&p->ready, 2);
	return 0;
}

/* Waits until the daemon has no process left; returns what it reports. */
static long wait_no_procs(void)
{
	long procs = -1;

	for (int i = 0; i < 200; i++) {
		procs = ubd_stat(&D, "procs");
		if (procs == 0)
			break;
		poll(NULL, 0, 10);
	}
	return procs;
}

static void call_and_reply(size_t payload)
{
	struct pair p = { .payload = payload };
	pid_t manager, client;

	sync_init(&p.ready);
	manager = spawn(manager_main, &p);
	assert_true(sync_wait(&p.ready, 10000) == 1);
	client = spawn(client_main, &p);
	assert_int_equal(reap(client, 20000), 0);
	assert_int_equal(reap(manager, 20000), 0);
	assert_int_equal(wait_no_procs(), 0);
	assert_int_equal(ubd_stat(&D, "buffers"), 0);
	assert_int_equal(ubd_stat(&D, "transaction: active"), 0);
	assert_int_equal(ubd_stat(&D, "node: active"), 0);
	assert_int_equal(ubd_stat(&D, "ref: active"), 0);
}

static void small_call(void **state)
{
	(void)state;
	call_and_reply(128);
}

static void empty_call(void **state)
{
	(void)state;
	call_and_reply(0);
}

/* The call is read with process_vm_readv; the reply forwards it from the region. */
static void large_call_and_forwarded_reply(void **state)
{
	long readv = ubd_stat(&D, "copies readv");
	long local = ubd_stat(&D, "copies local");

	(void)state;
	call_and_reply(200000);
	assert_true(ubd_stat(&D, "copies readv") > readv);
	assert_true(ubd_stat(&D, "copies local") > local);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_call),
		cmocka_unit_test(empty_call),
		cmocka_unit_test(large_call_and_forwarded_reply),
	};

	return cmocka_run_group_tests(tests, ubd_group_setup, ubd_group_teardown);
}
