/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "driver/bwr.h"
#include "driver/bwr_state.h"
#include "driver/command.h"
#include "driver/ignored.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/read_buf.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"
#include "driver/work_ops.h"

/* Sends the outcome and returns the thread to idle (or to waiting for fd numbers). */
static void bwr_complete(struct thread *thread, int error)
{
	struct bwr_state *bwr = &thread->bwr;
	struct driver *drv = thread->proc->driver;
	struct bwr_result r = {
		.error = error,
		.write_consumed = bwr->write_base_consumed + bwr->write_pos,
		.read_consumed = bwr->read_consumed_in + bwr->read_len,
		.read = drv->read_buf,
		.read_len = bwr->read_len,
		.fds = drv->out_fds,
		.nfds = drv->nout_fds,
		.close_fds = bwr->close_after_free,
		.nclose = bwr->nclose,
		.spawn_looper_at_start = bwr->spawn_looper_at_start,
	};
	struct proc *proc = thread->proc;

	/* binder_ioctl's epilogue: the thread has returned to user space. */
	thread->looper_need_return = false;
	thread->looper &= ~LOOPER_WAITING;
	bwr_close_request_fds(bwr);
	bwr_free_owned(bwr);
	bwr->segments = NULL;
	bwr->nsegments = 0;
	bwr->phase = drv->nout_fds ? BWR_FIXUP : BWR_IDLE;
	bwr->running = false;
	/* Readiness before the answer: a poll right after the ioctl sees the
	 * work the request left for its thread (a completion written without
	 * a read), as right after the kernel's. */
	proc_poll_dirty(proc);

	drv->ops->write_read_done(thread->conn, &r);

	/* The client has its own copies now. */
	for (size_t i = 0; i < drv->nout_fds; i++)
		close(drv->out_fds[i]);
	drv->nout_fds = 0;
	free(bwr->close_after_free);
	bwr->close_after_free = NULL;
	bwr->nclose = 0;
	bwr->write = NULL;
	bwr->write_len = bwr->write_pos = 0;
	bwr->read_len = 0;
	bwr->spawn_looper_at_start = false;
	/* Work left for other loopers goes to them (binder_ioctl_write_read). */
	if (!work_list_empty(&proc->todo))
		proc_wakeup(proc);
}

enum fill_outcome {
	FILL_DONE,  /* the read is complete */
	FILL_RETRY, /* nothing but BR_NOOP: wait again */
};

/*
 * The loop of binder_thread_read: moves work into the read buffer.
 * *only_completions stays true while nothing but completions was written.
 */
static enum fill_outcome read_fill(struct thread *thread, size_t *pos, size_t end,
				   bool *only_completions)
{
	struct proc *proc = thread->proc;
	bool wait_for_proc_work = thread->bwr.wait_for_proc_work;

	for (;;) {
		struct work_list *list;
		struct work *w;

		if (!work_list_empty(&thread->todo))
			list = &thread->todo;
		else if (!work_list_empty(&proc->todo) && wait_for_proc_work)
			list = &proc->todo;
		else {
			if (thread->bwr.read_consumed_in + *pos == 4 && !thread->looper_need_return)
				return FILL_RETRY;
			return FILL_DONE;
		}
		if (end - *pos < sizeof(struct binder_transaction_data_secctx) + 4)
			return FILL_DONE;
		w = work_list_pop(list);
		if (work_list_empty(&thread->todo))
			thread_todo_taken(thread);
		if (w->type != WORK_TRANSACTION_COMPLETE &&
		    w->type != WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT)
			*only_completions = false;

		if (work_deliver(thread, w, pos, end) == DELIVER_END)
			return FILL_DONE;
	}
}

/* Adds the thread to the waiters for proc work (newest first, as the kernel). */
static void wait_for_work(struct thread *thread)
{
	struct proc *proc = thread->proc;

	thread->bwr.phase = BWR_WAITING;
	if (thread->bwr.wait_for_proc_work && !thread->on_waiting_list) {
		TAILQ_INSERT_HEAD(&proc->waiting_threads, thread, waiting_entry);
		thread->on_waiting_list = true;
	}
	proc_poll_dirty(proc);
}

static void leave_waiting_list(struct thread *thread)
{
	if (thread->on_waiting_list) {
		TAILQ_REMOVE(&thread->proc->waiting_threads, thread, waiting_entry);
		thread->on_waiting_list = false;
	}
}

/* binder_wait_for_work saw a signal: the read ends with -EINTR. */
static void end_read_interrupted(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;
	const size_t max_read = thread->proc->driver->config.max_read_size;

	leave_waiting_list(thread);
	if (thread->on_wake_list) {
		TAILQ_REMOVE(&thread->proc->driver->wake_list, thread, wake_entry);
		thread->on_wake_list = false;
	}
	bwr->read_len = 0;
	if (bwr->nheld) {
		/* Held completions are owed to the caller: return them, not EINTR. */
		size_t pos = 0;

		if (bwr->read_consumed_in == 0)
			read_put_u32(thread, &pos, max_read, BR_NOOP);
		for (uint8_t i = 0; i < bwr->nheld; i++)
			read_put_u32(thread, &pos, max_read, bwr->held[i]);
		bwr->nheld = 0;
		bwr->read_len = pos;
		bwr_complete(thread, 0);
		return;
	}
	bwr_complete(thread, -EINTR);
}

/*
 * binder_thread_read from the retry label on: decides whether to wait, and
 * fills the read when there is work. Completes the request unless it waits.
 */
static void read_step(struct thread *thread, bool woken)
{
	struct proc *proc = thread->proc;
	struct bwr_state *bwr = &thread->bwr;
	const size_t max_read = proc->driver->config.max_read_size;
	size_t end, pos, held_start, taken;
	uint8_t put;
	bool only_completions;
	uint64_t avail;

	for (;;) {
		if (!woken) {
			bwr->wait_for_proc_work = thread_available_for_proc_work(thread);
			thread->looper |= LOOPER_WAITING;
			if (bwr->wait_for_proc_work &&
			    !(thread->looper & (LOOPER_REGISTERED | LOOPER_ENTERED)))
				proc_note_ignored(proc, IGNORED_LOOPER_MISUSE,
						  "thread %d waiting for process work before "
						  "calling BC_REGISTER_LOOPER or BC_ENTER_LOOPER",
						  thread->tid);
		}
		woken = false;
		if (!thread_has_work(thread, bwr->wait_for_proc_work)) {
			if (bwr->nonblock) {
				bwr->read_len = 0;
				bwr_complete(thread, -EAGAIN);
				return;
			}
			if (bwr->interrupt_pending) {
				/* binder_wait_for_work sees the pending signal at once. */
				end_read_interrupted(thread);
				return;
			}
			wait_for_work(thread);
			return;
		}
		leave_waiting_list(thread);
		thread->looper &= ~LOOPER_WAITING;
		bwr->phase = BWR_IDLE;

		avail = bwr->read_size > bwr->read_consumed_in
				? bwr->read_size - bwr->read_consumed_in
				: 0;
		end = avail < max_read ? (size_t)avail : max_read;
		pos = 0;
		if (bwr->read_consumed_in == 0 && end >= 4) {
			read_put_u32(thread, &pos, end, BR_NOOP);
		}
		held_start = pos;
		put = 0;
		while (put < bwr->nheld && end - pos >= 4)
			read_put_u32(thread, &pos, end, bwr->held[put++]);
		/* Completions that found no room stay held, in order. */
		memmove(bwr->held, bwr->held + put, (bwr->nheld - put) * sizeof(bwr->held[0]));
		bwr->nheld -= put;
		taken = pos;
		only_completions = true;
		if (read_fill(thread, &pos, end, &only_completions) == FILL_RETRY) {
			thread->looper |= LOOPER_WAITING;
			continue;
		}
		/*
		 * UBW_WR_HOLD_COMPLETE: keep completions for a read with real work,
		 * but only when this round took work off a list: with no room left
		 * for the next item nothing is taken, and waiting again would spin.
		 */
		if (bwr->hold_complete && only_completions && !thread->looper_need_return &&
		    pos > taken &&
		    (pos - held_start) / 4 + bwr->nheld <=
			    sizeof(bwr->held) / sizeof(bwr->held[0])) {
			uint32_t kept[sizeof(bwr->held) / sizeof(bwr->held[0])];
			size_t nkept = 0;

			for (size_t at = held_start; at < pos; at += 4)
				memcpy(&kept[nkept++], proc->driver->read_buf + at, 4);
			memcpy(kept + nkept, bwr->held, bwr->nheld * sizeof(bwr->held[0]));
			nkept += bwr->nheld;
			memcpy(bwr->held, kept, nkept * sizeof(bwr->held[0]));
			bwr->nheld = (uint8_t)nkept;
			thread->looper |= LOOPER_WAITING;
			continue;
		}
		bwr->read_len = pos;
		break;
	}

	if (proc->requested_threads == 0 && TAILQ_EMPTY(&proc->waiting_threads) &&
	    proc->requested_threads_started < proc->max_threads &&
	    (thread->looper & (LOOPER_REGISTERED | LOOPER_ENTERED))) {
		uint32_t spawn = BR_SPAWN_LOOPER;

		proc->requested_threads++;
		read_count_br(thread, BR_SPAWN_LOOPER);
		if (bwr->read_consumed_in == 0 && bwr->read_len >= 4)
			memcpy(proc->driver->read_buf, &spawn, sizeof(spawn));
		else
			bwr->spawn_looper_at_start = true;
	}
	bwr_complete(thread, 0);
}

void bwr_woken(struct thread *thread)
{
	if (thread->bwr.phase != BWR_WAITING)
		return;
	leave_waiting_list(thread);
	read_step(thread, true);
}

void bwr_run(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;
	bool suspended = false;
	int err = 0;

	if (bwr->write_end > 0) {
		err = command_run(thread, &suspended);
		if (suspended)
			return;
		if (err) {
			/* binder_ioctl_write_read: a failed write reports no read. */
			bwr->read_consumed_in = 0;
			bwr->read_len = 0;
			bwr_complete(thread, err);
			return;
		}
	}
	if (bwr->read_size > 0) {
		read_step(thread, false);
		return;
	}
	bwr_complete(thread, 0);
}

bool driver_thread_waiting(const struct thread *thread, uint64_t *write_consumed, bool *noop)
{
	const struct bwr_state *bwr = &thread->bwr;

	if (bwr->phase != BWR_WAITING)
		return false;
	*write_consumed = bwr->write_base_consumed + bwr->write_pos;
	*noop = bwr->read_consumed_in == 0 && bwr->read_size >= sizeof(uint32_t);
	return true;
}

bool driver_thread_read_would_wait(const struct thread *thread)
{
	return !thread->is_dead && !thread->proc->is_dead && thread->bwr.phase == BWR_IDLE &&
	       !thread_has_work(thread, thread_available_for_proc_work(thread));
}

void driver_write_read(struct thread *thread, const struct bwr_request *req)
{
	struct bwr_state *bwr = &thread->bwr;

	driver_take_lazy_reads(thread->proc->driver);
	if (bwr->phase != BWR_IDLE || thread->is_dead) {
		/* The daemon never sends a second request; refuse it all the same. */
		struct bwr_result r = { .error = -EBUSY,
					.write_consumed = req->write_consumed,
					.read_consumed = req->read_consumed };

		for (size_t i = 0; i < req->nfds; i++)
			close(req->fds[i]);
		thread->proc->driver->ops->write_read_done(thread->conn, &r);
		return;
	}
	memset(bwr, 0, sizeof(*bwr));
	bwr->running = true;
	bwr->write = req->write;
	bwr->write_len = req->write_size > req->write_consumed ? req->write_len : 0;
	/* As the kernel, commands run up to write_size; bytes we were not given fault. */
	bwr->write_end = req->write_size > req->write_consumed
				 ? (size_t)(req->write_size - req->write_consumed)
				 : 0;
	bwr->write_overrun = req->write_overrun;
	bwr->write_base_consumed = req->write_consumed;
	bwr->read_size = req->read_size;
	bwr->read_consumed_in = req->read_consumed;
	bwr->nonblock = req->nonblock;
	bwr->hold_complete = req->hold_complete && !req->nonblock;
	/* A promise is for the one write it was made for. */
	if (!req->promised)
		driver_promise_cancel(thread);
	bwr->promised = req->promised && thread->promised_room;
	bwr->segments = req->segments;
	bwr->nsegments = req->nsegments;
	if (req->nfds) {
		bwr->fds = malloc(req->nfds * sizeof(int));
		bwr->sender_fds = malloc(req->nfds * sizeof(int32_t));
		if (!bwr->fds || !bwr->sender_fds) {
			for (size_t i = 0; i < req->nfds; i++)
				close(req->fds[i]);
			free(bwr->fds);
			free(bwr->sender_fds);
			bwr->fds = NULL;
			bwr->sender_fds = NULL;
		} else {
			memcpy(bwr->fds, req->fds, req->nfds * sizeof(int));
			memcpy(bwr->sender_fds, req->sender_fds, req->nfds * sizeof(int32_t));
			bwr->nfds = req->nfds;
		}
	}
	bwr_run(thread);
	if (req->promised)
		driver_promise_cancel(thread); /* a room its reply did not take */
	/* Unless suspended, nothing may keep pointing into the request. */
	if (bwr->phase != BWR_WRITING && !bwr->owned) {
		bwr->segments = NULL;
		bwr->nsegments = 0;
	}
}

void driver_interrupt(struct thread *thread)
{
	driver_take_lazy_reads(thread->proc->driver);
	if (thread->bwr.phase == BWR_WRITING) {
		/* The write part is not interruptible; its read will be. */
		thread->bwr.interrupt_pending = true;
		return;
	}
	if (thread->bwr.phase != BWR_WAITING)
		return; /* the answer is already on its way */
	end_read_interrupted(thread);
}

/*
 * The client could not receive a descriptor: undo the delivery as the
 * kernel's read does when binder_apply_fd_fixups fails. Returns the code that
 * replaces the item in the client's read (0: none).
 */
static uint32_t fixup_failed(struct thread *thread, struct txn_buffer *b)
{
	struct transaction *t = b->transaction;
	uint32_t replacement = b->target_node ? 0 : BR_FAILED_REPLY;

	log_notice("proc %d thread %d: could not receive descriptors: transaction dropped",
		   thread->proc->id.pid, thread->tid);
	if (t) {
		/* A sync call, on our stack since it was read: take it back. */
		if (thread->transaction_stack == t) {
			thread->transaction_stack = t->to_parent;
			t->to_thread = NULL;
		}
		b->transaction = NULL;
		t->buffer = NULL;
		if (t->from)
			transaction_send_failed_reply(t, BR_FAILED_REPLY);
		else
			transaction_free(t);
	}
	b->async_transaction = b->async_transaction && b->target_node;
	txn_buffer_free(b, NULL);
	return replacement;
}

int driver_fd_fixup(struct thread *thread, const int32_t *numbers, size_t count,
		    uint32_t *replacement)
{
	struct bwr_state *bwr = &thread->bwr;

	driver_take_lazy_reads(thread->proc->driver);
	*replacement = 0;
	if (bwr->phase != BWR_FIXUP)
		return -EPROTO;
	for (size_t i = 0; i < count && count == bwr->nslots; i++) {
		if (numbers[i] < 0) {
			*replacement = fixup_failed(thread, bwr->slots[0].buffer);
			free(bwr->slots);
			bwr->slots = NULL;
			bwr->nslots = 0;
			bwr->phase = BWR_IDLE;
			return -EBADF;
		}
	}
	if (count != bwr->nslots) {
		/* A confused client: the descriptors are its problem, the buffer is its own. */
		buffer_space_deliver(&bwr->slots[0].buffer->proc->space,
				     bwr->slots[0].buffer->range);
		free(bwr->slots);
		bwr->slots = NULL;
		bwr->nslots = 0;
		bwr->phase = BWR_IDLE;
		return -EINVAL;
	}
	for (size_t i = 0; i < count; i++) {
		struct fd_slot *slot = &bwr->slots[i];
		struct txn_buffer *b = slot->buffer;
		uint32_t fd = (uint32_t)numbers[i];

		/* Not yet delivered, so no other thread can have freed it. */
		memcpy(txn_buffer_mem(b) + slot->offset, &fd, sizeof(fd));
		if (slot->close_on_free && numbers[i] >= 0)
			txn_buffer_add_fda_fd(b, numbers[i]);
	}
	buffer_space_deliver(&bwr->slots[0].buffer->proc->space, bwr->slots[0].buffer->range);
	free(bwr->slots);
	bwr->slots = NULL;
	bwr->nslots = 0;
	bwr->phase = BWR_IDLE;
	return 0;
}
