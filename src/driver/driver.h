/* SPDX-License-Identifier: MIT */
/*
 * The Binder driver core: processes, threads, nodes, references,
 * transactions and buffers, with the kernel driver's observable behaviour.
 *
 * It knows nothing of sockets or event loops. The daemon feeds it decoded
 * requests (a BINDER_WRITE_READ, an ioctl, a map, a thread or process going
 * away) and the core asks the daemon, through struct driver_ops, to carry out
 * what it cannot do itself: send a completed reply, read sender memory on a
 * worker, make a process's poll descriptor readable.
 *
 * Everything here runs on the daemon's one event-loop thread, except the body
 * of a fetch job (fetch.h), which runs on a copy worker and touches only the
 * job and the target's region memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/mem_segment.h"

struct driver;
struct context;
struct proc;
struct thread;
struct fetch_job;

struct driver_config {
	size_t max_region_size;	    /* cap of a process's region; kernel: 4 MiB */
	size_t max_lru_pages;	    /* shrink above this many lru pages; 0: no budget */
	size_t max_installed_pages; /* active + lru pages of all regions; 0: no cap */
	unsigned int lru_decay_ms;  /* release lru pages unused this long; 0: never */
	/* Regions of huge pages of this size (buffer_pool_set_huge; SIZE_MAX: the
	 * kernel's size); 0: base pages only. A refusal is logged, not fatal. */
	size_t huge_page_size;
	unsigned int max_threads; /* thread connections per process */
	unsigned int max_inline;  /* payload bytes a client pushes inline */
	/* BINDER_FREEZE of any process by anyone, as the kernel (which leaves
	 * it to SELinux). Otherwise only root and the target's own euid. */
	bool freeze_any_uid;
	/* What the transport can carry, set by the daemon from its wire limits. */
	size_t max_read_size; /* bytes one read fills (the reply's room) */
	unsigned int max_fds; /* descriptors one reply carries */
	uint64_t max_outbox;  /* largest outbox a process may create */
	/* Per-uid quotas (0: none): beyond them, creating one fails as an
	 * allocation failure does in the kernel. */
	unsigned int max_nodes_per_uid;
	unsigned int max_refs_per_uid;
	unsigned int max_deaths_per_uid;
	/* Bytes of oneway transactions one uid's processes have sent that are
	 * not freed yet (0: none): beyond, the call fails as a full async
	 * space does (BR_FAILED_REPLY, ENOSPC). */
	uint64_t max_oneway_bytes_per_uid;
};

/*
 * How a process sees pids and uids, for translating the identity of senders
 * into the receiver's namespaces as the kernel does (task_tgid_nr_ns,
 * from_kuid). levels == 0: the daemon's own namespaces, no translation.
 */
#define NS_DEPTH_MAX 8
#define UID_MAP_MAX  5

struct uid_map_range {
	uint32_t inside;
	uint32_t outside; /* in the daemon's user namespace */
	uint32_t count;
};

struct ns_view {
	/* Pid namespaces from the daemon's (0) down to the process's own, by inode. */
	uint64_t pidns[NS_DEPTH_MAX];
	pid_t nspid[NS_DEPTH_MAX]; /* the process's pid in each */
	int levels;
	struct uid_map_range uid_map[UID_MAP_MAX];
	int nuid_map; /* 0: the daemon's user namespace (identity) */
};

/* @pid of process @sender as seen by process @reader: 0 if not visible there. */
pid_t ns_view_pid(const struct ns_view *sender, pid_t pid, const struct ns_view *reader);
/* @uid (daemon's namespace) as seen by @reader: the overflow uid 65534 if unmapped. */
uid_t ns_view_uid(const struct ns_view *reader, uid_t uid);

/* Who opened a Binder process: stamped by the daemon, never from the client. */
struct proc_identity {
	struct ns_view ns;
	pid_t pid;  /* thread group id, in the daemon's pid namespace */
	uid_t euid; /* effective uid at open, as the kernel captures it */
	gid_t egid;
	int pidfd;	      /* owned by the caller, outlives the process; -1 if none */
	bool can_read_memory; /* process_vm_readv works on it */
	bool wants_poll;      /* it has a poll descriptor: track readiness */
	char comm[16];
	char seclabel[256]; /* the peer's security label (SO_PEERSEC), or "" */
};

/* A decoded UBW_WRITE_READ. The core copies what it keeps. */
struct bwr_request {
	const uint8_t *write; /* the unconsumed part of the write buffer */
	size_t write_len;
	size_t write_overrun; /* client bytes past the buffer that follow write[] */
	uint64_t write_size;  /* binder_write_read fields on entry */
	uint64_t write_consumed;
	uint64_t read_size;
	uint64_t read_consumed;
	bool nonblock;
	bool hold_complete; /* UBW_WR_HOLD_COMPLETE */
	bool promised;	    /* the write the thread's promise was taken for */
	/* More than MEM_SEGMENTS_SCAN only as an index (mem_segments_index). */
	const struct mem_segment *segments;
	size_t nsegments;
	/* Descriptors that came with the request (SCM_RIGHTS): the core takes
	 * ownership of fds[], and sender_fds[i] is the number fds[i] has in the
	 * sender. */
	const int *fds;
	const int32_t *sender_fds;
	size_t nfds;
};

/* The outcome of a BINDER_WRITE_READ, for the reply. Valid during the call. */
struct bwr_result {
	int error; /* the ioctl's return value: 0 or a negative errno */
	uint64_t write_consumed;
	uint64_t read_consumed;
	const uint8_t *read; /* bytes the read produced */
	size_t read_len;
	/* Descriptors to send with the reply (the core closes them afterwards);
	 * the client answers with their numbers (driver_fd_fixup). */
	const int *fds;
	size_t nfds;
	const int32_t *close_fds; /* for the client to close before returning */
	size_t nclose;
	bool spawn_looper_at_start; /* BR_SPAWN_LOOPER at offset 0 of the read buffer */
};

struct driver_ops {
	/* The pending BINDER_WRITE_READ of the thread on @conn completed. */
	void (*write_read_done)(void *conn, const struct bwr_result *result);
	/* The pending ioctl of the thread on @conn completed. */
	void (*ioctl_done)(void *conn, int error, const void *arg, size_t size);
	/* Run @job on a copy worker, then call driver_fetch_done() on the loop.
	 * Returns 0, or -ENOMEM when it cannot (the transaction then fails). */
	int (*fetch_start)(void *daemon, struct fetch_job *job);
	/* The process on @session has work to read (readable) or not. */
	void (*poll_changed)(void *session, bool readable);
	/*
	 * Called first by every operation (may be NULL): the daemon hands the
	 * driver, now, any read a client posted without waking it (the lazy
	 * read, docs/protocol.md), so that no operation runs while such a read
	 * is unseen. Calls made from it do not call it again.
	 */
	void (*take_lazy_reads)(void *daemon);
};

struct driver *driver_new(const struct driver_config *config, const struct driver_ops *ops,
			  void *daemon);
/* Releases every process and context. Returns NULL. */
struct driver *driver_free(struct driver *drv);

/* A Binder device: an independent context with its own context manager. */
struct context *driver_add_context(struct driver *drv, const char *name);
const char *context_name(const struct context *ctx);

/* --- processes and threads ----------------------------------------------- */

/* open() of the device. @session is the daemon's, passed back in ops. */
struct proc *driver_proc_open(struct driver *drv, struct context *ctx,
			      const struct proc_identity *id, void *session);

/* Whether the process has a poll descriptor whose readiness must be tracked. */
void driver_proc_set_poll(struct proc *proc, bool wants_poll);

/*
 * The device was closed (binder_flush): every thread waiting in a read
 * returns at the next driver_flush().
 */
void driver_proc_flush(struct proc *proc);

/* The last reference to the open device went away, or the process exited. */
void driver_proc_release(struct proc *proc);

pid_t proc_pid(const struct proc *proc);
const struct proc_identity *proc_identity(const struct proc *proc);
struct context *proc_context(const struct proc *proc);

/*
 * The process a thread's connection comes from: the session's own process,
 * or a child forked from it that inherited the open device (the kernel lets
 * such a child act as another thread of the parent's Binder process). Its
 * memory is what the thread's transactions are copied from.
 */
struct thread_peer {
	pid_t pid;
	int pidfd; /* owned by the caller, outlives the thread; -1 if none */
	/* Descriptors its transactions name are taken from it with pidfd_getfd
	 * (a seccomp-supervised thread, whose requests bring none along). */
	bool fds_by_pidfd;
	uid_t uid; /* its copies count against this uid's (the copier's per-uid limit) */
};

/*
 * A client thread attached (its own connection, @conn), in *@out. Returns 0,
 * or -ESRCH (the process is dying), -EAGAIN (above the per-process thread
 * limit), -ENOMEM; *@out is NULL then.
 */
int driver_thread_attach(struct proc *proc, pid_t tid, const struct thread_peer *peer, void *conn,
			 struct thread **out);

/* The thread's connection closed: BINDER_THREAD_EXIT. */
void driver_thread_detach(struct thread *thread);

/* --- requests from a thread ---------------------------------------------- */

/*
 * Whether a blocking read of the thread's, made now, would wait: the thread
 * is between requests and neither its own work nor (if it may take it) its
 * process's is there. The daemon lets such a read come lazily.
 */
bool driver_thread_read_would_wait(const struct thread *thread);

/*
 * The local completion (reply_promise.h, docs/protocol.md): promises @thread
 * that a plain reply of at most the returned number of bytes of data,
 * written now with a read, returns [BR_NOOP, BR_TRANSACTION_COMPLETE], and
 * reserves the reply's room in its caller's region. The room is as much as
 * the thread's (or its process's) last reply needed, between @min and
 * @max, or @min where that does not fit. 0 (no promise) when the outcome
 * is not certain. The promise holds only until the driver's next operation:
 * before it, the daemon either runs the promised write (request.promised)
 * or cancels it.
 */
uint32_t driver_promise_reply(struct thread *thread, uint32_t min, uint32_t max);
/*
 * Whether @thread's bytes [addr, addr + len) are in its process's outbox,
 * which the daemon maps: a copy of them cannot fail (the memfd cannot
 * shrink; a hole reads as zeros), so a promised reply may carry its data
 * there.
 */
bool driver_outbox_holds(const struct thread *thread, uint64_t addr, uint64_t len);
/* Gives the promised room back (nothing without a promise). */
void driver_promise_cancel(struct thread *thread);

/* BINDER_WRITE_READ. Completes through ops->write_read_done, maybe later. */
void driver_write_read(struct thread *thread, const struct bwr_request *request);

/* A signal interrupted the client's wait: end a blocked read with -EINTR. */
void driver_interrupt(struct thread *thread);

/*
 * Whether the thread's BINDER_WRITE_READ waits in its read, with what the
 * kernel has left in the caller's struct by then: the write part's
 * write_consumed, and whether BR_NOOP was stored at the read buffer's start.
 */
bool driver_thread_waiting(const struct thread *thread, uint64_t *write_consumed, bool *noop);

/*
 * The numbers the descriptors of the last reply got in the client. A number
 * below 0 means it could not be received: the transaction is then taken back
 * as the kernel does when it cannot install a descriptor (the caller of a
 * sync call gets BR_FAILED_REPLY), the function returns -EBADF, and
 * *replacement says what the client puts in place of the item (0: nothing;
 * BR_FAILED_REPLY for a reply).
 */
int driver_fd_fixup(struct thread *thread, const int32_t *numbers, size_t count,
		    uint32_t *replacement);

/*
 * Any other Binder ioctl (cmd from <linux/android/binder.h>). @arg holds
 * _IOC_SIZE(cmd) bytes. Completes through ops->ioctl_done, maybe later
 * (BINDER_FREEZE waits for pending transactions).
 */
void driver_ioctl(struct thread *thread, uint32_t cmd, const void *arg, size_t size);

/*
 * mmap of the device by the process: creates the region (size capped).
 * Returns 0 and an O_RDONLY descriptor (caller closes it) and the size to
 * map, or the errno mmap would fail with.
 */
int driver_mmap(struct thread *thread, uint64_t addr, uint64_t size, int *fd, uint64_t *mapped);
/*
 * The process's outbox (wire.h UBW_OUTBOX): a memfd of @size bytes the client
 * maps read-write at @addr and the daemon maps too (read-only; read-write
 * with @page_states, whose first pages the daemon then reads and changes to
 * give back the pages the client freed: src/driver/outbox.h). Returns 0 and
 * a read-write descriptor (caller closes it), or -EBUSY, -EINVAL, -ENOMEM.
 */
int driver_outbox(struct thread *thread, uint64_t addr, uint64_t size, bool page_states, int *fd);

/* The client mapped the region at @addr: transactions can reach it now. */
int driver_mmap_done(struct thread *thread, uint64_t addr);
/* The client unmapped the region, or lost its outbox (@addr its base). */
int driver_munmap(struct thread *thread, uint64_t addr);

/* A fetch job finished on its worker (back on the event loop). */
void driver_fetch_done(struct driver *drv, struct fetch_job *job);

/* Deferred work: fill the reads of woken threads. Call after each event. */
void driver_flush(struct driver *drv);

/* Timers (BINDER_FREEZE timeouts): whether any runs, and expiry processing. */
bool driver_has_timers(const struct driver *drv);
void driver_tick(struct driver *drv, uint64_t now_ms);
/* CLOCK_MONOTONIC in milliseconds, the clock of driver_tick. */
uint64_t driver_now_ms(void);

/* --- administration ------------------------------------------------------ */

/* Releases up to @pages lru pages (SIZE_MAX: all, and punches every
 * non-active range) for the administrator; returns how many. */
size_t driver_shrink(struct driver *drv, size_t pages);
/* The same under memory pressure (no hole sweep). Both also give back every
 * outbox page its client freed (outboxes with page states), and count them
 * in what they return. */
size_t driver_relieve_pressure(struct driver *drv, size_t pages);
/* Releases the lru pages unused for lru_decay_ms at @now_ms (driver_now_ms),
 * and the outbox pages freed that long (scanned a decay time apart). */
size_t driver_decay(struct driver *drv, uint64_t now_ms);
/* When the next lru page decays or the outboxes are due a scan (driver_now_ms
 * time); UINT64_MAX: none. */
uint64_t driver_next_decay(const struct driver *drv);
/* Installed pages no buffer uses, in all regions. */
size_t driver_lru_pages(const struct driver *drv);
/* Installs first ask @headroom how many more pages the memory cgroup can
 * take (see buffer_pool.headroom); NULL removes the check. */
void driver_set_memory_headroom(struct driver *drv, size_t (*headroom)(void *ctx, size_t wanted),
				void *ctx);

/* Text dumps in the spirit of the kernel's binder debugfs files. */
void driver_dump_state(struct driver *drv, FILE *out, pid_t only_pid);
void driver_dump_stats(struct driver *drv, FILE *out);
void driver_dump_transactions(struct driver *drv, FILE *out);
