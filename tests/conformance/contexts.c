/* SPDX-License-Identifier: MIT */
/*
 * The three devices are independent contexts: each has its own context
 * manager, handles and nodes. Every open is a separate Binder process, even
 * within one process.
 */
#include "conf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static struct chan ch;
static const char *const devs[3] = { "/dev/binder", "/dev/hwbinder", "/dev/vndbinder" };

/* M: context manager of all three devices; serves one call on each device
 * in turn (reply names the device), then code 99 on /dev/binder ends. */
static void mgr(void *arg)
{
	(void)arg;
	struct bdev m[3];
	for (int i = 0; i < 3; i++) {
		bd_open(&m[i], devs[i], CONF_MAP_SIZE);
		become_ctxmgr_ext(&m[i], 0x100 + (uint64_t)i, 0, 0);
		enter_looper(&m[i]);
	}
	put(&ch, 1, 1);
	for (;;) {
		int i = (int)get(&ch, 1);
		struct rw r;
		const struct br *it = read_until(&m[i], devs[i], BR_TRANSACTION, &r);
		uint32_t code = it->tr.code;
		free_buffer(&m[i], it->tr.data.ptr.buffer);
		if (code == 99)
			break;
		struct objs o;
		objs_reset(&o);
		if (code == 2) /* hand out a node of this context */
			objs_binder(&o, BINDER_TYPE_BINDER, 0x200 + (uint64_t)i, 0, 0);
		struct wbuf w;
		struct rw rr;
		w_reset(&w);
		w_txn_objs(&w, BC_REPLY, 0, 0, 0, &o);
		bwr(&m[i], &w, 256, &rr);
		put(&ch, 1, 1);
	}
	put(&ch, 1, 1);
}

static void call(struct bdev *b, int dev, const char *what, uint32_t h, uint32_t code)
{
	struct wbuf w;
	struct rw r;
	if (dev >= 0)
		put(&ch, 0, (uint64_t)dev);
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, h, code, 0, NULL, 0, NULL, 0);
	bwr(b, &w, 256, &r);
	if (find(&r, BR_REPLY))
		get(&ch, 0);
	show_brief(b, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		const struct flat_binder_object *f = txn_obj(t, 0);
		if (f) {
			struct wbuf w2;
			struct rw r2;
			w_reset(&w2);
			w_ref(&w2, BC_ACQUIRE, f->handle);
			bwr(b, &w2, 0, &r2);
		}
		free_buffer(b, t->data.ptr.buffer);
	} else {
		show_ee(b, what);
	}
}

int main(void)
{
	conf_start("C", 30);
	chan_init(&ch);
	pid_t m = spawn("M", mgr, NULL);
	get(&ch, 0);
	struct bdev c[3];
	for (int i = 0; i < 3; i++)
		bd_open(&c[i], devs[i], CONF_MAP_SIZE);

	say("-- each device has its own context manager");
	call(&c[1], 1, "hwbinder: call handle 0", 0, 1);
	call(&c[2], 2, "vndbinder: call handle 0", 0, 1);
	call(&c[0], 0, "binder: call handle 0 (M replies with node 0x200)", 0, 2);

	say("-- handles belong to their context");
	call(&c[0], 0, "binder: call handle 1", 1, 1);
	call(&c[1], -1, "hwbinder: call handle 1 (only binder has it)", 1, 1);
	call(&c[1], 1, "hwbinder: call handle 0 (M replies with node 0x201)", 0, 2);
	call(&c[1], 1, "hwbinder: call handle 1", 1, 1);

	say("-- BINDER_FREEZE acts on a pid: all its Binder processes, in every context");
	struct binder_freeze_info fz = { .pid = (uint32_t)m, .enable = 1, .timeout_ms = 0 };
	say("BINDER_FREEZE(M, on) through /dev/binder -> %s",
	    res(xioctl(c[0].fd, BINDER_FREEZE, &fz)));
	call(&c[1], -1, "hwbinder: call handle 0", 0, 1);
	call(&c[2], -1, "vndbinder: call handle 0", 0, 1);
	fz.enable = 0;
	say("BINDER_FREEZE(M, off) through /dev/vndbinder -> %s",
	    res(xioctl(c[2].fd, BINDER_FREEZE, &fz)));

	say("-- two opens in one process are two Binder processes");
	struct bdev d;
	bd_open(&d, devs[0], CONF_MAP_SIZE);
	int32_t z = 0;
	say("second open of /dev/binder: BINDER_SET_CONTEXT_MGR -> %s",
	    res(xioctl(d.fd, BINDER_SET_CONTEXT_MGR, &z)));
	call(&d, 0, "second open: call handle 0", 0, 1);
	call(&d, -1, "second open: call handle 1 (the first open's handle)", 1, 1);
	bd_close(&d);

	say("-- a process that is context manager on one open calls it through another");
	put(&ch, 0, 0);
	send_empty_oneway(&c[0], 0, 99);
	get(&ch, 0);
	reap(m);
	for (int i = 0; i < 3; i++)
		bd_close(&c[i]);
	struct bdev e[2];
	bd_open(&e[0], devs[0], CONF_MAP_SIZE);
	for (int i = 0; i < 300; i++) {
		if (xioctl(e[0].fd, BINDER_SET_CONTEXT_MGR, &z) != -EBUSY)
			break;
		msleep(10);
	}
	bd_open(&e[1], devs[0], CONF_MAP_SIZE);
	call(&e[1], -1, "call handle 0 (own pid, other open)", 0, 1);
	say("done");
	return 0;
}
