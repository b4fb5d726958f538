/* SPDX-License-Identifier: MIT */
/* BINDER_FREEZE, its waiting and timers, and BINDER_GET_FROZEN_INFO (freeze.c). */
#pragma once

#include "driver/entities.h"

/*
 * BINDER_FREEZE from @thread. Returns 1 when the ioctl waits for pending
 * transactions (it completes later through ops->ioctl_done), else its result:
 * 0, -EINVAL (no such process), -EPERM (the caller may not freeze it:
 * driver_config.freeze_any_uid), -EAGAIN (still busy; thawed again).
 */
int freeze_ioctl(struct thread *thread, const struct binder_freeze_info *info);

/* BINDER_GET_FROZEN_INFO: 0, or -EINVAL when no process has that pid. */
int freeze_get_frozen_info(struct driver *drv, struct binder_frozen_status_info *info);

/* @proc's transactions may have drained: completes the freezes waiting for it. */
void freeze_check(struct proc *proc);
