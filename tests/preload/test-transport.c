/* SPDX-License-Identifier: MIT */
/*
 * The transport's extensions for native clients, against a real ubinderd:
 * the outbox (ubt_outbox) and held completions (UBT_HOLD_COMPLETE).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-check.h"
#include "test-util.h"

static struct ubd daemon_under_test;

static int start_daemon(void **state)
{
	(void)state;
	return ubd_start(&daemon_under_test, NULL) == 0 ? 0 : -1;
}

static int stop_daemon(void **state)
{
	(void)state;
	return ubd_stop(&daemon_under_test) == 0 ? 0 : -1;
}

/* Reads once; returns the return codes in @codes (up to 8), their count. */
static int read_codes(struct rc *c, unsigned int flags, uint32_t *codes,
		      struct binder_transaction_data *tr)
{
	uint8_t buf[512];
	struct binder_write_read bwr = { .read_size = sizeof(buf), .read_buffer = (uintptr_t)buf };
	int n = 0;

	if (ubt_write_read_flags(&c->t, &c->s, &bwr, flags))
		return -1;
	for (size_t pos = 0; pos + 4 <= bwr.read_consumed && n < 8;) {
		memcpy(&codes[n], buf + pos, 4);
		pos += 4 + _IOC_SIZE(codes[n]);
		if (codes[n] == BR_TRANSACTION && tr)
			memcpy(tr, buf + pos - sizeof(*tr), sizeof(*tr));
		n++;
	}
	return n;
}

struct manager {
	struct sync ready;
	struct sync done;
};

/* The manager checks the call's bytes, replies with a held completion, and
 * expects that completion in the same read as the next call. */
static int manager_main(void *arg)
{
	struct manager *m = arg;
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t codes[8], cmd;
	struct rc c;
	int n;

	CHECK(rc_open_manager(&c, daemon_under_test.sock, 1 << 20, NULL) == 0);
	sync_post(&m->ready, 1);
	CHECK(rc_wait_for(&c, &cmd, &tr) == 0 && cmd == BR_TRANSACTION);
	CHECK(tr.data_size == 65536);
	for (size_t i = 0; i < tr.data_size; i++)
		CHECK(((const uint8_t *)(uintptr_t)tr.data.ptr.buffer)[i] == (uint8_t)(i * 13));
	w.len = 0;
	cb_u32(&w, BC_FREE_BUFFER);
	cb_u64(&w, tr.data.ptr.buffer);
	cb_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
	CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
	/* Held: the read waits for the next call, completion first. */
	n = read_codes(&c, UBT_HOLD_COMPLETE, codes, &tr);
	CHECK(n == 3 && codes[0] == BR_NOOP && codes[1] == BR_TRANSACTION_COMPLETE &&
	      codes[2] == BR_TRANSACTION && tr.code == 2);
	sync_post(&m->done, 1);
	rc_close(&c);
	return 0;
}

static void outbox_and_held_completion(void **state)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct manager m;
	struct rc c;
	uint8_t *ob;
	void *second;
	uint32_t cmd;
	pid_t pid;

	(void)state;
	sync_init(&m.ready);
	sync_init(&m.done);
	pid = spawn(manager_main, &m);
	assert_int_equal(sync_wait(&m.ready, 10000), 1);
	assert_int_equal(rc_open(&c, daemon_under_test.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, 12345, &second), -EINVAL);
	assert_int_equal(ubt_outbox(&c.t, 1 << 20, (void **)&ob), 0);
	assert_int_equal(ubt_outbox(&c.t, 1 << 20, &second), -EBUSY);
	for (size_t i = 0; i < 65536; i++)
		ob[i] = (uint8_t)(i * 13);
	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, ob, 65536, NULL, 0);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(rc_wait_for(&c, &cmd, &tr), 0);
	assert_int_equal(cmd, BR_REPLY);
	w.len = 0;
	cb_txn(&w, BC_TRANSACTION, 0, 2, TF_ONE_WAY, NULL, 0, NULL, 0);
	assert_int_equal(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(sync_wait(&m.done, 10000), 1);
	assert_int_equal(reap(pid, 10000), 0);
	rc_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(outbox_and_held_completion, start_daemon,
						stop_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
