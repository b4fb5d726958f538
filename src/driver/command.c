/* SPDX-License-Identifier: MIT */
/*
 * The write part of BINDER_WRITE_READ: BC_* commands, in order, with the
 * kernel's handling of each (binder_thread_write). Processing stops after a
 * failed transaction (its error is what the thread reads next), and a
 * malformed stream fails the ioctl with -EINVAL or -EFAULT, the consumed
 * count pointing at the command that failed.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "driver/command.h"
#include "driver/ignored.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/transaction.h"
#include "driver/txn_buffer.h"

/* Copies the next @size bytes of the write buffer; -EFAULT past what the client gave us. */
static int take(struct bwr_state *bwr, size_t *pos, void *dst, size_t size)
{
	size_t have = bwr->write_len + bwr->write_overrun;

	if (*pos > have || have - *pos < size)
		return -EFAULT;
	memcpy(dst, bwr->write + *pos, size);
	*pos += size;
	return 0;
}

static void refcount_command(struct thread *thread, uint32_t cmd, uint32_t target)
{
	struct proc *proc = thread->proc;
	bool strong = cmd == BC_ACQUIRE || cmd == BC_RELEASE;
	bool increment = cmd == BC_INCREFS || cmd == BC_ACQUIRE;
	uint32_t desc = target;
	int ret = -1;

	if (increment && target == 0) {
		struct node *mgr = proc->context->mgr_node;

		if (mgr)
			ret = ref_inc_for_node(proc, mgr, strong, NULL, &desc);
	}
	if (ret)
		ret = ref_update_for_handle(proc, target, increment, strong, &desc);
	if (!ret && desc != target)
		log_notice("proc %d: tried to acquire reference to desc %u, got %u instead",
			   proc->id.pid, target, desc);
	if (ret)
		proc_note_ignored(proc, IGNORED_REFCOUNT_BAD_HANDLE,
				  "%s refcount change on invalid ref %u ret %d",
				  cmd == BC_INCREFS   ? "BC_INCREFS"
				  : cmd == BC_ACQUIRE ? "BC_ACQUIRE"
				  : cmd == BC_RELEASE ? "BC_RELEASE"
						      : "BC_DECREFS",
				  target, ret);
}

static void refcount_done(struct thread *thread, uint32_t cmd, const struct binder_ptr_cookie *pc)
{
	struct proc *proc = thread->proc;
	const char *name = cmd == BC_ACQUIRE_DONE ? "BC_ACQUIRE_DONE" : "BC_INCREFS_DONE";
	struct node *node = node_lookup(proc, pc->ptr);

	if (!node) {
		proc_note_ignored(proc, IGNORED_DONE_UNKNOWN_NODE, "%s u%016llx no match", name,
				  (unsigned long long)pc->ptr);
		return;
	}
	if (pc->cookie != node->cookie) {
		proc_note_ignored(proc, IGNORED_DONE_COOKIE_MISMATCH,
				  "%s u%016llx node %llu cookie mismatch %016llx != %016llx", name,
				  (unsigned long long)pc->ptr, (unsigned long long)node->debug_id,
				  (unsigned long long)pc->cookie, (unsigned long long)node->cookie);
		return;
	}
	if (cmd == BC_ACQUIRE_DONE) {
		if (!node->pending_strong_ref) {
			proc_note_ignored(
				proc, IGNORED_DONE_NOT_PENDING,
				"BC_ACQUIRE_DONE node %llu has no pending acquire request",
				(unsigned long long)node->debug_id);
			return;
		}
		node->pending_strong_ref = false;
	} else {
		if (!node->pending_weak_ref) {
			proc_note_ignored(
				proc, IGNORED_DONE_NOT_PENDING,
				"BC_INCREFS_DONE node %llu has no pending increfs request",
				(unsigned long long)node->debug_id);
			return;
		}
		node->pending_weak_ref = false;
	}
	node_inc_tmpref(node);
	node_dec(node, cmd == BC_ACQUIRE_DONE, false);
	node_dec_tmpref(node);
}

static void free_buffer_command(struct thread *thread, uint64_t ptr)
{
	struct proc *proc = thread->proc;
	struct txn_buffer *buffer;
	int err;

	err = txn_buffer_prepare_user_free(proc, ptr, &buffer);
	if (err) {
		if (err == -EPERM)
			proc_note_ignored(proc, IGNORED_FREE_BUFFER_NOT_DELIVERED,
					  "BC_FREE_BUFFER u%016llx matched unreturned or currently "
					  "freeing buffer",
					  (unsigned long long)ptr);
		else
			proc_note_ignored(proc, IGNORED_FREE_BUFFER_UNKNOWN,
					  "BC_FREE_BUFFER u%016llx no match",
					  (unsigned long long)ptr);
		return;
	}
	txn_buffer_free(buffer, thread);
}

static void looper_command(struct thread *thread, uint32_t cmd)
{
	struct proc *proc = thread->proc;

	switch (cmd) {
	case BC_REGISTER_LOOPER:
		if (thread->looper & LOOPER_ENTERED) {
			thread->looper |= LOOPER_INVALID;
			proc_note_ignored(
				proc, IGNORED_LOOPER_MISUSE,
				"thread %d: BC_REGISTER_LOOPER called after BC_ENTER_LOOPER",
				thread->tid);
		} else if (proc->requested_threads == 0) {
			thread->looper |= LOOPER_INVALID;
			proc_note_ignored(proc, IGNORED_LOOPER_MISUSE,
					  "thread %d: BC_REGISTER_LOOPER called without request",
					  thread->tid);
		} else {
			proc->requested_threads--;
			proc->requested_threads_started++;
		}
		thread->looper |= LOOPER_REGISTERED;
		break;
	case BC_ENTER_LOOPER:
		if (thread->looper & LOOPER_REGISTERED) {
			thread->looper |= LOOPER_INVALID;
			proc_note_ignored(
				proc, IGNORED_LOOPER_MISUSE,
				"thread %d: BC_ENTER_LOOPER called after BC_REGISTER_LOOPER",
				thread->tid);
		}
		thread->looper |= LOOPER_ENTERED;
		break;
	case BC_EXIT_LOOPER:
		thread->looper |= LOOPER_EXITED;
		break;
	}
	proc_poll_dirty(proc);
}

/* One command at bwr->write[*pos]. Returns 0, a negative errno, or 1 when suspended. */
static int command_one(struct thread *thread, size_t *pos)
{
	struct bwr_state *bwr = &thread->bwr;
	struct proc *proc = thread->proc;
	uint32_t cmd;
	int err;

	err = take(bwr, pos, &cmd, sizeof(cmd));
	if (err)
		return err;
	if (_IOC_NR(cmd) < STATS_BC_COUNT) {
		proc->stats.bc[_IOC_NR(cmd)]++;
		proc->driver->stats.bc[_IOC_NR(cmd)]++;
	}
	switch (cmd) {
	case BC_INCREFS:
	case BC_ACQUIRE:
	case BC_RELEASE:
	case BC_DECREFS: {
		uint32_t target;

		err = take(bwr, pos, &target, sizeof(target));
		if (err)
			return err;
		if ((cmd == BC_INCREFS || cmd == BC_ACQUIRE) && target == 0 &&
		    proc->context->mgr_node && proc->context->mgr_node->proc == proc) {
			log_notice("%s: proc %d: context manager tried to acquire desc 0",
				   proc->context->name, proc->id.pid);
			return -EINVAL;
		}
		refcount_command(thread, cmd, target);
		return 0;
	}
	case BC_INCREFS_DONE:
	case BC_ACQUIRE_DONE: {
		struct binder_ptr_cookie pc;

		err = take(bwr, pos, &pc, sizeof(pc));
		if (err)
			return err;
		refcount_done(thread, cmd, &pc);
		return 0;
	}
	case BC_ATTEMPT_ACQUIRE:
		log_notice("proc %d: BC_ATTEMPT_ACQUIRE not supported", proc->id.pid);
		return -EINVAL;
	case BC_ACQUIRE_RESULT:
		log_notice("proc %d: BC_ACQUIRE_RESULT not supported", proc->id.pid);
		return -EINVAL;
	case BC_FREE_BUFFER: {
		binder_uintptr_t ptr;

		err = take(bwr, pos, &ptr, sizeof(ptr));
		if (err)
			return err;
		free_buffer_command(thread, ptr);
		return 0;
	}
	case BC_TRANSACTION_SG:
	case BC_REPLY_SG: {
		struct binder_transaction_data_sg tr;

		err = take(bwr, pos, &tr, sizeof(tr));
		if (err)
			return err;
		return transaction_submit(thread, &tr.transaction_data, tr.buffers_size,
					  cmd == BC_REPLY_SG)
			       ? 0
			       : 1;
	}
	case BC_TRANSACTION:
	case BC_REPLY: {
		struct binder_transaction_data tr;

		err = take(bwr, pos, &tr, sizeof(tr));
		if (err)
			return err;
		return transaction_submit(thread, &tr, 0, cmd == BC_REPLY) ? 0 : 1;
	}
	case BC_REGISTER_LOOPER:
	case BC_ENTER_LOOPER:
	case BC_EXIT_LOOPER:
		looper_command(thread, cmd);
		return 0;
	case BC_REQUEST_DEATH_NOTIFICATION:
	case BC_CLEAR_DEATH_NOTIFICATION: {
		struct binder_handle_cookie hc;

		err = take(bwr, pos, &hc, sizeof(hc));
		if (err)
			return err;
		if (cmd == BC_REQUEST_DEATH_NOTIFICATION)
			ref_request_death(thread, hc.handle, hc.cookie);
		else
			ref_clear_death(thread, hc.handle, hc.cookie);
		return 0;
	}
	case BC_DEAD_BINDER_DONE: {
		binder_uintptr_t cookie;

		err = take(bwr, pos, &cookie, sizeof(cookie));
		if (err)
			return err;
		ref_dead_binder_done(thread, cookie);
		return 0;
	}
	default:
		log_notice("%s: proc %d thread %d: unknown command %u", proc->context->name,
			   proc->id.pid, thread->tid, cmd);
		return -EINVAL;
	}
}

int command_run(struct thread *thread, bool *suspended)
{
	struct bwr_state *bwr = &thread->bwr;

	*suspended = false;
	while (bwr->write_pos < bwr->write_end && thread->return_error.cmd == BR_OK) {
		size_t pos = bwr->write_pos;
		int ret;

		ret = command_one(thread, &pos);
		if (ret < 0)
			return ret;
		bwr->write_pos = pos;
		if (ret > 0) {
			*suspended = true;
			bwr->phase = BWR_WRITING;
			return 0;
		}
	}
	return 0;
}
