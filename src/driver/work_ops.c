/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/zalloc.h"
#include "common/log.h"
#include "driver/dead_reply.h"
#include "driver/node.h"
#include "driver/read_buf.h"
#include "driver/ref.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"
#include "driver/work_ops.h"

struct work_ops {
	enum deliver_outcome (*deliver)(struct thread *thread, struct work *w, size_t *pos,
					size_t end);
	void (*release)(struct proc *proc, struct work *w);
};

static struct transaction *work_transaction(struct work *w)
{
	return (struct transaction *)((char *)w - offsetof(struct transaction, work));
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
		err = read_put_cmd(thread, pos, end, BR_INCREFS, &pc, sizeof(pc));
	if (!err && strong && !has_strong)
		err = read_put_cmd(thread, pos, end, BR_ACQUIRE, &pc, sizeof(pc));
	if (!err && !strong && has_strong)
		err = read_put_cmd(thread, pos, end, BR_RELEASE, &pc, sizeof(pc));
	if (!err && !weak && has_weak)
		err = read_put_cmd(thread, pos, end, BR_DECREFS, &pc, sizeof(pc));
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
	if (t->nfixups > drv->config.max_fds)
		return -EMFILE;
	slots = zalloc_array(t->nfixups, sizeof(*slots));
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
				return read_put_u32(thread, pos, end, BR_FAILED_REPLY);
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
	read_put_cmd(thread, pos, end, cmd, &tr, trsize);
	/* With descriptors, the client may free it once their numbers are in. */
	if (t->nfixups == 0)
		buffer_space_deliver(&proc->space, buffer->range);

	if (cmd != BR_REPLY && !(t->flags & TF_ONE_WAY)) {
		t->to_parent = thread->transaction_stack;
		t->to_thread = thread;
		thread->transaction_stack = t;
	} else {
		transaction_free(t);
	}
	return 0;
}

static enum deliver_outcome deliver_transaction(struct thread *thread, struct work *w, size_t *pos,
						size_t end)
{
	read_transaction(thread, work_transaction(w), pos, end);
	return DELIVER_END;
}

static enum deliver_outcome deliver_error(struct thread *thread, struct work *w, size_t *pos,
					  size_t end)
{
	struct error_work *e = (struct error_work *)w;
	uint32_t cmd = e->cmd;

	e->cmd = BR_OK;
	read_put_u32(thread, pos, end, cmd);
	read_count_br(thread, cmd);
	return DELIVER_MORE;
}

static enum deliver_outcome deliver_complete(struct thread *thread, struct work *w, size_t *pos,
					     size_t end)
{
	uint32_t cmd = BR_TRANSACTION_COMPLETE;

	if (w->type == WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT &&
	    thread->proc->oneway_spam_detection_enabled)
		cmd = BR_ONEWAY_SPAM_SUSPECT;
	obj_pool_put(&thread->proc->driver->pools.completions, w);
	read_put_u32(thread, pos, end, cmd);
	read_count_br(thread, cmd);
	return DELIVER_MORE;
}

static enum deliver_outcome deliver_node(struct thread *thread, struct work *w, size_t *pos,
					 size_t end)
{
	read_node_work(thread, (struct node *)((char *)w - offsetof(struct node, work)), pos, end);
	return DELIVER_MORE;
}

static enum deliver_outcome deliver_death(struct thread *thread, struct work *w, size_t *pos,
					  size_t end)
{
	struct proc *proc = thread->proc;
	struct ref_death *death = (struct ref_death *)w;
	uint32_t cmd = w->type == WORK_CLEAR_DEATH_NOTIFICATION ? BR_CLEAR_DEATH_NOTIFICATION_DONE
								: BR_DEAD_BINDER;
	uint64_t cookie = death->cookie;

	if (w->type == WORK_CLEAR_DEATH_NOTIFICATION) {
		ref_death_free(proc->driver, death);
	} else {
		work_enqueue(&proc->delivered_death, w);
	}
	read_put_cmd(thread, pos, end, cmd, &cookie, sizeof(cookie));
	/* A death notification can cause transactions: return now. */
	return cmd == BR_DEAD_BINDER ? DELIVER_END : DELIVER_MORE;
}

static void release_transaction(struct proc *proc, struct work *w)
{
	struct transaction *t = work_transaction(w);

	if (t->buffer && t->buffer->target_node && !(t->flags & TF_ONE_WAY)) {
		/* A thread's todo may go before its process; a process's goes with it. */
		dead_reply_note(proc->driver, t->from ? t->from->proc : NULL, proc->id.pid,
				t->debug_id, proc->is_dead ? DEAD_PROC_TODO : DEAD_THREAD_TODO);
		transaction_send_failed_reply(t, BR_DEAD_REPLY);
	} else {
		log_debug("undelivered transaction %llu", (unsigned long long)t->debug_id);
		transaction_free(t);
	}
}

/* Embedded in its owner (a thread's error, a node, a ref's requested death). */
static void release_embedded(struct proc *proc, struct work *w)
{
	(void)proc;
	(void)w;
}

static void release_complete(struct proc *proc, struct work *w)
{
	obj_pool_put(&proc->driver->pools.completions, w);
}

static void release_death(struct proc *proc, struct work *w)
{
	ref_death_free(proc->driver, (struct ref_death *)w);
}

static const struct work_ops work_ops[] = {
	[WORK_TRANSACTION] = { deliver_transaction, release_transaction },
	[WORK_TRANSACTION_COMPLETE] = { deliver_complete, release_complete },
	[WORK_TRANSACTION_ONEWAY_SPAM_SUSPECT] = { deliver_complete, release_complete },
	[WORK_RETURN_ERROR] = { deliver_error, release_embedded },
	[WORK_NODE] = { deliver_node, release_embedded },
	/* Owned by its ref, which releases it. */
	[WORK_DEAD_BINDER] = { deliver_death, release_embedded },
	[WORK_DEAD_BINDER_AND_CLEAR] = { deliver_death, release_death },
	[WORK_CLEAR_DEATH_NOTIFICATION] = { deliver_death, release_death },
};
_Static_assert(sizeof(work_ops) / sizeof(work_ops[0]) == WORK_CLEAR_DEATH_NOTIFICATION + 1,
	       "every work type has its operations");

enum deliver_outcome work_deliver(struct thread *thread, struct work *w, size_t *pos, size_t end)
{
	return work_ops[w->type].deliver(thread, w, pos, end);
}

void work_release_all(struct proc *proc, struct work_list *list)
{
	struct work *w;

	while ((w = work_list_pop(list)) != NULL)
		work_ops[w->type].release(proc, w);
	proc_poll_dirty(proc);
}
