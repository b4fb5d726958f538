/* SPDX-License-Identifier: MIT */
/*
 * Serving: the thread pool (started by ubinder_context_start_thread_pool(),
 * grown on BR_SPAWN_LOOPER up to max_threads), a thread that joins it, and
 * a context polled from the program's own loop. Pool threads run with every
 * signal blocked: signals belong to the program.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/android/binder.h>

#include "context.h"
#include "context_ref.h"
#include "ipc.h"
#include "pool.h"
#include "status.h"
#include "thread.h"

struct pool_thread {
	pthread_t tid;
	struct pool_thread *next;
};

void pool_join(struct ubinder_context *ctx)
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

/* The calling thread's state, entered as a looper (BC_ENTER_LOOPER queued
 * the first time). */
static int looper_get(struct ubinder_context *ctx, struct ubinder_thread **out)
{
	int err = thread_get(ctx, out);

	if (!err && !(*out)->looper) {
		out_cmd(*out, BC_ENTER_LOOPER, NULL, 0);
		(*out)->looper = true;
	}
	return err;
}

int ubinder_context_join_thread_pool(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	int err;

	err = looper_get(ctx, &ts);
	if (err)
		return err;
	ctx_ref(ctx);
	atomic_store(&ts->joined, true);
	ts->serving = true;
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

int ubinder_context_process(ubinder_context *ctx)
{
	struct ubinder_thread *ts;
	int err;

	err = looper_get(ctx, &ts);
	if (err)
		return err;
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
