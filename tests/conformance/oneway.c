/* SPDX-License-Identifier: MIT */
/*
 * Oneway transactions: one in flight per node, delivered in order, the next
 * released by BC_FREE_BUFFER of the previous; nodes are independent; sync
 * calls are not held back by pending oneways.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch; /* P (end 0) <-> C (end 1) */
static struct bdev m;  /* P: context manager, owns node 0xb0 too */

#define NODE_PTR    0xb0
#define NODE_COOKIE 0xc0

/* C: for each request (handle << 32 | code): code < 100 -> oneway, else a
 * sync call whose reply is printed. code 1000: first call, whose reply
 * carries P's node. */
static void client(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint64_t v = get(&ch, 1);
		if (v == 0)
			break;
		uint32_t handle = (uint32_t)(v >> 32), code = (uint32_t)v;
		struct wbuf w;
		struct rw r;
		w_reset(&w);
		w_txn(&w, BC_TRANSACTION, handle, code, code < 100 ? TF_ONE_WAY : 0, &code, 4, NULL,
		      0);
		bwr(&c, &w, 256, &r);
		if (code < 100) {
			if (!find(&r, BR_TRANSACTION_COMPLETE))
				fail("oneway failed");
		} else {
			show_brief(&c, "call", &r);
			const struct binder_transaction_data *t = find_txn(&r);
			if (t) {
				/* keep the handle: acquire it before freeing */
				if (t->offsets_size) {
					struct wbuf w2;
					w_reset(&w2);
					const struct flat_binder_object *o =
						(const void *)(uintptr_t)t->data.ptr.buffer;
					w_ref(&w2, BC_ACQUIRE, o->handle);
					bwr(&c, &w2, 0, &r);
				}
				free_buffer(&c, t->data.ptr.buffer);
			}
		}
		put(&ch, 1, 1);
	}
}

static void send(uint32_t handle, uint32_t code)
{
	put(&ch, 0, (uint64_t)handle << 32 | code);
	get(&ch, 0);
}

static uint64_t nb_read(const char *what)
{
	struct rw r;
	bwr_nb(&m, NULL, 256, &r);
	show_brief(&m, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	return t ? t->data.ptr.buffer : 0;
}

static uint64_t free_and_read(const char *what, uint64_t buf)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_free(&w, buf);
	bwr_nb(&m, &w, 256, &r);
	show_brief(&m, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	return t ? t->data.ptr.buffer : 0;
}

int main(void)
{
	conf_start("P", 30);
	open_ctxmgr(&m);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);

	say("-- three oneways to one node");
	send(0, 1);
	send(0, 2);
	send(0, 3);
	uint64_t b1 = nb_read("non-blocking read");
	nb_read("non-blocking read");
	uint64_t b2 = free_and_read("[BC_FREE_BUFFER 1st] + non-blocking read", b1);
	uint64_t b3 = free_and_read("[BC_FREE_BUFFER 2nd] + non-blocking read", b2);
	free_and_read("[BC_FREE_BUFFER 3rd] + non-blocking read", b3);

	say("-- P gives C a second node (0xb0) in a reply");
	put(&ch, 0, 1000);
	struct rw r;
	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	free_buffer(&m, it->tr.data.ptr.buffer);
	struct flat_binder_object obj = fbo_binder(NODE_PTR, NODE_COOKIE, 0);
	uint64_t off = 0;
	struct wbuf w;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, &obj, sizeof(obj), &off, 8);
	bwr(&m, &w, 256, &r);
	get(&ch, 0);
	show_brief(&m, "reply", &r);
	/* P's node gets its BR_INCREFS/BR_ACQUIRE when C acquires the handle */
	bwr_nb(&m, NULL, 256, &r);
	show_brief(&m, "non-blocking read", &r);
	w_reset(&w);
	w_ptr_cookie(&w, BC_INCREFS_DONE, NODE_PTR, NODE_COOKIE);
	w_ptr_cookie(&w, BC_ACQUIRE_DONE, NODE_PTR, NODE_COOKIE);
	bwr(&m, &w, 0, &r);

	say("-- oneways to two nodes are independent");
	send(0, 4);
	send(0, 5);
	send(1, 6);
	send(1, 7);
	uint64_t x = nb_read("non-blocking read");
	uint64_t y = nb_read("non-blocking read");
	nb_read("non-blocking read");
	uint64_t x2 = free_and_read("[BC_FREE_BUFFER code 4] + non-blocking read", x);
	uint64_t y2 = free_and_read("[BC_FREE_BUFFER code 6] + non-blocking read", y);
	free_buffer(&m, x2);
	free_buffer(&m, y2);

	say("-- a sync call is not held back by a pending oneway");
	send(0, 8);
	send(0, 9);
	uint64_t o8 = nb_read("non-blocking read");
	put(&ch, 0, 100);
	it = read_until(&m, "read", BR_TRANSACTION, &r);
	free_buffer(&m, it->tr.data.ptr.buffer);
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "ok", 2, NULL, 0);
	bwr(&m, &w, 256, &r);
	get(&ch, 0);
	show_brief(&m, "reply", &r);
	uint64_t o9 = free_and_read("[BC_FREE_BUFFER code 8] + non-blocking read", o8);
	free_buffer(&m, o9);

	put(&ch, 0, 0);
	reap(cp);
	say("done");
	return 0;
}
