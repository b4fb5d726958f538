/* SPDX-License-Identifier: MIT */
/*
 * The range allocator's rules one by one: buffer sizes and errors, placement,
 * coalescing, completeness, the buffer lifecycle, oneway space and spam
 * detection, exact page states, installs that fail part-way, the shared LRU,
 * the iterators and stats, with 4K, 16K and 64K pages; huge pages (64 KiB
 * and 2 MiB) and the LRU's weights between regions of both.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test-alloc-util.h"

struct fixture {
	struct page_lru lru;
	struct fake_backend backend;
	struct range_alloc a;
};

static struct fixture *fixture_new(size_t size, struct page_geometry geo)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct range_alloc_backend be;

	assert_non_null(f);
	page_lru_init(&f->lru);
	be = fake_backend_of(&f->backend);
	assert_int_equal(range_alloc_init(&f->a, size, geo, &f->lru, &be), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	assert_alloc_consistent(&f->a);
	range_alloc_deinit(&f->a);
	assert_int_equal(f->lru.pages, 0);
	page_lru_deinit(&f->lru);
	free(f);
}

static void buffer_size_formula(void **state)
{
	size_t s;

	(void)state;
	assert_int_equal(range_alloc_buffer_size(0, 0, 0, &s), 0);
	assert_int_equal(s, 8); /* empty buffers still get a unique address */
	assert_int_equal(range_alloc_buffer_size(1, 0, 0, &s), 0);
	assert_int_equal(s, 8);
	assert_int_equal(range_alloc_buffer_size(9, 0, 0, &s), 0);
	assert_int_equal(s, 16);
	assert_int_equal(range_alloc_buffer_size(1, 1, 1, &s), 0);
	assert_int_equal(s, 24);
	assert_int_equal(range_alloc_buffer_size(100, 16, 40, &s), 0);
	assert_int_equal(s, 104 + 16 + 40);
	/* Overflow, in each term and in each sum, is EINVAL. */
	assert_int_equal(range_alloc_buffer_size(SIZE_MAX, 0, 0, &s), -EINVAL);
	assert_int_equal(range_alloc_buffer_size(0, SIZE_MAX - 6, 0, &s), -EINVAL);
	assert_int_equal(range_alloc_buffer_size(0, 0, SIZE_MAX - 3, &s), -EINVAL);
	assert_int_equal(range_alloc_buffer_size(SIZE_MAX - 7, 8, 0, &s), -EINVAL);
	assert_int_equal(range_alloc_buffer_size(SIZE_MAX / 2, SIZE_MAX / 2, 16, &s), -EINVAL);
	assert_int_equal(range_alloc_buffer_size(SIZE_MAX - 7, 0, 0, &s), 0);
	assert_int_equal(s, SIZE_MAX - 7);
}

static void init_refuses_bad_arguments(void **state)
{
	struct page_lru lru;
	struct fake_backend fb = { 0 };
	struct range_alloc_backend be = fake_backend_of(&fb), none = { 0 };
	struct range_alloc a;

	(void)state;
	page_lru_init(&lru);
	assert_int_equal(range_alloc_init(&a, 0, GEO_4K, &lru, &be), -EINVAL);
	assert_int_equal(range_alloc_init(&a, 4096 + 8, GEO_4K, &lru, &be), -EINVAL);
	assert_int_equal(range_alloc_init(&a, 4096, GEO_16K, &lru, &be), -EINVAL);
	assert_int_equal(range_alloc_init(&a, 4096, (struct page_geometry){ 11 }, &lru, &be),
			 -EINVAL);
	assert_int_equal(range_alloc_init(&a, 4096, GEO_4K, NULL, &be), -EINVAL);
	assert_int_equal(range_alloc_init(&a, 4096, GEO_4K, &lru, &none), -EINVAL);
	assert_int_equal(range_alloc_init(&a, RANGE_ALLOC_SIZE_MAX + 4096, GEO_4K, &lru, &be),
			 -EINVAL);
	range_alloc_deinit(&a); /* harmless after a failed init */
	range_alloc_deinit(&a); /* and twice */
	page_lru_deinit(&lru);
}

static void region_sizes_from_one_page_to_one_gib(void **state)
{
	struct page_geometry geos[] = { GEO_4K, GEO_16K, GEO_64K };

	(void)state;
	for (size_t g = 0; g < 3; g++) {
		size_t page = geo_page_size(geos[g]);
		size_t sizes[] = { page, 2 * page, (size_t)4 << 20, (size_t)64 << 20,
				   (size_t)1 << 30 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct fixture *f = fixture_new(sizes[i], geos[g]);
			struct range_reservation res;
			struct range_alloc_stats st;

			/* The whole region in one buffer, and not one byte more. */
			assert_int_equal(
				range_alloc_reserve(&f->a, sizes[i] + 1, 0, 0, false, 1, &res),
				-ENOSPC);
			assert_int_equal(range_alloc_reserve(&f->a, sizes[i], 0, 0, false, 1, &res),
					 0);
			assert_int_equal(res.offset, 0);
			assert_int_equal(res.install.first, 0);
			assert_int_equal(res.install.count, sizes[i] / page);
			assert_int_equal(range_alloc_reserve(&f->a, 0, 0, 0, false, 1, &res),
					 -ENOSPC);
			range_alloc_get_stats(&f->a, &st);
			assert_int_equal(st.pages_active, sizes[i] / page);
			assert_int_equal(st.pages_high, sizes[i] / page);
			assert_int_equal(st.pages_free, 0);
			fixture_free(f);
		}
	}
}

static void placement_is_contiguous_and_frees_coalesce(void **state)
{
	struct fixture *f = fixture_new(64 * 4096, GEO_4K);
	struct range_buffer *b[8];
	struct range_alloc_stats st;
	size_t expect = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		b[i] = reserve_installed(&f->a, 100 + 1000 * (size_t)i, false);
		assert_non_null(b[i]);
		/* The first at 0, each following right after the previous one. */
		assert_int_equal(b[i]->offset, expect);
		expect += b[i]->size;
	}
	assert_alloc_consistent(&f->a);
	/* Free every other one, then the rest: each free merges with neighbours. */
	for (int i = 0; i < 8; i += 2)
		range_alloc_release(&f->a, b[i]);
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.free_extents, 5);
	assert_alloc_consistent(&f->a);
	for (int i = 1; i < 8; i += 2)
		range_alloc_release(&f->a, b[i]);
	range_alloc_get_stats(&f->a, &st);
	/* Freeing everything leaves one free extent, the whole region. */
	assert_int_equal(st.free_extents, 1);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(range_alloc_largest_free(&f->a), 64 * 4096);
	fixture_free(f);
}

static void best_fit_prefers_the_smallest_hole(void **state)
{
	struct fixture *f = fixture_new(64 * 4096, GEO_4K);
	struct range_buffer *b[7], *hit;
	size_t sizes[7] = { 4000, 8, 1000, 8, 2000, 8, 1200 };

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_non_null(b[i] = reserve_installed(&f->a, sizes[i], false));
	range_alloc_release(&f->a, b[0]); /* hole of 4000 */
	range_alloc_release(&f->a, b[2]); /* hole of 1000 */
	range_alloc_release(&f->a, b[4]); /* hole of 2000 */
	hit = reserve_installed(&f->a, 1000, false);
	assert_non_null(hit);
	assert_int_equal(hit->offset, b[2 - 1]->offset + 8); /* exact fit */
	hit = reserve_installed(&f->a, 1900, false);
	assert_non_null(hit);
	assert_int_equal(hit->offset, 4000 + 8 + 1000 + 8); /* the 2000 hole, not 4000 */
	fixture_free(f);
}

/*
 * Completeness through the fallback: a bin full of blocks slightly too small,
 * more of them than the fast path looks at, with the one block that fits at
 * the tail, and nothing free above that bin.
 */
static void completeness_via_fallback_scan(void **state)
{
	const size_t n = FREE_INDEX_SCAN_LIMIT * 3;
	/* Bin of 4096 bytes = 512 granules: sizes 4096..4223 share it. */
	const size_t small = 4096, big = 4096 + 64;
	struct fixture *f = fixture_new(256 * 4096, GEO_4K);
	struct range_buffer *holes[3 * FREE_INDEX_SCAN_LIMIT + 1], *sep, *last, *hit;
	unsigned int fl1, sl1, fl2, sl2;

	(void)state;
	free_index_bin_of(small, &fl1, &sl1);
	free_index_bin_of(big, &fl2, &sl2);
	assert_true(fl1 == fl2 && sl1 == sl2);
	/* The fitting hole first (so it ends up last in its LIFO bin), then the small ones. */
	holes[0] = reserve_installed(&f->a, big, false);
	assert_non_null(sep = reserve_installed(&f->a, 8, false));
	for (size_t i = 1; i <= n; i++) {
		assert_non_null(holes[i] = reserve_installed(&f->a, small, false));
		assert_non_null(sep = reserve_installed(&f->a, 8, false));
	}
	/* Fill the rest so that nothing larger is free. */
	last = reserve_installed(&f->a, range_alloc_largest_free(&f->a), false);
	assert_non_null(last);
	assert_int_equal(range_alloc_largest_free(&f->a), 0);
	for (size_t i = 0; i <= n; i++)
		range_alloc_release(&f->a, holes[i]);
	assert_int_equal(range_alloc_largest_free(&f->a), big);
	hit = reserve_installed(&f->a, big, false);
	assert_non_null(hit);
	assert_int_equal(hit->offset, 0);
	/* And now nothing of that size is left: ENOSPC, correctly. */
	assert_null(reserve_installed(&f->a, small + 8, false));
	assert_non_null(reserve_installed(&f->a, small, false));
	fixture_free(f);
}

static void lifecycle_and_user_free_errors(void **state)
{
	struct fixture *f = fixture_new(16 * 4096, GEO_4K);
	struct range_reservation res;
	struct range_buffer *b, *got;
	int owner_data;

	(void)state;
	assert_int_equal(range_alloc_reserve(&f->a, 200, 16, 8, false, 42, &res), 0);
	b = res.buffer;
	b->owner = &owner_data;
	assert_int_equal(b->state, RANGE_BUFFER_RESERVED);
	assert_int_equal(b->data_size, 200);
	assert_int_equal(b->offsets_size, 16);
	assert_int_equal(b->extra_size, 8);
	assert_int_equal(b->pid, 42);
	assert_int_equal(b->size, 224);
	/* Not delivered yet: the receiver may not free it. */
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 0, &got), -EPERM);
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 8, &got), -ENOENT);
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 4096, &got), -ENOENT);
	assert_int_equal(range_alloc_deliver(&f->a, b), 0);
	assert_int_equal(range_alloc_deliver(&f->a, b), -EPERM);
	assert_ptr_equal(range_alloc_find(&f->a, 0), b);
	assert_null(range_alloc_find(&f->a, 8));
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 0, &got), 0);
	assert_ptr_equal(got, b);
	assert_ptr_equal(got->owner, &owner_data); /* handed back before recycling */
	assert_int_equal(got->state, RANGE_BUFFER_FREEING);
	/* A second free while the first is in progress is refused. */
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 0, &got), -EPERM);
	range_alloc_release(&f->a, b);
	assert_int_equal(range_alloc_prepare_user_free(&f->a, 0, &got), -ENOENT);
	assert_null(range_alloc_find(&f->a, 0));
	/* The abort path: release straight from reserved. */
	assert_int_equal(range_alloc_reserve(&f->a, 10, 0, 0, false, 1, &res), 0);
	range_alloc_release(&f->a, res.buffer);
	fixture_free(f);
}

static void async_space_is_half_the_region(void **state)
{
	struct fixture *f = fixture_new(16 * 4096, GEO_4K);
	struct range_reservation res;
	struct range_alloc_stats st;
	struct range_buffer *a1, *a2;

	(void)state;
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.free_async_space, 8 * 4096);
	assert_int_equal(range_alloc_reserve(&f->a, 8 * 4096 + 1, 0, 0, true, 1, &res), -ENOSPC);
	assert_int_equal(range_alloc_reserve(&f->a, 5 * 4096, 0, 0, true, 1, &res), 0);
	a1 = res.buffer;
	assert_int_equal(range_alloc_reserve(&f->a, 3 * 4096 + 8, 0, 0, true, 2, &res), -ENOSPC);
	assert_int_equal(range_alloc_reserve(&f->a, 3 * 4096, 0, 0, true, 2, &res), 0);
	a2 = res.buffer;
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.free_async_space, 0);
	assert_int_equal(range_alloc_reserve(&f->a, 0, 0, 0, true, 1, &res), -ENOSPC);
	/* Sync buffers still fit in the other half. */
	assert_int_equal(range_alloc_reserve(&f->a, 8 * 4096, 0, 0, false, 1, &res), 0);
	range_alloc_release(&f->a, res.buffer);
	/* Refunded on free, by each buffer's own size. */
	range_alloc_release(&f->a, a2);
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.free_async_space, 3 * 4096);
	range_alloc_release(&f->a, a1);
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.free_async_space, 8 * 4096);
	fixture_free(f);
}

static void spam_detected_by_count_once_then_rearmed(void **state)
{
	/* 1 MiB: a tenth is 104857 bytes; async space 524288. */
	struct fixture *f = fixture_new(1 << 20, GEO_4K);
	struct range_reservation res;
	struct range_buffer *big, *spam[60];
	size_t flagged = 0;

	(void)state;
	/* pid 7 takes async space down to just above a tenth: no checks yet. */
	assert_int_equal(range_alloc_reserve(&f->a, 524288 - 104857 - 8, 0, 0, true, 7, &res), 0);
	big = res.buffer;
	assert_false(res.spam_suspect);
	/* pid 9 sends small oneways: below a tenth, flagged once it holds more than 50. */
	for (int i = 0; i < 60; i++) {
		assert_int_equal(range_alloc_reserve(&f->a, 64, 0, 0, true, 9, &res), 0);
		spam[i] = res.buffer;
		if (res.spam_suspect) {
			assert_int_equal(i, 50); /* the 51st buffer */
			flagged++;
		}
	}
	assert_int_equal(flagged, 1); /* only the first detection is reported */
	/* An innocent pid below a tenth is never flagged. */
	assert_int_equal(range_alloc_reserve(&f->a, 64, 0, 0, true, 11, &res), 0);
	assert_false(res.spam_suspect);
	range_alloc_release(&f->a, res.buffer);
	/* Free space back above a tenth: the next async reserve re-arms. */
	range_alloc_release(&f->a, big);
	assert_int_equal(range_alloc_reserve(&f->a, 64, 0, 0, true, 9, &res), 0);
	assert_false(res.spam_suspect);
	range_alloc_release(&f->a, res.buffer);
	/* pid 9 still holds 60 buffers; now pid 7 takes space below a tenth
	 * again, holding more than a quarter itself: detected again, pid 7. */
	assert_int_equal(range_alloc_reserve(&f->a, 524288 - 104857 - 8, 0, 0, true, 7, &res), 0);
	assert_true(res.spam_suspect);
	assert_true(res.buffer->spam_suspect);
	big = res.buffer;
	assert_int_equal(range_alloc_reserve(&f->a, 64, 0, 0, true, 9, &res), 0);
	assert_false(res.spam_suspect); /* reported once already */
	range_alloc_release(&f->a, res.buffer);
	range_alloc_release(&f->a, big);
	for (int i = 0; i < 60; i++)
		range_alloc_release(&f->a, spam[i]);
	fixture_free(f);
}

static void spam_detected_by_size(void **state)
{
	struct fixture *f = fixture_new(1 << 20, GEO_4K);
	struct range_reservation res;
	struct range_buffer *other, *mine;

	(void)state;
	/* pid 3 holds 300000 bytes (> 262144, a quarter) but space is above a tenth. */
	assert_int_equal(range_alloc_reserve(&f->a, 300000, 0, 0, true, 3, &res), 0);
	assert_false(res.spam_suspect);
	mine = res.buffer;
	/* pid 4 takes space below a tenth: pid 4 holds little, not flagged. */
	assert_int_equal(range_alloc_reserve(&f->a, 130000, 0, 0, true, 4, &res), 0);
	assert_false(res.spam_suspect);
	other = res.buffer;
	/* pid 3 sends again: flagged by size. */
	assert_int_equal(range_alloc_reserve(&f->a, 8, 0, 0, true, 3, &res), 0);
	assert_true(res.spam_suspect);
	range_alloc_release(&f->a, res.buffer);
	range_alloc_release(&f->a, other);
	range_alloc_release(&f->a, mine);
	fixture_free(f);
}

static void pages_exact_with_shared_boundaries(void **state)
{
	struct fixture *f = fixture_new(8 * 4096, GEO_4K);
	struct range_reservation r1, r2, r3;
	char map[9];

	(void)state;
	/* [0, 6000): pages 0-1 */
	assert_int_equal(range_alloc_reserve(&f->a, 6000, 0, 0, false, 1, &r1), 0);
	assert_int_equal(r1.install.first, 0);
	assert_int_equal(r1.install.count, 2);
	range_alloc_installed(&f->a, r1.install, 2);
	/* [6000, 9000): pages 1-2, page 1 shared and installed already */
	assert_int_equal(range_alloc_reserve(&f->a, 3000, 0, 0, false, 1, &r2), 0);
	assert_int_equal(r2.offset, 6000);
	assert_int_equal(r2.install.first, 2);
	assert_int_equal(r2.install.count, 1);
	range_alloc_installed(&f->a, r2.install, 1);
	/* [9000, 9008): page 2 only, nothing to install */
	assert_int_equal(range_alloc_reserve(&f->a, 0, 0, 0, false, 1, &r3), 0);
	assert_int_equal(r3.install.count, 0);
	page_map(&f->a, map);
	assert_string_equal(map, "AAA.....");
	/* Freeing the middle one keeps pages 1 and 2: neighbours touch them. */
	range_alloc_release(&f->a, r2.buffer);
	page_map(&f->a, map);
	assert_string_equal(map, "AAA.....");
	range_alloc_release(&f->a, r1.buffer);
	page_map(&f->a, map);
	assert_string_equal(map, "LLA.....");
	range_alloc_release(&f->a, r3.buffer);
	page_map(&f->a, map);
	assert_string_equal(map, "LLL.....");
	assert_int_equal(f->lru.pages, 3);
	/* Taking the pages back from the LRU needs no install. */
	assert_int_equal(range_alloc_reserve(&f->a, 3 * 4096, 0, 0, false, 1, &r1), 0);
	assert_int_equal(r1.install.count, 0);
	assert_int_equal(f->lru.pages, 0);
	page_map(&f->a, map);
	assert_string_equal(map, "AAA.....");
	range_alloc_release(&f->a, r1.buffer);
	fixture_free(f);
}

static void install_range_skips_lru_pages_and_spans_holes(void **state)
{
	struct fixture *f = fixture_new(8 * 4096, GEO_4K);
	struct range_reservation r;
	struct range_buffer *b[4];
	char map[9];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_non_null(b[i] = reserve_installed(&f->a, 4096, false));
	range_alloc_release(&f->a, b[1]);
	range_alloc_release(&f->a, b[3]);
	/* Reclaim only page 1 (the oldest): pages 0 A, 1 ., 2 A, 3 L. */
	assert_int_equal(page_lru_shrink(&f->lru, 1), 1);
	range_alloc_release(&f->a, b[0]);
	range_alloc_release(&f->a, b[2]);
	page_map(&f->a, map);
	assert_string_equal(map, "L.LL....");
	/* A buffer over pages 0-4: install pages 1..4 (3 is installed, harmless). */
	assert_int_equal(range_alloc_reserve(&f->a, 4 * 4096 + 100, 0, 0, false, 1, &r), 0);
	assert_int_equal(r.install.first, 1);
	assert_int_equal(r.install.count, 4);
	range_alloc_installed(&f->a, r.install, 4);
	page_map(&f->a, map);
	assert_string_equal(map, "AAAAA...");
	range_alloc_release(&f->a, r.buffer);
	fixture_free(f);
}

static void partial_install_then_abort_leaves_installed_pages_lru(void **state)
{
	struct fixture *f = fixture_new(16 * 4096, GEO_4K);
	struct range_reservation r;
	struct range_alloc_stats st;
	char map[17];

	(void)state;
	assert_int_equal(range_alloc_reserve(&f->a, 6 * 4096, 0, 0, false, 1, &r), 0);
	assert_int_equal(r.install.count, 6);
	/* Installing failed after 2 pages: the daemon aborts the transaction. */
	range_alloc_installed(&f->a, r.install, 2);
	page_map(&f->a, map);
	assert_string_equal(map, "AAAAAA..........");
	range_alloc_release(&f->a, r.buffer);
	page_map(&f->a, map);
	assert_string_equal(map, "LL..............");
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.pages_lru, 2);
	assert_int_equal(st.pages_free, 14);
	/* The next buffer there gets only the missing pages to install. */
	assert_int_equal(range_alloc_reserve(&f->a, 3 * 4096, 0, 0, false, 1, &r), 0);
	assert_int_equal(r.install.first, 2);
	assert_int_equal(r.install.count, 1);
	/* An install reported after the buffer is gone puts the page on the LRU. */
	range_alloc_release(&f->a, r.buffer);
	range_alloc_installed(&f->a, r.install, 1);
	page_map(&f->a, map);
	assert_string_equal(map, "LLL.............");
	assert_int_equal(f->lru.pages, 3);
	fixture_free(f);
}

static void high_watermark(void **state)
{
	struct fixture *f = fixture_new(16 * 4096, GEO_4K);
	struct range_buffer *a, *b;
	struct range_alloc_stats st;

	(void)state;
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.pages_high, 0);
	assert_non_null(a = reserve_installed(&f->a, 3 * 4096 + 1, false));
	assert_non_null(b = reserve_installed(&f->a, 100, false));
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.pages_high, 4);
	range_alloc_release(&f->a, a);
	range_alloc_release(&f->a, b);
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.pages_high, 4); /* a watermark does not go down */
	fixture_free(f);
}

/* An idle region (no reservation yet) holds no LRU nodes; the first reservation makes them. */
static void lru_nodes_wait_for_the_first_reservation(void **state)
{
	struct fixture *f = fixture_new(256 * 4096, GEO_4K);
	struct range_buffer *a;

	(void)state;
	assert_null(f->a.lru_owner.nodes);
	assert_alloc_consistent(&f->a);
	assert_non_null(a = reserve_installed(&f->a, 5 * 4096, false));
	assert_non_null(f->a.lru_owner.nodes);
	range_alloc_release(&f->a, a);
	assert_int_equal(f->lru.pages, 5);
	fixture_free(f);
}

static void shared_lru_reclaims_oldest_first_in_batches(void **state)
{
	struct page_lru lru;
	struct fake_backend fb1 = { 0 }, fb2 = { 0 };
	struct range_alloc_backend be1 = fake_backend_of(&fb1), be2 = fake_backend_of(&fb2);
	struct range_alloc a1, a2;
	struct range_buffer *x, *y;
	char map[9];

	(void)state;
	page_lru_init(&lru);
	assert_int_equal(range_alloc_init(&a1, 8 * 4096, GEO_4K, &lru, &be1), 0);
	assert_int_equal(range_alloc_init(&a2, 8 * 4096, GEO_4K, &lru, &be2), 0);
	assert_non_null(x = reserve_installed(&a1, 3 * 4096, false));
	assert_non_null(y = reserve_installed(&a2, 2 * 4096, false));
	range_alloc_release(&a1, x); /* a1 pages 0-2 lru, oldest */
	range_alloc_release(&a2, y); /* a2 pages 0-1 lru */
	assert_int_equal(lru.pages, 5);
	/* Two pages: a1's 0-1, one call. */
	assert_int_equal(page_lru_shrink(&lru, 2), 2);
	assert_int_equal(fb1.calls, 1);
	assert_int_equal(fb1.last_first, 0);
	assert_int_equal(fb1.last_count, 2);
	page_map(&a1, map);
	assert_string_equal(map, "..L.....");
	/* A failing release keeps the pages lru and stops the shrink. */
	fb1.fail_after = 1;
	assert_int_equal(page_lru_shrink(&lru, SIZE_MAX), 0);
	page_map(&a1, map);
	assert_string_equal(map, "..L.....");
	assert_int_equal(lru.pages, 3);
	fb1.fail_after = 0;
	assert_int_equal(page_lru_shrink(&lru, SIZE_MAX), 3);
	assert_int_equal(fb1.calls, 2);
	assert_int_equal(fb2.calls, 1);
	assert_int_equal(fb2.last_count, 2);
	assert_int_equal(lru.pages, 0);
	assert_int_equal(lru.released, 5);
	page_map(&a2, map);
	assert_string_equal(map, "........");
	/* Process death: a dying allocator's lru pages leave the shared list. */
	assert_non_null(x = reserve_installed(&a1, 4 * 4096, false));
	assert_non_null(y = reserve_installed(&a2, 4 * 4096, false));
	range_alloc_release(&a1, x);
	range_alloc_release(&a2, y);
	assert_int_equal(lru.pages, 8);
	range_alloc_deinit(&a1);
	assert_int_equal(lru.pages, 4);
	assert_int_equal(page_lru_shrink(&lru, SIZE_MAX), 4);
	assert_int_equal(fb1.pages, 3); /* nothing released through a1 at deinit */
	range_alloc_deinit(&a2);
	page_lru_deinit(&lru);
}

static void deinit_with_live_buffers_leaks_nothing(void **state)
{
	struct fixture *f = fixture_new(1 << 20, GEO_4K);

	(void)state;
	for (int i = 0; i < 500; i++)
		assert_non_null(reserve_installed(&f->a, 100 + (size_t)i * 7, i % 3 == 0));
	for (struct range_buffer *b = range_alloc_first_buffer(&f->a); b;) {
		struct range_buffer *next = range_alloc_next_buffer(&f->a, b);

		if ((b->offset / 8) % 2)
			range_alloc_release(&f->a, b);
		b = next;
	}
	assert_true(f->lru.pages > 0);
	fixture_free(f); /* ASan's leak check does the rest */
}

static void inactive_ranges_and_punched_holes(void **state)
{
	struct fixture *f = fixture_new(8 * 4096, GEO_4K);
	struct range_buffer *b[4];
	struct page_range r;
	char map[9];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_non_null(b[i] = reserve_installed(&f->a, 4096, false));
	range_alloc_release(&f->a, b[1]);
	page_map(&f->a, map);
	assert_string_equal(map, "ALAA....");
	assert_true(range_alloc_next_inactive(&f->a, 0, &r));
	assert_int_equal(r.first, 1);
	assert_int_equal(r.count, 1);
	assert_true(range_alloc_next_inactive(&f->a, r.first + r.count, &r));
	assert_int_equal(r.first, 4);
	assert_int_equal(r.count, 4);
	assert_false(range_alloc_next_inactive(&f->a, 8, &r));
	/* Punching over an active page is refused; over inactive ones it frees lru pages. */
	assert_int_equal(range_alloc_pages_released(&f->a, (struct page_range){ 1, 2 }), -EBUSY);
	assert_int_equal(range_alloc_pages_released(&f->a, (struct page_range){ 7, 2 }), -EINVAL);
	assert_int_equal(range_alloc_pages_released(&f->a, (struct page_range){ 1, 1 }), 0);
	assert_int_equal(range_alloc_pages_released(&f->a, (struct page_range){ 4, 4 }), 0);
	page_map(&f->a, map);
	assert_string_equal(map, "A.AA....");
	assert_int_equal(f->lru.pages, 0);
	fixture_free(f);
}

static void stats_and_buffer_iterator(void **state)
{
	struct fixture *f = fixture_new(16 * 4096, GEO_4K);
	struct range_reservation r;
	struct range_alloc_stats st;
	struct range_buffer *b;
	size_t n = 0;

	(void)state;
	assert_int_equal(range_alloc_reserve(&f->a, 10, 16, 24, false, 5, &r), 0);
	range_alloc_installed(&f->a, r.install, r.install.count);
	assert_int_equal(range_alloc_reserve(&f->a, 5000, 0, 0, true, 6, &r), 0);
	range_alloc_installed(&f->a, r.install, r.install.count);
	assert_int_equal(range_alloc_deliver(&f->a, r.buffer), 0);
	range_alloc_get_stats(&f->a, &st);
	assert_int_equal(st.buffers, 2);
	assert_int_equal(st.pages_active, 2);
	assert_int_equal(st.pages_lru, 0);
	assert_int_equal(st.pages_free, 14);
	assert_int_equal(st.free_async_space, 8 * 4096 - 5000);
	for (b = range_alloc_first_buffer(&f->a); b; b = range_alloc_next_buffer(&f->a, b), n++) {
		if (n == 0) {
			assert_int_equal(b->offset, 0);
			assert_int_equal(b->state, RANGE_BUFFER_RESERVED);
			assert_false(b->async);
		} else {
			assert_int_equal(b->offset, 56);
			assert_int_equal(b->state, RANGE_BUFFER_DELIVERED);
			assert_true(b->async);
			assert_int_equal(b->pid, 6);
		}
	}
	assert_int_equal(n, 2);
	fixture_free(f);
}

static void geometries_share_pages_at_their_own_size(void **state)
{
	struct page_geometry geos[] = { GEO_4K, GEO_16K, GEO_64K };

	(void)state;
	for (size_t g = 0; g < 3; g++) {
		size_t page = geo_page_size(geos[g]);
		struct fixture *f = fixture_new(8 * page, geos[g]);
		struct range_reservation r1, r2;

		assert_int_equal(range_alloc_reserve(&f->a, page - 8, 0, 0, false, 1, &r1), 0);
		assert_int_equal(r1.install.count, 1);
		range_alloc_installed(&f->a, r1.install, 1);
		assert_int_equal(range_alloc_reserve(&f->a, 16, 0, 0, false, 1, &r2), 0);
		assert_int_equal(r2.offset, page - 8);
		assert_int_equal(r2.install.first, 1);
		assert_int_equal(r2.install.count, 1);
		range_alloc_installed(&f->a, r2.install, 1);
		range_alloc_release(&f->a, r1.buffer);
		assert_int_equal(range_alloc_page_state(&f->a, 0), RANGE_PAGE_ACTIVE);
		range_alloc_release(&f->a, r2.buffer);
		assert_int_equal(range_alloc_page_state(&f->a, 0), RANGE_PAGE_LRU);
		assert_int_equal(range_alloc_page_state(&f->a, 1), RANGE_PAGE_LRU);
		fixture_free(f);
	}
}

/*
 * A region of huge pages: a 1 MiB call takes one 2 MiB page (or sixteen of
 * 64 KiB), installed whole, and reclaim gives back whole pages only, each
 * weighing its base pages on an LRU it shares with a region of 4 KiB pages.
 */
static void huge_geometries_install_and_reclaim_whole_pages(void **state)
{
	struct {
		struct page_geometry geo;
		size_t pages_of_1m; /* pages a 1 MiB buffer at 0 touches */
	} cases[] = { { GEO_2M, 1 }, { GEO_64K, 16 } };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct page_geometry geo = cases[c].geo;
		unsigned int w = geo.shift - 12; /* base pages of 4 KiB per page */
		struct fixture *f = fixture_new(4 << 20, geo);
		struct fake_backend small_be = { 0 };
		struct range_alloc_backend be = fake_backend_of(&small_be);
		struct range_alloc small;
		struct range_reservation r;
		struct range_buffer *tiny;
		size_t n = cases[c].pages_of_1m;

		range_alloc_set_lru_weight(&f->a, w);
		assert_int_equal(range_alloc_init(&small, 1 << 20, GEO_4K, &f->lru, &be), 0);

		/* 1 MiB at 0: its pages, whole, are the install range. */
		assert_int_equal(range_alloc_reserve(&f->a, 1 << 20, 0, 0, false, 1, &r), 0);
		assert_int_equal(r.offset, 0);
		assert_int_equal(r.install.first, 0);
		assert_int_equal(r.install.count, n);
		range_alloc_installed(&f->a, r.install, n);
		/* A small buffer after it shares the last huge page when it is 2 MiB. */
		tiny = reserve_installed(&f->a, 64, false);
		assert_non_null(tiny);
		assert_int_equal(range_alloc_page_state(&f->a, geo_page_index(geo, 1 << 20)),
				 RANGE_PAGE_ACTIVE);
		range_alloc_release(&f->a, r.buffer);
		/* A page with a live byte in it stays active: never half reclaimed. */
		assert_int_equal(range_alloc_page_state(&f->a, geo_page_index(geo, 1 << 20)),
				 RANGE_PAGE_ACTIVE);
		assert_int_equal(f->lru.pages, (n - (n == 1 ? 1 : 0)) << w);
		range_alloc_release(&f->a, tiny);
		/* Every installed page lru now: 1 MiB and the small buffer's page. */
		{
			size_t installed = n + (n == 1 ? 0 : 1);

			assert_int_equal(f->lru.pages, installed << w);

			/* Four base pages of the small region, newer on the list. */
			tiny = reserve_installed(&small, 4 * 4096, false);
			assert_non_null(tiny);
			range_alloc_release(&small, tiny);
			assert_int_equal(f->lru.pages, (installed << w) + 4);

			/* One base page wanted: one whole huge page goes, the oldest. */
			assert_int_equal(page_lru_shrink(&f->lru, 1), (size_t)1 << w);
			assert_int_equal(f->backend.calls, 1);
			assert_int_equal(f->backend.last_first, 0);
			assert_int_equal(f->backend.last_count, 1);
			assert_int_equal(f->lru.pages, ((installed - 1) << w) + 4);
			/* Everything: the rest of the huge pages in one call, then the
			 * small region's four. */
			assert_int_equal(page_lru_shrink(&f->lru, SIZE_MAX),
					 ((installed - 1) << w) + 4);
			assert_int_equal(f->backend.pages, installed);
			assert_int_equal(small_be.pages, 4);
			assert_int_equal(f->lru.pages, 0);
			assert_int_equal(f->lru.released, (installed << w) + 4);
		}
		assert_alloc_consistent(&small);
		range_alloc_deinit(&small);
		fixture_free(f);
	}
}

static void offset_map_grows_and_deletes(void **state)
{
	struct u64_map m;
	static int values[5000];

	(void)state;
	u64_map_init(&m);
	assert_null(u64_map_find(&m, 8));
	assert_null(u64_map_remove(&m, 8));
	for (uint64_t i = 0; i < 5000; i++) {
		assert_int_equal(u64_map_reserve(&m, 1), 0);
		u64_map_insert(&m, i * 8, &values[i]);
	}
	assert_int_equal(m.count, 5000);
	for (uint64_t i = 0; i < 5000; i += 3)
		assert_ptr_equal(u64_map_remove(&m, i * 8), &values[i]);
	for (uint64_t i = 0; i < 5000; i++) {
		void *v = u64_map_find(&m, i * 8);

		if (i % 3 == 0)
			assert_null(v);
		else
			assert_ptr_equal(v, &values[i]);
	}
	u64_map_deinit(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buffer_size_formula),
		cmocka_unit_test(init_refuses_bad_arguments),
		cmocka_unit_test(region_sizes_from_one_page_to_one_gib),
		cmocka_unit_test(placement_is_contiguous_and_frees_coalesce),
		cmocka_unit_test(best_fit_prefers_the_smallest_hole),
		cmocka_unit_test(completeness_via_fallback_scan),
		cmocka_unit_test(lifecycle_and_user_free_errors),
		cmocka_unit_test(async_space_is_half_the_region),
		cmocka_unit_test(spam_detected_by_count_once_then_rearmed),
		cmocka_unit_test(spam_detected_by_size),
		cmocka_unit_test(pages_exact_with_shared_boundaries),
		cmocka_unit_test(install_range_skips_lru_pages_and_spans_holes),
		cmocka_unit_test(partial_install_then_abort_leaves_installed_pages_lru),
		cmocka_unit_test(high_watermark),
		cmocka_unit_test(lru_nodes_wait_for_the_first_reservation),
		cmocka_unit_test(shared_lru_reclaims_oldest_first_in_batches),
		cmocka_unit_test(deinit_with_live_buffers_leaks_nothing),
		cmocka_unit_test(inactive_ranges_and_punched_holes),
		cmocka_unit_test(stats_and_buffer_iterator),
		cmocka_unit_test(geometries_share_pages_at_their_own_size),
		cmocka_unit_test(huge_geometries_install_and_reclaim_whole_pages),
		cmocka_unit_test(offset_map_grows_and_deletes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
