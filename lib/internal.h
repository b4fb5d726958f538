/* SPDX-License-Identifier: MIT */
/*
 * libubinder internals: the structures behind the opaque public types and
 * the functions the library's files share. Not installed.
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
#include <uthash.h>

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

/* Object sizes in a parcel, by type. */
#define UB_FLAT_OBJECT_SIZE 24u /* flat_binder_object, binder_fd_object */

/* The stability level written after a binder object (libbinder's "system"). */
#define UB_STABILITY_SYSTEM	      0x0c
/* Interface token header, libbinder's kHeader for system code. */
#define UB_INTERFACE_HEADER	      UBINDER_PACK_CHARS('S', 'Y', 'S', 'T')
#define UB_STRICT_MODE_PENALTY_GATHER 0x80000000u

struct death_link {
	ubinder_death_fn fn;
	void *userdata;
	struct death_link *next;
};

/*
 * A death notification registered with the driver (by cookie). It outlives
 * its proxy until the driver confirms the clear: the cookie is an id, never
 * a pointer, so a late BR_DEAD_BINDER finds this record or nothing.
 */
struct death_reg {
	uint64_t cookie;
	struct ubinder_binder *proxy; /* NULL once the proxy is gone */
	bool clearing;		      /* BC_CLEAR_DEATH_NOTIFICATION queued */
	UT_hash_handle hh;
};

struct ubinder_binder {
	struct ubinder_context *ctx; /* holds a context reference */
	bool local;
	int refs; /* the caller's references, parcels' included */
	bool in_table;
	UT_hash_handle hh; /* ctx->locals by id, or ctx->proxies by handle */

	/* local */
	uint64_t id; /* the node's ptr and cookie: unique, never reused */
	char *descriptor;
	ubinder_handler_fn handler;
	void *userdata;
	void (*destroy)(void *userdata);
	ubinder_dump_fn dump;		  /* DUMP_TRANSACTION, or NULL */
	struct ubinder_binder *extension; /* EXTENSION_TRANSACTION (a reference), or NULL */
	int driver_strong;		  /* BR_ACQUIRE minus BR_RELEASE */
	int driver_weak;		  /* BR_INCREFS minus BR_DECREFS */
	bool pinned; /* the context manager's object: the driver never lets go */

	/* remote */
	uint32_t handle;
	bool acquired; /* BC_INCREFS + BC_ACQUIRE sent: release them when done */
	bool dead;
	struct death_reg *death; /* registered notification, or NULL */
	struct death_link *links;
};

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
	atomic_int sm_api_level; /* servicemanager.c: 0 for the default */
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

/* --- context.c --------------------------------------------------------------- */

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

/* --- ipc.c -------------------------------------------------------------------- */

/* Processes every BR_* return in the thread's read buffer. */
int ipc_process_input(struct ubinder_thread *ts);
/* Sends @data to @handle and waits for the reply (or completion if oneway). */
int ipc_transact(struct ubinder_thread *ts, uint32_t handle, uint32_t code,
		 struct ubinder_parcel *data, uint32_t flags, struct ubinder_parcel **reply);
/* Frees a driver buffer (queued; sent with the thread's next command). */
void ipc_free_buffer(struct ubinder_context *ctx, uint64_t buffer);

/* --- object.c ------------------------------------------------------------------ */

/* A new reference to the local object with this id, or NULL. */
struct ubinder_binder *object_find_local(struct ubinder_context *ctx, uint64_t id);
/* A new reference to the proxy for @handle, created (and its driver counts
 * taken, through @ts) if needed. */
int object_get_proxy(struct ubinder_context *ctx, struct ubinder_thread *ts, uint32_t handle,
		     struct ubinder_binder **out);
/* Calls a local object's handler, or answers PING/INTERFACE. */
int object_dispatch(struct ubinder_binder *obj, const struct ubinder_call *call,
		    struct ubinder_parcel *data, struct ubinder_parcel *reply);
/* default-transactions.c: answers the codes every Android binder answers
 * (PING, INTERFACE, DUMP, ...); false if @call->code is not one of them. */
bool default_transaction(struct ubinder_binder *obj, const struct ubinder_call *call,
			 struct ubinder_parcel *data, struct ubinder_parcel *reply, int *status);
/* BR_INCREFS/BR_ACQUIRE/BR_RELEASE/BR_DECREFS for node @id. */
void object_driver_count(struct ubinder_thread *ts, uint32_t cmd, uint64_t ptr, uint64_t cookie);
/* BR_DEAD_BINDER / BR_CLEAR_DEATH_NOTIFICATION_DONE. */
void object_dead_binder(struct ubinder_thread *ts, uint64_t cookie);
void object_clear_death_done(struct ubinder_thread *ts, uint64_t cookie);
/* The context closed: let go of what the driver held. */
void object_context_closed(struct ubinder_context *ctx);

/* --- parcel.c ------------------------------------------------------------------ */

/*
 * A parcel for a buffer the driver delivered: validates the offsets,
 * resolves binder objects (proxies created through @ts) and takes ownership
 * of descriptors. The parcel frees the buffer when it is freed. @ctx may be
 * NULL (tests): then nothing is resolved and nothing freed.
 */
struct ubinder_parcel *parcel_new_received(struct ubinder_context *ctx, struct ubinder_thread *ts,
					   const void *data, size_t size, const uint64_t *offsets,
					   size_t noffsets, uint64_t buffer);
/* Whether every binder in @p belongs to @ctx. */
bool parcel_objects_in_context(const struct ubinder_parcel *p, const struct ubinder_context *ctx);
/* Raw view for sending. */
void parcel_raw(const struct ubinder_parcel *p, const void **data, size_t *size,
		const uint64_t **offsets, size_t *noffsets);
/* A read view of @src sharing its data (for in-process calls): no ownership. */
struct ubinder_parcel *parcel_new_view(const struct ubinder_parcel *src);

/* --- outbox.c ------------------------------------------------------------------ */

struct outbox;
/* Each context's outbox (address space; pages are used as parcels need them). */
#define UB_OUTBOX_SIZE (8u << 20)
/* Parcels this large are built in the outbox (smaller ones travel inline). */
#define UB_OUTBOX_MIN  (64u * 1024)
/* Maps an outbox through @ts; NULL if the daemon has none to give. */
struct outbox *outbox_new(struct ubinder_thread *ts, size_t size);
void outbox_unref(struct outbox *o);
/* Makes @o the one new large parcels use; retire() stops that. */
void outbox_publish(struct outbox *o);
void outbox_retire(struct outbox *o);
/* At least @size bytes of the current outbox (*got of them) and a reference to it. */
void *outbox_alloc(size_t size, size_t *got, struct outbox **owner);
/* Gives back what outbox_alloc() returned (@size = its *got) and the reference. */
void outbox_free(struct outbox *o, void *p, size_t size);

/* --- utf.c ------------------------------------------------------------------------ */

/* Validates UTF-8 (no overlongs, surrogates or code points above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* UTF-8 -> UTF-16; @out may be NULL to count. Returns the units, or -1 if invalid. */
long utf8_to_utf16(const char *s, size_t len, uint16_t *out);
/* UTF-16 -> UTF-8; @out may be NULL to count. Returns the bytes, or -1 for an
 * unpaired surrogate. */
long utf16_to_utf8(const uint16_t *s, size_t len, char *out);

/* --- log ---------------------------------------------------------------------------- */

/* Diagnostics to stderr when $UBINDER_DEBUG is set; the library is otherwise silent. */
void ub_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
