/* SPDX-License-Identifier: MIT */
/*
 * Credentials (needs root; exits 77 otherwise): the context manager's uid is
 * fixed by the first process that ever set it, and sender_euid is the euid
 * the sender had when it opened the device.
 */
#include "conf.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct chan chm;

static void mgr(void *arg)
{
	(void)arg;
	struct bdev m;
	open_ctxmgr(&m);
	put(&chm, 1, 1);
	for (;;) {
		struct rw r;
		const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
		free_buffer(&m, it->tr.data.ptr.buffer);
		if (it->tr.code == 99)
			break;
		put(&chm, 1, 1); /* printed: the sender may go on */
		if (!(it->tr.flags & TF_ONE_WAY))
			reply_bytes(&m, "ok", 2, NULL);
	}
	put(&chm, 1, 1);
}

static void as_uid_1000(void *arg)
{
	(void)arg;
	if (setresuid(1000, 1000, 1000) < 0)
		fail("setresuid: %s", errname(errno));
	struct bdev b;
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);
	int32_t z = 0;
	say("uid 1000: BINDER_SET_CONTEXT_MGR with no context manager -> %s",
	    res(xioctl(b.fd, BINDER_SET_CONTEXT_MGR, &z)));
	struct flat_binder_object o = fbo_binder(0x10, 0x20, 0);
	say("uid 1000: BINDER_SET_CONTEXT_MGR_EXT -> %s",
	    res(xioctl(b.fd, BINDER_SET_CONTEXT_MGR_EXT, &o)));
}

static void call(struct bdev *b, const char *what, uint32_t flags)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, flags, "x", 1, NULL, 0);
	bwr(b, &w, 256, &r);
	if (find(&r, BR_REPLY) || ((flags & TF_ONE_WAY) && find(&r, BR_TRANSACTION_COMPLETE)))
		get(&chm, 0); /* wait until M has printed what it received */
	show_brief(b, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(b, t->data.ptr.buffer);
}

static struct bdev sb;

/* A thread that changes only its own euid (raw syscall, no glibc broadcast)
 * and calls. */
static void *thread_own_euid(void *arg)
{
	(void)arg;
	conf_thread_role("E.t2");
	if (syscall(SYS_setresuid, -1, 1000, -1) < 0)
		fail("setresuid: %s", errname(errno));
	struct binder_version v;
	xioctl(sb.fd, BINDER_VERSION, &v);
	say("this thread's euid %u (the main thread's is 0)", (unsigned)geteuid());
	call(&sb, "call", 0);
	return NULL;
}

/* mode 0: open as root then seteuid(1000) and back; mode 1: seteuid(1000)
 * then open; mode 2: only a second thread changes its euid. */
static void sender(void *arg)
{
	int mode = (int)(intptr_t)arg;
	if (mode != 1)
		bd_open(&sb, CONF_DEV, CONF_MAP_SIZE);
	if (mode == 2) {
		pthread_t t;
		pthread_create(&t, NULL, thread_own_euid, NULL);
		pthread_join(t, NULL);
		return;
	}
	if (seteuid(1000) < 0)
		fail("seteuid: %s", errname(errno));
	if (mode == 1)
		bd_open(&sb, CONF_DEV, CONF_MAP_SIZE);
	say("euid now %u", (unsigned)geteuid());
	call(&sb, "call", 0);
	call(&sb, "oneway", TF_ONE_WAY);
	if (mode == 0) {
		if (seteuid(0) < 0)
			fail("seteuid: %s", errname(errno));
		say("euid now %u", (unsigned)geteuid());
		call(&sb, "call", 0);
	}
}

int main(void)
{
	conf_start("P", 30);
	if (geteuid() != 0) {
		say("SKIP: needs root");
		return 77;
	}
	/* devtmpfs creates the device 0600; let uid 1000 open it. */
	chmod(CONF_DEV, 0666);
	struct bdev b;
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);
	chan_init(&chm);
	clear_stale_ctxmgr(&b);
	pid_t u = spawn("U", as_uid_1000, NULL);
	reap(u);

	pid_t m = spawn("M", mgr, NULL);
	get(&chm, 0);
	say("-- E opens as root, then seteuid(1000), later seteuid(0)");
	pid_t e = spawn("E", sender, (void *)(intptr_t)0);
	reap(e);
	say("-- E does seteuid(1000), then opens");
	e = spawn("E", sender, (void *)(intptr_t)1);
	reap(e);
	say("-- in E only a second thread changes its euid");
	e = spawn("E", sender, (void *)(intptr_t)2);
	reap(e);
	send_empty_oneway(&b, 0, 99);
	get(&chm, 0);
	reap(m);
	say("done");
	return 0;
}
