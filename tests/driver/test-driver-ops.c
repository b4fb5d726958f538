/* SPDX-License-Identifier: MIT */
/*
 * Seeded random operation streams against the driver core (op_harness.c):
 * the same checks as the fuzz target, deterministic, in every build.
 */
#include <stdlib.h>

#include "test-util.h"
#include "common/log.h"
#include "op_harness.h"
#include "wire/binder_ioctl.h"

static uint64_t next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void random_streams(void **state)
{
	uint8_t input[4096];

	(void)state;
	for (uint64_t seed = 1; seed <= 400; seed++) {
		uint64_t s = seed * 0x9e3779b97f4a7c15ull;
		size_t len = 64 + next(&s) % (sizeof(input) - 64);

		for (size_t i = 0; i < len; i++)
			input[i] = (uint8_t)next(&s);
		op_harness_run(input, len);
	}
}

/* Mostly transactions and reads, so that calls get answered and buffers freed. */
static void call_heavy_streams(void **state)
{
	static const uint8_t ops[] = { 0, 1, 1, 6, 7, 3, 6, 7, 8, 4 };
	uint8_t input[4096];

	(void)state;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		uint64_t s = seed * 0xbf58476d1ce4e5b9ull;
		size_t len = 0;

		while (len + 64 < sizeof(input)) {
			input[len++] = ops[next(&s) % sizeof(ops)];
			for (int i = 0; i < 12; i++)
				input[len++] = (uint8_t)next(&s);
		}
		op_harness_run(input, len);
	}
}

/* A stream builder: one operation of op_harness.c's encoding at a time. */
struct stream {
	uint8_t bytes[4096];
	size_t len;
};

static void put(struct stream *st, size_t n, const uint8_t *b)
{
	for (size_t i = 0; i < n && st->len < sizeof(st->bytes); i++)
		st->bytes[st->len++] = b[i];
}

#define PUT(st, ...) put(st, sizeof((uint8_t[]){ __VA_ARGS__ }), (uint8_t[]){ __VA_ARGS__ })

/*
 * Calls to a context manager that reads them and answers under a promise
 * (op_promise): process 0 is the manager, 1 and 2 call it, with some of
 * everything else in between (loopers, thread limits, frees, deaths), so
 * that promises are made, kept, refused and cancelled, and each kept one is
 * checked to end exactly as promised.
 */
static void promise_streams(void **state)
{
	uint8_t set_mgr = 0, max_threads = 0;
	uint32_t looper = BC_ENTER_LOOPER;

	(void)state;
	while (binder_ioctl_pick(set_mgr) != BINDER_SET_CONTEXT_MGR)
		set_mgr++;
	while (binder_ioctl_pick(max_threads) != BINDER_SET_MAX_THREADS)
		max_threads++;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		uint64_t s = seed * 0x94d049bb133111ebull;
		struct stream st = { .len = 0 };

		PUT(&st, 4, 0, set_mgr, 0); /* ioctl, proc 0 thread 0 */
		while (st.len + 64 < sizeof(st.bytes)) {
			uint8_t r = (uint8_t)next(&s), manager_thread = (r & 1) ? 3 : 0;

			switch (next(&s) % 9) {
			case 0:
			case 1: /* a call from process 1 or 2, 0-31 bytes, to handle 0 */
				PUT(&st, 0, 1 + (r & 1), (uint8_t)(r & 0xc0), 8 + (r >> 3) % 24);
				for (int i = 0; i < 8 + (r >> 3) % 24; i++)
					PUT(&st, (uint8_t)next(&s));
				PUT(&st, 0, 0, 1, 0,
				    1); /* no offsets, handle 0, code 1, read 256 */
				break;
			case 2:
			case 3: /* the manager reads */
				PUT(&st, 9, manager_thread, 1);
				break;
			case 4:
			case 5: /* ... and answers under a promise */
				PUT(&st, 5, manager_thread, 6, (uint8_t)next(&s), (uint8_t)next(&s),
				    (uint8_t)next(&s));
				break;
			case 6: /* the manager's threads enter the looper, or get a limit */
				if (r & 2) {
					PUT(&st, 2, manager_thread, 4);
					put(&st, 4, (const uint8_t *)&looper);
					PUT(&st, 0);
				} else {
					PUT(&st, 4, manager_thread, max_threads, 4, r & 3, 0, 0, 0);
				}
				break;
			case 7: /* the callers read their replies and free them */
				PUT(&st, 9, 1 + (r & 1), 1, 3, 1 + (r & 1), (uint8_t)next(&s));
				break;
			default: /* anything */
				for (int i = 0; i < 6; i++)
					PUT(&st, (uint8_t)next(&s));
				break;
			}
		}
		op_harness_run(st.bytes, st.len);
	}
}

int main(void)
{
	log_threshold = LOG_LEVEL_ERROR; /* the streams are full of bad commands */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_streams),
		cmocka_unit_test(call_heavy_streams),
		cmocka_unit_test(promise_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
