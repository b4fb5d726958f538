/* SPDX-License-Identifier: MIT */
/*
 * The Binder ioctls other than BINDER_WRITE_READ, with the kernel's results,
 * and the device's mmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "driver/bwr.h"
#include "driver/node.h"
#include "driver/proc.h"
#include "driver/ref.h"
#include "driver/thread.h"
#include "driver/txn_buffer.h"
#include "region/page.h"

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

static bool txns_pending(const struct proc *proc)
{
	const struct thread *thread;

	if (proc->outstanding_txns > 0)
		return true;
	TAILQ_FOREACH(thread, &proc->threads, proc_entry) {
		if (thread->transaction_stack)
			return true;
	}
	return false;
}

static int get_frozen_info(struct driver *drv, struct binder_frozen_status_info *info)
{
	bool found = false;
	struct proc *proc;

	info->sync_recv = 0;
	info->async_recv = 0;
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (proc->is_dead || proc->id.pid != (pid_t)info->pid)
			continue;
		found = true;
		info->sync_recv |= proc->sync_recv | ((uint32_t)txns_pending(proc) << 1);
		info->async_recv |= proc->async_recv;
	}
	return found ? 0 : -EINVAL;
}

/* Ends a BINDER_FREEZE: -EAGAIN (and thawed again) if transactions are still pending. */
static int freeze_finish(struct driver *drv, const struct binder_freeze_info *info)
{
	struct proc *proc;
	int ret = 0;

	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (proc->is_dead || proc->id.pid != (pid_t)info->pid)
			continue;
		if (ret == 0 && txns_pending(proc))
			ret = -EAGAIN;
	}
	if (ret) {
		TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
			if (!proc->is_dead && proc->id.pid == (pid_t)info->pid)
				proc->is_frozen = false;
		}
	}
	return ret;
}

static bool freeze_drained(struct driver *drv, pid_t pid)
{
	struct proc *proc;

	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (!proc->is_dead && proc->id.pid == pid && proc->outstanding_txns)
			return false;
	}
	return true;
}

/*
 * Whether the caller may freeze or thaw @target. The kernel has no check of
 * its own (Android gates the ioctl with SELinux); ubinder's default keeps a
 * process of one uid from stopping another uid's.
 */
static bool may_freeze(const struct proc *caller, const struct proc *target)
{
	return caller->driver->config.freeze_any_uid || caller->id.euid == 0 ||
	       caller->id.euid == target->id.euid;
}

/* Returns 1 when the ioctl waits (completed later), else the result. */
static int freeze(struct thread *thread, const struct binder_freeze_info *info)
{
	struct driver *drv = thread->proc->driver;
	struct proc *proc;
	int found = 0;

	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (!proc->is_dead && proc->id.pid == (pid_t)info->pid &&
		    !may_freeze(thread->proc, proc)) {
			log_info("BINDER_FREEZE of pid %d (uid %u) by uid %u refused",
				 (int)proc->id.pid, (unsigned)proc->id.euid,
				 (unsigned)thread->proc->id.euid);
			return -EPERM;
		}
	}
	TAILQ_FOREACH(proc, &drv->procs, driver_entry) {
		if (proc->is_dead || proc->id.pid != (pid_t)info->pid)
			continue;
		found++;
		proc->sync_recv = false;
		proc->async_recv = false;
		proc->is_frozen = !!info->enable;
	}
	if (!found)
		return -EINVAL;
	if (!info->enable)
		return 0;
	if (info->timeout_ms > 0 && !freeze_drained(drv, info->pid)) {
		thread->bwr.phase = BWR_IOCTL;
		drv->pending_freezes++;
		thread->bwr.freeze = *info;
		thread->bwr.freeze_deadline_ms = driver_now_ms() + info->timeout_ms;
		return 1;
	}
	return freeze_finish(drv, info);
}

static void freeze_done(struct thread *thread)
{
	struct driver *drv = thread->proc->driver;
	struct binder_freeze_info info = thread->bwr.freeze;
	int ret;

	thread->bwr.phase = BWR_IDLE;
	drv->pending_freezes--;
	ret = freeze_finish(drv, &info);
	thread->looper_need_return = false;
	drv->ops->ioctl_done(thread->conn, ret, &info, sizeof(info));
}

void bwr_frozen_check(struct proc *proc)
{
	struct driver *drv = proc->driver;
	struct proc *p;

	if (proc->outstanding_txns || !proc->is_frozen || !drv->pending_freezes)
		return;
	/* Any thread waiting in BINDER_FREEZE for this pid may be done now. */
	TAILQ_FOREACH(p, &drv->procs, driver_entry) {
		struct thread *thread, *next;

		TAILQ_FOREACH_SAFE(thread, &p->threads, proc_entry, next) {
			if (thread->bwr.phase == BWR_IOCTL &&
			    (pid_t)thread->bwr.freeze.pid == proc->id.pid &&
			    freeze_drained(drv, proc->id.pid))
				freeze_done(thread);
		}
	}
}

void driver_tick(struct driver *drv, uint64_t now_ms)
{
	struct proc *p;

	if (!drv->pending_freezes)
		return;
	TAILQ_FOREACH(p, &drv->procs, driver_entry) {
		struct thread *thread, *next;

		TAILQ_FOREACH_SAFE(thread, &p->threads, proc_entry, next) {
			if (thread->bwr.phase == BWR_IOCTL &&
			    now_ms >= thread->bwr.freeze_deadline_ms)
				freeze_done(thread);
		}
	}
}

bool driver_has_timers(const struct driver *drv)
{
	return drv->pending_freezes > 0;
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
		ret = freeze(thread, &u.freeze);
		if (ret == 1)
			return; /* answered when drained or timed out */
		break;
	case BINDER_GET_FROZEN_INFO:
		ret = get_frozen_info(drv, &u.frozen);
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

int driver_mmap(struct thread *thread, uint64_t addr, uint64_t size, int *fd, uint64_t *mapped)
{
	struct proc *proc = thread->proc;
	size_t page = geo_page_size(page_geometry_of_machine());
	uint64_t region_size;
	int err;

	(void)addr;
	*fd = -1;
	/* Only the process that opened the device maps it (a forked child: EINVAL). */
	if (thread->peer.pid != proc->id.pid)
		return -EINVAL;
	if (buffer_space_was_created(&proc->space))
		return -EBUSY;
	if (size == 0)
		return -EINVAL;
	region_size = size < proc->driver->config.max_region_size
			      ? size
			      : proc->driver->config.max_region_size;
	region_size &= ~(uint64_t)(page - 1);
	if (region_size == 0)
		return -EINVAL;
	err = buffer_space_create(&proc->space, region_size, proc->context->name, proc->id.pid);
	if (err < 0)
		return err;
	*fd = err;
	*mapped = region_size;
	return 0;
}

int driver_outbox(struct thread *thread, uint64_t addr, uint64_t size, int *fd)
{
	struct proc *proc = thread->proc;
	size_t page = geo_page_size(page_geometry_of_machine());
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	void *map;
	int memfd;

	*fd = -1;
	if (thread->peer.pid != proc->id.pid || addr == 0 || (addr & (page - 1)))
		return -EINVAL;
	if (proc->outbox)
		return -EBUSY;
	if (size == 0 || size > proc->driver->config.max_outbox || (size & (page - 1)))
		return -EINVAL;
	memfd = memfd_create("ubinder-outbox", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return -errno;
	if (ftruncate(memfd, (off_t)size) < 0 || fcntl(memfd, F_ADD_SEALS, seals) < 0) {
		close(memfd);
		return -ENOMEM;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED) {
		close(memfd);
		return -ENOMEM;
	}
	(void)madvise(map, size, MADV_DONTFORK);
	proc->outbox = map;
	proc->outbox_base = addr;
	proc->outbox_size = size;
	*fd = memfd;
	return 0;
}

int driver_mmap_done(struct thread *thread, uint64_t addr)
{
	return buffer_space_mapped(&thread->proc->space, addr);
}

int driver_munmap(struct thread *thread, uint64_t addr)
{
	return buffer_space_unmapped(&thread->proc->space, addr);
}
