/* SPDX-License-Identifier: MIT */
/*
 * Entities charged to their owner's per-uid quota (driver_config's
 * max_*_per_uid): nodes, references and death notifications. Each records
 * the uid it was charged to (quota_uid) and gives the charge back with
 * uid_quota_give when it is freed.
 */
#pragma once

#include <stdlib.h>

#include "common/uid_quota.h"
#include "driver/entities.h"

/*
 * @size zeroed bytes charged to @proc's euid under @kind; NULL, with nothing
 * charged, above the quota or without memory (the kernel fails both alike).
 */
static inline void *charge_calloc(struct proc *proc, enum driver_quota kind, size_t size)
{
	void *p;

	if (!uid_quota_take(&proc->driver->quotas, proc->id.euid, kind, 1))
		return NULL;
	p = calloc(1, size);
	if (!p)
		uid_quota_give(&proc->driver->quotas, proc->id.euid, kind, 1);
	return p;
}
