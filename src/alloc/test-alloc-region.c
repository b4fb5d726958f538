/* SPDX-License-Identifier: MIT */
/*
 * The allocator driving a real memfd region (region/region.h), as the daemon
 * will: install what a reservation asks for, give pages back through the LRU,
 * abort after a partial install, punch holes over inactive ranges. Residency
 * is measured (st_blocks, SEEK_DATA) and must match the allocator's page map.
 */
#include <stdlib.h>

#include "test-alloc-util.h"
#include "alloc/page_bits.h"
#include "region/page.h"
#include "region/region.h"

#define PAGES 64

struct setup {
	struct region region;
	struct page_lru lru;
	struct range_alloc a;
	size_t release_calls;
};

static int release_to_region(void *ctx, size_t first, size_t count)
{
	struct setup *s = ctx;

	s->release_calls++;
	return region_release(&s->region, first, count);
}

/* Reserves and installs like the daemon; returns the buffer or NULL (installed: pages done). */
static struct range_buffer *reserve_on_region(struct setup *s, size_t size, int *install_err)
{
	struct range_reservation res;
	size_t installed = 0;

	assert_int_equal(range_alloc_reserve(&s->a, size, 0, 0, false, 1, &res), 0);
	*install_err = 0;
	if (res.install.count)
		*install_err = region_install(&s->region, res.install.first, res.install.count,
					      &installed);
	range_alloc_installed(&s->a, res.install, installed);
	return res.buffer;
}

/*
 * Measured residency equals the allocator's installed pages: lru ones, and
 * active ones whose install succeeded. A free page is never resident.
 */
static void assert_residency_matches(struct setup *s)
{
	size_t resident = 0, installed = 0;

	assert_int_equal(region_resident_pages(&s->region, &resident), 0);
	for (size_t p = 0; p < PAGES; p++) {
		bool is_resident = false, want;

		assert_int_equal(region_page_is_resident(&s->region, p, &is_resident), 0);
		want = bits_test(s->a.installed, p);
		assert_true(want || range_alloc_page_state(&s->a, p) != RANGE_PAGE_LRU);
		if (is_resident != want)
			fail_msg("page %zu: resident %d, allocator says %d", p, is_resident,
				 range_alloc_page_state(&s->a, p));
		installed += want;
	}
	assert_int_equal(resident, installed);
	assert_alloc_consistent(&s->a);
}

static struct setup *setup_new(void)
{
	struct setup *s = calloc(1, sizeof(*s));
	struct range_alloc_backend be = { .release = release_to_region, .ctx = s };

	assert_non_null(s);
	assert_int_equal(region_init(&s->region, PAGES * PAGE_SIZE, "alloc-test"), 0);
	page_lru_init(&s->lru);
	assert_int_equal(range_alloc_init(&s->a, PAGES * PAGE_SIZE, page_geometry_of_machine(),
					  &s->lru, &be),
			 0);
	return s;
}

static void setup_free(struct setup *s)
{
	range_alloc_deinit(&s->a);
	assert_int_equal(s->lru.pages, 0);
	page_lru_deinit(&s->lru);
	region_deinit(&s->region);
	free(s);
}

static void residency_follows_install_and_reclaim(void **state)
{
	struct setup *s = setup_new();
	struct range_buffer *b[6];
	size_t resident;
	int err;

	(void)state;
	for (int i = 0; i < 6; i++) {
		b[i] = reserve_on_region(s, (size_t)(i + 1) * PAGE_SIZE / 2 + 24, &err);
		assert_int_equal(err, 0);
	}
	assert_residency_matches(s);
	/* Clearing a buffer (TF_CLEAR_BUF) writes only installed pages. */
	assert_int_equal(region_clear(&s->region, b[3]->offset, b[3]->size), 0);
	assert_residency_matches(s);
	range_alloc_release(&s->a, b[1]);
	range_alloc_release(&s->a, b[4]);
	assert_residency_matches(s); /* lru pages stay resident */
	assert_true(s->lru.pages > 0);
	assert_int_equal(page_lru_shrink(&s->lru, 1), 1);
	assert_residency_matches(s);
	assert_int_equal(page_lru_shrink(&s->lru, SIZE_MAX), s->lru.released - 1);
	assert_residency_matches(s);
	/* Reusing pages: reserve where lru pages were, freshly installed or not. */
	for (int i = 0; i < 6; i++)
		if (i != 1 && i != 4)
			range_alloc_release(&s->a, b[i]);
	assert_residency_matches(s);
	b[0] = reserve_on_region(s, 20 * PAGE_SIZE, &err);
	assert_int_equal(err, 0);
	assert_residency_matches(s);
	range_alloc_release(&s->a, b[0]);
	page_lru_shrink(&s->lru, SIZE_MAX);
	assert_int_equal(region_resident_pages(&s->region, &resident), 0);
	assert_int_equal(resident, 0);
	setup_free(s);
}

static void partial_install_then_abort(void **state)
{
	struct setup *s = setup_new();
	struct range_buffer *b;
	int err;

	(void)state;
	/* The next install stops after 3 pages with ENOMEM. */
	region_inject_install_fault(1, 3, ENOMEM);
	b = reserve_on_region(s, 10 * PAGE_SIZE, &err);
	region_inject_install_fault(0, 0, 0);
	assert_int_equal(err, -ENOMEM);
	assert_residency_matches(s);
	/* The daemon aborts: the 3 installed pages are lru, not lost, not leaked. */
	range_alloc_release(&s->a, b);
	assert_int_equal(s->lru.pages, 3);
	assert_residency_matches(s);
	assert_int_equal(page_lru_shrink(&s->lru, SIZE_MAX), 3);
	assert_residency_matches(s);
	setup_free(s);
}

static void punching_inactive_ranges_removes_stray_pages(void **state)
{
	struct setup *s = setup_new();
	struct range_buffer *b[3];
	volatile const uint8_t *base;
	struct page_range r;
	size_t resident, active = 0;
	int err;

	(void)state;
	for (int i = 0; i < 3; i++) {
		b[i] = reserve_on_region(s, 4 * PAGE_SIZE, &err);
		assert_int_equal(err, 0);
	}
	range_alloc_release(&s->a, b[1]); /* pages 4-7 lru */
	/* A client reading holes through its mapping makes shmem allocate pages. */
	base = s->region.base;
	for (size_t p = 20; p < 30; p++)
		(void)base[p * PAGE_SIZE];
	assert_int_equal(region_resident_pages(&s->region, &resident), 0);
	assert_true(resident >= 8);
	/* The daemon punches every whole non-active range. */
	for (size_t from = 0; range_alloc_next_inactive(&s->a, from, &r);
	     from = r.first + r.count) {
		assert_int_equal(region_release(&s->region, r.first, r.count), 0);
		assert_int_equal(range_alloc_pages_released(&s->a, r), 0);
	}
	for (size_t p = 0; p < PAGES; p++)
		active += range_alloc_page_state(&s->a, p) == RANGE_PAGE_ACTIVE;
	assert_int_equal(active, 8);
	assert_int_equal(s->lru.pages, 0);
	assert_residency_matches(s);
	range_alloc_release(&s->a, b[0]);
	range_alloc_release(&s->a, b[2]);
	setup_free(s); /* process death with lru pages */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(residency_follows_install_and_reclaim),
		cmocka_unit_test(partial_install_then_abort),
		cmocka_unit_test(punching_inactive_ranges_removes_stray_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
