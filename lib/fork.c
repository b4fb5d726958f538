/* SPDX-License-Identifier: MIT */
/*
 * Contexts across fork(). The child of a process with open contexts has a
 * copy of their state and of their descriptors, but none of their threads:
 * it must never speak on the parent's connections (the daemon would take
 * its commands for the parent's), nor keep them open after the parent
 * closes them (the daemon would not see the parent go), nor write into the
 * memory the parent shares with the daemon.
 *
 * So the fork handlers, with every open context's lock held across fork()
 * (no parent thread is then inside one), do in the child:
 *   - bump the fork generation, which every context compares with the one
 *     it was opened in (ctx_forked());
 *   - close the child's copies of each context's descriptors (the session,
 *     its poll descriptor, each thread's connection): the daemon sees
 *     nothing, the parent still holds them;
 *   - fill the holes the shared mappings (the region, the outbox) leave,
 *     which are not inherited, and make sure no parcel of the child is
 *     built in an outbox of the parent's.
 * The contexts' locks are then released, so that the child may still unref
 * and free what it inherited without waiting for a thread it does not have.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "context.h"
#include "fork.h"
#include "outbox.h"
#include "status.h"
#include "thread.h"

struct tracked {
	struct ubinder_context *ctx;
	LIST_ENTRY(tracked) entry;
};

static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, tracked) tracked_list = LIST_HEAD_INITIALIZER(tracked_list);
/* Forks this process's ancestry has been through since the library loaded. */
static atomic_uint fork_generation;

static void prepare(void)
{
	struct tracked *t;

	pthread_mutex_lock(&tracked_lock);
	outbox_fork_prepare(NULL);
	LIST_FOREACH(t, &tracked_list, entry) {
		pthread_mutex_lock(&t->ctx->lock);
		if (t->ctx->outbox)
			outbox_fork_prepare(t->ctx->outbox);
	}
}

static void parent(void)
{
	struct tracked *t;

	LIST_FOREACH(t, &tracked_list, entry) {
		if (t->ctx->outbox)
			outbox_fork_parent(t->ctx->outbox);
		pthread_mutex_unlock(&t->ctx->lock);
	}
	outbox_fork_parent(NULL);
	pthread_mutex_unlock(&tracked_lock);
}

/*
 * The shared mappings are not inherited (the transport maps them
 * MADV_DONTFORK): private zeroed memory takes their place, so that what the
 * child inherited pointing there (received parcels, parcels built in the
 * outbox) reads as zeros instead of faulting.
 */
static void fill_hole(void *base, size_t size, int prot)
{
	if (base && size)
		(void)mmap(base, size, prot,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

static void child(void)
{
	struct tracked *t, *next;

	atomic_fetch_add(&fork_generation, 1);
	outbox_fork_child(NULL);
	for (t = LIST_FIRST(&tracked_list); t; t = next) {
		struct ubinder_context *ctx = t->ctx;
		struct ubinder_thread *ts;

		next = LIST_NEXT(t, entry);
		if (ctx->session.sock >= 0)
			close(ctx->session.sock);
		if (ctx->session.poll_fd >= 0)
			close(ctx->session.poll_fd);
		ctx->session.sock = ctx->session.poll_fd = -1;
		LIST_FOREACH(ts, &ctx->threads, entry) {
			if (ts->conn.sock >= 0)
				close(ts->conn.sock);
			ts->conn.sock = -1;
			ts->broken = true;
		}
		fill_hole(ctx->map, ctx->map_size, PROT_READ);
		if (ctx->outbox) {
			fill_hole(outbox_base(ctx->outbox), outbox_size(ctx->outbox),
				  PROT_READ | PROT_WRITE);
			outbox_fork_child(ctx->outbox);
		}
		pthread_mutex_unlock(&ctx->lock);
		/* The child's list holds its own contexts only. */
		LIST_REMOVE(t, entry);
		free(t);
	}
	pthread_mutex_unlock(&tracked_lock);
}

static void register_handlers(void)
{
	if (pthread_atfork(prepare, parent, child))
		ub_log("cannot register fork handlers");
}

void fork_stamp(struct ubinder_context *ctx)
{
	ctx->owner_pid = getpid();
	ctx->fork_generation = atomic_load(&fork_generation);
}

void fork_track(struct ubinder_context *ctx)
{
	struct tracked *t = calloc(1, sizeof(*t));

	pthread_once(&handlers_once, register_handlers);
	if (!t)
		return;
	t->ctx = ctx;
	pthread_mutex_lock(&tracked_lock);
	LIST_INSERT_HEAD(&tracked_list, t, entry);
	pthread_mutex_unlock(&tracked_lock);
	ctx->fork_tracked = t;
}

void fork_untrack(struct ubinder_context *ctx)
{
	struct tracked *t = ctx->fork_tracked;

	if (!t)
		return;
	pthread_mutex_lock(&tracked_lock);
	LIST_REMOVE(t, entry);
	pthread_mutex_unlock(&tracked_lock);
	ctx->fork_tracked = NULL;
	free(t);
}

int ctx_usable(struct ubinder_context *ctx)
{
	if (ctx_forked(ctx))
		return UBINDER_ERR_INVALID_OPERATION;
	return atomic_load(&ctx->closed) ? UBINDER_ERR_CLOSED : 0;
}

bool ctx_forked(struct ubinder_context *ctx)
{
	if (ctx->fork_generation == atomic_load(&fork_generation))
		return false;
	if (!atomic_exchange(&ctx->fork_warned, true))
		fprintf(stderr,
			"libubinder: a context opened by pid %d cannot be used in its forked child "
			"%d: "
			"open a new one\n",
			(int)ctx->owner_pid, (int)getpid());
	return true;
}
