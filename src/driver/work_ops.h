/* SPDX-License-Identifier: MIT */
/*
 * What each kind of work does (work.h: enum work_type), in one table of
 * per-type operations: deliver, when a thread's read takes the item; release,
 * when the item will never be read because its process, thread or node went
 * away (the kernel's binder_thread_read cases and binder_release_work).
 */
#pragma once

#include "driver/entities.h"

enum deliver_outcome {
	DELIVER_MORE, /* the read may take more work */
	DELIVER_END,  /* the read ends after this item */
};

/*
 * Writes @w, just taken off its list, into @thread's read at *pos (room up
 * to @end, read_buf.h) and does what reading it implies: a transaction joins
 * the thread's stack or is freed, a node's counts change, a death becomes
 * delivered. The read ends after a transaction or a BR_DEAD_BINDER.
 */
enum deliver_outcome work_deliver(struct thread *thread, struct work *w, size_t *pos, size_t end);

/*
 * Drops every item on @list (of @proc, or of one of its threads or nodes):
 * a synchronous transaction's sender gets BR_DEAD_REPLY, completions and
 * cleared death notifications are freed, items embedded in their owners are
 * only unlinked.
 */
void work_release_all(struct proc *proc, struct work_list *list);
