/* SPDX-License-Identifier: MIT */
/*
 * A cache of freed blocks of one size, for the objects every call makes and
 * frees (a transaction, its build, its completion, its buffer record).
 *
 * glibc's malloc() and free() cost about 130 instructions a pair on the
 * daemon's hot path even from the thread cache (callgrind, 2026-12-08: 8
 * pairs a call, a tenth of the daemon's instructions); taking a block from
 * this list and giving it back costs a few loads and stores.
 *
 * Invariants: a pool holds at most @cap blocks, each at least @size bytes
 * and none in use; obj_pool_get() returns @size zeroed bytes or NULL, like
 * zalloc(); a block from one pool goes back to that pool (or to free(): a
 * pooled block is an ordinary malloc() block). Not thread-safe: one pool
 * belongs to one thread (the daemon's event loop).
 *
 * Under AddressSanitizer the pool keeps nothing, so that a use after
 * obj_pool_put() is still caught as a use after free.
 */
#pragma once

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/zalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define OBJ_POOL_KEEPS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OBJ_POOL_KEEPS 0
#endif
#endif
#ifndef OBJ_POOL_KEEPS
#define OBJ_POOL_KEEPS 1
#endif

struct obj_pool_block {
	struct obj_pool_block *next;
};

struct obj_pool {
	struct obj_pool_block *free; /* blocks not in use, last freed first */
	size_t size;		     /* bytes of each block, >= sizeof(struct obj_pool_block) */
	unsigned int count;	     /* blocks on @free */
	unsigned int cap;	     /* at most this many on @free; 0: keeps none */
};

/* An empty pool of blocks of @size bytes that keeps at most @cap. */
static inline void obj_pool_init(struct obj_pool *p, size_t size, unsigned int cap)
{
	p->free = NULL;
	p->size = size < sizeof(struct obj_pool_block) ? sizeof(struct obj_pool_block) : size;
	p->count = 0;
	p->cap = OBJ_POOL_KEEPS ? cap : 0;
}

/* @p->size zeroed bytes, or NULL. */
static inline void *obj_pool_get(struct obj_pool *p)
{
	struct obj_pool_block *b = p->free;

	if (!b)
		return zalloc(p->size);
	p->free = b->next;
	p->count--;
	memset(b, 0, p->size);
	return b;
}

/* Gives back @ptr (NULL: nothing), a block of @p's size no longer in use. */
static inline void obj_pool_put(struct obj_pool *p, void *ptr)
{
	struct obj_pool_block *b = ptr;

	if (!b)
		return;
	if (p->count >= p->cap) {
		free(b);
		return;
	}
	b->next = p->free;
	p->free = b;
	p->count++;
}

/* Frees the blocks kept; later puts free theirs at once. */
static inline void obj_pool_deinit(struct obj_pool *p)
{
	while (p->free) {
		struct obj_pool_block *b = p->free;

		p->free = b->next;
		free(b);
	}
	p->count = 0;
	p->cap = 0;
}
