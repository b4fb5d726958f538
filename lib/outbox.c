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
 * bitmap (common/outbox_space.h): only parcels larger than the inline
 * limit come here, and they are few. An outbox stays mapped while a parcel
 * uses it, even after its context closed.
 *
 * Freed pages stay resident for the next large parcel (punching them out
 * on every free cost 3.2 ms per MiB): the outbox shares page states with
 * the daemon (UBW_OUTBOX_PAGE_STATES, common/outbox_pages.h), which gives
 * back the FREE ones under memory pressure, after its decay time and on
 * `shrink`.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/outbox_pages.h"
#include "common/outbox_space.h"
#include "outbox.h"
#include "context.h"
#include "thread.h"

struct outbox {
	atomic_int refs; /* its context while open, and each parcel in it */
	struct outbox_space *space;
};

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct outbox *current;

struct outbox *outbox_new(struct ubinder_thread *ts, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t npages = size / page;
	struct outbox *o = calloc(1, sizeof(*o));
	void *base;

	if (!o)
		return NULL;
	if (npages <= outbox_state_pages(npages, page) ||
	    ubt_outbox(&ts->conn, npages * page, UBT_OUTBOX_PAGE_STATES, &base)) {
		free(o); /* a daemon without outboxes: large parcels are read as before */
		return NULL;
	}
	o->space = outbox_space_new(base, npages * page, page);
	if (!o->space) {
		munmap(base, npages * page);
		free(o);
		return NULL;
	}
	/* Parcels built in it reach the daemon as addresses, not inline. */
	ubt_session_outbox(&ts->ctx->session, base, npages * page);
	atomic_init(&o->refs, 1);
	return o;
}

void outbox_unref(struct outbox *o)
{
	if (!o || atomic_fetch_sub(&o->refs, 1) != 1)
		return;
	munmap(outbox_space_base(o->space), outbox_space_size(o->space));
	outbox_space_delete(o->space);
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

void *outbox_alloc(size_t size, size_t *got, struct outbox **owner)
{
	struct outbox *o;
	void *p;

	pthread_mutex_lock(&current_lock);
	o = current;
	if (o)
		atomic_fetch_add(&o->refs, 1);
	pthread_mutex_unlock(&current_lock);
	if (!o)
		return NULL;
	p = outbox_space_take(o->space, size, got);
	if (!p) {
		outbox_unref(o);
		return NULL;
	}
	*owner = o;
	return p;
}

void outbox_free(struct outbox *o, void *p, size_t size)
{
	outbox_space_give(o->space, p, size);
	outbox_unref(o);
}

void *outbox_base(const struct outbox *o)
{
	return outbox_space_base(o->space);
}

size_t outbox_size(const struct outbox *o)
{
	return outbox_space_size(o->space);
}

void outbox_fork_prepare(struct outbox *o)
{
	if (o) {
		outbox_space_lock(o->space);
		return;
	}
	pthread_mutex_lock(&current_lock);
}

void outbox_fork_parent(struct outbox *o)
{
	if (o)
		outbox_space_unlock(o->space);
	else
		pthread_mutex_unlock(&current_lock);
}

void outbox_fork_child(struct outbox *o)
{
	if (o) {
		outbox_space_unlock(o->space);
		return;
	}
	/* The parent's outboxes are private copies now: parcels go on the heap
	 * until the child opens a context of its own. */
	current = NULL;
	pthread_mutex_unlock(&current_lock);
}
