/* SPDX-License-Identifier: MIT */
/*
 * Internal: a thread's state in a context (struct ubinder_thread): its
 * connection, its command stream (BC_* commands queued, BR_* returns read),
 * the replies it holds, and its lifetime. See thread.c.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "transport/transport.h"

/* Read buffer of a thread: room for a few items (each needs 76 bytes free). */
#define UB_IN_SIZE 1024u
/* Initial write buffer: any single command fits. */
#define UB_OUT_MIN 512u

struct held_reply;
struct ubinder_context;

/*
 * What the thread layer calls above it (the protocol, the deferred frees,
 * the pool), wired by context.c: static, so still valid for an orphaned
 * state that outlives its context.
 */
struct thread_upcalls {
	/*
	 * Before each write, and before each command other than a free is
	 * queued: puts the frees this thread deferred first, so that the driver
	 * sees them in the order the thread made them.
	 */
	void (*take_frees)(struct ubinder_thread *ts);
	/* Processes every BR_* return in the read buffer. */
	int (*process_input)(struct ubinder_thread *ts);
	/* Frees a held reply, its parcel included: its outcome came, or never will. */
	void (*free_reply)(struct held_reply *h);
	/* BR_SPAWN_LOOPER: the pool may grow. */
	void (*spawn_looper)(struct ubinder_context *ctx);
};

struct ubinder_thread {
	struct ubinder_context *ctx;
	const struct thread_upcalls *upcalls; /* the context's */
	struct ubt_thread conn;
	bool broken;		   /* the connection failed: every call fails */
	bool orphaned;		   /* its context closed while the thread lived */
	bool looper;		   /* entered or registered as a looper */
	bool pool;		   /* one of the pool's threads */
	atomic_bool joined;	   /* inside ubinder_context_join_thread_pool() */
	bool serving;		   /* pool or joined: it comes back to the driver by itself */
	bool flusher;		   /* the context's flusher thread (deferred_free.c) */
	int nest;		   /* depth inside the library's command processing */
	unsigned int queued_frees; /* BC_FREE_BUFFER commands in out */
	uint8_t *out;		   /* BC_* commands not yet written */
	size_t out_len, out_cap;
	size_t txn_at; /* offset in out of our unsent transaction, or SIZE_MAX */
	/*
	 * Replies sent and not yet known complete, oldest first. A reply goes
	 * out with the thread's next command (a looper's next read, which holds
	 * its completion back: UBT_HOLD_COMPLETE); its parcel is kept until its
	 * outcome (BR_TRANSACTION_COMPLETE) is read, since the driver's
	 * BR_INCREFS/BR_ACQUIRE for objects in it come before that outcome.
	 */
	struct held_reply *held, **held_tail;
	bool acquires_queued;	/* new proxies' BC_INCREFS/BC_ACQUIRE are in out */
	uint8_t in[UB_IN_SIZE]; /* BR_* returns not yet processed */
	size_t in_len, in_pos;
	LIST_ENTRY(ubinder_thread) entry;
};

struct held_reply {
	struct held_reply *next;
	struct ubinder_parcel *parcel; /* NULL for a status reply */
	int32_t status;		       /* what a TF_STATUS_CODE reply points at */
};

/* The calling thread's state, created (and connected) on first use. */
int thread_get(struct ubinder_context *ctx, struct ubinder_thread **out);
/* The destructor of the context's pthread key: the thread exits. */
void thread_at_exit(void *arg);
/* A thread the library started (pool, flusher, or a joined one after close)
 * lets go of its state. */
void thread_release_self(struct ubinder_thread *ts);
/* The context is closing: frees the caller's own state, closes the other
 * threads' connections and orphans their states (each thread frees its own),
 * deletes the key. */
void thread_context_closed(struct ubinder_context *ctx);
/* Makes room for @need more bytes in the write buffer; false if it cannot grow. */
bool out_grow(struct ubinder_thread *ts, size_t need);
/* Queues a command; never fails (flushes first if the buffer cannot grow). */
void out_cmd(struct ubinder_thread *ts, uint32_t cmd, const void *arg, size_t size);
/* One BINDER_WRITE_READ: writes what is queued and, with @read, reads when
 * everything read before has been processed. */
int thread_talk(struct ubinder_thread *ts, bool read, bool nonblock);
/* The same with UBT_* transport flags. */
int thread_talk_flags(struct ubinder_thread *ts, bool read, unsigned int flags);
/* Writes everything queued (write-only). */
int thread_flush(struct ubinder_thread *ts);
/* Flushes unless the thread is a looper or inside command processing: what
 * libbinder does for reference releases from ordinary threads. */
void thread_flush_if_idle(struct ubinder_thread *ts);
/* The outcome of the oldest held reply was read: lets go of it. Returns false if none. */
bool thread_reply_done(struct ubinder_thread *ts);
