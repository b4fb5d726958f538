/* SPDX-License-Identifier: MIT */
#include <assert.h>
#include <stdint.h>

#include "alloc/page_lru.h"

void page_lru_init(struct page_lru *lru)
{
	lru->head.prev = &lru->head;
	lru->head.next = &lru->head;
	lru->head.owner = NULL;
	lru->pages = 0;
	lru->released = 0;
	lru->clock = 0;
}

void page_lru_deinit(struct page_lru *lru)
{
	assert(lru->pages == 0 && lru->head.next == &lru->head);
	lru->head.prev = lru->head.next = &lru->head;
}

void page_lru_add(struct page_lru *lru, struct page_lru_owner *owner, size_t index)
{
	struct lru_node *n = &owner->nodes[index];

	assert(!n->next);
	n->owner = owner;
	n->stamp = lru->clock;
	n->prev = lru->head.prev;
	n->next = &lru->head;
	lru->head.prev->next = n;
	lru->head.prev = n;
	lru->pages += (size_t)1 << owner->weight_shift;
}

static void unlink_node(struct page_lru *lru, struct lru_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	lru->pages -= (size_t)1 << n->owner->weight_shift;
	n->next = n->prev = NULL;
}

void page_lru_del(struct page_lru *lru, struct page_lru_owner *owner, size_t index)
{
	assert(owner->nodes[index].next);
	unlink_node(lru, &owner->nodes[index]);
}

/* Releases pages stamped before @before, oldest first, until @max_units
 * units are released. */
static size_t shrink(struct page_lru *lru, size_t max_units, uint64_t before)
{
	size_t released = 0;

	while (released < max_units && lru->head.next != &lru->head &&
	       lru->head.next->stamp < before) {
		struct lru_node *first = lru->head.next;
		struct page_lru_owner *owner = first->owner;
		unsigned int shift = owner->weight_shift;
		struct lru_node *last = first;
		size_t count = 1;
		size_t units;

		/* Extend the batch while the list continues with the owner's next
		 * page and more units are wanted. */
		while (((count << shift) < max_units - released) && last->next != &lru->head &&
		       last->next == last + 1 && last->next->owner == owner &&
		       last->next->stamp < before) {
			last = last->next;
			count++;
		}
		if (owner->release(owner, (size_t)(first - owner->nodes), count) != 0)
			break;
		for (size_t i = 0; i < count; i++)
			unlink_node(lru, first + i);
		units = count << shift;
		released = units > SIZE_MAX - released ? SIZE_MAX : released + units;
		lru->released += units;
	}
	return released;
}

size_t page_lru_shrink(struct page_lru *lru, size_t max_pages)
{
	return shrink(lru, max_pages, UINT64_MAX);
}

size_t page_lru_shrink_older(struct page_lru *lru, uint64_t stamp)
{
	return shrink(lru, SIZE_MAX, stamp);
}
