/* SPDX-License-Identifier: MIT */
/*
 * Malformed object lists in a transaction: offsets outside the data,
 * misaligned, overlapping, out of order, unknown types, forged handles,
 * objects that are not listed, a failure after a valid object. C sends to
 * S (the context manager), which prints whatever arrives.
 */
#include "conf.h"

#include <string.h>
#include <unistd.h>

static struct chan ch;

#define STOP 99

static void serve(void *arg)
{
	(void)arg;
	struct bdev s;
	open_ctxmgr(&s);
	put(&ch, 1, 1);
	serve_until_code(&s, STOP, NULL, 0); /* C makes synchronous calls only */
	put(&ch, 1, 1);
}

static struct bdev c;

/* Sends data with the given offsets; prints the result and ee. */
static void send(const char *what, const void *data, size_t n, const uint64_t *offs, size_t k)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, 0, data, n, offs, k * 8);
	bwr(&c, &w, 1024, &r);
	show_brief(&c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	if (!find(&r, BR_REPLY))
		show_ee(&c, what);
	ack_node_refs(&c, &r);
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t s = spawn("S", serve, NULL);
	get(&ch, 0);
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);

	struct flat_binder_object b1 = fbo_binder(0xe0, 0xe1, 0);
	struct flat_binder_object b2 = fbo_binder(0xf0, 0xf1, 0);
	uint8_t buf[128];
	uint64_t offs[4];

	say("-- baseline");
	memcpy(buf, &b1, 24);
	offs[0] = 0;
	send("[BINDER 0xe0] at 0 of 24", buf, 24, offs, 1);

	say("-- offsets");
	offs[0] = 24;
	send("offset 24 of 24 (at the end)", buf, 24, offs, 1);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 8, &b1, 24);
	offs[0] = 8;
	send("offset 8 of 24 (object runs past the end)", buf, 24, offs, 1);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 2, &b1, 24);
	offs[0] = 2;
	send("offset 2 of 32 (not 4-aligned)", buf, 32, offs, 1);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 4, &b1, 24);
	offs[0] = 4;
	send("offset 4 of 28 (4-aligned, not 8-aligned)", buf, 28, offs, 1);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &b1, 24);
	memcpy(buf + 24, &b2, 24);
	offs[0] = 0;
	offs[1] = 8;
	send("offsets [0, 8] (overlapping)", buf, 48, offs, 2);
	offs[0] = 24;
	offs[1] = 0;
	send("offsets [24, 0] (decreasing)", buf, 48, offs, 2);
	offs[0] = 0;
	offs[1] = 0;
	send("offsets [0, 0] (the same object twice)", buf, 48, offs, 2);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &b1, 24);
	memcpy(buf + 32, &b2, 24);
	offs[0] = 0;
	offs[1] = 32;
	send("offsets [0, 32] of 56 (a gap between objects)", buf, 56, offs, 2);
	offs[0] = 0;
	offs[1] = 1000;
	send("offsets [0, 1000] of 56 (second far out: after a valid object)", buf, 56, offs, 2);

	say("-- types and handles");
	struct flat_binder_object o = b1;
	o.hdr.type = 0x12345678;
	memcpy(buf, &o, 24);
	offs[0] = 0;
	send("type 0x12345678", buf, 24, offs, 1);
	o.hdr.type = 0;
	memcpy(buf, &o, 24);
	send("type 0", buf, 24, offs, 1);
	o = fbo_handle(7, 0);
	memcpy(buf, &o, 24);
	send("HANDLE 7 (never given)", buf, 24, offs, 1);
	o.hdr.type = BINDER_TYPE_WEAK_HANDLE;
	memcpy(buf, &o, 24);
	send("WEAK_HANDLE 7 (never given)", buf, 24, offs, 1);
	o = fbo_handle(0, 0);
	memcpy(buf, &o, 24);
	send("HANDLE 0, no ref 0 acquired", buf, 24, offs, 1);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_ref(&w, BC_ACQUIRE, 0);
	run_show(&c, "[BC_ACQUIRE 0]", &w, 0, &r);
	send("HANDLE 0 to its owner (the context manager)", buf, 24, offs, 1);
	struct binder_buffer_object bp;
	memset(&bp, 0, sizeof(bp));
	bp.hdr.type = BINDER_TYPE_PTR;
	bp.buffer = (uintptr_t)buf;
	bp.length = 8;
	memcpy(buf + 64, &bp, sizeof(bp));
	offs[0] = 64;
	send("PTR of 8 bytes in a plain BC_TRANSACTION", buf, 64 + sizeof(bp), offs, 1);
	bp.length = 0;
	memcpy(buf + 64, &bp, sizeof(bp));
	send("PTR of 0 bytes in a plain BC_TRANSACTION", buf, 64 + sizeof(bp), offs, 1);
	struct binder_fd_array_object fda;
	memset(&fda, 0, sizeof(fda));
	fda.hdr.type = BINDER_TYPE_FDA;
	fda.num_fds = 1;
	memcpy(buf, &fda, sizeof(fda));
	offs[0] = 0;
	send("FDA with no parent", buf, sizeof(fda), offs, 1);

	say("-- an object that is not listed in the offsets is not translated");
	memcpy(buf, &b1, 24);
	send("[BINDER 0xe0] in the data, offsets_size 0", buf, 24, offs, 0);

	send_empty_oneway(&c, 0, STOP);
	get(&ch, 0);
	reap(s);
	say("done");
	return 0;
}
