/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "common/log.h"
#include "daemon/quota.h"

struct uid_usage {
	uid_t uid;
	uint64_t used[QUOTA_KINDS];
	UT_hash_handle hh;
};

static const char *const kind_names[QUOTA_KINDS] = {
	[QUOTA_SESSIONS] = "sessions",
	[QUOTA_THREADS] = "threads",
	[QUOTA_PARTIAL_BYTES] = "partial request bytes",
	[QUOTA_PARTIAL_FDS] = "partial request fds",
};

void quotas_init(struct quotas *q)
{
	memset(q, 0, sizeof(*q));
}

void quotas_deinit(struct quotas *q)
{
	struct uid_usage *u, *tmp;

	HASH_ITER(hh, q->by_uid, u, tmp) {
		HASH_DEL(q->by_uid, u);
		free(u);
	}
}

static struct uid_usage *find(const struct quotas *q, uid_t uid)
{
	struct uid_usage *u;

	HASH_FIND(hh, q->by_uid, &uid, sizeof(uid), u);
	return u;
}

bool quota_take(struct quotas *q, uid_t uid, enum quota_kind kind, uint64_t n)
{
	struct uid_usage *u = find(q, uid);
	uint64_t used = u ? u->used[kind] : 0;

	if (q->limit[kind] && (n > q->limit[kind] || used > q->limit[kind] - n)) {
		q->refused[kind]++;
		log_limited(LOG_LEVEL_NOTICE, "uid %u: over its quota of %" PRIu64 " %s",
			    (unsigned)uid, q->limit[kind], kind_names[kind]);
		return false;
	}
	if (n == 0)
		return true;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u) {
			q->refused[kind]++;
			return false;
		}
		u->uid = uid;
		HASH_ADD(hh, q->by_uid, uid, sizeof(u->uid), u);
	}
	u->used[kind] += n;
	return true;
}

void quota_give(struct quotas *q, uid_t uid, enum quota_kind kind, uint64_t n)
{
	struct uid_usage *u = find(q, uid);

	if (!u || n == 0)
		return;
	u->used[kind] = u->used[kind] > n ? u->used[kind] - n : 0;
	for (int k = 0; k < QUOTA_KINDS; k++) {
		if (u->used[k])
			return;
	}
	HASH_DEL(q->by_uid, u);
	free(u);
}

uint64_t quota_used(const struct quotas *q, uid_t uid, enum quota_kind kind)
{
	const struct uid_usage *u = find(q, uid);

	return u ? u->used[kind] : 0;
}

void quotas_dump_stats(const struct quotas *q, FILE *out)
{
	for (int k = 0; k < QUOTA_KINDS; k++)
		fprintf(out, "quota refused %s: %" PRIu64 "\n", kind_names[k], q->refused[k]);
	fprintf(out, "quota uids: %u\n", HASH_COUNT(q->by_uid));
}
