/* SPDX-License-Identifier: MIT */
/* Page geometry: the C meaning of PAGE_MASK, index math at boundaries, spans. */
#include <unistd.h>

#include "test-util.h"
#include "region/page.h"

static void machine_geometry_matches_sysconf(void **state)
{
	(void)state;
	assert_int_equal(PAGE_SIZE, (size_t)sysconf(_SC_PAGESIZE));
	assert_int_equal((size_t)1 << PAGE_SHIFT, PAGE_SIZE);
	assert_true(PAGE_MASK == ~(uintptr_t)(PAGE_SIZE - 1));
}

static void page_mask_has_the_c_meaning(void **state)
{
	(void)state;
	for (unsigned int shift = PAGE_SHIFT_MIN; shift <= PAGE_SHIFT_MAX; shift++) {
		struct page_geometry g = { shift };
		size_t ps = (size_t)1 << shift;

		assert_true(geo_page_mask(g) == ~(uintptr_t)(ps - 1));
		/* Masking rounds down to the start of the page, never the offset. */
		assert_int_equal((3 * ps + 5) & geo_page_mask(g), 3 * ps);
		assert_int_equal(geo_align_down(g, 3 * ps + ps - 1), 3 * ps);
	}
}

static void index_math_at_boundaries(void **state)
{
	(void)state;
	for (unsigned int shift = PAGE_SHIFT_MIN; shift <= 16; shift += 2) {
		struct page_geometry g = { shift };
		size_t ps = geo_page_size(g);

		assert_int_equal(geo_page_index(g, 0), 0);
		assert_int_equal(geo_page_index(g, ps - 1), 0);
		assert_int_equal(geo_page_index(g, ps), 1);
		assert_int_equal(geo_page_offset(g, 7), 7 * ps);
		assert_int_equal(geo_align_up(g, 0), 0);
		assert_int_equal(geo_align_up(g, 1), ps);
		assert_int_equal(geo_align_up(g, ps), ps);
		assert_int_equal(geo_align_up(g, ps + 1), 2 * ps);
		assert_true(geo_is_aligned(g, 0));
		assert_true(geo_is_aligned(g, 5 * ps));
		assert_false(geo_is_aligned(g, 5 * ps + 8));
	}
}

static void pages_touched_and_inside(void **state)
{
	struct page_geometry g = { 12 };
	struct page_range r;

	(void)state;
	r = geo_pages_touched(g, 0, 0);
	assert_int_equal(r.count, 0);
	r = geo_pages_touched(g, 100, 8);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.count, 1);
	r = geo_pages_touched(g, 4090, 8); /* straddles the first boundary */
	assert_int_equal(r.first, 0);
	assert_int_equal(r.count, 2);
	r = geo_pages_touched(g, 4096, 4096); /* exactly one page */
	assert_int_equal(r.first, 1);
	assert_int_equal(r.count, 1);
	r = geo_pages_touched(g, 4095, 4098); /* last byte of p0 .. first byte of p2 */
	assert_int_equal(r.first, 0);
	assert_int_equal(r.count, 3);

	r = geo_pages_inside(g, 4095, 4098);
	assert_int_equal(r.first, 1);
	assert_int_equal(r.count, 1);
	r = geo_pages_inside(g, 100, 200);
	assert_int_equal(r.count, 0);
	r = geo_pages_inside(g, 0, 8192);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.count, 2);
}

static void spans_of_higher_order(void **state)
{
	(void)state;
	for (unsigned int shift = PAGE_SHIFT_MIN; shift <= 16; shift += 2) {
		struct page_geometry g = { shift };

		for (unsigned int order = 0; order <= 10; order++) {
			assert_int_equal(geo_span_pages(order), (size_t)1 << order);
			assert_int_equal(geo_span_bytes(g, order), geo_page_size(g) << order);
			/* A span starting on a span boundary stays aligned. */
			assert_true(geo_is_aligned(g, geo_span_bytes(g, order)));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(machine_geometry_matches_sysconf),
		cmocka_unit_test(page_mask_has_the_c_meaning),
		cmocka_unit_test(index_math_at_boundaries),
		cmocka_unit_test(pages_touched_and_inside),
		cmocka_unit_test(spans_of_higher_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
