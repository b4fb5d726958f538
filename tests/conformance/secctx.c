/* SPDX-License-Identifier: MIT */
/*
 * FLAT_BINDER_FLAG_TXN_SECURITY_CTX on a node (sent with the flag) and on a
 * context manager (BINDER_SET_CONTEXT_MGR_EXT with the flag): transactions
 * to it carry the sender's security label (BR_TRANSACTION_SEC_CTX) -- or
 * fail when the kernel cannot produce one, as in the VM (no LSM that
 * provides secids). The result depends on the kernel's LSMs.
 */
#include "conf.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

static struct chan ch;

/* S: context manager of /dev/binder (plain) and /dev/hwbinder (with the
 * flag). On /dev/binder, code 2 is answered with nodes 0x600 (flag) and
 * 0x700 (no flag). S prints every transaction as it arrives (before any
 * reply) and acknowledges oneways on the channel; 99 ends. */
static void server(void *arg)
{
	(void)arg;
	struct bdev s[2];
	bd_open(&s[0], "/dev/binder", CONF_MAP_SIZE);
	become_ctxmgr(&s[0]);
	enter_looper(&s[0]);
	bd_open(&s[1], "/dev/hwbinder", CONF_MAP_SIZE);
	become_ctxmgr_ext(&s[1], 0x500, 0x501, FLAT_BINDER_FLAG_TXN_SECURITY_CTX);
	enter_looper(&s[1]);
	put(&ch, 1, 1);
	for (;;) {
		struct pollfd pf[2] = { { .fd = s[0].fd, .events = POLLIN },
					{ .fd = s[1].fd, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0)
			continue;
		int i = (pf[0].revents & POLLIN) ? 0 : 1;
		struct rw r;
		bwr_nb(&s[i], NULL, 1024, &r);
		const struct binder_transaction_data *t = find_txn(&r);
		if (!t)
			continue;
		show_brief(&s[i], i ? "hwbinder read" : "read", &r);
		struct binder_transaction_data td = *t;
		free_buffer(&s[i], td.data.ptr.buffer);
		if (td.code == 99)
			break;
		if (td.flags & TF_ONE_WAY) {
			put(&ch, 1, 1);
			continue;
		}
		struct objs o;
		objs_reset(&o);
		if (td.code == 2) {
			objs_binder(&o, BINDER_TYPE_BINDER, 0x600, 0x601,
				    FLAT_BINDER_FLAG_TXN_SECURITY_CTX);
			objs_binder(&o, BINDER_TYPE_BINDER, 0x700, 0x701, 0);
		}
		struct wbuf w;
		struct rw rr;
		w_reset(&w);
		w_txn_objs(&w, BC_REPLY, 0, 0, 0, &o);
		bwr(&s[i], &w, 256, &rr);
	}
	put(&ch, 1, 1);
}

static void call(struct bdev *c, const char *what, uint32_t h, uint32_t code, uint32_t flags)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, h, code, flags, "abc", 3, NULL, 0);
	bwr(c, &w, 1024, &r);
	if ((flags & TF_ONE_WAY) && find(&r, BR_TRANSACTION_COMPLETE))
		get(&ch, 0); /* S printed it */
	show_brief(c, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		struct wbuf w2;
		struct rw r2;
		w_reset(&w2);
		for (size_t k = 0; txn_obj(t, k); k++)
			w_ref(&w2, BC_ACQUIRE, txn_obj(t, k)->handle);
		w_free(&w2, t->data.ptr.buffer);
		bwr(c, &w2, 0, &r2);
	}
	if (find(&r, BR_FAILED_REPLY) || find(&r, BR_DEAD_REPLY))
		show_ee(c, what);
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t sp = spawn("S", server, NULL);
	get(&ch, 0);
	struct bdev c[2];
	bd_open(&c[0], "/dev/binder", CONF_MAP_SIZE);
	bd_open(&c[1], "/dev/hwbinder", CONF_MAP_SIZE);
	say("-- nodes sent with and without the flag");
	call(&c[0], "call handle 0 (S replies with nodes 0x600 [flag], 0x700)", 0, 2, 0);
	call(&c[0], "call handle 2 (0x700, no flag)", 2, 1, 0);
	call(&c[0], "call handle 1 (0x600, flag)", 1, 1, 0);
	call(&c[0], "oneway to handle 1 (0x600, flag)", 1, 1, TF_ONE_WAY);
	say("-- a context manager set with the flag (hwbinder)");
	call(&c[1], "hwbinder: call handle 0", 0, 1, 0);
	call(&c[1], "hwbinder: oneway to handle 0", 0, 1, TF_ONE_WAY);
	send_empty_oneway(&c[0], 0, 99);
	get(&ch, 0);
	reap(sp);
	say("done");
	return 0;
}
