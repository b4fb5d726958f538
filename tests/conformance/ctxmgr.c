/* SPDX-License-Identifier: MIT */
/*
 * The context manager: setting it, handle 0 with and without one, the
 * context manager calling itself, its death and replacement, and the
 * extended error after each failure.
 */
#include "conf.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static struct chan chm;

/* One synchronous call on handle, printed; frees the reply. */
static void call(struct bdev *b, const char *what, uint32_t handle, uint32_t flags)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, handle, 7, flags, "abc", 3, NULL, 0);
	bwr(b, &w, 256, &r);
	show_brief(b, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(b, t->data.ptr.buffer);
	show_ee(b, what);
}

/* Serves calls until a oneway with code 99: prints each read, replies to
 * sync calls, then tells the parent it stopped. */
static void serve(struct bdev *m)
{
	serve_until_code(m, 99, "ok", 2);
	put(&chm, 1, 1);
}

static void stop_server(struct bdev *b)
{
	if (!send_empty_oneway(b, 0, 99))
		fail("stop_server: no BR_TRANSACTION_COMPLETE");
	get(&chm, 0);
}

static void *other_thread_ee(void *arg)
{
	struct bdev *b = arg;
	conf_thread_role("P.t2");
	show_ee(b, "another thread of P");
	return NULL;
}

/* M: context manager set with the _EXT ioctl. */
static void mgr_ext(void *arg)
{
	(void)arg;
	struct bdev m;
	bd_open(&m, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr_ext(&m, 0x1000, 0x2000, 0);
	enter_looper(&m);
	int32_t z = 0;
	say("BINDER_SET_CONTEXT_MGR again -> %s", res(xioctl(m.fd, BINDER_SET_CONTEXT_MGR, &z)));
	struct binder_node_debug_info di;
	memset(&di, 0, sizeof(di));
	int r = xioctl(m.fd, BINDER_GET_NODE_DEBUG_INFO, &di);
	say("GET_NODE_DEBUG_INFO(0) -> %s ptr=%#llx cookie=%#llx strong=%u weak=%u", res(r),
	    (unsigned long long)di.ptr, (unsigned long long)di.cookie, di.has_strong_ref,
	    di.has_weak_ref);
	r = xioctl(m.fd, BINDER_GET_NODE_DEBUG_INFO, &di);
	say("GET_NODE_DEBUG_INFO(%#llx) -> %s ptr=%#llx", 0x1000ull, res(r),
	    (unsigned long long)di.ptr);
	call(&m, "context manager calls handle 0", 0, 0);
	call(&m, "context manager calls handle 0 oneway", 0, TF_ONE_WAY);
	struct wbuf w;
	struct rw rr;
	w_reset(&w);
	w_ref(&w, BC_INCREFS, 0);
	run_show(&m, "context manager [BC_INCREFS 0]", &w, 0, &rr);
	w_reset(&w);
	w_ref(&w, BC_ACQUIRE, 0);
	run_show(&m, "context manager [BC_ACQUIRE 0]", &w, 0, &rr);
	w_reset(&w);
	w_ref(&w, BC_RELEASE, 0);
	w_ref(&w, BC_DECREFS, 0);
	run_show(&m, "context manager [BC_RELEASE 0, BC_DECREFS 0]", &w, 0, &rr);
	struct binder_node_info_for_ref nr;
	memset(&nr, 0, sizeof(nr));
	r = xioctl(m.fd, BINDER_GET_NODE_INFO_FOR_REF, &nr);
	say("GET_NODE_INFO_FOR_REF(handle 0) by the context manager -> %s", res(r));
	put(&chm, 1, 1);
	serve(&m);
	get(&chm, 1);
}

/* N: context manager set with the legacy ioctl. */
static void mgr_legacy(void *arg)
{
	(void)arg;
	struct bdev m;
	open_ctxmgr(&m);
	put(&chm, 1, 1);
	serve(&m);
}

int main(void)
{
	conf_start("P", 30);
	struct bdev b;
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);
	chan_init(&chm);

	clear_stale_ctxmgr(&b);

	say("-- no context manager");
	call(&b, "call handle 0", 0, 0);
	show_ee(&b, "read again");
	call(&b, "oneway to handle 0", 0, TF_ONE_WAY);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_ref(&w, BC_INCREFS, 0);
	w_ref(&w, BC_ACQUIRE, 0);
	w_ref(&w, BC_RELEASE, 0);
	w_ref(&w, BC_DECREFS, 0);
	run_show(&b, "[BC_INCREFS 0, BC_ACQUIRE 0, BC_RELEASE 0, BC_DECREFS 0]", &w, 0, &r);
	bwr_nb(&b, NULL, 256, &r);
	show(&b, "non-blocking read", &r);

	say("-- M sets the context manager with BINDER_SET_CONTEXT_MGR_EXT");
	pid_t m = spawn("M", mgr_ext, NULL);
	get(&chm, 0);
	int32_t z = 0;
	say("BINDER_SET_CONTEXT_MGR -> %s", res(xioctl(b.fd, BINDER_SET_CONTEXT_MGR, &z)));
	call(&b, "call handle 0", 0, 0);
	pthread_t t;
	pthread_create(&t, NULL, other_thread_ee, &b);
	pthread_join(t, NULL);
	w_reset(&w);
	w_ref(&w, BC_INCREFS, 0);
	w_ref(&w, BC_ACQUIRE, 0);
	run_show(&b, "[BC_INCREFS 0, BC_ACQUIRE 0]", &w, 0, &r);
	call(&b, "call handle 0", 0, 0);
	stop_server(&b);
	kill_reap(m);
	wait_binder_gone(&b, m);

	say("-- M died; P still holds its handle 0");
	call(&b, "call handle 0", 0, 0);
	call(&b, "oneway to handle 0", 0, TF_ONE_WAY);

	say("-- N sets the context manager with BINDER_SET_CONTEXT_MGR");
	pid_t n = spawn("N", mgr_legacy, NULL);
	get(&chm, 0);
	call(&b, "call handle 0 (reaches N although P's old handle 0 is M's node)", 0, 0);
	w_reset(&w);
	w_ref(&w, BC_ACQUIRE, 0);
	run_show(&b, "[BC_ACQUIRE 0] (P already holds a dead handle 0)", &w, 0, &r);
	call(&b, "call handle 1", 1, 0);
	call(&b, "call handle 2", 2, 0);
	stop_server(&b);
	reap(n);
	say("done");
	return 0;
}
