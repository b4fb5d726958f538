/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libubinder end-to-end tests: a real ubinderd and the real
 * ubinder-servicemanager per test program (tests/integration/harness.h),
 * and a test service with one transaction per behaviour to check.
 *
 * The test process itself never holds a context across a fork: services
 * and clients run in children (harness spawn()/reap(), bounded), so that no
 * library thread is ever forked.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "harness.h"
#include "test-check.h" /* CHECK: in a child, report and fail */
#include "ubinder/ubinder.h"

/* In a child: a call that must return 0. */
#define CHECK_OK(expr)                                                                \
	do {                                                                          \
		int err_ = (expr);                                                    \
		if (err_) {                                                           \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, \
				ubinder_status_name(err_));                           \
			return 1;                                                     \
		}                                                                     \
	} while (0)

struct lib_env {
	struct ubd d;
	pid_t sm;
};

/* The environment of a test program, and cmocka group setup/teardown for it. */
extern struct lib_env lib_env;
int lib_env_setup(void **state);
int lib_env_teardown(void **state);

long now_ms(void);

/* Starts ubinderd and the service manager ($UBINDER_SERVICEMANAGER); sets
 * $UBINDER_SOCKET for the children. Returns 0 or -1. */
int env_start(struct lib_env *e);
/* The same, with these options (NULL-terminated) for the service manager. */
int env_start_args(struct lib_env *e, const char *const *sm_args);
/* Stops both; returns 0 if both exited cleanly. */
int env_stop(struct lib_env *e);
/* Waits until a stat of the daemon equals @value; returns the last value read. */
long env_wait_stat(struct lib_env *e, const char *key, long value, int timeout_ms);

/* The test service's transactions. */
#define TS_DESCRIPTOR "org.ubinder.test.ITest"
enum ts_code {
	TS_ECHO = 1,   /* (i32, String) -> (i32, String) */
	TS_WHO = 2,    /* () -> (i32 sender_pid, i32 sender_euid) */
	TS_ONEWAY = 3, /* oneway (i32 seq): checks the order */
	TS_COUNT = 4,  /* () -> (i32 oneways, bool in order) */
	TS_CALLBACK_SYNC =
		5, /* (IBinder cb, i32 x) -> i32: calls cb(code 1, x) and returns its i32 */
	TS_CALLBACK_STORE = 6, /* (IBinder cb) */
	TS_CALLBACK_FIRE = 7,  /* (i32 x): oneway cb(code 2, x) to every stored cb */
	TS_FD_WRITE = 8,       /* (fd): writes "hello" into it */
	TS_FD_GIVE = 9,	       /* () -> fd: a pipe holding "from service" */
	TS_STATUS = 10,	       /* (i32 status): the handler returns it */
	TS_BLOCK = 11,	       /* (): posts opts->blocked; replies on TS_UNBLOCK (10 s max) */
	TS_UNBLOCK = 12,       /* oneway () */
	TS_NEW_OBJECT = 13,    /* () -> IBinder: a fresh local object (code 1 -> i32 7) */
	TS_OBJECTS = 14,       /* () -> i32: objects of TS_NEW_OBJECT still alive */
	TS_BARRIER = 15,       /* (i32 n) -> bool: true once n calls are inside at once (10 s) */
	TS_BYTES = 16,	       /* (byte[]) -> byte[]: the same bytes back */
};

struct test_service_opts {
	const char *name;     /* registered name */
	bool event_loop;      /* serve with poll + ubinder_context_process() */
	unsigned int threads; /* pool limit (thread pool mode) */
	struct sync *ready;   /* posted 1 once registered */
	struct sync *stop;    /* the service exits when this is posted */
	struct sync *blocked; /* posted 1 each time a TS_BLOCK call is inside (may be NULL) */
};

/* Runs the test service until opts->stop is posted; returns 0 on success. */
int test_service_main(void *arg);

/* A test service in a child process. */
struct service {
	struct test_service_opts opts;
	struct sync ready, stop, blocked;
	pid_t pid;
};

/* Starts it (pool of @threads, or an event loop) and waits until it is registered. */
int service_start(struct service *s, const char *name, bool event_loop, unsigned int threads);
/* Asks it to stop; returns its exit status (reaped). */
int service_stop(struct service *s);
/* After it was killed and reaped: closes what service_start() opened. */
void service_forget(struct service *s);

/* A call with the token and one int32 (none if @arg is NULL); *reply kept if asked. */
int ts_call_i32(ubinder_binder *b, uint32_t code, const int32_t *arg, uint32_t flags,
		ubinder_parcel **reply);

/*
 * harness spawn(), plus a leak check when the child is done (under
 * LeakSanitizer: a child's _exit() would skip it). A leak fails the child.
 */
pid_t lspawn(int (*fn)(void *arg), void *arg);

/* Opens a context ($UBINDER_SOCKET) with a thread pool; NULL on failure (printed). */
ubinder_context *client_open(bool pool);
/* A request with the test interface token. */
ubinder_parcel *ts_request(void);
