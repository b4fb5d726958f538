/* SPDX-License-Identifier: MIT */
/*
 * libubinder end to end: registration and lookup through the real service
 * manager, calls and identity, oneway ordering, callbacks (nested and
 * oneway), death notifications and name cleanup, waiting for a service,
 * descriptors, an event-loop service, and the reference counts of objects
 * handed out (their destroy callbacks run, the daemon ends with nothing).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib-test.h"
#include "test-util.h"
#include "transport/transport.h"
#include "wire/wire.h"

/* Runs @fn in a child and expects it to exit 0. */
static void run_client(int (*fn)(void *), void *arg)
{
	assert_int_equal(reap(lspawn(fn, arg), 30000), 0);
}

/* The daemon is left with no transaction and no buffer. */
static void assert_daemon_quiet(void)
{
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
}

/* --- calls ----------------------------------------------------------------------------- */

static int echo(ubinder_binder *b, int32_t x, const char *s, int32_t *xo, char **so)
{
	ubinder_parcel *data = ts_request(), *reply = NULL;
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err)
		err = ubinder_parcel_write_int32(data, x);
	if (!err)
		err = ubinder_parcel_write_string16_utf8(data, s);
	if (!err)
		err = ubinder_binder_transact(b, TS_ECHO, data, 0, &reply);
	if (!err)
		err = ubinder_parcel_read_int32(reply, xo);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(reply, so);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	return err;
}

static int client_calls(void *arg)
{
	const char *name = arg;
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL, *other;
	ubinder_parcel *reply;
	char **names, *s = NULL;
	int32_t x, pid, euid, status = -77;
	bool listed = false;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, name, &b));
	CHECK(!ubinder_binder_is_local(b) && ubinder_binder_is_alive(b));
	CHECK_OK(echo(b, 42, "h\xc3\xa9llo", &x, &s));
	CHECK(x == 42 && strcmp(s, "h\xc3\xa9llo") == 0);
	free(s);
	/* Identity, as the driver stamps it. */
	CHECK_OK(ts_call_i32(b, TS_WHO, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &pid));
	CHECK_OK(ubinder_parcel_read_int32(reply, &euid));
	ubinder_parcel_free(reply);
	CHECK(pid == getpid() && (uid_t)euid == geteuid());
	/* Built-in transactions. */
	CHECK_OK(ubinder_binder_ping(b));
	CHECK_OK(ubinder_binder_get_interface(b, &s));
	CHECK(strcmp(s, TS_DESCRIPTOR) == 0);
	free(s);
	/* Errors have names and reach the caller. */
	CHECK(ts_call_i32(b, 999, NULL, 0, NULL) == UBINDER_ERR_UNKNOWN_TRANSACTION);
	CHECK(ts_call_i32(b, TS_STATUS, &status, 0, NULL) == -77);
	CHECK(ubinder_binder_transact(b, TS_ECHO, NULL, 0, NULL) == UBINDER_ERR_BAD_TYPE);
	CHECK(ubinder_sm_check_service(ctx, "no.such.service", &other) ==
	      UBINDER_ERR_NAME_NOT_FOUND);
	CHECK(ubinder_sm_check_service(ctx, "bad name!", &other) == UBINDER_ERR_BAD_VALUE);
	CHECK(ubinder_sm_add_service(ctx, "", b) == UBINDER_ERR_BAD_VALUE);
	CHECK_OK(ubinder_sm_list_services(ctx, &names, NULL));
	for (char **n = names; *n; n++)
		listed |= strcmp(*n, name) == 0;
	ubinder_sm_free_names(names);
	CHECK(listed);
	/* An idle client does not keep its last reply's buffer for long. */
	for (long deadline = now_ms() + 2000;
	     ubd_proc_stat(&lib_env.d, getpid(), "buffers") != 0 && now_ms() < deadline;)
		poll(NULL, 0, 1);
	CHECK(ubd_proc_stat(&lib_env.d, getpid(), "buffers") == 0);
	/* The same name looked up twice gives the same proxy. */
	CHECK_OK(ubinder_sm_check_service(ctx, name, &other));
	CHECK(other == b);
	ubinder_binder_unref(other);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void calls_and_identity(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.calls", false, 0), 0);
	run_client(client_calls, "test.calls");
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- Android's default transactions --------------------------------------------------- */

static int result_receiver(ubinder_binder *self, const struct ubinder_call *call,
			   ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	int32_t code = 0;

	(void)self;
	(void)reply;
	if (call->code == 1 &&
	    !ubinder_parcel_enforce_interface(data, "com.android.internal.os.IResultReceiver") &&
	    !ubinder_parcel_read_int32(data, &code))
		atomic_store((atomic_int *)userdata, code);
	return 0;
}

static int client_defaults(void *arg)
{
	ubinder_context *ctx = client_open(true);
	ubinder_binder *b = NULL, *ext = NULL, *receiver = NULL;
	ubinder_parcel *data, *reply = NULL;
	atomic_int result = 0;
	int32_t pid = 0;
	int pipefd[2];
	char buf[8];

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, arg, &b));
	/* DEBUG_PID: the service's pid. */
	CHECK_OK(ubinder_binder_transact(b, UBINDER_DEBUG_PID_TRANSACTION, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &pid));
	ubinder_parcel_free(reply);
	CHECK(pid > 0 && pid != getpid() && kill(pid, 0) == 0);
	/* EXTENSION: none set */
	CHECK_OK(ubinder_binder_transact(b, UBINDER_EXTENSION_TRANSACTION, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_binder(reply, &ext));
	CHECK(ext == NULL);
	ubinder_parcel_free(reply);
	/* SYSPROPS */
	CHECK_OK(ubinder_binder_transact(b, UBINDER_SYSPROPS_TRANSACTION, NULL, 0, NULL));
	/* DUMP: OK, nothing written, and the service closed its descriptor. */
	CHECK(pipe(pipefd) == 0);
	data = ubinder_parcel_new();
	CHECK_OK(ubinder_parcel_write_fd(data, pipefd[1]));
	CHECK_OK(ubinder_parcel_write_int32(data, 1));
	CHECK_OK(ubinder_parcel_write_string16_utf8(data, "-a"));
	close(pipefd[1]);
	CHECK_OK(ubinder_binder_transact(b, UBINDER_DUMP_TRANSACTION, data, 0, NULL));
	ubinder_parcel_free(data);
	CHECK(read(pipefd[0], buf, sizeof(buf)) == 0); /* EOF: every writer closed */
	close(pipefd[0]);
	/* SHELL_COMMAND: the receiver learns INVALID_OPERATION. */
	CHECK_OK(ubinder_binder_new(ctx, "com.android.internal.os.IResultReceiver", result_receiver,
				    &result, NULL, &receiver));
	data = ubinder_parcel_new();
	for (int i = 0; i < 3; i++)
		CHECK_OK(ubinder_parcel_write_fd(data, 2));
	CHECK_OK(ubinder_parcel_write_int32(data, 0));
	CHECK_OK(ubinder_parcel_write_binder(data, NULL));
	CHECK_OK(ubinder_parcel_write_binder(data, receiver));
	CHECK_OK(ubinder_binder_transact(b, UBINDER_SHELL_COMMAND_TRANSACTION, data, 0, NULL));
	ubinder_parcel_free(data);
	for (int i = 0; i < 500 && atomic_load(&result) == 0; i++)
		usleep(10000);
	CHECK(atomic_load(&result) == UBINDER_ERR_INVALID_OPERATION);
	/* Other reserved codes still reach the handler. */
	CHECK(ubinder_binder_transact(b, UBINDER_PACK_CHARS('_', 'X', 'Y', 'Z'), NULL, 0, NULL) !=
	      0);
	ubinder_binder_unref(receiver);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void default_transactions(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.defaults", false, 2), 0);
	run_client(client_defaults, "test.defaults");
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

static int client_open_errors(void *arg)
{
	ubinder_context *ctx;

	(void)arg;
	CHECK(ubinder_context_open("/nonexistent/ubinder/binder", &ctx) == UBINDER_ERR_NO_DAEMON);
	CHECK(ubinder_context_open(NULL, NULL) == UBINDER_ERR_BAD_VALUE);
	CHECK(strcmp(ubinder_status_name(UBINDER_ERR_NO_DAEMON), "NO_DAEMON") == 0);
	return 0;
}

static void open_errors(void **state)
{
	(void)state;
	run_client(client_open_errors, NULL);
}

/* --- oneway ---------------------------------------------------------------------------- */

static int client_oneways(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	ubinder_parcel *reply;
	int32_t count = 0;
	bool ordered = false;
	long deadline = now_ms() + 10000;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, arg, &b));
	for (int32_t i = 0; i < 300; i++)
		CHECK_OK(ts_call_i32(b, TS_ONEWAY, &i, UBINDER_FLAG_ONEWAY, NULL));
	/* Delivered one at a time, in order: wait for all of them. */
	while (count < 300 && now_ms() < deadline) {
		CHECK_OK(ts_call_i32(b, TS_COUNT, NULL, 0, &reply));
		CHECK_OK(ubinder_parcel_read_int32(reply, &count));
		CHECK_OK(ubinder_parcel_read_bool(reply, &ordered));
		ubinder_parcel_free(reply);
		if (count < 300)
			poll(NULL, 0, 5);
	}
	CHECK(count == 300 && ordered);
	/* A oneway to a local object runs its handler directly. */
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void oneway_in_order(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.oneway", false, 0), 0);
	run_client(client_oneways, "test.oneway");
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- callbacks ------------------------------------------------------------------------- */

static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cond = PTHREAD_COND_INITIALIZER;
static int32_t cb_sum;
static int cb_calls;
static pthread_t cb_caller_thread;
static bool cb_on_caller_thread;

static int callback_handler(ubinder_binder *self, const struct ubinder_call *call,
			    ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	int32_t x;
	int err = ubinder_parcel_read_int32(data, &x);

	(void)self;
	(void)userdata;
	if (err)
		return err;
	pthread_mutex_lock(&cb_lock);
	cb_calls++;
	cb_sum += x;
	if (pthread_equal(pthread_self(), cb_caller_thread))
		cb_on_caller_thread = true;
	pthread_cond_broadcast(&cb_cond);
	pthread_mutex_unlock(&cb_lock);
	if (call->code == 1)
		return ubinder_parcel_write_int32(reply, x * 10);
	return 0;
}

struct callback_args {
	const char *name;
	bool pool;
};

static int client_callbacks(void *arg)
{
	const struct callback_args *a = arg;
	const bool pool = a->pool;
	ubinder_context *ctx = client_open(pool);
	ubinder_binder *b = NULL, *cb = NULL;
	ubinder_parcel *data, *reply = NULL;
	struct timespec deadline;
	int32_t x;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, a->name, &b));
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.ICallback", callback_handler, NULL, NULL,
				    &cb));
	/* Nested: the service calls back while we wait for its reply; the call comes
	 * to this very thread, even without a thread pool. */
	cb_caller_thread = pthread_self();
	data = ts_request();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_binder(data, cb));
	CHECK_OK(ubinder_parcel_write_int32(data, 4));
	CHECK_OK(ubinder_binder_transact(b, TS_CALLBACK_SYNC, data, 0, &reply));
	ubinder_parcel_free(data);
	CHECK_OK(ubinder_parcel_read_int32(reply, &x));
	ubinder_parcel_free(reply);
	CHECK(x == 40 && cb_calls == 1 && cb_on_caller_thread);
	if (!pool) {
		ubinder_binder_unref(cb);
		ubinder_binder_unref(b);
		ubinder_context_close(ctx);
		return 0;
	}
	/* Stored and called oneway later: a pool thread receives it. */
	data = ts_request();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_binder(data, cb));
	CHECK_OK(ubinder_binder_transact(b, TS_CALLBACK_STORE, data, 0, NULL));
	ubinder_parcel_free(data);
	x = 5;
	CHECK_OK(ts_call_i32(b, TS_CALLBACK_FIRE, &x, 0, NULL));
	x = 6;
	CHECK_OK(ts_call_i32(b, TS_CALLBACK_FIRE, &x, 0, NULL));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&cb_lock);
	while (cb_calls < 3 && pthread_cond_timedwait(&cb_cond, &cb_lock, &deadline) == 0)
		;
	x = cb_sum;
	pthread_mutex_unlock(&cb_lock);
	CHECK(x == 4 + 5 + 6);
	ubinder_binder_unref(cb);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void callbacks_nested_and_oneway(void **state)
{
	struct callback_args plain = { "test.callbacks", false }, pool = { "test.callbacks", true };
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.callbacks", false, 0), 0);
	run_client(client_callbacks, &plain);
	run_client(client_callbacks, &pool);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- deaths ---------------------------------------------------------------------------- */

static int deaths_seen, unlinked_seen;

static void on_death(ubinder_binder *b, void *userdata)
{
	(void)b;
	pthread_mutex_lock(&cb_lock);
	if (userdata)
		unlinked_seen++;
	else
		deaths_seen++;
	pthread_cond_broadcast(&cb_cond);
	pthread_mutex_unlock(&cb_lock);
}

struct death_args {
	pid_t service;
	struct sync linked;
	bool event_loop;
};

static int client_death(void *arg)
{
	struct death_args *a = arg;
	ubinder_context *ctx = client_open(!a->event_loop);
	ubinder_binder *b = NULL;
	long deadline = now_ms() + 10000;
	int seen = 0;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.death", &b));
	CHECK_OK(ubinder_binder_link_to_death(b, on_death, NULL));
	CHECK_OK(ubinder_binder_link_to_death(b, on_death, &deaths_seen));
	CHECK_OK(ubinder_binder_unlink_to_death(b, on_death, &deaths_seen));
	CHECK(ubinder_binder_unlink_to_death(b, on_death, &deaths_seen) ==
	      UBINDER_ERR_NAME_NOT_FOUND);
	CHECK_OK(ubinder_binder_ping(b));
	sync_post(&a->linked, 1); /* the test kills the service now */
	while (!seen && now_ms() < deadline) {
		if (a->event_loop) {
			struct pollfd pfd = { .fd = ubinder_context_get_fd(ctx), .events = POLLIN };

			if (poll(&pfd, 1, 100) > 0)
				CHECK_OK(ubinder_context_process(ctx));
		} else {
			poll(NULL, 0, 10);
		}
		pthread_mutex_lock(&cb_lock);
		seen = deaths_seen;
		pthread_mutex_unlock(&cb_lock);
	}
	CHECK(seen == 1 && unlinked_seen == 0);
	CHECK(!ubinder_binder_is_alive(b));
	CHECK(ubinder_binder_ping(b) == UBINDER_ERR_DEAD_OBJECT);
	CHECK(ubinder_binder_link_to_death(b, on_death, NULL) == UBINDER_ERR_DEAD_OBJECT);
	/* The service manager forgot the name. */
	for (;;) {
		ubinder_binder *again = NULL;
		int err = ubinder_sm_check_service(ctx, "test.death", &again);

		ubinder_binder_unref(again);
		if (err == UBINDER_ERR_NAME_NOT_FOUND)
			break;
		CHECK(now_ms() < deadline);
		poll(NULL, 0, 10);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void death_notification(bool event_loop)
{
	struct death_args a = { .event_loop = event_loop };
	struct service s;
	pid_t client;

	assert_int_equal(service_start(&s, "test.death", false, 0), 0);
	sync_init(&a.linked);
	client = lspawn(client_death, &a);
	assert_int_equal(sync_wait(&a.linked, 10000), 1);
	kill(s.pid, SIGKILL);
	assert_int_equal(reap(s.pid, 10000), -1);
	service_forget(&s);
	assert_int_equal(reap(client, 30000), 0);
	close(a.linked.fds[0]);
	close(a.linked.fds[1]);
	assert_daemon_quiet();
}

static void death_notification_pool(void **state)
{
	(void)state;
	death_notification(false);
}

static void death_notification_event_loop(void **state)
{
	(void)state;
	death_notification(true);
}

/* --- waiting for a service ---------------------------------------------------------------- */

struct wait_args {
	bool pool;
	struct sync started;
};

static int client_wait(void *arg)
{
	struct wait_args *a = arg;
	ubinder_context *ctx = client_open(a->pool);
	ubinder_binder *b = NULL;
	long t0;

	CHECK(ctx);
	t0 = now_ms();
	CHECK(ubinder_sm_wait_for_service(ctx, "test.never", 300, &b) == UBINDER_ERR_TIMED_OUT);
	CHECK(now_ms() - t0 >= 250 && now_ms() - t0 < 5000);
	sync_post(&a->started, 1); /* the test starts the service now */
	CHECK_OK(ubinder_sm_wait_for_service(ctx, "test.late", 10000, &b));
	CHECK_OK(ubinder_binder_ping(b));
	ubinder_binder_unref(b);
	/* Already there: at once. */
	CHECK_OK(ubinder_sm_wait_for_service(ctx, "test.late", 0, &b));
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void wait_for_service(bool pool)
{
	struct wait_args a = { .pool = pool };
	struct service s;
	pid_t client;

	sync_init(&a.started);
	client = lspawn(client_wait, &a);
	assert_int_equal(sync_wait(&a.started, 10000), 1);
	poll(NULL, 0, 200);
	assert_int_equal(service_start(&s, "test.late", false, 0), 0);
	assert_int_equal(reap(client, 30000), 0);
	assert_int_equal(service_stop(&s), 0);
	close(a.started.fds[0]);
	close(a.started.fds[1]);
	assert_daemon_quiet();
}

static void wait_for_service_pool(void **state)
{
	(void)state;
	wait_for_service(true);
}

static void wait_for_service_no_pool(void **state)
{
	(void)state;
	wait_for_service(false);
}

/* --- descriptors ----------------------------------------------------------------------------- */

static int client_fds(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	ubinder_parcel *data, *reply = NULL;
	char buf[32] = { 0 };
	int fds[2], fd;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.fds", &b));
	CHECK(pipe(fds) == 0);
	data = ts_request();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_fd(data, fds[1]));
	CHECK_OK(ubinder_binder_transact(b, TS_FD_WRITE, data, 0, NULL));
	ubinder_parcel_free(data);
	CHECK(read(fds[0], buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	close(fds[0]);
	close(fds[1]);
	CHECK_OK(ts_call_i32(b, TS_FD_GIVE, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_fd(reply, &fd));
	CHECK(read(fd, buf, sizeof(buf)) == 12 && memcmp(buf, "from service", 12) == 0);
	ubinder_parcel_free(reply); /* closes fd */
	CHECK(fcntl(fd, F_GETFD) < 0);
	/* A reply dropped unread still closes the descriptor it brought. */
	CHECK_OK(ts_call_i32(b, TS_FD_GIVE, NULL, 0, NULL));
	CHECK(fcntl(fd, F_GETFD) < 0);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void file_descriptors(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.fds", false, 0), 0);
	run_client(client_fds, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- large payloads -------------------------------------------------------------------------- */

/* The free and resident pages of this process's outbox, from the daemon. */
static void outbox_pages(long *free_pages, long *resident)
{
	char *text = ubd_admin(&lib_env.d, UBW_ADMIN_PROC, getpid(), NULL);
	const char *at = text ? strstr(text, "\n  outbox pages: ") : NULL;
	long used = -1, holes = -1;

	*free_pages = -1;
	if (at)
		sscanf(at, "\n  outbox pages: %ld:%ld:%ld", &used, free_pages, &holes);
	free(text);
	*resident = ubd_proc_stat(&lib_env.d, getpid(), "outbox resident pages");
}

static int client_large(void *arg)
{
	static const size_t sizes[] = { 65536, 200000, 900000, 900000 };
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	long local_before = ubd_stat(&lib_env.d, "copies local");

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.large", &b));
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint8_t *buf = malloc(sizes[k]);
		ubinder_parcel *data, *reply = NULL;
		const void *back;
		size_t len;

		if (k == 3) {
			long free_pages, resident;

			/* The freed parcels' outbox pages stayed resident (FREE); shrink
			 * all gives them back, and the next parcel takes them again. */
			outbox_pages(&free_pages, &resident);
			/* Free pages include the ones a parcel's capacity took and
			 * never touched: holes already. */
			CHECK(free_pages >= 200 && resident >= 200);
			free(ubd_admin(&lib_env.d, UBW_ADMIN_SHRINK, -1, NULL));
			outbox_pages(&free_pages, &resident);
			CHECK(free_pages == 0 && resident <= 1); /* the state page */
		}
		data = ts_request();

		CHECK(buf && data);
		for (size_t i = 0; i < sizes[k]; i++)
			buf[i] = (uint8_t)(i * 31 + k);
		CHECK_OK(ubinder_parcel_write_byte_array(data, buf, sizes[k]));
		CHECK_OK(ubinder_binder_transact(b, TS_BYTES, data, 0, &reply));
		CHECK_OK(ubinder_parcel_read_byte_array(reply, &back, &len));
		CHECK(len == sizes[k] && memcmp(back, buf, len) == 0);
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
		free(buf);
	}
	/* Parcels past the inline limit were built in the outbox: copied with a memcpy. */
	CHECK(ubd_stat(&lib_env.d, "copies local") > local_before);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void large_payloads(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.large", false, 0), 0);
	run_client(client_large, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/*
 * A reply that nearly fills the caller's region, freed, then the same call
 * again after about UB_FREE_DELAY_NS: the flusher may be writing the free
 * just as the next call goes out. The call must still find the space (the
 * free reaches the driver first), every time.
 */
static int client_free_then_call(void *arg)
{
	const size_t n = 900000;
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	uint8_t *buf = malloc(n);

	(void)arg;
	CHECK(ctx && buf);
	memset(buf, 0x5a, n);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.refree", &b));
	for (int k = 0; k < 150; k++) {
		ubinder_parcel *data = ts_request(), *reply = NULL;
		struct timespec pause = { 0, 1500000 + (k % 11) * 100000 };
		const void *back;
		size_t len;

		CHECK(data);
		CHECK_OK(ubinder_parcel_write_byte_array(data, buf, n));
		CHECK_OK(ubinder_binder_transact(b, TS_BYTES, data, 0, &reply));
		CHECK_OK(ubinder_parcel_read_byte_array(reply, &back, &len));
		CHECK(len == n);
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
		nanosleep(&pause, NULL);
	}
	free(buf);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void free_reaches_driver_before_next_call(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.refree", false, 0), 0);
	run_client(client_free_then_call, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/*
 * Parcels on either side of UBT_OUTBOX_MIN: below it (capacity under the
 * threshold) both the call and the reply travel inline; from it on, both
 * are built in the outbox and reach the daemon as addresses it copies with
 * one memcpy, never pushed inline, even at sizes max_inline would allow.
 */
static int client_threshold(void *arg)
{
	static const struct {
		size_t bytes;
		bool outbox;
	} cases[] = {
		{ 100, false },
		{ UBT_OUTBOX_MIN / 2 - 256, false }, /* capacity UBT_OUTBOX_MIN / 2 */
		{ UBT_OUTBOX_MIN / 2 + 256, true },  /* capacity UBT_OUTBOX_MIN */
		{ 32768, true },
		{ 65536 - 256, true }, /* below the daemon's max_inline (64 KiB) */
		{ 65536, true },
	};
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.threshold", &b));
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t n = cases[k].bytes;
		uint8_t *buf = malloc(n);
		ubinder_parcel *data = ts_request(), *reply = NULL;
		long local = ubd_stat(&lib_env.d, "copies local");
		long inl = ubd_stat(&lib_env.d, "copies inline");
		const void *back;
		size_t len;

		CHECK(buf && data);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(i * 7 + k);
		CHECK_OK(ubinder_parcel_write_byte_array(data, buf, n));
		CHECK_OK(ubinder_binder_transact(b, TS_BYTES, data, 0, &reply));
		CHECK_OK(ubinder_parcel_read_byte_array(reply, &back, &len));
		CHECK(len == n && memcmp(back, buf, len) == 0);
		if (cases[k].outbox) {
			/* The call and the reply: two memcpys, nothing inline. */
			CHECK(ubd_stat(&lib_env.d, "copies local") - local >= 2);
			CHECK(ubd_stat(&lib_env.d, "copies inline") == inl);
		} else {
			CHECK(ubd_stat(&lib_env.d, "copies local") == local);
			CHECK(ubd_stat(&lib_env.d, "copies inline") - inl >= 2);
		}
		ubinder_parcel_free(reply);
		ubinder_parcel_free(data);
		free(buf);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void outbox_threshold(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.threshold", false, 0), 0);
	run_client(client_threshold, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- an event-loop service --------------------------------------------------------------------- */

static int client_of_event_loop(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	int32_t x;
	char *s;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.loop", &b));
	for (int i = 0; i < 50; i++) {
		CHECK_OK(echo(b, i, "loop", &x, &s));
		CHECK(x == i && strcmp(s, "loop") == 0);
		free(s);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void event_loop_service(void **state)
{
	struct callback_args loop = { "test.loop", true };
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.loop", true, 0), 0);
	run_client(client_of_event_loop, NULL);
	run_client(client_oneways, "test.loop");
	run_client(client_callbacks, &loop);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
}

/* --- reference counts ---------------------------------------------------------------------- */

static int client_objects(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL, *obj[8];
	ubinder_parcel *reply;
	long deadline = now_ms() + 10000;
	int32_t x = -1;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.objects", &b));
	for (int i = 0; i < 8; i++) {
		CHECK_OK(ts_call_i32(b, TS_NEW_OBJECT, NULL, 0, &reply));
		CHECK_OK(ubinder_parcel_read_binder(reply, &obj[i]));
		ubinder_parcel_free(reply);
		CHECK(obj[i] && !ubinder_binder_is_local(obj[i]));
		CHECK_OK(ts_call_i32(obj[i], 1, NULL, 0, &reply));
		CHECK_OK(ubinder_parcel_read_int32(reply, &x));
		ubinder_parcel_free(reply);
		CHECK(x == 7);
	}
	CHECK_OK(ts_call_i32(b, TS_OBJECTS, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_int32(reply, &x));
	ubinder_parcel_free(reply);
	CHECK(x == 8);
	/* Dropping the proxies releases the objects in the service. */
	for (int i = 0; i < 8; i++)
		ubinder_binder_unref(obj[i]);
	do {
		CHECK(now_ms() < deadline);
		poll(NULL, 0, 5);
		CHECK_OK(ts_call_i32(b, TS_OBJECTS, NULL, 0, &reply));
		CHECK_OK(ubinder_parcel_read_int32(reply, &x));
		ubinder_parcel_free(reply);
	} while (x != 0);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void object_reference_counts(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.objects", false, 0), 0);
	run_client(client_objects, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
	/*
	 * Everything the test created is gone from the daemon too: once only the
	 * service manager is left, it holds no reference (it let go of every
	 * dead service) and its node is the only one.
	 */
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
	assert_int_equal(env_wait_stat(&lib_env, "ref: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "node: active", 1, 5000), 1);
}

/* --- a joined looper, stopped from a signal handler -------------------------------------- */

static ubinder_context *joined_ctx;

static void stop_joined(int sig)
{
	(void)sig;
	ubinder_context_stop(joined_ctx); /* async-signal-safe */
}

static int joined_service(void *arg)
{
	struct sync *ready = arg;
	struct sigaction sa = { .sa_handler = stop_joined, .sa_flags = SA_RESTART };
	ubinder_binder *service = NULL;

	CHECK_OK(ubinder_context_open(NULL, &joined_ctx));
	CHECK_OK(ubinder_binder_new(joined_ctx, TS_DESCRIPTOR, NULL, NULL, NULL, &service));
	CHECK_OK(ubinder_sm_add_service(joined_ctx, "test.joined", service));
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sync_post(ready, 1);
	/* Serves on this thread until the signal: then returns 0. */
	CHECK_OK(ubinder_context_join_thread_pool(joined_ctx));
	ubinder_binder_unref(service);
	ubinder_context_close(joined_ctx);
	return 0;
}

static int client_pings_joined(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, "test.joined", &b));
	for (int i = 0; i < 20; i++)
		CHECK_OK(ubinder_binder_ping(b));
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void joined_looper_stops_on_signal(void **state)
{
	struct sync ready;
	pid_t service;

	(void)state;
	sync_init(&ready);
	service = lspawn(joined_service, &ready);
	assert_int_equal(sync_wait(&ready, 10000), 1);
	run_client(client_pings_joined, NULL);
	kill(service, SIGUSR1);
	assert_int_equal(reap(service, 10000), 0);
	close(ready.fds[0]);
	close(ready.fds[1]);
	assert_daemon_quiet();
}

/* --- contexts ----------------------------------------------------------------------------------- */

static int client_close_busy(void *arg)
{
	ubinder_context *ctx;
	ubinder_binder *b = NULL, *local = NULL;
	ubinder_parcel *reply = NULL;

	(void)arg;
	/* Close with a running pool, proxies, local objects and a parcel still held. */
	ctx = client_open(true);
	CHECK(ctx);
	CHECK_OK(ubinder_context_set_max_threads(ctx, 4));
	CHECK_OK(ubinder_sm_check_service(ctx, "test.close", &b));
	CHECK_OK(ubinder_binder_new(ctx, "x", NULL, NULL, NULL, &local));
	CHECK_OK(ubinder_binder_link_to_death(b, on_death, NULL));
	CHECK_OK(ts_call_i32(b, TS_WHO, NULL, 0, &reply));
	ubinder_context_close(ctx);
	/* Still valid memory; calls say the context is closed. */
	CHECK(ubinder_binder_ping(b) == UBINDER_ERR_CLOSED);
	CHECK(ubinder_binder_ping(local) == UBINDER_ERR_CLOSED);
	CHECK(!ubinder_binder_is_alive(b));
	ubinder_parcel_free(reply);
	ubinder_binder_unref(b);
	ubinder_binder_unref(local);
	/* Open and close again, many times. */
	for (int i = 0; i < 20; i++) {
		ctx = client_open(i % 2 == 0);
		CHECK(ctx);
		CHECK_OK(ubinder_sm_check_service(ctx, "test.close", &b));
		CHECK_OK(ubinder_binder_ping(b));
		ubinder_binder_unref(b);
		ubinder_context_close(ctx);
	}
	return 0;
}

static void close_with_everything_held(void **state)
{
	struct service s;

	(void)state;
	assert_int_equal(service_start(&s, "test.close", false, 0), 0);
	run_client(client_close_busy, NULL);
	assert_int_equal(service_stop(&s), 0);
	assert_daemon_quiet();
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1); /* the service manager */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(calls_and_identity),
		cmocka_unit_test(open_errors),
		cmocka_unit_test(default_transactions),
		cmocka_unit_test(oneway_in_order),
		cmocka_unit_test(callbacks_nested_and_oneway),
		cmocka_unit_test(death_notification_pool),
		cmocka_unit_test(death_notification_event_loop),
		cmocka_unit_test(wait_for_service_pool),
		cmocka_unit_test(wait_for_service_no_pool),
		cmocka_unit_test(file_descriptors),
		cmocka_unit_test(large_payloads),
		cmocka_unit_test(free_reaches_driver_before_next_call),
		cmocka_unit_test(outbox_threshold),
		cmocka_unit_test(event_loop_service),
		cmocka_unit_test(object_reference_counts),
		cmocka_unit_test(joined_looper_stops_on_signal),
		cmocka_unit_test(close_with_everything_held),
	};

	return cmocka_run_group_tests(tests, lib_env_setup, lib_env_teardown);
}
