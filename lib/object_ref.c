/* SPDX-License-Identifier: MIT */
/*
 * An object's references (object_ref.h): what parcels and every other holder
 * take and drop, below the objects' calls. The last reference frees the
 * object; a proxy's tells the driver first (BC_RELEASE, BC_DECREFS).
 */
#include <stdlib.h>
#include <linux/android/binder.h>

#include "context.h"
#include "context_ref.h"
#include "object.h"
#include "object_ref.h"
#include "thread.h"

bool object_local_unused(const struct ubinder_binder *b)
{
	return b->refs == 0 && b->weak_refs == 0 && b->driver_strong == 0 && b->driver_weak == 0 &&
	       !b->pinned;
}

void object_local_free(struct ubinder_binder *b)
{
	struct ubinder_context *ctx = b->ctx;

	if (b->destroy)
		b->destroy(b->userdata);
	ubinder_binder_unref(b->extension);
	free(b->descriptor);
	free(b);
	ctx_unref(ctx);
}

void object_links_free(struct death_link *link)
{
	while (link) {
		struct death_link *next = link->next;

		free(link);
		link = next;
	}
}

ubinder_binder *ubinder_binder_ref(ubinder_binder *b)
{
	if (b) {
		pthread_mutex_lock(&b->ctx->lock);
		b->refs++;
		pthread_mutex_unlock(&b->ctx->lock);
	}
	return b;
}

void object_send_release(struct ubinder_context *ctx, const struct proxy_release *r)
{
	struct ubinder_thread *ts;

	if ((!r->release && !r->decrefs && !r->clear_cookie) || thread_get(ctx, &ts))
		return;
	if (r->clear_cookie) {
		struct binder_handle_cookie hc = { .handle = r->handle, .cookie = r->clear_cookie };

		out_cmd(ts, BC_CLEAR_DEATH_NOTIFICATION, &hc, sizeof(hc));
	}
	if (r->release)
		out_cmd(ts, BC_RELEASE, &r->handle, sizeof(r->handle));
	if (r->decrefs)
		out_cmd(ts, BC_DECREFS, &r->handle, sizeof(r->handle));
	thread_flush_if_idle(ts);
}

/* A proxy with no reference of either kind left leaves the table; under the lock. */
void object_proxy_untable(struct ubinder_context *ctx, struct ubinder_binder *b)
{
	if (b->in_table) {
		HASH_DELETE(hh, ctx->proxies, b);
		b->in_table = false;
	}
}

void ubinder_binder_unref(ubinder_binder *b)
{
	struct ubinder_context *ctx;
	struct proxy_release r = { 0 };
	struct death_link *links;
	bool keep;

	if (!b)
		return;
	ctx = b->ctx;
	pthread_mutex_lock(&ctx->lock);
	if (--b->refs > 0) {
		pthread_mutex_unlock(&ctx->lock);
		return;
	}
	if (b->local) {
		bool unused = object_local_unused(b);

		if (unused && b->in_table) {
			HASH_DELETE(hh, ctx->locals, b);
			b->in_table = false;
		}
		pthread_mutex_unlock(&ctx->lock);
		if (unused)
			object_local_free(b);
		return;
	}
	/* Weak references keep the proxy, and its BC_INCREFS, but not its strong count. */
	keep = b->weak_refs > 0;
	if (!keep)
		object_proxy_untable(ctx, b);
	r.handle = b->handle;
	r.release = b->acquired && !atomic_load(&ctx->closed);
	r.decrefs = !keep && b->weak_held && !atomic_load(&ctx->closed);
	b->acquired = false;
	if (!keep)
		b->weak_held = false;
	if (b->death) {
		struct death_reg *reg = b->death;

		reg->proxy = NULL;
		if (!reg->clearing && r.release) {
			reg->clearing = true;
			r.clear_cookie = reg->cookie;
		}
		b->death = NULL;
	}
	links = b->links;
	b->links = NULL;
	pthread_mutex_unlock(&ctx->lock);
	object_links_free(links);
	object_send_release(ctx, &r);
	if (keep)
		return;
	free(b);
	ctx_unref(ctx);
}

int ubinder_binder_get_weak(ubinder_binder *b, ubinder_weak **out)
{
	if (!out)
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	if (!b)
		return UBINDER_ERR_BAD_VALUE;
	pthread_mutex_lock(&b->ctx->lock);
	b->weak_refs++;
	pthread_mutex_unlock(&b->ctx->lock);
	*out = weak_of(b);
	return 0;
}

ubinder_weak *ubinder_weak_ref(ubinder_weak *w)
{
	struct ubinder_binder *b = binder_of(w);

	if (b) {
		pthread_mutex_lock(&b->ctx->lock);
		b->weak_refs++;
		pthread_mutex_unlock(&b->ctx->lock);
	}
	return w;
}

void ubinder_weak_unref(ubinder_weak *w)
{
	struct ubinder_binder *b = binder_of(w);
	struct ubinder_context *ctx;
	struct proxy_release r = { 0 };
	bool unused;

	if (!b)
		return;
	ctx = b->ctx;
	pthread_mutex_lock(&ctx->lock);
	unused = --b->weak_refs == 0 && b->refs == 0;
	if (unused && b->local) {
		unused = object_local_unused(b);
		if (unused && b->in_table) {
			HASH_DELETE(hh, ctx->locals, b);
			b->in_table = false;
		}
	} else if (unused) {
		object_proxy_untable(ctx, b);
		r.handle = b->handle;
		r.decrefs = b->weak_held && !atomic_load(&ctx->closed);
		b->weak_held = false;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!unused)
		return;
	if (b->local) {
		object_local_free(b);
		return;
	}
	object_send_release(ctx, &r);
	free(b);
	ctx_unref(ctx);
}
