/* SPDX-License-Identifier: MIT */
/*
 * Reply promises (src/driver/reply_promise.c), against the driver core with
 * no daemon: the promise is made only when the promised write must end in
 * [BR_NOOP, BR_TRANSACTION_COMPLETE], a kept promise delivers the reply in
 * the room it reserved (trimmed to the reply), and the room is never left
 * behind, whoever goes first: the caller, the replier, or the promise.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "common/log.h"
#include "common/mem_segment.h"
#include "driver/driver.h"
#include "driver/entities.h"
#include "fake_client.h"
#include "test-util.h"
#include "wire/wire.h"

#define BIG_REGION (64 * 1024)
#define DATA_ADDR  0x7f0000001000ull
#define ROOM	   4096u /* the daemon's ticket limit (UBW_TICKET_LIMIT) */

static uint8_t payload[8192];
static struct driver *current; /* the scene's: flushed after each operation */

struct scene {
	struct driver *drv;
	struct context *ctx;
	struct fake_client m, c; /* the context manager (replier), its caller */
};

/* One BINDER_WRITE_READ of @w (@wlen bytes), reading up to @rsize. */
static void bwr(struct fake_client *fp, const void *w, size_t wlen, uint64_t rsize, bool promised)
{
	const struct mem_segment seg = { DATA_ADDR, sizeof(payload), payload };
	struct bwr_request req = { .write = w,
				   .write_len = wlen,
				   .write_size = wlen,
				   .read_size = rsize,
				   .promised = promised,
				   .segments = &seg,
				   .nsegments = 1 };

	driver_write_read(fp->thread, &req);
	driver_flush(current);
}

struct txn_cmd {
	uint32_t cmd;
	struct binder_transaction_data tr;
} __attribute__((packed));

static void scene_start(struct scene *s, size_t caller_region)
{
	static const struct driver_config cfg = { .max_region_size = BIG_REGION,
						  .max_threads = 4,
						  .max_read_size = UBW_MAX_READ_SIZE,
						  .max_fds = UBW_MAX_FDS,
						  .max_outbox = UBW_MAX_OUTBOX };
	uint32_t looper = BC_ENTER_LOOPER;

	memset(s, 0, sizeof(*s));
	s->drv = current = driver_new(&cfg, &fake_client_ops, NULL);
	s->ctx = driver_add_context(s->drv, "binder");
	fake_client_open(&s->m, s->drv, s->ctx, 0, BIG_REGION, false);
	fake_client_open(&s->c, s->drv, s->ctx, 1, caller_region, false);
	driver_ioctl(s->m.thread, BINDER_SET_CONTEXT_MGR, &(int32_t){ 0 }, sizeof(int32_t));
	bwr(&s->m, &looper, sizeof(looper), 0, false);
}

/* Buffers the driver holds, all processes together (driver_dump_stats). */
static size_t buffers_held(struct driver *drv)
{
	char *text = NULL;
	size_t len = 0, n = SIZE_MAX;
	FILE *f = open_memstream(&text, &len);
	const char *at;

	assert_non_null(f);
	driver_dump_stats(drv, f);
	fclose(f);
	at = strstr(text, "\nbuffers: ");
	assert_non_null(at);
	assert_int_equal(sscanf(at, "\nbuffers: %zu", &n), 1);
	free(text);
	return n;
}

static void scene_finish(struct scene *s)
{
	if (s->c.proc)
		driver_proc_release(s->c.proc);
	if (s->m.proc)
		driver_proc_release(s->m.proc);
	assert_int_equal(buffers_held(s->drv), 0);
	driver_free(s->drv);
}

static bool has_item(const struct fake_client *fp, uint32_t cmd)
{
	for (size_t i = 0; i < fp->nitems; i++)
		if (fp->items[i] == cmd)
			return true;
	return false;
}

/* The caller calls with @n bytes and waits; the manager reads the call. */
static void call_arrives(struct scene *s, size_t n)
{
	struct txn_cmd call = { .cmd = BC_TRANSACTION, .tr = { .code = 1 } };

	call.tr.data_size = n;
	call.tr.data.ptr.buffer = DATA_ADDR;
	s->c.nitems = 0;
	bwr(&s->c, &call, sizeof(call), 256, false);
	if (s->c.nitems) {
		/* A new thread's first read returns at once; the completion of
		 * any later call waits for its reply, as the kernel's. */
		assert_int_equal(s->c.items[s->c.nitems - 1], BR_TRANSACTION_COMPLETE);
		s->c.nitems = 0;
		bwr(&s->c, NULL, 0, 256, false);
	}
	assert_int_equal(s->c.nitems, 0); /* waiting */
	bwr(&s->m, NULL, 0, 256, false);
	assert_true(has_item(&s->m, BR_TRANSACTION));
}

/* The manager answers as libbinder's looper: [BC_FREE_BUFFER, BC_REPLY of
 * @n bytes] with a read, the write promised or not. */
static void answer(struct scene *s, size_t n, bool promised)
{
	struct {
		uint32_t free_cmd;
		binder_uintptr_t buffer;
		struct txn_cmd reply;
	} __attribute__((packed)) w = { BC_FREE_BUFFER, s->m.buffer, { BC_REPLY, { .code = 0 } } };

	w.reply.tr.data_size = n;
	w.reply.tr.data.ptr.buffer = DATA_ADDR;
	bwr(&s->m, &w, sizeof(w), 256, promised);
}

/* A scene whose manager was promised its reply to the call it just read. */
static void promised_call(struct scene *s, size_t caller_region)
{
	scene_start(s, caller_region);
	call_arrives(s, 8);
	assert_true(driver_promise_reply(s->m.thread, ROOM, ROOM));
}

static void assert_completed(const struct fake_client *fp)
{
	assert_int_equal(fp->nitems, 2);
	assert_int_equal(fp->items[0], BR_NOOP);
	assert_int_equal(fp->items[1], BR_TRANSACTION_COMPLETE);
}

/* The caller's reply came, of @n bytes, intact; it frees it unless @hold. */
static void reply_arrived(struct scene *s, size_t n, bool hold)
{
	const uint8_t *got;

	assert_true(s->c.nitems >= 2);
	assert_int_equal(s->c.items[s->c.nitems - 1], BR_REPLY);
	assert_int_equal(s->c.size, n);
	got = s->c.proc->space.region.base + (s->c.buffer - s->c.proc->space.user_base);
	assert_memory_equal(got, payload, n);
	if (!hold) {
		struct {
			uint32_t cmd;
			binder_uintptr_t buffer;
		} __attribute__((packed)) f = { BC_FREE_BUFFER, s->c.buffer };

		bwr(&s->c, &f, sizeof(f), 0, false);
	}
}

static void setup_payload(void)
{
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 5);
}

/* A promise kept: the reply lands in the room, the replier reads the completion. */
static void kept_promise_delivers_the_reply(void **state)
{
	struct scene s;

	(void)state;
	scene_start(&s, BIG_REGION);
	for (size_t n = 0; n <= ROOM; n += ROOM / 4) {
		call_arrives(&s, 100);
		assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM));
		assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM)); /* one at a time */
		answer(&s, n, true);
		assert_completed(&s.m);
		reply_arrived(&s, n, false);
	}
	assert_int_equal(s.drv->stats.promises_made, 5);
	assert_int_equal(s.drv->stats.promises_kept, 5);
	assert_int_equal(s.drv->stats.promises_cancelled, 0);
	scene_finish(&s);
}

/* The room is trimmed to the reply: two held promised replies of 100 bytes
 * leave room for a third promise in an 8 KiB region (untrimmed, two rooms
 * would fill it). */
static void kept_room_is_trimmed_to_the_reply(void **state)
{
	struct scene s;
	uint64_t held[2];

	(void)state;
	scene_start(&s, 2 * ROOM);
	for (int i = 0; i < 2; i++) {
		call_arrives(&s, 8);
		assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM));
		answer(&s, 100, true);
		assert_completed(&s.m);
		reply_arrived(&s, 100, true);
		held[i] = s.c.buffer;
	}
	assert_int_not_equal(held[0], held[1]);
	call_arrives(&s, 8);
	assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM));
	answer(&s, 100, true);
	assert_completed(&s.m);
	reply_arrived(&s, 100, false);
	assert_int_equal(s.drv->stats.promises_kept, 3);
	scene_finish(&s);
}

/*
 * The room follows the replier's last reply, rounded up to 4 KiB, between
 * the daemon's bounds; where that does not fit the caller's region, the
 * minimum.
 */
static void room_follows_the_last_reply(void **state)
{
	struct scene s;

	(void)state;
	scene_start(&s, BIG_REGION);
	call_arrives(&s, 8);
	assert_int_equal(driver_promise_reply(s.m.thread, ROOM, 4 * ROOM), ROOM); /* none yet */
	answer(&s, 6000, true); /* larger than the room: the ordinary way */
	assert_completed(&s.m);
	reply_arrived(&s, 6000, false);
	call_arrives(&s, 8);
	assert_int_equal(driver_promise_reply(s.m.thread, ROOM, 4 * ROOM), 2 * ROOM);
	answer(&s, 6000, true);
	assert_completed(&s.m);
	reply_arrived(&s, 6000, false);
	call_arrives(&s, 8);
	assert_int_equal(driver_promise_reply(s.m.thread, ROOM, ROOM), ROOM); /* the cap */
	answer(&s, 100, true);
	assert_completed(&s.m);
	reply_arrived(&s, 100, false);
	assert_int_equal(s.drv->stats.promises_kept, 2);
	scene_finish(&s);

	/* A caller region of 12 KiB that holds the last reply has no 8 KiB left. */
	scene_start(&s, 3 * ROOM);
	call_arrives(&s, 8);
	answer(&s, 6000, false);
	reply_arrived(&s, 6000, true);
	{
		uint64_t held = s.c.buffer;
		struct {
			uint32_t cmd;
			binder_uintptr_t buffer;
		} __attribute__((packed)) f = { BC_FREE_BUFFER, held };

		call_arrives(&s, 8);
		assert_int_equal(driver_promise_reply(s.m.thread, ROOM, 4 * ROOM), ROOM);
		answer(&s, 100, true);
		assert_completed(&s.m);
		reply_arrived(&s, 100, false);
		bwr(&s.c, &f, sizeof(f), 0, false);
	}
	scene_finish(&s);
}

/*
 * A promised reply may carry its data in the outbox, which the daemon maps:
 * only a range wholly inside it counts, and none once the client said the
 * outbox is gone.
 */
static void outbox_holds_only_its_own_range(void **state)
{
	const uint64_t base = 0x7e0000000000ull, size = 64 * 1024;
	struct scene s;
	int fd = -1;

	(void)state;
	scene_start(&s, BIG_REGION);
	assert_false(driver_outbox_holds(s.m.thread, base, 1)); /* none yet */
	assert_int_equal(driver_outbox(s.m.thread, base, size, true, &fd), 0);
	close(fd);
	assert_true(driver_outbox_holds(s.m.thread, base, size));
	assert_true(driver_outbox_holds(s.m.thread, base + size - 1, 1));
	assert_true(driver_outbox_holds(s.m.thread, base + size, 0));
	assert_false(driver_outbox_holds(s.m.thread, base + size - 1, 2));
	assert_false(driver_outbox_holds(s.m.thread, base - 1, 2));
	assert_false(driver_outbox_holds(s.m.thread, base + 8, UINT64_MAX));
	assert_false(driver_outbox_holds(s.m.thread, base + size + 1, 0));
	assert_false(driver_outbox_holds(s.c.thread, base, 1)); /* another process's */
	assert_int_equal(driver_munmap(s.m.thread, base), 0);
	assert_false(driver_outbox_holds(s.m.thread, base, 1));
	scene_finish(&s);
}

/* No room for the promise in the caller's region: refused; the reply still
 * goes the ordinary way. Once the caller frees, the promise is made. */
static void full_caller_region_refuses(void **state)
{
	struct scene s;

	(void)state;
	scene_start(&s, 2 * ROOM);
	call_arrives(&s, 8);
	answer(&s, 5000, false);
	assert_completed(&s.m);
	reply_arrived(&s, 5000, true); /* 3192 bytes left */
	{
		uint64_t held = s.c.buffer;

		call_arrives(&s, 8);
		assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM));
		answer(&s, 100, false);
		assert_completed(&s.m);
		reply_arrived(&s, 100, false);
		s.c.buffer = held;
	}
	{
		struct {
			uint32_t cmd;
			binder_uintptr_t buffer;
		} __attribute__((packed)) f = { BC_FREE_BUFFER, s.c.buffer };

		bwr(&s.c, &f, sizeof(f), 0, false);
	}
	call_arrives(&s, 8);
	assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM));
	answer(&s, 100, true);
	assert_completed(&s.m);
	reply_arrived(&s, 100, false);
	assert_int_equal(s.drv->stats.promises_made, 1);
	scene_finish(&s);
}

/* Work already queued for the replier would come before the completion. */
static void own_work_pending_refuses(void **state)
{
	struct txn_cmd bad = { .cmd = BC_TRANSACTION, .tr = { .target.handle = 99 } };
	struct scene s;

	(void)state;
	scene_start(&s, BIG_REGION);
	call_arrives(&s, 8);
	bwr(&s.m, &bad, sizeof(bad), 0, false); /* its BR_FAILED_REPLY waits */
	assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM));
	bwr(&s.m, NULL, 0, 256, false);
	assert_int_equal(s.m.items[s.m.nitems - 1], BR_FAILED_REPLY);
	assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM));
	answer(&s, 8, true);
	assert_completed(&s.m);
	reply_arrived(&s, 8, false);
	scene_finish(&s);
}

/*
 * A read that could end with BR_SPAWN_LOOPER is never promised. The read
 * that took the call asked for a looper; once one registered, fewer than
 * max_threads run and none is requested, so the next read may ask again.
 */
static void spawn_possible_refuses(void **state)
{
	struct thread_peer peer = { .pid = 300100, .pidfd = -1 };
	uint32_t registered = BC_REGISTER_LOOPER;
	struct fake_client looper = { .proc = NULL };
	struct scene s;

	(void)state;
	scene_start(&s, BIG_REGION);
	driver_ioctl(s.m.thread, BINDER_SET_MAX_THREADS, &(uint32_t){ 2 }, sizeof(uint32_t));
	call_arrives(&s, 8);
	assert_true(has_item(&s.m, BR_SPAWN_LOOPER));
	assert_true(driver_promise_reply(s.m.thread, ROOM, ROOM)); /* one is requested */
	driver_promise_cancel(s.m.thread);
	looper.proc = s.m.proc;
	assert_int_equal(driver_thread_attach(s.m.proc, peer.pid, &peer, &looper, &looper.thread),
			 0);
	bwr(&looper, &registered, sizeof(registered), 0, false);
	assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM));
	answer(&s, 8, false);
	reply_arrived(&s, 8, false);
	assert_int_equal(s.drv->stats.promises_made, 1);
	scene_finish(&s);
}

/* Nothing to answer, or a oneway to take: nothing to promise. */
static void nothing_to_answer_refuses(void **state)
{
	struct txn_cmd oneway = { .cmd = BC_TRANSACTION, .tr = { .code = 1, .flags = TF_ONE_WAY } };
	struct scene s;

	(void)state;
	scene_start(&s, BIG_REGION);
	assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM));
	oneway.tr.data_size = 8;
	oneway.tr.data.ptr.buffer = DATA_ADDR;
	bwr(&s.c, &oneway, sizeof(oneway), 256, false);
	bwr(&s.m, NULL, 0, 256, false);
	assert_int_equal(s.m.items[s.m.nitems - 1], BR_TRANSACTION);
	assert_false(driver_promise_reply(s.m.thread, ROOM, ROOM));
	{
		struct {
			uint32_t cmd;
			binder_uintptr_t buffer;
		} __attribute__((packed)) f = { BC_FREE_BUFFER, s.m.buffer };

		bwr(&s.m, &f, sizeof(f), 0, false);
	}
	scene_finish(&s);
}

/* A promised write whose reply is larger than the room: the reply takes an
 * ordinary buffer, and the room is given back with the write. */
static void reply_larger_than_the_room(void **state)
{
	struct scene s;

	(void)state;
	promised_call(&s, BIG_REGION);
	answer(&s, ROOM + 1, true);
	assert_completed(&s.m);
	reply_arrived(&s, ROOM + 1, false);
	assert_int_equal(s.drv->stats.promises_kept, 0);
	assert_int_equal(s.drv->stats.promises_cancelled, 1);
	assert_null(s.m.thread->promised_room);
	scene_finish(&s);
}

/* Any other write of the replier's first ends the promise. */
static void other_write_cancels(void **state)
{
	struct scene s;

	(void)state;
	promised_call(&s, BIG_REGION);
	answer(&s, 8, false);
	assert_completed(&s.m);
	reply_arrived(&s, 8, false);
	assert_int_equal(s.drv->stats.promises_cancelled, 1);
	scene_finish(&s);
}

/* The caller's process goes while the promise is open (its death reached
 * the driver before the claim did): the room goes with its region, and the
 * promised reply to the dead caller completes, as the kernel's does. */
static void caller_dies_before_the_claim(void **state)
{
	struct scene s;

	(void)state;
	promised_call(&s, BIG_REGION);
	driver_proc_release(s.c.proc);
	driver_flush(s.drv);
	s.c.proc = NULL;
	assert_null(s.m.thread->promised_room);
	answer(&s, 8, true);
	assert_completed(&s.m);
	assert_int_equal(s.drv->stats.promises_kept, 0);
	assert_int_equal(buffers_held(s.drv), 0);
	scene_finish(&s);
}

/* The replier's process goes with the promise open: the room is given back
 * and the caller gets BR_DEAD_REPLY; its whole region is free again. */
static void replier_dies_with_the_promise(void **state)
{
	struct scene s;

	(void)state;
	promised_call(&s, 2 * ROOM);
	driver_proc_release(s.m.proc);
	driver_flush(s.drv);
	s.m.proc = NULL;
	assert_int_equal(s.c.items[s.c.nitems - 1], BR_DEAD_REPLY);
	assert_int_equal(s.drv->stats.promises_cancelled, 1);
	assert_int_equal(buffers_held(s.drv), 0);
	scene_finish(&s);
}

/* The replier's thread goes (its connection closed) with the promise open. */
static void replier_thread_detached(void **state)
{
	struct scene s;

	(void)state;
	promised_call(&s, BIG_REGION);
	driver_thread_detach(s.m.thread);
	driver_flush(s.drv);
	assert_int_equal(s.c.items[s.c.nitems - 1], BR_DEAD_REPLY);
	assert_int_equal(s.drv->stats.promises_cancelled, 1);
	/* Only the call, held by the replier's process until it goes. */
	assert_int_equal(buffers_held(s.drv), 1);
	scene_finish(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kept_promise_delivers_the_reply),
		cmocka_unit_test(kept_room_is_trimmed_to_the_reply),
		cmocka_unit_test(room_follows_the_last_reply),
		cmocka_unit_test(outbox_holds_only_its_own_range),
		cmocka_unit_test(full_caller_region_refuses),
		cmocka_unit_test(own_work_pending_refuses),
		cmocka_unit_test(spawn_possible_refuses),
		cmocka_unit_test(nothing_to_answer_refuses),
		cmocka_unit_test(reply_larger_than_the_room),
		cmocka_unit_test(other_write_cancels),
		cmocka_unit_test(caller_dies_before_the_claim),
		cmocka_unit_test(replier_dies_with_the_promise),
		cmocka_unit_test(replier_thread_detached),
	};

	log_threshold = LOG_LEVEL_WARNING; /* a bad handle is logged as a notice */
	setup_payload();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
