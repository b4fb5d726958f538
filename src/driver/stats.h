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

/*
 * Why a transaction was answered with BR_DEAD_REPLY: one cause per place
 * the driver sends it (dead_reply.c). Counted for the driver and for the
 * process that reads it (whose call failed).
 */
enum dead_reply_cause {
	DEAD_NODE_RELEASED,	 /* the target node's process released it */
	DEAD_NO_MANAGER,	 /* handle 0 and no context manager */
	DEAD_CALLER_GONE,	 /* a reply whose caller's thread is gone */
	DEAD_TARGET_RELEASED,	 /* the target process is released (at allocation or queueing) */
	DEAD_TARGET_NO_REGION,	 /* the target's region is not mapped (yet, or any more) */
	DEAD_TARGET_THREAD_GONE, /* the thread chosen to take it is gone */
	DEAD_SENDER_GONE,	 /* the sending thread went away during the copy */
	DEAD_CALLER_GONE_COPY,	 /* a reply whose caller's thread went away during the copy */
	DEAD_SERVER_THREAD_EXIT, /* the thread serving it went (its connection closed) */
	DEAD_SERVER_EXIT,	 /* the process serving it was released (its session closed) */
	DEAD_THREAD_TODO,	 /* queued on a thread that exited unread (its process lives on) */
	DEAD_PROC_TODO,		 /* queued on a process, or its thread, released unread */
	DEAD_REPLY_CAUSES
};

extern const char *const dead_reply_cause_names[DEAD_REPLY_CAUSES];

struct proc_stats {
	uint64_t bc[STATS_BC_COUNT];
	uint64_t br[STATS_BR_COUNT];
	uint64_t ignored[IGNORED_COUNT];
	uint64_t ignored_logged; /* log lines written, to bound the log rate */
	uint64_t transactions_sent;
	uint64_t transactions_failed;
	uint64_t dead_replies[DEAD_REPLY_CAUSES]; /* BR_DEAD_REPLYs it read, by cause */
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
	uint64_t dead_replies[DEAD_REPLY_CAUSES];
	/* Reply promises (reply_promise.h): made, kept by a reply, cancelled. */
	uint64_t promises_made, promises_kept, promises_cancelled;
	/* Page counters are the buffer pool's (buffer_space.h). */
};
