/* SPDX-License-Identifier: MIT */
/*
 * An RPC session (rpc_session.h). Locking: s->lock guards the connection
 * list's free flags, the object tables and the counters; a connection's
 * wlock makes each frame written whole (DEC_STRONG frames may be written
 * on a connection another thread owns). Only the thread that owns a
 * connection (its server thread, or the caller that took it) reads it.
 *
 * The peer is hostile: frames go through rpc_wire.c, and a frame we cannot
 * honour (an address it holds no reference to, a reply on a connection
 * with no call, a malformed frame, a stall mid-frame) ends the session.
 * A DEC_STRONG past the count is logged once and ignored, as libbinder's
 * RpcState does.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc_session.h"
#include "rpc_stream.h"
#include "rpc_translate.h"

#define STATUS_OK		   0
#define STATUS_BAD_VALUE	   (-EINVAL)
#define STATUS_DEAD_OBJECT	   (-EPIPE)
#define STATUS_UNKNOWN_TRANSACTION (-EBADMSG)
#define STABILITY_SYSTEM	   0x0c
/* Connections of one session, either kind. */
#define MAX_CONNECTIONS		   32
/* How long a peer may take to finish a frame it started, or to take ours. */
#define FRAME_TIMEOUT_S		   5
/* How long a oneway call waits for the ones numbered before it. */
#define ONEWAY_WAIT_S		   5

struct conn {
	struct rpc_session *s;
	struct rpc_stream *st;
	bool calling; /* we send transactions on it */
	bool busy;    /* a calling connection a call chain holds */
	pthread_mutex_t wlock;
};

/* An address of ours the peer holds. */
struct exported {
	uint64_t address;
	ubinder_binder *binder; /* one reference while sent > 0 */
	uint64_t sent;		/* times sent, less the peer's DEC_STRONGs */
	uint64_t next_async;	/* the asyncNumber of the next oneway call to it */
	unsigned serving;	/* transactions to it being served (they use it) */
	struct exported *next;
};

/* A local object standing for an address of the peer's. */
struct standin {
	struct rpc_session *s;
	uint64_t address;
	ubinder_binder *self; /* compared only: not a reference */
	ubinder_weak *weak;   /* NULL once retired (nothing held it any more) */
	uint64_t received;    /* times the peer sent it, not yet given back */
	uint64_t next_async;  /* of our next oneway call to it */
	struct standin *next;
};

struct rpc_session {
	struct rpc_session_config c;
	uint8_t id[RPC_SESSION_ID_SIZE];
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a connection freed, a oneway served, a server thread left */
	struct conn *conns[MAX_CONNECTIONS];
	unsigned nconns, servers;
	bool ended, freeing;
	uint32_t next_counter; /* of the addresses we create */
	struct exported *exported;
	struct standin *standins;
	unsigned nstandins, bad_dec_strong;
};

/* The connection the calling thread's call chain runs on, if any. */
static __thread struct conn *current;

static void serve_loop(struct conn *c);

static void log_session(struct rpc_session *s, const char *what)
{
	fprintf(stderr, "ubinder-rpc: %s: closing a session: %s\n", s->c.name, what);
}

struct rpc_session *rpc_session_new(const struct rpc_session_config *c)
{
	struct rpc_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->c = *c;
	if (c->id)
		memcpy(s->id, c->id, sizeof(s->id));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->next_counter = 1;
	if (c->root) {
		struct exported *e = calloc(1, sizeof(*e));

		if (!e) {
			free(s);
			return NULL;
		}
		/* the root: counter 1, sent only when asked for (GET_ROOT) */
		e->address = (uint64_t)s->next_counter++ << 32 | RPC_ADDRESS_OPTION_CREATED |
			     (c->server ? RPC_ADDRESS_OPTION_FOR_SERVER : 0);
		e->binder = c->root;
		s->exported = e;
	}
	return s;
}

static void end_locked(struct rpc_session *s)
{
	if (s->ended)
		return;
	s->ended = true;
	for (unsigned i = 0; i < s->nconns; i++)
		rpc_stream_shutdown(s->conns[i]->st);
	pthread_cond_broadcast(&s->changed);
}

void rpc_session_end(struct rpc_session *s)
{
	pthread_mutex_lock(&s->lock);
	end_locked(s);
	pthread_mutex_unlock(&s->lock);
}

bool rpc_session_ended(struct rpc_session *s)
{
	pthread_mutex_lock(&s->lock);
	bool ended = s->ended;
	pthread_mutex_unlock(&s->lock);
	return ended;
}

/* A hostile frame: logged, and the session ends. */
static int fail(struct rpc_session *s, const char *why)
{
	log_session(s, why);
	rpc_session_end(s);
	return -1;
}

static struct conn *add_conn(struct rpc_session *s, struct rpc_stream *st, bool calling)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c) {
		c->s = s;
		c->st = st;
		c->calling = calling;
		pthread_mutex_init(&c->wlock, NULL);
	}
	rpc_stream_set_timeout(st, FRAME_TIMEOUT_S);
	pthread_mutex_lock(&s->lock);
	if (!c || s->ended || s->nconns == MAX_CONNECTIONS) {
		pthread_mutex_unlock(&s->lock);
		free(c);
		rpc_stream_close(st);
		return NULL;
	}
	s->conns[s->nconns++] = c;
	if (!calling)
		s->servers++;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return c;
}

int rpc_session_add_calling(struct rpc_session *s, struct rpc_stream *st)
{
	return add_conn(s, st, true) ? 0 : -1;
}

static void *serve_thread(void *p)
{
	struct conn *c = p;

	serve_loop(c);
	return NULL;
}

int rpc_session_serve_async(struct rpc_session *s, struct rpc_stream *st)
{
	struct conn *c = add_conn(s, st, false);
	pthread_t t;

	if (!c)
		return -1;
	if (pthread_create(&t, NULL, serve_thread, c)) {
		rpc_session_end(s);
		pthread_mutex_lock(&s->lock);
		s->servers--;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	pthread_detach(t);
	return 0;
}

void rpc_session_wait(struct rpc_session *s)
{
	pthread_mutex_lock(&s->lock);
	while (!s->ended || s->servers)
		pthread_cond_wait(&s->changed, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

void rpc_session_get_stats(struct rpc_session *s, struct rpc_session_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = (struct rpc_session_stats){ .standins = s->nstandins,
					   .bad_dec_strong = s->bad_dec_strong };
	for (struct exported *e = s->exported; e; e = e->next)
		out->exported += e->sent > 0;
	pthread_mutex_unlock(&s->lock);
}

/* --- frames -------------------------------------------------------------- */

/* One frame: its head (with @nfds descriptors @fds on it) and its data. */
static int write_frame(struct conn *c, const void *head, size_t head_size, const void *data,
		       size_t size, const int *fds, unsigned nfds)
{
	int err;

	pthread_mutex_lock(&c->wlock);
	err = rpc_write_full_fds(c->st, head, head_size, fds, nfds) ||
	      rpc_write_full(c->st, data, size);
	pthread_mutex_unlock(&c->wlock);
	return err ? -1 : 0;
}

/* The descriptors that came with a frame (fd mode Unix). */
struct frame_fds {
	int fd[RPC_MAX_OBJECTS];
	unsigned n;
};

static void close_fds(struct frame_fds *f)
{
	while (f->n)
		close(f->fd[--f->n]);
}

/*
 * The next frame on @c: its header, a malloc'd body and the descriptors
 * on its header (@fds, empty unless the session carries them). Waits
 * without a limit for its first byte, then FRAME_TIMEOUT_S for the rest.
 * -1 when the connection ends or the frame is refused (logged).
 */
static int read_frame(struct conn *c, struct rpc_wire_header *h, uint8_t **body,
		      struct frame_fds *fds)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE];
	int err;

	fds->n = 0;
	if (rpc_stream_wait_readable(c->st))
		return -1;
	if (c->s->c.fds ? rpc_read_full_fds(c->st, head, sizeof(head), fds->fd, &fds->n,
					    RPC_MAX_OBJECTS)
			: rpc_read_full(c->st, head, sizeof(head))) {
		close_fds(fds);
		return -1;
	}
	err = rpc_decode_wire_header(head, sizeof(head), h);
	if (err) {
		close_fds(fds);
		return fail(c->s, rpc_wire_strerror(err));
	}
	*body = malloc(h->body_size ? h->body_size : 1);
	if (!*body) {
		close_fds(fds);
		return fail(c->s, "out of memory");
	}
	if (rpc_read_full(c->st, *body, h->body_size)) {
		free(*body);
		close_fds(fds);
		return fail(c->s, "the peer stopped mid-frame");
	}
	return 0;
}

/* A frame with head @head and the parcel @out (data, object table,
 * descriptors); @out may be NULL for none. */
static int write_parcel_frame(struct conn *c, const uint8_t *head, size_t head_size,
			      const struct rpc_buf *out)
{
	size_t size = out ? out->size : 0, table = out ? 4 * (size_t)out->nobjects : 0;
	uint8_t *frame;
	int err;

	if (!table)
		return write_frame(c, head, head_size, size ? out->data : NULL, size, NULL, 0);
	frame = malloc(size + table);
	if (!frame)
		return -1;
	memcpy(frame, out->data, size);
	memcpy(frame + size, out->objects, table);
	err = write_frame(c, head, head_size, frame, size + table, out->fds, out->nobjects);
	free(frame);
	return err;
}

/* A reply: @out's parcel (none when @status is an error, or @out NULL). */
static int send_reply(struct conn *c, int32_t status, const struct rpc_buf *out)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE];
	int n;

	if (status)
		out = NULL;
	n = rpc_encode_reply_head(head, status, out ? (uint32_t)out->size : 0,
				  out ? out->nobjects : 0);
	if (n < 0)
		return send_reply(c, STATUS_BAD_VALUE, NULL);
	return write_parcel_frame(c, head, (size_t)n, out);
}

/* A raw reply of @size bytes at @data (the session's special answers). */
static int send_raw_reply(struct conn *c, int32_t status, const void *data, size_t size)
{
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_REPLY_SIZE];
	int n = rpc_encode_reply_head(head, status, (uint32_t)size, 0);

	return n < 0 ? -1 : write_frame(c, head, (size_t)n, data, size, NULL, 0);
}

/*
 * DEC_STRONG @amount of the peer's @address. On a calling connection, busy
 * or not, which the peer's server thread reads (between calls, or while it
 * waits inside one); a serving connection is read by the peer only while it
 * waits for a reply, so it is used only when there is no calling one (a
 * client that offered no incoming connection reads it with its next reply,
 * as libbinder's does).
 */
static void send_dec_strong(struct rpc_session *s, uint64_t address, uint64_t amount)
{
	uint8_t frame[RPC_WIRE_HEADER_SIZE + RPC_DEC_STRONG_SIZE];
	struct conn *c;

	while (amount) {
		struct rpc_dec_strong d = { .address = address,
					    .amount = amount > UINT32_MAX ? UINT32_MAX
									  : (uint32_t)amount };

		amount -= d.amount;
		rpc_encode_dec_strong(frame, &d);
		pthread_mutex_lock(&s->lock);
		c = s->nconns && !s->ended ? s->conns[0] : NULL;
		for (unsigned i = 0; c && i < s->nconns; i++) {
			if (s->conns[i]->calling) {
				c = s->conns[i];
				break;
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (c && write_frame(c, frame, sizeof(frame), NULL, 0, NULL, 0))
			rpc_session_end(s);
	}
}

/* --- objects --------------------------------------------------------------- */

static bool ours(const struct rpc_session *s, uint64_t address)
{
	return !!(address & RPC_ADDRESS_OPTION_FOR_SERVER) == s->c.server;
}

static struct exported *find_exported(struct rpc_session *s, uint64_t address)
{
	for (struct exported *e = s->exported; e; e = e->next) {
		if (e->address == address)
			return e;
	}
	return NULL;
}

static int handle_call(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		       ubinder_parcel *reply, void *userdata);
static int standin_dump(ubinder_binder *self, int fd, const char *const *args, size_t nargs,
			void *userdata);

/* The stand-in's object went: nothing holds it (nor our weak reference). */
static void standin_destroy(void *p)
{
	struct standin *st = p;
	struct rpc_session *s = st->s;
	bool last;

	pthread_mutex_lock(&s->lock);
	for (struct standin **pp = &s->standins; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	s->nstandins--;
	last = s->freeing && s->nstandins == 0;
	pthread_mutex_unlock(&s->lock);
	free(st);
	if (last)
		free(s);
}

/*
 * Stand-ins nothing holds strongly any more: their counts go back to the
 * peer and the session lets them go (under s->lock; the weak references
 * to drop are returned in @drop, to be dropped without the lock).
 */
struct retired {
	uint64_t address, amount;
	ubinder_weak *weak;
};

static size_t sweep_locked(struct rpc_session *s, struct retired *out, size_t max)
{
	size_t n = 0;

	for (struct standin *st = s->standins; st && n < max; st = st->next) {
		ubinder_binder *b;

		if (!st->weak)
			continue;
		if (ubinder_weak_promote(st->weak, &b) == 0) {
			/* held: dropping the reference just taken never frees it,
			 * since our weak reference remains */
			ubinder_binder_unref(b);
			continue;
		}
		out[n++] = (struct retired){ st->address, st->received, st->weak };
		st->weak = NULL;
		st->received = 0;
	}
	return n;
}

static void sweep(struct rpc_session *s)
{
	struct retired r[16];
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->ended ? 0 : sweep_locked(s, r, 16);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		send_dec_strong(s, r[i].address, r[i].amount);
		ubinder_weak_unref(r[i].weak); /* may destroy the stand-in */
	}
}

static int make_standin(struct rpc_session *s, uint64_t address, const char *descriptor,
			ubinder_binder **out)
{
	struct standin *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	st->s = s;
	st->address = address;
	err = ubinder_binder_new(s->c.ctx, descriptor, handle_call, st, standin_destroy, out);
	if (err) {
		free(st);
		return err;
	}
	st->self = *out;
	ubinder_binder_set_dump_handler(*out, standin_dump);
	if (ubinder_binder_get_weak(*out, &st->weak)) {
		/* without a weak reference the stand-in cannot be found again: it
		 * still works, and gives its count back only at the session's end */
		st->weak = NULL;
	}
	st->received = 1;
	st->next = s->standins;
	s->standins = st;
	s->nstandins++;
	return 0;
}

static int from_address(void *p, uint64_t address, const char *descriptor, ubinder_binder **out)
{
	struct rpc_session *s = p;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (!(address & RPC_ADDRESS_OPTION_CREATED)) {
		err = STATUS_BAD_VALUE;
	} else if (ours(s, address)) {
		struct exported *e = find_exported(s, address);

		/* only what the peer was given may come back */
		if (e && e->sent)
			*out = ubinder_binder_ref(e->binder);
		else
			err = STATUS_BAD_VALUE;
	} else {
		struct standin *st;

		for (st = s->standins; st; st = st->next) {
			if (st->address == address && st->weak &&
			    ubinder_weak_promote(st->weak, out) == 0)
				break;
		}
		if (st)
			st->received++;
		else
			err = make_standin(s, address, descriptor, out);
	}
	pthread_mutex_unlock(&s->lock);
	if (err == STATUS_BAD_VALUE)
		fail(s, "a binder at an address it was never given");
	return err;
}

static int to_address(void *p, ubinder_binder *b, uint64_t *address)
{
	struct rpc_session *s = p;
	struct exported *e;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	for (struct standin *st = s->standins; st; st = st->next) {
		if (st->self == b) {
			/* the peer's own object goes back as its address: no count */
			*address = st->address;
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
	}
	for (e = s->exported; e; e = e->next) {
		if (e->binder == b)
			break;
	}
	if (!e && (e = calloc(1, sizeof(*e))) != NULL) {
		e->address = (uint64_t)s->next_counter++ << 32 | RPC_ADDRESS_OPTION_CREATED |
			     (s->c.server ? RPC_ADDRESS_OPTION_FOR_SERVER : 0);
		e->binder = b;
		e->next = s->exported;
		s->exported = e;
	}
	if (!e) {
		err = -ENOMEM;
	} else {
		if (e->sent++ == 0 && b != s->c.root)
			ubinder_binder_ref(b); /* the root's reference is the owner's */
		*address = e->address;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Forgets @e once the peer holds it no more and nothing serves it (under
 * s->lock); returns the reference to drop without the lock, or NULL. The
 * root stays: its address is the session's for good. */
static ubinder_binder *retire_exported(struct rpc_session *s, struct exported *e)
{
	ubinder_binder *drop;

	if (e->sent || e->serving || e->binder == s->c.root)
		return NULL;
	for (struct exported **pp = &s->exported; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	drop = e->binder;
	free(e);
	return drop;
}

static void handle_dec_strong(struct rpc_session *s, const struct rpc_dec_strong *d)
{
	ubinder_binder *drop = NULL;
	struct exported *e;
	bool bad;

	pthread_mutex_lock(&s->lock);
	e = find_exported(s, d->address);
	bad = !e || d->amount > e->sent;
	if (!bad) {
		e->sent -= d->amount;
		drop = retire_exported(s, e);
	}
	if (bad && s->bad_dec_strong++ == 0)
		fprintf(stderr,
			"ubinder-rpc: %s: ignoring a DEC_STRONG of a reference it does not hold\n",
			s->c.name);
	pthread_mutex_unlock(&s->lock);
	ubinder_binder_unref(drop);
}

/* --- calls ----------------------------------------------------------------- */

static const struct rpc_objects *objects(struct rpc_session *s, struct rpc_objects *o)
{
	*o = (struct rpc_objects){ .session = s,
				   .to_address = to_address,
				   .from_address = from_address,
				   .fds = s->c.fds };
	return o;
}

/* A calling connection for a new call chain: the current one if this
 * thread is inside a chain of @s, else a free one (waited for). */
static struct conn *take_conn(struct rpc_session *s, bool *took)
{
	struct conn *c = NULL;

	*took = false;
	if (current && current->s == s)
		return current;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		bool any = false;

		if (s->ended)
			break;
		for (unsigned i = 0; i < s->nconns && !c; i++) {
			any |= s->conns[i]->calling;
			if (s->conns[i]->calling && !s->conns[i]->busy)
				c = s->conns[i];
		}
		if (c || !any)
			break;
		pthread_cond_wait(&s->changed, &s->lock);
	}
	if (c) {
		c->busy = true;
		*took = true;
	}
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void give_conn(struct conn *c)
{
	pthread_mutex_lock(&c->s->lock);
	c->busy = false;
	pthread_cond_broadcast(&c->s->changed);
	pthread_mutex_unlock(&c->s->lock);
}

static int serve_frame(struct conn *c, const struct rpc_wire_header *h, const uint8_t *body,
		       struct frame_fds *fds);

/*
 * Sends a transaction to the peer's @address on @c and, unless oneway,
 * serves what the peer sends on @c until its reply: *reply views *body,
 * and @fds holds the reply's descriptors (the caller closes them).
 * Returns 0, or DEAD_OBJECT when the session is gone.
 */
static int call_on(struct conn *c, uint64_t address, uint32_t code, uint32_t flags,
		   const struct rpc_buf *data, uint64_t async_number, struct rpc_reply *reply,
		   uint8_t **body, struct frame_fds *fds)
{
	struct rpc_transaction t = { .address = address,
				     .code = code,
				     .flags = flags,
				     .async_number = async_number,
				     .parcel = { .data_size = (uint32_t)data->size,
						 .object_count = data->nobjects } };
	uint8_t head[RPC_WIRE_HEADER_SIZE + RPC_TRANSACTION_SIZE];
	struct rpc_wire_header h;
	int n = rpc_encode_transaction_head(head, &t);

	if (n < 0)
		return STATUS_BAD_VALUE;
	fds->n = 0;
	if (write_parcel_frame(c, head, (size_t)n, data)) {
		rpc_session_end(c->s);
		return STATUS_DEAD_OBJECT;
	}
	if (flags & RPC_FLAG_ONEWAY)
		return 0;
	for (;;) {
		if (read_frame(c, &h, body, fds)) {
			rpc_session_end(c->s);
			return STATUS_DEAD_OBJECT;
		}
		if (h.command == RPC_COMMAND_REPLY)
			break;
		/* a nested call of this chain, or a DEC_STRONG */
		int err = serve_frame(c, &h, *body, fds);

		free(*body);
		if (err)
			return STATUS_DEAD_OBJECT;
	}
	n = rpc_decode_reply(*body, h.body_size, reply);
	if (!n && reply->parcel.object_count > fds->n)
		n = RPC_WIRE_BAD_OBJECT; /* more objects than descriptors came */
	if (n) {
		free(*body);
		close_fds(fds);
		fail(c->s, rpc_wire_strerror(n));
		return STATUS_DEAD_OBJECT;
	}
	return 0;
}

/* A call to the peer's @address, in kernel form both ways. */
static int call_peer(struct rpc_session *s, uint64_t address, uint64_t *async_counter,
		     const struct ubinder_call *call, ubinder_parcel *data, ubinder_parcel *reply)
{
	bool oneway = call->flags & UBINDER_FLAG_ONEWAY, took;
	struct rpc_parcel_kind kind = { .code = call->code };
	struct rpc_buf req = { 0 };
	struct rpc_objects o;
	struct rpc_reply r;
	struct conn *c, *saved = current;
	struct frame_fds fds = { .n = 0 };
	uint8_t *body = NULL;
	uint64_t async_number = 0;
	int status;

	status = rpc_parcel_to_rpc(s->c.layouts, &kind, data, objects(s, &o), &req);
	if (status)
		goto out;
	c = take_conn(s, &took);
	if (!c) {
		status = STATUS_DEAD_OBJECT;
		goto out;
	}
	if (oneway) {
		pthread_mutex_lock(&s->lock);
		async_number = (*async_counter)++;
		pthread_mutex_unlock(&s->lock);
	}
	current = c;
	status = call_on(c, address, call->code, oneway ? RPC_FLAG_ONEWAY : 0, &req, async_number,
			 &r, &body, &fds);
	current = saved;
	if (took)
		give_conn(c);
	if (status == 0 && !oneway) {
		status = r.status;
		kind.reply = true;
		if (status == 0)
			status = rpc_parcel_to_kernel(s->c.layouts, &kind, &r.parcel, fds.fd, fds.n,
						      &o, reply);
		free(body);
		close_fds(&fds);
	}
out:
	rpc_buf_free(&req);
	free(kind.descriptor);
	sweep(s);
	return status;
}

/* A stand-in's handler: the call goes to the peer's object. */
static int handle_call(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		       ubinder_parcel *reply, void *userdata)
{
	struct standin *st = userdata;

	(void)self;
	return call_peer(st->s, st->address, &st->next_async, call, data, reply);
}

/*
 * A stand-in's dump (DUMP_TRANSACTION, which libubinder answers for every
 * local object): sent to the peer's object as the kernel form writes it,
 * the descriptor, the count and the arguments; without descriptor
 * transport the translation refuses it (BAD_VALUE).
 */
static int standin_dump(ubinder_binder *self, int fd, const char *const *args, size_t nargs,
			void *userdata)
{
	struct standin *st = userdata;
	struct ubinder_call call = { .code = UBINDER_DUMP_TRANSACTION };
	ubinder_parcel *data = ubinder_parcel_new(), *reply = ubinder_parcel_new();
	int err = data && reply ? 0 : UBINDER_ERR_NO_MEMORY;

	(void)self;
	if (!err && fd >= 0)
		err = ubinder_parcel_write_fd(data, fd);
	if (!err)
		err = ubinder_parcel_write_int32(data, (int32_t)nargs);
	for (size_t i = 0; !err && i < nargs; i++)
		err = ubinder_parcel_write_string16_utf8(data, args[i]);
	if (!err)
		err = call_peer(st->s, st->address, &st->next_async, &call, data, reply);
	ubinder_parcel_free(data);
	ubinder_parcel_free(reply);
	return err;
}

/* --- serving ------------------------------------------------------------------ */

/* A oneway call numbered past the next: wait (bounded) for its elders,
 * which another connection carries. */
static bool oneway_turn(struct rpc_session *s, struct exported *e, uint64_t number)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ONEWAY_WAIT_S;
	while (!s->ended && e->next_async < number) {
		if (pthread_cond_timedwait(&s->changed, &s->lock, &deadline) == ETIMEDOUT)
			break;
	}
	return !s->ended && e->next_async == number;
}

static int serve_special(struct conn *c, const struct rpc_transaction *t)
{
	struct rpc_session *s = c->s;
	uint32_t words[1 + RPC_SESSION_ID_SIZE / 4];
	struct exported *e;

	switch (t->code) {
	case RPC_SPECIAL_GET_ROOT: {
		uint32_t root[4] = { 0, 0, 0, 0 };
		size_t size = 8;

		pthread_mutex_lock(&s->lock);
		for (e = s->exported; e && e->binder != s->c.root; e = e->next)
			;
		if (s->c.root && e) {
			e->sent++;
			root[0] = RPC_OBJECT_BINDER;
			memcpy(&root[1], &e->address, 8);
			root[3] = STABILITY_SYSTEM;
			size = 16;
		}
		pthread_mutex_unlock(&s->lock);
		return send_raw_reply(c, STATUS_OK, root, size);
	}
	case RPC_SPECIAL_GET_MAX_THREADS:
		words[0] = s->c.max_threads;
		return send_raw_reply(c, STATUS_OK, words, 4);
	case RPC_SPECIAL_GET_SESSION_ID:
		/* a byte vector: its length, then the bytes */
		words[0] = RPC_SESSION_ID_SIZE;
		memcpy(&words[1], s->id, sizeof(s->id));
		return send_raw_reply(c, STATUS_OK, words, sizeof(words));
	}
	return send_raw_reply(c, STATUS_UNKNOWN_TRANSACTION, NULL, 0);
}

static int serve_transaction(struct conn *c, const struct rpc_transaction *t,
			     const struct frame_fds *fds)
{
	struct rpc_session *s = c->s;
	bool oneway = t->flags & RPC_FLAG_ONEWAY;
	struct rpc_parcel_kind kind = { .code = t->code };
	ubinder_parcel *req = NULL, *reply = NULL;
	ubinder_binder *target = NULL;
	struct rpc_buf out = { 0 };
	struct rpc_objects o;
	struct exported *e;
	struct conn *saved = current;
	int status, err = 0;

	if (t->address == 0)
		return oneway ? 0 : serve_special(c, t);
	if (t->parcel.object_count > fds->n)
		return fail(s, s->c.fds ? "more objects than descriptors"
					: "descriptors on a session without descriptor transport");
	pthread_mutex_lock(&s->lock);
	e = ours(s, t->address) ? find_exported(s, t->address) : NULL;
	if (e && e->sent) {
		target = ubinder_binder_ref(e->binder);
		e->serving++;
	}
	if (target && oneway && !oneway_turn(s, e, t->async_number)) {
		ubinder_binder_unref(target);
		target = NULL;
		e->serving--;
	}
	pthread_mutex_unlock(&s->lock);
	if (!target)
		return fail(s, oneway ? "a oneway call out of order"
				      : "a transaction to an address it holds no reference to");
	req = ubinder_parcel_new();
	status = req ? rpc_parcel_to_kernel(s->c.layouts, &kind, &t->parcel, fds->fd, fds->n,
					    objects(s, &o), req)
		     : -ENOMEM;
	if (status && rpc_session_ended(s)) {
		err = -1; /* a lying binder ended the session */
		goto out;
	}
	current = c;
	if (status == 0)
		status = ubinder_binder_transact(target, t->code, req,
						 oneway ? UBINDER_FLAG_ONEWAY : 0,
						 oneway ? NULL : &reply);
	current = saved;
	if (oneway) {
		pthread_mutex_lock(&s->lock);
		e->next_async++;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		goto out;
	}
	if (status == 0) {
		kind.reply = true;
		status = rpc_parcel_to_rpc(s->c.layouts, &kind, reply, &o, &out);
	}
	err = send_reply(c, status, &out);
out:
	pthread_mutex_lock(&s->lock);
	e->serving--;
	ubinder_binder *drop = retire_exported(s, e);
	pthread_mutex_unlock(&s->lock);
	ubinder_binder_unref(drop);
	ubinder_parcel_free(req);
	ubinder_parcel_free(reply);
	ubinder_binder_unref(target);
	rpc_buf_free(&out);
	free(kind.descriptor);
	sweep(s);
	return err;
}

/* Serves one frame that is not a reply; closes the descriptors it came with
 * (the kernel parcels made from them hold duplicates). */
static int serve_frame(struct conn *c, const struct rpc_wire_header *h, const uint8_t *body,
		       struct frame_fds *fds)
{
	struct rpc_transaction t;
	struct rpc_dec_strong d;
	int err;

	switch (h->command) {
	case RPC_COMMAND_TRANSACT:
		err = rpc_decode_transaction(body, h->body_size, &t);
		err = err ? fail(c->s, rpc_wire_strerror(err)) : serve_transaction(c, &t, fds);
		break;
	case RPC_COMMAND_DEC_STRONG:
		err = rpc_decode_dec_strong(body, h->body_size, &d);
		if (err)
			err = fail(c->s, rpc_wire_strerror(err));
		else
			handle_dec_strong(c->s, &d);
		break;
	default:
		err = fail(c->s, "a reply to a call never made");
	}
	close_fds(fds);
	return err;
}

static void serve_loop(struct conn *c)
{
	struct rpc_session *s = c->s;
	struct rpc_wire_header h;
	struct frame_fds fds;
	uint8_t *body;

	current = c;
	while (read_frame(c, &h, &body, &fds) == 0) {
		int err = serve_frame(c, &h, body, &fds);

		free(body);
		if (err)
			break;
	}
	current = NULL;
	pthread_mutex_lock(&s->lock);
	end_locked(s); /* one connection gone ends the session, as in libbinder */
	s->servers--;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

void rpc_session_watch(struct rpc_session *s)
{
	struct pollfd pfd[MAX_CONNECTIONS];
	unsigned n;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		n = s->ended ? 0 : s->nconns;
		for (unsigned i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = rpc_stream_fd(s->conns[i]->st),
						  .events = POLLRDHUP };
		pthread_mutex_unlock(&s->lock);
		if (!n)
			break;
		if (poll(pfd, n, 1000) > 0) {
			for (unsigned i = 0; i < n; i++) {
				if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
					rpc_session_end(s);
			}
		}
		sweep(s);
	}
	rpc_session_wait(s);
}

/* --- the client's special calls --------------------------------------------- */

/* A special transaction (address 0) on a calling connection: *body holds
 * the reply, whose status and parcel *r views. */
static int call_special(struct rpc_session *s, uint32_t code, struct rpc_reply *r, uint8_t **body)
{
	struct rpc_buf none = { 0 };
	struct frame_fds fds;
	bool took;
	struct conn *c = take_conn(s, &took), *saved = current;
	int err;

	if (!c)
		return STATUS_DEAD_OBJECT;
	current = c;
	err = call_on(c, 0, code, 0, &none, 0, r, body, &fds);
	close_fds(&fds);
	current = saved;
	if (took)
		give_conn(c);
	if (!err && r->status) {
		free(*body);
		err = r->status;
	}
	return err;
}

/* The String16 at the start of @p (@size bytes) as UTF-8 (malloc'd), or NULL. */
static char *read_descriptor(const uint8_t *p, size_t size)
{
	ubinder_parcel *k = ubinder_parcel_new();
	char *d = NULL;
	int err = k ? 0 : -1;

	for (size_t at = 0; !err && at + 4 <= size; at += 4) {
		uint32_t w;

		memcpy(&w, p + at, 4);
		err = ubinder_parcel_write_uint32(k, w);
	}
	if (!err && ubinder_parcel_set_position(k, 0) == 0)
		ubinder_parcel_read_string16_utf8(k, &d);
	ubinder_parcel_free(k);
	return d;
}

int rpc_session_get_root(struct rpc_session *s, ubinder_binder **out)
{
	struct rpc_buf none = { 0 };
	struct rpc_reply r;
	uint8_t *body;
	uint32_t present = 0;
	uint64_t address = 0;
	char *descriptor = NULL;
	struct frame_fds fds;
	bool took;
	struct conn *c;
	int err = call_special(s, RPC_SPECIAL_GET_ROOT, &r, &body);

	if (err)
		return err;
	if (r.parcel.data_size >= 12) {
		memcpy(&present, r.parcel.data, 4);
		memcpy(&address, r.parcel.data + 4, 8);
	}
	free(body);
	if (present != RPC_OBJECT_BINDER || !(address & RPC_ADDRESS_OPTION_CREATED) ||
	    ours(s, address))
		return STATUS_BAD_VALUE;
	/* its interface, so that local callers see the one they talk to */
	c = take_conn(s, &took);
	if (!c)
		return STATUS_DEAD_OBJECT;
	err = call_on(c, address, UBINDER_INTERFACE_TRANSACTION, 0, &none, 0, &r, &body, &fds);
	close_fds(&fds);
	if (took)
		give_conn(c);
	if (err)
		return err;
	if (r.status == 0)
		descriptor = read_descriptor(r.parcel.data, r.parcel.data_size);
	free(body);
	pthread_mutex_lock(&s->lock);
	err = make_standin(s, address, descriptor, out);
	pthread_mutex_unlock(&s->lock);
	free(descriptor);
	return err;
}

int rpc_session_get_max_threads(struct rpc_session *s, uint32_t *out)
{
	struct rpc_reply r;
	uint8_t *body;
	int err = call_special(s, RPC_SPECIAL_GET_MAX_THREADS, &r, &body);

	if (err)
		return err;
	err = r.parcel.data_size >= 4 ? 0 : STATUS_BAD_VALUE;
	if (!err)
		memcpy(out, r.parcel.data, 4);
	free(body);
	return err;
}

int rpc_session_get_id(struct rpc_session *s, uint8_t id[RPC_SESSION_ID_SIZE])
{
	struct rpc_reply r;
	uint8_t *body;
	uint32_t n = 0;
	int err = call_special(s, RPC_SPECIAL_GET_SESSION_ID, &r, &body);

	if (err)
		return err;
	if (r.parcel.data_size >= 4 + RPC_SESSION_ID_SIZE)
		memcpy(&n, r.parcel.data, 4);
	err = n == RPC_SESSION_ID_SIZE ? 0 : STATUS_BAD_VALUE;
	if (!err) {
		memcpy(id, r.parcel.data + 4, RPC_SESSION_ID_SIZE);
		memcpy(s->id, id, RPC_SESSION_ID_SIZE);
	}
	free(body);
	return err;
}

void rpc_session_free(struct rpc_session *s)
{
	struct standin *st;
	bool last;

	if (!s)
		return;
	while (s->exported) {
		struct exported *e = s->exported;

		s->exported = e->next;
		if (e->sent && e->binder != s->c.root)
			ubinder_binder_unref(e->binder);
		free(e);
	}
	for (unsigned i = 0; i < s->nconns; i++) {
		rpc_stream_close(s->conns[i]->st);
		free(s->conns[i]);
	}
	/* the stand-ins free themselves when their objects go; the last one
	 * frees the session */
	pthread_mutex_lock(&s->lock);
	s->freeing = true;
	last = s->nstandins == 0;
	st = s->standins;
	pthread_mutex_unlock(&s->lock);
	while (st) {
		struct standin *next = st->next;
		ubinder_weak *w = st->weak;

		st->weak = NULL;
		ubinder_weak_unref(w);
		st = next;
	}
	if (last)
		free(s);
}
