/* SPDX-License-Identifier: MIT */
/*
 * A polling process's readiness around its own requests: work that a thread
 * queues for itself while its BINDER_WRITE_READ runs (the completion of its
 * BC_REPLY) and reads in that same call never makes the process readable,
 * neither while the request runs nor when its answer goes out. (Readiness
 * set meanwhile would be cleared only after the answer, so a poll right
 * after the ioctl would return at once, as the kernel's does not.) And
 * work the request leaves for its thread unread (a completion written
 * without a read) makes it readable before the answer goes out.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "common/mem_segment.h"
#include "driver/driver.h"
#include "fake_client.h"
#include "test-util.h"
#include "wire/wire.h"

#define REGION_SIZE (64 * 1024)
#define DATA_ADDR   0x7f0000001000ull

/* One BINDER_WRITE_READ of @w (@wlen bytes), reading up to @rsize. */
static void bwr(struct fake_client *fp, const void *w, size_t wlen, uint64_t rsize,
		const struct mem_segment *segs, size_t nsegs)
{
	struct bwr_request req = { .write = w,
				   .write_len = wlen,
				   .write_size = wlen,
				   .read_size = rsize,
				   .segments = segs,
				   .nsegments = nsegs };

	driver_write_read(fp->thread, &req);
}

struct txn_cmd {
	uint32_t cmd;
	struct binder_transaction_data tr;
} __attribute__((packed));

static void reply_completion_keeps_poller_idle(void **state)
{
	struct driver_config cfg = { .max_region_size = REGION_SIZE,
				     .max_threads = 4,
				     .max_read_size = UBW_MAX_READ_SIZE,
				     .max_fds = UBW_MAX_FDS,
				     .max_outbox = UBW_MAX_OUTBOX };
	static const uint8_t payload[8] = "payload";
	const struct mem_segment seg = { DATA_ADDR, sizeof(payload), payload };
	struct fake_client m = { 0 }, c = { 0 };
	struct driver *drv = driver_new(&cfg, &fake_client_ops, NULL);
	struct context *ctx = driver_add_context(drv, "binder");
	uint32_t looper = BC_ENTER_LOOPER;
	struct txn_cmd call = { .cmd = BC_TRANSACTION };
	struct {
		uint32_t free_cmd;
		binder_uintptr_t buffer;
		struct txn_cmd reply;
	} __attribute__((packed)) answer = { .free_cmd = BC_FREE_BUFFER };

	(void)state;
	fake_client_open(&m, drv, ctx, 0, REGION_SIZE, true);
	fake_client_open(&c, drv, ctx, 1, REGION_SIZE, false);
	driver_ioctl(m.thread, BINDER_SET_CONTEXT_MGR, &(int32_t){ 0 }, sizeof(int32_t));
	bwr(&m, &looper, sizeof(looper), 0, NULL, 0);

	/* The client's call waits for its reply; the manager becomes readable. */
	call.tr.code = 1;
	call.tr.data_size = sizeof(payload);
	call.tr.data.ptr.buffer = DATA_ADDR;
	bwr(&c, &call, sizeof(call), 256, &seg, 1);
	assert_true(m.readable);
	bwr(&m, NULL, 0, 256, NULL, 0);
	assert_int_equal(m.last_item, BR_TRANSACTION);
	assert_false(m.readable);

	/* The reply's completion is read in the same call: never readable. */
	answer.buffer = m.buffer;
	answer.reply.cmd = BC_REPLY;
	answer.reply.tr.data_size = sizeof(payload);
	answer.reply.tr.data.ptr.buffer = DATA_ADDR;
	m.answers = 0;
	bwr(&m, &answer, sizeof(answer), 256, &seg, 1);
	assert_int_equal(m.answers, 1);
	assert_int_equal(m.last_item, BR_TRANSACTION_COMPLETE);
	assert_false(m.readable_at_answer);
	assert_false(m.readable);
	bwr(&c, NULL, 0, 256, NULL, 0);
	assert_int_equal(c.last_item, BR_REPLY);

	/* Written without a read, the completion waits: readable, as the
	 * kernel's, and already when the answer goes out (a poll right after
	 * the ioctl sees it). */
	call.tr.code = 2;
	bwr(&c, &call, sizeof(call), 256, &seg, 1);
	bwr(&m, NULL, 0, 256, NULL, 0);
	answer.buffer = m.buffer;
	bwr(&m, &answer, sizeof(answer), 0, &seg, 1);
	assert_true(m.readable_at_answer);
	assert_true(m.readable);
	bwr(&m, NULL, 0, 256, NULL, 0);
	assert_int_equal(m.last_item, BR_TRANSACTION_COMPLETE);
	assert_false(m.readable);
	bwr(&c, NULL, 0, 256, NULL, 0);
	assert_int_equal(c.last_item, BR_REPLY);

	driver_proc_release(c.proc);
	driver_proc_release(m.proc);
	driver_free(drv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reply_completion_keeps_poller_idle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
