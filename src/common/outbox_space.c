/* SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/outbox_pages.h"
#include "common/outbox_space.h"

struct outbox_space {
	pthread_mutex_t lock;
	uint8_t *base;
	_Atomic uint8_t *states; /* the first pages of base, shared with the daemon */
	size_t page, npages;
	bool retired;	 /* the mapping is going or gone: never touched again; under lock */
	uint64_t used[]; /* one bit a page, under lock */
};

struct outbox_space *outbox_space_new(void *base, size_t size, size_t page)
{
	size_t npages = size / page, nstates = outbox_state_pages(npages, page);
	struct outbox_space *sp;

	if (npages <= nstates)
		return NULL;
	sp = calloc(1, sizeof(*sp) + (npages + 63) / 64 * sizeof(uint64_t));
	if (!sp)
		return NULL;
	pthread_mutex_init(&sp->lock, NULL);
	sp->base = base;
	sp->states = (_Atomic uint8_t *)base;
	sp->page = page;
	sp->npages = npages;
	for (size_t i = 0; i < nstates; i++) {
		sp->used[i / 64] |= 1ull << (i % 64);
		atomic_store(&sp->states[i], OUTBOX_PAGE_USED);
	}
	return sp;
}

void outbox_space_delete(struct outbox_space *sp)
{
	if (!sp)
		return;
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

static bool page_used(const struct outbox_space *sp, size_t i)
{
	return sp->used[i / 64] & (1ull << (i % 64));
}

static void mark(struct outbox_space *sp, size_t first, size_t n, bool used)
{
	for (size_t i = first; i < first + n; i++) {
		if (used)
			sp->used[i / 64] |= 1ull << (i % 64);
		else
			sp->used[i / 64] &= ~(1ull << (i % 64));
	}
}

/*
 * Takes the pages [first, first + n), free in the bitmap, from the daemon's
 * side too: HOLE or FREE to USED. A page the daemon is giving back (or any
 * other state a writer of the shared bytes left) stops it: the pages taken
 * are made FREE again and the index of that page is returned; first + n on
 * success.
 */
static size_t take_pages(struct outbox_space *sp, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++) {
		uint8_t expected = OUTBOX_PAGE_FREE;

		if (atomic_compare_exchange_strong(&sp->states[i], &expected, OUTBOX_PAGE_USED))
			continue;
		expected = OUTBOX_PAGE_HOLE;
		if (atomic_compare_exchange_strong(&sp->states[i], &expected, OUTBOX_PAGE_USED))
			continue;
		for (size_t j = first; j < i; j++)
			atomic_store(&sp->states[j], OUTBOX_PAGE_FREE);
		return i;
	}
	return first + n;
}

void *outbox_space_take(struct outbox_space *sp, size_t size, size_t *got)
{
	size_t n = (size + sp->page - 1) / sp->page, run = 0;
	void *p = NULL;

	pthread_mutex_lock(&sp->lock);
	for (size_t i = 0; !sp->retired && n && n <= sp->npages && i < sp->npages; i++) {
		run = page_used(sp, i) ? 0 : run + 1;
		if (run == n) {
			size_t stop = take_pages(sp, i + 1 - n, n);

			if (stop != i + 1) {
				i = stop; /* search on after the page being given back */
				run = 0;
				continue;
			}
			mark(sp, i + 1 - n, n, true);
			p = sp->base + (i + 1 - n) * sp->page;
			break;
		}
	}
	pthread_mutex_unlock(&sp->lock);
	if (p)
		*got = n * sp->page;
	return p;
}

void outbox_space_give(struct outbox_space *sp, void *p, size_t got)
{
	size_t first = (size_t)((uint8_t *)p - sp->base) / sp->page, n = got / sp->page;

	pthread_mutex_lock(&sp->lock);
	mark(sp, first, n, false);
	/* Resident still, for the next user; the daemon may give them back. */
	for (size_t i = first; !sp->retired && i < first + n; i++)
		atomic_store(&sp->states[i], OUTBOX_PAGE_FREE);
	pthread_mutex_unlock(&sp->lock);
}

void outbox_space_retire(struct outbox_space *sp)
{
	pthread_mutex_lock(&sp->lock);
	sp->retired = true;
	pthread_mutex_unlock(&sp->lock);
}

void *outbox_space_base(const struct outbox_space *sp)
{
	return sp->base;
}

size_t outbox_space_size(const struct outbox_space *sp)
{
	return sp->npages * sp->page;
}

void outbox_space_lock(struct outbox_space *sp)
{
	pthread_mutex_lock(&sp->lock);
}

void outbox_space_unlock(struct outbox_space *sp)
{
	pthread_mutex_unlock(&sp->lock);
}
