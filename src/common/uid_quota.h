/* SPDX-License-Identifier: MIT */
/*
 * Per-uid quotas: how much of each kind of resource the processes of one
 * uid hold at once, against a limit per kind, with refusals counted. The
 * kinds and their names are the user's (at most UID_QUOTA_KINDS_MAX).
 * Not thread-safe: for the event loop's thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define UID_QUOTA_KINDS_MAX 8

struct uid_usage;

struct uid_quotas {
	size_t nkinds;
	const char *const *names;	     /* per kind, for the stats and the log */
	uint64_t limit[UID_QUOTA_KINDS_MAX]; /* per uid; 0: no limit */
	uint64_t refused[UID_QUOTA_KINDS_MAX];
	struct uid_usage *by_uid; /* uthash */
};

void uid_quotas_init(struct uid_quotas *q, size_t nkinds, const char *const *names);
void uid_quotas_deinit(struct uid_quotas *q);

/* Takes @n of @kind for @uid. False (counted, logged) when it would exceed the limit. */
bool uid_quota_take(struct uid_quotas *q, uid_t uid, size_t kind, uint64_t n);
/* Gives back what uid_quota_take took. */
void uid_quota_give(struct uid_quotas *q, uid_t uid, size_t kind, uint64_t n);
/* What @uid holds of @kind now. */
uint64_t uid_quota_used(const struct uid_quotas *q, uid_t uid, size_t kind);

/* "quota refused NAME: N" per kind, and "quota uids: N" with @prefix before each line. */
void uid_quotas_dump_stats(const struct uid_quotas *q, const char *prefix, FILE *out);
