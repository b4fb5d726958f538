/* SPDX-License-Identifier: MIT */
/*
 * Synchronous and oneway calls through the context manager: the exact return
 * codes on both sides and how they are batched in reads, identity fields,
 * flags, payload shapes, buffer placement in the receiver's region.
 */
#include "conf.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

static struct chan ch; /* P (end 0) <-> C (end 1) */
static struct bdev m;  /* P is the context manager */
static struct bdev c;  /* C's device */

/* P: reads one transaction (blocking) and prints the read. */
static struct binder_transaction_data receive(const char *what)
{
	struct rw r;
	const struct br *it = read_until(&m, what, BR_TRANSACTION, &r);
	return it->tr;
}

/* P: sends a reply with the given commands before it, keeps the result for
 * printing after C has printed. */
static void reply_then_show(const struct wbuf *pre, uint32_t code, uint32_t flags, const void *data,
			    size_t n, const char *what)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	if (pre)
		w_bytes(&w, pre->b, pre->len);
	w_txn(&w, BC_REPLY, 0, code, flags, data, n, NULL, 0);
	bwr(&m, &w, 256, &r);
	get(&ch, 0); /* C has printed its side */
	show(&m, what, &r);
}

static void c_call(const char *what, uint32_t code, uint32_t flags, const void *data, size_t n,
		   size_t rsize)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, code, flags, data, n, NULL, 0);
	bwr(&c, &w, rsize, &r);
	show(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
}

static void *c_fresh_thread(void *arg)
{
	(void)arg;
	conf_thread_role("C.t2");
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 9, 0, "fresh", 5, NULL, 0);
	bwr(&c, &w, 256, &r);
	show(&c, "first ioctl of a new thread: [BC_TRANSACTION] + read", &r);
	put(&ch, 1, 1);
	bwr(&c, NULL, 256, &r);
	show(&c, "second read", &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	return NULL;
}

static void client(void *arg)
{
	(void)arg;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct wbuf w;
	struct rw r;

	/* 1: plain call, write and read in one ioctl */
	get(&ch, 1);
	c_call("[BC_TRANSACTION] + read", 1, 0, "hello", 5, 256);
	put(&ch, 1, 1);

	/* 2: write only, then reads */
	get(&ch, 1);
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 2, 0, "abc", 3, NULL, 0);
	run_show(&c, "[BC_TRANSACTION] write only", &w, 0, &r);
	bwr_nb(&c, NULL, 256, &r);
	show(&c, "non-blocking read before the reply", &r);
	put(&ch, 1, 1);
	get(&ch, 1); /* P replied */
	bwr(&c, NULL, 256, &r);
	show(&c, "blocking read", &r);
	free_buffer(&c, find_txn(&r)->data.ptr.buffer);
	put(&ch, 1, 1);

	/* 3: all flag bits are passed through */
	get(&ch, 1);
	c_call("call with flags 0x800001fc (no TF_ONE_WAY)", 3, 0x800001fcu & ~TF_ONE_WAY, "f", 1,
	       256);
	put(&ch, 1, 1);

	/* 4, 5: payload shapes */
	get(&ch, 1);
	c_call("call with data_size 0", 4, 0, NULL, 0, 256);
	put(&ch, 1, 1);
	c_call("call with data_size 13", 5, 0, "0123456789abc", 13, 256);
	put(&ch, 1, 1);

	/* 6: a read buffer too small for the reply */
	get(&ch, 1);
	c_call("call with read_size 80", 6, 0, "s", 1, 80);
	put(&ch, 1, 1);
	get(&ch, 1);
	bwr(&c, NULL, 80, &r);
	show(&c, "read_size 80 again", &r);
	free_buffer(&c, find_txn(&r)->data.ptr.buffer);
	put(&ch, 1, 1);

	/* 7: oneway */
	get(&ch, 1);
	c_call("oneway call", 7, TF_ONE_WAY, "one", 3, 256);
	put(&ch, 1, 1);

	/* 8, 9: buffer placement: P keeps the first buffer */
	get(&ch, 1);
	c_call("call (P keeps the buffer)", 8, 0, "12345", 5, 256);
	put(&ch, 1, 1);
	c_call("call", 9, 0, "x", 1, 256);
	put(&ch, 1, 1);
	c_call("call after P freed both", 10, 0, "y", 1, 256);
	put(&ch, 1, 1);

	/* 11: a new thread's first BINDER_WRITE_READ does not block */
	get(&ch, 1);
	pthread_t t;
	pthread_create(&t, NULL, c_fresh_thread, NULL);
	pthread_join(t, NULL);
	put(&ch, 1, 1);

	/* 12: a call of exactly 1 MiB (the whole region) and a 1 MiB reply */
	get(&ch, 1);
	static uint8_t big[CONF_MAP_SIZE];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12));
	c_call("call with 1 MiB of data", 12, 0, big, sizeof(big), 256);
	put(&ch, 1, 1);
}

int main(void)
{
	conf_start("P", 30);
	show_buffer_offsets = true;
	open_ctxmgr(&m);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);
	struct wbuf pre;
	struct binder_transaction_data t;

	say("-- 1: call and reply");
	put(&ch, 0, 1);
	t = receive("read");
	w_reset(&pre);
	w_free(&pre, t.data.ptr.buffer);
	reply_then_show(&pre, 0x55, 0, "world!", 6, "[BC_FREE_BUFFER, BC_REPLY] + read");

	say("-- 2: the caller writes, then reads separately");
	put(&ch, 0, 1);
	get(&ch, 0); /* C's write-only call and non-blocking read are done */
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, "r2", 2, NULL, 0);
	run_show(&m, "[BC_REPLY] write only", &w, 0, &r);
	bwr_nb(&m, NULL, 256, &r);
	show(&m, "non-blocking read", &r);
	put(&ch, 0, 1);
	get(&ch, 0);

	say("-- 3: flags");
	put(&ch, 0, 1);
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_then_show(NULL, 0, 0x800001fcu, NULL, 0, "reply with flags 0x800001fc");

	say("-- 4, 5: payload shapes");
	put(&ch, 0, 1);
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_then_show(NULL, 0, 0, NULL, 0, "empty reply");
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_then_show(NULL, 0, 0, "0123456789abcdefghij", 20, "reply of 20 bytes");

	say("-- 6: small read buffer for the reply");
	put(&ch, 0, 1);
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_then_show(NULL, 0, 0, "r6", 2, "reply");
	put(&ch, 0, 1);
	get(&ch, 0);

	say("-- 7: oneway");
	put(&ch, 0, 1);
	get(&ch, 0);
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);

	say("-- 8..10: buffer placement");
	put(&ch, 0, 1);
	t = receive("read");
	uint64_t kept = t.data.ptr.buffer;
	reply_then_show(NULL, 0, 0, "a", 1, "reply");
	t = receive("read");
	w_reset(&pre);
	w_free(&pre, kept);
	w_free(&pre, t.data.ptr.buffer);
	reply_then_show(&pre, 0, 0, "b", 1, "[BC_FREE_BUFFER x2, BC_REPLY]");
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_then_show(NULL, 0, 0, "c", 1, "reply");

	say("-- 11: a new thread of C calls");
	put(&ch, 0, 1);
	get(&ch, 0); /* its first ioctl returned and was printed */
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	reply_bytes(&m, "r11", 3, NULL);
	get(&ch, 0);

	say("-- 12: 1 MiB each way");
	put(&ch, 0, 1);
	t = receive("read");
	free_buffer(&m, t.data.ptr.buffer);
	static uint8_t big[CONF_MAP_SIZE];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + (i >> 10));
	reply_then_show(NULL, 0, 0, big, sizeof(big), "reply with 1 MiB");
	reap(cp);
	say("done");
	return 0;
}
