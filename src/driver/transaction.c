/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/zalloc.h"
#include "common/log.h"
#include "driver/binder_error.h"
#include "driver/bwr_state.h"
#include "driver/dead_reply.h"
#include "driver/fetch.h"
#include "driver/freeze.h"
#include "driver/node.h"
#include "driver/objects.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/reply_promise.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"

#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

/* Label of a sender with no security module label (no LSM active). */
static const char unlabeled_context[] = "ubinder:unlabeled";

/* The security context a transaction from @proc carries. */
static const char *sender_label(const struct proc *proc)
{
	return proc->id.seclabel[0] ? proc->id.seclabel : unlabeled_context;
}

/*
 * A transaction under construction: what binder_transaction() keeps in its
 * locals, kept here because the fetch may complete later, on another event.
 */
struct txn_build {
	struct thread *thread; /* sender; tmp ref */
	struct proc *proc;
	struct binder_transaction_data tr;
	uint64_t extra_buffers_size;
	bool reply;
	struct transaction *in_reply_to;
	struct thread *target_thread; /* tmp ref */
	struct proc *target_proc;     /* tmp ref */
	struct node *target_node;     /* tmp ref + local strong ref until the buffer owns it */
	struct transaction *t;
	struct work *tcomplete;
	uint64_t debug_id;
	uint64_t secctx_size;
	bool spam_suspect;
	struct binder_error error; /* why it failed, once it has */
	struct fetch_job job;
};

/* Where the failure path starts unwinding, as the kernel's error labels. */
enum fail_stage {
	FAIL_EARLY,	   /* before the transaction existed */
	FAIL_NO_BUFFER,	   /* transaction allocated, buffer not */
	FAIL_BUFFER,	   /* buffer allocated and (partly) filled */
	FAIL_NOT_DELIVERED /* complete, but the target is gone */
};

static void user_error(struct thread *thread, const char *what)
{
	log_notice("%s: proc %d thread %d: %s", thread->proc->context->name, thread->proc->id.pid,
		   thread->tid, what);
}

void transaction_pop(struct thread *thread, struct transaction *t)
{
	/* Only ever called for the top of the stack, sent by @thread. */
	thread->transaction_stack = t->from_parent;
	t->from = NULL;
}

void transaction_free(struct transaction *t)
{
	struct proc *target_proc = t->to_proc;

	if (target_proc) {
		target_proc->outstanding_txns--;
		if (t->buffer)
			t->buffer->transaction = NULL;
		freeze_check(target_proc);
	}
	for (size_t i = 0; i < t->nfixups; i++)
		close(t->fixups[i].fd);
	free(t->fixups);
	t->driver->stats.transactions_deleted++;
	obj_pool_put(&t->driver->pools.transactions, t);
}

static void set_extended_error(struct binder_extended_error *ee, uint64_t id, uint32_t command,
			       int32_t param)
{
	ee->id = (uint32_t)id;
	ee->command = command;
	ee->param = param;
}

void transaction_send_failed_reply(struct transaction *t, uint32_t error_code)
{
	for (;;) {
		struct thread *target_thread = t->from;
		struct transaction *next;

		if (target_thread) {
			transaction_pop(target_thread, t);
			if (target_thread->reply_error.cmd == BR_OK) {
				target_thread->reply_error.cmd = error_code;
				thread_enqueue_work(target_thread,
						    &target_thread->reply_error.work);
				thread_wakeup(target_thread);
			} else {
				/* Possible only with several sync calls sent without waiting. */
				log_warning("unexpected reply error: %u",
					    target_thread->reply_error.cmd);
			}
			transaction_free(t);
			return;
		}
		next = t->from_parent;
		log_debug("send failed reply for transaction %llu, target dead",
			  (unsigned long long)t->debug_id);
		transaction_free(t);
		if (!next)
			return;
		t = next;
	}
}

/*
 * @b is about to fail with BR_DEAD_REPLY for @cause. Who reads it: a reply's
 * caller (if its thread is still there), else the sender (if it is).
 */
static void note_dead_reply(struct txn_build *b, enum dead_reply_cause cause)
{
	struct proc *reader = b->thread->is_dead ? NULL : b->proc;

	if (b->in_reply_to)
		reader = b->in_reply_to->from ? b->in_reply_to->from->proc : NULL;
	dead_reply_note(b->proc->driver, reader, b->target_proc ? b->target_proc->id.pid : 0,
			b->debug_id, cause);
}

/*
 * Takes what a transaction to @node needs (binder_get_node_refs_for_txn): a
 * local strong count, a tmp ref on the node and on its process, into *nodep
 * and *procp. BR_DEAD_REPLY if its process is gone.
 */
static struct binder_error node_refs_for_txn(struct txn_build *b, struct node *node,
					     struct node **nodep, struct proc **procp)
{
	if (!node->proc) {
		note_dead_reply(b, DEAD_NODE_RELEASED);
		return binder_error_of(BR_DEAD_REPLY, -EINVAL);
	}
	node_inc(node, true, false, NULL);
	node_inc_tmpref(node);
	proc_inc_tmpref(node->proc);
	*procp = node->proc;
	*nodep = node;
	return binder_ok();
}

/* Two queued oneways the newer may replace (TF_UPDATE_TXN to a frozen process). */
static bool can_update(const struct transaction *queued, const struct transaction *t)
{
	const uint32_t both = TF_ONE_WAY | TF_UPDATE_TXN;

	if ((queued->flags & t->flags & both) != both || !queued->to_proc || !t->to_proc)
		return false;
	return queued->to_proc == t->to_proc && queued->code == t->code &&
	       queued->flags == t->flags && queued->buffer && t->buffer &&
	       queued->buffer->range->pid == t->buffer->range->pid &&
	       queued->buffer->target_node->ptr == t->buffer->target_node->ptr &&
	       queued->buffer->target_node->cookie == t->buffer->target_node->cookie;
}

static struct transaction *find_outdated(struct transaction *t, struct work_list *list)
{
	struct work *w;

	TAILQ_FOREACH(w, &list->items, entry) {
		struct transaction *queued;

		if (w->type != WORK_TRANSACTION)
			continue;
		queued = (struct transaction *)((char *)w - offsetof(struct transaction, work));
		if (can_update(queued, t))
			return queued;
	}
	return NULL;
}

/*
 * Queues @t to its target (binder_proc_transaction): to @thread if given, else
 * to a waiting looper or the process, and oneways behind the one their node
 * is handling. Fails with BR_DEAD_REPLY or BR_FROZEN_REPLY.
 */
static struct binder_error proc_transaction(struct transaction *t, struct proc *proc,
					    struct thread *thread)
{
	struct node *node = t->buffer->target_node;
	bool oneway = t->flags & TF_ONE_WAY;
	struct transaction *outdated = NULL;
	bool pending_async = false;

	if (oneway) {
		if (node->has_async_transaction)
			pending_async = true;
		else
			node->has_async_transaction = true;
	}
	if (proc->is_frozen) {
		proc->sync_recv |= !oneway;
		proc->async_recv |= oneway;
	}
	if ((proc->is_frozen && !oneway) || proc->is_dead || (thread && thread->is_dead))
		return binder_error_of(proc->is_frozen ? BR_FROZEN_REPLY : BR_DEAD_REPLY, 0);

	if (!thread && !pending_async)
		thread = proc_select_thread(proc);
	if (thread) {
		thread_enqueue_work(thread, &t->work);
	} else if (!pending_async) {
		proc_enqueue_work(proc, &t->work);
	} else {
		if ((t->flags & TF_UPDATE_TXN) && proc->is_frozen) {
			outdated = find_outdated(t, &node->async_todo);
			if (outdated) {
				work_dequeue(&outdated->work);
				proc->outstanding_txns--;
			}
		}
		work_enqueue(&node->async_todo, &t->work);
	}
	if (!pending_async)
		proc_wakeup_thread(proc, thread);
	proc->outstanding_txns++;

	if (outdated) {
		struct txn_buffer *buffer = outdated->buffer;

		/* The node's async queue must not advance: its delivered oneway still holds it. */
		buffer->async_transaction = false;
		txn_buffer_free(buffer, NULL); /* unlinks @outdated and releases the objects */
		outdated->to_proc = NULL;      /* not outstanding any more (taken back above) */
		transaction_free(outdated);
	}
	return binder_ok();
}

/* Blocks kept of each kind: a synchronous call in flight holds two of each. */
#define POOLED_PER_KIND 64

void transaction_pools_init(struct driver *drv)
{
	obj_pool_init(&drv->pools.builds, sizeof(struct txn_build), POOLED_PER_KIND);
	obj_pool_init(&drv->pools.transactions, sizeof(struct transaction), POOLED_PER_KIND);
	obj_pool_init(&drv->pools.completions, sizeof(struct work), POOLED_PER_KIND);
	obj_pool_init(&drv->pools.buffers, sizeof(struct txn_buffer), POOLED_PER_KIND);
}

void transaction_pools_deinit(struct driver *drv)
{
	obj_pool_deinit(&drv->pools.builds);
	obj_pool_deinit(&drv->pools.transactions);
	obj_pool_deinit(&drv->pools.completions);
	obj_pool_deinit(&drv->pools.buffers);
}

static void build_free(struct txn_build *b)
{
	struct driver *drv = b->proc->driver;

	fetch_job_clear(&b->job);
	thread_dec_tmpref(b->thread);
	obj_pool_put(&drv->pools.builds, b);
}

/* Drops the references taken while resolving the target. */
static void release_target_refs(struct txn_build *b, bool drop_node_strong)
{
	if (b->target_node) {
		if (drop_node_strong)
			node_dec(b->target_node, true, false);
		node_dec_tmpref(b->target_node);
		b->target_node = NULL;
	}
	if (b->target_thread) {
		thread_dec_tmpref(b->target_thread);
		b->target_thread = NULL;
	}
	if (b->target_proc) {
		proc_dec_tmpref(b->target_proc);
		b->target_proc = NULL;
	}
}

/* The kernel's error path of binder_transaction, from @stage on. */
static void build_fail(struct txn_build *b, enum fail_stage stage)
{
	struct thread *thread = b->thread;
	struct driver *drv = b->proc->driver;
	struct transaction *t = b->t;

	drv->stats.transactions_failed++;
	b->proc->stats.transactions_failed++;
	switch (stage) {
	case FAIL_NOT_DELIVERED:
		work_dequeue(b->tcomplete);
		/* fall through */
	case FAIL_BUFFER:
		/* The buffer owns the target node's strong count: releasing drops it. */
		txn_buffer_release_objects(t->buffer);
		if (b->target_node) {
			node_dec_tmpref(b->target_node);
			b->target_node = NULL;
		}
		t->buffer->async_transaction = false;
		/* Unlinks it from t. */
		txn_buffer_free(t->buffer, NULL);
		/* fall through */
	case FAIL_NO_BUFFER:
		obj_pool_put(&drv->pools.completions, b->tcomplete);
		b->tcomplete = NULL;
		t->to_proc = NULL; /* never counted as outstanding */
		transaction_free(t);
		b->t = NULL;
		/* fall through */
	case FAIL_EARLY:
		release_target_refs(b, true);
		break;
	}

	if (thread->is_dead) {
		if (b->in_reply_to)
			transaction_send_failed_reply(b->in_reply_to, b->error.reply);
		return;
	}
	if (b->in_reply_to) {
		struct thread *from = b->in_reply_to->from;

		if (from && from->ee.command == BR_OK)
			set_extended_error(&from->ee, b->debug_id, b->error.reply, b->error.param);
		/* The replier sees its reply complete; the caller sees the error. */
		thread_set_return_error(thread, BR_TRANSACTION_COMPLETE);
		transaction_send_failed_reply(b->in_reply_to, b->error.reply);
	} else {
		set_extended_error(&thread->ee, b->debug_id, b->error.reply, b->error.param);
		thread_set_return_error(thread, b->error.reply);
	}
}

static void fail_with(struct txn_build *b, enum fail_stage stage, struct binder_error error,
		      const char *why)
{
	if (why)
		user_error(b->thread, why);
	b->error = error;
	build_fail(b, stage);
}

/* Resolves the target: the kernel's checks before anything is allocated. */
static bool resolve_target(struct txn_build *b)
{
	struct thread *thread = b->thread;
	struct proc *proc = b->proc;
	const struct binder_transaction_data *tr = &b->tr;
	bool oneway = tr->flags & TF_ONE_WAY;
	struct binder_error err = binder_ok();

	if (b->reply) {
		struct transaction *in_reply_to = thread->transaction_stack;

		if (!in_reply_to) {
			fail_with(b, FAIL_EARLY, binder_failed(-EPROTO),
				  "got reply transaction with no transaction stack");
			return false;
		}
		if (in_reply_to->to_thread != thread) {
			fail_with(b, FAIL_EARLY, binder_failed(-EPROTO),
				  "got reply transaction with bad transaction stack");
			return false;
		}
		thread->transaction_stack = in_reply_to->to_parent;
		b->in_reply_to = in_reply_to;
		if (!in_reply_to->from) {
			note_dead_reply(b, DEAD_CALLER_GONE);
			fail_with(b, FAIL_EARLY, binder_error_of(BR_DEAD_REPLY, 0), NULL);
			return false;
		}
		if (in_reply_to->from->transaction_stack != in_reply_to) {
			b->in_reply_to = NULL;
			fail_with(b, FAIL_EARLY, binder_failed(-EPROTO),
				  "got reply transaction with bad target transaction stack");
			return false;
		}
		b->target_thread = in_reply_to->from;
		thread_inc_tmpref(b->target_thread);
		b->target_proc = b->target_thread->proc;
		proc_inc_tmpref(b->target_proc);
		return true;
	}

	if (tr->target.handle) {
		struct ref *ref = ref_lookup(proc, tr->target.handle, true);

		if (ref) {
			err = node_refs_for_txn(b, ref->node, &b->target_node, &b->target_proc);
		} else {
			user_error(thread, "got transaction to invalid handle");
			err = binder_failed(-EINVAL);
		}
	} else {
		struct node *mgr = proc->context->mgr_node;

		if (mgr) {
			err = node_refs_for_txn(b, mgr, &b->target_node, &b->target_proc);
		} else {
			note_dead_reply(b, DEAD_NO_MANAGER);
			err = binder_error_of(BR_DEAD_REPLY, -EINVAL);
		}
		if (b->target_node && b->target_proc->id.pid == proc->id.pid) {
			fail_with(b, FAIL_EARLY, binder_failed(-EINVAL),
				  "got transaction to context manager from process owning it");
			return false;
		}
	}
	if (!binder_is_ok(err)) {
		fail_with(b, FAIL_EARLY, err, NULL);
		return false;
	}
	if (b->target_proc == proc) {
		fail_with(b, FAIL_EARLY, binder_failed(-EINVAL), "transaction to itself");
		return false;
	}
	if (!oneway) {
		struct work *w = work_list_first(&thread->todo);

		if (w && w->type == WORK_TRANSACTION) {
			fail_with(b, FAIL_EARLY, binder_failed(-EPROTO),
				  "new transaction not allowed when there is a transaction on "
				  "thread todo");
			return false;
		}
		if (thread->transaction_stack) {
			if (thread->transaction_stack->to_thread != thread) {
				fail_with(b, FAIL_EARLY, binder_failed(-EPROTO),
					  "got new transaction with bad transaction stack");
				return false;
			}
			/* A call back into a process that waits on us goes to the waiting thread. */
			b->target_thread = thread_find_recursion_target(thread, b->target_proc);
			if (b->target_thread)
				thread_inc_tmpref(b->target_thread);
		}
	}
	return true;
}

static void write_security_context(struct txn_build *b)
{
	struct txn_buffer *buffer = b->t->buffer;
	uint64_t at;

	at = ALIGN8(b->tr.data_size) + ALIGN8(b->tr.offsets_size) + ALIGN8(b->extra_buffers_size) -
	     ALIGN8(b->secctx_size);
	memcpy(txn_buffer_mem(buffer) + at, sender_label(b->proc), b->secctx_size);
	b->t->security_ctx = txn_buffer_user_addr(buffer) + at;
}

static void transaction_finish(struct txn_build *b);

bool transaction_submit(struct thread *thread, const struct binder_transaction_data *tr,
			uint64_t extra_buffers_size, bool reply)
{
	struct proc *proc = thread->proc;
	struct driver *drv = proc->driver;
	struct txn_build *b = obj_pool_get(&drv->pools.builds);
	struct transaction *t;
	bool oneway = tr->flags & TF_ONE_WAY;
	struct binder_error err;

	if (!b) {
		thread_set_return_error(thread, BR_FAILED_REPLY);
		return true;
	}
	b->thread = thread;
	thread_inc_tmpref(thread);
	b->proc = proc;
	b->tr = *tr;
	b->extra_buffers_size = extra_buffers_size;
	b->reply = reply;
	b->debug_id = driver_next_id(drv);
	set_extended_error(&thread->ee, b->debug_id, BR_OK, 0);
	proc->stats.transactions_sent++;

	if (!resolve_target(b)) {
		build_free(b);
		return true;
	}

	t = obj_pool_get(&drv->pools.transactions);
	b->tcomplete = obj_pool_get(&drv->pools.completions);
	if (!t || !b->tcomplete) {
		obj_pool_put(&drv->pools.transactions, t);
		obj_pool_put(&drv->pools.completions, b->tcomplete);
		b->tcomplete = NULL;
		fail_with(b, FAIL_EARLY, binder_failed(-ENOMEM), NULL);
		build_free(b);
		return true;
	}
	b->t = t;
	drv->stats.transactions_created++;
	t->debug_id = b->debug_id;
	t->driver = drv;
	t->work.type = WORK_TRANSACTION;
	if (!reply && !oneway) {
		t->from = thread;
		t->sender_pid = proc->id.pid;
	}
	t->sender_euid = proc->id.euid;
	t->to_proc = b->target_proc;
	t->to_thread = b->target_thread;
	t->code = tr->code;
	t->flags = tr->flags;

	if (b->target_node && b->target_node->txn_security_ctx) {
		uint64_t added;

		b->secctx_size = strlen(sender_label(proc)) + 1;
		added = ALIGN8(b->secctx_size);
		b->extra_buffers_size += added;
		if (b->extra_buffers_size < added) {
			fail_with(b, FAIL_NO_BUFFER, binder_failed(-EINVAL), NULL);
			build_free(b);
			return true;
		}
	}

	if (reply) { /* what the next promise's room should hold (reply_promise.c) */
		thread->last_reply_size = proc->last_reply_size = tr->data_size;
		thread->has_replied = true;
	}
	t->buffer = reply ? reply_promise_take(thread, b->target_proc, tr->data_size,
					       tr->offsets_size, b->extra_buffers_size)
			  : NULL;
	err = t->buffer ? binder_ok()
			: txn_buffer_alloc(b->target_proc, tr->data_size, tr->offsets_size,
					   b->extra_buffers_size, !reply && oneway, proc,
					   &t->buffer, &b->spam_suspect);
	if (err.reply == BR_DEAD_REPLY)
		note_dead_reply(b, b->target_proc->is_dead ? DEAD_TARGET_RELEASED
							   : DEAD_TARGET_NO_REGION);
	if (!binder_is_ok(err)) {
		log_notice("%s: proc %d: cannot allocate buffer in proc %d%s", proc->context->name,
			   proc->id.pid, b->target_proc->id.pid,
			   err.param == -ESRCH	  ? ": no mapping, target dead or dying"
			   : err.param == -ENOSPC ? ": no space left"
			   : err.param == -ENOMEM ? ": memory allocation failed"
						  : "");
		fail_with(b, FAIL_NO_BUFFER, err, NULL);
		build_free(b);
		return true;
	}
	if (b->secctx_size)
		write_security_context(b);
	t->buffer->transaction = t;
	t->buffer->target_node = b->target_node;
	t->buffer->clear_on_free = !!(t->flags & TF_CLEAR_BUF);

	/* The one copy. */
	b->job.pid = thread->peer.pid;
	b->job.uid = thread->peer.uid;
	b->job.pidfd = thread->peer.pidfd;
	b->job.may_readv = proc->id.can_read_memory;
	/* Memory of the sender the daemon maps itself (not a forked child's: it has none). */
	if (thread->peer.pid == proc->id.pid) {
		struct local_source *own = &b->job.sources[b->job.nsources];

		own->fd = -1; /* the daemon's own memory */
		if (buffer_space_view(&proc->space, &own->user_base, &own->size, &own->mem))
			b->job.nsources++;
		if (proc->outbox && !proc->outbox_gone)
			b->job.sources[b->job.nsources++] =
				(struct local_source){ proc->outbox_base, proc->outbox_size,
						       proc->outbox, proc->outbox_fd };
	}
	b->job.segments = thread->bwr.segments;
	b->job.nsegments = thread->bwr.nsegments;
	b->job.data_ptr = tr->data.ptr.buffer;
	b->job.data_size = tr->data_size;
	b->job.offsets_ptr = tr->data.ptr.offsets;
	b->job.offsets_size = tr->offsets_size;
	b->job.dst = txn_buffer_mem(t->buffer);
	b->job.dst_size = txn_buffer_size(t->buffer);
	b->job.sg_begin = ALIGN8(tr->data_size) + ALIGN8(tr->offsets_size);
	b->job.sg_end = b->job.sg_begin + b->extra_buffers_size - ALIGN8(b->secctx_size);
	b->job.owner = b;
	fetch_job_run(&b->job, false);
	if (b->job.result == -EAGAIN) {
		/* The rest comes from process_vm_readv, on a worker. */
		if (bwr_make_owned(thread)) {
			fail_with(b, FAIL_BUFFER, binder_failed(-ENOMEM), NULL);
			build_free(b);
			return true;
		}
		b->job.segments = thread->bwr.segments;
		if (drv->ops->fetch_start(drv->daemon, &b->job)) {
			fail_with(b, FAIL_BUFFER, binder_failed(-ENOMEM), NULL);
			build_free(b);
			return true;
		}
		b->target_proc->fetches_into++;
		thread->bwr.job = &b->job;
		return false;
	}
	transaction_finish(b);
	return true;
}

struct thread *transaction_job_thread(struct fetch_job *job)
{
	return ((struct txn_build *)job->owner)->thread;
}

void transaction_fetch_done(struct fetch_job *job)
{
	struct txn_build *b = job->owner;
	struct proc *target_proc = b->target_proc;

	/* The target may have died while its region was being written: hold it. */
	proc_inc_tmpref(target_proc);
	b->thread->bwr.job = NULL;
	target_proc->fetches_into--;
	transaction_finish(b);
	proc_dec_tmpref(target_proc);
}

static void count_copy(struct txn_build *b)
{
	struct driver_stats *s = &b->proc->driver->stats;
	enum copy_path path = b->job.used_readv	  ? COPY_READV
			      : b->job.used_local ? COPY_LOCAL
						  : COPY_INLINE;

	s->copies[path]++;
	s->copy_bytes[path] += b->job.bytes;
}

/* Why proc_transaction() answered BR_DEAD_REPLY, if it did. */
static void note_queue_failure(struct txn_build *b, struct binder_error err)
{
	if (err.reply == BR_DEAD_REPLY)
		note_dead_reply(b, b->target_proc->is_dead ? DEAD_TARGET_RELEASED
							   : DEAD_TARGET_THREAD_GONE);
}

static void transaction_finish(struct txn_build *b)
{
	struct thread *thread = b->thread;
	struct transaction *t = b->t;
	bool oneway = t->flags & TF_ONE_WAY;
	struct binder_error err;
	int walk_error;

	count_copy(b);
	if (b->job.result == -ESRCH || b->job.result == -ENOMEM) {
		fail_with(b, FAIL_BUFFER, binder_failed(b->job.result),
			  b->job.result == -ESRCH ? "sender exited during the copy" : NULL);
		goto out;
	}
	if (b->job.offsets_error) {
		fail_with(b, FAIL_BUFFER, binder_failed(-EFAULT),
			  "got transaction with invalid offsets ptr");
		goto out;
	}
	if (b->tr.offsets_size % sizeof(binder_size_t)) {
		fail_with(b, FAIL_BUFFER, binder_failed(-EINVAL),
			  "got transaction with invalid offsets size");
		goto out;
	}
	if (b->extra_buffers_size % sizeof(uint64_t)) {
		fail_with(b, FAIL_BUFFER, binder_failed(-EINVAL),
			  "got transaction with unaligned buffers size");
		goto out;
	}
	if (thread->is_dead) {
		/* Nobody to report to (but a reply's caller): undo quietly. */
		note_dead_reply(b, DEAD_SENDER_GONE);
		fail_with(b, FAIL_BUFFER, binder_error_of(BR_DEAD_REPLY, 0), NULL);
		goto out;
	}

	{
		struct txn_translate x = {
			.thread = thread,
			.target_proc = b->target_proc,
			.t = t,
			.in_reply_to = b->in_reply_to,
			.job = &b->job,
			.bwr = &thread->bwr,
		};

		err = objects_translate(&x);
	}
	/* Then where the fetch's walk stopped, in the kernel's order. */
	walk_error = b->job.stop_error	 ? b->job.stop_error
		     : b->job.tail_error ? b->job.tail_error
					 : b->job.sg_error;
	if (binder_is_ok(err) && walk_error)
		err = binder_failed(walk_error);
	if (!binder_is_ok(err)) {
		const char *why = err.param == -EFAULT ? "got transaction with invalid data ptr"
				  : err.param == -EINVAL
					  ? "got transaction with invalid offset or object"
					  : NULL;

		fail_with(b, FAIL_BUFFER, err, why);
		goto out;
	}

	b->tcomplete->type =
		b->spam_suspect ? WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT : WORK_TRANSACTION_COMPLETE;
	thread->stats.transactions++;

	if (b->reply) {
		struct thread *target_thread = b->target_thread;

		thread_enqueue_work(thread, b->tcomplete);
		if (target_thread->is_dead) {
			note_dead_reply(b, DEAD_CALLER_GONE_COPY);
			fail_with(b, FAIL_NOT_DELIVERED, binder_error_of(BR_DEAD_REPLY, 0), NULL);
			goto out;
		}
		transaction_pop(target_thread, b->in_reply_to);
		thread_enqueue_work(target_thread, &t->work);
		b->target_proc->outstanding_txns++;
		thread_wakeup(target_thread);
		transaction_free(b->in_reply_to);
		thread->stats.replies++;
	} else if (!oneway) {
		/* TRANSACTION_COMPLETE waits for the reply, so the caller returns once. */
		thread_enqueue_deferred_work(thread, b->tcomplete);
		t->need_reply = true;
		t->from_parent = thread->transaction_stack;
		thread->transaction_stack = t;
		err = proc_transaction(t, b->target_proc, b->target_thread);
		if (!binder_is_ok(err)) {
			note_queue_failure(b, err);
			transaction_pop(thread, t);
			fail_with(b, FAIL_NOT_DELIVERED, err, NULL);
			goto out;
		}
	} else {
		err = proc_transaction(t, b->target_proc, NULL);
		thread_enqueue_work(thread, b->tcomplete);
		if (!binder_is_ok(err)) {
			note_queue_failure(b, err);
			fail_with(b, FAIL_NOT_DELIVERED, err, NULL);
			goto out;
		}
	}
	/* Success: the buffer now owns the target node's strong count. */
	release_target_refs(b, false);
out:
	build_free(b);
}
