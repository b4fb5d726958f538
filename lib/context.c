/* SPDX-License-Identifier: MIT */
/*
 * Contexts (Binder processes), the per-thread connections, the
 * BINDER_WRITE_READ round trip and the loopers.
 *
 * Thread states: each thread that uses a context gets a struct
 * ubinder_thread, found through the context's pthread key, listed in
 * ctx->threads, and freed by the key's destructor when the thread exits.
 * ubinder_context_close() closes the connections of the threads still
 * alive and moves their states to a global orphan list: it cannot free
 * them, because a thread may be exiting at that moment with its destructor
 * about to run. registry_lock orders the two.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "context.h"
#include "ipc.h"
#include "object.h"
#include "outbox.h"
#include "status.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, ubinder_thread) orphans = LIST_HEAD_INITIALIZER(orphans);

/* --- context lifetime ---------------------------------------------------------- */

void ctx_ref(struct ubinder_context *ctx)
{
	atomic_fetch_add(&ctx->refs, 1);
}

void ctx_unref(struct ubinder_context *ctx)
{
	if (atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	if (ctx->map)
		munmap(ctx->map, ctx->map_size);
	pthread_cond_destroy(&ctx->flusher_cond);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->deferred);
	free(ctx);
}

bool region_contains(const struct ubinder_context *ctx, uint64_t ptr, uint64_t len)
{
	uint64_t base = (uint64_t)(uintptr_t)ctx->map;

	return ctx->map && ptr >= base && len <= ctx->map_size && ptr - base <= ctx->map_size - len;
}

/* --- thread states ----------------------------------------------------------------- */

bool thread_reply_done(struct ubinder_thread *ts)
{
	struct held_reply *h = ts->held;

	if (!h)
		return false;
	ts->held = h->next;
	if (!ts->held)
		ts->held_tail = &ts->held;
	ts->nest++; /* what freeing it queues goes with the next command */
	ubinder_parcel_free(h->parcel);
	ts->nest--;
	free(h);
	return true;
}

static void thread_free(struct ubinder_thread *ts)
{
	while (thread_reply_done(ts))
		;
	ubt_thread_close(&ts->conn);
	free(ts->out);
	free(ts);
}

/* Frees an orphaned state (its context closed); under registry_lock. Its
 * connection may be closed already: ubt_thread_close() is idempotent. */
static void orphan_free(struct ubinder_thread *ts)
{
	LIST_REMOVE(ts, entry);
	thread_free(ts);
}

/* Thread exit (the key's destructor): send what is queued, close the connection. */
static void thread_exit(void *arg)
{
	struct ubinder_thread *ts = arg;
	struct ubinder_context *ctx = ts->ctx;

	pthread_mutex_lock(&registry_lock);
	if (ts->orphaned) {
		orphan_free(ts);
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	pthread_mutex_lock(&ctx->lock);
	LIST_REMOVE(ts, entry);
	pthread_mutex_unlock(&ctx->lock);
	if (!ts->broken) {
		ts->nest++; /* write only: no handler runs in a thread's destructor */
		(void)thread_flush(ts);
	}
	thread_free(ts);
	pthread_mutex_unlock(&registry_lock);
}

int thread_get(struct ubinder_context *ctx, struct ubinder_thread **out)
{
	struct ubinder_thread *ts = pthread_getspecific(ctx->key);
	int err;

	if (ts) {
		*out = ts;
		return ts->broken ? UBINDER_ERR_DISCONNECTED : 0;
	}
	if (atomic_load(&ctx->closed))
		return UBINDER_ERR_CLOSED;
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return UBINDER_ERR_NO_MEMORY;
	ts->ctx = ctx;
	ts->txn_at = SIZE_MAX;
	ts->held_tail = &ts->held;
	ts->out_cap = UB_OUT_MIN;
	ts->out = malloc(ts->out_cap);
	if (!ts->out) {
		free(ts);
		return UBINDER_ERR_NO_MEMORY;
	}
	err = ubt_thread_open(&ts->conn, &ctx->session);
	if (err) {
		free(ts->out);
		free(ts);
		return status_from_errno(err);
	}
	pthread_mutex_lock(&ctx->lock);
	if (atomic_load(&ctx->closed)) {
		pthread_mutex_unlock(&ctx->lock);
		thread_free(ts);
		return UBINDER_ERR_CLOSED;
	}
	LIST_INSERT_HEAD(&ctx->threads, ts, entry);
	err = pthread_setspecific(ctx->key, ts);
	if (err)
		LIST_REMOVE(ts, entry);
	pthread_mutex_unlock(&ctx->lock);
	if (err) {
		thread_free(ts);
		return UBINDER_ERR_NO_MEMORY;
	}
	*out = ts;
	return 0;
}

/* A thread of ours (pool, or a joined one after close) lets go of its state. */
static void thread_release_self(struct ubinder_thread *ts)
{
	struct ubinder_context *ctx = ts->ctx;

	pthread_mutex_lock(&registry_lock);
	if (ts->orphaned) {
		orphan_free(ts);
	} else {
		/* close() has not reached the thread list: the key is still valid. */
		pthread_mutex_lock(&ctx->lock);
		LIST_REMOVE(ts, entry);
		(void)pthread_setspecific(ctx->key, NULL);
		pthread_mutex_unlock(&ctx->lock);
		thread_free(ts);
	}
	pthread_mutex_unlock(&registry_lock);
}

/* --- the command stream ------------------------------------------------------------ */

/* Makes room for @need more bytes in the write buffer; false if it cannot grow. */
static bool out_grow(struct ubinder_thread *ts, size_t need)
{
	size_t cap = ts->out_cap;
	uint8_t *out;

	if (ts->out_len + need <= cap)
		return true;
	while (cap < ts->out_len + need)
		cap *= 2;
	out = realloc(ts->out, cap);
	if (!out)
		return false;
	ts->out = out;
	ts->out_cap = cap;
	return true;
}

void out_cmd(struct ubinder_thread *ts, uint32_t cmd, const void *arg, size_t size)
{
	size_t need = sizeof(cmd) + size;

	if (!out_grow(ts, need)) {
		(void)thread_flush(ts);
		if (ts->out_len + need > ts->out_cap) {
			ub_log("command %#x dropped: out of memory", cmd);
			return;
		}
	}
	memcpy(ts->out + ts->out_len, &cmd, sizeof(cmd));
	if (size)
		memcpy(ts->out + ts->out_len + sizeof(cmd), arg, size);
	ts->out_len += need;
	if (cmd == BC_FREE_BUFFER)
		ts->queued_frees++;
}

/* The driver consumed @n bytes of the write buffer. */
static void out_consumed(struct ubinder_thread *ts, size_t n)
{
	if (n == 0)
		return;
	if (n >= ts->out_len) {
		ts->out_len = 0;
		ts->txn_at = SIZE_MAX;
		ts->acquires_queued = false;
		ts->queued_frees = 0;
		return;
	}
	memmove(ts->out, ts->out + n, ts->out_len - n);
	ts->out_len -= n;
	if (ts->txn_at != SIZE_MAX)
		ts->txn_at = ts->txn_at < n ? SIZE_MAX : ts->txn_at - n;
}

static int64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Moves the context's deferred frees into this thread's write buffer. */
static void drain_deferred(struct ubinder_thread *ts)
{
	struct ubinder_context *ctx = ts->ctx;
	const size_t each = sizeof(uint32_t) + sizeof(uint64_t);
	size_t n, room;

	pthread_mutex_lock(&ctx->lock);
	n = ctx->ndeferred;
	(void)out_grow(ts, n * each); /* else as many as fit */
	room = (ts->out_cap - ts->out_len) / each;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++) {
		uint32_t cmd = BC_FREE_BUFFER;

		memcpy(ts->out + ts->out_len, &cmd, sizeof(cmd));
		memcpy(ts->out + ts->out_len + sizeof(cmd), &ctx->deferred[i], sizeof(uint64_t));
		ts->out_len += each;
	}
	memmove(ctx->deferred, ctx->deferred + n, (ctx->ndeferred - n) * sizeof(uint64_t));
	ctx->ndeferred -= n;
	ctx->deferred_since = monotonic_ns();
	atomic_store(&ctx->deferred_hint, ctx->ndeferred);
	pthread_mutex_unlock(&ctx->lock);
}

int thread_talk(struct ubinder_thread *ts, bool read, bool nonblock)
{
	return thread_talk_flags(ts, read, nonblock ? UBT_NONBLOCK : 0);
}

int thread_talk_flags(struct ubinder_thread *ts, bool read, unsigned int flags)
{
	struct ubinder_context *ctx = ts->ctx;
	struct binder_write_read bwr = { 0 };
	bool need_read = read && ts->in_pos >= ts->in_len;
	int err;

	if (ts->broken)
		return atomic_load(&ctx->closed) ? UBINDER_ERR_CLOSED : UBINDER_ERR_DISCONNECTED;
	if (atomic_load(&ctx->deferred_hint))
		drain_deferred(ts);
	if (!need_read && ts->out_len == 0)
		return 0;
	bwr.write_buffer = (uintptr_t)ts->out;
	bwr.write_size = ts->out_len;
	if (need_read) {
		bwr.read_buffer = (uintptr_t)ts->in;
		bwr.read_size = sizeof(ts->in);
	}
	for (;;) {
		err = ubt_write_read_flags(&ts->conn, &ctx->session, &bwr, flags);
		if (err != -EINTR)
			break;
		/* As libbinder: a signal does not end the wait, except a stop. */
		if (ts->joined && atomic_load(&ctx->stop))
			break;
	}
	out_consumed(ts, bwr.write_consumed);
	if (need_read) {
		ts->in_len = bwr.read_consumed;
		ts->in_pos = 0;
	}
	if (err == -EBADF || err == -ECONNRESET) {
		/* No outcome will ever come for what we sent. */
		while (thread_reply_done(ts))
			;
	}
	switch (err) {
	case 0:
		return 0;
	case -EINTR:
		return UBINDER_ERR_WOULD_BLOCK;
	case -EAGAIN:
		return UBINDER_ERR_WOULD_BLOCK;
	case -EINVAL:
	case -EFAULT:
		/* The driver refused a command of ours: drop the rest rather than loop. */
		ub_log("BINDER_WRITE_READ: %s; %zu bytes of commands dropped", strerror(-err),
		       ts->out_len);
		out_consumed(ts, ts->out_len);
		return UBINDER_ERR_PROTOCOL;
	default:
		err = status_from_errno(err);
		if (err == UBINDER_ERR_DISCONNECTED) {
			ts->broken = true;
			if (atomic_load(&ctx->closed))
				err = UBINDER_ERR_CLOSED;
		}
		return err;
	}
}

int thread_flush(struct ubinder_thread *ts)
{
	for (int tries = 0; ts->out_len && tries < 4; tries++) {
		size_t before = ts->out_len;
		/*
		 * Write and, on a looper (which may be polling), take back at once
		 * what the commands produced for this thread
		 * (BR_CLEAR_DEATH_NOTIFICATION_DONE, ...), so that nothing sits in its
		 * queue while it does not read. Other threads read theirs with their
		 * next call: a read with nothing to wait for is not theirs to do.
		 */
		int err = thread_talk(ts, ts->nest == 0 && ts->looper, true);

		if (err && err != UBINDER_ERR_WOULD_BLOCK)
			return err;
		if (ts->nest == 0 && ts->in_pos < ts->in_len)
			ipc_process_input(ts);
		if (ts->out_len == before && ts->nest > 0)
			break;
	}
	return 0;
}

void thread_flush_if_idle(struct ubinder_thread *ts)
{
	if (!ts->serving && ts->nest == 0)
		(void)thread_flush(ts);
}

/* Sends the deferred frees nobody else sent in time. */
static void *flusher_main(void *arg)
{
	struct ubinder_context *ctx = arg;
	struct ubinder_thread *ts = NULL;

	pthread_setname_np(pthread_self(), "ubinder:flush");
	pthread_mutex_lock(&ctx->lock);
	while (!atomic_load(&ctx->closed)) {
		int64_t deadline = ctx->deferred_since + UB_FREE_DELAY_NS;

		if (ctx->ndeferred == 0) {
			ctx->flusher_idle = true;
			pthread_cond_wait(&ctx->flusher_cond, &ctx->lock);
			ctx->flusher_idle = false;
		} else if (monotonic_ns() < deadline) {
			struct timespec t = { .tv_sec = deadline / 1000000000,
					      .tv_nsec = deadline % 1000000000 };

			pthread_cond_timedwait(&ctx->flusher_cond, &ctx->lock, &t);
		} else {
			pthread_mutex_unlock(&ctx->lock);
			if (ts || thread_get(ctx, &ts) == 0) {
				drain_deferred(ts);
				(void)thread_flush(ts);
			}
			pthread_mutex_lock(&ctx->lock);
			if (!ts)
				break;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (ts)
		thread_release_self(ts);
	return NULL;
}

/* Starts the flusher; under ctx->lock. */
static int flusher_start(struct ubinder_context *ctx)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&ctx->flusher, NULL, flusher_main, ctx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err)
		ctx->flusher_started = true;
	return err;
}

void thread_free_buffer(struct ubinder_thread *ts, uint64_t buffer)
{
	struct ubinder_context *ctx = ts->ctx;
	bool deferred = false;

	/*
	 * A serving thread (pool, joined, or inside processing) sends its frees
	 * with its next command, which comes soon: the BC_REPLY, the next read.
	 * Any other thread may not call again for a long time: its frees go to
	 * the context's queue, which the next command of any thread carries, or
	 * else the flusher within UB_FREE_DELAY_NS. (libbinder writes them at
	 * once from such threads, which costs us a round trip to the daemon.)
	 */
	if (!ts->serving && ts->nest == 0) {
		pthread_mutex_lock(&ctx->lock);
		if (ctx->ndeferred == ctx->deferred_cap) {
			size_t cap = ctx->deferred_cap ? ctx->deferred_cap * 2 : 16;
			uint64_t *d = realloc(ctx->deferred, cap * sizeof(*d));

			if (d) {
				ctx->deferred = d;
				ctx->deferred_cap = cap;
			}
		}
		if (ctx->ndeferred < ctx->deferred_cap &&
		    (ctx->flusher_started || flusher_start(ctx) == 0)) {
			if (ctx->ndeferred == 0)
				ctx->deferred_since = monotonic_ns();
			ctx->deferred[ctx->ndeferred++] = buffer;
			atomic_store(&ctx->deferred_hint, ctx->ndeferred);
			if (ctx->flusher_idle)
				pthread_cond_signal(&ctx->flusher_cond);
			deferred = true;
		}
		pthread_mutex_unlock(&ctx->lock);
		if (deferred)
			return;
	}
	out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
	if (!ts->serving && ts->nest == 0)
		(void)thread_flush(ts);
}

/* --- contexts ---------------------------------------------------------------------- */

int ubinder_default_socket(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];

	if (!name || !name[0] || strchr(name, '/') || !buf)
		return UBINDER_ERR_BAD_VALUE;
	ubt_default_socket(name, path, sizeof(path));
	if (strlen(path) >= size)
		return UBINDER_ERR_BAD_INDEX;
	strcpy(buf, path);
	return 0;
}

int ubinder_context_open(const char *socket, ubinder_context **out)
{
	struct ubinder_context *ctx;
	struct ubinder_thread *ts;
	struct binder_version version = { 0 };
	char path[PATH_MAX];
	int err;

	if (!out)
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	if (!socket || !socket[0]) {
		const char *env = getenv("UBINDER_SOCKET");

		if (env && env[0])
			snprintf(path, sizeof(path), "%s", env);
		else
			ubt_default_socket("binder", path, sizeof(path));
	} else {
		snprintf(path, sizeof(path), "%s", socket);
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return UBINDER_ERR_NO_MEMORY;
	pthread_mutex_init(&ctx->lock, NULL);
	{
		pthread_condattr_t attr;

		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&ctx->flusher_cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	atomic_init(&ctx->refs, 1);
	LIST_INIT(&ctx->threads);
	ctx->next_id = 1;
	ctx->max_threads = UB_DEFAULT_MAX_THREADS;
	err = pthread_key_create(&ctx->key, thread_exit);
	if (err) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return UBINDER_ERR_NO_MEMORY;
	}
	err = ubt_session_open(&ctx->session, path, true, true, &ubt_libc);
	if (err) {
		pthread_key_delete(ctx->key);
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return status_from_errno(err);
	}
	err = thread_get(ctx, &ts);
	if (!err)
		err = status_from_errno(
			ubt_ioctl(&ts->conn, &ctx->session, BINDER_VERSION, &version));
	if (!err && version.protocol_version != BINDER_CURRENT_PROTOCOL_VERSION)
		err = UBINDER_ERR_PROTOCOL;
	if (!err) {
		err = status_from_errno(
			ubt_mmap(&ts->conn, NULL, UB_REGION_SIZE, false, &ctx->map));
		if (!err)
			ctx->map_size = UB_REGION_SIZE;
	}
	if (!err) {
		ctx->outbox = outbox_new(ts, UB_OUTBOX_SIZE);
		if (ctx->outbox)
			outbox_publish(ctx->outbox);
	}
	if (err) {
		ubinder_context_close(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}

size_t ubinder_context_get_region_size(const ubinder_context *ctx)
{
	return ctx->map_size;
}

static void join_pool(struct ubinder_context *ctx)
{
	struct pool_thread *pt;

	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		pt = ctx->pool;
		if (pt)
			ctx->pool = pt->next;
		pthread_mutex_unlock(&ctx->lock);
		if (!pt)
			break;
		if (pthread_equal(pt->tid, pthread_self()))
			pthread_detach(
				pt->tid); /* closed from a pool thread: misuse, but no deadlock */
		else
			pthread_join(pt->tid, NULL);
		free(pt);
	}
}

void ubinder_context_close(ubinder_context *ctx)
{
	struct ubinder_thread *ts, *self;

	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	atomic_store(&ctx->closed, true);
	pthread_cond_broadcast(&ctx->flusher_cond);
	pthread_mutex_unlock(&ctx->lock);
	/* As closing the device: the driver releases the process, blocked reads return. */
	ubt_session_close(&ctx->session);
	if (ctx->outbox) {
		/* Parcels still built in it keep it mapped. */
		outbox_retire(ctx->outbox);
		outbox_unref(ctx->outbox);
		ctx->outbox = NULL;
	}
	join_pool(ctx);
	if (ctx->flusher_started && !pthread_equal(ctx->flusher, pthread_self()))
		pthread_join(ctx->flusher, NULL);

	pthread_mutex_lock(&registry_lock);
	self = pthread_getspecific(ctx->key);
	pthread_key_delete(ctx->key);
	pthread_mutex_lock(&ctx->lock);
	while ((ts = LIST_FIRST(&ctx->threads)) != NULL) {
		LIST_REMOVE(ts, entry);
		if (ts == self) {
			thread_free(ts);
			continue;
		}
		ts->orphaned = true;
		if (atomic_load(&ts->joined)) {
			/* That thread is in a read: wake it; it frees its state itself. */
			shutdown(ts->conn.sock, SHUT_RDWR);
		} else {
			ubt_thread_close(&ts->conn);
			free(ts->out);
			ts->out = NULL;
		}
		LIST_INSERT_HEAD(&orphans, ts, entry);
	}
	pthread_mutex_unlock(&ctx->lock);
	pthread_mutex_unlock(&registry_lock);

	object_context_closed(ctx);
	ctx_unref(ctx);
}

/* --- threads and loopers -------------------------------------------------------------- */

int ubinder_context_set_max_threads(ubinder_context *ctx, unsigned int max_threads)
{
	struct ubinder_thread *ts;
	bool started;
	int err;

	pthread_mutex_lock(&ctx->lock);
	ctx->max_threads = max_threads;
	started = ctx->pool_started;
	pthread_mutex_unlock(&ctx->lock);
	if (!started)
		return 0;
	err = thread_get(ctx, &ts);
	if (err)
		return err;
	return status_from_errno(
		ubt_ioctl(&ts->conn, &ctx->session, BINDER_SET_MAX_THREADS, &max_threads));
}

/* Serves until the context closes (or, for a joined thread, a stop). */
static int looper_run(struct ubinder_thread *ts)
{
	struct ubinder_context *ctx = ts->ctx;
	int err = 0;

	for (;;) {
		if (atomic_load(&ctx->closed))
			return 0;
		if (ts->joined && atomic_load(&ctx->stop))
			return 0;
		/* Waits for incoming work only: a reply's completion may wait with it. */
		err = thread_talk_flags(ts, true, UBT_HOLD_COMPLETE);
		if (err == UBINDER_ERR_WOULD_BLOCK)
			continue;
		if (err)
			return atomic_load(&ctx->closed) ? 0 : err;
		ipc_process_input(ts);
	}
}

struct pool_start {
	struct ubinder_context *ctx;
	bool main;
};

static void *pool_main(void *arg)
{
	struct pool_start start = *(struct pool_start *)arg;
	struct ubinder_thread *ts;
	char name[16];
	static atomic_uint seq;

	free(arg);
	snprintf(name, sizeof(name), "ubinder:%u", atomic_fetch_add(&seq, 1));
	pthread_setname_np(pthread_self(), name);
	if (thread_get(start.ctx, &ts))
		return NULL;
	ts->pool = true;
	ts->serving = true;
	ts->looper = true;
	out_cmd(ts, start.main ? BC_ENTER_LOOPER : BC_REGISTER_LOOPER, NULL, 0);
	(void)looper_run(ts);
	thread_release_self(ts);
	return NULL;
}

/* Starts a pool thread with every signal blocked (they belong to the program). */
static int pool_start_thread(struct ubinder_context *ctx, bool main)
{
	struct pool_start *start = malloc(sizeof(*start));
	struct pool_thread *pt = malloc(sizeof(*pt));
	sigset_t all, old;
	int err;

	if (!start || !pt) {
		free(start);
		free(pt);
		return UBINDER_ERR_NO_MEMORY;
	}
	start->ctx = ctx;
	start->main = main;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&ctx->lock);
	if (atomic_load(&ctx->closed)) {
		err = EINVAL;
	} else {
		err = pthread_create(&pt->tid, NULL, pool_main, start);
		if (!err) {
			pt->next = ctx->pool;
			ctx->pool = pt;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(start);
		free(pt);
		return err == EINVAL ? UBINDER_ERR_CLOSED : UBINDER_ERR_NO_MEMORY;
	}
	return 0;
}

void pool_spawn(struct ubinder_context *ctx)
{
	bool spawn;

	pthread_mutex_lock(&ctx->lock);
	spawn = ctx->pool_started && ctx->pool_threads < ctx->max_threads;
	if (spawn)
		ctx->pool_threads++;
	pthread_mutex_unlock(&ctx->lock);
	if (spawn && pool_start_thread(ctx, false) && !atomic_load(&ctx->closed))
		ub_log("cannot start a pool thread");
}

int ubinder_context_start_thread_pool(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	unsigned int max;
	int err;

	err = thread_get(ctx, &ts);
	if (err)
		return err;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->pool_started) {
		pthread_mutex_unlock(&ctx->lock);
		return 0;
	}
	ctx->pool_started = true;
	max = ctx->max_threads;
	pthread_mutex_unlock(&ctx->lock);
	err = status_from_errno(ubt_ioctl(&ts->conn, &ctx->session, BINDER_SET_MAX_THREADS, &max));
	if (!err)
		err = pool_start_thread(ctx, true);
	if (err) {
		pthread_mutex_lock(&ctx->lock);
		ctx->pool_started = false;
		pthread_mutex_unlock(&ctx->lock);
	}
	return err;
}

int ubinder_context_join_thread_pool(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	int err;

	err = thread_get(ctx, &ts);
	if (err)
		return err;
	ctx_ref(ctx);
	atomic_store(&ts->joined, true);
	ts->serving = true;
	if (!ts->looper) {
		out_cmd(ts, BC_ENTER_LOOPER, NULL, 0);
		ts->looper = true;
	}
	err = looper_run(ts);
	atomic_store(&ctx->stop, false);
	ts->serving = false;
	if (atomic_load(&ctx->closed)) {
		atomic_store(&ts->joined, false);
		thread_release_self(ts);
	} else {
		atomic_store(&ts->joined, false);
		(void)thread_flush(ts);
	}
	ctx_unref(ctx);
	return err;
}

void ubinder_context_stop(ubinder_context *ctx)
{
	atomic_store(&ctx->stop, true);
}

int ubinder_context_get_fd(ubinder_context *ctx)
{
	return ctx->session.poll_fd;
}

int ubinder_context_process(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	int err;

	err = thread_get(ctx, &ts);
	if (err)
		return err;
	if (!ts->looper) {
		out_cmd(ts, BC_ENTER_LOOPER, NULL, 0);
		ts->looper = true;
	}
	/* Bounded, so that a flood of work cannot starve the caller's loop. */
	for (int i = 0; i < 64; i++) {
		err = thread_talk(ts, true, true);
		if (err == UBINDER_ERR_WOULD_BLOCK) {
			err = 0;
			break;
		}
		if (err)
			break;
		ipc_process_input(ts);
	}
	if (!err)
		err = thread_flush(ts);
	return err;
}

int ubinder_context_flush(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	int err = thread_get(ctx, &ts);

	return err ? err : thread_flush(ts);
}

int ubinder_context_become_manager(ubinder_context *ctx, ubinder_binder *local)
{
	struct flat_binder_object obj = { .hdr.type = BINDER_TYPE_BINDER,
					  .flags = FLAT_BINDER_FLAG_ACCEPTS_FDS };
	struct ubinder_thread *ts;
	int err;

	if (!local || !local->local || local->ctx != ctx)
		return UBINDER_ERR_BAD_VALUE;
	err = thread_get(ctx, &ts);
	if (err)
		return err;
	obj.binder = local->id;
	obj.cookie = local->id;
	err = ubt_ioctl(&ts->conn, &ctx->session, BINDER_SET_CONTEXT_MGR_EXT, &obj);
	if (err == -EBUSY)
		return UBINDER_ERR_ALREADY_EXISTS;
	if (err)
		return status_from_errno(err);
	/* The driver holds the manager's node for the process's life. */
	pthread_mutex_lock(&ctx->lock);
	local->pinned = true;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}
