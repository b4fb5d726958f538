/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib-test.h"

struct lib_env lib_env;

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sm_ready(void)
{
	ubinder_context *ctx;
	ubinder_binder *sm = NULL;
	int err = ubinder_context_open(NULL, &ctx);

	if (err)
		return err;
	err = ubinder_sm_get(ctx, &sm);
	ubinder_binder_unref(sm);
	ubinder_context_close(ctx);
	return err;
}

static int sm_ready_child(void *arg)
{
	(void)arg;
	for (int i = 0; i < 500; i++) {
		if (sm_ready() == 0)
			return 0;
		poll(NULL, 0, 10);
	}
	return 1;
}

/* Provided by the sanitizer runtime when there is one. */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

struct trampoline {
	int (*fn)(void *arg);
	void *arg;
};

static int run_checked(void *arg)
{
	struct trampoline *t = arg;
	int status = t->fn(t->arg);

	if (__lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) {
		fprintf(stderr, "leaks in the child (pid %d)\n", getpid());
		status = status ? status : 3;
	}
	return status;
}

pid_t lspawn(int (*fn)(void *arg), void *arg)
{
	struct trampoline t = { fn, arg }; /* the child has its own copy */

	return spawn(run_checked, &t);
}

int env_start(struct lib_env *e)
{
	return env_start_args(e, NULL);
}

int env_start_args(struct lib_env *e, const char *const *sm_args)
{
	const char *sm = getenv("UBINDER_SERVICEMANAGER");

	memset(e, 0, sizeof(*e));
	if (!sm || ubd_start(&e->d, NULL))
		return -1;
	setenv("UBINDER_SOCKET", e->d.sock, 1);
	e->sm = fork();
	if (e->sm < 0)
		goto fail;
	if (e->sm == 0) {
		const char *argv[16] = { sm, "--socket", e->d.sock };
		size_t n = 3;

		for (; sm_args && *sm_args && n < 15; sm_args++)
			argv[n++] = *sm_args;
		execv(sm, (char *const *)argv);
		_exit(127);
	}
	/* Ready when handle 0 answers (checked from a child: no context here). */
	if (reap(spawn(sm_ready_child, NULL), 10000) != 0)
		goto fail;
	return 0;
fail:
	env_stop(e);
	return -1;
}

int env_stop(struct lib_env *e)
{
	int status = 0;

	if (e->sm > 0) {
		kill(e->sm, SIGTERM);
		status = reap(e->sm, 5000);
		e->sm = 0;
	}
	if (ubd_stop(&e->d) != 0)
		status = -1;
	return status;
}

long env_wait_stat(struct lib_env *e, const char *key, long value, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms, v;

	for (;;) {
		v = ubd_stat(&e->d, key);
		if (v == value || now_ms() >= deadline)
			return v;
		poll(NULL, 0, 10);
	}
}

int lib_env_setup(void **state)
{
	(void)state;
	return env_start(&lib_env);
}

int lib_env_teardown(void **state)
{
	(void)state;
	return env_stop(&lib_env);
}

int service_start(struct service *s, const char *name, bool event_loop, unsigned int threads)
{
	memset(s, 0, sizeof(*s));
	sync_init(&s->ready);
	sync_init(&s->stop);
	sync_init(&s->blocked);
	s->opts.name = name;
	s->opts.event_loop = event_loop;
	s->opts.threads = threads;
	s->opts.ready = &s->ready;
	s->opts.stop = &s->stop;
	s->opts.blocked = &s->blocked;
	s->pid = lspawn(test_service_main, &s->opts);
	return s->pid > 0 && sync_wait(&s->ready, 10000) == 1 ? 0 : -1;
}

void service_forget(struct service *s)
{
	close(s->ready.fds[0]);
	close(s->ready.fds[1]);
	close(s->stop.fds[0]);
	close(s->stop.fds[1]);
	close(s->blocked.fds[0]);
	close(s->blocked.fds[1]);
}

int service_stop(struct service *s)
{
	int status;

	sync_post(&s->stop, 1);
	status = reap(s->pid, 20000);
	service_forget(s);
	return status;
}

int ts_call_i32(ubinder_binder *b, uint32_t code, const int32_t *arg, uint32_t flags,
		ubinder_parcel **reply)
{
	ubinder_parcel *data = ts_request();
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err && arg)
		err = ubinder_parcel_write_int32(data, *arg);
	if (!err)
		err = ubinder_binder_transact(b, code, data, flags, reply);
	ubinder_parcel_free(data);
	return err;
}

ubinder_context *client_open(bool pool)
{
	ubinder_context *ctx;
	int err = ubinder_context_open(NULL, &ctx);

	if (!err && pool)
		err = ubinder_context_start_thread_pool(ctx);
	if (err) {
		fprintf(stderr, "client_open: %s\n", ubinder_status_name(err));
		return NULL;
	}
	return ctx;
}

ubinder_parcel *ts_request(void)
{
	ubinder_parcel *p = ubinder_parcel_new();

	if (p && ubinder_parcel_write_interface_token(p, TS_DESCRIPTOR)) {
		ubinder_parcel_free(p);
		return NULL;
	}
	return p;
}

/* --- the test service ----------------------------------------------------------------- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int32_t oneways, next_seq;
static bool in_order = true;
static bool unblocked;
/* The service's test_service_opts.blocked (its handler has no userdata). */
static struct sync *block_entered;
static ubinder_binder *stored[64];
static size_t nstored;
static atomic_int objects_alive;
static int32_t barrier_arrived;

static void object_gone(void *userdata)
{
	(void)userdata;
	atomic_fetch_sub(&objects_alive, 1);
}

static int object_handler(ubinder_binder *self, const struct ubinder_call *call,
			  ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	(void)self;
	(void)data;
	(void)userdata;
	if (call->code != 1 || !reply)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	return ubinder_parcel_write_int32(reply, 7);
}

static int call_back(ubinder_binder *cb, uint32_t code, int32_t x, uint32_t flags, int32_t *out)
{
	ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;
	int err = data ? ubinder_parcel_write_int32(data, x) : UBINDER_ERR_NO_MEMORY;

	if (!err)
		err = ubinder_binder_transact(cb, code, data, flags, out ? &reply : NULL);
	if (!err && out)
		err = ubinder_parcel_read_int32(reply, out);
	ubinder_parcel_free(reply);
	ubinder_parcel_free(data);
	return err;
}

static int handle(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		  ubinder_parcel *reply, void *userdata)
{
	ubinder_binder *b = NULL;
	int32_t x = 0;
	char *s = NULL;
	int err, fd;

	(void)self;
	(void)userdata;
	err = ubinder_parcel_enforce_interface(data, TS_DESCRIPTOR);
	if (err)
		return err;
	switch (call->code) {
	case TS_ECHO:
		err = ubinder_parcel_read_int32(data, &x);
		if (!err)
			err = ubinder_parcel_read_string16_utf8(data, &s);
		if (!err)
			err = ubinder_parcel_write_int32(reply, x);
		if (!err)
			err = ubinder_parcel_write_string16_utf8(reply, s);
		free(s);
		return err;
	case TS_WHO:
		err = ubinder_parcel_write_int32(reply, call->sender_pid);
		return err ? err : ubinder_parcel_write_int32(reply, (int32_t)call->sender_euid);
	case TS_ONEWAY:
		if (reply || call->sender_pid != 0)
			in_order = false; /* must arrive oneway, with no sender pid */
		err = ubinder_parcel_read_int32(data, &x);
		pthread_mutex_lock(&lock);
		if (err || x != next_seq)
			in_order = false;
		next_seq = x + 1;
		oneways++;
		pthread_mutex_unlock(&lock);
		return 0;
	case TS_COUNT:
		pthread_mutex_lock(&lock);
		err = ubinder_parcel_write_int32(reply, oneways);
		if (!err)
			err = ubinder_parcel_write_bool(reply, in_order);
		pthread_mutex_unlock(&lock);
		return err;
	case TS_CALLBACK_SYNC:
		err = ubinder_parcel_read_binder(data, &b);
		if (!err)
			err = ubinder_parcel_read_int32(data, &x);
		if (!err && !b)
			err = UBINDER_ERR_UNEXPECTED_NULL;
		if (!err)
			err = call_back(b, 1, x, 0, &x);
		if (!err)
			err = ubinder_parcel_write_int32(reply, x);
		ubinder_binder_unref(b);
		return err;
	case TS_CALLBACK_STORE:
		err = ubinder_parcel_read_binder(data, &b);
		if (!err && !b)
			err = UBINDER_ERR_UNEXPECTED_NULL;
		pthread_mutex_lock(&lock);
		if (!err && nstored < 64)
			stored[nstored++] = b;
		else
			ubinder_binder_unref(b);
		pthread_mutex_unlock(&lock);
		return err;
	case TS_CALLBACK_FIRE: {
		ubinder_binder *targets[64];
		size_t n;

		err = ubinder_parcel_read_int32(data, &x);
		pthread_mutex_lock(&lock);
		n = nstored;
		for (size_t i = 0; i < n; i++)
			targets[i] = ubinder_binder_ref(stored[i]);
		pthread_mutex_unlock(&lock);
		for (size_t i = 0; i < n; i++) {
			(void)call_back(targets[i], 2, x, UBINDER_FLAG_ONEWAY, NULL);
			ubinder_binder_unref(targets[i]);
		}
		return err;
	}
	case TS_FD_WRITE:
		err = ubinder_parcel_read_fd(data, &fd);
		if (!err && write(fd, "hello", 5) != 5)
			err = UBINDER_ERR_BAD_VALUE;
		return err;
	case TS_FD_GIVE: {
		int fds[2];

		if (pipe(fds) < 0)
			return UBINDER_ERR_NO_MEMORY;
		if (write(fds[1], "from service", 12) != 12)
			err = UBINDER_ERR_BAD_VALUE;
		if (!err)
			err = ubinder_parcel_write_fd(reply, fds[0]);
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	case TS_STATUS:
		err = ubinder_parcel_read_int32(data, &x);
		return err ? err : x;
	case TS_BLOCK: {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		if (block_entered)
			sync_post(block_entered, 1);
		pthread_mutex_lock(&lock);
		while (!unblocked && pthread_cond_timedwait(&cond, &lock, &deadline) == 0)
			;
		x = unblocked;
		unblocked = false;
		pthread_mutex_unlock(&lock);
		return ubinder_parcel_write_int32(reply, x);
	}
	case TS_UNBLOCK:
		pthread_mutex_lock(&lock);
		unblocked = true;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
		return 0;
	case TS_NEW_OBJECT:
		err = ubinder_binder_new(ubinder_binder_get_context(self), "org.ubinder.test.IObj",
					 object_handler, NULL, object_gone, &b);
		if (!err) {
			atomic_fetch_add(&objects_alive, 1);
			err = ubinder_parcel_write_binder(reply, b);
			ubinder_binder_unref(b);
		}
		return err;
	case TS_BARRIER: {
		struct timespec deadline;

		err = ubinder_parcel_read_int32(data, &x);
		if (err)
			return err;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 10;
		if (block_entered)
			sync_post(block_entered, 1);
		pthread_mutex_lock(&lock);
		barrier_arrived++;
		pthread_cond_broadcast(&cond);
		while (barrier_arrived < x && pthread_cond_timedwait(&cond, &lock, &deadline) == 0)
			;
		x = barrier_arrived >= x;
		pthread_mutex_unlock(&lock);
		return ubinder_parcel_write_bool(reply, x);
	}
	case TS_BYTES: {
		const void *bytes;
		size_t len;

		err = ubinder_parcel_read_byte_array(data, &bytes, &len);
		return err ? err : ubinder_parcel_write_byte_array(reply, bytes, len);
	}
	case TS_OBJECTS:
		return ubinder_parcel_write_int32(reply, atomic_load(&objects_alive));
	default:
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	}
}

int test_service_main(void *arg)
{
	struct test_service_opts *o = arg;
	ubinder_context *ctx = NULL;
	ubinder_binder *service;

	block_entered = o->blocked;
	CHECK_OK(ubinder_context_open(NULL, &ctx));
	CHECK_OK(ubinder_binder_new(ctx, TS_DESCRIPTOR, handle, NULL, NULL, &service));
	if (!o->event_loop) {
		if (o->threads)
			CHECK_OK(ubinder_context_set_max_threads(ctx, o->threads));
		CHECK_OK(ubinder_context_start_thread_pool(ctx));
	}
	CHECK_OK(ubinder_sm_add_service(ctx, o->name, service));
	if (o->ready)
		sync_post(o->ready, 1);
	if (o->event_loop) {
		struct pollfd pfd[2] = {
			{ .fd = ubinder_context_get_fd(ctx), .events = POLLIN },
			{ .fd = o->stop->fds[0], .events = POLLIN },
		};

		while (poll(pfd, 2, 60000) > 0 && !pfd[1].revents)
			CHECK_OK(ubinder_context_process(ctx));
	} else {
		sync_wait(o->stop, 60000);
	}
	ubinder_binder_unref(service);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nstored; i++)
		ubinder_binder_unref(stored[i]);
	nstored = 0;
	pthread_mutex_unlock(&lock);
	ubinder_context_close(ctx);
	return 0;
}
