/* SPDX-License-Identifier: MIT */
/*
 * The segment index: after mem_segments_index(), mem_segments_find() finds a
 * segment holding a range exactly when one of the original segments held
 * it, for any number of segments, overlapping or nested, at the top of the
 * address space too.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "common/mem_segment.h"
#include "test-util.h"

#define MAX_SEGS 300

/* Whether any of the original segments holds the range (the reference: a scan). */
static bool held_by_any(const struct mem_segment *segs, size_t n, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < n; i++) {
		const struct mem_segment *s = &segs[i];

		if (addr >= s->addr && addr - s->addr <= s->length &&
		    len <= s->length - (addr - s->addr))
			return true;
	}
	return false;
}

static uint64_t pick(uint64_t base, uint64_t span)
{
	return base + (uint64_t)rand() % span;
}

static void index_finds_what_a_scan_finds(void **state)
{
	static const uint64_t bases[] = { 0, 1u << 20, UINT64_MAX - 4096 };
	struct mem_segment orig[MAX_SEGS], idx[MAX_SEGS];

	(void)state;
	srand(1234);
	for (int round = 0; round < 600; round++) {
		uint64_t base = bases[round % 3];
		size_t n = 1 + (size_t)rand() % MAX_SEGS, kept;

		for (size_t i = 0; i < n; i++) {
			orig[i].addr = pick(base, 2048);
			orig[i].length = (uint64_t)rand() % (round % 2 ? 64 : 1024);
			if (base && orig[i].length > UINT64_MAX - orig[i].addr)
				orig[i].length = UINT64_MAX - orig[i].addr;
			orig[i].bytes = (const uint8_t *)(uintptr_t)(i + 1);
			idx[i] = orig[i];
		}
		kept = mem_segments_index(idx, n);
		assert_true(kept >= 1 && kept <= n);
		for (size_t i = 1; i < kept; i++)
			assert_true(idx[i - 1].addr < idx[i].addr);
		for (int q = 0; q < 200; q++) {
			uint64_t addr = pick(base, 2200), len = (uint64_t)rand() % 300;
			const struct mem_segment *s;

			if (len > UINT64_MAX - addr)
				len = UINT64_MAX - addr;
			s = mem_segments_find(idx, kept, addr, len);
			assert_int_equal(s != NULL, held_by_any(orig, n, addr, len));
			if (s) /* a segment that really holds it, with its own bytes */
				assert_true(held_by_any(s, 1, addr, len) &&
					    s->bytes == orig[(uintptr_t)s->bytes - 1].bytes &&
					    s->addr == orig[(uintptr_t)s->bytes - 1].addr);
		}
	}
}

/* Few segments are scanned as they are: no index needed. */
static void few_segments_need_no_index(void **state)
{
	const struct mem_segment segs[3] = { { 500, 10, NULL },
					     { 100, 50, NULL },
					     { 120, 5, NULL } };

	(void)state;
	assert_ptr_equal(mem_segments_find(segs, 3, 120, 5), &segs[1]);
	assert_ptr_equal(mem_segments_find(segs, 3, 505, 5), &segs[0]);
	assert_null(mem_segments_find(segs, 3, 505, 6));
	assert_null(mem_segments_find(segs, 0, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_finds_what_a_scan_finds),
		cmocka_unit_test(few_segments_need_no_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
