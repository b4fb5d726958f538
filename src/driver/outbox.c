/* SPDX-License-Identifier: MIT */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common/outbox_pages.h"
#include "driver/driver.h"
#include "driver/entities.h"
#include "driver/outbox.h"
#include "region/page.h"

static size_t outbox_pages_of(const struct proc *proc)
{
	return proc->outbox_size / PAGE_SIZE;
}

/*
 * Reading the client's state pages mapped them into the daemon: let them go
 * from its page tables (they stay the client's, in the file), so that an
 * outbox costs the daemon's RSS nothing between scans.
 */
static void unmap_states(const struct proc *proc)
{
	size_t n = outbox_state_pages(outbox_pages_of(proc), PAGE_SIZE);

	(void)madvise((void *)proc->outbox, n * PAGE_SIZE, MADV_DONTNEED);
}

void outbox_count(const struct proc *proc, struct outbox_pages *out)
{
	size_t pages = outbox_pages_of(proc);
	unsigned char *vec;

	*out = (struct outbox_pages){ 0 };
	if (!proc->outbox)
		return;
	out->total = pages;
	vec = malloc(pages);
	if (vec && mincore((void *)proc->outbox, proc->outbox_size, vec) == 0) {
		for (size_t i = 0; i < pages; i++)
			out->resident += vec[i] & 1;
	}
	free(vec);
	if (!proc->outbox_states)
		return;
	out->state_pages = outbox_state_pages(pages, PAGE_SIZE);
	for (size_t i = out->state_pages; i < pages; i++) {
		switch (atomic_load_explicit(&proc->outbox_states[i], memory_order_relaxed)) {
		case OUTBOX_PAGE_HOLE:
			out->holes++;
			break;
		case OUTBOX_PAGE_FREE:
			out->free++;
			break;
		case OUTBOX_PAGE_RECLAIMING:
			out->reclaiming++;
			break;
		default: /* USED, or whatever else the client wrote */
			out->used++;
			break;
		}
	}
	unmap_states(proc);
}

/* Punches out the run [first, first + n), all RECLAIMING by us; HOLE after,
 * or FREE again when the kernel refused. Returns the pages given back. */
static size_t give_back(struct proc *proc, size_t first, size_t n)
{
	bool ok;

	if (n == 0)
		return 0;
	ok = madvise((void *)(proc->outbox + first * PAGE_SIZE), n * PAGE_SIZE, MADV_REMOVE) == 0;
	for (size_t i = first; i < first + n; i++)
		atomic_store(&proc->outbox_states[i], ok ? OUTBOX_PAGE_HOLE : OUTBOX_PAGE_FREE);
	return ok ? n : 0;
}

size_t outbox_reclaim(struct proc *proc, enum reclaim_cause cause, bool decay)
{
	size_t pages, first, run = 0, given = 0;
	uint64_t *seen;

	if (!proc->outbox_states)
		return 0;
	pages = outbox_pages_of(proc);
	first = outbox_state_pages(pages, PAGE_SIZE);
	if (decay && !proc->outbox_seen_free) {
		proc->outbox_seen_free = calloc((pages + 63) / 64, sizeof(uint64_t));
		if (!proc->outbox_seen_free)
			return 0;
	}
	seen = proc->outbox_seen_free;
	for (size_t i = first; i < pages; i++) {
		uint8_t expected = OUTBOX_PAGE_FREE;
		bool is_free = atomic_load_explicit(&proc->outbox_states[i],
						    memory_order_relaxed) == OUTBOX_PAGE_FREE;
		bool take = is_free;

		if (decay) {
			uint64_t bit = 1ull << (i % 64);

			take = is_free && (seen[i / 64] & bit);
			seen[i / 64] = is_free && !take ? seen[i / 64] | bit : seen[i / 64] & ~bit;
		}
		if (take && atomic_compare_exchange_strong(&proc->outbox_states[i], &expected,
							   OUTBOX_PAGE_RECLAIMING)) {
			run++;
			continue;
		}
		given += give_back(proc, i - run, run);
		run = 0;
	}
	given += give_back(proc, pages - run, run);
	unmap_states(proc);
	proc->outbox_reclaimed[cause] += given;
	proc->driver->outbox_reclaimed[cause] += given;
	return given;
}

bool driver_outbox_holds(const struct thread *thread, uint64_t addr, uint64_t len)
{
	const struct proc *proc = thread->proc;

	/* The sources a transaction's copy reads the outbox by (transaction.c). */
	return proc->outbox && !proc->outbox_gone && thread->peer.pid == proc->id.pid &&
	       addr >= proc->outbox_base && addr - proc->outbox_base <= proc->outbox_size &&
	       len <= proc->outbox_size - (addr - proc->outbox_base);
}

void outbox_forget(struct proc *proc)
{
	free(proc->outbox_seen_free);
	proc->outbox_seen_free = NULL;
}
