/* SPDX-License-Identifier: MIT */
/*
 * poll/epoll readiness: what a thread's poll reports, depending on its state
 * (fresh, looper or not, handling a call) and on which queue holds the work.
 */
#include "conf.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static struct chan chc, chd;
static struct bdev p;

static const char *poll_str(int timeout_ms)
{
	static __thread char buf[48];
	struct pollfd pf = { .fd = p.fd, .events = POLLIN | POLLOUT | POLLPRI };
	int n = poll(&pf, 1, timeout_ms);
	if (n < 0)
		snprintf(buf, sizeof(buf), "%s", errname(errno));
	else
		snprintf(buf, sizeof(buf), "%d revents=%#x", n, (unsigned)pf.revents);
	return buf;
}

/* A client: for each code received, code < 10 sends a oneway, code >= 10 a
 * sync call (acknowledged once the reply is in); 0 ends. */
static void client(void *arg)
{
	struct chan *ch = arg;
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	for (;;) {
		uint64_t code = get(ch, 1);
		if (code == 0)
			break;
		struct wbuf w;
		struct rw r;
		w_reset(&w);
		w_txn(&w, BC_TRANSACTION, 0, (uint32_t)code, code < 10 ? TF_ONE_WAY : 0, "x", 1,
		      NULL, 0);
		if (code < 10) {
			if (bwr(&c, &w, 256, &r) < 0 || !find(&r, BR_TRANSACTION_COMPLETE))
				fail("oneway failed");
		} else {
			put(ch, 1, 1); /* the call is about to be made */
			if (bwr(&c, &w, 256, &r) < 0 || !find(&r, BR_REPLY))
				fail("call failed");
			free_buffer(&c, find_txn(&r)->data.ptr.buffer);
		}
		put(ch, 1, 1);
	}
}

static void *fresh_thread(void *arg)
{
	(void)arg;
	conf_thread_role("P.t2");
	say("fresh thread, poll before its first ioctl -> %s", poll_str(0));
	struct rw r;
	bwr_nb(&p, NULL, 256, &r);
	show(&p, "fresh thread, non-blocking read", &r);
	say("fresh thread, poll after that read -> %s", poll_str(0));
	return NULL;
}

static void *thread_work(void *arg)
{
	(void)arg;
	conf_thread_role("P.t3");
	struct binder_version v;
	xioctl(p.fd, BINDER_VERSION, &v);
	say("thread, no work -> %s", poll_str(0));
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 99, 1, 0, "x", 1, NULL, 0);
	run_show(&p, "write-only call to handle 99", &w, 0, &r);
	say("thread with a BR_FAILED_REPLY queued on it -> %s", poll_str(0));
	bwr_nb(&p, NULL, 256, &r);
	show(&p, "read", &r);
	say("after the read -> %s", poll_str(0));
	return NULL;
}

/* Reads one item without blocking, prints it, frees its buffer. */
static const struct binder_transaction_data *drain(const char *what, struct rw *r)
{
	bwr_nb(&p, NULL, 256, r);
	show_brief(&p, what, r);
	const struct binder_transaction_data *t = find_txn(r);
	if (t)
		free_buffer(&p, t->data.ptr.buffer);
	return t;
}

int main(void)
{
	conf_start("P", 30);
	bd_open(&p, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(&p);
	chan_init(&chc);
	chan_init(&chd);
	pid_t c = spawn("C", client, &chc);
	pid_t d = spawn("D", client, &chd);
	struct rw r;

	pthread_t t;
	pthread_create(&t, NULL, fresh_thread, NULL);
	pthread_join(t, NULL);

	say("main thread (no BC_ENTER_LOOPER), no work -> %s", poll_str(0));
	put(&chc, 0, 1);
	get(&chc, 0);
	say("no BC_ENTER_LOOPER, one oneway queued for the process -> %s", poll_str(0));
	drain("non-blocking read", &r);
	say("after reading it -> %s", poll_str(0));
	enter_looper(&p);
	say("after BC_ENTER_LOOPER, no work -> %s", poll_str(0));
	put(&chc, 0, 2);
	get(&chc, 0);
	say("looper, one oneway queued -> %s", poll_str(0));
	drain("non-blocking read", &r);

	pthread_create(&t, NULL, thread_work, NULL);
	pthread_join(t, NULL);

	say("-- a thread handling a sync call does not see process work");
	put(&chc, 0, 10);
	get(&chc, 0);
	struct rw call;
	const struct br *it = read_until(&p, "read", BR_TRANSACTION, &call);
	put(&chd, 0, 3);
	get(&chd, 0);
	say("handling C's call, D's oneway queued for the process -> %s", poll_str(0));
	free_buffer(&p, it->tr.data.ptr.buffer);
	struct wbuf w;
	w_reset(&w);
	w_txn(&w, BC_REPLY, 0, 0, 0, NULL, 0, NULL, 0);
	bwr(&p, &w, 0, &r);
	get(&chc, 0);
	say("after BC_REPLY (write only) -> %s", poll_str(0));
	drain("non-blocking read", &r);
	say("after reading -> %s", poll_str(0));
	drain("non-blocking read", &r);
	say("after reading -> %s", poll_str(0));

	say("-- blocking poll and epoll");
	put(&chc, 0, 4);
	say("blocking poll while C sends -> %s", poll_str(5000));
	get(&chc, 0);
	drain("read", &r);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	say("epoll_ctl ADD -> %s", epoll_ctl(ep, EPOLL_CTL_ADD, p.fd, &ev) ? errname(errno) : "0");
	struct epoll_event out;
	int n = epoll_wait(ep, &out, 1, 0);
	say("epoll_wait, no work -> %d", n);
	put(&chc, 0, 5);
	get(&chc, 0);
	n = epoll_wait(ep, &out, 1, 5000);
	say("epoll_wait, one oneway queued -> %d events=%#x", n, n > 0 ? out.events : 0);
	drain("read", &r);
	n = epoll_wait(ep, &out, 1, 0);
	say("epoll_wait after reading -> %d", n);

	put(&chc, 0, 0);
	put(&chd, 0, 0);
	reap(c);
	reap(d);
	say("done");
	return 0;
}
