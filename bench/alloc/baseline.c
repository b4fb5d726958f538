/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <bsd/sys/tree.h>

#include "baseline.h"

struct extent {
	RB_ENTRY(extent) by_offset; /* every extent */
	RB_ENTRY(extent) by_size;   /* free extents only */
	size_t offset, size;
	bool free, async;
};

static int cmp_offset(const struct extent *x, const struct extent *y)
{
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_size(const struct extent *x, const struct extent *y)
{
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return cmp_offset(x, y);
}

RB_HEAD(offset_tree, extent);
RB_HEAD(size_tree, extent);
/* RB_GENERATE_STATIC relies on a __unused that libbsd leaves undefined on Linux. */
#define TREE_FUNCTIONS __attribute__((unused)) static
RB_GENERATE_INTERNAL(offset_tree, extent, by_offset, cmp_offset, TREE_FUNCTIONS)
RB_GENERATE_INTERNAL(size_tree, extent, by_size, cmp_size, TREE_FUNCTIONS)

struct page_node {
	size_t prev, next; /* indices into pages; SIZE_MAX: not on the list */
};

struct baseline {
	struct offset_tree all;
	struct size_tree free;
	struct page_geometry geo;
	size_t size, pages;
	size_t free_async;
	unsigned char *active, *installed;
	struct page_node *lru; /* a list through the pages, with a sentinel at index pages */
};

static void lru_add(struct baseline *b, size_t p)
{
	size_t head = b->pages, tail = b->lru[head].prev;

	b->lru[p] = (struct page_node){ tail, head };
	b->lru[tail].next = p;
	b->lru[head].prev = p;
}

static void lru_del(struct baseline *b, size_t p)
{
	b->lru[b->lru[p].prev].next = b->lru[p].next;
	b->lru[b->lru[p].next].prev = b->lru[p].prev;
	b->lru[p] = (struct page_node){ SIZE_MAX, SIZE_MAX };
}

struct baseline *baseline_new(size_t region_size, struct page_geometry geo)
{
	struct baseline *b = calloc(1, sizeof(*b));
	struct extent *all;

	if (!b)
		return NULL;
	b->geo = geo;
	b->size = region_size;
	b->pages = region_size >> geo.shift;
	b->free_async = region_size / 2;
	b->active = calloc(b->pages, 1);
	b->installed = calloc(b->pages, 1);
	b->lru = calloc(b->pages + 1, sizeof(*b->lru));
	all = calloc(1, sizeof(*all));
	if (!b->active || !b->installed || !b->lru || !all) {
		free(all);
		baseline_free(b);
		return NULL;
	}
	b->lru[b->pages] = (struct page_node){ b->pages, b->pages };
	RB_INIT(&b->all);
	RB_INIT(&b->free);
	*all = (struct extent){ .offset = 0, .size = region_size, .free = true };
	RB_INSERT(offset_tree, &b->all, all);
	RB_INSERT(size_tree, &b->free, all);
	return b;
}

void baseline_free(struct baseline *b)
{
	struct extent *e, *next;

	if (!b)
		return;
	for (e = RB_MIN(offset_tree, &b->all); e; e = next) {
		next = RB_NEXT(offset_tree, &b->all, e);
		RB_REMOVE(offset_tree, &b->all, e);
		free(e);
	}
	free(b->active);
	free(b->installed);
	free(b->lru);
	free(b);
}

static struct page_range intersect(struct page_range x, struct page_range y)
{
	size_t first = x.first > y.first ? x.first : y.first;
	size_t end_x = x.first + x.count, end_y = y.first + y.count;
	size_t end = end_x < end_y ? end_x : end_y;

	return (struct page_range){ first, end > first ? end - first : 0 };
}

int baseline_alloc(struct baseline *b, size_t size, bool async, size_t *offset)
{
	struct extent key = { .offset = 0 }, *e;
	size_t free_offset, free_size;
	struct page_range now;

	size = size < 8 ? 8 : (size + 7) & ~(size_t)7;
	if (size > b->size || (async && b->free_async < size))
		return -ENOSPC;
	key.size = size;
	e = RB_NFIND(size_tree, &b->free, &key); /* the smallest extent that fits */
	if (!e)
		return -ENOSPC;
	RB_REMOVE(size_tree, &b->free, e);
	free_offset = e->offset;
	free_size = e->size;
	if (free_size > size) {
		struct extent *rest = malloc(sizeof(*rest));

		if (!rest) {
			RB_INSERT(size_tree, &b->free, e);
			return -ENOMEM;
		}
		*rest = (struct extent){ .offset = e->offset + size,
					 .size = free_size - size,
					 .free = true };
		RB_INSERT(offset_tree, &b->all, rest);
		RB_INSERT(size_tree, &b->free, rest);
	}
	e->size = size;
	e->free = false;
	e->async = async;
	if (async)
		b->free_async -= size;
	now = intersect(geo_pages_touched(b->geo, e->offset, size),
			geo_pages_inside(b->geo, free_offset, free_size));
	for (size_t p = now.first; p < now.first + now.count; p++) {
		b->active[p] = 1;
		if (b->installed[p])
			lru_del(b, p);
		b->installed[p] = 1; /* the benchmark's install always succeeds */
	}
	*offset = e->offset;
	return 0;
}

int baseline_release(struct baseline *b, size_t offset)
{
	struct extent key = { .offset = offset }, *e, *prev, *next;
	size_t size;
	struct page_range done;

	e = RB_FIND(offset_tree, &b->all, &key);
	if (!e || e->free)
		return -ENOENT;
	size = e->size;
	if (e->async)
		b->free_async += size;
	prev = RB_PREV(offset_tree, &b->all, e);
	next = RB_NEXT(offset_tree, &b->all, e);
	if (prev && prev->free) {
		RB_REMOVE(size_tree, &b->free, prev);
		RB_REMOVE(offset_tree, &b->all, e);
		prev->size += size;
		free(e);
		e = prev;
	}
	if (next && next->free) {
		RB_REMOVE(size_tree, &b->free, next);
		RB_REMOVE(offset_tree, &b->all, next);
		e->size += next->size;
		free(next);
	}
	e->free = true;
	RB_INSERT(size_tree, &b->free, e);
	done = intersect(geo_pages_touched(b->geo, offset, size),
			 geo_pages_inside(b->geo, e->offset, e->size));
	for (size_t p = done.first; p < done.first + done.count; p++) {
		b->active[p] = 0;
		lru_add(b, p);
	}
	return 0;
}
