/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "driver/charge.h"
#include "driver/ignored.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/todo.h"

static int ref_cmp_desc(const struct ref *a, const struct ref *b)
{
	return a->desc < b->desc ? -1 : a->desc > b->desc;
}

static int ref_cmp_node(const struct ref *a, const struct ref *b)
{
	uintptr_t x = (uintptr_t)a->node, y = (uintptr_t)b->node;

	return x < y ? -1 : x > y;
}

RB_GENERATE(ref_desc_tree, ref, by_desc, ref_cmp_desc)
RB_GENERATE(ref_node_tree, ref, by_node, ref_cmp_node)

struct ref *ref_lookup(struct proc *proc, uint32_t desc, bool need_strong)
{
	struct ref key = { .desc = desc };
	struct ref *ref = RB_FIND(ref_desc_tree, &proc->refs_by_desc, &key);

	if (ref && need_strong && !ref->strong) {
		proc_note_ignored(proc, -1, "tried to use weak ref %u as strong ref", desc);
		return NULL;
	}
	return ref;
}

struct ref *ref_lookup_node(struct proc *proc, struct node *node)
{
	struct ref key = { .node = node };

	return RB_FIND(ref_node_tree, &proc->refs_by_node, &key);
}

/* Lowest free handle: 0 is reserved for the context manager's node. */
static uint32_t ref_free_desc(struct proc *proc, struct node *node)
{
	uint32_t desc = node == proc->context->mgr_node ? 0 : 1;
	struct ref *ref;

	RB_FOREACH(ref, ref_desc_tree, &proc->refs_by_desc) {
		if (ref->desc > desc)
			break;
		desc = ref->desc + 1;
	}
	return desc;
}

static struct ref *ref_new(struct proc *proc, struct node *node)
{
	struct ref *ref;

	ref = charge_calloc(proc, DRIVER_QUOTA_REFS, sizeof(*ref));
	if (!ref)
		return NULL;
	ref->quota_uid = proc->id.euid;
	ref->debug_id = driver_next_id(proc->driver);
	ref->proc = proc;
	ref->node = node;
	ref->desc = ref_free_desc(proc, node);
	RB_INSERT(ref_node_tree, &proc->refs_by_node, ref);
	RB_INSERT(ref_desc_tree, &proc->refs_by_desc, ref);
	LIST_INSERT_HEAD(&node->refs, ref, node_entry);
	proc->driver->stats.refs_created++;
	log_debug("proc %d: new ref %llu desc %u for node %llu", proc->id.pid,
		  (unsigned long long)ref->debug_id, ref->desc, (unsigned long long)node->debug_id);
	return ref;
}

static int ref_inc(struct ref *ref, bool strong, struct thread *target_thread)
{
	int err;

	if (strong) {
		if (ref->strong == 0) {
			err = node_inc(ref->node, true, true, target_thread);
			if (err)
				return err;
		}
		ref->strong++;
	} else {
		if (ref->weak == 0) {
			err = node_inc(ref->node, false, true, target_thread);
			if (err)
				return err;
		}
		ref->weak++;
	}
	return 0;
}

/*
 * Unlinks @ref from its node, dropping the weak hold the link was, and drops
 * a pending death notification. The caller frees @ref.
 */
static void ref_cleanup(struct ref *ref)
{
	struct node *node = ref->node;

	log_debug("proc %d: delete ref %llu desc %u", ref->proc->id.pid,
		  (unsigned long long)ref->debug_id, ref->desc);
	RB_REMOVE(ref_desc_tree, &ref->proc->refs_by_desc, ref);
	RB_REMOVE(ref_node_tree, &ref->proc->refs_by_node, ref);
	if (ref->strong)
		node_dec(node, true, true);
	LIST_REMOVE(ref, node_entry);
	node_dec(node, false, true);
	if (ref->death)
		work_dequeue(&ref->death->work);
}

void ref_death_free(struct driver *drv, struct ref_death *death)
{
	drv->stats.deaths_deleted++;
	uid_quota_give(&drv->quotas, death->quota_uid, DRIVER_QUOTA_DEATHS, 1);
	free(death);
}

static void ref_free(struct ref *ref)
{
	struct driver *drv = ref->proc->driver;

	if (ref->death)
		ref_death_free(drv, ref->death);
	drv->stats.refs_deleted++;
	uid_quota_give(&drv->quotas, ref->quota_uid, DRIVER_QUOTA_REFS, 1);
	free(ref);
}

void ref_cleanup_and_free(struct ref *ref)
{
	ref_cleanup(ref);
	ref_free(ref);
}

/* Returns true when the ref lost its last count and must be freed. */
static bool ref_dec(struct ref *ref, bool strong)
{
	if (strong) {
		if (ref->strong == 0) {
			proc_note_ignored(ref->proc, IGNORED_REFCOUNT_UNDERFLOW,
					  "invalid dec strong, ref %llu desc %u s %d w %d",
					  (unsigned long long)ref->debug_id, ref->desc, ref->strong,
					  ref->weak);
			return false;
		}
		ref->strong--;
		if (ref->strong == 0)
			node_dec(ref->node, true, true);
	} else {
		if (ref->weak == 0) {
			proc_note_ignored(ref->proc, IGNORED_REFCOUNT_UNDERFLOW,
					  "invalid dec weak, ref %llu desc %u s %d w %d",
					  (unsigned long long)ref->debug_id, ref->desc, ref->strong,
					  ref->weak);
			return false;
		}
		ref->weak--;
	}
	if (ref->strong == 0 && ref->weak == 0) {
		ref_cleanup(ref);
		return true;
	}
	return false;
}

int ref_inc_for_node(struct proc *proc, struct node *node, bool strong,
		     struct thread *target_thread, uint32_t *desc)
{
	struct ref *ref = ref_lookup_node(proc, node);
	int err;

	if (!ref) {
		ref = ref_new(proc, node);
		if (!ref)
			return -ENOMEM;
	}
	err = ref_inc(ref, strong, target_thread);
	if (desc)
		*desc = ref->desc;
	/* A ref that could take no count at all must not linger. */
	if (err && ref->strong == 0 && ref->weak == 0) {
		ref_cleanup(ref);
		ref_free(ref);
	}
	return err;
}

int ref_update_for_handle(struct proc *proc, uint32_t desc, bool increment, bool strong,
			  uint32_t *desc_out)
{
	struct ref *ref = ref_lookup(proc, desc, strong);
	bool gone = false;
	int err = 0;

	if (!ref)
		return -EINVAL;
	if (desc_out)
		*desc_out = ref->desc;
	if (increment)
		err = ref_inc(ref, strong, NULL);
	else
		gone = ref_dec(ref, strong);
	if (gone)
		ref_free(ref);
	return err;
}

int ref_dec_for_handle(struct proc *proc, uint32_t desc, bool strong)
{
	return ref_update_for_handle(proc, desc, false, strong, NULL);
}

/* Queues a clear acknowledgement where the kernel queues it. */
static void death_queue_clear_done(struct thread *thread, struct ref_death *death)
{
	death->work.type = WORK_CLEAR_DEATH_NOTIFICATION;
	if (thread->looper & (LOOPER_REGISTERED | LOOPER_ENTERED)) {
		thread_enqueue_work(thread, &death->work);
	} else {
		proc_enqueue_work(thread->proc, &death->work);
		proc_wakeup(thread->proc);
	}
}

/* The ref a death command names, or NULL (ignored, as the kernel ignores it). */
static struct ref *death_ref(struct proc *proc, uint32_t desc, const char *command)
{
	struct ref *ref = ref_lookup(proc, desc, false);

	if (!ref)
		proc_note_ignored(proc, IGNORED_DEATH_BAD_HANDLE, "%s invalid ref %u", command,
				  desc);
	return ref;
}

void ref_request_death(struct thread *thread, uint32_t desc, uint64_t cookie)
{
	struct proc *proc = thread->proc;
	struct ref_death *death;
	struct ref *ref;

	ref = death_ref(proc, desc, "BC_REQUEST_DEATH_NOTIFICATION");
	if (!ref)
		return;
	if (ref->death) {
		proc_note_ignored(proc, IGNORED_DEATH_ALREADY_SET,
				  "BC_REQUEST_DEATH_NOTIFICATION death notification already set");
		return;
	}
	/* Over the uid's quota, as when the allocation fails: BR_ERROR. */
	death = charge_calloc(proc, DRIVER_QUOTA_DEATHS, sizeof(*death));
	if (!death) {
		thread_set_return_error(thread, BR_ERROR);
		return;
	}
	death->quota_uid = proc->id.euid;
	proc->driver->stats.deaths_created++;
	death->cookie = cookie;
	ref->death = death;
	if (ref->node->proc == NULL) {
		/* The node is already dead: notify at once. */
		death->work.type = WORK_DEAD_BINDER;
		proc_enqueue_work(proc, &death->work);
		proc_wakeup(proc);
	}
}

void ref_clear_death(struct thread *thread, uint32_t desc, uint64_t cookie)
{
	struct proc *proc = thread->proc;
	struct ref_death *death;
	struct ref *ref;

	ref = death_ref(proc, desc, "BC_CLEAR_DEATH_NOTIFICATION");
	if (!ref)
		return;
	death = ref->death;
	if (!death) {
		proc_note_ignored(proc, IGNORED_DEATH_NOT_ACTIVE,
				  "BC_CLEAR_DEATH_NOTIFICATION death notification not active");
		return;
	}
	if (death->cookie != cookie) {
		proc_note_ignored(proc, IGNORED_DEATH_COOKIE_MISMATCH,
				  "BC_CLEAR_DEATH_NOTIFICATION death notification cookie mismatch");
		return;
	}
	ref->death = NULL;
	if (!work_is_queued(&death->work)) {
		death_queue_clear_done(thread, death);
	} else {
		/* BR_DEAD_BINDER is on its way: acknowledge the clear after BC_DEAD_BINDER_DONE. */
		death->work.type = WORK_DEAD_BINDER_AND_CLEAR;
	}
}

void ref_dead_binder_done(struct thread *thread, uint64_t cookie)
{
	struct proc *proc = thread->proc;
	struct ref_death *death = NULL;
	struct work *w;

	TAILQ_FOREACH(w, &proc->delivered_death.items, entry) {
		struct ref_death *d = (struct ref_death *)w;

		if (d->cookie == cookie) {
			death = d;
			break;
		}
	}
	if (!death) {
		proc_note_ignored(proc, IGNORED_DEAD_BINDER_DONE_UNKNOWN,
				  "BC_DEAD_BINDER_DONE %016llx not found",
				  (unsigned long long)cookie);
		return;
	}
	work_dequeue(&death->work);
	if (death->work.type == WORK_DEAD_BINDER_AND_CLEAR)
		death_queue_clear_done(thread, death);
}
