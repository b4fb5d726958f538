/* SPDX-License-Identifier: MIT */
/*
 * Deaths around transactions: the target dies before reading a call, while
 * handling it; the caller dies before the reply; calls to a node whose owner
 * died.
 */
#include "conf.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static struct chan chx; /* P (end 0) <-> X (end 1) */
static struct chan chc; /* P (end 0) <-> C (end 1) */

/* X: context manager. mode 0: waits until a call is queued and tells P
 * (without reading it); mode 1: reads the call, tells P; mode 2: reads the
 * call, tells P, waits, replies; mode 3: replies to C's first call with its
 * node 0xd0. Then waits to be killed (or for P's word). */
static void server(void *arg)
{
	int mode = (int)(intptr_t)arg;
	struct bdev x;
	open_ctxmgr(&x);
	put(&chx, 1, 1);
	struct rw r;
	if (mode == 0) {
		struct pollfd pf = { .fd = x.fd, .events = POLLIN };
		poll(&pf, 1, 10000);
		put(&chx, 1, 1);
		get(&chx, 1);
		return;
	}
	const struct br *it = read_until(&x, "read", BR_TRANSACTION, &r);
	uint64_t buf = it->tr.data.ptr.buffer;
	if (mode == 3) {
		struct flat_binder_object obj = fbo_binder(0xd0, 0xd1, 0);
		uint64_t off = 0;
		struct wbuf w;
		w_reset(&w);
		w_free(&w, buf);
		w_txn(&w, BC_REPLY, 0, 0, 0, &obj, sizeof(obj), &off, 8);
		bwr(&x, &w, 256, &r);
		put(&chx, 1, 1);
		get(&chx, 1);
		return;
	}
	put(&chx, 1, 1);
	if (mode == 2) {
		get(&chx, 1); /* the caller is dead by now */
		struct wbuf w;
		w_reset(&w);
		w_free(&w, buf);
		w_txn(&w, BC_REPLY, 0, 0, 0, "late", 4, NULL, 0);
		run_show(&x, "[BC_FREE_BUFFER, BC_REPLY] to the dead caller + read", &w, 256, &r);
		show_ee(&x, "BC_REPLY to the dead caller");
		bwr_nb(&x, NULL, 256, &r);
		show(&x, "non-blocking read", &r);
		put(&chx, 1, 1);
	}
	get(&chx, 1);
}

static struct bdev c;

static void call(const char *what, uint32_t handle, uint32_t flags)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, handle, 1, flags, "call", 4, NULL, 0);
	bwr(&c, &w, 256, &r);
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		if (t->offsets_size) {
			const struct flat_binder_object *o =
				(const void *)(uintptr_t)t->data.ptr.buffer;
			struct wbuf w2;
			struct rw r2;
			w_reset(&w2);
			w_ref(&w2, BC_ACQUIRE, o->handle);
			bwr(&c, &w2, 0, &r2);
		}
		free_buffer(&c, t->data.ptr.buffer);
	}
	if (!find(&r, BR_REPLY))
		show_ee(&c, what);
}

/* C: makes the calls P asks for: value = handle << 8 | flags, 255 = end. */
static void client(void *arg)
{
	(void)arg;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	put(&chc, 1, 1);
	for (;;) {
		uint64_t v = get(&chc, 1);
		if (v == 255)
			break;
		call((v & TF_ONE_WAY) ? "oneway" : "call", (uint32_t)(v >> 8),
		     (uint32_t)(v & 0xff));
		put(&chc, 1, 1);
	}
}

int main(void)
{
	conf_start("P", 40);
	struct bdev p;
	bd_open(&p, CONF_DEV, 0);
	chan_init(&chx);
	chan_init(&chc);
	pid_t x, cp;

	say("-- the target dies with the call queued, unread");
	x = spawn("X", server, (void *)(intptr_t)0);
	get(&chx, 0);
	cp = spawn("C", client, NULL);
	get(&chc, 0);
	put(&chc, 0, 0);
	get(&chx, 0); /* queued */
	kill_reap(x);
	get(&chc, 0);
	wait_binder_gone(&p, x);

	say("-- the target dies while handling the call");
	x = spawn("X", server, (void *)(intptr_t)1);
	get(&chx, 0);
	put(&chc, 0, 0);
	get(&chx, 0); /* read */
	kill_reap(x);
	get(&chc, 0);
	wait_binder_gone(&p, x);

	say("-- the caller dies before the reply");
	x = spawn("X", server, (void *)(intptr_t)2);
	get(&chx, 0);
	put(&chc, 0, 0);
	get(&chx, 0); /* read */
	kill_reap(cp);
	wait_binder_gone(&p, cp);
	put(&chx, 0, 1);
	get(&chx, 0);
	put(&chx, 0, 1);
	reap(x);
	wait_binder_gone(&p, x);

	say("-- calls to a node whose owner died");
	x = spawn("X", server, (void *)(intptr_t)3);
	get(&chx, 0);
	cp = spawn("C", client, NULL);
	get(&chc, 0);
	put(&chc, 0, 0);
	get(&chc, 0);
	get(&chx, 0);
	kill_reap(x);
	wait_binder_gone(&p, x);
	put(&chc, 0, 1 << 8);
	get(&chc, 0);
	put(&chc, 0, 1 << 8 | TF_ONE_WAY);
	get(&chc, 0);
	put(&chc, 0, 0);
	get(&chc, 0);
	put(&chc, 0, 255);
	reap(cp);
	say("done");
	return 0;
}
