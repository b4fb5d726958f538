/* SPDX-License-Identifier: MIT */
/*
 * Counters the driver keeps, globally and per process: the commands and
 * returns exchanged (as the kernel's binder stats), the bad commands it
 * ignored (which the kernel only logs), how transaction bytes were copied,
 * and reclaim. Shown by `ubinderctl stats` and `ubinderctl proc`.
 */
#pragma once

#include <stdint.h>

/* _IOC_NR of the highest BC_ and BR_ codes, plus one. */
#define STATS_BC_COUNT 19
#define STATS_BR_COUNT 20

/* Bad commands the kernel ignores with a log line; we count them too. */
enum ignored_kind {
	IGNORED_FREE_BUFFER_UNKNOWN,	   /* BC_FREE_BUFFER: no buffer there */
	IGNORED_FREE_BUFFER_NOT_DELIVERED, /* BC_FREE_BUFFER: not returned to user, or freed */
	IGNORED_REFCOUNT_BAD_HANDLE,	   /* BC_INCREFS..BC_DECREFS on an unknown handle */
	IGNORED_REFCOUNT_UNDERFLOW,	   /* BC_RELEASE/BC_DECREFS below zero */
	IGNORED_DONE_UNKNOWN_NODE,	   /* BC_INCREFS_DONE/BC_ACQUIRE_DONE: no such node */
	IGNORED_DONE_COOKIE_MISMATCH,
	IGNORED_DONE_NOT_PENDING, /* no BR_INCREFS/BR_ACQUIRE outstanding */
	IGNORED_DEATH_BAD_HANDLE,
	IGNORED_DEATH_ALREADY_SET,
	IGNORED_DEATH_NOT_ACTIVE,
	IGNORED_DEATH_COOKIE_MISMATCH,
	IGNORED_DEAD_BINDER_DONE_UNKNOWN,
	IGNORED_LOOPER_MISUSE, /* BC_REGISTER_LOOPER/BC_ENTER_LOOPER out of order */
	IGNORED_COUNT
};

extern const char *const ignored_kind_names[IGNORED_COUNT];

struct proc_stats {
	uint64_t bc[STATS_BC_COUNT];
	uint64_t br[STATS_BR_COUNT];
	uint64_t ignored[IGNORED_COUNT];
	uint64_t ignored_logged; /* log lines written, to bound the log rate */
	uint64_t transactions_sent;
	uint64_t transactions_failed;
};

struct proc_stats_thread {
	uint64_t transactions;
	uint64_t replies;
};

enum copy_path {
	COPY_INLINE, /* bytes pushed inline with the request */
	COPY_READV,  /* process_vm_readv on a copy worker */
	COPY_LOCAL,  /* memcpy from the sender's region or outbox, which the daemon maps */
	COPY_PATHS
};

struct driver_stats {
	uint64_t bc[STATS_BC_COUNT];
	uint64_t br[STATS_BR_COUNT];
	uint64_t ignored[IGNORED_COUNT];
	uint64_t copies[COPY_PATHS];
	uint64_t copy_bytes[COPY_PATHS];
	uint64_t push_mode_procs; /* sessions whose memory the daemon cannot read */
	uint64_t procs_created, procs_deleted;
	uint64_t threads_created, threads_deleted;
	uint64_t nodes_created, nodes_deleted;
	uint64_t refs_created, refs_deleted;
	uint64_t deaths_created, deaths_deleted;
	uint64_t transactions_created, transactions_deleted;
	uint64_t transactions_failed;
	/* Page counters are the buffer pool's (buffer_space.h). */
};
