/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "alloc/free_index.h"

int free_index_init(struct free_index *x, size_t max_size)
{
	unsigned int fl = free_index_bin(max_size) / FREE_INDEX_SL_COUNT;

	*x = (struct free_index){ .fl_count = fl + 1, .scan_limit = FREE_INDEX_SCAN_LIMIT };
	x->bins = calloc((size_t)x->fl_count * FREE_INDEX_SL_COUNT, sizeof(*x->bins));
	x->sl_map = calloc(x->fl_count, sizeof(*x->sl_map));
	if (!x->bins || !x->sl_map) {
		free_index_deinit(x);
		return -ENOMEM;
	}
	return 0;
}

void free_index_deinit(struct free_index *x)
{
	free(x->bins);
	free(x->sl_map);
	*x = (struct free_index){ 0 };
}

void free_index_insert(struct free_index *x, struct free_node *n)
{
	unsigned int bin = free_index_bin(n->size);
	unsigned int fl = bin / FREE_INDEX_SL_COUNT, sl = bin % FREE_INDEX_SL_COUNT;
	struct free_node **head = &x->bins[bin];

	n->bin = bin;
	n->prev = NULL;
	n->next = *head;
	if (*head)
		(*head)->prev = n;
	*head = n;
	x->sl_map[fl] |= (uint32_t)1 << sl;
	x->fl_map |= (uint64_t)1 << fl;
	x->blocks++;
}

void free_index_remove(struct free_index *x, struct free_node *n)
{
	if (n->prev) {
		n->prev->next = n->next;
	} else {
		x->bins[n->bin] = n->next;
		if (!n->next) {
			unsigned int fl = n->bin / FREE_INDEX_SL_COUNT;

			x->sl_map[fl] &= ~((uint32_t)1 << (n->bin % FREE_INDEX_SL_COUNT));
			if (!x->sl_map[fl])
				x->fl_map &= ~((uint64_t)1 << fl);
		}
	}
	if (n->next)
		n->next->prev = n->prev;
	n->prev = n->next = NULL;
	x->blocks--;
}

void free_index_resize(struct free_index *x, struct free_node *n, size_t size)
{
	if (free_index_bin(size) == n->bin) {
		n->size = size;
		return;
	}
	free_index_remove(x, n);
	n->size = size;
	free_index_insert(x, n);
}

/* The first non-empty bin strictly above (fl, sl), or NULL. */
static struct free_node *first_bin_above(const struct free_index *x, unsigned int fl,
					 unsigned int sl)
{
	uint32_t sl_above =
		sl + 1 < FREE_INDEX_SL_COUNT ? x->sl_map[fl] & (~(uint32_t)0 << (sl + 1)) : 0;
	uint64_t fl_above;

	if (sl_above)
		return x->bins[fl * FREE_INDEX_SL_COUNT + (unsigned int)__builtin_ctz(sl_above)];
	fl_above = fl + 1 < 64 ? x->fl_map & (~(uint64_t)0 << (fl + 1)) : 0;
	if (!fl_above)
		return NULL;
	fl = (unsigned int)__builtin_ctzll(fl_above);
	return x->bins[fl * FREE_INDEX_SL_COUNT + (unsigned int)__builtin_ctz(x->sl_map[fl])];
}

struct free_node *free_index_find(const struct free_index *x, size_t size)
{
	unsigned int bin = free_index_bin(size), scanned = 0;
	unsigned int fl = bin / FREE_INDEX_SL_COUNT, sl = bin % FREE_INDEX_SL_COUNT;
	struct free_node *n, *best = NULL;

	if (fl >= x->fl_count)
		return NULL;
	/*
	 * The request's own bin holds the smallest blocks that might fit. Take
	 * the smallest fitting one among the first few; a block of exactly the
	 * size ends the look at once.
	 */
	for (n = x->bins[bin]; n && scanned < x->scan_limit; n = n->next, scanned++) {
		if (n->size >= size && (!best || n->size < best->size)) {
			best = n;
			if (n->size == size)
				return n;
		}
	}
	if (best)
		return best;
	/* Any block of a higher bin fits: O(1) with the bitmaps. */
	best = first_bin_above(x, fl, sl);
	if (best) {
		/* Every block there fits: the smallest of the first few, for a tighter fit. */
		struct free_node *m = best->next;

		for (unsigned int k = 1; m && k < x->scan_limit; m = m->next, k++)
			if (m->size < best->size)
				best = m;
		return best;
	}
	if (!n)
		return best;
	/* Fallback for completeness: the rest of the own bin. */
	for (; n; n = n->next)
		if (n->size >= size && (!best || n->size < best->size))
			best = n;
	return best;
}
