/* SPDX-License-Identifier: MIT */
/*
 * Exhaustive page-lifecycle test, in the manner of the kernel's binder_alloc
 * self-test, on a region of 32 pages of the machine's size.
 *
 * Five buffers. Each one ends at one of five kinds of offset relative to the
 * previous end, in steps of PAGE_SIZE / 8: in the same page unaligned, at the
 * end of that page, in the next page unaligned, at the end of the next page,
 * in the page after next unaligned: 5^5 size combinations. Two layouts:
 * "front" from offset 0, and "back" with the buffers in reverse order and the
 * first enlarged so that the small ones share the last pages of the region.
 * All 120 orders of freeing. 3125 * 2 * 120 = 750,000 runs, each:
 *   1. reserve the five, install what is asked: every page under each buffer
 *      active, buffers contiguous from 0;
 *   2. free them in the order: every page used is lru, every other free;
 *   3. reserve the same sizes again: the LRU gives every page back, nothing
 *      to install, lru count 0;
 *   4. free them again, then reclaim everything: every page free.
 */
#include <stdlib.h>
#include <time.h>

#include "test-alloc-util.h"
#include "alloc/page_bits.h"
#include "region/page.h"

#define BUFFERS	      5
#define REGION_PAGES  32
#define RUNS_EXPECTED 750000u

enum end_kind {
	SAME_PAGE_UNALIGNED,
	SAME_PAGE_ALIGNED,
	NEXT_PAGE_UNALIGNED,
	NEXT_PAGE_ALIGNED,
	NEXT_NEXT_UNALIGNED,
	END_KINDS,
};

struct exhaustive {
	struct page_lru lru;
	struct fake_backend backend;
	struct range_alloc a;
	size_t page;
	size_t orders[120][BUFFERS];
	size_t runs;
	char failure[512];
};

static void make_orders(struct exhaustive *x)
{
	size_t n = 0;

	/* Every permutation of 0..4, by nested choice. */
	for (size_t code = 0; code < 5 * 5 * 5 * 5 * 5; code++) {
		size_t seq[BUFFERS], c = code, seen = 0;
		bool ok = true;

		for (int i = 0; i < BUFFERS; i++, c /= 5) {
			seq[i] = c % 5;
			if (seen & ((size_t)1 << seq[i]))
				ok = false;
			seen |= (size_t)1 << seq[i];
		}
		if (ok)
			memcpy(x->orders[n++], seq, sizeof(seq));
	}
	assert_int_equal(n, 120);
}

__attribute__((format(printf, 2, 3))) static bool failed(struct exhaustive *x, const char *fmt, ...)
{
	va_list ap;

	if (x->failure[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(x->failure, sizeof(x->failure), fmt, ap);
	va_end(ap);
	return false;
}

/* Pages [0, used) must be in state @inside, the rest in state @outside. */
static bool pages_are(struct exhaustive *x, size_t used, enum range_page_state inside,
		      enum range_page_state outside)
{
	for (size_t p = 0; p < REGION_PAGES; p++) {
		enum range_page_state want = p < used ? inside : outside;

		if (range_alloc_page_state(&x->a, p) != want)
			return failed(x, "page %zu is %d, expected %d", p,
				      range_alloc_page_state(&x->a, p), want);
	}
	return true;
}

static bool reserve_all(struct exhaustive *x, const size_t *sizes, struct range_buffer **bufs,
			bool expect_install)
{
	size_t offset = 0;

	for (int i = 0; i < BUFFERS; i++) {
		struct range_reservation r;
		struct page_range t;

		if (range_alloc_reserve(&x->a, sizes[i], 0, 0, false, 1, &r) != 0)
			return failed(x, "reserve %d of %zu failed", i, sizes[i]);
		if (r.offset != offset)
			return failed(x, "buffer %d at %zu, expected %zu", i, r.offset, offset);
		if (!expect_install && r.install.count)
			return failed(x, "buffer %d wants pages installed after lru reuse", i);
		range_alloc_installed(&x->a, r.install, r.install.count);
		t = geo_pages_touched(x->a.geo, offset, sizes[i]);
		for (size_t p = t.first; p < t.first + t.count; p++)
			if (range_alloc_page_state(&x->a, p) != RANGE_PAGE_ACTIVE)
				return failed(x, "page %zu of buffer %d not active", p, i);
		bufs[i] = r.buffer;
		offset += sizes[i];
	}
	return true;
}

static bool one_run(struct exhaustive *x, const size_t *sizes, const size_t *order, size_t end)
{
	size_t used = (end + x->page - 1) / x->page;
	struct range_buffer *bufs[BUFFERS];

	x->runs++;
	if (!reserve_all(x, sizes, bufs, true))
		return false;
	for (int i = 0; i < BUFFERS; i++)
		range_alloc_release(&x->a, bufs[order[i]]);
	if (!pages_are(x, used, RANGE_PAGE_LRU, RANGE_PAGE_FREE))
		return false;
	if (!reserve_all(x, sizes, bufs, false))
		return false;
	if (x->lru.pages != 0)
		return failed(x, "%zu pages still lru after re-reserving", x->lru.pages);
	for (int i = 0; i < BUFFERS; i++)
		range_alloc_release(&x->a, bufs[order[i]]);
	if (page_lru_shrink(&x->lru, SIZE_MAX) != used)
		return failed(x, "reclaim did not release the %zu pages used", used);
	return pages_are(x, 0, RANGE_PAGE_FREE, RANGE_PAGE_FREE);
}

static bool run_orders(struct exhaustive *x, const size_t *sizes, size_t end)
{
	for (size_t o = 0; o < 120; o++)
		if (!one_run(x, sizes, x->orders[o], end)) {
			size_t n = strlen(x->failure);

			snprintf(x->failure + n, sizeof(x->failure) - n,
				 " (sizes %zu %zu %zu %zu %zu, order %zu%zu%zu%zu%zu)", sizes[0],
				 sizes[1], sizes[2], sizes[3], sizes[4], x->orders[o][0],
				 x->orders[o][1], x->orders[o][2], x->orders[o][3],
				 x->orders[o][4]);
			return false;
		}
	return true;
}

static bool both_layouts(struct exhaustive *x, const size_t *ends)
{
	size_t front[BUFFERS], back[BUFFERS], region = REGION_PAGES * x->page;

	for (int i = 0; i < BUFFERS; i++)
		front[i] = ends[i] - (i ? ends[i - 1] : 0);
	for (int i = 0; i < BUFFERS; i++)
		back[i] = front[BUFFERS - 1 - i];
	back[0] += region - ends[BUFFERS - 1];
	return run_orders(x, front, ends[BUFFERS - 1]) && run_orders(x, back, region);
}

/* Chooses the end kind of buffer @index, then recurses; all combinations. */
static bool each_end(struct exhaustive *x, size_t *ends, int index)
{
	size_t end;

	if (index == BUFFERS)
		return both_layouts(x, ends);
	end = index ? ends[index - 1] : 0;
	for (int kind = SAME_PAGE_UNALIGNED; kind < END_KINDS; kind++) {
		if (kind % 2)
			end = (end + x->page - 1) / x->page * x->page;
		else
			end += x->page / 8;
		ends[index] = end;
		if (!each_end(x, ends, index + 1))
			return false;
	}
	return true;
}

static void all_sizes_layouts_and_free_orders(void **state)
{
	struct exhaustive *x = calloc(1, sizeof(*x));
	struct range_alloc_backend be;
	size_t ends[BUFFERS];
	struct timespec t0, t1;
	bool ok;

	(void)state;
	assert_non_null(x);
	x->page = PAGE_SIZE;
	make_orders(x);
	page_lru_init(&x->lru);
	be = fake_backend_of(&x->backend);
	assert_int_equal(range_alloc_init(&x->a, REGION_PAGES * x->page, page_geometry_of_machine(),
					  &x->lru, &be),
			 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ok = each_end(x, ends, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!ok)
		fail_msg("run %zu: %s", x->runs, x->failure);
	assert_int_equal(x->runs, RUNS_EXPECTED);
	assert_alloc_consistent(&x->a);
	print_message("# %zu runs in %.2f s\n", x->runs,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	range_alloc_deinit(&x->a);
	page_lru_deinit(&x->lru);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_sizes_layouts_and_free_orders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
