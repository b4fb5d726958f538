/* SPDX-License-Identifier: MIT */
/*
 * The LRU of pages that no buffer uses: one list shared by every allocator
 * (one allocator per client region), as the kernel's global list_lru.
 *
 * A page is on the list exactly when it is *lru*: installed (memory behind
 * it) and not active (no live buffer touches it). The list is ordered by the
 * time the page became lru: head is the oldest, tail the newest. Pages that
 * become lru together (one buffer freed) are added in ascending page order,
 * so adjacent pages of one owner end up adjacent in the list and reclaim can
 * release them as one range.
 *
 * Owners (allocators) give each of their pages an lru_node and a release hook;
 * the list itself knows nothing of regions or buffers.
 *
 * Owners may have pages of different sizes (a region of huge pages beside
 * regions of base pages): each owner's page weighs 2^weight_shift *units*,
 * and the list counts and shrinks in units. A page is released whole: a
 * shrink of n units may release up to one page's weight more than n.
 *
 * Not thread safe: the daemon's event-loop thread owns the LRU and every
 * allocator on it. No global state: tests create as many LRUs as they like.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct page_lru_owner;

/* One page's link. On the list iff next != NULL. */
struct lru_node {
	struct lru_node *prev;
	struct lru_node *next;
	struct page_lru_owner *owner; /* valid while on the list */
	uint64_t stamp;		      /* the list's clock when the page became lru */
};

struct page_lru_owner {
	/* One node per page of the owner, indexed by page number. */
	struct lru_node *nodes;
	/*
	 * Releases the owner's pages [first, first + count), all of them on the
	 * list. Returns 0 once the memory is gone (the list then unlinks the
	 * nodes), or a negative errno, in which case the pages stay lru and on
	 * the list. Called only from page_lru_shrink(); it must not add to,
	 * remove from, or shrink the list.
	 */
	int (*release)(struct page_lru_owner *owner, size_t first, size_t count);
	/* Each page weighs 2^weight_shift units (0: one unit, the usual case).
	 * Set before the owner's first page is added; never changed after. */
	unsigned int weight_shift;
};

struct page_lru {
	struct lru_node head; /* sentinel: head.next is the oldest page */
	size_t pages;	      /* units on the list, all owners (pages, when each weighs one) */
	uint64_t released;    /* units released by shrinks since init */
	/*
	 * Stamped on pages as they are added. The user advances it (any unit,
	 * never backwards, below UINT64_MAX), so the list stays ordered by stamp.
	 */
	uint64_t clock;
};

/* An empty list. */
void page_lru_init(struct page_lru *lru);

/*
 * Nothing to free: the list owns no memory. Every owner must have left the
 * list first (range_alloc_deinit() removes its pages).
 */
void page_lru_deinit(struct page_lru *lru);

/* Appends page @index of @owner, which must not be on the list, as the newest. */
void page_lru_add(struct page_lru *lru, struct page_lru_owner *owner, size_t index);

/* Unlinks page @index of @owner, which must be on the list. */
void page_lru_del(struct page_lru *lru, struct page_lru_owner *owner, size_t index);

static inline int page_lru_contains(const struct page_lru_owner *owner, size_t index)
{
	return owner->nodes[index].next != NULL;
}

/*
 * Releases pages, oldest first, until @max_pages units are released (or the
 * list is empty), through their owners' release hooks, batching runs of
 * consecutive pages of one owner that are also consecutive on the list into
 * one call. Pages go whole: a heavy page is released even when fewer units
 * are still wanted. If a hook fails, the pages of that call stay lru and on
 * the list, and shrinking stops there. Returns the units released (SIZE_MAX
 * as @max_pages: everything).
 */
size_t page_lru_shrink(struct page_lru *lru, size_t max_pages);

/* As page_lru_shrink(), but releases only pages stamped before @stamp. */
size_t page_lru_shrink_older(struct page_lru *lru, uint64_t stamp);

/* The oldest page's stamp, or UINT64_MAX when the list is empty. */
static inline uint64_t page_lru_oldest_stamp(const struct page_lru *lru)
{
	return lru->pages ? lru->head.next->stamp : UINT64_MAX;
}
