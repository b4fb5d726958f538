/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/assembly.h"
#include "daemon/session.h"

/* How often deadlines are checked, at most. */
#define SWEEP_MS 100

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sweep(struct loop_timer *t)
{
	struct assemblies *as =
		(struct assemblies *)((char *)t - offsetof(struct assemblies, timer));
	uint64_t now = now_ms();
	struct assembly *a;

	TAILQ_FOREACH(a, &as->list, entry) {
		if (a->deadline_ms > now)
			break;
		if (conn_closing(a->conn))
			continue;
		as->timeouts++;
		log_limited(LOG_LEVEL_NOTICE,
			    "pid %d: a multi-packet request unfinished after %" PRIu64
			    " ms: disconnecting",
			    a->conn->cred.pid, as->limits.timeout_ms);
		/* The close frees the assembly (glue's thread role). */
		conn_defer_close(a->conn);
	}
}

int assemblies_init(struct assemblies *as, struct loop *loop, struct uid_quotas *quotas,
		    const struct assembly_limits *limits)
{
	memset(as, 0, sizeof(*as));
	as->limits = *limits;
	as->quotas = quotas;
	TAILQ_INIT(&as->list);
	return loop_timer_init(loop, &as->timer, sweep);
}

void assemblies_deinit(struct assemblies *as)
{
	loop_timer_deinit(&as->timer);
}

/* Takes @bytes and @fds from @conn's process and uid; false when over a budget. */
static bool take_budget(struct assemblies *as, struct conn *conn, uint64_t bytes, uint64_t fds)
{
	struct session *s = conn->session;
	uid_t uid = conn->cred.uid;

	if (s && ((as->limits.proc_bytes && s->partial_bytes + bytes > as->limits.proc_bytes) ||
		  (as->limits.proc_fds && s->partial_fds + fds > as->limits.proc_fds)))
		return false;
	if (!uid_quota_take(as->quotas, uid, QUOTA_PARTIAL_BYTES, bytes))
		return false;
	if (!uid_quota_take(as->quotas, uid, QUOTA_PARTIAL_FDS, fds)) {
		uid_quota_give(as->quotas, uid, QUOTA_PARTIAL_BYTES, bytes);
		return false;
	}
	if (s) {
		s->partial_bytes += bytes;
		s->partial_fds += fds;
	}
	as->bytes += bytes;
	as->fds += fds;
	return true;
}

static void give_budget(struct assemblies *as, struct assembly *a)
{
	struct session *s = a->conn->session;

	uid_quota_give(as->quotas, a->conn->cred.uid, QUOTA_PARTIAL_BYTES, a->charged_bytes);
	uid_quota_give(as->quotas, a->conn->cred.uid, QUOTA_PARTIAL_FDS, a->charged_fds);
	if (s) {
		s->partial_bytes -= a->charged_bytes;
		s->partial_fds -= a->charged_fds;
	}
	as->bytes -= a->charged_bytes;
	as->fds -= a->charged_fds;
	a->charged_bytes = a->charged_fds = 0;
}

int assembly_start(struct assemblies *as, struct conn *conn, const struct ubw_write_read *hdr,
		   const uint8_t *body, size_t have, const int *fds, size_t nfds, pid_t sender,
		   int refuse)
{
	struct assembly *a = calloc(1, sizeof(*a));

	if (!a) {
		close_fds(fds, nfds);
		return -ENOMEM;
	}
	a->hdr = *hdr;
	a->have = have;
	a->conn = conn;
	a->sender = sender;
	a->error = refuse ? refuse : -ENOMEM;
	a->deadline_ms = now_ms() + as->limits.timeout_ms;
	if (!refuse && take_budget(as, conn, hdr->body_size, nfds)) {
		a->charged_bytes = hdr->body_size;
		a->charged_fds = nfds;
		a->body = malloc(hdr->body_size);
		a->fds = nfds ? malloc(nfds * sizeof(int)) : NULL;
		if (!a->body || (nfds && !a->fds)) {
			/* As over a budget: dropped, then -ENOMEM. */
			give_budget(as, a);
			free(a->body);
			free(a->fds);
			a->body = NULL;
			a->fds = NULL;
		}
	}
	if (a->body) {
		memcpy(a->body, body, have);
		if (nfds)
			memcpy(a->fds, fds, nfds * sizeof(int));
		a->nfds = nfds;
	} else {
		a->nfds = 0;
		close_fds(fds, nfds);
		if (!refuse) {
			as->refused++;
			log_limited(LOG_LEVEL_NOTICE,
				    "pid %d: a multi-packet request over its budget: it fails "
				    "with ENOMEM",
				    conn->cred.pid);
		}
	}
	TAILQ_INSERT_TAIL(&as->list, a, entry);
	conn->assembly = a;
	if (as->limits.timeout_ms)
		loop_timer_set(&as->timer, SWEEP_MS);
	return 0;
}

struct assembly *assembly_continue(struct assemblies *as, struct conn *conn, const uint8_t *body,
				   size_t len)
{
	struct assembly *a = conn->assembly;

	(void)as;
	if (!a || len > a->hdr.body_size - a->have) {
		conn_protocol_error(conn, "unexpected UBW_WRITE_READ_MORE");
		return NULL;
	}
	if (a->body)
		memcpy(a->body + a->have, body, len);
	a->have += len;
	if (a->have < a->hdr.body_size)
		return NULL;
	conn->assembly = NULL;
	return a;
}

void assembly_free(struct assemblies *as, struct assembly *a)
{
	if (!a)
		return;
	if (a->conn->assembly == a)
		a->conn->assembly = NULL;
	give_budget(as, a);
	TAILQ_REMOVE(&as->list, a, entry);
	if (TAILQ_EMPTY(&as->list))
		loop_timer_set(&as->timer, 0);
	close_fds(a->fds, a->nfds);
	free(a->fds);
	free(a->body);
	free(a);
}

void assemblies_dump_stats(const struct assemblies *as, FILE *out)
{
	size_t n = 0;
	const struct assembly *a;

	TAILQ_FOREACH(a, &as->list, entry)
		n++;
	fprintf(out, "partial requests: %zu\n", n);
	fprintf(out, "partial bytes: %" PRIu64 "\n", as->bytes);
	fprintf(out, "partial fds: %" PRIu64 "\n", as->fds);
	fprintf(out, "partial refused (budget): %" PRIu64 "\n", as->refused);
	fprintf(out, "partial timeouts: %" PRIu64 "\n", as->timeouts);
}
