/* SPDX-License-Identifier: MIT */
/*
 * Multi-packet requests: a UBW_WRITE_READ whose body spans several packets
 * is assembled here until its last UBW_WRITE_READ_MORE.
 *
 * What unfinished requests hold is bounded: their bodies and parked
 * descriptors count against budgets per process (the session) and per uid
 * (quota.h), and each must finish within a deadline. A request over a
 * budget is not stored: its packets are read and dropped, and when it is
 * complete the client gets -ENOMEM (the ioctl fails with ENOMEM, nothing
 * consumed); its descriptors are closed at once. A request past its
 * deadline costs the client its thread connection.
 *
 * Owns: struct assembly, the list of unfinished requests and their timer.
 * May call: session (its counters), quota, conn, loop, common/log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <bsd/sys/queue.h>

#include "daemon/conn.h"
#include "daemon/loop.h"
#include "daemon/quota.h"
#include "wire/wire.h"

struct assembly {
	struct ubw_write_read hdr;
	uint8_t *body; /* NULL when refused: packets are dropped, then @error is the reply */
	int error;     /* -ENOMEM over a budget, or the caller's refusal */
	pid_t sender;  /* every packet of it must come from this process */
	size_t have;
	int *fds;
	size_t nfds;
	struct conn *conn;
	uint64_t charged_bytes, charged_fds; /* against the budgets */
	uint64_t deadline_ms;
	TAILQ_ENTRY(assembly) entry;
};

struct assembly_limits {
	uint64_t proc_bytes; /* per process; 0: no limit */
	uint64_t proc_fds;
	uint64_t timeout_ms;
};

struct assemblies {
	struct assembly_limits limits;
	struct uid_quotas *quotas; /* the per-uid budgets */
	struct loop_timer timer;
	TAILQ_HEAD(, assembly) list; /* oldest first: deadlines in order */
	uint64_t bytes, fds;	     /* held now, by all */
	uint64_t refused, timeouts;
};

int assemblies_init(struct assemblies *as, struct loop *loop, struct uid_quotas *quotas,
		    const struct assembly_limits *limits);
void assemblies_deinit(struct assemblies *as);

/*
 * The first packet of @conn's request from @sender, @have of its body_size
 * bytes at @body, with descriptors (taken). Makes conn->assembly; with
 * @refuse (a negative errno), or over a budget, one that drops its packets
 * and whose reply is that error.
 */
int assembly_start(struct assemblies *as, struct conn *conn, const struct ubw_write_read *hdr,
		   const uint8_t *body, size_t have, const int *fds, size_t nfds, pid_t sender,
		   int refuse);

/*
 * A UBW_WRITE_READ_MORE of conn->assembly. Returns the assembly once it is
 * complete (conn->assembly is then NULL: the caller dispatches it, then
 * frees it), NULL while more is to come or when @len does not fit (the
 * connection then has a protocol error).
 */
struct assembly *assembly_continue(struct assemblies *as, struct conn *conn, const uint8_t *body,
				   size_t len);

/* Frees @a, closing the descriptors it still holds (nfds), and gives back its budgets. */
void assembly_free(struct assemblies *as, struct assembly *a);

void assemblies_dump_stats(const struct assemblies *as, FILE *out);
