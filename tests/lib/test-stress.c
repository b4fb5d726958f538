/* SPDX-License-Identifier: MIT */
/*
 * libubinder under load and under failure, end to end: 32 client processes
 * of 4 threads each calling one service at once (sync calls, oneways and
 * nested callbacks into every thread), the service's thread pool growing on
 * BR_SPAWN_LOOPER, a client killed in the middle of a call, and a service
 * killed in the middle of a call.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib-test.h"
#include "test-util.h"

#define CLIENTS		 32
#define THREADS		 4
#define CALLS_PER_THREAD 150

/* --- many clients ---------------------------------------------------------------------- */

struct worker {
	ubinder_binder *service;
	ubinder_context *ctx;
	int index;
	int failed;
	int callbacks;
	pthread_t tid;
};

/* Called back by the service, nested inside our own call: x -> x + 1. */
static int worker_callback(ubinder_binder *self, const struct ubinder_call *call,
			   ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct worker *w = userdata;
	int32_t x;
	int err;

	(void)self;
	if (call->code != 1 || !reply)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	/* Nested calls come to the thread that waits for its reply. */
	if (!pthread_equal(pthread_self(), w->tid))
		w->failed = __LINE__;
	err = ubinder_parcel_read_int32(data, &x);
	w->callbacks++;
	return err ? err : ubinder_parcel_write_int32(reply, x + 1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	ubinder_binder *cb = NULL;
	char text[64], *s = NULL;

	if (ubinder_binder_new(w->ctx, "org.ubinder.test.IWorker", worker_callback, w, NULL, &cb)) {
		w->failed = __LINE__;
		return NULL;
	}
	for (int i = 0; i < CALLS_PER_THREAD && !w->failed; i++) {
		ubinder_parcel *data = ts_request(), *reply = NULL;
		int32_t x = -1;

		if (!data) {
			w->failed = __LINE__;
			break;
		}
		snprintf(text, sizeof(text), "worker %d call %d", w->index, i);
		if (i % 10 == 9) {
			/* A nested callback into this thread. */
			if (ubinder_parcel_write_binder(data, cb) ||
			    ubinder_parcel_write_int32(data, i) ||
			    ubinder_binder_transact(w->service, TS_CALLBACK_SYNC, data, 0,
						    &reply) ||
			    ubinder_parcel_read_int32(reply, &x) || x != i + 1)
				w->failed = __LINE__;
		} else if (i % 10 == 5) {
			if (ubinder_parcel_write_int32(data, i) ||
			    ubinder_binder_transact(w->service, TS_ONEWAY, data,
						    UBINDER_FLAG_ONEWAY, NULL))
				w->failed = __LINE__;
		} else {
			if (ubinder_parcel_write_int32(data, i) ||
			    ubinder_parcel_write_string16_utf8(data, text) ||
			    ubinder_binder_transact(w->service, TS_ECHO, data, 0, &reply) ||
			    ubinder_parcel_read_int32(reply, &x) || x != i ||
			    ubinder_parcel_read_string16_utf8(reply, &s) || !s || strcmp(s, text))
				w->failed = __LINE__;
			free(s);
			s = NULL;
		}
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
	}
	if (w->callbacks != CALLS_PER_THREAD / 10)
		w->failed = w->failed ? w->failed : __LINE__;
	ubinder_binder_unref(cb);
	return NULL;
}

static int client_many(void *arg)
{
	struct worker w[THREADS];
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_wait_for_service(ctx, "stress.many", 10000, &b));
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .service = b, .ctx = ctx, .index = i };
		CHECK(pthread_create(&w[i].tid, NULL, worker_main, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].failed)
			fprintf(stderr, "pid %d worker %d failed at line %d\n", getpid(), i,
				w[i].failed);
		CHECK(!w[i].failed);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void many_clients_many_threads(void **state)
{
	pid_t clients[CLIENTS];
	struct service s;
	int failures = 0;

	(void)state;
	assert_int_equal(service_start(&s, "stress.many", false, 8), 0);
	for (int i = 0; i < CLIENTS; i++)
		clients[i] = lspawn(client_many, NULL);
	for (int i = 0; i < CLIENTS; i++)
		failures += reap(clients[i], 120000) != 0;
	assert_int_equal(service_stop(&s), 0);
	assert_int_equal(failures, 0);
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
}

/* --- the thread pool grows ------------------------------------------------------------------ */

static int barrier_caller(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	ubinder_parcel *reply = NULL;
	int32_t n = 8;
	bool ok = false;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "stress.pool", &b));
	CHECK_OK(ts_call_i32(b, TS_BARRIER, &n, 0, &reply));
	CHECK_OK(ubinder_parcel_read_bool(reply, &ok));
	ubinder_parcel_free(reply);
	CHECK(ok);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void pool_grows_on_spawn_looper(void **state)
{
	pid_t callers[8];
	struct service s;
	int failures = 0;

	(void)state;
	/* 8 calls can only be inside at once with 7 threads spawned besides the first. */
	assert_int_equal(service_start(&s, "stress.pool", false, 7), 0);
	for (int i = 0; i < 8; i++)
		callers[i] = lspawn(barrier_caller, NULL);
	for (int i = 0; i < 8; i++)
		failures += reap(callers[i], 30000) != 0;
	assert_int_equal(service_stop(&s), 0);
	assert_int_equal(failures, 0);
}

/* --- deaths in the middle of a call ---------------------------------------------------------- */

static int blocked_caller(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	int *expect_dead = arg;
	int err;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "stress.kill", &b));
	err = ts_call_i32(b, TS_BLOCK, NULL, 0, NULL);
	if (expect_dead)
		CHECK(err == UBINDER_ERR_DEAD_OBJECT);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static int unblocker_and_checker(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	int32_t x;
	char *s = NULL;
	ubinder_parcel *data, *reply = NULL;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "stress.kill", &b));
	CHECK_OK(ts_call_i32(b, TS_UNBLOCK, NULL, UBINDER_FLAG_ONEWAY, NULL));
	/* The service goes on serving. */
	data = ts_request();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_int32(data, 3));
	CHECK_OK(ubinder_parcel_write_string16_utf8(data, "still here"));
	CHECK_OK(ubinder_binder_transact(b, TS_ECHO, data, 0, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &x));
	CHECK_OK(ubinder_parcel_read_string16_utf8(reply, &s));
	CHECK(x == 3 && strcmp(s, "still here") == 0);
	free(s);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void client_killed_mid_call(void **state)
{
	struct service s;
	pid_t client;

	(void)state;
	assert_int_equal(service_start(&s, "stress.kill", false, 4), 0);
	client = lspawn(blocked_caller, NULL);
	/* Wait until the call is inside the service, then kill the caller. (A
	 * transaction in flight is no sign of it: it may be the caller's
	 * checkService still with the service manager.) */
	assert_int_equal(sync_wait(&s.blocked, 10000), 1);
	kill(client, SIGKILL);
	assert_int_equal(reap(client, 10000), -1);
	assert_int_equal(reap(lspawn(unblocker_and_checker, NULL), 30000), 0);
	assert_int_equal(service_stop(&s), 0);
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
	assert_int_equal(env_wait_stat(&lib_env, "buffers", 0, 5000), 0);
}

static void service_killed_mid_call(void **state)
{
	static int expect_dead = 1;
	struct service s;
	pid_t client;

	(void)state;
	assert_int_equal(service_start(&s, "stress.kill", false, 4), 0);
	client = lspawn(blocked_caller, &expect_dead);
	/* Killed before the call is inside, the service would die with the
	 * caller's checkService in flight: NAME_NOT_FOUND, not DEAD_OBJECT. */
	assert_int_equal(sync_wait(&s.blocked, 10000), 1);
	kill(s.pid, SIGKILL);
	assert_int_equal(reap(s.pid, 10000), -1);
	service_forget(&s);
	assert_int_equal(reap(client, 30000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(many_clients_many_threads),
		cmocka_unit_test(pool_grows_on_spawn_looper),
		cmocka_unit_test(client_killed_mid_call),
		cmocka_unit_test(service_killed_mid_call),
	};

	return cmocka_run_group_tests(tests, lib_env_setup, lib_env_teardown);
}
