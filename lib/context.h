/* SPDX-License-Identifier: MIT */
/*
 * Internal: contexts (struct ubinder_context behind the public
 * ubinder_context), the per-thread states and their command streams, the
 * deferred buffer frees and the thread pool.
 *
 * Locking: one mutex per context (ctx->lock) guards its object tables, every
 * object's counts and links, and the thread list. It is never held across
 * I/O or a callback. A thread state (struct ubinder_thread) belongs to its
 * thread and is touched by no other, except ubinder_context_close() once
 * that thread can no longer use it.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "transport/transport.h"
#include "ubinder/ubinder.h"

/* Read buffer of a thread: room for a few items (each needs 76 bytes free). */
#define UB_IN_SIZE	       1024u
/* Initial write buffer: any single command fits. */
#define UB_OUT_MIN	       512u
/* Region mapped by default (the daemon may cap it). */
#define UB_REGION_SIZE	       (1u << 20)
/* How long a deferred buffer free may wait for another command to carry it. */
#define UB_FREE_DELAY_NS       2000000
/* Default BINDER_SET_MAX_THREADS, as libbinder's. */
#define UB_DEFAULT_MAX_THREADS 15u

struct ubinder_thread {
	struct ubinder_context *ctx;
	struct ubt_thread conn;
	bool broken;		   /* the connection failed: every call fails */
	bool orphaned;		   /* its context closed while the thread lived */
	bool looper;		   /* entered or registered as a looper */
	bool pool;		   /* one of the pool's threads */
	atomic_bool joined;	   /* inside ubinder_context_join_thread_pool() */
	bool serving;		   /* pool or joined: it comes back to the driver by itself */
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

struct pool_thread {
	pthread_t tid;
	struct pool_thread *next;
};

struct ubinder_context {
	pthread_mutex_t lock;
	atomic_int refs; /* the open handle, each object, each received parcel */
	atomic_bool closed;
	atomic_bool stop;
	struct ubt_session session;
	void *map;
	size_t map_size;
	pthread_key_t key;
	LIST_HEAD(, ubinder_thread) threads;
	struct ubinder_binder *locals;
	struct ubinder_binder *proxies;
	struct death_reg *deaths;
	struct outbox *outbox;
	uint64_t next_id;
	/*
	 * Buffer frees of threads that do not serve: batched with the next
	 * command of any thread of the context, and sent by the flusher thread
	 * once the oldest has waited UB_FREE_DELAY_NS, so that a client that goes
	 * idle does not keep its last reply's buffer (nor the references of the
	 * handles in it).
	 */
	uint64_t *deferred;
	size_t ndeferred, deferred_cap;
	atomic_size_t deferred_hint; /* ndeferred, read without the lock */
	int64_t deferred_since;
	pthread_cond_t flusher_cond;
	bool flusher_started, flusher_idle;
	pthread_t flusher;
	unsigned int max_threads;
	bool pool_started;
	unsigned int pool_threads; /* started by BR_SPAWN_LOOPER */
	struct pool_thread *pool;
};

void ctx_ref(struct ubinder_context *ctx);
void ctx_unref(struct ubinder_context *ctx);
/* The calling thread's state, created (and connected) on first use. */
int thread_get(struct ubinder_context *ctx, struct ubinder_thread **out);
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
/* Frees a driver buffer from the calling thread: batched (see ctx->deferred). */
void thread_free_buffer(struct ubinder_thread *ts, uint64_t buffer);
/* The outcome of the oldest held reply was read: lets go of it. Returns false if none. */
bool thread_reply_done(struct ubinder_thread *ts);
/* Spawns a pool thread (BR_SPAWN_LOOPER). */
void pool_spawn(struct ubinder_context *ctx);
/* Whether @ptr..@ptr+@len lies inside the mapped region. */
bool region_contains(const struct ubinder_context *ctx, uint64_t ptr, uint64_t len);
