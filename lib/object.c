/* SPDX-License-Identifier: MIT */
/*
 * Binder objects: local ones (nodes of this process) and proxies (refs to
 * other processes' nodes), their counts, and death notifications.
 *
 * Local object lifetime: its memory, handler and userdata live while the
 * caller holds a reference or the driver holds a strong or weak count
 * (announced by BR_ACQUIRE / BR_INCREFS, withdrawn by BR_RELEASE /
 * BR_DECREFS). The driver learns of a new node from a transaction that
 * carries it; the parcel holds the object until that transaction is
 * complete, and the driver's BR_INCREFS/BR_ACQUIRE for it arrive on the
 * sending thread before the completion. The node's ptr and cookie are a
 * 64-bit id, never an address, so a stale or forged one finds nothing.
 *
 * Proxy lifetime: a proxy holds one strong and one weak count on its
 * handle (BC_INCREFS + BC_ACQUIRE when created, BC_RELEASE + BC_DECREFS
 * when its last reference goes). It is created while the buffer that
 * delivered the handle is still held, and its counts are written before that
 * buffer's BC_FREE_BUFFER, so the handle never drops to zero in between.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "context.h"
#include "context_ref.h"
#include "default_transactions.h"
#include "fork.h"
#include "ipc.h"
#include "object.h"
#include "object_ref.h"
#include "parcel.h"
#include "status.h"
#include "thread.h"

/* @b may be used: it exists and its context (*@ctx) is this process's. */
static int binder_usable(struct ubinder_binder *b, struct ubinder_context **ctx)
{
	if (!b)
		return UBINDER_ERR_BAD_VALUE;
	*ctx = b->ctx;
	return ctx_usable(*ctx);
}

int ubinder_binder_new(ubinder_context *ctx, const char *descriptor, ubinder_handler_fn handler,
		       void *userdata, void (*destroy)(void *userdata), ubinder_binder **out)
{
	struct ubinder_binder *b;
	int err;

	if (!ctx || !out)
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	err = ctx_usable(ctx);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return UBINDER_ERR_NO_MEMORY;
	b->descriptor = strdup(descriptor ? descriptor : "");
	if (!b->descriptor) {
		free(b);
		return UBINDER_ERR_NO_MEMORY;
	}
	b->ctx = ctx;
	b->local = true;
	b->refs = 1;
	b->handler = handler;
	b->userdata = userdata;
	b->destroy = destroy;
	ctx_ref(ctx);
	pthread_mutex_lock(&ctx->lock);
	b->id = ctx->next_id++;
	HASH_ADD(hh, ctx->locals, id, sizeof(b->id), b);
	b->in_table = true;
	pthread_mutex_unlock(&ctx->lock);
	*out = b;
	return 0;
}

int ubinder_binder_set_requesting_sid(ubinder_binder *b, bool on)
{
	if (!b)
		return UBINDER_ERR_BAD_VALUE;
	if (!b->local)
		return UBINDER_ERR_INVALID_OPERATION;
	pthread_mutex_lock(&b->ctx->lock);
	b->requesting_sid = on;
	pthread_mutex_unlock(&b->ctx->lock);
	return 0;
}

/* --- weak references ------------------------------------------------------------------ */

int ubinder_weak_promote(ubinder_weak *w, ubinder_binder **out)
{
	struct ubinder_binder *b = binder_of(w);
	struct ubinder_context *ctx;
	int err = 0;

	if (!out)
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	err = binder_usable(b, &ctx);
	if (err)
		return err;
	pthread_mutex_lock(&ctx->lock);
	if (b->local) {
		/* As libbinder's BBinder: alive while something holds it strongly. */
		if (b->refs > 0 || b->driver_strong > 0 || b->pinned)
			b->refs++;
		else
			err = UBINDER_ERR_DEAD_OBJECT;
	} else if (b->dead) {
		err = UBINDER_ERR_DEAD_OBJECT;
	} else if (b->refs > 0) {
		b->refs++;
	} else {
		/*
		 * The driver gives no strong count on a ref held weakly only
		 * (BC_ACQUIRE looks the ref up as strong, and fails); libbinder's
		 * attemptIncStrongHandle says INVALID_OPERATION.
		 */
		err = UBINDER_ERR_INVALID_OPERATION;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!err)
		*out = b;
	return err;
}

bool ubinder_binder_is_local(const ubinder_binder *b)
{
	return b && b->local;
}

bool ubinder_binder_is_alive(const ubinder_binder *b)
{
	bool alive;

	if (!b)
		return false;
	pthread_mutex_lock(&b->ctx->lock);
	alive = !b->dead && !atomic_load(&b->ctx->closed);
	pthread_mutex_unlock(&b->ctx->lock);
	return alive;
}

ubinder_context *ubinder_binder_get_context(const ubinder_binder *b)
{
	return b ? b->ctx : NULL;
}

void *ubinder_binder_get_userdata(const ubinder_binder *b)
{
	return b && b->local ? b->userdata : NULL;
}

uint32_t ubinder_binder_get_handle(const ubinder_binder *b)
{
	return b && !b->local ? b->handle : 0;
}

/* --- lookups from the driver's side ----------------------------------------------- */

struct ubinder_binder *object_find_local(struct ubinder_context *ctx, uint64_t id, bool weak)
{
	struct ubinder_binder *b;

	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->locals, &id, sizeof(id), b);
	if (b && weak)
		b->weak_refs++;
	else if (b)
		b->refs++;
	pthread_mutex_unlock(&ctx->lock);
	return b;
}

struct ubinder_binder *object_find_target(struct ubinder_context *ctx, uint64_t id)
{
	return object_find_local(ctx, id, false);
}

struct ubinder_binder *object_resolve(struct ubinder_context *ctx, struct ubinder_thread *ts,
				      const struct flat_binder_object *obj)
{
	struct ubinder_binder *b = NULL;
	bool weak = obj->hdr.type == BINDER_TYPE_WEAK_BINDER ||
		    obj->hdr.type == BINDER_TYPE_WEAK_HANDLE;

	if (obj->hdr.type == BINDER_TYPE_BINDER || obj->hdr.type == BINDER_TYPE_WEAK_BINDER) {
		b = object_find_local(ctx, obj->binder, weak);
		/* Ours only if the cookie matches too, as the driver checks it. */
		if (b && b->id != obj->cookie) {
			if (weak)
				ubinder_weak_unref(weak_of(b));
			else
				ubinder_binder_unref(b);
			b = NULL;
		}
		if (!b)
			ub_log("received unknown local object %llx",
			       (unsigned long long)obj->binder);
	} else if (object_get_proxy(ctx, ts, obj->handle, weak, &b)) {
		b = NULL;
	}
	return b;
}

/*
 * The driver counts a new reference needs, taken while the buffer that
 * delivered the handle still holds it (so the driver accepts a BC_ACQUIRE
 * on a ref that had none).
 */
int object_get_proxy(struct ubinder_context *ctx, struct ubinder_thread *ts, uint32_t handle,
		     bool weak, struct ubinder_binder **out)
{
	struct ubinder_binder *b;
	bool incref = false, acquire = false;

	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->proxies, &handle, sizeof(handle), b);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			pthread_mutex_unlock(&ctx->lock);
			return UBINDER_ERR_NO_MEMORY;
		}
		b->ctx = ctx;
		b->handle = handle;
		HASH_ADD(hh, ctx->proxies, handle, sizeof(b->handle), b);
		b->in_table = true;
		ctx_ref(ctx);
	}
	if (!b->weak_held)
		incref = b->weak_held = true;
	if (weak) {
		b->weak_refs++;
	} else {
		b->refs++;
		if (!b->acquired)
			acquire = b->acquired = true;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (incref)
		out_cmd(ts, BC_INCREFS, &handle, sizeof(handle));
	if (acquire)
		out_cmd(ts, BC_ACQUIRE, &handle, sizeof(handle));
	if (incref || acquire)
		ts->acquires_queued = true;
	*out = b;
	return 0;
}

int object_dispatch(struct ubinder_binder *obj, const struct ubinder_call *call,
		    struct ubinder_parcel *data, struct ubinder_parcel *reply)
{
	int status;

	if (default_transaction(obj, call, data, reply, &status))
		return status;
	if (!obj->handler)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	return obj->handler(obj, call, data, reply, obj->userdata);
}

static void object_driver_count(struct ubinder_thread *ts, uint32_t cmd, uint64_t ptr,
				uint64_t cookie)
{
	struct ubinder_context *ctx = ts->ctx;
	struct binder_ptr_cookie pc = { .ptr = ptr, .cookie = cookie };
	struct ubinder_binder *b;
	bool unused = false;

	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->locals, &ptr, sizeof(ptr), b);
	if (b && b->id == cookie) {
		switch (cmd) {
		case BR_INCREFS:
			b->driver_weak++;
			break;
		case BR_ACQUIRE:
			b->driver_strong++;
			break;
		case BR_RELEASE:
			if (b->driver_strong > 0)
				b->driver_strong--;
			break;
		case BR_DECREFS:
			if (b->driver_weak > 0)
				b->driver_weak--;
			break;
		}
		unused = object_local_unused(b);
		if (unused) {
			HASH_DELETE(hh, ctx->locals, b);
			b->in_table = false;
		}
	} else {
		ub_log("count %#x for unknown object %llx", cmd, (unsigned long long)ptr);
	}
	pthread_mutex_unlock(&ctx->lock);
	/* Acknowledged even for an unknown object: the driver then lets go of its hold. */
	if (cmd == BR_INCREFS)
		out_cmd(ts, BC_INCREFS_DONE, &pc, sizeof(pc));
	else if (cmd == BR_ACQUIRE)
		out_cmd(ts, BC_ACQUIRE_DONE, &pc, sizeof(pc));
	if (unused)
		object_local_free(b);
}

/* --- transactions ------------------------------------------------------------------- */

static int transact_local(struct ubinder_binder *b, uint32_t code, struct ubinder_parcel *data,
			  uint32_t flags, struct ubinder_parcel **reply)
{
	struct ubinder_call call = {
		.code = code,
		.flags = flags,
		.sender_pid = (flags & UBINDER_FLAG_ONEWAY) ? 0 : getpid(),
		.sender_euid = geteuid(),
		/* No driver in between: nobody to vouch for a label. */
		.sender_sid = NULL,
	};
	struct ubinder_parcel *view, *out = NULL;
	int err;

	view = data ? parcel_new_view(data) : ubinder_parcel_new();
	if (!view)
		return UBINDER_ERR_NO_MEMORY;
	if (!(flags & UBINDER_FLAG_ONEWAY)) {
		out = ubinder_parcel_new();
		if (!out) {
			ubinder_parcel_free(view);
			return UBINDER_ERR_NO_MEMORY;
		}
	}
	err = object_dispatch(b, &call, view, out);
	ubinder_parcel_free(view);
	if (!err && out)
		ubinder_parcel_set_position(out, 0);
	if (!err && reply) {
		*reply = out;
		out = NULL;
	}
	ubinder_parcel_free(out);
	return err;
}

int ubinder_binder_transact(ubinder_binder *b, uint32_t code, ubinder_parcel *data, uint32_t flags,
			    ubinder_parcel **reply)
{
	struct ubinder_context *ctx;
	struct ubinder_thread *ts;
	bool dead;
	int err;

	if (reply)
		*reply = NULL;
	err = binder_usable(b, &ctx);
	if (err)
		return err;
	if (data && !parcel_objects_in_context(data, ctx))
		return UBINDER_ERR_WRONG_CONTEXT;
	if (b->local)
		return transact_local(b, code, data, flags, reply);
	pthread_mutex_lock(&ctx->lock);
	dead = b->dead;
	pthread_mutex_unlock(&ctx->lock);
	if (dead)
		return UBINDER_ERR_DEAD_OBJECT;
	err = thread_get(ctx, &ts);
	if (err)
		return err;
	return ipc_transact(ts, b->handle, code, data, flags, reply);
}

int ubinder_binder_ping(ubinder_binder *b)
{
	return ubinder_binder_transact(b, UBINDER_PING_TRANSACTION, NULL, 0, NULL);
}

int ubinder_binder_get_interface(ubinder_binder *b, char **descriptor)
{
	struct ubinder_parcel *reply;
	char *name = NULL;
	int err;

	if (!descriptor)
		return UBINDER_ERR_BAD_VALUE;
	*descriptor = NULL;
	err = ubinder_binder_transact(b, UBINDER_INTERFACE_TRANSACTION, NULL, 0, &reply);
	if (err)
		return err;
	err = ubinder_parcel_read_string16_utf8(reply, &name);
	ubinder_parcel_free(reply);
	if (err)
		return err;
	*descriptor = name ? name : strdup("");
	return *descriptor ? 0 : UBINDER_ERR_NO_MEMORY;
}

/* --- death notifications --------------------------------------------------------------- */

int ubinder_binder_link_to_death(ubinder_binder *b, ubinder_death_fn fn, void *userdata)
{
	struct ubinder_context *ctx;
	struct binder_handle_cookie hc;
	struct ubinder_thread *ts;
	struct death_link *link;
	struct death_reg *reg = NULL;
	int err;

	if (!b || !fn)
		return UBINDER_ERR_BAD_VALUE;
	if (b->local)
		return UBINDER_ERR_INVALID_OPERATION;
	ctx = b->ctx;
	err = thread_get(ctx, &ts);
	if (err)
		return err;
	link = calloc(1, sizeof(*link));
	if (!link)
		return UBINDER_ERR_NO_MEMORY;
	link->fn = fn;
	link->userdata = userdata;
	pthread_mutex_lock(&ctx->lock);
	if (b->dead || atomic_load(&ctx->closed)) {
		err = b->dead ? UBINDER_ERR_DEAD_OBJECT : UBINDER_ERR_CLOSED;
		pthread_mutex_unlock(&ctx->lock);
		free(link);
		return err;
	}
	if (!b->death) {
		reg = calloc(1, sizeof(*reg));
		if (!reg) {
			pthread_mutex_unlock(&ctx->lock);
			free(link);
			return UBINDER_ERR_NO_MEMORY;
		}
		reg->cookie = ctx->next_id++;
		reg->proxy = b;
		HASH_ADD(hh, ctx->deaths, cookie, sizeof(reg->cookie), reg);
		b->death = reg;
		hc.handle = b->handle;
		hc.cookie = reg->cookie;
	}
	link->next = b->links;
	b->links = link;
	pthread_mutex_unlock(&ctx->lock);
	if (reg) {
		out_cmd(ts, BC_REQUEST_DEATH_NOTIFICATION, &hc, sizeof(hc));
		/* Registered now: a process already dead is then reported at once. */
		if (ts->nest == 0)
			(void)thread_flush(ts);
	}
	return 0;
}

int ubinder_binder_unlink_to_death(ubinder_binder *b, ubinder_death_fn fn, void *userdata)
{
	struct ubinder_context *ctx;
	struct death_link **pp, *found = NULL;
	struct proxy_release r = { 0 };

	if (!b || b->local)
		return UBINDER_ERR_INVALID_OPERATION;
	ctx = b->ctx;
	pthread_mutex_lock(&ctx->lock);
	for (pp = &b->links; *pp; pp = &(*pp)->next) {
		if ((*pp)->fn == fn && (*pp)->userdata == userdata) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	if (found && !b->links && b->death && !b->dead) {
		struct death_reg *reg = b->death;

		b->death = NULL;
		reg->proxy = NULL;
		if (!reg->clearing && !atomic_load(&ctx->closed)) {
			reg->clearing = true;
			r.clear_cookie = reg->cookie;
			r.handle = b->handle;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (!found)
		return UBINDER_ERR_NAME_NOT_FOUND;
	free(found);
	object_send_release(ctx, &r);
	return 0;
}

static void object_dead_binder(struct ubinder_thread *ts, uint64_t cookie)
{
	struct ubinder_context *ctx = ts->ctx;
	struct ubinder_binder *b = NULL;
	struct death_link *links = NULL;
	struct death_reg *reg;
	struct binder_handle_cookie hc = { .cookie = cookie };
	bool clear = false;

	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->deaths, &cookie, sizeof(cookie), reg);
	if (reg) {
		if (reg->proxy && reg->proxy->death == reg) {
			b = reg->proxy;
			b->refs++;
			b->dead = true;
			b->death = NULL;
			links = b->links;
			b->links = NULL;
			hc.handle = b->handle;
			/* A later lookup of the handle must not find the dead proxy. */
			if (b->in_table) {
				HASH_DELETE(hh, ctx->proxies, b);
				b->in_table = false;
			}
			clear = !reg->clearing;
			reg->clearing = true;
		}
		reg->proxy = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	/* Cleared while delivered: the driver confirms after BC_DEAD_BINDER_DONE. */
	if (clear)
		out_cmd(ts, BC_CLEAR_DEATH_NOTIFICATION, &hc, sizeof(hc));
	out_cmd(ts, BC_DEAD_BINDER_DONE, &cookie, sizeof(cookie));
	for (struct death_link *l = links; l; l = l->next)
		l->fn(b, l->userdata);
	object_links_free(links);
	ubinder_binder_unref(b);
}

static void object_clear_death_done(struct ubinder_thread *ts, uint64_t cookie)
{
	struct ubinder_context *ctx = ts->ctx;
	struct death_reg *reg;

	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->deaths, &cookie, sizeof(cookie), reg);
	if (reg) {
		HASH_DELETE(hh, ctx->deaths, reg);
		if (reg->proxy && reg->proxy->death == reg)
			reg->proxy->death = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	free(reg);
}

void object_context_closed(struct ubinder_context *ctx)
{
	struct ubinder_binder *b, *tmp, *unused = NULL;
	struct death_reg *reg, *rtmp;

	pthread_mutex_lock(&ctx->lock);
	HASH_ITER(hh, ctx->deaths, reg, rtmp) {
		HASH_DELETE(hh, ctx->deaths, reg);
		if (reg->proxy)
			reg->proxy->death = NULL;
		free(reg);
	}
	HASH_ITER(hh, ctx->proxies, b, tmp) {
		b->acquired = false;
		b->weak_held = false;
	}
	HASH_ITER(hh, ctx->locals, b, tmp) {
		b->driver_strong = 0;
		b->driver_weak = 0;
		b->pinned = false;
		if (object_local_unused(b)) {
			HASH_DELETE(hh, ctx->locals, b);
			b->in_table = false;
			b->hh.next = unused; /* reused as a free list: no longer hashed */
			unused = b;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	while (unused) {
		b = unused;
		unused = b->hh.next;
		object_local_free(b);
	}
}

void object_return(struct ubinder_thread *ts, uint32_t cmd, uint64_t ptr, uint64_t cookie)
{
	switch (cmd) {
	case BR_DEAD_BINDER:
		object_dead_binder(ts, cookie);
		break;
	case BR_CLEAR_DEATH_NOTIFICATION_DONE:
		object_clear_death_done(ts, cookie);
		break;
	default:
		object_driver_count(ts, cmd, ptr, cookie);
		break;
	}
}
