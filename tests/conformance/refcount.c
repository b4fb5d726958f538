/* SPDX-License-Identifier: MIT */
/*
 * The reference count protocol between a node's owner (A) and a ref holder
 * (S, the context manager): BR_INCREFS/BR_ACQUIRE and their acks,
 * BR_RELEASE/BR_DECREFS when refs go, refs held by buffers, weak refs, bad
 * refcount and ack commands, GET_NODE_DEBUG_INFO / GET_NODE_INFO_FOR_REF.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch; /* S (end 0) <-> A (end 1) */
static struct bdev s;

enum {
	A_END,
	A_SEND,
	A_SEND_WEAK,
	A_SEND_ONEWAY,
	A_ACK,
	A_READ,
	A_DEBUG,
	A_RAW_DONE
};

static struct rw pending; /* A: the last read with BR_INCREFS/BR_ACQUIRE */

static struct chan chh; /* S (end 0) <-> H (end 1) */

/* H: gets a handle from S, keeps it with BC_ACQUIRE, then waits to die. */
static void holder(void *arg)
{
	(void)arg;
	struct bdev h;
	bd_open(&h, CONF_DEV, CONF_MAP_SIZE);
	put(&chh, 1, 1);
	get(&chh, 1);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 7, 0, NULL, 0, NULL, 0);
	bwr(&h, &w, 1024, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (!t || !txn_obj(t, 0))
		fail("no handle from S");
	uint32_t handle = txn_obj(t, 0)->handle;
	w_reset(&w);
	w_ref(&w, BC_ACQUIRE, handle);
	w_free(&w, t->data.ptr.buffer);
	bwr(&h, &w, 0, &r);
	say("got handle %u from S and acquired it", handle);
	put(&chh, 1, 1);
	get(&chh, 1); /* killed meanwhile */
}

static void a_debug(struct bdev *a)
{
	char line[256] = "GET_NODE_DEBUG_INFO walk:";
	size_t n = strlen(line);
	struct binder_node_debug_info di;
	memset(&di, 0, sizeof(di));
	for (int i = 0; i < 8; i++) {
		uint64_t from = di.ptr;
		memset(&di, 0, sizeof(di));
		di.ptr = from;
		if (xioctl(a->fd, BINDER_GET_NODE_DEBUG_INFO, &di) < 0)
			fail("GET_NODE_DEBUG_INFO");
		if (!di.ptr)
			break;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " {%#llx %#llx s%u w%u}",
				      (unsigned long long)di.ptr, (unsigned long long)di.cookie,
				      di.has_strong_ref, di.has_weak_ref);
	}
	if (di.ptr == 0)
		snprintf(line + n, sizeof(line) - n, " end");
	say("%s", line);
}

static void actor(void *arg)
{
	(void)arg;
	struct bdev a;
	bd_open(&a, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint64_t cmd = get(&ch, 1);
		if (cmd == A_END)
			break;
		struct wbuf w;
		struct rw r;
		switch (cmd) {
		case A_SEND:
		case A_SEND_WEAK:
		case A_SEND_ONEWAY: {
			uint64_t ptr = get(&ch, 1);
			struct objs o;
			objs_reset(&o);
			objs_binder(&o,
				    cmd == A_SEND_WEAK ? BINDER_TYPE_WEAK_BINDER
						       : BINDER_TYPE_BINDER,
				    ptr, ptr + 1, 0);
			w_reset(&w);
			w_txn_objs(&w, BC_TRANSACTION, 0, 1, cmd == A_SEND_ONEWAY ? TF_ONE_WAY : 0,
				   &o);
			bwr(&a, &w, 1024, &r);
			if (cmd == A_SEND_ONEWAY)
				get(&ch, 1); /* S has printed what it received */
			char what[64];
			snprintf(what, sizeof(what), "send %s%s %#llx",
				 cmd == A_SEND_WEAK ? "WEAK_BINDER" : "BINDER",
				 cmd == A_SEND_ONEWAY ? " oneway" : "", (unsigned long long)ptr);
			show_brief(&a, what, &r);
			pending = r;
			const struct binder_transaction_data *t = find_txn(&r);
			if (t)
				free_buffer(&a, t->data.ptr.buffer);
			break;
		}
		case A_ACK: {
			int n = ack_node_refs(&a, &pending);
			say("acked %d", n);
			memset(&pending, 0, sizeof(pending));
			break;
		}
		case A_READ:
			bwr_nb(&a, NULL, 1024, &r);
			show_brief(&a, "non-blocking read", &r);
			if (find(&r, BR_INCREFS) || find(&r, BR_ACQUIRE))
				pending = r;
			break;
		case A_DEBUG:
			a_debug(&a);
			break;
		case A_RAW_DONE: {
			uint32_t bc = (uint32_t)get(&ch, 1);
			uint64_t ptr = get(&ch, 1), cookie = get(&ch, 1);
			w_reset(&w);
			w_ptr_cookie(&w, bc, ptr, cookie);
			char what[96];
			snprintf(what, sizeof(what), "[%s %#llx %#llx]", bcname(bc),
				 (unsigned long long)ptr, (unsigned long long)cookie);
			run_show(&a, what, &w, 0, &r);
			break;
		}
		}
		put(&ch, 1, 1);
	}
}

/* ---- S side ---- */

static void a_do(uint64_t cmd)
{
	put(&ch, 0, cmd);
	if (cmd != A_END)
		get(&ch, 0);
}

static void info(uint32_t h)
{
	struct binder_node_info_for_ref ni;
	memset(&ni, 0, sizeof(ni));
	ni.handle = h;
	int r = xioctl(s.fd, BINDER_GET_NODE_INFO_FOR_REF, &ni);
	if (r)
		say("  ref %u: %s", h, res(r));
	else
		say("  ref %u: node strong=%u weak=%u", h, ni.strong_count, ni.weak_count);
}

/* A sends node ptr (kind A_SEND / A_SEND_WEAK / A_SEND_ONEWAY); S reads
 * it, prints the handle, runs pre before freeing the buffer. */
static uint32_t a_send(uint64_t kind, uint64_t ptr, const char *pre_what, const struct wbuf *pre)
{
	put(&ch, 0, kind);
	put(&ch, 0, ptr);
	struct rw r;
	const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
	struct binder_transaction_data t = it->tr;
	const struct flat_binder_object *f = txn_obj(&t, 0);
	uint32_t h = f->handle;
	say("  holding the buffer:");
	info(h);
	if (kind == A_SEND_ONEWAY)
		put(&ch, 0, 1);
	struct wbuf w;
	w_reset(&w);
	if (pre)
		w_bytes(&w, pre->b, pre->len);
	w_free(&w, t.data.ptr.buffer);
	struct rw rr;
	if (kind != A_SEND_ONEWAY)
		w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
	bwr(&s, &w, 0, &rr);
	get(&ch, 0);
	say("[%sBC_FREE_BUFFER%s] -> %s wc=%llu", pre_what ? pre_what : "",
	    kind != A_SEND_ONEWAY ? ", BC_REPLY" : "", rr.ret < 0 ? errname(rr.err) : "ok",
	    (unsigned long long)rr.wc);
	bwr_nb(&s, NULL, 256, &rr); /* consume S's own BR_TRANSACTION_COMPLETE */
	info(h);
	return h;
}

static void s_cmds(const char *what, uint32_t c1, uint32_t h1, uint32_t c2, uint32_t h2)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_ref(&w, c1, h1);
	if (c2)
		w_ref(&w, c2, h2);
	run_show(&s, what, &w, 0, &r);
}

static void raw_done(uint32_t bc, uint64_t ptr, uint64_t cookie)
{
	put(&ch, 0, A_RAW_DONE);
	put(&ch, 0, bc);
	put(&ch, 0, ptr);
	put(&ch, 0, cookie);
	get(&ch, 0);
}

int main(void)
{
	conf_start("S", 30);
	open_ctxmgr(&s);
	chan_init(&ch);
	pid_t a = spawn("A", actor, NULL);
	struct wbuf pre;
	uint32_t h;

	say("-- a ref held only by the buffer; A acks late");
	h = a_send(A_SEND, 0xa0, NULL, NULL);
	a_do(A_DEBUG);
	a_do(A_READ);
	a_do(A_ACK);
	a_do(A_READ);
	a_do(A_DEBUG);

	say("-- S acquires, A acks at once; S releases");
	w_reset(&pre);
	h = a_send(A_SEND, 0xa0, "BC_ACQUIRE, ", (w_ref(&pre, BC_ACQUIRE, 1), &pre));
	a_do(A_ACK);
	a_do(A_READ);
	s_cmds("[BC_RELEASE]", BC_RELEASE, h, 0, 0);
	info(h);
	a_do(A_READ);
	a_do(A_DEBUG);

	say("-- weak ref kept by S: strong goes, weak stays; upgrade; then weak goes");
	w_reset(&pre);
	w_ref(&pre, BC_INCREFS, 1);
	h = a_send(A_SEND, 0xa0, "BC_INCREFS, ", &pre);
	a_do(A_ACK);
	a_do(A_READ);
	a_do(A_DEBUG);
	s_cmds("[BC_ACQUIRE] on the weak-only ref", BC_ACQUIRE, h, 0, 0);
	info(h);
	a_do(A_READ);
	s_cmds("[BC_DECREFS]", BC_DECREFS, h, 0, 0);
	info(h);
	a_do(A_READ);
	a_do(A_DEBUG);

	say("-- a WEAK_BINDER: weak only");
	w_reset(&pre);
	w_ref(&pre, BC_INCREFS, 1);
	h = a_send(A_SEND_WEAK, 0xa0, "BC_INCREFS, ", &pre);
	a_do(A_ACK);
	a_do(A_DEBUG);
	s_cmds("[BC_DECREFS]", BC_DECREFS, h, 0, 0);
	a_do(A_READ);

	say("-- two strong refs from S; underflow; unknown handles");
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 1);
	w_ref(&pre, BC_ACQUIRE, 1);
	h = a_send(A_SEND, 0xa0, "BC_ACQUIRE x2, ", &pre);
	a_do(A_ACK);
	s_cmds("[BC_RELEASE]", BC_RELEASE, h, 0, 0);
	info(h);
	a_do(A_READ);
	s_cmds("[BC_INCREFS, BC_RELEASE]", BC_INCREFS, h, BC_RELEASE, h);
	info(h);
	a_do(A_READ);
	s_cmds("[BC_RELEASE, BC_RELEASE] (underflow)", BC_RELEASE, h, BC_RELEASE, h);
	info(h);
	a_do(A_READ);
	s_cmds("[BC_DECREFS, BC_DECREFS] (the second one on a deleted ref)", BC_DECREFS, h,
	       BC_DECREFS, h);
	a_do(A_READ);
	s_cmds("[BC_ACQUIRE 77, BC_INCREFS 77]", BC_ACQUIRE, 77, BC_INCREFS, 77);
	s_cmds("[BC_RELEASE 77, BC_DECREFS 77]", BC_RELEASE, 77, BC_DECREFS, 77);

	say("-- bad acks from the owner");
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 1);
	h = a_send(A_SEND, 0xb0, "BC_ACQUIRE, ", &pre);
	raw_done(BC_ACQUIRE_DONE, 0xbad, 0xbad + 1);
	raw_done(BC_ACQUIRE_DONE, 0xb0, 0xff);
	raw_done(BC_INCREFS_DONE, 0xb0, 0xb1);
	raw_done(BC_INCREFS_DONE, 0xb0, 0xb1);
	s_cmds("[BC_RELEASE]", BC_RELEASE, h, 0, 0);
	a_do(A_READ);
	raw_done(BC_ACQUIRE_DONE, 0xb0, 0xb1);
	a_do(A_READ);
	a_do(A_DEBUG);

	say("-- a node sent in a oneway");
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 1);
	h = a_send(A_SEND_ONEWAY, 0xc0, "BC_ACQUIRE, ", &pre);
	a_do(A_ACK);
	s_cmds("[BC_RELEASE]", BC_RELEASE, h, 0, 0);
	a_do(A_READ);

	say("-- the last holder of a ref dies");
	chan_init(&chh);
	pid_t hp = spawn("H", holder, NULL);
	get(&chh, 0);
	w_reset(&pre);
	w_ref(&pre, BC_ACQUIRE, 1);
	h = a_send(A_SEND, 0xd0, "BC_ACQUIRE, ", &pre);
	a_do(A_ACK);
	put(&chh, 0, 1);
	struct rw r;
	const struct br *it = read_until(&s, "read", BR_TRANSACTION, &r);
	struct objs o;
	objs_reset(&o);
	objs_handle(&o, BINDER_TYPE_HANDLE, h, 0);
	struct wbuf w;
	w_reset(&w);
	w_free(&w, it->tr.data.ptr.buffer);
	w_txn_objs(&w, BC_REPLY, 0, 0, 0, &o);
	bwr(&s, &w, 256, &r);
	get(&chh, 0);
	s_cmds("[BC_RELEASE] (S drops its own ref)", BC_RELEASE, h, 0, 0);
	a_do(A_READ);
	kill_reap(hp);
	wait_binder_gone(&s, hp);
	say("H was killed");
	a_do(A_READ);
	a_do(A_DEBUG);

	a_do(A_END);
	reap(a);
	say("done");
	return 0;
}
