/* SPDX-License-Identifier: MIT */
/*
 * Buffer frees of threads that do not serve: batched with the next command
 * of the thread that freed, and sent by the flusher thread once the oldest
 * has waited UB_FREE_DELAY_NS, so that a client that goes idle does not keep
 * its last reply's buffer (nor the references of the handles in it). The
 * queue is guarded by ctx->lock.
 *
 * Invariant: a thread's command reaches the driver after every free that
 * thread made before it, as if each free had been written at once. So a
 * thread carries only its own frees (another thread's write could reach the
 * driver after this one's), and while the flusher holds frees it has not
 * yet written, a thread about to write waits for it: the flusher only
 * writes, so the wait is short and depends on nobody but the daemon.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/android/binder.h>

#include "context.h"
#include "deferred_free.h"
#include "thread.h"

struct deferred_free {
	uint64_t buffer;
	const struct ubinder_thread *owner; /* compared, never followed */
};

static int64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void deferred_free_init(struct ubinder_context *ctx)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ctx->flusher_cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&ctx->flushed_cond, NULL);
}

void deferred_free_deinit(struct ubinder_context *ctx)
{
	pthread_cond_destroy(&ctx->flusher_cond);
	pthread_cond_destroy(&ctx->flushed_cond);
	free(ctx->deferred);
}

void deferred_free_closing(struct ubinder_context *ctx)
{
	pthread_cond_broadcast(&ctx->flusher_cond);
}

void deferred_free_join(struct ubinder_context *ctx)
{
	if (ctx->flusher_started && !pthread_equal(ctx->flusher, pthread_self()))
		pthread_join(ctx->flusher, NULL);
}

/*
 * Moves into @ts's write buffer the queued frees that @owner made (all of
 * them when @owner is NULL), as many as fit; under ctx->lock.
 */
static void take_frees(struct ubinder_thread *ts, const struct ubinder_thread *owner)
{
	struct ubinder_context *ctx = ts->ctx;
	const size_t each = sizeof(uint32_t) + sizeof(uint64_t);
	size_t kept = 0;

	(void)out_grow(ts, ctx->ndeferred * each); /* else as many as fit */
	for (size_t i = 0; i < ctx->ndeferred; i++) {
		const struct deferred_free *d = &ctx->deferred[i];
		uint32_t cmd = BC_FREE_BUFFER;

		if ((owner && d->owner != owner) || ts->out_cap - ts->out_len < each) {
			ctx->deferred[kept++] = *d;
			continue;
		}
		memcpy(ts->out + ts->out_len, &cmd, sizeof(cmd));
		memcpy(ts->out + ts->out_len + sizeof(cmd), &d->buffer, sizeof(d->buffer));
		ts->out_len += each;
	}
	if (kept != ctx->ndeferred)
		ctx->deferred_since = monotonic_ns();
	ctx->ndeferred = kept;
	atomic_store(&ctx->deferred_hint, ctx->ndeferred);
}

void deferred_free_drain(struct ubinder_thread *ts)
{
	struct ubinder_context *ctx = ts->ctx;

	if (ts->flusher ||
	    (!atomic_load(&ctx->deferred_hint) && !atomic_load(&ctx->frees_in_flight)))
		return;
	pthread_mutex_lock(&ctx->lock);
	while (atomic_load(&ctx->frees_in_flight))
		pthread_cond_wait(&ctx->flushed_cond, &ctx->lock);
	take_frees(ts, ts);
	pthread_mutex_unlock(&ctx->lock);
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
			if (!ts && thread_get(ctx, &ts) == 0)
				ts->flusher = true;
			pthread_mutex_lock(&ctx->lock);
			if (!ts)
				break;
			take_frees(ts, NULL);
			atomic_store(&ctx->frees_in_flight, true);
			pthread_mutex_unlock(&ctx->lock);
			(void)thread_flush(ts);
			pthread_mutex_lock(&ctx->lock);
			atomic_store(&ctx->frees_in_flight, false);
			pthread_cond_broadcast(&ctx->flushed_cond);
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

void deferred_free_buffer(struct ubinder_thread *ts, uint64_t buffer)
{
	struct ubinder_context *ctx = ts->ctx;
	bool deferred = false;

	/*
	 * A serving thread (pool, joined, or inside processing) sends its frees
	 * with its next command, which comes soon: the BC_REPLY, the next read.
	 * Any other thread may not call again for a long time: its frees go to
	 * the context's queue, which its own next command carries, or else the
	 * flusher within UB_FREE_DELAY_NS. (libbinder writes them at
	 * once from such threads, which costs us a round trip to the daemon.)
	 */
	if (!ts->serving && ts->nest == 0 && !ts->flusher) {
		pthread_mutex_lock(&ctx->lock);
		if (ctx->ndeferred == ctx->deferred_cap) {
			size_t cap = ctx->deferred_cap ? ctx->deferred_cap * 2 : 16;
			struct deferred_free *d = realloc(ctx->deferred, cap * sizeof(*d));

			if (d) {
				ctx->deferred = d;
				ctx->deferred_cap = cap;
			}
		}
		if (ctx->ndeferred < ctx->deferred_cap &&
		    (ctx->flusher_started || flusher_start(ctx) == 0)) {
			if (ctx->ndeferred == 0)
				ctx->deferred_since = monotonic_ns();
			ctx->deferred[ctx->ndeferred++] =
				(struct deferred_free){ .buffer = buffer, .owner = ts };
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
