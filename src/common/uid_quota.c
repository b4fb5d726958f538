/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "common/log.h"
#include "common/uid_quota.h"

struct uid_usage {
	uid_t uid;
	uint64_t used[UID_QUOTA_KINDS_MAX];
	UT_hash_handle hh;
};

void uid_quotas_init(struct uid_quotas *q, size_t nkinds, const char *const *names)
{
	memset(q, 0, sizeof(*q));
	q->nkinds = nkinds < UID_QUOTA_KINDS_MAX ? nkinds : UID_QUOTA_KINDS_MAX;
	q->names = names;
}

void uid_quotas_deinit(struct uid_quotas *q)
{
	struct uid_usage *u, *tmp;

	HASH_ITER(hh, q->by_uid, u, tmp) {
		HASH_DEL(q->by_uid, u);
		free(u);
	}
}

static struct uid_usage *find(const struct uid_quotas *q, uid_t uid)
{
	struct uid_usage *u;

	HASH_FIND(hh, q->by_uid, &uid, sizeof(uid), u);
	return u;
}

bool uid_quota_take(struct uid_quotas *q, uid_t uid, size_t kind, uint64_t n)
{
	struct uid_usage *u = find(q, uid);
	uint64_t used;

	if (kind >= q->nkinds)
		return false;
	used = u ? u->used[kind] : 0;
	if (q->limit[kind] && (n > q->limit[kind] || used > q->limit[kind] - n)) {
		q->refused[kind]++;
		log_limited(LOG_LEVEL_NOTICE, "uid %u: over its quota of %" PRIu64 " %s",
			    (unsigned)uid, q->limit[kind], q->names[kind]);
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

void uid_quota_give(struct uid_quotas *q, uid_t uid, size_t kind, uint64_t n)
{
	struct uid_usage *u;

	if (n == 0 || kind >= q->nkinds)
		return;
	u = find(q, uid);
	if (!u)
		return;
	u->used[kind] = u->used[kind] > n ? u->used[kind] - n : 0;
	for (size_t k = 0; k < q->nkinds; k++) {
		if (u->used[k])
			return;
	}
	HASH_DEL(q->by_uid, u);
	free(u);
}

uint64_t uid_quota_used(const struct uid_quotas *q, uid_t uid, size_t kind)
{
	const struct uid_usage *u = find(q, uid);

	return u ? u->used[kind] : 0;
}

void uid_quotas_dump_stats(const struct uid_quotas *q, const char *prefix, FILE *out)
{
	for (size_t k = 0; k < q->nkinds; k++)
		fprintf(out, "%squota refused %s: %" PRIu64 "\n", prefix, q->names[k],
			q->refused[k]);
	fprintf(out, "%squota uids: %u\n", prefix, HASH_COUNT(q->by_uid));
}
