/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the conformance programs. They use the kernel UAPI only
 * (<linux/android/binder.h>, libc, pthreads) and no ubinder header, so that
 * the same program runs against the kernel driver and, through the preload
 * library, against ubinderd.
 *
 * Transcript rules: every line is printed with one write() and a role prefix
 * ("A: ..."); pids, tids, addresses and debug ids never appear raw. Pids are
 * printed by the role name registered for them, buffer pointers relative to
 * the receiver's mapping, euids relative to the reader's own.
 */
#ifndef CONF_H
#define CONF_H

#include <linux/android/binder.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONF_MAP_SIZE (1024 * 1024)
#define CONF_DEV      "/dev/binder"

/* ---- process, output, timeouts ---- */

/* Starts the program: sets the role of this process and the time limit. */
void conf_start(const char *role, unsigned seconds);
/* Renames the current process's role (used in the prefix of its lines). */
void conf_role(const char *role);
/* Gives the calling thread its own role name (e.g. "P.t2"). */
void conf_thread_role(const char *role);
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "FATAL: ..." and exits with status 1. */
__attribute__((noreturn)) void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "EINVAL" etc. for a positive errno, "0" for 0. */
const char *errname(int err);
/* 0 -> "0", -E -> "EXXX" (for results of ioctl wrappers returning -errno). */
const char *res(int r);
const char *brname(uint32_t cmd);
const char *bcname(uint32_t cmd);
const char *typename_(uint32_t type);

/* Pids are printed by name: register each process of interest. */
void pid_name(pid_t pid, const char *name);
const char *pid_str(pid_t pid);
void msleep(unsigned ms);
/* Reads the byte at addr with SIGBUS and SIGSEGV caught (then back to their
 * defaults): 0 if the read worked, else the signal it raised. */
int read_fault(const void *addr);
/* Blocks until the thread tid of this process is asleep ('S' in its
 * /proc/self/task/TID/stat), then 20 ms more. Fatal after about 2.5 s. */
void wait_thread_sleeping(pid_t tid);

/* ---- processes and synchronisation ---- */

/* A bidirectional channel between two processes (socketpair). The parent uses
 * end 0, the child end 1; put() and get() move one 64-bit value. */
struct chan {
	int fd[2];
};
void chan_init(struct chan *c);
void put(struct chan *c, int end, uint64_t v);
uint64_t get(struct chan *c, int end);

/* Forks a child named role that runs fn(arg) and exits 0. It dies with its
 * parent and has the same time limit. */
pid_t spawn(const char *role, void (*fn)(void *), void *arg);
/* Waits for the child; returns its exit status, or 128+signal. */
int reap(pid_t pid);
/* Kills and reaps the child. */
void kill_reap(pid_t pid);

/* ---- devices ---- */

struct bdev {
	int fd;
	uint8_t *map;
	size_t size;
	const char *path;
};

/* Opens path (O_RDWR | O_CLOEXEC) and, if map_size != 0, maps it read-only.
 * Then calls BINDER_VERSION, as libbinder does: the calling thread's first
 * ioctl is then behind it (a thread's first BINDER_WRITE_READ never blocks).
 * Fatal on failure. */
void bd_open(struct bdev *b, const char *path, size_t map_size);
void bd_close(struct bdev *b);
/* ioctl returning 0 or -errno. */
int xioctl(int fd, unsigned long req, void *arg);
/* When set, the helpers' ioctls (bd_open, xioctl, bwr, ...) pass the request
 * as an int, sign-extended to glibc's unsigned long, as libgbinder does, and
 * bd_open maps with MAP_PRIVATE | MAP_NORESERVE as it does. */
extern bool conf_int_requests;
/* BINDER_SET_CONTEXT_MGR, retried while the previous program's context
 * manager is still being released (EBUSY for up to 3 s). Fatal on failure. */
void become_ctxmgr(struct bdev *b);
void become_ctxmgr_ext(struct bdev *b, uint64_t ptr, uint64_t cookie, uint32_t flags);
/* The usual server start: bd_open(b, CONF_DEV, CONF_MAP_SIZE), become_ctxmgr()
 * and enter_looper(). */
void open_ctxmgr(struct bdev *b);
/* Position of an address: "map+0x40" or "outside". */
const char *map_pos(const struct bdev *b, uint64_t addr);

/* ---- command streams ---- */

struct wbuf {
	size_t len;
	uint8_t b[16384];
};
void w_reset(struct wbuf *w);
void w_u32(struct wbuf *w, uint32_t v);
void w_u64(struct wbuf *w, uint64_t v);
void w_bytes(struct wbuf *w, const void *p, size_t n);
void w_cmd(struct wbuf *w, uint32_t bc); /* a command without payload */
void w_txn(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
	   const void *data, size_t data_size, const void *offs, size_t offs_size);
void w_txn_sg(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
	      const void *data, size_t data_size, const void *offs, size_t offs_size,
	      uint64_t buffers_size);
void w_free(struct wbuf *w, uint64_t buffer);
void w_ref(struct wbuf *w, uint32_t bc, uint32_t handle);
void w_ptr_cookie(struct wbuf *w, uint32_t bc, uint64_t ptr, uint64_t cookie);
void w_death(struct wbuf *w, uint32_t bc, uint32_t handle, uint64_t cookie);

/* ---- read results ---- */

struct br {
	uint32_t cmd;
	uint32_t off; /* offset in the read buffer */
	union {
		struct binder_transaction_data tr;
		struct binder_transaction_data_secctx sec;
		struct binder_ptr_cookie pc;
		uint64_t cookie;
		int32_t error;
	};
};

#define RBUF_MAX 8192
struct rw {
	int ret;
	int err; /* errno when ret < 0 */
	uint64_t wc, rc;
	size_t n;
	bool truncated;
	struct br v[64];
	uint8_t rbuf[RBUF_MAX];
};

/* One BINDER_WRITE_READ (w may be NULL; rsize 0 = no read). Returns r->ret. */
int bwr(struct bdev *b, const struct wbuf *w, size_t rsize, struct rw *r);
/* The same without blocking: O_NONBLOCK is set on the file for the call. */
int bwr_nb(struct bdev *b, const struct wbuf *w, size_t rsize, struct rw *r);
/* Decodes r->rbuf[0..r->rc). */
void decode(struct rw *r);
/* Prints "what: <result> wc=.. rc=.. [BR_...]" then one line per item. */
void show(const struct bdev *b, const char *what, const struct rw *r);
/* Prints only the item list in brackets (no counts). */
void show_brief(const struct bdev *b, const char *what, const struct rw *r);
/* Prints a transaction's details (one or more lines, prefixed by indent). */
void show_txn(const struct bdev *b, const char *indent, uint32_t cmd,
	      const struct binder_transaction_data *t);
/* First item with this code, or NULL. */
const struct br *find(const struct rw *r, uint32_t cmd);
/* First BR_TRANSACTION / BR_TRANSACTION_SEC_CTX / BR_REPLY, or NULL. */
const struct binder_transaction_data *find_txn(const struct rw *r);
/* Print buffer positions as map offsets (default: "in-map"). */
extern bool show_buffer_offsets;

/* Convenience: write then print; read (blocking) then print. */
int run_show(struct bdev *b, const char *what, const struct wbuf *w, size_t rsize, struct rw *r);
/* Blocks until an item with code cmd is read (reads are printed). Fatal if the
 * read fails. Returns a pointer into r. */
const struct br *read_until(struct bdev *b, const char *what, uint32_t cmd, struct rw *r);

/* Common small helpers. */
void enter_looper(struct bdev *b);
void free_buffer(struct bdev *b, uint64_t buffer);
/* A BC_REPLY with data (no objects), its result read and discarded unless
 * quiet is false, in which case it is printed as "what". */
void reply_bytes(struct bdev *b, const void *data, size_t n, const char *what);
struct binder_extended_error get_ee(struct bdev *b);
void show_ee(struct bdev *b, const char *what);
/* Blocks (polling BINDER_GET_FROZEN_INFO) until no Binder process with that
 * pid exists any more, then a short grace period. */
void wait_binder_gone(struct bdev *b, pid_t pid);
/* The same poll without the grace period: true once the Binder process is
 * gone, false if it is still there after tries polls 5 ms apart. */
bool binder_gone_within(struct bdev *b, pid_t pid, unsigned tries);
/* Makes sure no context manager is left from an earlier program: a child "X"
 * becomes the context manager (waiting out a stale one) and exits, and this
 * returns once its Binder process is gone. */
void clear_stale_ctxmgr(struct bdev *b);
/* A BC_TRANSACTION without data, flags TF_ONE_WAY, to handle; the result is
 * read (up to 256 bytes) and dropped. Returns whether BR_TRANSACTION_COMPLETE
 * was among it. Typically the "stop" message to a serving child. */
bool send_empty_oneway(struct bdev *b, uint32_t handle, uint32_t code);
/* Serves on m until a transaction with stop_code: each read is printed
 * ("read"), each buffer freed, and each synchronous call other than the stop
 * answered with reply[0..n) (no objects). */
void serve_until_code(struct bdev *m, uint32_t stop_code, const void *reply, size_t n);

/* Answers every BR_INCREFS / BR_ACQUIRE in r with BC_INCREFS_DONE /
 * BC_ACQUIRE_DONE (write only). Returns how many were answered. */
int ack_node_refs(struct bdev *b, const struct rw *r);

/* A payload of objects: data with flat objects at offsets. */
struct objs {
	uint8_t data[512];
	uint64_t offs[16];
	size_t len, n;
};
void objs_reset(struct objs *o);
/* Appends raw bytes (not an object). */
void objs_bytes(struct objs *o, const void *p, size_t n);
/* Appends an object of any type at the current end and records its offset. */
void objs_add(struct objs *o, const void *obj, size_t size);
void objs_binder(struct objs *o, uint32_t type, uint64_t ptr, uint64_t cookie, uint32_t flags);
void objs_handle(struct objs *o, uint32_t type, uint32_t handle, uint32_t flags);
/* Appends a BC_TRANSACTION / BC_REPLY carrying o. */
void w_txn_objs(struct wbuf *w, uint32_t bc, uint32_t handle, uint32_t code, uint32_t flags,
		const struct objs *o);
/* The n-th object of a received transaction (NULL if out of range). */
const struct flat_binder_object *txn_obj(const struct binder_transaction_data *t, size_t n);

/* flat_binder_object helpers */
struct flat_binder_object fbo_binder(uint64_t ptr, uint64_t cookie, uint32_t flags);
struct flat_binder_object fbo_handle(uint32_t handle, uint32_t flags);

#endif
