/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "driver/bwr.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"
#include "wire/wire.h"

static void count_br(struct thread *thread, uint32_t cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (nr < STATS_BR_COUNT) {
		thread->proc->stats.br[nr]++;
		thread->proc->driver->stats.br[nr]++;
	}
}

void bwr_close_after_free(struct thread *thread, const int32_t *fds, size_t n)
{
	int32_t *grown =
		realloc(thread->bwr.close_after_free, (thread->bwr.nclose + n) * sizeof(*grown));

	if (!grown) {
		log_warning("out of memory: %zu fd-array descriptors left open", n);
		return;
	}
	memcpy(grown + thread->bwr.nclose, fds, n * sizeof(*fds));
	thread->bwr.close_after_free = grown;
	thread->bwr.nclose += n;
}

/* Closes descriptors the request brought that no transaction took. */
static void close_request_fds(struct bwr_state *bwr)
{
	for (size_t i = 0; i < bwr->nfds; i++) {
		if (bwr->fds[i] >= 0)
			close(bwr->fds[i]);
	}
	free(bwr->fds);
	free(bwr->sender_fds);
	bwr->fds = NULL;
	bwr->sender_fds = NULL;
	bwr->nfds = 0;
}

/* Frees the copies made by bwr_make_owned(). */
static void free_owned(struct bwr_state *bwr)
{
	if (!bwr->owned)
		return;
	free(bwr->owned);
	free(bwr->segments);
	bwr->owned = NULL;
	bwr->segments = NULL;
	bwr->nsegments = 0;
	bwr->write = NULL;
}

void bwr_discard(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;

	close_request_fds(bwr);
	free_owned(bwr);
	/* A buffer whose descriptors never got their numbers is the client's all the same. */
	if (bwr->phase == BWR_FIXUP && bwr->nslots)
		range_alloc_deliver(&bwr->slots[0].buffer->proc->alloc,
				    bwr->slots[0].buffer->range);
	free(bwr->slots);
	free(bwr->close_after_free);
	memset(bwr, 0, sizeof(*bwr));
}

int bwr_make_owned(struct thread *thread)
{
	struct bwr_state *bwr = &thread->bwr;
	size_t bytes = bwr->write_len + bwr->write_overrun;
	struct mem_segment *segs = NULL;
	uint8_t *owned, *p;

	if (bwr->owned)
		return 0;
	for (size_t i = 0; i < bwr->nsegments; i++)
		bytes += bwr->segments[i].length;
	owned = malloc(bytes ? bytes : 1);
	if (bwr->nsegments)
		segs = malloc(bwr->nsegments * sizeof(*segs));
	if (!owned || (bwr->nsegments && !segs)) {
		free(owned);
		free(segs);
		return -ENOMEM;
	}
	memcpy(owned, bwr->write, bwr->write_len + bwr->write_overrun);
	bwr->write = owned;
	p = owned + bwr->write_len + bwr->write_overrun;
	for (size_t i = 0; i < bwr->nsegments; i++) {
		segs[i] = bwr->segments[i];
		memcpy(p, segs[i].bytes, segs[i].length);
		segs[i].bytes = p;
		p += segs[i].length;
	}
	bwr->segments = segs;
	bwr->owned = owned;
	return 0;
}

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
	close_request_fds(bwr);
	free_owned(bwr);
	bwr->segments = NULL;
	bwr->nsegments = 0;
	bwr->phase = drv->nout_fds ? BWR_FIXUP : BWR_IDLE;

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
	proc_poll_dirty(proc);
}

static int put_u32(struct thread *thread, size_t *pos, size_t end, uint32_t value)
{
	if (end - *pos < sizeof(value))
		return -EFAULT;
	memcpy(thread->proc->driver->read_buf + *pos, &value, sizeof(value));
	*pos += sizeof(value);
	return 0;
}

static int put_cmd_ptr(struct thread *thread, size_t *pos, size_t end, uint32_t cmd,
		       const void *arg, size_t size)
{
	if (end - *pos < sizeof(cmd) + size)
		return -EFAULT;
	put_u32(thread, pos, end, cmd);
	memcpy(thread->proc->driver->read_buf + *pos, arg, size);
	*pos += size;
	count_br(thread, cmd);
	return 0;
}

/* BR_INCREFS/BR_ACQUIRE/BR_RELEASE/BR_DECREFS for a node's owner. */
static int read_node_work(struct thread *thread, struct node *node, size_t *pos, size_t end)
{
	struct binder_ptr_cookie pc = { .ptr = node->ptr, .cookie = node->cookie };
	bool strong = node->internal_strong_refs || node->local_strong_refs;
	bool weak = !LIST_EMPTY(&node->refs) || node->local_weak_refs || node->tmp_refs || strong;
	bool has_strong = node->has_strong_ref;
	bool has_weak = node->has_weak_ref;
	bool free_node = !weak && !strong;
	int err = 0;

	if (weak && !has_weak) {
		node->has_weak_ref = true;
		node->pending_weak_ref = true;
		node->local_weak_refs++;
	}
	if (strong && !has_strong) {
		node->has_strong_ref = true;
		node->pending_strong_ref = true;
		node->local_strong_refs++;
	}
	if (!strong && has_strong)
		node->has_strong_ref = false;
	if (!weak && has_weak)
		node->has_weak_ref = false;

	if (weak && !has_weak)
		err = put_cmd_ptr(thread, pos, end, BR_INCREFS, &pc, sizeof(pc));
	if (!err && strong && !has_strong)
		err = put_cmd_ptr(thread, pos, end, BR_ACQUIRE, &pc, sizeof(pc));
	if (!err && !strong && has_strong)
		err = put_cmd_ptr(thread, pos, end, BR_RELEASE, &pc, sizeof(pc));
	if (!err && !weak && has_weak)
		err = put_cmd_ptr(thread, pos, end, BR_DECREFS, &pc, sizeof(pc));
	/* Nothing refers to it any more: the owner has heard of it, now it goes. */
	if (free_node)
		node_free(node);
	return err;
}

/* Hands a transaction's descriptors to the reply being built. */
static int take_fd_fixups(struct thread *thread, struct transaction *t)
{
	struct driver *drv = thread->proc->driver;
	struct bwr_state *bwr = &thread->bwr;
	struct fd_slot *slots;

	if (t->nfixups == 0)
		return 0;
	if (t->nfixups > UBW_MAX_FDS)
		return -EMFILE;
	slots = calloc(t->nfixups, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->nfixups; i++) {
		drv->out_fds[drv->nout_fds++] = t->fixups[i].fd;
		t->fixups[i].fd = -1;
		slots[i].buffer = t->buffer;
		slots[i].offset = t->fixups[i].offset;
		slots[i].close_on_free = t->fixups[i].close_on_free;
	}
	free(bwr->slots);
	bwr->slots = slots;
	bwr->nslots = t->nfixups;
	return 0;
}

/* The kernel's task_tgid_nr_ns(sender, reader's namespace): 0 if not visible. */
static pid_t sender_pid_seen_by(const struct transaction *t, const struct proc *reader)
{
	const struct proc *sender;

	if (!t->from)
		return 0;
	sender = t->from->proc;
	return ns_view_pid(&sender->id.ns, sender->id.pid, &reader->id.ns);
}

/* Writes BR_TRANSACTION(_SEC_CTX)/BR_REPLY for @t. */
static int read_transaction(struct thread *thread, struct transaction *t, size_t *pos, size_t end)
{
	struct proc *proc = thread->proc;
	struct txn_buffer *buffer = t->buffer;
	struct binder_transaction_data_secctx tr = { 0 };
	struct binder_transaction_data *trd = &tr.transaction_data;
	size_t trsize = sizeof(*trd);
	uint32_t cmd;
	int err;

	if (buffer->target_node) {
		trd->target.ptr = buffer->target_node->ptr;
		trd->cookie = buffer->target_node->cookie;
		cmd = BR_TRANSACTION;
	} else {
		cmd = BR_REPLY;
	}
	trd->code = t->code;
	trd->flags = t->flags;
	trd->sender_euid = ns_view_uid(&proc->id.ns, t->sender_euid);
	trd->sender_pid = sender_pid_seen_by(t, proc);
	err = take_fd_fixups(thread, t);
	if (err) {
		/* As binder_apply_fd_fixups failing: the reader never sees it. */
		struct thread *from = t->from;

		log_warning("proc %d: cannot pass %zu descriptors: %s", proc->id.pid, t->nfixups,
			    strerror(-err));
		txn_buffer_free(buffer, thread);
		if (from) {
			transaction_send_failed_reply(t, BR_FAILED_REPLY);
		} else {
			transaction_free(t);
			if (cmd == BR_REPLY)
				return put_u32(thread, pos, end, BR_FAILED_REPLY);
		}
		return 0;
	}
	trd->data_size = buffer->range->data_size;
	trd->offsets_size = buffer->range->offsets_size;
	trd->data.ptr.buffer = txn_buffer_user_addr(buffer);
	trd->data.ptr.offsets = trd->data.ptr.buffer + ((trd->data_size + 7) & ~(uint64_t)7);
	tr.secctx = t->security_ctx;
	if (t->security_ctx) {
		cmd = BR_TRANSACTION_SEC_CTX;
		trsize = sizeof(tr);
	}
	put_cmd_ptr(thread, pos, end, cmd, &tr, trsize);
	/* With descriptors, the client may free it once their numbers are in. */
	if (t->nfixups == 0)
		range_alloc_deliver(&proc->alloc, buffer->range);

	if (cmd != BR_REPLY && !(t->flags & TF_ONE_WAY)) {
		t->to_parent = thread->transaction_stack;
		t->to_thread = thread;
		thread->transaction_stack = t;
	} else {
		transaction_free(t);
	}
	return 0;
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
			thread->process_todo = false;
		if (w->type != WORK_TRANSACTION_COMPLETE &&
		    w->type != WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT)
			*only_completions = false;

		switch (w->type) {
		case WORK_TRANSACTION: {
			struct transaction *t =
				(struct transaction *)((char *)w -
						       offsetof(struct transaction, work));

			read_transaction(thread, t, pos, end);
			return FILL_DONE;
		}
		case WORK_RETURN_ERROR: {
			struct error_work *e = (struct error_work *)w;
			uint32_t cmd = e->cmd;

			e->cmd = BR_OK;
			put_u32(thread, pos, end, cmd);
			count_br(thread, cmd);
			break;
		}
		case WORK_TRANSACTION_COMPLETE:
		case WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT: {
			uint32_t cmd = BR_TRANSACTION_COMPLETE;

			if (w->type == WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT &&
			    proc->oneway_spam_detection_enabled)
				cmd = BR_ONEWAY_SPAM_SUSPECT;
			free(w);
			put_u32(thread, pos, end, cmd);
			count_br(thread, cmd);
			break;
		}
		case WORK_NODE:
			read_node_work(thread,
				       (struct node *)((char *)w - offsetof(struct node, work)),
				       pos, end);
			break;
		case WORK_DEAD_BINDER:
		case WORK_DEAD_BINDER_AND_CLEAR:
		case WORK_CLEAR_DEATH_NOTIFICATION: {
			struct ref_death *death = (struct ref_death *)w;
			uint32_t cmd = w->type == WORK_CLEAR_DEATH_NOTIFICATION
					       ? BR_CLEAR_DEATH_NOTIFICATION_DONE
					       : BR_DEAD_BINDER;
			uint64_t cookie = death->cookie;

			if (w->type == WORK_CLEAR_DEATH_NOTIFICATION) {
				ref_death_free(proc->driver, death);
			} else {
				work_enqueue(&proc->delivered_death, w);
			}
			put_cmd_ptr(thread, pos, end, cmd, &cookie, sizeof(cookie));
			/* A death notification can cause transactions: return now. */
			if (cmd == BR_DEAD_BINDER)
				return FILL_DONE;
			break;
		}
		}
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
			put_u32(thread, &pos, UBW_MAX_READ_SIZE, BR_NOOP);
		for (uint8_t i = 0; i < bwr->nheld; i++)
			put_u32(thread, &pos, UBW_MAX_READ_SIZE, bwr->held[i]);
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
	size_t end, pos, held_start;
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
		end = avail < UBW_MAX_READ_SIZE ? (size_t)avail : UBW_MAX_READ_SIZE;
		pos = 0;
		if (bwr->read_consumed_in == 0 && end >= 4) {
			put_u32(thread, &pos, end, BR_NOOP);
		}
		held_start = pos;
		for (uint8_t i = 0; i < bwr->nheld && end - pos >= 4; i++)
			put_u32(thread, &pos, end, bwr->held[i]);
		bwr->nheld = 0;
		only_completions = true;
		if (read_fill(thread, &pos, end, &only_completions) == FILL_RETRY) {
			thread->looper |= LOOPER_WAITING;
			continue;
		}
		if (bwr->hold_complete && only_completions && !thread->looper_need_return &&
		    (pos - held_start) / 4 <= sizeof(bwr->held) / sizeof(bwr->held[0])) {
			/* UBW_WR_HOLD_COMPLETE: keep them for a read with real work. */
			for (size_t at = held_start; at < pos; at += 4)
				memcpy(&bwr->held[bwr->nheld++], proc->driver->read_buf + at, 4);
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
		count_br(thread, BR_SPAWN_LOOPER);
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

void driver_write_read(struct thread *thread, const struct bwr_request *req)
{
	struct bwr_state *bwr = &thread->bwr;

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
	bwr->segments = (struct mem_segment *)req->segments;
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
	/* Unless suspended, nothing may keep pointing into the request. */
	if (bwr->phase != BWR_WRITING && !bwr->owned) {
		bwr->segments = NULL;
		bwr->nsegments = 0;
	}
}

void driver_interrupt(struct thread *thread)
{
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
		range_alloc_deliver(&bwr->slots[0].buffer->proc->alloc,
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
	range_alloc_deliver(&bwr->slots[0].buffer->proc->alloc, bwr->slots[0].buffer->range);
	free(bwr->slots);
	bwr->slots = NULL;
	bwr->nslots = 0;
	bwr->phase = BWR_IDLE;
	return 0;
}
