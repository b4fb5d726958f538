/* SPDX-License-Identifier: MIT */
/*
 * The Binder ioctls other than BINDER_WRITE_READ, with the kernel's results
 * (BINDER_FREEZE is freeze.c's).
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "driver/todo.h"
#include "driver/freeze.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"

static int set_context_mgr(struct thread *thread, const struct flat_binder_object *fbo)
{
	struct proc *proc = thread->proc;
	struct context *ctx = proc->context;
	struct node *node;

	if (ctx->mgr_node) {
		log_notice("%s: BINDER_SET_CONTEXT_MGR already set", ctx->name);
		return -EBUSY;
	}
	if (ctx->mgr_uid_set) {
		if (ctx->mgr_uid != proc->id.euid) {
			log_notice("%s: BINDER_SET_CONTEXT_MGR bad uid %u != %u", ctx->name,
				   (unsigned)proc->id.euid, (unsigned)ctx->mgr_uid);
			return -EPERM;
		}
	} else {
		ctx->mgr_uid = proc->id.euid;
		ctx->mgr_uid_set = true;
	}
	node = node_lookup(proc, fbo->binder);
	if (!node)
		node = node_new(proc, fbo);
	if (!node)
		return -ENOMEM;
	node->local_weak_refs++;
	node->local_strong_refs++;
	node->has_strong_ref = true;
	node->has_weak_ref = true;
	ctx->mgr_node = node;
	log_info("%s: proc %d is the context manager", ctx->name, proc->id.pid);
	return 0;
}

static int get_node_debug_info(struct proc *proc, struct binder_node_debug_info *info)
{
	uint64_t ptr = info->ptr;
	struct node *node;

	memset(info, 0, sizeof(*info));
	RB_FOREACH(node, node_tree, &proc->nodes) {
		if (node->ptr > ptr) {
			info->ptr = node->ptr;
			info->cookie = node->cookie;
			info->has_strong_ref = node->has_strong_ref;
			info->has_weak_ref = node->has_weak_ref;
			break;
		}
	}
	return 0;
}

static int get_node_info_for_ref(struct proc *proc, struct binder_node_info_for_ref *info)
{
	struct node *mgr = proc->context->mgr_node;
	struct ref *ref;

	if (info->strong_count || info->weak_count || info->reserved1 || info->reserved2 ||
	    info->reserved3) {
		log_notice("proc %d: BINDER_GET_NODE_INFO_FOR_REF: only handle may be non-zero",
			   proc->id.pid);
		return -EINVAL;
	}
	if (!mgr || mgr->proc != proc)
		return -EPERM;
	ref = ref_lookup(proc, info->handle, true);
	if (!ref)
		return -EINVAL;
	info->strong_count = node_strong_count(ref->node);
	info->weak_count = ref->node->local_weak_refs;
	return 0;
}

void driver_ioctl(struct thread *thread, uint32_t cmd, const void *arg, size_t size)
{
	struct proc *proc = thread->proc;
	struct driver *drv = proc->driver;
	union {
		struct binder_version version;
		uint32_t u32;
		int32_t s32;
		struct flat_binder_object fbo;
		struct binder_node_debug_info node_debug;
		struct binder_node_info_for_ref node_info;
		struct binder_freeze_info freeze;
		struct binder_frozen_status_info frozen;
		struct binder_extended_error ee;
	} u;
	int ret = 0;

	driver_take_lazy_reads(drv);
	memset(&u, 0, sizeof(u));
	if (size != _IOC_SIZE(cmd) || size > sizeof(u) || thread->bwr.phase != BWR_IDLE) {
		drv->ops->ioctl_done(thread->conn, -EINVAL, NULL, 0);
		return;
	}
	memcpy(&u, arg, size);
	switch (cmd) {
	case BINDER_VERSION:
		u.version.protocol_version = BINDER_CURRENT_PROTOCOL_VERSION;
		break;
	case BINDER_SET_MAX_THREADS:
		proc->max_threads = u.u32;
		break;
	case BINDER_SET_CONTEXT_MGR_EXT:
		ret = set_context_mgr(thread, &u.fbo);
		break;
	case BINDER_SET_CONTEXT_MGR: {
		struct flat_binder_object none = { 0 };

		ret = set_context_mgr(thread, &none);
		break;
	}
	case BINDER_GET_NODE_DEBUG_INFO:
		ret = get_node_debug_info(proc, &u.node_debug);
		break;
	case BINDER_GET_NODE_INFO_FOR_REF:
		ret = get_node_info_for_ref(proc, &u.node_info);
		break;
	case BINDER_FREEZE:
		ret = freeze_ioctl(thread, &u.freeze);
		if (ret == 1)
			return; /* answered when drained or timed out */
		break;
	case BINDER_GET_FROZEN_INFO:
		ret = freeze_get_frozen_info(drv, &u.frozen);
		break;
	case BINDER_ENABLE_ONEWAY_SPAM_DETECTION:
		proc->oneway_spam_detection_enabled = !!u.u32;
		break;
	case BINDER_GET_EXTENDED_ERROR:
		u.ee = thread->ee;
		thread->ee.id = 0;
		thread->ee.command = BR_OK;
		thread->ee.param = 0;
		break;
	default:
		ret = -EINVAL;
		break;
	}
	/* binder_ioctl's epilogue: the thread returned to user space. */
	thread->looper_need_return = false;
	drv->ops->ioctl_done(thread->conn, ret, &u, size);
}
