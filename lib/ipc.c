/* SPDX-License-Identifier: MIT */
/*
 * The Binder command protocol on one thread: sending transactions and
 * waiting for their outcome, serving incoming ones, and everything else the
 * driver returns (reference counts, deaths, spawn requests).
 *
 * The thread's read buffer is consumed from wherever the thread is: a wait
 * for a reply, a handler's nested call, a looper. Each BR_* return is copied
 * out before it is acted on, because acting on it may read again.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/android/binder.h>

#include "common/zalloc.h"
#include "context.h"
#include "context_ref.h"
#include "deferred_free.h"
#include "ipc.h"
#include "parcel.h"
#include "parcel_impl.h"
#include "parcel_sg.h"
#include "pool.h"
#include "secctx.h"
#include "status.h"
#include "thread.h"

union br_payload {
	struct binder_transaction_data tr;
	struct binder_transaction_data_secctx trs;
	struct binder_ptr_cookie pc;
	binder_uintptr_t cookie;
	int32_t value;
	uint8_t raw[128];
};

/* Takes the next BR_* return from the read buffer. */
static int next_return(struct ubinder_thread *ts, uint32_t *cmd, union br_payload *u)
{
	size_t left = ts->in_len - ts->in_pos;
	size_t size;

	if (left < sizeof(*cmd)) {
		ts->in_pos = ts->in_len;
		return UBINDER_ERR_PROTOCOL;
	}
	memcpy(cmd, ts->in + ts->in_pos, sizeof(*cmd));
	size = _IOC_SIZE(*cmd);
	if (size > sizeof(*u) || left - sizeof(*cmd) < size) {
		ub_log("malformed return %#x", *cmd);
		ts->in_pos = ts->in_len;
		return UBINDER_ERR_PROTOCOL;
	}
	memcpy(u, ts->in + ts->in_pos + sizeof(*cmd), size);
	ts->in_pos += sizeof(*cmd) + size;
	return 0;
}

/* A received parcel of ours: its objects resolved in our context, its buffer
 * freed from whichever thread frees the parcel. */
struct receiver {
	struct parcel_receiver rx;
	struct ubinder_thread *ts; /* the receiving thread, to create proxies through */
};

static struct ubinder_binder *receiver_resolve(const struct parcel_receiver *rx,
					       const struct flat_binder_object *obj)
{
	const struct receiver *r = (const struct receiver *)rx;

	return r->ts->ctx->objects->resolve(r->ts->ctx, r->ts, obj);
}

/* The parcel is freed: its buffer goes back to the driver (queued; sent with
 * the freeing thread's next command), and its context reference. */
static void receiver_release(void *arg, uint64_t buffer)
{
	struct ubinder_context *ctx = arg;
	struct ubinder_thread *ts;

	if (buffer && !atomic_load(&ctx->closed) && thread_get(ctx, &ts) == 0)
		deferred_free_buffer(ts, buffer);
	ctx_unref(ctx);
}

/* A parcel for a delivered buffer, after checking that it lies in our region. */
static struct ubinder_parcel *receive_buffer(struct ubinder_thread *ts,
					     const struct binder_transaction_data *tr, int *err)
{
	struct ubinder_context *ctx = ts->ctx;
	uint64_t buffer = tr->data.ptr.buffer;
	struct receiver r = { .rx = { .resolve = receiver_resolve,
				      .release = receiver_release,
				      .release_arg = ctx,
				      .buffer = buffer,
				      .region = (uintptr_t)ctx->map,
				      .region_size = ctx->map_size },
			      .ts = ts };
	struct ubinder_parcel *p;

	if (!region_contains(ctx, buffer, tr->data_size) || tr->offsets_size % 8 ||
	    (tr->offsets_size && !region_contains(ctx, tr->data.ptr.offsets, tr->offsets_size))) {
		ub_log("buffer %llx+%llu outside the region", (unsigned long long)buffer,
		       (unsigned long long)tr->data_size);
		out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
		*err = UBINDER_ERR_PROTOCOL;
		return NULL;
	}
	ctx_ref(ctx); /* the parcel's, given back by receiver_release() */
	p = parcel_new_received((const void *)(uintptr_t)buffer, tr->data_size,
				(const uint64_t *)(uintptr_t)tr->data.ptr.offsets,
				tr->offsets_size / 8, &r.rx);
	if (!p) {
		ctx_unref(ctx);
		out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
		*err = UBINDER_ERR_NO_MEMORY;
	}
	return p;
}

/* --- serving ------------------------------------------------------------------- */

/* BC_REPLY with @reply, or with @status as a TF_STATUS_CODE reply; waits for completion. */
static void queue_reply(struct ubinder_thread *ts, struct ubinder_parcel *reply, int32_t status,
			uint32_t flags);

/* @secctx: the sender's security context's address (BR_TRANSACTION_SEC_CTX), or 0. */
static void serve(struct ubinder_thread *ts, const struct binder_transaction_data *tr,
		  uint64_t secctx)
{
	struct ubinder_context *ctx = ts->ctx;
	bool oneway = tr->flags & TF_ONE_WAY;
	char *sid = secctx_copy(ctx, tr, secctx);
	struct ubinder_call call = {
		.code = tr->code,
		.flags = tr->flags,
		.sender_pid = tr->sender_pid,
		.sender_euid = tr->sender_euid,
		.sender_sid = sid,
	};
	struct ubinder_parcel *data, *reply = NULL;
	struct ubinder_binder *target;
	int status = 0;

	data = receive_buffer(ts, tr, &status);
	target = ctx->objects->find_target(ctx, tr->target.ptr);
	if (!target && !status) {
		ub_log("transaction for unknown object %llx", (unsigned long long)tr->target.ptr);
		status = UBINDER_ERR_DEAD_OBJECT;
	}
	if (!oneway) {
		reply = ubinder_parcel_new();
		if (!reply && !status)
			status = UBINDER_ERR_NO_MEMORY;
	}
	if (!status)
		status = ctx->objects->dispatch(target, &call, data, reply);
	/* The request's buffer goes back before the reply, in the same write. */
	ubinder_parcel_free(data);
	if (!oneway && !status) {
		queue_reply(ts, reply, 0, tr->flags & TF_CLEAR_BUF);
	} else {
		ubinder_parcel_free(reply);
		if (!oneway)
			queue_reply(ts, NULL, status, tr->flags & TF_CLEAR_BUF);
	}
	if (target)
		ctx->objects->unref(target);
	free(sid);
}

/* --- returns ---------------------------------------------------------------------- */

static void execute(struct ubinder_thread *ts, uint32_t cmd, const union br_payload *u)
{
	switch (cmd) {
	case BR_TRANSACTION_COMPLETE:
	case BR_ONEWAY_SPAM_SUSPECT:
	case BR_FAILED_REPLY:
	case BR_DEAD_REPLY:
		/* The outcome of a reply we did not wait for. */
		if (!thread_reply_done(ts) && (cmd == BR_FAILED_REPLY || cmd == BR_DEAD_REPLY))
			ub_log("unexpected return %#x", cmd);
		break;
	case BR_NOOP:
	case BR_OK:
	case BR_FINISHED:
		break;
	case BR_ERROR:
		ub_log("BR_ERROR %d", u->value);
		break;
	case BR_SPAWN_LOOPER:
		ts->upcalls->spawn_looper(ts->ctx);
		break;
	case BR_INCREFS:
	case BR_ACQUIRE:
	case BR_RELEASE:
	case BR_DECREFS:
		ts->ctx->objects->returned(ts, cmd, u->pc.ptr, u->pc.cookie);
		break;
	case BR_DEAD_BINDER:
	case BR_CLEAR_DEATH_NOTIFICATION_DONE:
		ts->ctx->objects->returned(ts, cmd, 0, u->cookie);
		break;
	case BR_TRANSACTION:
		serve(ts, &u->tr, 0);
		break;
	case BR_TRANSACTION_SEC_CTX:
		serve(ts, &u->trs.transaction_data, u->trs.secctx);
		break;
	case BR_REPLY: {
		/* A reply nobody waits for: give the buffer back. */
		uint64_t buffer = u->tr.data.ptr.buffer;

		ub_log("unexpected BR_REPLY");
		out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
		break;
	}
	default:
		ub_log("unexpected return %#x", cmd);
		break;
	}
}

int ipc_process_input(struct ubinder_thread *ts)
{
	union br_payload u;
	uint32_t cmd;
	int err = 0;

	ts->nest++;
	while (ts->in_pos < ts->in_len) {
		err = next_return(ts, &cmd, &u);
		if (err)
			break;
		execute(ts, cmd, &u);
	}
	ts->nest--;
	return err;
}

/* --- waiting for an outcome ----------------------------------------------------- */

enum wait_for {
	WAIT_REPLY,    /* a synchronous call: BR_REPLY */
	WAIT_COMPLETE, /* a oneway call or our BC_REPLY: BR_TRANSACTION_COMPLETE */
};

static int take_reply(struct ubinder_thread *ts, const struct binder_transaction_data *tr,
		      struct ubinder_parcel **reply)
{
	uint64_t buffer = tr->data.ptr.buffer;
	int err = 0;

	if (tr->flags & TF_STATUS_CODE) {
		int32_t status = UBINDER_ERR_FAILED_TRANSACTION;

		if (tr->data_size >= sizeof(status) &&
		    region_contains(ts->ctx, buffer, sizeof(status)))
			memcpy(&status, (const void *)(uintptr_t)buffer, sizeof(status));
		out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
		if (status || !reply)
			return status;
		*reply = ubinder_parcel_new();
		return *reply ? 0 : UBINDER_ERR_NO_MEMORY;
	}
	if (!reply && tr->offsets_size == 0) {
		out_cmd(ts, BC_FREE_BUFFER, &buffer, sizeof(buffer));
		return 0;
	}
	if (!reply) {
		/* Dropped, but what it carried (descriptors, references) is let go of. */
		ubinder_parcel_free(receive_buffer(ts, tr, &err));
		return err;
	}
	*reply = receive_buffer(ts, tr, &err);
	return err;
}

static int wait_for(struct ubinder_thread *ts, enum wait_for what, struct ubinder_parcel **reply)
{
	union br_payload u;
	uint32_t cmd;
	int err;

	ts->nest++;
	for (;;) {
		err = thread_talk(ts, true, false);
		if (err == UBINDER_ERR_WOULD_BLOCK)
			continue;
		if (err)
			goto out;
		while (ts->in_pos < ts->in_len) {
			err = next_return(ts, &cmd, &u);
			if (err)
				goto out;
			if ((cmd == BR_TRANSACTION_COMPLETE || cmd == BR_ONEWAY_SPAM_SUSPECT ||
			     cmd == BR_FAILED_REPLY || cmd == BR_DEAD_REPLY) &&
			    thread_reply_done(ts)) {
				/* Outcomes come in order: that one was an earlier reply's. */
				continue;
			}
			switch (cmd) {
			case BR_TRANSACTION_COMPLETE:
			case BR_ONEWAY_SPAM_SUSPECT:
				if (what == WAIT_COMPLETE)
					goto out;
				break;
			case BR_DEAD_REPLY:
				err = UBINDER_ERR_DEAD_OBJECT;
				goto out;
			case BR_FAILED_REPLY:
			case BR_FROZEN_REPLY:
				err = UBINDER_ERR_FAILED_TRANSACTION;
				goto out;
			case BR_REPLY:
				if (what == WAIT_REPLY) {
					err = take_reply(ts, &u.tr, reply);
					goto out;
				}
				execute(ts, cmd, &u);
				break;
			default:
				execute(ts, cmd, &u);
				break;
			}
		}
	}
out:
	ts->nest--;
	return err;
}

/* Removes our transaction from the write buffer if the driver never took it. */
static void drop_unsent(struct ubinder_thread *ts, size_t len)
{
	if (ts->txn_at == SIZE_MAX)
		return;
	memmove(ts->out + ts->txn_at, ts->out + ts->txn_at + len, ts->out_len - ts->txn_at - len);
	ts->out_len -= len;
	ts->txn_at = SIZE_MAX;
}

/* Queues the transaction (the _SG command when @data has buffers); returns its length. */
static size_t queue_transaction(struct ubinder_thread *ts, uint32_t cmd, uint32_t handle,
				uint32_t code, const struct ubinder_parcel *data, uint32_t flags)
{
	struct binder_transaction_data_sg sg = { 0 };
	struct binder_transaction_data *tr = &sg.transaction_data;
	const uint64_t *offsets = NULL;
	const void *bytes = NULL;
	size_t size = 0, nobj = 0, len = sizeof(*tr);

	if (data) {
		parcel_raw(data, &bytes, &size, &offsets, &nobj);
		sg.buffers_size = parcel_buffers_size(data);
	}
	if (sg.buffers_size) {
		cmd = cmd == BC_REPLY ? BC_REPLY_SG : BC_TRANSACTION_SG;
		len = sizeof(sg);
	}
	tr->target.handle = handle;
	tr->code = code;
	tr->flags = flags;
	tr->data_size = size;
	tr->offsets_size = nobj * sizeof(binder_size_t);
	tr->data.ptr.buffer = (uintptr_t)bytes;
	tr->data.ptr.offsets = (uintptr_t)offsets;
	out_cmd(ts, cmd, &sg, len);
	ts->txn_at = ts->out_len - sizeof(cmd) - len;
	return sizeof(cmd) + len;
}

int ipc_transact(struct ubinder_thread *ts, uint32_t handle, uint32_t code,
		 struct ubinder_parcel *data, uint32_t flags, struct ubinder_parcel **reply)
{
	bool oneway = flags & TF_ONE_WAY;
	size_t len;
	int err;

	if (reply)
		*reply = NULL;
	len = queue_transaction(ts, BC_TRANSACTION, handle, code, data,
				(flags & (TF_ONE_WAY | TF_CLEAR_BUF)) | TF_ACCEPT_FDS);
	err = wait_for(ts, oneway ? WAIT_COMPLETE : WAIT_REPLY, oneway ? NULL : reply);
	drop_unsent(ts, len);
	/*
	 * Proxies created from the reply took their references in our write
	 * buffer: send them now, before any thread can free the reply's buffer
	 * (which holds the references meanwhile).
	 */
	if (ts->acquires_queued)
		(void)thread_flush(ts);
	/* Work that came with the outcome is done now, not whenever we call again. */
	if (ts->nest == 0 && ts->in_pos < ts->in_len)
		ipc_process_input(ts);
	return err;
}

/*
 * Queues BC_REPLY with @reply, or with @status as a TF_STATUS_CODE reply,
 * and keeps what it points at until its outcome is read. It goes out with
 * the thread's next command: for a looper, its next read, which holds the
 * reply's completion back until more work comes (one round trip per call
 * served instead of two).
 */
void ipc_free_reply(struct held_reply *h)
{
	ubinder_parcel_free(h->parcel);
	free(h);
}

static void queue_reply(struct ubinder_thread *ts, struct ubinder_parcel *reply, int32_t status,
			uint32_t flags)
{
	struct held_reply *h = zalloc(sizeof(*h)), fallback = { NULL, reply, status };
	struct held_reply *r = h ? h : &fallback;

	r->parcel = reply;
	r->status = status;
	if (reply) {
		queue_transaction(ts, BC_REPLY, 0, 0, reply, flags);
	} else {
		struct binder_transaction_data tr = {
			.flags = flags | TF_STATUS_CODE,
			.data_size = sizeof(r->status),
			.data.ptr.buffer = (uintptr_t)&r->status,
		};

		out_cmd(ts, BC_REPLY, &tr, sizeof(tr));
	}
	ts->txn_at = SIZE_MAX; /* a reply is never taken back */
	if (!h) {
		/* No memory to keep it: wait for its outcome now. */
		(void)wait_for(ts, WAIT_COMPLETE, NULL);
		ubinder_parcel_free(reply);
		return;
	}
	*ts->held_tail = h;
	ts->held_tail = &h->next;
}
