/* SPDX-License-Identifier: MIT */
/*
 * The index of free extents by size: two-level segregated bins with bitmaps,
 * in the manner of TLSF.
 *
 * Sizes are counted in granules of 8 bytes (every buffer size is a multiple
 * of 8). A size of u granules lives in bin (fl, sl):
 *   - u < 2 * FREE_INDEX_SL_COUNT: bin (u >> SL_LOG2, u % SL_COUNT), which
 *     holds one size only (sizes below 512 bytes have exact bins);
 *   - else, with f = floor(log2(u)): fl = f - SL_LOG2 + 1 and sl = the
 *     SL_LOG2 bits of u below its top bit. The bin then spans sizes
 *     [(SL_COUNT + sl) << (fl - 1), (SL_COUNT + sl + 1) << (fl - 1)), i.e.
 *     about 3% of its size.
 * Every block of a bin above the request's own bin fits the request, so the
 * search is: a bounded look in the request's own bin (where the best fits
 * live), else the first non-empty bin above it (two bitmap look-ups; the
 * smallest of its first few blocks), else a full scan of the request's own bin. The last step is the
 * fallback that makes the index complete: a request fails only when no free
 * extent is large enough.
 *
 * Invariants:
 *   - a free extent is in exactly one bin, the one its size maps to;
 *   - bit sl of sl_map[fl] is set iff bin (fl, sl) is non-empty;
 *   - bit fl of fl_map is set iff sl_map[fl] != 0.
 *
 * The bins hold 32-bit record indices (0: empty); the lists themselves run
 * through the extent records (range_extent.h), which also holds the list
 * operations and the search, so that the hot paths inline them. This header
 * is the bin arithmetic and the bitmaps. Not thread safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FREE_INDEX_SL_LOG2    5u
#define FREE_INDEX_SL_COUNT   (1u << FREE_INDEX_SL_LOG2)
#define FREE_INDEX_GRANULE    8u
/* How many blocks of the request's own bin the fast path examines, by default. */
#define FREE_INDEX_SCAN_LIMIT 8u

struct free_index {
	uint32_t *bins;	       /* fl_count * SL_COUNT list heads: record indices, 0 if empty */
	uint32_t *sl_map;      /* per fl: which bins are non-empty */
	uint64_t fl_map;       /* which sl_map words are non-zero */
	unsigned int fl_count; /* enough for the largest size indexed */
	size_t blocks;	       /* free extents in the index */
	/* Blocks of the own bin the fast path looks at; tests lower it to
	 * exercise the fallback scan. */
	unsigned int scan_limit;
};

/* An empty index for sizes up to @max_size bytes. Returns 0 or -ENOMEM. */
int free_index_init(struct free_index *x, size_t max_size);
void free_index_deinit(struct free_index *x);

/* The bin a size maps to, as fl * FREE_INDEX_SL_COUNT + sl. */
static inline unsigned int free_index_bin(size_t size)
{
	uint64_t u = size / FREE_INDEX_GRANULE;
	/*
	 * Below 2 * SL_COUNT granules, u | SL_COUNT has its top bit at SL_LOG2
	 * and the formula gives u itself: exact bins without a branch, which a
	 * random mix of sizes would mispredict.
	 */
	unsigned int f = 63u - (unsigned int)__builtin_clzll(u | FREE_INDEX_SL_COUNT);

	return (f - FREE_INDEX_SL_LOG2 + 1) * FREE_INDEX_SL_COUNT +
	       (unsigned int)((u >> (f - FREE_INDEX_SL_LOG2)) - FREE_INDEX_SL_COUNT);
}

/* The same as (fl, sl); exposed for tests and checks. */
static inline void free_index_bin_of(size_t size, unsigned int *fl, unsigned int *sl)
{
	unsigned int bin = free_index_bin(size);

	*fl = bin / FREE_INDEX_SL_COUNT;
	*sl = bin % FREE_INDEX_SL_COUNT;
}

/* The head of bin (fl, sl), for walking the index in checks: a record index, 0 if empty. */
static inline uint32_t free_index_bin_head(const struct free_index *x, unsigned int fl,
					   unsigned int sl)
{
	return x->bins[fl * FREE_INDEX_SL_COUNT + sl];
}

/*
 * The first non-empty bin strictly above @bin, or -1: two bitmap look-ups.
 * Every block of a bin above a request's own bin fits the request.
 */
static inline int free_index_first_bin_above(const struct free_index *x, unsigned int bin)
{
	unsigned int fl = bin / FREE_INDEX_SL_COUNT, sl = bin % FREE_INDEX_SL_COUNT;
	uint32_t sl_above =
		sl + 1 < FREE_INDEX_SL_COUNT ? x->sl_map[fl] & (~(uint32_t)0 << (sl + 1)) : 0;
	uint64_t fl_above;

	if (sl_above)
		return (int)(fl * FREE_INDEX_SL_COUNT + (unsigned int)__builtin_ctz(sl_above));
	fl_above = fl + 1 < 64 ? x->fl_map & (~(uint64_t)0 << (fl + 1)) : 0;
	if (!fl_above)
		return -1;
	fl = (unsigned int)__builtin_ctzll(fl_above);
	return (int)(fl * FREE_INDEX_SL_COUNT + (unsigned int)__builtin_ctz(x->sl_map[fl]));
}
