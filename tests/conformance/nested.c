/* SPDX-License-Identifier: MIT */
/*
 * Nested and recursive calls: C calls P; while handling it, P sends a oneway
 * to C's node and calls C; C's thread, waiting for its reply, receives that
 * call (not the oneway), and calls P back, which reaches P's waiting thread.
 * The oneway waits for a thread of C without a transaction stack.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch; /* P (end 0) <-> C (end 1) */

#define C_PTR	 0xc1
#define C_COOKIE 0xc2

static void client(void *arg)
{
	(void)arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct wbuf w;
	struct rw r;
	struct flat_binder_object obj = fbo_binder(C_PTR, C_COOKIE, 0);
	uint64_t off = 0;

	/* code 1 to P, carrying C's node; blocks until P's nested call */
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, 0, &obj, sizeof(obj), &off, 8);
	bwr(&c, &w, 512, &r);
	show_brief(&c, "[BC_TRANSACTION code 1] + read", &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (!t || t->code != 2)
		fail("expected P's call with code 2");
	free_buffer(&c, t->data.ptr.buffer);

	/* code 3 to P from inside the handling of code 2 */
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 3, 0, "c3", 2, NULL, 0);
	bwr(&c, &w, 512, &r);
	show_brief(&c, "[BC_TRANSACTION code 3] + read", &r);
	t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);

	/* reply to code 2 */
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0x20, 0, "r2", 2, NULL, 0);
	run_show(&c, "[BC_REPLY to code 2] + read", &w, 512, &r);
	put(&ch, 1, 1);

	/* wait for the reply to code 1 */
	bwr(&c, NULL, 512, &r);
	show_brief(&c, "read", &r);
	t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	put(&ch, 1, 1);
	get(&ch, 1);

	/* now idle: the oneway comes */
	bwr_nb(&c, NULL, 512, &r);
	show_brief(&c, "non-blocking read when idle", &r);
	t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	put(&ch, 1, 1);
}

int main(void)
{
	conf_start("P", 30);
	struct bdev m;
	open_ctxmgr(&m);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);
	struct wbuf w;
	struct rw r;

	const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
	uint64_t buf1 = it->tr.data.ptr.buffer;
	const struct flat_binder_object *o = (const void *)(uintptr_t)buf1;
	uint32_t h = o->handle;

	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, h, 4, TF_ONE_WAY, "o4", 2, NULL, 0);
	run_show(&m, "[oneway code 4 to C's node] + read", &w, 512, &r);

	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, h, 2, 0, "c2", 2, NULL, 0);
	bwr(&m, &w, 512, &r);
	show_brief(&m, "[BC_TRANSACTION code 2 to C's node] + read", &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (!t || t->code != 3)
		fail("expected C's call with code 3");
	free_buffer(&m, t->data.ptr.buffer);

	/* reply to code 3, write only */
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0x30, 0, "r3", 2, NULL, 0);
	bwr(&m, &w, 0, &r);
	get(&ch, 0);
	show(&m, "[BC_REPLY to code 3] write only", &r);

	/* the reply to code 2 is queued by now */
	bwr(&m, NULL, 512, &r);
	show_brief(&m, "read", &r);
	t = find_txn(&r);
	if (t)
		free_buffer(&m, t->data.ptr.buffer);

	/* reply to code 1 */
	w_reset(&w);
	w_free(&w, buf1);
	w_txn(&w, BC_REPLY, 0, 0x10, 0, "r1", 2, NULL, 0);
	bwr(&m, &w, 512, &r);
	get(&ch, 0);
	show_brief(&m, "[BC_FREE_BUFFER code 1, BC_REPLY to code 1] + read", &r);
	put(&ch, 0, 1);
	get(&ch, 0);
	reap(cp);
	say("done");
	return 0;
}
