/* SPDX-License-Identifier: MIT */
#include <linux/android/binder.h>

#include "driver/buffer_space.h"
#include "driver/driver.h"
#include "driver/reply_promise.h"
#include "driver/todo.h"
#include "driver/txn_buffer.h"

/* A read's room for the completion: its BR_NOOP, then what read_fill wants
 * free before it takes any item (bwr.c). */
#define COMPLETION_READ_ROOM (4u + sizeof(struct binder_transaction_data_secctx) + 4u)

/*
 * Whether no read of @thread can end with BR_SPAWN_LOOPER, whatever frees
 * do to the process's waiting threads (bwr.c asks for a looper when none
 * is requested, none waits, fewer than max_threads were started, and the
 * reader is a looper).
 */
static bool spawn_impossible(const struct thread *thread)
{
	const struct proc *proc = thread->proc;

	return proc->requested_threads > 0 ||
	       proc->requested_threads_started >= proc->max_threads ||
	       !(thread->looper & (LOOPER_REGISTERED | LOOPER_ENTERED));
}

/* The caller a reply of @thread's would go to, if such a reply would succeed. */
static struct thread *reply_caller(const struct thread *thread)
{
	const struct transaction *t = thread->transaction_stack;

	/* resolve_target's and transaction_finish's checks (transaction.c). */
	if (!t || t->to_thread != thread || !t->from || t->from->transaction_stack != t ||
	    t->from->is_dead || t->from->proc->is_dead)
		return NULL;
	return t->from;
}

/*
 * The room a promise would reserve first: the thread's last reply (its
 * process's, for a thread that never replied: a new thread of a pool
 * serves the same calls) rounded up to 4 KiB, between @min and @max. The
 * room cannot make another transaction into the caller's process fail:
 * the promise is closed before any other driver operation, the room given
 * back or taken by the reply, which the kernel would allocate as well.
 */
static uint32_t room_wanted(const struct thread *thread, uint32_t min, uint32_t max)
{
	uint64_t last =
		thread->has_replied ? thread->last_reply_size : thread->proc->last_reply_size;
	uint64_t want = (last + 4095u) & ~(uint64_t)4095u;

	return want <= min ? min : want > max ? max : (uint32_t)want;
}

uint32_t driver_promise_reply(struct thread *thread, uint32_t min, uint32_t max)
{
	struct proc *proc = thread->proc;
	struct txn_buffer *room;
	struct thread *caller;
	uint32_t limit;
	bool spam;

	if (thread->promised_room || thread->is_dead || proc->is_dead ||
	    thread->bwr.phase != BWR_IDLE || !work_list_empty(&thread->todo) ||
	    thread->process_todo || thread->looper_need_return || proc->fda_buffers ||
	    !spawn_impossible(thread) || proc->driver->config.max_read_size < COMPLETION_READ_ROOM)
		return 0;
	caller = reply_caller(thread);
	if (!caller)
		return 0;
	/* A room of the last reply's size, or, where that does not fit, @min. */
	limit = room_wanted(thread, min, max);
	if (!binder_is_ok(txn_buffer_alloc(caller->proc, limit, 0, 0, false, proc, &room, &spam))) {
		if (limit == min || !binder_is_ok(txn_buffer_alloc(caller->proc, min, 0, 0, false,
								   proc, &room, &spam)))
			return 0;
		limit = min;
	}
	if (buffer_space_trim_prepare(&caller->proc->space)) {
		txn_buffer_free(room, NULL);
		return 0;
	}
	room->promised_to = thread;
	thread->promised_room = room;
	proc->driver->stats.promises_made++;
	return limit;
}

void driver_promise_cancel(struct thread *thread)
{
	struct txn_buffer *room = thread->promised_room;

	if (!room)
		return;
	thread->promised_room = NULL;
	room->promised_to = NULL;
	txn_buffer_free(room, NULL);
	thread->proc->driver->stats.promises_cancelled++;
}

struct txn_buffer *reply_promise_take(struct thread *thread, const struct proc *target,
				      uint64_t data_size, uint64_t offsets_size,
				      uint64_t extra_size)
{
	struct txn_buffer *room = thread->promised_room;

	if (!room || !thread->bwr.promised || room->proc != target)
		return NULL;
	/* -ENOMEM (no record for the tail: prepared, so never) keeps the whole room. */
	if (buffer_space_trim(&room->proc->space, room->range, data_size, offsets_size,
			      extra_size) == -EINVAL)
		return NULL;
	thread->promised_room = NULL;
	room->promised_to = NULL;
	thread->proc->driver->stats.promises_kept++;
	return room;
}
