/* SPDX-License-Identifier: MIT */
/*
 * Thread states: each thread that uses a context gets a struct
 * ubinder_thread, found through the context's pthread key, listed in
 * ctx->threads, and freed by the key's destructor when the thread exits.
 * ubinder_context_close() closes the connections of the threads still
 * alive and moves their states to a global orphan list: it cannot free
 * them, because a thread may be exiting at that moment with its destructor
 * about to run. registry_lock orders the two.
 *
 * The command stream: commands are queued in the thread's write buffer and
 * written with its next BINDER_WRITE_READ, which also carries the context's
 * deferred frees; what is read is processed by ipc.c. Both, and the freeing
 * of held replies, are reached through ts->upcalls: this layer calls
 * nothing above it but through them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/android/binder.h>

#include "context.h"
#include "fork.h"
#include "status.h"
#include "thread.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, ubinder_thread) orphans = LIST_HEAD_INITIALIZER(orphans);

bool thread_reply_done(struct ubinder_thread *ts)
{
	struct held_reply *h = ts->held;

	if (!h)
		return false;
	ts->held = h->next;
	if (!ts->held)
		ts->held_tail = &ts->held;
	ts->nest++; /* what freeing it queues goes with the next command */
	ts->upcalls->free_reply(h);
	ts->nest--;
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
void thread_at_exit(void *arg)
{
	struct ubinder_thread *ts = arg;
	struct ubinder_context *ctx = ts->ctx;

	if (ctx_forked(ctx))
		return; /* the parent's thread state, copied: nothing of it is ours to send */
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
	struct ubinder_thread *ts;
	int err;

	/* Before the key: a forked child's copy would find the parent's connection. */
	if (ctx_forked(ctx))
		return UBINDER_ERR_INVALID_OPERATION;
	ts = pthread_getspecific(ctx->key);
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
	ts->upcalls = ctx->upcalls;
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

void thread_release_self(struct ubinder_thread *ts)
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

void thread_context_closed(struct ubinder_context *ctx)
{
	struct ubinder_thread *ts, *self;

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
}

/* --- the command stream ------------------------------------------------------------ */

bool out_grow(struct ubinder_thread *ts, size_t need)
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

	if (cmd != BC_FREE_BUFFER)
		ts->upcalls->take_frees(ts);
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

	if (ctx_forked(ctx))
		return UBINDER_ERR_INVALID_OPERATION;
	if (ts->broken)
		return atomic_load(&ctx->closed) ? UBINDER_ERR_CLOSED : UBINDER_ERR_DISCONNECTED;
	ts->upcalls->take_frees(ts);
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
			ts->upcalls->process_input(ts);
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
