/* SPDX-License-Identifier: MIT */
/*
 * Contexts (Binder processes): opening one (the session, the first
 * thread's connection, the version check, the region and the outbox),
 * closing it (each module lets go of what it keeps in the context), and
 * the calls on a context that belong to no other module.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "context.h"
#include "context_ref.h"
#include "deferred_free.h"
#include "ipc.h"
#include "fork.h"
#include "object.h"
#include "outbox.h"
#include "pool.h"
#include "status.h"
#include "thread.h"

/* What the thread layer calls above it, wired here at the top. */
static const struct thread_upcalls upcalls = {
	.take_frees = deferred_free_drain,
	.process_input = ipc_process_input,
	.free_reply = ipc_free_reply,
	.spawn_looper = pool_spawn,
};

/* What ipc hands up to the objects, wired here too. */
static const struct ipc_object_upcalls object_upcalls = {
	.resolve = object_resolve,
	.find_target = object_find_target,
	.dispatch = object_dispatch,
	.unref = ubinder_binder_unref,
	.returned = object_return,
};

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
	fork_stamp(ctx);
	pthread_mutex_init(&ctx->lock, NULL);
	deferred_free_init(ctx);
	atomic_init(&ctx->refs, 1);
	LIST_INIT(&ctx->threads);
	ctx->next_id = 1;
	ctx->max_threads = UB_DEFAULT_MAX_THREADS;
	ctx->upcalls = &upcalls;
	ctx->objects = &object_upcalls;
	err = pthread_key_create(&ctx->key, thread_at_exit);
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
	fork_track(ctx);
	*out = ctx;
	return 0;
}

size_t ubinder_context_get_region_size(const ubinder_context *ctx)
{
	return ctx->map_size;
}

void ubinder_context_close(ubinder_context *ctx)
{
	if (!ctx)
		return;
	if (ctx_forked(ctx)) {
		/* The parent's: its threads are not ours to join, its memory is a copy. */
		atomic_store(&ctx->closed, true);
		return;
	}
	fork_untrack(ctx);
	pthread_mutex_lock(&ctx->lock);
	atomic_store(&ctx->closed, true);
	deferred_free_closing(ctx);
	pthread_mutex_unlock(&ctx->lock);
	/* As closing the device: the driver releases the process, blocked reads return. */
	ubt_session_close(&ctx->session);
	if (ctx->outbox) {
		/* Parcels still built in it keep it mapped. */
		outbox_retire(ctx->outbox);
		outbox_unref(ctx->outbox);
		ctx->outbox = NULL;
	}
	pool_join(ctx);
	deferred_free_join(ctx);
	thread_context_closed(ctx);
	object_context_closed(ctx);
	ctx_unref(ctx);
}

int ubinder_context_get_fd(ubinder_context *ctx)
{
	if (ctx_forked(ctx))
		return UBINDER_ERR_INVALID_OPERATION;
	return ctx->session.poll_fd;
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
	if (local->requesting_sid)
		obj.flags |= FLAT_BINDER_FLAG_TXN_SECURITY_CTX;
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
