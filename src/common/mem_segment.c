/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <stdlib.h>

#include "common/mem_segment.h"

/* One past the segment's last byte, UINT64_MAX if that would wrap (no valid range reaches it). */
static uint64_t segment_end(const struct mem_segment *s)
{
	return s->addr + s->length < s->addr ? UINT64_MAX : s->addr + s->length;
}

/* By address; of two at the same address, the longer first. */
static int by_address(const void *a, const void *b)
{
	const struct mem_segment *x = a, *y = b;
	uint64_t xe = segment_end(x), ye = segment_end(y);

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return xe > ye ? -1 : xe < ye;
}

size_t mem_segments_index(struct mem_segment *segs, size_t n)
{
	size_t kept = 0;

	if (n < 2)
		return n;
	qsort(segs, n, sizeof(*segs), by_address);
	/* Kept ones then rise in address and in end: a later segment that
	 * ends no further than the last kept one lies inside it. */
	for (size_t i = 0; i < n; i++) {
		if (kept && segment_end(&segs[i]) <= segment_end(&segs[kept - 1]))
			continue;
		segs[kept++] = segs[i];
	}
	return kept;
}

static bool holds(const struct mem_segment *s, uint64_t addr, uint64_t len)
{
	return addr >= s->addr && addr - s->addr <= s->length &&
	       len <= s->length - (addr - s->addr);
}

const struct mem_segment *mem_segments_find(const struct mem_segment *segs, size_t n, uint64_t addr,
					    uint64_t len)
{
	size_t lo = 0, hi = n;

	if (n <= MEM_SEGMENTS_SCAN) {
		for (size_t i = 0; i < n; i++) {
			if (holds(&segs[i], addr, len))
				return &segs[i];
		}
		return NULL;
	}
	/* The last segment starting at or before addr ends furthest of all
	 * that do: if any holds the range, it does. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (segs[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && holds(&segs[lo - 1], addr, len) ? &segs[lo - 1] : NULL;
}
