/* SPDX-License-Identifier: MIT */
/*
 * Failing transactions and replies: which side sees which return code, the
 * extended error, and the write stream stalling behind an unread error.
 */
#include "conf.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static struct chan ch; /* P (end 0) <-> C (end 1) */
static struct bdev m;  /* P is the context manager */
static struct bdev c;

static void c_txn(const char *what, uint32_t bc, uint32_t handle, uint32_t flags, const void *data,
		  uint64_t n, const void *offs, uint64_t on)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, bc, handle, 1, flags, data, n, offs, on);
	bwr(&c, &w, 256, &r);
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	show_ee(&c, what);
}

static void c_sg(const char *what, uint64_t buffers_size)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn_sg(&w, BC_TRANSACTION_SG, 0, 1, 0, "x", 1, NULL, 0, buffers_size);
	bwr(&c, &w, 256, &r);
	show_brief(&c, what, &r);
	show_ee(&c, what);
}

/* C's calls that P answers: C prints, then lets P print. */
static void c_call_answered(const char *what, uint32_t flags)
{
	get(&ch, 1);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 2, flags, "ping", 4, NULL, 0);
	bwr(&c, &w, 256, &r);
	if (flags & TF_ONE_WAY)
		get(&ch, 1); /* P has printed what it received */
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	show_ee(&c, what);
	put(&ch, 1, 1);
}

static void client(void *arg)
{
	(void)arg;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	uint64_t offs8 = 0;

	say("-- failures seen by the sender alone");
	c_txn("BC_REPLY with no transaction", BC_REPLY, 0, 0, "x", 1, NULL, 0);
	c_txn("BC_REPLY|TF_ONE_WAY with no transaction", BC_REPLY, 0, TF_ONE_WAY, "x", 1, NULL, 0);
	c_txn("call to handle 5 (never given)", BC_TRANSACTION, 5, 0, "x", 1, NULL, 0);
	c_txn("oneway to handle 5", BC_TRANSACTION, 5, TF_ONE_WAY, "x", 1, NULL, 0);
	c_txn("data pointer NULL, data_size 8", BC_TRANSACTION, 0, 0, NULL, 8, NULL, 0);
	c_txn("oneway with data pointer NULL, data_size 0", BC_TRANSACTION, 0, TF_ONE_WAY, NULL, 0,
	      NULL, 0);
	c_txn("offsets pointer NULL, offsets_size 8", BC_TRANSACTION, 0, 0, &offs8, 8, NULL, 8);
	c_txn("offsets_size 4", BC_TRANSACTION, 0, 0, &offs8, 8, &offs8, 4);
	c_txn("offsets_size 12", BC_TRANSACTION, 0, 0, &offs8, 8, &offs8, 12);
	c_txn("data_size 2^40", BC_TRANSACTION, 0, 0, "x", 1ull << 40, NULL, 0);
	c_txn("data_size 2^64-8", BC_TRANSACTION, 0, 0, "x", ~7ull, NULL, 0);
	c_txn("data_size 16, offsets_size 2^64-8", BC_TRANSACTION, 0, 0, "0123456789abcdef", 16,
	      &offs8, ~7ull);
	c_sg("BC_TRANSACTION_SG buffers_size 4", 4);
	c_sg("BC_TRANSACTION_SG buffers_size 2^40", 1ull << 40);

	say("-- an unread error stalls the write stream");
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 5, 1, 0, "x", 1, NULL, 0);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&c, "[BC_TRANSACTION to handle 5, BC_ENTER_LOOPER] write only", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&c, "[BC_ENTER_LOOPER] write only", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&c, "[BC_ENTER_LOOPER] + read", &w, 256, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&c, "[BC_ENTER_LOOPER] write only", &w, 0, &r);
	show_ee(&c, "then");
	put(&ch, 1, 1);

	c_call_answered("call; P replies with a bad object", 0);
	c_call_answered("call; P replies with a bad data pointer", 0);
	c_call_answered("call; P replies twice", 0);
	c_call_answered("oneway; P replies to it", TF_ONE_WAY);
	c_call_answered("call; another thread of P replies first", 0);
}

static struct binder_transaction_data t_in;

/* P's reply attempt; prints after C printed. */
static void p_reply(const char *what, const void *data, uint64_t n, const void *offs, uint64_t on)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, data, n, offs, on);
	bwr(&m, &w, 256, &r);
	get(&ch, 0);
	show(&m, what, &r);
	show_ee(&m, what);
}

static void *other_thread_reply(void *arg)
{
	(void)arg;
	conf_thread_role("P.t2");
	struct binder_version v;
	xioctl(m.fd, BINDER_VERSION, &v);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "t2", 2, NULL, 0);
	run_show(&m, "BC_REPLY from a thread that did not receive the call", &w, 256, &r);
	show_ee(&m, "then");
	return NULL;
}

static void p_receive(void)
{
	put(&ch, 0, 1);
	struct rw r;
	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	t_in = it->tr;
	free_buffer(&m, t_in.data.ptr.buffer);
}

int main(void)
{
	conf_start("P", 30);
	open_ctxmgr(&m);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);
	get(&ch, 0);

	struct rw r0;
	const struct br *it =
		read_until(&m, "the oneway with a NULL data pointer", BR_TRANSACTION, &r0);
	free_buffer(&m, it->tr.data.ptr.buffer);
	say("-- failing replies");
	struct wbuf w;
	struct rw r;
	uint64_t bad_off = 100;
	p_receive();
	p_reply("reply with offsets [100] in 4 bytes of data", "pong", 4, &bad_off, 8);
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "pong", 4, NULL, 0);
	run_show(&m, "BC_REPLY again", &w, 256, &r);
	show_ee(&m, "BC_REPLY again");

	p_receive();
	p_reply("reply with data pointer NULL, data_size 8", NULL, 8, NULL, 0);

	p_receive();
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "pong", 4, NULL, 0);
	bwr(&m, &w, 256, &r);
	get(&ch, 0);
	show(&m, "reply", &r);
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "pong", 4, NULL, 0);
	run_show(&m, "BC_REPLY again", &w, 256, &r);
	show_ee(&m, "BC_REPLY again");

	p_receive();
	put(&ch, 0, 1);
	get(&ch, 0);
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "pong", 4, NULL, 0);
	run_show(&m, "BC_REPLY to a oneway", &w, 256, &r);
	show_ee(&m, "BC_REPLY to a oneway");

	p_receive();
	pthread_t t;
	pthread_create(&t, NULL, other_thread_reply, NULL);
	pthread_join(t, NULL);
	p_reply("then the receiving thread replies", "pong", 4, NULL, 0);

	reap(cp);
	say("done");
	return 0;
}
