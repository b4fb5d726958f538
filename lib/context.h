/* SPDX-License-Identifier: MIT */
/*
 * Internal: contexts (struct ubinder_context behind the public
 * ubinder_context): their lifetime, the region, and the state their modules
 * keep in them (thread.c, deferred_free.c, pool.c, object.c).
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
#include <sys/types.h>

#include "transport/transport.h"
#include "ubinder/ubinder.h"

/* Region mapped by default (the daemon may cap it). */
#define UB_REGION_SIZE (1u << 20)
struct thread_upcalls;
struct ipc_object_upcalls;

struct ubinder_context {
	pthread_mutex_t lock;
	const struct thread_upcalls *upcalls;	  /* what each thread state gets */
	const struct ipc_object_upcalls *objects; /* what ipc hands to object.c */
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
	atomic_int sm_api_level; /* servicemanager.c: 0 for the default */
	struct outbox *outbox;
	uint64_t next_id;
	/*
	 * Buffer frees of threads that do not serve: batched with the next
	 * command of the thread that freed, and sent by the flusher thread once
	 * the oldest has waited UB_FREE_DELAY_NS, so that a client that goes
	 * idle does not keep its last reply's buffer (nor the references of the
	 * handles in it). Invariant: a command reaches the driver after every
	 * free its thread made before it (deferred_free.c).
	 */
	struct deferred_free *deferred;
	size_t ndeferred, deferred_cap;
	atomic_size_t deferred_hint; /* ndeferred, read without the lock */
	int64_t deferred_since;
	pthread_cond_t flusher_cond;
	pthread_cond_t flushed_cond; /* frees_in_flight went false */
	atomic_bool frees_in_flight; /* the flusher took frees it has not yet written */
	bool flusher_started, flusher_idle;
	pthread_t flusher;
	unsigned int max_threads;
	bool pool_started;
	unsigned int pool_threads; /* started by BR_SPAWN_LOOPER */
	struct pool_thread *pool;
	/* fork.c: the process that opened it, and its fork generation then */
	pid_t owner_pid;
	unsigned int fork_generation;
	atomic_bool fork_warned;
	struct tracked *fork_tracked;
};
