/* SPDX-License-Identifier: MIT */
/*
 * The request as a client passes it: libgbinder hands ioctl an int, so the
 * requests with bit 31 set (BINDER_WRITE_READ, BINDER_VERSION) arrive
 * sign-extended to glibc's unsigned long; the kernel reads only the low 32
 * bits. Then the rest of a libgbinder-style start: a private, unreserved
 * mapping, BINDER_SET_MAX_THREADS, poll; the mapping flags the VFS refuses
 * before the driver sees them; and a call between two such processes, every
 * ioctl with an int request.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* What libgbinder's wrapper does: an int request, converted (sign-extended)
 * by the call to glibc's ioctl(int, unsigned long, ...). */
static int int_ioctl(int fd, int request, void *arg)
{
	return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static int fresh(void)
{
	int fd = open(CONF_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open: %s", errname(errno));
	return fd;
}

static const char *try_map(int fd, size_t len, int flags, off_t off)
{
	void *p = mmap(NULL, len, PROT_READ, flags, fd, off);
	if (p == MAP_FAILED)
		return errname(errno);
	munmap(p, len);
	return "0";
}

static struct chan ch;

/* M: the context manager, as a libgbinder service: it waits in poll() with
 * libgbinder's events, then reads; answers code 1, stops at code 2. */
static void serve(void *arg)
{
	(void)arg;
	struct bdev m;
	open_ctxmgr(&m);
	put(&ch, 1, 1);
	for (;;) {
		struct pollfd pfd = { .fd = m.fd, .events = POLLIN | POLLERR | POLLHUP | POLLNVAL };
		int n = poll(&pfd, 1, 10000);
		say("poll -> %d revents=%#x", n, (unsigned)pfd.revents);
		struct rw r;
		const struct br *it = read_until(&m, "read", BR_TRANSACTION, &r);
		uint32_t code = it->tr.code;
		free_buffer(&m, it->tr.data.ptr.buffer);
		if (code == 2)
			break;
		static const char answer[] = "answer";
		reply_bytes(&m, answer, sizeof(answer), NULL);
	}
}

int main(void)
{
	conf_start("P", 20);
	int fd = fresh();

	say("-- requests as int (sign-extended when bit 31 is set)");
	say("(unsigned long)(int)BINDER_VERSION has the upper half set: %s",
	    (unsigned long)(long)(int)BINDER_VERSION >> 32 ? "yes" : "no");
	struct binder_version v = { .protocol_version = -1 };
	int r = int_ioctl(fd, (int)BINDER_VERSION, &v);
	say("BINDER_VERSION as int -> %s protocol_version=%d", res(r), v.protocol_version);
	v.protocol_version = -1;
	r = xioctl(fd, 0x5a5a5a5a00000000ul | BINDER_VERSION, &v);
	say("BINDER_VERSION with upper half 0x5a5a5a5a -> %s protocol_version=%d", res(r),
	    v.protocol_version);
	r = int_ioctl(fd, (int)BINDER_VERSION, NULL);
	say("BINDER_VERSION as int (NULL) -> %s", res(r));

	/* libgbinder's size: 1 MiB less two pages, as Android's ProcessState. */
	size_t vmsize = (1024 * 1024) - 2 * (size_t)sysconf(_SC_PAGESIZE);
	void *map = mmap(NULL, vmsize, PROT_READ, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	say("mmap PROT_READ MAP_PRIVATE|MAP_NORESERVE -> %s",
	    map == MAP_FAILED ? errname(errno) : "0");
	uint32_t max = 15;
	r = int_ioctl(fd, (int)BINDER_SET_MAX_THREADS, &max);
	say("BINDER_SET_MAX_THREADS(15) as int -> %s", res(r));
	r = xioctl(fd, 0xffffffff00000000ul | BINDER_SET_MAX_THREADS, &max);
	say("BINDER_SET_MAX_THREADS with upper half 0xffffffff -> %s", res(r));

	uint32_t looper = BC_ENTER_LOOPER;
	struct binder_write_read bwr = { .write_size = sizeof(looper),
					 .write_buffer = (uintptr_t)&looper };
	r = int_ioctl(fd, (int)BINDER_WRITE_READ, &bwr);
	say("BINDER_WRITE_READ [BC_ENTER_LOOPER] as int -> %s wc=%llu rc=%llu", res(r),
	    (unsigned long long)bwr.write_consumed, (unsigned long long)bwr.read_consumed);
	r = int_ioctl(fd, (int)BINDER_WRITE_READ, NULL);
	say("BINDER_WRITE_READ as int (NULL) -> %s", res(r));
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, 0);
	say("poll with nothing to do -> %d revents=%#x", n, (unsigned)pfd.revents);

	say("-- other requests with an upper half");
	r = xioctl(fd, 0xffffffff00000000ul | _IO('b', 99), NULL);
	say("_IO('b', 99) with upper half 0xffffffff -> %s", res(r));
	r = int_ioctl(fd, (int)_IOWR('b', 9, uint64_t), &v);
	say("_IOWR('b', 9, 8 bytes) as int [BINDER_VERSION, wrong size] -> %s", res(r));
	int one = 1;
	r = xioctl(fd, 0x100000000ul | FIONBIO, &one);
	say("FIONBIO(1) with upper half 1 -> %s O_NONBLOCK=%s", res(r),
	    fcntl(fd, F_GETFL) & O_NONBLOCK ? "set" : "clear");
	int p[2];
	if (pipe(p) < 0 || write(p[1], "abc", 3) != 3)
		fail("pipe: %s", errname(errno));
	n = -1;
	r = xioctl(p[0], 0xffffffff00000000ul | FIONREAD, &n);
	say("FIONREAD on a pipe with upper half 0xffffffff -> %s n=%d", res(r), n);
	close(p[0]);
	close(p[1]);

	say("-- mapping flags");
	int g = fresh();
	say("mmap flags 0 -> %s", try_map(g, CONF_MAP_SIZE, 0, 0));
	say("mmap MAP_TYPE (0xf) -> %s", try_map(g, CONF_MAP_SIZE, MAP_TYPE, 0));
	say("mmap MAP_PRIVATE|MAP_HUGETLB -> %s",
	    try_map(g, CONF_MAP_SIZE, MAP_PRIVATE | MAP_HUGETLB, 0));
	say("mmap MAP_SHARED_VALIDATE|MAP_SYNC -> %s",
	    try_map(g, CONF_MAP_SIZE, MAP_SHARED_VALIDATE | MAP_SYNC, 0));
	say("mmap MAP_SHARED_VALIDATE|MAP_FIXED_NOREPLACE (no address) -> %s",
	    try_map(g, CONF_MAP_SIZE, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, 0));
	say("mmap size SIZE_MAX -> %s", try_map(g, SIZE_MAX, MAP_PRIVATE, 0));
	say("mmap offset 4095 -> %s", try_map(g, CONF_MAP_SIZE, MAP_PRIVATE, 4095));
	close(g);
	g = fresh();
	say("mmap MAP_SHARED_VALIDATE|MAP_NORESERVE -> %s",
	    try_map(g, CONF_MAP_SIZE, MAP_SHARED_VALIDATE | MAP_NORESERVE, 0));
	close(g);
	g = fresh();
	say("mmap MAP_PRIVATE|MAP_NORESERVE|MAP_POPULATE offset 4096 -> %s",
	    try_map(g, CONF_MAP_SIZE, MAP_PRIVATE | MAP_NORESERVE | MAP_POPULATE, 4096));
	close(g);
	g = fresh();
	say("mmap offset -4096 -> %s", try_map(g, CONF_MAP_SIZE, MAP_PRIVATE, -4096));
	close(g);

	close(fd);

	say("-- a call, every ioctl with an int request");
	conf_int_requests = true;
	chan_init(&ch);
	struct bdev c;
	bd_open(&c, CONF_DEV, CONF_MAP_SIZE);
	clear_stale_ctxmgr(&c);
	pid_t m = spawn("M", serve, NULL);
	get(&ch, 0);
	struct wbuf w;
	struct rw rr;
	static const char request[] = "request";
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, 1, 0, request, sizeof(request), NULL, 0);
	run_show(&c, "call", &w, 256, &rr);
	if (!find(&rr, BR_REPLY))
		read_until(&c, "call, reply", BR_REPLY, &rr);
	const struct binder_transaction_data *t = find_txn(&rr);
	if (t)
		free_buffer(&c, t->data.ptr.buffer);
	send_empty_oneway(&c, 0, 2);
	say("M exited %d", reap(m));
	bd_close(&c);
	say("done");
	return 0;
}
