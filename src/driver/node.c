/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "driver/charge.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/thread.h"
#include "driver/todo.h"

static int node_cmp_ptr(const struct node *a, const struct node *b)
{
	return a->ptr < b->ptr ? -1 : a->ptr > b->ptr;
}

RB_GENERATE(node_tree, node, by_ptr, node_cmp_ptr)

struct node *node_lookup(struct proc *proc, uint64_t ptr)
{
	struct node key = { .ptr = ptr };

	return RB_FIND(node_tree, &proc->nodes, &key);
}

struct node *node_new(struct proc *proc, const struct flat_binder_object *fp)
{
	struct node *node;

	node = charge_calloc(proc, DRIVER_QUOTA_NODES, sizeof(*node));
	if (!node)
		return NULL;
	node->quota_uid = proc->id.euid;
	node->debug_id = driver_next_id(proc->driver);
	node->driver = proc->driver;
	node->proc = proc;
	node->ptr = fp->binder;
	node->cookie = fp->cookie;
	node->min_priority = fp->flags & FLAT_BINDER_FLAG_PRIORITY_MASK;
	node->accept_fds = !!(fp->flags & FLAT_BINDER_FLAG_ACCEPTS_FDS);
	node->txn_security_ctx = !!(fp->flags & FLAT_BINDER_FLAG_TXN_SECURITY_CTX);
	node->work.type = WORK_NODE;
	LIST_INIT(&node->refs);
	work_list_init(&node->async_todo);
	RB_INSERT(node_tree, &proc->nodes, node);
	proc->driver->stats.nodes_created++;
	return node;
}

static bool node_is_context_mgr_with_strong_ref(const struct node *node)
{
	return node->proc && node == node->proc->context->mgr_node && node->has_strong_ref;
}

int node_inc(struct node *node, bool strong, bool internal, struct thread *target_thread)
{
	if (strong) {
		if (internal) {
			if (!target_thread && node->internal_strong_refs == 0 &&
			    !node_is_context_mgr_with_strong_ref(node)) {
				log_notice("invalid inc strong node %llu",
					   (unsigned long long)node->debug_id);
				return -EINVAL;
			}
			node->internal_strong_refs++;
		} else {
			node->local_strong_refs++;
		}
		if (!node->has_strong_ref && target_thread) {
			/* The owner learns of it when that thread next returns to user space. */
			work_dequeue(&node->work);
			thread_enqueue_deferred_work(target_thread, &node->work);
		}
	} else {
		if (!internal)
			node->local_weak_refs++;
		if (!node->has_weak_ref && !work_is_queued(&node->work)) {
			if (!target_thread) {
				log_notice("invalid inc weak node %llu",
					   (unsigned long long)node->debug_id);
				return -EINVAL;
			}
			/* Queued, not waking: the owner reads it with its next work. */
			thread_enqueue_deferred_work(target_thread, &node->work);
		}
	}
	return 0;
}

void node_free(struct node *node)
{
	work_dequeue(&node->work);
	if (node->proc)
		RB_REMOVE(node_tree, &node->proc->nodes, node);
	else
		LIST_REMOVE(node, dead_entry);
	node->driver->stats.nodes_deleted++;
	uid_quota_give(&node->driver->quotas, node->quota_uid, DRIVER_QUOTA_NODES, 1);
	free(node);
}

/*
 * Re-evaluates a node after a count dropped to zero (binder_dec_node's
 * tail): the owner must hear of it first, or else the node goes when nothing
 * holds it. Returns true if it was freed.
 */
static bool node_counts_dropped(struct node *node)
{
	struct proc *proc = node->proc;

	if (proc && (node->has_strong_ref || node->has_weak_ref)) {
		if (!work_is_queued(&node->work)) {
			proc_enqueue_work(proc, &node->work);
			proc_wakeup(proc);
		}
		return false;
	}
	if (!LIST_EMPTY(&node->refs) || node->local_strong_refs || node->local_weak_refs ||
	    node->tmp_refs)
		return false;
	log_debug("%s node %llu deleted", proc ? "refless" : "dead",
		  (unsigned long long)node->debug_id);
	node_free(node);
	return true;
}

/*
 * Drops a local count. The owner's death zeroes local counts while
 * transactions still hold theirs (a fetch on a worker can outlive the
 * owner); those late drops must not go below zero.
 */
static void drop_local(struct node *node, int *count)
{
	if (*count > 0)
		(*count)--;
	else if (node->proc)
		log_error("node %llu: local count underflow", (unsigned long long)node->debug_id);
}

bool node_dec(struct node *node, bool strong, bool internal)
{
	if (strong) {
		if (internal)
			node->internal_strong_refs--;
		else
			drop_local(node, &node->local_strong_refs);
		if (node->local_strong_refs || node->internal_strong_refs)
			return false;
	} else {
		if (!internal)
			drop_local(node, &node->local_weak_refs);
		if (node->local_weak_refs || node->tmp_refs || !LIST_EMPTY(&node->refs))
			return false;
	}
	return node_counts_dropped(node);
}

void node_inc_tmpref(struct node *node)
{
	node->tmp_refs++;
}

void node_dec_tmpref(struct node *node)
{
	node->tmp_refs--;
	/* A weak internal "drop" changes no count; it only re-checks for freeing. */
	node_dec(node, false, true);
}

void node_release(struct node *node)
{
	struct proc *proc = node->proc;
	struct ref *ref;

	work_dequeue(&node->work);
	if (LIST_EMPTY(&node->refs) && node->tmp_refs == 1) {
		node_free(node);
		return;
	}
	RB_REMOVE(node_tree, &proc->nodes, node);
	node->proc = NULL;
	node->local_strong_refs = 0;
	node->local_weak_refs = 0;
	LIST_INSERT_HEAD(&node->driver->dead_nodes, node, dead_entry);

	LIST_FOREACH(ref, &node->refs, node_entry) {
		if (!ref->death)
			continue;
		ref->death->work.type = WORK_DEAD_BINDER;
		proc_enqueue_work(ref->proc, &ref->death->work);
		proc_wakeup(ref->proc);
	}
	node_dec_tmpref(node);
}
