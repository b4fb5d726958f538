/* SPDX-License-Identifier: MIT */
/*
 * The Binder fd across fork, dup, close and exec: a forked child using its
 * parent's fd, the region not being inherited, close/flush waking blocked
 * readers, and a process that execs with its fd open.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct chan chm; /* P (end 0) <-> M (end 1) */
static struct bdev p;

static const char *probe(uint64_t addr)
{
	int sig = read_fault((const void *)(uintptr_t)addr);
	return sig == 0 ? "readable" : sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
}

/* A oneway, then a call, each with "ping" to handle 0; their results go to
 * oneway and call, unprinted. */
static void ping_twice(struct bdev *b, struct rw *oneway, struct rw *call)
{
	struct wbuf w;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, TF_ONE_WAY, "ping", 4, NULL, 0);
	bwr(b, &w, 256, oneway);
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, 0, "ping", 4, NULL, 0);
	bwr(b, &w, 256, call);
}

/* M: context manager; prints each call and replies "pong"; code 99 ends. */
static void mgr(void *arg)
{
	(void)arg;
	struct bdev m;
	open_ctxmgr(&m);
	put(&chm, 1, 1);
	serve_until_code(&m, 99, "pong", 4);
	put(&chm, 1, 1);
}

static void forked_child(void *arg)
{
	(void)arg;
	struct binder_version v;
	say("BINDER_VERSION on the parent's fd -> %s", res(xioctl(p.fd, BINDER_VERSION, &v)));
	void *x = mmap(NULL, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, p.fd, 0);
	say("mmap on the parent's fd -> %s", x == MAP_FAILED ? errname(errno) : "0");
	say("the parent's region in the child: %s", probe((uintptr_t)p.map));
	/* The region is not mapped here: print without touching buffers. The
	 * oneway goes first; its result is printed after the call, once M has
	 * printed both. */
	struct bdev nomap = p;
	nomap.map = NULL;
	struct wbuf w;
	struct rw r1, r;
	ping_twice(&p, &r1, &r);
	show_brief(&nomap, "oneway through the parent's fd", &r1);
	show_brief(&nomap, "call through the parent's fd", &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t) {
		uint64_t a = t->data.ptr.buffer;
		say("reply buffer inside the parent's region: %s, in the child: %s",
		    a >= (uintptr_t)p.map && a < (uintptr_t)p.map + p.size ? "yes" : "no",
		    probe(a));
		w_reset(&w);
		w_free(&w, a);
		run_show(&nomap, "[BC_FREE_BUFFER] of it", &w, 0, &r);
		put(&chm, 1, a); /* let the parent look at it */
		get(&chm, 1);
	}
}

static pid_t reader_tid;
/* The reader reports only after main has reported what woke it: one order. */
static sem_t may_report;

static void *blocked_reader(void *arg)
{
	(void)arg;
	conf_thread_role("P.t2");
	reader_tid = (pid_t)syscall(SYS_gettid);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	bwr(&p, &w, 0, &r);
	put(&chm, 1, 0); /* wakes main (M only writes end 1 when asked) */
	bwr(&p, NULL, 256, &r);
	sem_wait(&may_report);
	show(&p, "blocked read returned", &r);
	return NULL;
}

static pthread_t start_reader(void)
{
	pthread_t t;
	pthread_create(&t, NULL, blocked_reader, NULL);
	get(&chm, 0);
	wait_thread_sleeping(reader_tid);
	return t;
}

/* A child with its own Binder fd: is the parent still a Binder process? */
static void check_released(void *arg)
{
	(void)arg;
	struct bdev b;
	bd_open(&b, CONF_DEV, 0);
	say("the parent's Binder process was released: %s",
	    binder_gone_within(&b, getppid(), 400) ? "yes" : "no");
}

static void just_exit(void *arg)
{
	(void)arg;
}

/* The exec'd image: argv[2] = fd number, argv[3] = map address. */
static int exec_child(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	conf_start("E'", 20);
	struct bdev b;
	memset(&b, 0, sizeof(b));
	b.fd = atoi(argv[2]);
	b.map = (uint8_t *)(uintptr_t)strtoull(argv[3], NULL, 16);
	b.size = CONF_MAP_SIZE;
	struct binder_version v;
	say("after exec: BINDER_VERSION on the inherited fd -> %s",
	    res(xioctl(b.fd, BINDER_VERSION, &v)));
	void *x = mmap(NULL, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, b.fd, 0);
	say("after exec: mmap -> %s", x == MAP_FAILED ? errname(errno) : "0");
	struct rw r1, r;
	ping_twice(&b, &r1, &r);
	show_brief(&b, "after exec: oneway", &r1);
	show_brief(&b, "after exec: call", &r);
	show_ee(&b, "after exec: call");
	return 0;
}

static void exec_self(void *arg)
{
	(void)arg;
	int fd = open(CONF_DEV, O_RDWR); /* no O_CLOEXEC */
	void *map = mmap(NULL, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd < 0 || map == MAP_FAILED)
		fail("open/mmap: %s", errname(errno));
	char fds[16], maps[32];
	snprintf(fds, sizeof(fds), "%d", fd);
	snprintf(maps, sizeof(maps), "%llx", (unsigned long long)(uintptr_t)map);
	char *args[] = { "fork-exec", "--exec-child", fds, maps, NULL };
	execv("/proc/self/exe", args);
	fail("execv: %s", errname(errno));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child(argc, argv);
	conf_start("P", 30);
	chan_init(&chm);
	pid_t m = spawn("M", mgr, NULL);
	get(&chm, 0);
	bd_open(&p, CONF_DEV, CONF_MAP_SIZE);

	say("-- a forked child uses the parent's fd");
	pid_t k = spawn("K", forked_child, NULL);
	uint64_t a = get(&chm, 0);
	say("in P, that reply buffer reads \"%.4s\"", (const char *)(uintptr_t)a);
	put(&chm, 0, 1);
	reap(k);

	say("-- flush: a child's exit wakes the parent's blocked reader");
	sem_init(&may_report, 0, 0);
	pthread_t t = start_reader();
	k = spawn("K", just_exit, NULL);
	reap(k);
	sem_post(&may_report);
	pthread_join(t, NULL);

	say("-- flush: closing a dup wakes the blocked reader");
	int d = dup(p.fd);
	struct binder_version v;
	say("BINDER_VERSION on the dup -> %s", res(xioctl(d, BINDER_VERSION, &v)));
	t = start_reader();
	say("close(dup) -> %s", close(d) ? errname(errno) : "0");
	sem_post(&may_report);
	pthread_join(t, NULL);

	say("-- exec with the fd open (not O_CLOEXEC)");
	pid_t e = spawn("E", exec_self, NULL);
	reap(e);

	say("-- closing the only fd while a thread blocks in a read");
	t = start_reader();
	int fd = p.fd;
	say("close(fd) -> %s", close(fd) ? errname(errno) : "0");
	sem_post(&may_report);
	pthread_join(t, NULL);
	say("BINDER_VERSION on the closed fd -> %s", res(xioctl(fd, BINDER_VERSION, &v)));
	pid_t k2 = spawn("K", check_released, NULL);
	reap(k2);
	say("munmap of the region -> %s", munmap(p.map, p.size) ? errname(errno) : "0");
	k2 = spawn("K", check_released, NULL);
	reap(k2);

	struct bdev q;
	bd_open(&q, CONF_DEV, CONF_MAP_SIZE);
	send_empty_oneway(&q, 0, 99);
	get(&chm, 0);
	reap(m);
	say("done");
	return 0;
}
