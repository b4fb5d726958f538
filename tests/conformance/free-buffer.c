/* SPDX-License-Identifier: MIT */
/*
 * BC_FREE_BUFFER misuse: unknown pointers, a pointer into the middle of a
 * buffer, double free, a buffer not yet delivered, another process's buffer.
 * The kernel ignores all of them silently (no return code, no errno).
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch; /* P (end 0) <-> C (end 1) */
static struct bdev m;  /* P: context manager */

/* C sends, for each value received: v < 100 a oneway with code v and data
 * "v=<v>", v == 100 a call, whose reply buffer it frees twice; 0 ends. */
static void client(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint64_t v = get(&ch, 1);
		if (v == 0)
			break;
		char data[16];
		int n = snprintf(data, sizeof(data), "v=%llu", (unsigned long long)v);
		struct wbuf w;
		struct rw r;
		w_reset(&w);
		w_txn(&w, BC_TRANSACTION, 0, (uint32_t)v, v < 100 ? TF_ONE_WAY : 0, data, (size_t)n,
		      NULL, 0);
		bwr(&c, &w, 256, &r);
		if (v < 100) {
			if (!find(&r, BR_TRANSACTION_COMPLETE))
				fail("oneway failed");
		} else {
			show_brief(&c, "call", &r);
			const struct binder_transaction_data *t = find_txn(&r);
			if (!t)
				fail("no reply");
			uint64_t buf = t->data.ptr.buffer;
			w_reset(&w);
			w_free(&w, buf);
			w_free(&w, buf);
			w_free(&w, get(&ch, 1)); /* P's buffer address, foreign to C */
			run_show(&c, "[BC_FREE_BUFFER reply, again, P's buffer address]", &w, 0,
				 &r);
			bwr_nb(&c, NULL, 256, &r);
			show(&c, "non-blocking read", &r);
		}
		put(&ch, 1, 1);
	}
}

static void send(uint64_t v)
{
	put(&ch, 0, v);
	get(&ch, 0);
}

static void frees(const char *what, uint64_t a, uint64_t b)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_free(&w, a);
	if (b != ~0ull)
		w_free(&w, b);
	run_show(&m, what, &w, 0, &r);
}

static const struct binder_transaction_data *nb_read(const char *what, struct rw *r)
{
	bwr_nb(&m, NULL, 256, r);
	show(&m, what, r);
	return find_txn(r);
}

int main(void)
{
	conf_start("P", 30);
	show_buffer_offsets = true;
	open_ctxmgr(&m);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);
	uint64_t base = (uintptr_t)m.map;
	struct rw r;

	say("-- pointers that are no buffer");
	frees("[BC_FREE_BUFFER 0, BC_FREE_BUFFER 0x1234]", 0, 0x1234);
	frees("[BC_FREE_BUFFER map+0, map+4096] (nothing allocated)", base, base + 4096);
	frees("[BC_FREE_BUFFER just past the region]", base + CONF_MAP_SIZE, ~0ull);
	nb_read("non-blocking read", &r);

	say("-- middle of a buffer, double free");
	send(1);
	send(2);
	const struct binder_transaction_data *t = nb_read("read", &r);
	uint64_t a = t->data.ptr.buffer;
	frees("[BC_FREE_BUFFER first buffer + 4]", a + 4, ~0ull);
	nb_read("non-blocking read (the second oneway is still held back)", &r);
	w_reset(&(struct wbuf){ 0 });
	struct wbuf w;
	w_reset(&w);
	w_free(&w, a);
	run_show(&m, "[BC_FREE_BUFFER first buffer] + read", &w, 256, &r);
	t = find_txn(&r);
	uint64_t b = t->data.ptr.buffer;
	frees("[BC_FREE_BUFFER first buffer] again", a, ~0ull);
	nb_read("non-blocking read", &r);
	say("second buffer still reads \"%.3s\"", (const char *)(uintptr_t)b);
	frees("[BC_FREE_BUFFER second buffer]", b, ~0ull);

	say("-- a buffer allocated but not yet delivered");
	send(3);
	send(4);
	t = nb_read("read", &r);
	a = t->data.ptr.buffer;
	uint64_t guess = a + 8;
	frees("[BC_FREE_BUFFER first buffer + 8] (where the second one lies)", guess, ~0ull);
	w_reset(&w);
	w_free(&w, a);
	run_show(&m, "[BC_FREE_BUFFER first buffer] + read", &w, 256, &r);
	t = find_txn(&r);
	say("the second oneway's buffer is first buffer + 8: %s",
	    t && t->data.ptr.buffer == guess ? "yes" : "no");
	say("it reads \"%.3s\"", (const char *)(uintptr_t)t->data.ptr.buffer);
	frees("[BC_FREE_BUFFER second buffer]", t->data.ptr.buffer, ~0ull);

	say("-- the caller's side: its reply buffer, twice, and a foreign address");
	put(&ch, 0, 100);
	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	uint64_t kept = it->tr.data.ptr.buffer;
	reply_bytes(&m, "ok", 2, NULL);
	put(&ch, 0, kept);
	get(&ch, 0);
	frees("[BC_FREE_BUFFER] of the call's buffer", kept, ~0ull);

	put(&ch, 0, 0);
	reap(cp);
	say("done");
	return 0;
}
