/* SPDX-License-Identifier: MIT */
/*
 * Per-uid quotas: what the processes of one uid may hold in the daemon at
 * once (sessions, thread connections, bytes and descriptors of unfinished
 * multi-packet requests), so that one user's clients cannot take the
 * daemon's memory or descriptors from everyone else. The uid is the
 * kernel's (SO_PEERCRED at connect), never a peer's word.
 *
 * Owns: the per-uid usage table and the refusal counters.
 * May call: common/log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum quota_kind {
	QUOTA_SESSIONS,
	QUOTA_THREADS,
	QUOTA_PARTIAL_BYTES, /* bodies of multi-packet requests being assembled */
	QUOTA_PARTIAL_FDS,   /* descriptors parked with them */
	QUOTA_KINDS,
};

struct uid_usage;

struct quotas {
	uint64_t limit[QUOTA_KINDS]; /* per uid; 0: no limit */
	uint64_t refused[QUOTA_KINDS];
	struct uid_usage *by_uid; /* uthash */
};

void quotas_init(struct quotas *q);
void quotas_deinit(struct quotas *q);

/* Takes @n of @kind for @uid. False (and counted) when it would exceed the limit. */
bool quota_take(struct quotas *q, uid_t uid, enum quota_kind kind, uint64_t n);
/* Gives back what quota_take took. */
void quota_give(struct quotas *q, uid_t uid, enum quota_kind kind, uint64_t n);
/* What @uid holds of @kind now. */
uint64_t quota_used(const struct quotas *q, uid_t uid, enum quota_kind kind);

/* Lines for the stats dump: refusals per kind, uids holding anything. */
void quotas_dump_stats(const struct quotas *q, FILE *out);
