/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/zalloc.h"
#include "common/log.h"
#include "driver/bwr_state.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/todo.h"
#include "driver/txn_buffer.h"

struct binder_error txn_buffer_alloc(struct proc *proc, uint64_t data_size, uint64_t offsets_size,
				     uint64_t extra_size, bool is_async, const struct proc *sender,
				     struct txn_buffer **out, bool *spam_suspect)
{
	struct range_buffer *rb;
	struct txn_buffer *b;
	int err;

	*out = NULL;
	*spam_suspect = false;
	if (!buffer_space_ready(&proc->space) || proc->is_dead)
		return binder_error_of(BR_DEAD_REPLY, -ESRCH);
	b = obj_pool_get(&proc->driver->pools.buffers);
	if (!b)
		return binder_failed(-ENOMEM);
	err = buffer_space_reserve(&proc->space, data_size, offsets_size, extra_size, is_async,
				   sender->id.pid, &rb, spam_suspect);
	if (err) {
		obj_pool_put(&proc->driver->pools.buffers, b);
		return binder_error_of(err == -ESRCH ? BR_DEAD_REPLY : BR_FAILED_REPLY, err);
	}
	/*
	 * Checked once the size is known to fit (the kernel's errors come
	 * first); the sender's region plays no part, so one without any is
	 * charged and refused alike.
	 */
	if (is_async) {
		size_t bytes = rb->size;

		if (!uid_quota_take(&proc->driver->quotas, sender->id.euid,
				    DRIVER_QUOTA_ONEWAY_BYTES, bytes)) {
			buffer_space_release(&proc->space, rb);
			obj_pool_put(&proc->driver->pools.buffers, b);
			return binder_failed(-ENOSPC);
		}
		b->quota_uid = sender->id.euid;
		b->quota_bytes = bytes;
	}
	b->range = rb;
	b->range->owner = b;
	b->proc = proc;
	b->async_transaction = is_async;
	*out = b;
	return binder_ok();
}

int txn_buffer_add_fda_fd(struct txn_buffer *b, int32_t fd)
{
	if (b->nfda_fds == b->fda_fds_cap) {
		size_t cap = b->fda_fds_cap ? 2 * b->fda_fds_cap : 8;
		int32_t *grown = realloc(b->fda_fds, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		b->fda_fds = grown;
		b->fda_fds_cap = cap;
	}
	if (b->nfda_fds == 0)
		b->proc->fda_buffers++;
	b->fda_fds[b->nfda_fds++] = fd;
	return 0;
}

void txn_buffer_release_objects(struct txn_buffer *b)
{
	struct proc *proc = b->proc;

	if (b->target_node) {
		node_dec(b->target_node, true, false);
		b->target_node = NULL;
	}
	for (size_t i = 0; i < b->nheld; i++) {
		const struct held_object *obj = &b->held[i];
		struct node *node;

		switch (obj->type) {
		case BINDER_TYPE_BINDER:
		case BINDER_TYPE_WEAK_BINDER:
			node = node_lookup(proc, obj->ptr);
			if (!node) {
				log_notice("transaction release: bad node %016llx",
					   (unsigned long long)obj->ptr);
				break;
			}
			node_dec(node, obj->type == BINDER_TYPE_BINDER, false);
			break;
		case BINDER_TYPE_HANDLE:
		case BINDER_TYPE_WEAK_HANDLE:
			if (ref_dec_for_handle(proc, obj->handle, obj->type == BINDER_TYPE_HANDLE))
				log_notice("transaction release: bad handle %u", obj->handle);
			break;
		}
	}
	free(b->held);
	b->held = NULL;
	b->nheld = 0;
}

static void txn_buffer_destroy(struct txn_buffer *b)
{
	uid_quota_give(&b->proc->driver->quotas, b->quota_uid, DRIVER_QUOTA_ONEWAY_BYTES,
		       b->quota_bytes);
	if (b->nfda_fds)
		b->proc->fda_buffers--;
	if (b->promised_to)
		b->promised_to->promised_room = NULL;
	buffer_space_release(&b->proc->space, b->range);
	free(b->held);
	free(b->fda_fds);
	obj_pool_put(&b->proc->driver->pools.buffers, b);
}

void txn_buffer_free(struct txn_buffer *b, struct thread *thread)
{
	struct proc *proc = b->proc;

	if (b->transaction) {
		b->transaction->buffer = NULL;
		b->transaction = NULL;
	}
	if (b->async_transaction && b->target_node) {
		struct node *node = b->target_node;
		struct work *w = work_list_pop(&node->async_todo);

		if (!w) {
			node->has_async_transaction = false;
		} else {
			proc_enqueue_work(proc, w);
			proc_wakeup(proc);
		}
	}
	txn_buffer_release_objects(b);
	if (thread && b->nfda_fds) {
		/* The kernel closes fd-array descriptors in the freeing process. */
		thread->looper_need_return = true;
		bwr_close_after_free(thread, b->fda_fds, b->nfda_fds);
	}
	if (b->clear_on_free)
		buffer_space_clear(&proc->space, b->range);
	txn_buffer_destroy(b);
}

int txn_buffer_prepare_user_free(struct proc *proc, uint64_t ptr, struct txn_buffer **out)
{
	struct range_buffer *rb;
	int err;

	*out = NULL;
	err = buffer_space_lookup_user(&proc->space, ptr, &rb);
	if (err)
		return err;
	*out = rb->owner;
	return 0;
}

void txn_buffer_release_all(struct proc *proc)
{
	struct range_buffer *rb;

	while ((rb = buffer_space_first(&proc->space)) != NULL) {
		struct txn_buffer *b = rb->owner;

		if (b->transaction) {
			log_debug("release proc %d: transaction %llu not freed", proc->id.pid,
				  (unsigned long long)b->transaction->debug_id);
			b->transaction->buffer = NULL;
		}
		txn_buffer_destroy(b);
	}
}
