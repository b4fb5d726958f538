/* SPDX-License-Identifier: MIT */
/*
 * Page arithmetic for a given page geometry.
 *
 * Pure functions only: no system calls, so that the allocator can be run and
 * tested against any page size (4K, 16K and 64K pages all exist in the wild).
 * The machine's own geometry comes from region/page.h.
 *
 * PAGE_MASK has the C meaning everywhere in this project:
 *	page_mask(g) == ~(page_size(g) - 1)
 * so that (addr & mask) rounds down to the start of the page.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Smallest and largest page shifts we accept: 4 KiB base pages to 2 MiB
 * huge pages (x86-64 and arm64-4K PMD size). */
#define PAGE_SHIFT_MIN 12u
#define PAGE_SHIFT_MAX 21u

struct page_geometry {
	unsigned int shift; /* PAGE_SHIFT_MIN <= shift <= PAGE_SHIFT_MAX */
};

/* A run of whole pages, by page index. count == 0 is the empty range. */
struct page_range {
	size_t first;
	size_t count;
};

static inline size_t geo_page_size(struct page_geometry g)
{
	return (size_t)1 << g.shift;
}

/* C meaning: the bits that select the page, ~(PAGE_SIZE - 1). */
static inline uintptr_t geo_page_mask(struct page_geometry g)
{
	return ~((uintptr_t)geo_page_size(g) - 1);
}

/* Index of the page that holds byte @offset. */
static inline size_t geo_page_index(struct page_geometry g, size_t offset)
{
	return offset >> g.shift;
}

static inline size_t geo_page_offset(struct page_geometry g, size_t index)
{
	return index << g.shift;
}

static inline size_t geo_align_down(struct page_geometry g, size_t x)
{
	return x & geo_page_mask(g);
}

/* Rounds up to a page boundary; x must be at most SIZE_MAX - page_size + 1. */
static inline size_t geo_align_up(struct page_geometry g, size_t x)
{
	return (x + geo_page_size(g) - 1) & geo_page_mask(g);
}

static inline bool geo_is_aligned(struct page_geometry g, size_t x)
{
	return (x & ~geo_page_mask(g)) == 0;
}

/* Number of pages in a span of order @order: 2^order. */
static inline size_t geo_span_pages(unsigned int order)
{
	return (size_t)1 << order;
}

/* Bytes in a span of order @order: PAGE_SIZE << order. */
static inline size_t geo_span_bytes(struct page_geometry g, unsigned int order)
{
	return geo_page_size(g) << order;
}

/*
 * The pages touched by the byte range [offset, offset + length).
 * A zero-length range touches no page.
 */
static inline struct page_range geo_pages_touched(struct page_geometry g, size_t offset,
						  size_t length)
{
	struct page_range r = { 0, 0 };

	if (length == 0)
		return r;
	r.first = geo_page_index(g, offset);
	r.count = geo_page_index(g, offset + length - 1) - r.first + 1;
	return r;
}

/*
 * The pages lying wholly inside [offset, offset + length): the ones that
 * nothing outside the range can share.
 */
static inline struct page_range geo_pages_inside(struct page_geometry g, size_t offset,
						 size_t length)
{
	struct page_range r = { 0, 0 };
	size_t start = geo_align_up(g, offset);
	size_t end = geo_align_down(g, offset + length);

	if (end > start) {
		r.first = geo_page_index(g, start);
		r.count = geo_page_index(g, end) - r.first;
	}
	return r;
}
