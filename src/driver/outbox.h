/* SPDX-License-Identifier: MIT */
/*
 * Giving back the outbox pages a client freed (an outbox with page states,
 * common/outbox_pages.h): the pages its libubinder no longer uses stay
 * resident for the next large parcel, as lru pages of a region do, and the
 * daemon takes them back under memory pressure, after the idle decay time,
 * and on `shrink all`, without the client being asked and without a hole
 * punch on every free. The client's state bytes are hostile input: the
 * daemon only moves FREE to RECLAIMING to HOLE, with compare-and-swap, so a
 * page the client takes meanwhile is left alone, and a lying client loses
 * only its own bytes.
 *
 * Owns: the proc's outbox states and decay bitmap (entities.h).
 * May call: region/page.h, the system (madvise, mincore).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "driver/buffer_space.h"

struct proc;

/* An outbox's pages by state, and measured residency (mincore). */
struct outbox_pages {
	size_t total, state_pages, used, free, holes, reclaiming;
	size_t resident; /* measured on the daemon's mapping, all pages */
};

/* Zeros without an outbox or without page states (resident is measured
 * whenever there is an outbox). */
void outbox_count(const struct proc *proc, struct outbox_pages *out);

/*
 * Gives back the FREE pages of @proc's outbox for @cause; with @decay only
 * those that were FREE at the previous decay scan too (scans are a decay
 * time apart: a page goes after between one and two decay times unused, or
 * earlier if it was used and freed again in between). Returns the pages
 * given back.
 */
size_t outbox_reclaim(struct proc *proc, enum reclaim_cause cause, bool decay);

/* Frees the decay bitmap (the mapping is the proc's to unmap). */
void outbox_forget(struct proc *proc);
