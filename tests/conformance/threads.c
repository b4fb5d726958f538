/* SPDX-License-Identifier: MIT */
/*
 * Threads: BR_SPAWN_LOOPER's exact conditions (max threads, requests
 * outstanding, waiting threads, looper state), BC_ENTER/REGISTER/EXIT_LOOPER
 * misuse, BINDER_THREAD_EXIT with transactions in flight, many loopers.
 */
#include "conf.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct bdev p;
static struct chan ch; /* P (end 0) <-> C (end 1) */

/* A call to a handle that does not exist: queues BR_FAILED_REPLY on the
 * calling thread; the read shows whether BR_SPAWN_LOOPER replaced BR_NOOP. */
static void bogus(const char *what)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 99, 1, 0, NULL, 0, NULL, 0);
	bwr(&p, &w, 256, &r);
	show_brief(&p, what, &r);
}

static void write_cmds(const char *what, uint32_t a, uint32_t b)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_cmd(&w, a);
	if (b)
		w_cmd(&w, b);
	run_show(&p, what, &w, 0, &r);
}

static void set_max(uint32_t n)
{
	say("BINDER_SET_MAX_THREADS(%u) -> %s", n, res(xioctl(p.fd, BINDER_SET_MAX_THREADS, &n)));
}

struct job {
	const char *role;
	uint32_t cmd1, cmd2;
	bool bogus;
};

static void *thread_job(void *arg)
{
	struct job *j = arg;
	conf_thread_role(j->role);
	struct binder_version v;
	xioctl(p.fd, BINDER_VERSION, &v);
	if (j->cmd1) {
		char what[96];
		snprintf(what, sizeof(what), "[%s%s%s]", bcname(j->cmd1), j->cmd2 ? ", " : "",
			 j->cmd2 ? bcname(j->cmd2) : "");
		write_cmds(what, j->cmd1, j->cmd2);
	}
	if (j->bogus)
		bogus("bad call + read");
	return NULL;
}

static void run_job(const char *role, uint32_t c1, uint32_t c2, bool bog)
{
	struct job j = { role, c1, c2, bog };
	pthread_t t;
	pthread_create(&t, NULL, thread_job, &j);
	pthread_join(t, NULL);
}

/* A looper thread parked in a blocking read until interrupted. */
static pid_t waiter_tid;
static void on_usr1(int sig)
{
	(void)sig;
}
static void *waiter(void *arg)
{
	(void)arg;
	conf_thread_role("P.w");
	waiter_tid = (pid_t)syscall(SYS_gettid);
	write_cmds("[BC_ENTER_LOOPER]", BC_ENTER_LOOPER, 0);
	struct rw r;
	put(&ch, 1, 0); /* tell main (C does not exist yet) */
	bwr(&p, NULL, 256, &r);
	return (void *)(intptr_t)(r.ret < 0 ? r.err : 0);
}

/* BINDER_THREAD_EXIT's argument: the kernel ignores it, FUSE's restricted ioctl
 * copies it in (NULL: EFAULT before the driver), so it points somewhere. */
static int32_t zero;

/* ---- part 2: many loopers and BINDER_THREAD_EXIT, with a client C ---- */

static pthread_barrier_t barrier;
static int distinct;

static void *looper(void *arg)
{
	(void)arg;
	struct binder_version v;
	xioctl(p.fd, BINDER_VERSION, &v);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	bwr(&p, &w, 0, &r);
	const struct br *it = NULL;
	while (!it) {
		if (bwr(&p, NULL, 256, &r) < 0)
			fail("looper read: %s", errname(r.err));
		it = find(&r, BR_TRANSACTION);
	}
	__atomic_add_fetch(&distinct, 1, __ATOMIC_SEQ_CST);
	pthread_barrier_wait(&barrier); /* all four hold one call each */
	free_buffer(&p, it->tr.data.ptr.buffer);
	reply_bytes(&p, NULL, 0, NULL);
	return NULL;
}

static struct bdev c;

static void *c_caller(void *arg)
{
	(void)arg;
	struct binder_version v;
	xioctl(c.fd, BINDER_VERSION, &v);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 5, 0, NULL, 0, NULL, 0);
	bwr(&c, &w, 256, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (!t)
		fail("no reply");
	free_buffer(&c, t->data.ptr.buffer);
	return NULL;
}

static void client(void *arg)
{
	(void)arg;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	struct wbuf w;
	struct rw r;

	/* four concurrent calls */
	get(&ch, 1);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, c_caller, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	put(&ch, 1, 1);

	/* a call whose handler exits its thread */
	get(&ch, 1);
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 6, 0, NULL, 0, NULL, 0);
	bwr(&c, &w, 256, &r);
	show_brief(&c, "call", &r);
	show_ee(&c, "call");
	put(&ch, 1, 1);

	/* a write-only call, then BINDER_THREAD_EXIT before the reply */
	get(&ch, 1);
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 7, 0, NULL, 0, NULL, 0);
	run_show(&c, "[BC_TRANSACTION] write only", &w, 0, &r);
	say("BINDER_THREAD_EXIT -> %s", res(xioctl(c.fd, BINDER_THREAD_EXIT, &zero)));
	put(&ch, 1, 1);
	get(&ch, 1);
	bwr_nb(&c, NULL, 256, &r);
	show(&c, "non-blocking read after P's reply", &r);
	bwr_nb(&c, NULL, 256, &r);
	show(&c, "again", &r);
	put(&ch, 1, 1);
}

int main(void)
{
	conf_start("P", 40);
	bd_open(&p, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(&p);
	chan_init(&ch);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	say("-- BR_SPAWN_LOOPER");
	write_cmds("[BC_ENTER_LOOPER]", BC_ENTER_LOOPER, 0);
	bogus("max_threads 0: bad call + read");
	set_max(1);
	bogus("bad call + read");
	bogus("again (one request outstanding)");
	run_job("P.t2", BC_REGISTER_LOOPER, 0, false);
	bogus("after P.t2 registered (started 1 of 1)");
	set_max(2);
	bogus("bad call + read");
	run_job("P.t3", BC_REGISTER_LOOPER, 0, false);
	set_max(3);
	pthread_t wt;
	pthread_create(&wt, NULL, waiter, NULL);
	get(&ch, 0);
	wait_thread_sleeping(waiter_tid);
	bogus("while P.w waits in a read");
	pthread_kill(wt, SIGUSR1);
	void *wres;
	pthread_join(wt, &wres);
	say("P.w's read ended with %s", errname((int)(intptr_t)wres));
	bogus("after P.w returned");
	run_job("P.t4", BC_REGISTER_LOOPER, 0, false);
	set_max(5);
	run_job("P.t5", 0, 0, true);
	write_cmds("[BC_EXIT_LOOPER]", BC_EXIT_LOOPER, 0);
	bogus("after BC_EXIT_LOOPER");
	run_job("P.t6", BC_REGISTER_LOOPER, 0, false);
	run_job("P.t7", BC_REGISTER_LOOPER, 0, true);
	bogus("main again");
	run_job("P.t8", BC_ENTER_LOOPER, BC_ENTER_LOOPER, true);
	run_job("P.t9", BC_ENTER_LOOPER, BC_REGISTER_LOOPER, true);
	run_job("P.t10", BC_REGISTER_LOOPER, BC_ENTER_LOOPER, true);
	set_max(0);

	say("-- four loopers, four concurrent calls");
	pid_t cp = spawn("C", client, NULL);
	pthread_barrier_init(&barrier, NULL, 4);
	pthread_t lt[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&lt[i], NULL, looper, NULL);
	put(&ch, 0, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(lt[i], NULL);
	get(&ch, 0);
	say("calls held at the same time by distinct threads: %d", distinct);

	say("-- BINDER_THREAD_EXIT while handling a call");
	put(&ch, 0, 1);
	struct rw r;
	read_until(&p, "read", BR_TRANSACTION, &r);
	int te = xioctl(p.fd, BINDER_THREAD_EXIT, &zero);
	get(&ch, 0);
	say("BINDER_THREAD_EXIT -> %s", res(te));
	bwr_nb(&p, NULL, 256, &r);
	show(&p, "this thread's next read (a new Binder thread)", &r);

	say("-- the caller's thread exits before the reply");
	write_cmds("[BC_ENTER_LOOPER]", BC_ENTER_LOOPER, 0);
	put(&ch, 0, 1);
	get(&ch, 0);
	const struct br *it = read_until(&p, "read", BR_TRANSACTION, &r);
	free_buffer(&p, it->tr.data.ptr.buffer);
	reply_bytes(&p, "late", 4, "[BC_REPLY] + read");
	show_ee(&p, "BC_REPLY");
	put(&ch, 0, 1);
	get(&ch, 0);
	reap(cp);
	say("done");
	return 0;
}
