/* SPDX-License-Identifier: MIT */
/*
 * The daemon's per-uid quotas (common/uid_quota.h): what the processes of
 * one uid may hold in the daemon at once, so that one user's clients cannot
 * take the daemon's memory or descriptors from everyone else. The uid is
 * the kernel's (SO_PEERCRED at connect), never a peer's word.
 */
#pragma once

#include "common/uid_quota.h"

enum quota_kind {
	QUOTA_SESSIONS,
	QUOTA_THREADS,
	QUOTA_PARTIAL_BYTES, /* bodies of multi-packet requests being assembled */
	QUOTA_PARTIAL_FDS,   /* descriptors parked with them */
	QUOTA_KINDS,
};

static inline void daemon_quotas_init(struct uid_quotas *q)
{
	static const char *const names[QUOTA_KINDS] = {
		[QUOTA_SESSIONS] = "sessions",
		[QUOTA_THREADS] = "threads",
		[QUOTA_PARTIAL_BYTES] = "partial request bytes",
		[QUOTA_PARTIAL_FDS] = "partial request fds",
	};

	uid_quotas_init(q, QUOTA_KINDS, names);
}
