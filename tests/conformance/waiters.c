/* SPDX-License-Identifier: MIT */
/*
 * Waiting threads: which of a process's waiting loopers takes its next
 * transaction (the most recent waiter first), including a looper whose wait
 * is the pure read that follows its [BC_REPLY] + read (the read ubinder may
 * post without ringing the daemon, docs/protocol.md "The ring"), and a
 * flush (the close of a dup of the descriptor) returning a waiting looper.
 * Each step waits until the loopers sleep in their reads (wait_thread_sleeping:
 * asleep, then 20 ms), so the order of their waits is the program's.
 */
#include "conf.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct bdev p, c;
static struct chan ch; /* P (end 0) <-> C (end 1) */

/* The code that makes a looper leave after its reply. */
#define CODE_LEAVE 9

struct looper {
	const char *role;
	pid_t tid;
	pthread_t th;
	int exit_res; /* BINDER_THREAD_EXIT's, printed by main after the join */
};

static void *looper_main(void *arg)
{
	struct looper *l = arg;
	struct binder_version v;
	struct wbuf w;
	struct rw r;
	int32_t zero = 0;

	conf_thread_role(l->role);
	xioctl(p.fd, BINDER_VERSION, &v);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	bwr(&p, &w, 0, &r);
	__atomic_store_n(&l->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	for (;;) {
		const struct br *it;

		if (bwr(&p, NULL, 256, &r) < 0)
			fail("read: %s", errname(r.err));
		it = find(&r, BR_TRANSACTION);
		if (!it) {
			/* Only a flush returns a looper's read empty-handed here. */
			show(&p, "read returned", &r);
			break;
		}
		say("took the call with code %u", it->tr.code);
		free_buffer(&p, it->tr.data.ptr.buffer);
		reply_bytes(&p, NULL, 0, NULL);
		if (it->tr.code == CODE_LEAVE)
			break;
	}
	l->exit_res = xioctl(p.fd, BINDER_THREAD_EXIT, &zero);
	return NULL;
}

static void start_looper(struct looper *l)
{
	pthread_create(&l->th, NULL, looper_main, l);
	while (!__atomic_load_n(&l->tid, __ATOMIC_SEQ_CST))
		msleep(1);
	wait_thread_sleeping(l->tid);
}

static void client(void *arg)
{
	(void)arg;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint32_t code = (uint32_t)get(&ch, 1);
		struct wbuf w;
		struct rw r;
		const struct binder_transaction_data *t;

		if (!code)
			break;
		w_reset(&w);
		w_txn(&w, BC_TRANSACTION, 0, code, 0, NULL, 0, NULL, 0);
		bwr(&c, &w, 256, &r);
		while (!(t = find_txn(&r))) {
			if (bwr(&c, NULL, 256, &r) < 0)
				fail("read: %s", errname(r.err));
		}
		say("call %u: %s", code, brname(r.v[r.n - 1].cmd));
		free_buffer(&c, t->data.ptr.buffer);
		put(&ch, 1, 1);
	}
}

/* One call from C; returns once its reply has come back. */
static void call(uint32_t code)
{
	put(&ch, 0, code);
	get(&ch, 0);
}

int main(void)
{
	struct looper l1 = { .role = "P.L1" }, l2 = { .role = "P.L2" };

	conf_start("P", 30);
	bd_open(&p, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(&p);
	chan_init(&ch);
	pid_t cp = spawn("C", client, NULL);

	say("-- two loopers wait, P.L1 first");
	start_looper(&l1);
	start_looper(&l2);
	call(1);
	say("-- the one that took it waits again (its read after [BC_REPLY] + read)");
	wait_thread_sleeping(l1.tid);
	wait_thread_sleeping(l2.tid);
	call(2);
	wait_thread_sleeping(l2.tid);
	call(3);
	say("-- the newest waiter leaves");
	wait_thread_sleeping(l2.tid);
	call(CODE_LEAVE);
	pthread_join(l2.th, NULL);
	say("P.L2's BINDER_THREAD_EXIT -> %s", res(l2.exit_res));
	say("-- close(dup(fd)) while P.L1 waits");
	wait_thread_sleeping(l1.tid);
	close(dup(p.fd));
	pthread_join(l1.th, NULL);
	say("P.L1's BINDER_THREAD_EXIT -> %s", res(l1.exit_res));
	put(&ch, 0, 0);
	say("C exited with %d", reap(cp));
	say("done");
	return 0;
}
