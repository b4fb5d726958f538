/* SPDX-License-Identifier: MIT */
/*
 * BINDER_WRITE_READ mechanics: consumed counts, unknown and truncated
 * commands, bad pointers, small read buffers, non-blocking reads, signals.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static struct chan ch;
static struct bdev b;

static void ctxmgr(void *arg)
{
	(void)arg;
	struct bdev m;
	bd_open(&m, CONF_DEV, CONF_MAP_SIZE);
	become_ctxmgr(&m);
	put(&ch, 1, 1);
	get(&ch, 1);
}

/* A raw BINDER_WRITE_READ; prints the result and the read buffer items. */
static void raw_ex(const char *what, struct binder_write_read *x, uint8_t *rbuf, bool nonblock)
{
	uint64_t rc_in = x->read_consumed;
	int fl = fcntl(b.fd, F_GETFL);
	if (nonblock)
		fcntl(b.fd, F_SETFL, fl | O_NONBLOCK);
	int r = xioctl(b.fd, BINDER_WRITE_READ, x);
	if (nonblock)
		fcntl(b.fd, F_SETFL, fl);
	struct rw out;
	memset(&out, 0, sizeof(out));
	out.ret = r < 0 ? -1 : r;
	out.err = r < 0 ? -r : 0;
	out.wc = x->write_consumed;
	out.rc = x->read_consumed;
	/* Decode only what this call added after the input read_consumed. */
	uint64_t added = x->read_consumed > rc_in ? x->read_consumed - rc_in : 0;
	if (rbuf && added <= RBUF_MAX)
		memcpy(out.rbuf, rbuf + rc_in, added);
	out.rc = added;
	decode(&out);
	out.rc = x->read_consumed;
	show(&b, what, &out);
}

static void raw(const char *what, struct binder_write_read *x, uint8_t *rbuf)
{
	raw_ex(what, x, rbuf, false);
}

/* Queues one BR_TRANSACTION_COMPLETE on this thread: a oneway call to the
 * context manager, write only. */
static void queue_tc(void)
{
	static const uint8_t byte = 1;
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, TF_ONE_WAY, &byte, 1, NULL, 0);
	if (bwr(&b, &w, 0, &r) < 0 || r.wc != w.len)
		fail("queue_tc: %s wc=%llu", errname(r.err), (unsigned long long)r.wc);
}

static pthread_t main_thread;
static void on_usr1(int sig)
{
	(void)sig;
}
static void *kick(void *arg)
{
	(void)arg;
	msleep(200);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

static void interrupted_read(int sa_flags, const char *what)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = sa_flags;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t t;
	main_thread = pthread_self();
	pthread_create(&t, NULL, kick, NULL);
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	memset(r.rbuf, 0xff, 16);
	bwr(&b, &w, 256, &r);
	show(&b, what, &r);
	uint32_t first;
	memcpy(&first, r.rbuf, 4);
	say("  first word of the read buffer: %s", first == BR_NOOP ? "BR_NOOP" : "untouched");
	pthread_join(t, NULL);
}

int main(void)
{
	conf_start("P", 30);
	chan_init(&ch);
	pid_t m = spawn("M", ctxmgr, NULL);
	get(&ch, 0);
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);

	struct wbuf w;
	struct rw r;

	say("-- write side");
	w_reset(&w);
	run_show(&b, "write 0 read 0", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&b, "[BC_ENTER_LOOPER]", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	w_u32(&w, 0x12345678);
	w_cmd(&w, BC_ENTER_LOOPER);
	run_show(&b, "[BC_ENTER_LOOPER, 0x12345678, BC_ENTER_LOOPER]", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	w_u32(&w, _IOW('c', 11, uint32_t));
	w_u32(&w, 0);
	run_show(&b, "[BC_ENTER_LOOPER, _IOW('c', 11, u32) (BC_REGISTER_LOOPER with a size)]", &w,
		 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	w_u32(&w, BC_ATTEMPT_ACQUIRE);
	w_u32(&w, 0);
	w_u32(&w, 0);
	run_show(&b, "[BC_ENTER_LOOPER, BC_ATTEMPT_ACQUIRE]", &w, 0, &r);
	w_reset(&w);
	w_u32(&w, BC_ACQUIRE_RESULT);
	w_u32(&w, 0);
	run_show(&b, "[BC_ACQUIRE_RESULT]", &w, 0, &r);

	/* Commands whose bytes run past write_size are read anyway. */
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	w.len = 2;
	run_show(&b, "write_size=2 holding half of BC_ENTER_LOOPER", &w, 0, &r);
	w_reset(&w);
	w_ref(&w, BC_INCREFS, 77);
	w.len = 4;
	run_show(&b, "write_size=4 holding BC_INCREFS, handle follows in memory", &w, 0, &r);
	w_reset(&w);
	w_cmd(&w, BC_ENTER_LOOPER);
	w_cmd(&w, BC_ENTER_LOOPER);
	w.len = 6;
	run_show(&b, "write_size=6 holding [BC_ENTER_LOOPER, BC_ENTER_LOOPER]", &w, 0, &r);

	/* A command whose payload crosses into an unmapped page. */
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *two = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (two == MAP_FAILED)
		fail("mmap: %s", errname(errno));
	munmap(two + pg, (size_t)pg);
	uint32_t cmds[2] = { BC_ENTER_LOOPER, BC_INCREFS };
	memcpy(two + pg - 8, cmds, 8);
	struct binder_write_read x;
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)(two + pg - 8);
	x.write_size = 12;
	raw("[BC_ENTER_LOOPER, BC_INCREFS | unmapped page]", &x, NULL);
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)(two + pg - 4);
	x.write_size = 8;
	raw("[BC_INCREFS | unmapped page] with write_size=8", &x, NULL);
	cmds[1] = BC_TRANSACTION;
	memcpy(two + pg - 8, cmds, 8);
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)(two + pg - 8);
	x.write_size = 8 + sizeof(struct binder_transaction_data);
	raw("[BC_ENTER_LOOPER, BC_TRANSACTION | unmapped page]", &x, NULL);
	memset(&x, 0, sizeof(x));
	x.write_buffer = 0;
	x.write_size = 4;
	raw("write_buffer=NULL write_size=4", &x, NULL);
	int rr = xioctl(b.fd, BINDER_WRITE_READ, NULL);
	say("BINDER_WRITE_READ(NULL) -> %s", res(rr));

	/* write_consumed on input is where the driver starts. */
	uint32_t skip[2] = { 0x12345678, BC_ENTER_LOOPER };
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)skip;
	x.write_size = 8;
	x.write_consumed = 4;
	raw("[0x12345678, BC_ENTER_LOOPER] with write_consumed=4 on input", &x, NULL);
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)skip;
	x.write_size = 8;
	x.write_consumed = 8;
	raw("[0x12345678, BC_ENTER_LOOPER] with write_consumed=8 on input", &x, NULL);

	say("-- read side, no work queued");
	memset(r.rbuf, 0xff, 16);
	bwr_nb(&b, NULL, 256, &r);
	show(&b, "non-blocking read, no work", &r);
	uint32_t first;
	memcpy(&first, r.rbuf, 4);
	say("  first word of the read buffer: %s", first == BR_NOOP ? "BR_NOOP" : "untouched");
	memset(&x, 0, sizeof(x));
	x.read_buffer = 0;
	x.read_size = 16;
	raw("read_buffer=NULL read_size=16", &x, NULL);
	uint32_t enter = BC_ENTER_LOOPER;
	memset(&x, 0, sizeof(x));
	x.write_buffer = (uintptr_t)&enter;
	x.write_size = 4;
	x.read_buffer = 0;
	x.read_size = 16;
	raw("[BC_ENTER_LOOPER] + read_buffer=NULL", &x, NULL);
	interrupted_read(0, "[BC_ENTER_LOOPER] + blocking read, signal without SA_RESTART");
	interrupted_read(SA_RESTART, "[BC_ENTER_LOOPER] + blocking read, signal with SA_RESTART");

	say("-- read side, one BR_TRANSACTION_COMPLETE queued");
	static const size_t sizes[] = { 4, 8, 72, 75, 76, 79, 80 };
	queue_tc();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char what[64];
		snprintf(what, sizeof(what), "read_size=%zu", sizes[i]);
		bwr_nb(&b, NULL, sizes[i], &r);
		show(&b, what, &r);
	}
	for (size_t sz = 1; sz <= 3; sz++) {
		queue_tc();
		char what[64];
		snprintf(what, sizeof(what), "read_size=%zu", sz);
		bwr_nb(&b, NULL, sz, &r);
		show(&b, what, &r);
	}
	queue_tc();
	queue_tc();
	bwr_nb(&b, NULL, 256, &r);
	show(&b, "two queued, read_size=256", &r);

	uint8_t rb[256];
	say("-- read_consumed on input is where the driver starts writing");
	queue_tc();
	memset(rb, 0xee, sizeof(rb));
	memset(&x, 0, sizeof(x));
	x.read_buffer = (uintptr_t)rb;
	x.read_size = 128;
	x.read_consumed = 8;
	raw("read_consumed=8 read_size=128, one item queued (items after offset 8)", &x, rb);
	uint32_t w0, w2;
	memcpy(&w0, rb, 4);
	memcpy(&w2, rb + 8, 4);
	say("  word 0: %s, word 2: %s", w0 == 0xeeeeeeeeu ? "untouched" : brname(w0),
	    w2 == 0xeeeeeeeeu ? "untouched" : brname(w2));
	queue_tc();
	memset(&x, 0, sizeof(x));
	x.read_buffer = (uintptr_t)rb;
	x.read_size = 64;
	x.read_consumed = 8;
	raw("read_consumed=8 read_size=64, one item queued", &x, rb);
	bwr_nb(&b, NULL, 256, &r);
	show(&b, "then read_size=256", &r);
	memset(&x, 0, sizeof(x));
	x.read_buffer = (uintptr_t)rb;
	x.read_size = 128;
	x.read_consumed = 8;
	raw_ex("read_consumed=8 read_size=128, nothing queued, non-blocking", &x, rb, true);
	queue_tc();
	memset(&x, 0, sizeof(x));
	x.read_buffer = (uintptr_t)rb;
	x.read_size = 16;
	x.read_consumed = 16;
	raw("read_consumed=16 read_size=16, one item queued", &x, NULL);
	bwr_nb(&b, NULL, 256, &r);
	show(&b, "then read_size=256", &r);

	put(&ch, 0, 1);
	reap(m);
	say("done");
	return 0;
}
