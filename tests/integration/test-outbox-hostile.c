/* SPDX-License-Identifier: MIT */
/*
 * A hostile client of the outbox (UBW_OUTBOX with page states): everything
 * in the shared memory is its own to write, and nothing it writes there may
 * cost the daemon memory, stop it, or reach another process. Sending from
 * pages it never wrote gives zeros without the daemon faulting them into
 * its memfd (measured with mincore on the daemon's mapping); garbage states
 * and hole punches racing the daemon's scans and copies hurt only it; a
 * request with flags this daemon does not know is refused. After each
 * scenario a bystander is served and the daemon holds nothing.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/outbox_pages.h"
#include "echo.h"
#include "harness.h"
#include "test-util.h"
#include "wire/packet.h"

#define PAGE  4096u
#define PAGES 64u /* of the outbox: one state page, 63 for parcels */

/*
 * One call to handle 0 with @size bytes at @data; the BR_ code ending it.
 * The echo manager answers with the call's first 4 KiB: copied into @echo
 * (PAGE bytes) when not NULL.
 */
static uint32_t call_from(struct rc *c, const void *data, size_t size, uint8_t *echo)
{
	struct binder_transaction_data tr;
	struct cmdbuf w = { .len = 0 };
	uint32_t cmd = 0;

	cb_txn(&w, BC_TRANSACTION, 0, 1, 0, data, size, NULL, 0);
	assert_int_equal(rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	assert_int_equal(rc_wait_for(c, &cmd, &tr), 0);
	if (cmd == BR_REPLY) {
		if (echo) {
			assert_int_equal(tr.data_size, PAGE);
			memcpy(echo, (const void *)(uintptr_t)tr.data.ptr.buffer, PAGE);
		}
		w.len = 0;
		cb_u32(&w, BC_FREE_BUFFER);
		cb_u64(&w, tr.data.ptr.buffer);
		assert_int_equal(rc_bwr(c, w.buf, w.len, NULL, 0, NULL, NULL), 0);
	}
	return cmd;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void outbox_holes_cost_the_daemon_nothing(void **state)
{
	struct echo_manager m;
	static uint8_t echo[PAGE];
	_Atomic uint8_t *st;
	uint8_t *box;
	struct rc c;
	struct ubd d;
	int fds;

	(void)state;
	assert_int_equal(ubd_start(&d, NULL), 0);
	fds = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, PAGES * PAGE, UBT_OUTBOX_PAGE_STATES, (void **)&box), 0);
	st = (_Atomic uint8_t *)box;
	/* Pages 1 and 3 written; 2 and 4..60 never: holes, whatever the states say. */
	for (size_t i = 1; i <= 60; i++)
		st[i] = OUTBOX_PAGE_USED;
	memset(box + PAGE, 0x11, PAGE);
	memset(box + 3 * PAGE, 0x33, PAGE);

	/* 60 pages, of which 58 holes, from the second half of page 1 on: the
	 * written half, then zeros from the hole. */
	assert_int_equal(call_from(&c, box + PAGE + PAGE / 2, 59 * PAGE, echo), BR_REPLY);
	assert_true(all_bytes(echo, PAGE / 2, 0x11));
	assert_true(all_bytes(echo + PAGE / 2, PAGE / 2, 0));
	/* A hole, a written page, holes (above the inline limit, as every call
	 * here: smaller ones the client reads and pushes itself). */
	assert_int_equal(call_from(&c, box + 2 * PAGE + PAGE / 2, 30 * PAGE, echo), BR_REPLY);
	assert_true(all_bytes(echo, PAGE / 2, 0));
	assert_true(all_bytes(echo + PAGE / 2, PAGE / 2, 0x33));
	/* The daemon's mapping holds the state page and the two written ones:
	 * faulting the holes in would have put 57 pages into the memfd at the
	 * daemon's cost, kept as long as the client likes. */
	assert_int_equal(ubd_proc_stat(&d, getpid(), "outbox resident pages"), 3);

	munmap(box, PAGES * PAGE);
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds);
	assert_int_equal(ubd_stop(&d), 0);
}

struct vandal {
	uint8_t *box;
	atomic_bool stop;
	unsigned long rounds;
};

/* Garbage in every state byte, pages written and punched out, until told. */
static void *vandalise(void *arg)
{
	struct vandal *v = arg;
	unsigned int seed = 1;

	while (!atomic_load(&v->stop)) {
		size_t page = 1 + (size_t)rand_r(&seed) % (PAGES - 1);

		for (size_t i = 0; i < PAGES; i++)
			atomic_store((_Atomic uint8_t *)&v->box[i], (uint8_t)rand_r(&seed));
		if (rand_r(&seed) & 1)
			memset(v->box + page * PAGE, 0x5a, PAGE);
		else
			(void)madvise(v->box + page * PAGE, PAGE, MADV_REMOVE);
		v->rounds++;
	}
	return NULL;
}

static void garbage_states_race_the_scans(void **state)
{
	static const char *const args[] = { "--lru-decay", "1", NULL };
	struct vandal v = { .stop = false };
	struct echo_manager m;
	pthread_t vandal;
	struct rc c;
	struct ubd d;
	int fds;

	(void)state;
	assert_int_equal(ubd_start(&d, args), 0);
	fds = ubd_settled_fds(&d);
	echo_start(&m, d.sock);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, PAGES * PAGE, UBT_OUTBOX_PAGE_STATES, (void **)&v.box),
			 0);
	assert_int_equal(pthread_create(&vandal, NULL, vandalise, &v), 0);
	/* Shrinks (every FREE page taken while the states change under the
	 * scan), calls from the outbox being punched, a bystander's calls. */
	for (int i = 0; i < 100; i++) {
		uint32_t cmd;

		free(ubd_admin(&d, UBW_ADMIN_SHRINK, -1, NULL));
		cmd = call_from(&c, v.box + PAGE, (PAGES - 1) * PAGE, NULL);
		assert_int_equal(cmd, BR_REPLY);
		if (i % 20 == 0)
			assert_int_equal(echo_call(d.sock, 64, 1, NULL), BR_REPLY);
	}
	atomic_store(&v.stop, true);
	assert_int_equal(pthread_join(vandal, NULL), 0);
	printf("# %lu rounds of garbage under 100 shrinks and calls\n", v.rounds);
	/* The counts are the client's lies, but bounded by its outbox. */
	assert_true(ubd_proc_stat(&d, getpid(), "outbox resident pages") <= (long)PAGES);

	munmap(v.box, PAGES * PAGE);
	rc_close(&c);
	echo_stop(&m, d.sock);
	echo_assert_clean(&d, fds);
	assert_int_equal(ubd_stop(&d), 0);
}

static void unknown_flags_are_refused(void **state)
{
	struct ubd d;
	struct rc c;
	void *box, *other;
	int fds;

	(void)state;
	assert_int_equal(ubd_start(&d, NULL), 0);
	fds = ubd_settled_fds(&d);
	assert_int_equal(rc_open(&c, d.sock, 1 << 20), 0);
	assert_int_equal(ubt_outbox(&c.t, 4 * PAGE, UBT_OUTBOX_PAGE_STATES | 2, &box), -EINVAL);
	assert_int_equal(ubt_outbox(&c.t, 4 * PAGE, 1ull << 63, &box), -EINVAL);
	/* Refused, it left no outbox behind: a right request still gets one. */
	assert_int_equal(ubt_outbox(&c.t, 4 * PAGE, UBT_OUTBOX_PAGE_STATES, &box), 0);
	assert_int_equal(ubt_outbox(&c.t, 4 * PAGE, UBT_OUTBOX_PAGE_STATES, &other), -EBUSY);
	munmap(box, 4 * PAGE);
	rc_close(&c);
	echo_assert_clean(&d, fds);
	assert_int_equal(ubd_stop(&d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(outbox_holes_cost_the_daemon_nothing),
		cmocka_unit_test(garbage_states_race_the_scans),
		cmocka_unit_test(unknown_flags_are_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
