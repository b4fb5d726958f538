/* SPDX-License-Identifier: MIT */
/*
 * BINDER_FREEZE and BINDER_GET_FROZEN_INFO, with the timers of a freeze that
 * waits for a process's transactions to drain (driver_tick). A waiting
 * freeze keeps its thread in BWR_IOCTL (entities.h) and counts in
 * driver->pending_freezes.
 */
#include <errno.h>
#include <time.h>

#include "common/log.h"
#include "driver/todo.h"
#include "driver/freeze.h"

uint64_t driver_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

int freeze_get_frozen_info(struct driver *drv, struct binder_frozen_status_info *info)
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

int freeze_ioctl(struct thread *thread, const struct binder_freeze_info *info)
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

void freeze_check(struct proc *proc)
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

	driver_take_lazy_reads(drv);
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
