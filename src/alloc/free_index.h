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
 * Pure data structure: it links caller-owned free_node records and never
 * allocates after init. Not thread safe.
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

/* Embedded in each free extent. */
struct free_node {
	struct free_node *prev; /* NULL for the head of a bin */
	struct free_node *next;
	size_t size;	  /* bytes, a multiple of FREE_INDEX_GRANULE, > 0 */
	unsigned int bin; /* fl * SL_COUNT + sl of size, while in the index */
};

struct free_index {
	struct free_node **bins; /* fl_count * SL_COUNT list heads */
	uint32_t *sl_map;	 /* per fl: which bins are non-empty */
	uint64_t fl_map;	 /* which sl_map words are non-zero */
	unsigned int fl_count;	 /* enough for the largest size indexed */
	size_t blocks;		 /* free extents in the index */
	/* Blocks of the own bin the fast path looks at; tests lower it to
	 * exercise the fallback scan. */
	unsigned int scan_limit;
};

/* An empty index for sizes up to @max_size bytes. Returns 0 or -ENOMEM. */
int free_index_init(struct free_index *x, size_t max_size);
void free_index_deinit(struct free_index *x);

/* Adds @n, of size n->size (<= the init's max_size), to its bin's head. */
void free_index_insert(struct free_index *x, struct free_node *n);

/* Takes @n out of its bin. */
void free_index_remove(struct free_index *x, struct free_node *n);

/*
 * @n, in the index, now has size @size: it stays where it is if its bin is
 * unchanged (no list or bitmap work), else it moves.
 */
void free_index_resize(struct free_index *x, struct free_node *n, size_t size);

/*
 * A free block of at least @size bytes (a multiple of the granule, > 0), or
 * NULL when none exists. The block stays in the index.
 */
struct free_node *free_index_find(const struct free_index *x, size_t size);

/* The bin a size maps to, as fl * FREE_INDEX_SL_COUNT + sl. */
static inline unsigned int free_index_bin(size_t size)
{
	uint64_t u = size / FREE_INDEX_GRANULE;
	unsigned int f;

	if (u < 2 * FREE_INDEX_SL_COUNT)
		return (unsigned int)u;
	f = 63u - (unsigned int)__builtin_clzll(u);
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

/* The head of bin (fl, sl), for walking the index in checks. */
static inline struct free_node *free_index_bin_head(const struct free_index *x, unsigned int fl,
						    unsigned int sl)
{
	return x->bins[fl * FREE_INDEX_SL_COUNT + sl];
}
