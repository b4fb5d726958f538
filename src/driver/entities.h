/* SPDX-License-Identifier: MIT */
/*
 * The driver core's entities and the invariants that tie them together.
 * Behaviour lives in one file per concept (proc.c, thread.c, node.c, ref.c,
 * transaction.c, ...); this header only declares the data, because the
 * entities point at each other.
 *
 * Ownership and lifetime (single-threaded: the event loop owns all of it):
 *   driver   owns contexts, procs (alive or dying), dead nodes.
 *   proc     owns its threads, nodes, refs, region and buffers, and the work
 *            on its todo and delivered_death lists.
 *   thread   owns its todo work and its two error work items.
 *   node     is owned by its proc while the proc lives, then by the driver's
 *            dead_nodes list until nothing references it.
 *   ref      is owned by its proc; it holds its node (counts below).
 *   transaction  is owned by whichever list or stack holds it: the target's
 *            todo (queued), the target thread's stack (delivered, sync), or
 *            freed at once (delivered oneway or reply).
 *   txn_buffer   is owned by the target proc's allocator record until freed.
 * A struct with tmp_ref > 0 outlives its owner's release: fetch jobs on
 * workers hold such references.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <bsd/sys/queue.h>
#include <bsd/sys/tree.h>
#include <linux/android/binder.h>

#include "driver/buffer_space.h"
#include "common/obj_pool.h"
#include "common/uid_quota.h"
#include "driver/driver.h"
#include "driver/stats.h"
#include "driver/work.h"

struct transaction;
struct txn_buffer;
struct fetch_job;

/* --- nodes --------------------------------------------------------------- */

/*
 * A Binder object living in its owner process, named there by ptr/cookie.
 * Reference counts, as the kernel keeps them:
 *   internal_strong_refs  refs in other procs holding a strong count (one per ref)
 *   local_strong_refs     strong counts held inside the driver (buffers in
 *                         flight, the context manager, an unacknowledged
 *                         BR_ACQUIRE)
 *   local_weak_refs       the same for weak counts
 *   refs                  every ref to the node (a weak reference each)
 *   tmp_refs              temporary holds while the node is in use
 * has_strong_ref/has_weak_ref: the owner was told (BR_ACQUIRE/BR_INCREFS) and
 * not yet told otherwise; pending_*: the owner has not acknowledged yet.
 * work is queued (WORK_NODE) on a todo list whenever those must change.
 */
struct node {
	uint64_t debug_id;
	uid_t quota_uid; /* charged to (driver quotas) */
	struct driver *driver;
	struct proc *proc;	     /* owner; NULL once the owner died */
	RB_ENTRY(node) by_ptr;	     /* in proc->nodes while proc != NULL */
	LIST_ENTRY(node) dead_entry; /* on driver->dead_nodes while proc == NULL */
	uint64_t ptr;
	uint64_t cookie;
	struct work work;
	LIST_HEAD(, ref) refs;
	int internal_strong_refs;
	int local_strong_refs;
	int local_weak_refs;
	int tmp_refs;
	bool has_strong_ref;
	bool pending_strong_ref;
	bool has_weak_ref;
	bool pending_weak_ref;
	bool accept_fds;
	bool txn_security_ctx;
	uint8_t min_priority;
	bool has_async_transaction;  /* a oneway to it is delivered and not yet freed */
	struct work_list async_todo; /* oneways waiting for that one to be freed */
};

RB_HEAD(node_tree, node);

/* --- references and death notifications ---------------------------------- */

struct ref_death {
	struct work work; /* DEAD_BINDER, DEAD_BINDER_AND_CLEAR or CLEAR_DEATH_NOTIFICATION */
	uint64_t cookie;
	uid_t quota_uid; /* charged to (driver quotas) */
};

/* A process's handle (desc) on another process's node. strong/weak are the
 * counts the holder took; while either is non-zero the ref exists. */
struct ref {
	uint64_t debug_id;
	uid_t quota_uid; /* charged to (driver quotas) */
	struct proc *proc;
	struct node *node;
	uint32_t desc;
	int strong;
	int weak;
	RB_ENTRY(ref) by_desc;
	RB_ENTRY(ref) by_node;
	LIST_ENTRY(ref) node_entry;
	struct ref_death *death; /* requested notification, or NULL */
};

RB_HEAD(ref_desc_tree, ref);
RB_HEAD(ref_node_tree, ref);

/* --- threads ------------------------------------------------------------- */

enum looper_state {
	LOOPER_REGISTERED = 0x01,
	LOOPER_ENTERED = 0x02,
	LOOPER_EXITED = 0x04,
	LOOPER_INVALID = 0x08,
	LOOPER_WAITING = 0x10,
	LOOPER_POLL = 0x20,
};

/* A pending error for the thread to read (BR_DEAD_REPLY, ...); BR_OK when none. */
struct error_work {
	struct work work; /* WORK_RETURN_ERROR */
	uint32_t cmd;
};

enum bwr_phase {
	BWR_IDLE = 0, /* no request in progress */
	BWR_WRITING,  /* processing the write buffer, suspended on a fetch job */
	BWR_WAITING,  /* blocked in the read: waiting for work */
	BWR_FIXUP,    /* reply sent with descriptors: waiting for their numbers */
	BWR_IOCTL,    /* an ioctl is pending (BINDER_FREEZE waiting) */
};

/*
 * The BINDER_WRITE_READ in progress. While the phase is BWR_WRITING the
 * unconsumed commands and their inline memory are copies owned here.
 */
struct bwr_state {
	enum bwr_phase phase;
	/* From the request's arrival to its answer, whatever the phase (which
	 * stays BWR_IDLE while a request runs without suspending): the thread
	 * is inside the ioctl, not a poller. */
	bool running;
	const uint8_t *write; /* write buffer from write_base_consumed on */
	size_t write_end;     /* write_size - write_consumed: commands run while write_pos < it */
	size_t write_len;
	size_t write_overrun; /* readable bytes after write[write_len] */
	size_t write_pos;     /* processed bytes of write[] */
	uint64_t write_base_consumed;
	uint64_t read_size;
	uint64_t read_consumed_in; /* binder_write_read.read_consumed on entry */
	size_t read_len;	   /* bytes produced so far, into driver->read_buf */
	bool read_started;	   /* BR_NOOP decided; the read is in progress */
	bool nonblock;
	bool hold_complete; /* UBW_WR_HOLD_COMPLETE: completions wait for other work */
	bool promised;	    /* a promised write: its BC_REPLY takes the promised room */
	uint32_t held[8];   /* completions read but held back, in order */
	uint8_t nheld;
	bool spawn_looper_at_start;
	bool wait_for_proc_work; /* computed when the read started waiting */
	/* A signal came while the write part ran: the read must not wait (-EINTR). */
	bool interrupt_pending;
	const struct mem_segment *segments;
	size_t nsegments;
	uint8_t *owned;			    /* the copies, when suspended */
	struct mem_segment *owned_segments; /* segments, when they are copies */
	int *fds; /* descriptors that came with the request, or -1 once used */
	int32_t *sender_fds;
	size_t nfds;
	struct fetch_job *job; /* the job it waits for (BWR_WRITING) */
	/* For BWR_FIXUP: where each descriptor sent with the reply goes. */
	struct fd_slot *slots;
	size_t nslots;
	int32_t *close_after_free; /* fds the client closes (FDA of freed buffers) */
	size_t nclose;
	/* For BWR_IOCTL: BINDER_FREEZE waiting for pending transactions. */
	struct binder_freeze_info freeze;
	uint64_t freeze_deadline_ms;
};

struct thread {
	struct proc *proc;
	TAILQ_ENTRY(thread) proc_entry;
	TAILQ_ENTRY(thread) waiting_entry; /* on proc->waiting_threads */
	bool on_waiting_list;
	TAILQ_ENTRY(thread) wake_entry; /* on driver->wake_list */
	bool on_wake_list;
	pid_t tid;
	struct thread_peer peer; /* where its transactions are copied from */
	void *conn;
	uint32_t looper; /* enum looper_state */
	bool looper_need_return;
	bool process_todo; /* todo holds work that should wake the thread */
	/* On proc->todo_threads: process_todo is set and the thread lives. */
	bool on_todo_threads;
	TAILQ_ENTRY(thread) todo_entry;
	bool is_dead;
	struct work_list todo;
	struct transaction *transaction_stack;
	struct error_work return_error;
	struct error_work reply_error;
	struct binder_extended_error ee;
	/* The room reserved in its caller's region for a promised reply
	 * (reply_promise.h), or NULL. */
	struct txn_buffer *promised_room;
	/* Data bytes of its last BC_REPLY, if it sent one: its next promised
	 * room's size (reply_promise.c). */
	uint64_t last_reply_size;
	bool has_replied;
	int tmp_ref;
	struct bwr_state bwr;
	struct proc_stats_thread stats;
};

TAILQ_HEAD(thread_list, thread);

/* --- processes ----------------------------------------------------------- */

struct proc {
	struct driver *driver;
	struct context *context;
	TAILQ_ENTRY(proc) context_entry;
	TAILQ_ENTRY(proc) driver_entry;
	uint64_t debug_id;
	struct proc_identity id;
	void *session;

	struct thread_list threads;
	unsigned int nthreads;
	uint64_t last_reply_size;	    /* of any of its threads: a new thread's first room */
	struct thread_list waiting_threads; /* sleeping for proc work, newest first */
	struct thread_list todo_threads;    /* its threads with process_todo set */
	struct work_list todo;
	struct work_list delivered_death;
	struct node_tree nodes;
	struct ref_desc_tree refs_by_desc;
	struct ref_node_tree refs_by_node;

	uint32_t max_threads;
	uint32_t requested_threads;
	uint32_t requested_threads_started;
	int tmp_ref;
	bool is_dead;
	bool is_frozen;
	bool sync_recv;
	bool async_recv;
	bool oneway_spam_detection_enabled;
	bool poll_readable; /* last state reported through ops->poll_changed */
	int outstanding_txns;
	/* Its buffers that hold fd-array descriptors (freeing one closes them). */
	size_t fda_buffers;

	struct buffer_space space; /* the region and its buffers */
	int fetches_into;	   /* fetch jobs writing into this region */

	/* The outbox (driver_outbox): the daemon's mapping, or NULL. */
	const uint8_t *outbox;
	uint64_t outbox_base; /* where the client mapped it */
	uint64_t outbox_size;
	int outbox_fd; /* the memfd, read with pread where not resident (fetch.c) */
	/* The client said its outbox is gone (UBW_MUNMAP of outbox_base: an
	 * exec'd image of the emulation): its range is the client's own memory
	 * again, never read from the memfd. Kept mapped for copies in flight. */
	bool outbox_gone;
	/* With page states (UBW_OUTBOX_PAGE_STATES): the first pages of the
	 * mapping, read-write, one state a page (src/driver/outbox.h); the pages
	 * seen FREE by the last decay scan (a bitmap, allocated by the first). */
	_Atomic uint8_t *outbox_states;
	uint64_t *outbox_seen_free;
	uint64_t outbox_reclaimed[RECLAIM_CAUSES];

	struct proc_stats stats;
};

/* --- transactions and their buffers -------------------------------------- */

/* A descriptor travelling in a transaction, installed when it is read. */
struct fd_fixup {
	int fd;		    /* the daemon's copy of the sender's file */
	uint64_t offset;    /* where its number goes in the buffer */
	bool close_on_free; /* part of an fd array: closed when the buffer is freed */
};

/* Where a received descriptor's number must be written (BWR_FIXUP). */
struct fd_slot {
	struct txn_buffer *buffer;
	uint64_t offset;
	bool close_on_free;
};

struct transaction {
	uint64_t debug_id;
	struct driver *driver;
	struct work work;    /* WORK_TRANSACTION */
	struct thread *from; /* sync calls only; NULL once that thread died */
	struct transaction *from_parent;
	struct proc *to_proc;
	struct thread *to_thread;
	struct transaction *to_parent;
	struct txn_buffer *buffer; /* NULL once freed */
	uint32_t code;
	uint32_t flags;
	uid_t sender_euid;
	pid_t sender_pid; /* the sending process, for sync calls (0 otherwise) */
	bool need_reply;
	uint64_t security_ctx; /* client address of the label in the buffer, or 0 */
	struct fd_fixup *fixups;
	size_t nfixups;
};

/* An object a buffer holds a reference through, kept in daemon memory. */
struct held_object {
	uint32_t type;	 /* BINDER_TYPE_BINDER, _WEAK_BINDER, _HANDLE, _WEAK_HANDLE */
	uint64_t ptr;	 /* node ptr in the buffer's proc (BINDER types) */
	uint32_t handle; /* desc in the buffer's proc (HANDLE types) */
};

/* The daemon's side of an allocated transaction buffer. */
struct txn_buffer {
	struct range_buffer *range; /* allocator record; range->owner == this */
	struct proc *proc;	    /* the buffer's (receiving) process */
	struct transaction *transaction;
	struct node *target_node; /* NULL for replies */
	bool async_transaction;
	bool clear_on_free;
	struct held_object *held;
	size_t nheld;
	int32_t *fda_fds; /* numbers of fd-array descriptors, closed on free */
	size_t nfda_fds;
	size_t fda_fds_cap;
	/* A oneway's bytes, charged to its sender's uid until the buffer is freed. */
	uid_t quota_uid;
	size_t quota_bytes;
	/* A promised reply's room, not yet a reply: the thread it was promised to. */
	struct thread *promised_to;
};

/* --- contexts and the driver --------------------------------------------- */

struct context {
	struct driver *driver;
	TAILQ_ENTRY(context) entry;
	char name[32];
	struct node *mgr_node;
	bool mgr_uid_set;
	uid_t mgr_uid;
	TAILQ_HEAD(, proc) procs;
};

/* The kinds of the driver's per-uid quotas (driver_config). */
enum driver_quota {
	DRIVER_QUOTA_NODES,
	DRIVER_QUOTA_REFS,
	DRIVER_QUOTA_DEATHS,
	DRIVER_QUOTA_ONEWAY_BYTES, /* pending oneway buffers, charged to the sender's uid */
	DRIVER_QUOTAS,
};

struct driver {
	struct driver_config config;
	struct uid_quotas quotas; /* by the owner's euid at open */
	const struct driver_ops *ops;
	void *daemon;
	TAILQ_HEAD(, context) contexts;
	TAILQ_HEAD(, proc) procs;
	LIST_HEAD(, node) dead_nodes;
	struct thread_list wake_list;
	unsigned int pending_freezes; /* threads in BWR_IOCTL (BINDER_FREEZE waiting) */
	struct buffer_pool pool;      /* pages shared by every process's buffer space */
	/* Outbox pages given back (src/driver/outbox.c), by cause, ever. */
	uint64_t outbox_reclaimed[RECLAIM_CAUSES];
	uint64_t outbox_scan_ms; /* the last decay scan of the outboxes */
	uint64_t next_debug_id;
	struct driver_stats stats;
	uint8_t *read_buf; /* config.max_read_size bytes: one read is filled at a time */
	int *out_fds;	   /* descriptors of the read being filled */
	size_t nout_fds;
	/* Freed blocks of the objects every transaction makes. */
	struct {
		struct obj_pool builds;	      /* transaction.c's struct txn_build */
		struct obj_pool transactions; /* struct transaction */
		struct obj_pool completions;  /* a sender's BR_TRANSACTION_COMPLETE work */
		struct obj_pool buffers;      /* struct txn_buffer */
	} pools;
};

static inline uint64_t driver_next_id(struct driver *drv)
{
	return ++drv->next_debug_id;
}
