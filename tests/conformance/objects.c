/* SPDX-License-Identifier: MIT */
/*
 * Object translation: binder <-> handle, handle numbering per process (and
 * reuse), identity on the way back to the owner, three processes passing a
 * handle, flags and cookies.
 * S is the context manager and relays; A owns nodes 0xa1, 0xa3, 0xa5, 0xa7;
 * B and C get handles through S and call A.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan cha, chb, chc; /* S (end 0) <-> A, B, C (end 1) */
static struct bdev s;

enum {
	STOP = 99
};

/* Client side: one call with objects; prints the read(s) until the reply,
 * acks node refs, acquires received handles (strong or weak) before freeing
 * the reply. */
static struct rw last;
static void call(struct bdev *b, const char *what, uint32_t handle, uint32_t code,
		 const struct objs *o)
{
	struct wbuf w;
	struct objs none;
	objs_reset(&none);
	w_reset(&w);
	w_txn_objs(&w, BC_TRANSACTION, handle, code, 0, o ? o : &none);
	bwr(b, &w, 1024, &last);
	show_brief(b, what, &last);
	if (ack_node_refs(b, &last))
		say("  (acked with BC_INCREFS_DONE/BC_ACQUIRE_DONE)");
	const struct binder_transaction_data *t = find_txn(&last);
	if (!t) {
		show_ee(b, what);
		return;
	}
	w_reset(&w);
	for (size_t i = 0; txn_obj(t, i); i++) {
		const struct flat_binder_object *f = txn_obj(t, i);
		if (f->hdr.type == BINDER_TYPE_HANDLE)
			w_ref(&w, BC_ACQUIRE, f->handle);
		if (f->hdr.type == BINDER_TYPE_WEAK_HANDLE)
			w_ref(&w, BC_INCREFS, f->handle);
	}
	w_free(&w, t->data.ptr.buffer);
	struct rw r;
	bwr(b, &w, 0, &r);
}

/* A: makes its calls on S's orders, then serves calls to its nodes. */
static void actor_a(void *arg)
{
	(void)arg;
	struct bdev a;
	bd_open(&a, CONF_DEV, CONF_MAP_SIZE);
	struct objs o;

	get(&cha, 1);
	objs_reset(&o);
	objs_binder(&o, BINDER_TYPE_BINDER, 0xa1, 0xa2, 0x17f);
	call(&a, "call S with [BINDER 0xa1 flags 0x17f]", 0, 1, &o);
	put(&cha, 1, 1);

	get(&cha, 1);
	objs_reset(&o);
	objs_binder(&o, BINDER_TYPE_BINDER, 0xa3, 0xa4, 0);
	objs_binder(&o, BINDER_TYPE_BINDER, 0xa1, 0xa2, 0);
	objs_binder(&o, BINDER_TYPE_WEAK_BINDER, 0xa5, 0xa6, 0);
	call(&a, "call S with [BINDER 0xa3, BINDER 0xa1, WEAK_BINDER 0xa5]", 0, 2, &o);
	put(&cha, 1, 1);

	get(&cha, 1);
	objs_reset(&o);
	objs_binder(&o, BINDER_TYPE_BINDER, 0xa1, 0xff, 0);
	call(&a, "call S with [BINDER 0xa1 but cookie 0xff]", 0, 3, &o);
	objs_reset(&o);
	objs_binder(&o, BINDER_TYPE_WEAK_BINDER, 0xa1, 0xa2, 0);
	call(&a, "call S with [WEAK_BINDER 0xa1] (a strong node sent weak)", 0, 3, &o);
	put(&cha, 1, 1);

	get(&cha, 1);
	call(&a, "call S (S replies with its handles 1, 2, 3)", 0, 4, NULL);
	put(&cha, 1, 1);

	/* serve */
	enter_looper(&a);
	put(&cha, 1, 1);
	for (;;) {
		struct rw r;
		const struct br *it = read_until(&a, "read", BR_TRANSACTION, &r);
		ack_node_refs(&a, &r);
		uint32_t code = it->tr.code;
		free_buffer(&a, it->tr.data.ptr.buffer);
		if (code == STOP)
			break;
		reply_bytes(&a, "from A", 6, NULL);
	}
	get(&cha, 1);
	objs_reset(&o);
	objs_binder(&o, BINDER_TYPE_BINDER, 0xa7, 0xa8, 0);
	call(&a, "call S with [BINDER 0xa7]", 0, 9, &o);
	put(&cha, 1, 1);
	get(&cha, 1);
}

static void actor_b(void *arg)
{
	(void)arg;
	struct bdev b;
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);
	get(&chb, 1);
	call(&b, "call S (S replies with its handle 1)", 0, 5, NULL);
	put(&chb, 1, 1);
	get(&chb, 1);
	call(&b, "call handle 1", 1, 6, NULL);
	put(&chb, 1, 1);
	get(&chb, 1);
	struct objs o;
	objs_reset(&o);
	objs_handle(&o, BINDER_TYPE_HANDLE, 1, 0);
	call(&b, "call S with [HANDLE 1]", 0, 7, &o);
	put(&chb, 1, 1);
	get(&chb, 1);
}

static void actor_c(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	get(&chc, 1);
	call(&c, "call S (S replies with its handles 2, 1)", 0, 8, NULL);
	put(&chc, 1, 1);
	get(&chc, 1);
	call(&c, "call handle 2", 2, 6, NULL);
	put(&chc, 1, 1);
	get(&chc, 1);
}

/* S: reads one call, runs pre (acquires etc.), frees it, replies with o,
 * waits for the caller's token, prints its own result. */
static void serve(struct chan *ch, const char *pre_what, const struct wbuf *pre,
		  const struct objs *o)
{
	put(ch, 0, 1);
	struct rw r;
	const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
	struct wbuf w;
	w_reset(&w);
	if (pre)
		w_bytes(&w, pre->b, pre->len);
	w_free(&w, it->tr.data.ptr.buffer);
	struct objs none;
	objs_reset(&none);
	w_txn_objs(&w, BC_REPLY, 0, 0, 0, o ? o : &none);
	bwr(&s, &w, 1024, &r);
	get(ch, 0);
	show_brief(&s, pre_what, &r);
}

static void info(uint32_t h)
{
	struct binder_node_info_for_ref ni;
	memset(&ni, 0, sizeof(ni));
	ni.handle = h;
	int r = xioctl(s.fd, BINDER_GET_NODE_INFO_FOR_REF, &ni);
	say("GET_NODE_INFO_FOR_REF(%u) -> %s strong=%u weak=%u", h, res(r), ni.strong_count,
	    ni.weak_count);
}

int main(void)
{
	conf_start("S", 30);
	open_ctxmgr(&s);
	chan_init(&cha);
	chan_init(&chb);
	chan_init(&chc);
	pid_t a = spawn("A", actor_a, NULL);
	pid_t b = spawn("B", actor_b, NULL);
	pid_t c = spawn("C", actor_c, NULL);
	struct wbuf pre;
	struct objs o;

	say("-- A sends its nodes to S");
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 1);
	serve(&cha, "[BC_ACQUIRE 1, BC_FREE_BUFFER, BC_REPLY] + read", &pre, NULL);
	info(1);
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 2);
	w_ref(&pre, BC_INCREFS, 3);
	serve(&cha, "[BC_ACQUIRE 2, BC_INCREFS 3, BC_FREE_BUFFER, BC_REPLY] + read", &pre, NULL);
	info(1);
	info(2);
	info(3);
	put(&cha, 0, 1); /* the failing calls: S sees nothing of the first */
	struct rw r;
	const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
	free_buffer(&s, it->tr.data.ptr.buffer);
	reply_bytes(&s, NULL, 0, NULL);
	get(&cha, 0);

	say("-- S sends its handles back to their owner");
	objs_reset(&o);
	objs_handle(&o, BINDER_TYPE_HANDLE, 1, 0x55);
	objs_handle(&o, BINDER_TYPE_HANDLE, 2, 0);
	objs_handle(&o, BINDER_TYPE_WEAK_HANDLE, 3, 0);
	serve(&cha, "reply [HANDLE 1 flags 0x55, HANDLE 2, WEAK_HANDLE 3] + read", NULL, &o);
	get(&cha, 0); /* A serves now */

	say("-- B gets handle 1 from S and calls it; passes it back to S");
	objs_reset(&o);
	objs_handle(&o, BINDER_TYPE_HANDLE, 1, 0);
	serve(&chb, "reply [HANDLE 1] + read", NULL, &o);
	put(&chb, 0, 1);
	get(&chb, 0);
	serve(&chb, "reply + read", NULL, NULL);

	say("-- C gets S's handles 2 and 1 and calls the second");
	objs_reset(&o);
	objs_handle(&o, BINDER_TYPE_HANDLE, 2, 0);
	objs_handle(&o, BINDER_TYPE_HANDLE, 1, 0);
	serve(&chc, "reply [HANDLE 2, HANDLE 1] + read", NULL, &o);
	put(&chc, 0, 1);
	get(&chc, 0);

	say("-- S drops handle 2; A's next node gets the lowest free handle");
	w_reset(&pre);
	w_ref(&pre, BC_RELEASE, 2);
	struct rw rr;
	run_show(&s, "[BC_RELEASE 2]", &pre, 0, &rr);
	info(2);
	send_empty_oneway(&s, 1, STOP); /* A stops serving */
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 2);
	serve(&cha, "[BC_ACQUIRE 2, BC_FREE_BUFFER, BC_REPLY] + read", &pre, NULL);
	info(2);

	put(&cha, 0, 1);
	put(&chb, 0, 1);
	put(&chc, 0, 1);
	reap(a);
	reap(b);
	reap(c);
	say("done");
	return 0;
}
