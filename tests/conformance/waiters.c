/* SPDX-License-Identifier: MIT */
/*
 * Waiting threads: which of a process's waiting loopers takes its next
 * transaction (the most recent waiter first), including a looper whose wait
 * is the pure read that follows its [BC_REPLY] + read (the read ubinder may
 * post without ringing the daemon, docs/protocol.md "The ring"), and a
 * death notification read by a waiting looper, and a flush (the close of a
 * dup of the descriptor) returning a waiting looper.
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
/* The call that carries C's node: its looper asks for C's death notification. */
#define CODE_NODE  7

static int dead_seen; /* P.L1 read BR_DEAD_BINDER */
/* Set before main's close(dup(fd)). C's exit closes its inherited copy of
 * P's descriptor too, a flush that may return P.L1's read empty-handed
 * before or with the death notification (as the kernel's deferred work
 * runs): such reads are not printed before this. */
static int flushing;

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
		it = find(&r, BR_DEAD_BINDER);
		if (it) {
			say("read BR_DEAD_BINDER, cookie %#llx", (unsigned long long)it->cookie);
			w_reset(&w);
			w_u32(&w, BC_DEAD_BINDER_DONE);
			w_u64(&w, it->cookie);
			bwr(&p, &w, 0, &r);
			__atomic_store_n(&dead_seen, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		it = find(&r, BR_TRANSACTION);
		if (!it) {
			/* Only a flush returns a looper's read empty-handed here. */
			if (!__atomic_load_n(&flushing, __ATOMIC_SEQ_CST))
				continue;
			show(&p, "read returned", &r);
			break;
		}
		say("took the call with code %u", it->tr.code);
		if (it->tr.code == CODE_NODE) {
			const struct flat_binder_object *o = txn_obj(&it->tr, 0);
			struct rw wr;

			if (!o)
				fail("no object");
			w_reset(&w);
			w_ref(&w, BC_INCREFS, o->handle);
			w_death(&w, BC_REQUEST_DEATH_NOTIFICATION, o->handle, 0x77);
			bwr(&p, &w, 0, &wr);
			say("BC_REQUEST_DEATH_NOTIFICATION: %s", res(wr.ret < 0 ? -wr.err : 0));
		}
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
		struct objs o; /* the payload bwr() reads */

		if (!code)
			break;
		w_reset(&w);
		if (code == CODE_NODE) {
			objs_reset(&o);
			objs_binder(&o, BINDER_TYPE_BINDER, 0x1000, 0x2000, 0);
			w_txn_objs(&w, BC_TRANSACTION, 0, code, 0, &o);
		} else {
			w_txn(&w, BC_TRANSACTION, 0, code, 0, NULL, 0, NULL, 0);
		}
		bwr(&c, &w, 256, &r);
		while (!(t = find_txn(&r))) {
			if (find(&r, BR_FAILED_REPLY) || find(&r, BR_DEAD_REPLY))
				show_ee(&c, "call"), fail("call %u failed", code);
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
	say("-- C dies while P.L1, which holds C's node, waits");
	wait_thread_sleeping(l1.tid);
	call(CODE_NODE);
	wait_thread_sleeping(l1.tid);
	put(&ch, 0, 0);
	while (!__atomic_load_n(&dead_seen, __ATOMIC_SEQ_CST))
		msleep(1);
	say("C exited with %d", reap(cp));
	say("-- close(dup(fd)) while P.L1 waits");
	wait_thread_sleeping(l1.tid);
	__atomic_store_n(&flushing, 1, __ATOMIC_SEQ_CST);
	close(dup(p.fd));
	pthread_join(l1.th, NULL);
	say("P.L1's BINDER_THREAD_EXIT -> %s", res(l1.exit_res));
	say("done");
	return 0;
}
