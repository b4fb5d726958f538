/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "echo.h"
#include "test-check.h"

/* A context manager echoing each call's bytes back, until ECHO_STOP. */
static int manager_main(void *arg)
{
	struct echo_manager *m = arg;
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	struct rc c;
	uint32_t cmd;

	CHECK(rc_open_manager(&c, m->sock, 4 << 20, NULL) == 0);
	sync_post(&m->ready, 1);
	for (;;) {
		CHECK(rc_wait_for(&c, &cmd, &tr) == 0);
		if (cmd != BR_TRANSACTION)
			continue;
		if (tr.code == ECHO_HOLD) {
			sync_post(&m->ready, 2);
			sync_wait(&m->go, 20000);
		}
		w.len = 0;
		if (!(tr.flags & TF_ONE_WAY)) {
			/* The reply forwards the received bytes, straight from our region. */
			cb_txn(&w, BC_REPLY, 0, tr.code, 0,
			       (const void *)(uintptr_t)tr.data.ptr.buffer,
			       tr.data_size < 4096 ? tr.data_size : 4096, NULL, 0);
		}
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		CHECK(rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0);
		if (tr.code == ECHO_STOP)
			break;
	}
	rc_close(&c);
	return 0;
}

void echo_start(struct echo_manager *m, const char *sock)
{
	m->sock = sock;
	sync_init(&m->ready);
	sync_init(&m->go);
	m->pid = spawn(manager_main, m);
	assert_int_equal(sync_wait(&m->ready, 10000), 1);
}

/* One call of @size bytes to handle 0; returns the BR_ code that ended it. */
uint32_t echo_call(const char *sock, size_t size, uint32_t code, struct binder_extended_error *ee)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint8_t *data = malloc(size ? size : 1);
	struct rc c;
	uint32_t cmd = 0;

	if (!data || rc_open(&c, sock, 1 << 20) != 0) {
		free(data);
		return 0;
	}
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	cb_txn(&w, BC_TRANSACTION, 0, code, 0, data, size, NULL, 0);
	if (rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL) == 0 && rc_wait_for(&c, &cmd, &tr) == 0 &&
	    cmd == BR_REPLY) {
		const uint8_t *r = (const uint8_t *)(uintptr_t)tr.data.ptr.buffer;

		for (size_t i = 0; i < tr.data_size; i++) {
			if (r[i] != (uint8_t)(i ^ (i >> 8)))
				cmd = 0; /* wrong bytes */
		}
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		rc_bwr(&c, w.buf, w.len, NULL, 0, NULL, NULL);
	}
	if (ee)
		rc_ioctl(&c, BINDER_GET_EXTENDED_ERROR, ee);
	rc_close(&c);
	free(data);
	return cmd;
}

void echo_stop(struct echo_manager *m, const char *sock)
{
	assert_int_equal(echo_call(sock, 8, ECHO_STOP, NULL), BR_REPLY);
	assert_int_equal(reap(m->pid, 10000), 0);
}

void echo_assert_clean(const struct ubd *d, int fds_before)
{
	struct echo_manager m;

	echo_start(&m, d->sock);
	assert_int_equal(echo_call(d->sock, 100, 1, NULL), BR_REPLY);
	echo_stop(&m, d->sock);
	assert_int_equal(ubd_wait_idle(d), 0);
	assert_int_equal(ubd_stat(d, "buffers"), 0);
	assert_int_equal(ubd_stat(d, "transaction: active"), 0);
	assert_int_equal(ubd_stat(d, "node: active"), 0);
	assert_int_equal(ubd_stat(d, "ref: active"), 0);
	assert_int_equal(ubd_stat(d, "thread: active"), 0);
	assert_int_equal(ubd_wait_fds(d, fds_before), fds_before);
}

uint32_t echo_call_on(struct rc *c, const void *data, size_t size, size_t check)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;

	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, size, NULL, 0);
	assert_int_equal(rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(rc_wait_for(c, &cmd, &tr), 0);
	if (cmd == BR_REPLY) {
		if (check)
			assert_memory_equal((const void *)(uintptr_t)tr.data.ptr.buffer, data,
					    check);
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		assert_int_equal(rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	}
	return cmd;
}
