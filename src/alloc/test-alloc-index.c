/* SPDX-License-Identifier: MIT */
/*
 * The allocator's internal structures on their own: the offset map against a
 * plain array, the branch-free bin formula against its definition, and the
 * record chunks (index -> record) across chunk boundaries.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test-alloc-util.h"
#include "alloc/offset_map.h"
#include "alloc/range_extent.h"

/* Keys from a small universe at both ends of the key range, values at both ends too. */
#define UNIVERSE 4096u

static uint64_t key_of(unsigned int k)
{
	return k < UNIVERSE / 2 ? k : OFFSET_MAP_KEY_MAX - (k - UNIVERSE / 2);
}

static void offset_map_matches_an_array(void **state)
{
	static uint32_t model[UNIVERSE]; /* 0: absent */
	struct offset_map m;
	uint64_t seed = 42;
	size_t live = 0;

	(void)state;
	offset_map_init(&m);
	assert_int_equal(offset_map_find(&m, 8), 0);
	assert_int_equal(offset_map_remove(&m, 8, 0), 0);
	/* Key 0 with hints at empty slots (which read as key 0, value 0). */
	assert_int_equal(offset_map_reserve(&m, 1), 0);
	for (size_t hint = 0; hint < 20; hint++)
		assert_int_equal(offset_map_remove(&m, 0, hint), 0);
	offset_map_insert(&m, 0, 5);
	for (size_t hint = 0; hint < 20; hint++)
		if (offset_map_find(&m, 0) == 5 && m.slots[hint] == 0)
			assert_int_equal(offset_map_remove(&m, 0, hint), 5);
	assert_int_equal(offset_map_find(&m, 0), 0);
	assert_int_equal(m.used, 0);
	for (int step = 0; step < 200000; step++) {
		uint64_t r = splitmix64(&seed);
		unsigned int k = (unsigned int)(r % UNIVERSE);
		uint64_t key = key_of(k);

		/* Grow to about half the universe, then churn, then drain. */
		if (step < 150000 && (r >> 32) % 100 < (step < 50000 ? 70u : 50u)) {
			uint32_t value = (r >> 40) % 2 ? OFFSET_MAP_VALUE_MAX - k : k + 1;

			if (model[k])
				continue;
			assert_int_equal(offset_map_reserve(&m, 1), 0);
			offset_map_insert(&m, key, value);
			model[k] = value;
			live++;
		} else {
			assert_int_equal(offset_map_remove(&m, key, (size_t)(r >> 20)), model[k]);
			live -= model[k] != 0;
			model[k] = 0;
		}
		assert_int_equal(m.used, live);
		assert_true(m.used + m.dead <= offset_map_capacity(&m) / 2);
		if (step % 997 == 0)
			for (unsigned int j = 0; j < UNIVERSE; j++)
				assert_int_equal(offset_map_find(&m, key_of(j)), model[j]);
	}
	for (unsigned int j = 0; j < UNIVERSE; j++)
		assert_int_equal(offset_map_find(&m, key_of(j)), model[j]);
	offset_map_deinit(&m);
}

/* The bin of a size as free_index.h defines it, with the branch. */
static unsigned int bin_by_definition(size_t size)
{
	uint64_t u = size / FREE_INDEX_GRANULE;
	unsigned int f;

	if (u < 2 * FREE_INDEX_SL_COUNT)
		return (unsigned int)u;
	f = 63u - (unsigned int)__builtin_clzll(u);
	return (f - FREE_INDEX_SL_LOG2 + 1) * FREE_INDEX_SL_COUNT +
	       (unsigned int)((u >> (f - FREE_INDEX_SL_LOG2)) - FREE_INDEX_SL_COUNT);
}

static void bin_formula_matches_its_definition(void **state)
{
	uint64_t seed = 7;

	(void)state;
	for (size_t size = 8; size <= (size_t)1 << 20; size += 8)
		assert_int_equal(free_index_bin(size), bin_by_definition(size));
	for (unsigned int bit = 3; bit < 40; bit++)
		for (int d = -16; d <= 16; d += 8) {
			size_t size = ((size_t)1 << bit) + (size_t)(ptrdiff_t)d;

			if (size >= 8)
				assert_int_equal(free_index_bin(size), bin_by_definition(size));
		}
	for (int i = 0; i < 100000; i++) {
		size_t size = (splitmix64(&seed) % RANGE_ALLOC_SIZE_MAX + 8) & ~(size_t)7;

		assert_int_equal(free_index_bin(size), bin_by_definition(size));
	}
}

/*
 * Enough tiny buffers for several record chunks: every index maps into its
 * chunk, consecutive indices of one chunk are consecutive records, and the
 * checker accounts for every record, also after freeing every other buffer
 * and allocating into the holes.
 */
static void record_chunks_hold_every_index(void **state)
{
	struct page_lru lru;
	struct fake_backend fb = { 0 };
	struct range_alloc_backend be = fake_backend_of(&fb);
	struct range_alloc a;
	static struct range_buffer *bufs[3000];
	struct range_reservation res;
	char why[256];

	(void)state;
	page_lru_init(&lru);
	assert_int_equal(range_alloc_init(&a, 16 * 4096, GEO_4K, &lru, &be), 0);
	for (size_t i = 0; i < 3000; i++) {
		assert_int_equal(range_alloc_reserve(&a, 8, 0, 0, false, 1, &res), 0);
		range_alloc_installed(&a, res.install, res.install.count);
		bufs[i] = res.buffer;
	}
	/* 3000 buffers, a free tail and the sentinel: chunks of 64, 128, ..., 2048. */
	assert_true(a.records >= 3002);
	for (uint32_t i = 0; i + 1 < a.records; i++) {
		uint32_t j = i + EXTENT_CHUNK0;
		uint32_t k = 31u - (uint32_t)__builtin_clz(j) - EXTENT_CHUNK0_LOG2;
		struct range_extent *e = extent_at(&a, i);

		assert_ptr_equal(e, a.chunks[k] + (j - ((uint32_t)1 << (k + EXTENT_CHUNK0_LOG2))));
		if (31u - (uint32_t)__builtin_clz(j + 1) == 31u - (uint32_t)__builtin_clz(j))
			assert_ptr_equal(extent_at(&a, i + 1), e + 1);
	}
	assert_int_equal(range_alloc_check(&a, why, sizeof(why)), 0);
	for (size_t i = 0; i < 3000; i += 2)
		range_alloc_release(&a, bufs[i]);
	assert_int_equal(range_alloc_check(&a, why, sizeof(why)), 0);
	for (size_t i = 0; i < 3000; i += 2) {
		assert_int_equal(range_alloc_reserve(&a, 8, 0, 0, false, 1, &res), 0);
		assert_ptr_equal(range_alloc_find(&a, res.offset), res.buffer);
	}
	assert_int_equal(range_alloc_check(&a, why, sizeof(why)), 0);
	range_alloc_deinit(&a);
	page_lru_deinit(&lru);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offset_map_matches_an_array),
		cmocka_unit_test(bin_formula_matches_its_definition),
		cmocka_unit_test(record_chunks_hold_every_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
