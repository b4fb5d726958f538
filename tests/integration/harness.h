/* SPDX-License-Identifier: MIT */
/*
 * Integration-test harness: a real ubinderd in a temporary directory, real
 * client processes speaking the raw Binder protocol through the transport,
 * and the daemon's admin channel for stats. Nothing is mocked.
 *
 * Every process a test starts is reaped, and every wait is bounded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/android/binder.h>

#include "transport/transport.h"

struct ubd {
	pid_t pid;
	char dir[64];
	char sock[128];
};

/*
 * The daemon a group of tests shares: cmocka_run_group_tests(tests,
 * ubd_group_setup, ubd_group_teardown) starts it before the first test and
 * stops it (requiring a clean exit) after the last.
 */
extern struct ubd D;
int ubd_group_setup(void **state);
int ubd_group_teardown(void **state);

/* Starts ubinderd (path in $UBINDERD) with --socket DIR/binder plus @args (NULL-terminated). */
int ubd_start(struct ubd *d, const char *const *args);
/* The same, the daemon running as @uid (the test must be root). */
int ubd_start_as(struct ubd *d, const char *const *args, uid_t uid);
/* Descriptors the daemon has open now. */
int ubd_open_fds(const struct ubd *d);
/* The daemon's descriptor count once it is idle and the count is steady (a baseline). */
int ubd_settled_fds(const struct ubd *d);
/* Waits (2 s at most) for the daemon to have @expected descriptors open; returns the count. */
int ubd_wait_fds(const struct ubd *d, int expected);
/* A bare connection to @path, no message sent: the descriptor, or -1. */
int ubd_connect_raw(const char *path);
/* Waits until the daemon reports no process; returns the last count seen. */
long ubd_wait_idle(const struct ubd *d);
/* SIGTERM, then waits (5 s at most, then SIGKILL). Returns its exit status, -1 if killed. */
int ubd_stop(struct ubd *d);
/* Sends an admin request; returns the text (malloc'd) or NULL. */
char *ubd_admin(const struct ubd *d, uint32_t op, int64_t arg, const char *text);
/*
 * The same, with the reply's error: returns 0 or the daemon's negative errno,
 * -EPIPE if the daemon hung up; *@text gets the text (malloc'd) or NULL.
 */
int ubd_admin_status(const struct ubd *d, uint32_t op, int64_t arg, const char *text,
		     char **reply_text);
/* A number from `stats`: the first integer after "KEY: ". -1 if absent. */
long ubd_stat(const struct ubd *d, const char *key);
/* A number from the state dump of one process, e.g. "buffers". */
long ubd_proc_stat(const struct ubd *d, pid_t pid, const char *key);

/* A raw Binder client: a session, one thread, and the mapped region. */
struct rc {
	struct ubt_session s;
	struct ubt_thread t;
	void *map;
	size_t map_size;
};

int rc_open(struct rc *c, const char *sock, size_t map_size);
/*
 * rc_open, then becomes the context manager (BINDER_SET_CONTEXT_MGR_EXT with
 * @mgr if not NULL, else BINDER_SET_CONTEXT_MGR) and enters the looper
 * (BC_ENTER_LOOPER). Returns 0 or the first step's -errno.
 */
int rc_open_manager(struct rc *c, const char *sock, size_t map_size,
		    struct flat_binder_object *mgr);
void rc_close(struct rc *c);
/* BINDER_WRITE_READ; returns 0 or -errno. */
int rc_bwr(struct rc *c, const void *w, size_t wlen, void *r, size_t rlen, uint64_t *wc,
	   uint64_t *rc);
int rc_ioctl(struct rc *c, unsigned long cmd, void *arg);

/* Command-stream building. */
struct cmdbuf {
	uint8_t buf[4096];
	size_t len;
};
void cb_u32(struct cmdbuf *b, uint32_t v);
void cb_u64(struct cmdbuf *b, uint64_t v);
void cb_bytes(struct cmdbuf *b, const void *p, size_t n);
void cb_txn(struct cmdbuf *b, uint32_t cmd, uint32_t handle, uint32_t code, uint32_t flags,
	    const void *data, size_t data_size, const void *offsets, size_t offsets_size);

/* Reads until a BR_ code other than NOOP/TRANSACTION_COMPLETE/SPAWN_LOOPER arrives. */
int rc_wait_for(struct rc *c, uint32_t *cmd, struct binder_transaction_data *tr);

/* CPU time (user + system) process @pid has used, in ms; -1 if unknown. */
long proc_cpu_ms(pid_t pid);

/* Fork helpers: runs @fn in a child; returns its pid. */
pid_t spawn(int (*fn)(void *arg), void *arg);
/* Waits for @pid at most @timeout_ms; kills it then. Returns exit status or -1. */
int reap(pid_t pid, int timeout_ms);

/* Pipe-based barriers between processes. */
struct sync {
	int fds[2];
};
void sync_init(struct sync *s);
void sync_post(struct sync *s, uint32_t value);
/* Returns the value, or UINT32_MAX after @timeout_ms. */
uint32_t sync_wait(struct sync *s, int timeout_ms);

const char *br_name(uint32_t cmd);
