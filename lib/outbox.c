/* SPDX-License-Identifier: MIT */
/*
 * The outbox: memory shared with the daemon (UBW_OUTBOX) in which large
 * parcels are built, so that the daemon copies them into the receiver with a
 * memcpy instead of reading them with process_vm_readv.
 *
 * Each context maps one when it opens. Parcels belong to no context, so a
 * large one takes its buffer from the most recently opened context's outbox
 * (the current one); sent through another context it still works, the
 * daemon then reads it the ordinary way. Page-granular first fit over a
 * bitmap: only parcels larger than the inline limit come here, and they are
 * few. An outbox stays mapped while a parcel uses it, even after its
 * context closed.
 *
 * Freed pages stay resident for the next large parcel (punching them out
 * on every free cost 3.2 ms per MiB): the outbox shares page states with
 * the daemon (UBW_OUTBOX_PAGE_STATES, common/outbox_pages.h), which gives
 * back the FREE ones under memory pressure, after its decay time and on
 * `shrink`. A page is taken with compare-and-swap from HOLE or FREE to USED;
 * one the daemon is giving back (RECLAIMING) is passed over.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/outbox_pages.h"
#include "outbox.h"
#include "context.h"
#include "thread.h"

struct outbox {
	atomic_int refs; /* its context while open, and each parcel in it */
	pthread_mutex_t lock;
	uint8_t *base;
	_Atomic uint8_t *states; /* the first pages of base, shared with the daemon */
	size_t page, npages;
	uint64_t used[]; /* one bit a page */
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct outbox *current;

struct outbox *outbox_new(struct ubinder_thread *ts, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t npages = size / page;
	struct outbox *o = calloc(1, sizeof(*o) + (npages + 63) / 64 * sizeof(uint64_t));
	void *base;

	if (!o)
		return NULL;
	if (npages <= outbox_state_pages(npages, page) ||
	    ubt_outbox(&ts->conn, npages * page, UBT_OUTBOX_PAGE_STATES, &base)) {
		free(o); /* a daemon without outboxes: large parcels are read as before */
		return NULL;
	}
	/* Parcels built in it reach the daemon as addresses, not inline. */
	ubt_session_outbox(&ts->ctx->session, base, npages * page);
	atomic_init(&o->refs, 1);
	pthread_mutex_init(&o->lock, NULL);
	o->base = base;
	o->states = (_Atomic uint8_t *)base;
	o->page = page;
	o->npages = npages;
	/* The state pages are ours for good. */
	for (size_t i = 0; i < outbox_state_pages(npages, page); i++) {
		o->used[i / 64] |= 1ull << (i % 64);
		atomic_store(&o->states[i], OUTBOX_PAGE_USED);
	}
	return o;
}

void outbox_unref(struct outbox *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	munmap(o->base, o->npages * o->page);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

void outbox_publish(struct outbox *o)
{
	struct outbox *old;

	atomic_fetch_add(&o->refs, 1);
	pthread_mutex_lock(&current_lock);
	old = current;
	current = o;
	pthread_mutex_unlock(&current_lock);
	outbox_unref(old);
}

void outbox_retire(struct outbox *o)
{
	bool was = false;

	pthread_mutex_lock(&current_lock);
	if (current == o) {
		current = NULL;
		was = true;
	}
	pthread_mutex_unlock(&current_lock);
	if (was)
		outbox_unref(o);
}

static bool page_used(const struct outbox *o, size_t i)
{
	return o->used[i / 64] & (1ull << (i % 64));
}

static void mark(struct outbox *o, size_t first, size_t n, bool used)
{
	for (size_t i = first; i < first + n; i++) {
		if (used)
			o->used[i / 64] |= 1ull << (i % 64);
		else
			o->used[i / 64] &= ~(1ull << (i % 64));
	}
}

/*
 * Takes the pages [first, first + n), free in the bitmap, from the daemon's
 * side too: HOLE or FREE to USED. A page the daemon is giving back stops it:
 * the pages taken are given their states back and the index of that page is
 * returned; first + n on success.
 */
static size_t take_pages(struct outbox *o, size_t first, size_t n)
{
	for (size_t i = first; i < first + n; i++) {
		uint8_t expected = OUTBOX_PAGE_FREE;

		if (atomic_compare_exchange_strong(&o->states[i], &expected, OUTBOX_PAGE_USED))
			continue;
		expected = OUTBOX_PAGE_HOLE;
		if (atomic_compare_exchange_strong(&o->states[i], &expected, OUTBOX_PAGE_USED))
			continue;
		/* RECLAIMING (or garbage): leave it, and free what this run took. */
		for (size_t j = first; j < i; j++)
			atomic_store(&o->states[j], OUTBOX_PAGE_FREE);
		return i;
	}
	return first + n;
}

void *outbox_alloc(size_t size, size_t *got, struct outbox **owner)
{
	struct outbox *o;
	size_t n, run = 0;
	void *p = NULL;

	pthread_mutex_lock(&current_lock);
	o = current;
	if (o)
		atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&current_lock);
	if (!o)
		return NULL;
	n = (size + o->page - 1) / o->page;
	pthread_mutex_lock(&o->lock);
	for (size_t i = 0; n && n <= o->npages && i < o->npages; i++) {
		run = page_used(o, i) ? 0 : run + 1;
		if (run == n) {
			size_t stop = take_pages(o, i + 1 - n, n);

			if (stop != i + 1) {
				i = stop; /* search on after the page being given back */
				run = 0;
				continue;
			}
			mark(o, i + 1 - n, n, true);
			p = o->base + (i + 1 - n) * o->page;
			break;
		}
	}
	pthread_mutex_unlock(&o->lock);
	if (!p) {
		outbox_unref(o);
		return NULL;
	}
	*got = n * o->page;
	*owner = o;
	return p;
}

void outbox_free(struct outbox *o, void *p, size_t size)
{
	size_t first = (size_t)((uint8_t *)p - o->base) / o->page;

	pthread_mutex_lock(&o->lock);
	mark(o, first, size / o->page, false);
	/* Resident still, for the next parcel; the daemon may give them back. */
	for (size_t i = first; i < first + size / o->page; i++)
		atomic_store(&o->states[i], OUTBOX_PAGE_FREE);
	pthread_mutex_unlock(&o->lock);
	outbox_unref(o);
}

void *outbox_base(const struct outbox *o)
{
	return o->base;
}

size_t outbox_size(const struct outbox *o)
{
	return o->npages * o->page;
}

void outbox_fork_prepare(struct outbox *o)
{
	if (o) {
		pthread_mutex_lock(&o->lock);
		return;
	}
	pthread_mutex_lock(&current_lock);
}

void outbox_fork_parent(struct outbox *o)
{
	pthread_mutex_unlock(o ? &o->lock : &current_lock);
}

void outbox_fork_child(struct outbox *o)
{
	if (o) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	/* The parent's outboxes are private copies now: parcels go on the heap
	 * until the child opens a context of its own. */
	current = NULL;
	pthread_mutex_unlock(&current_lock);
}
