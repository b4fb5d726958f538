/* SPDX-License-Identifier: MIT */
/*
 * Private to the allocator (range_alloc.c and its checker): the record of one
 * extent of the region, free or a buffer, and the operations on records that
 * the hot paths inline. Callers only see the embedded range_buffer.
 *
 * Layout. A record is 64 bytes, aligned: one cache line. Records are named by
 * 32-bit indices, which keeps the links small enough for the line: the
 * address-order links after the range_buffer, and, for free extents, the
 * bin links over the range_buffer's owner field and the bin number over
 * data_size (free extents have neither). Records live in chunks that never
 * move (the daemon holds range_buffer pointers): chunk k holds
 * EXTENT_CHUNK0 << k records, so index i is in chunk
 * floor(log2(i + EXTENT_CHUNK0)) - EXTENT_CHUNK0_LOG2, found with one
 * count-leading-zeros. Fresh records are handed out in index order and
 * released ones recycled (LIFO, through @next) until deinit.
 *
 * Record 0 is a sentinel that is never free: it heads the circular list of
 * extents in address order (its next is the extent at offset 0, its prev the
 * last one), so a release looks at both neighbours without edge cases.
 * Index 0 also means "none" in bin links and in the offset map; the
 * sentinel's own bin links are scratch space.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "alloc/free_index.h"
#include "alloc/range_alloc.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define EXTENT_CHUNK0_LOG2 6u
#define EXTENT_CHUNK0	   (1u << EXTENT_CHUNK0_LOG2)
/* Records that RANGE_ALLOC_CHUNKS chunks hold, index 0 included. */
#define EXTENT_RECORDS_MAX ((((uint32_t)1 << RANGE_ALLOC_CHUNKS) - 1) * EXTENT_CHUNK0)
_Static_assert(EXTENT_RECORDS_MAX - 1 <= OFFSET_MAP_VALUE_MAX, "indices fit the offset map");

/* Per-pid oneway usage, for spam detection without walking buffers. */
struct range_pid_usage {
	size_t buffers; /* live async buffers of the pid; > 0 once charged */
	size_t bytes;	/* their sizes summed */
};

struct range_extent {
	union {
		/* offset, size and state describe every extent; the rest only buffers. */
		struct range_buffer buf;
		/*
		 * Free extents: the links of their bin's list (record indices, 0:
		 * none) over buf.owner, and the bin's number over buf.data_size.
		 */
		struct {
			uint32_t prev;
			uint32_t next;
			size_t offset_and_size[2]; /* buf.offset, buf.size */
			uint32_t number;
		} bin;
	};
	/* Address order: extent(prev)->buf.offset + its size == buf.offset. */
	uint32_t prev;
	uint32_t next; /* also links spare records */
};

_Static_assert(sizeof(struct range_extent) == 64, "one record, one cache line");
_Static_assert(offsetof(struct range_extent, buf.owner) == 0, "bin links overlay the owner");
_Static_assert(offsetof(struct range_extent, bin.number) ==
		       offsetof(struct range_extent, buf.data_size),
	       "the bin number overlays data_size");

/*
 * The record of index @i (below a->records). With j = i + EXTENT_CHUNK0,
 * chunk k holds the j whose top bit is k + EXTENT_CHUNK0_LOG2; chunk_base[k]
 * is the address record 0 would have if the chunk started there.
 */
static inline struct range_extent *extent_at(const struct range_alloc *a, uint32_t i)
{
	unsigned int top = 31u - (unsigned int)__builtin_clz(i + EXTENT_CHUNK0);

	return (struct range_extent *)(a->chunk_base[top - EXTENT_CHUNK0_LOG2] +
				       (uintptr_t)i * sizeof(struct range_extent));
}

static inline bool extent_is_free(const struct range_extent *e)
{
	return e->buf.state == RANGE_BUFFER_FREE;
}

/*
 * The bin list operations have no data-dependent branches: a link to "none"
 * (index 0) writes into the sentinel's bin links, which nothing reads.
 */

/*
 * The project builds with -fno-strict-aliasing, so every store through a
 * record could change a->free's pointers as far as the compiler knows: the
 * list operations load them into locals first.
 */

/* Adds free record @i (@e) to the head of bin @bin, the one of e->buf.size. */
static inline void extent_bin_insert(struct range_alloc *a, uint32_t i, struct range_extent *e,
				     unsigned int bin)
{
	struct free_index *x = &a->free;
	uint32_t *bins = x->bins, *sl_map = x->sl_map;
	unsigned int fl = bin / FREE_INDEX_SL_COUNT;
	uint32_t head = bins[bin];
	struct range_extent *h = extent_at(a, head);

	e->bin.prev = 0;
	e->bin.next = head;
	e->bin.number = bin;
	h->bin.prev = i;
	bins[bin] = i;
	sl_map[fl] |= (uint32_t)1 << (bin % FREE_INDEX_SL_COUNT);
	x->fl_map |= (uint64_t)1 << fl;
	x->blocks++;
}

/* @when_true if @cond, else @when_false, without a branch. */
static inline uint32_t *select_link(bool cond, uint32_t *when_true, uint32_t *when_false)
{
	uintptr_t t = (uintptr_t)when_true, f = (uintptr_t)when_false;

	return (uint32_t *)(f ^ ((t ^ f) & -(uintptr_t)cond));
}

/* Takes free record @e out of its bin. */
static inline void extent_bin_remove(struct range_alloc *a, struct range_extent *e)
{
	struct free_index *x = &a->free;
	uint32_t *bins = x->bins, *sl_map = x->sl_map;
	unsigned int bin = e->bin.number, fl = bin / FREE_INDEX_SL_COUNT;
	uint32_t prev = e->bin.prev, next = e->bin.next, sl_bits;
	struct range_extent *p = extent_at(a, prev), *n = extent_at(a, next);

	*select_link(prev != 0, &p->bin.next, &bins[bin]) = next;
	n->bin.prev = prev;
	/* The bin is empty now iff @e was its only block. */
	sl_bits = sl_map[fl] & ~((uint32_t)((prev | next) == 0) << (bin % FREE_INDEX_SL_COUNT));
	sl_map[fl] = sl_bits;
	x->fl_map &= ~((uint64_t)(sl_bits == 0) << fl);
	x->blocks--;
}

/*
 * Free record @i (@e), in the index, now has size @size: it stays where it is
 * if its bin is unchanged (no list or bitmap work), else it moves.
 */
static inline void extent_bin_resize(struct range_alloc *a, uint32_t i, struct range_extent *e,
				     size_t size)
{
	unsigned int bin = free_index_bin(size);

	e->buf.size = size;
	if (bin == e->bin.number)
		return;
	extent_bin_remove(a, e);
	extent_bin_insert(a, i, e, bin);
}

/*
 * A free record of at least @size bytes (a multiple of the granule, > 0), or
 * 0 when none exists; it stays in the index. See free_index.h for the order
 * of the search.
 */
static inline uint32_t extent_bin_find(const struct range_alloc *a, size_t size)
{
	const struct free_index *x = &a->free;
	unsigned int bin = free_index_bin(size), scanned = 0;
	uint32_t n, best = 0;
	size_t best_size = 0;
	int above;

	if (bin / FREE_INDEX_SL_COUNT >= x->fl_count)
		return 0;
	/*
	 * The request's own bin holds the smallest blocks that might fit. Take
	 * the smallest fitting one among the first few; a block of exactly the
	 * size ends the look at once.
	 */
	for (n = x->bins[bin]; n && scanned < x->scan_limit; scanned++) {
		const struct range_extent *e = extent_at(a, n);

		if (e->buf.size >= size && (!best || e->buf.size < best_size)) {
			best = n;
			best_size = e->buf.size;
			if (best_size == size)
				return n;
		}
		n = e->bin.next;
	}
	if (best)
		return best;
	/* Any block of a higher bin fits: O(1) with the bitmaps. */
	above = free_index_first_bin_above(x, bin);
	if (above >= 0) {
		/* Every block there fits: the smallest of the first few, for a tighter fit. */
		const struct range_extent *e;
		unsigned int k = 1;

		best = x->bins[above];
		if (above < (int)(2 * FREE_INDEX_SL_COUNT))
			return best; /* an exact bin: every block there has the same size */
		e = extent_at(a, best);
		best_size = e->buf.size;
		for (uint32_t m = e->bin.next; m && k < x->scan_limit; k++) {
			e = extent_at(a, m);
			if (e->buf.size < best_size) {
				best = m;
				best_size = e->buf.size;
			}
			m = e->bin.next;
		}
		return best;
	}
	/* Fallback for completeness: the rest of the own bin. */
	while (n) {
		const struct range_extent *e = extent_at(a, n);

		if (e->buf.size >= size && (!best || e->buf.size < best_size)) {
			best = n;
			best_size = e->buf.size;
		}
		n = e->bin.next;
	}
	return best;
}
