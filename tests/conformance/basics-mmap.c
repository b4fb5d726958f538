/* SPDX-License-Identifier: MIT */
/*
 * mmap rules: read-only only, one mapping per open, the 4 MiB cap, and what
 * a sender sees when the target never mapped or unmapped its region.
 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct chan ch;

static const char *try_map(int fd, size_t len, int prot, int flags, off_t off, void **out)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);
	if (out)
		*out = p == MAP_FAILED ? NULL : p;
	return p == MAP_FAILED ? errname(errno) : "0";
}

static int fresh(void)
{
	int fd = open(CONF_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open: %s", errname(errno));
	return fd;
}

/* Context manager variants: mode 0 never maps, 1 maps then unmaps, 2 maps
 * 8 MiB and serves two calls. */
static void ctxmgr(void *arg)
{
	int mode = (int)(intptr_t)arg;
	struct bdev m;
	bd_open(&m, CONF_DEV, 0);
	if (mode == 1) {
		void *p = mmap(NULL, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, m.fd, 0);
		if (p == MAP_FAILED)
			fail("mmap: %s", errname(errno));
		munmap(p, CONF_MAP_SIZE);
	}
	if (mode == 2) {
		void *p = mmap(NULL, 8 << 20, PROT_READ, MAP_PRIVATE, m.fd, 0);
		if (p == MAP_FAILED)
			fail("mmap 8 MiB: %s", errname(errno));
		m.map = p;
		m.size = 8 << 20;
	}
	become_ctxmgr(&m);
	enter_looper(&m);
	put(&ch, 1, 1);
	if (mode == 2) {
		struct rw r;
		for (;;) {
			if (bwr(&m, NULL, 256, &r) < 0)
				fail("read: %s", errname(r.err));
			const struct binder_transaction_data *t = find_txn(&r);
			if (!t)
				continue;
			say("received data_size=%llu buffer=%s", (unsigned long long)t->data_size,
			    map_pos(&m, t->data.ptr.buffer));
			free_buffer(&m, t->data.ptr.buffer);
			reply_bytes(&m, NULL, 0, NULL);
			if (t->code == 2)
				break;
		}
	}
	get(&ch, 1);
}

static void call(struct bdev *b, const char *what, const void *data, size_t n, uint32_t code)
{
	struct wbuf w;
	struct rw r;
	w_reset(&w);
	w_txn(&w, BC_TRANSACTION, 0, code, 0, data, n, NULL, 0);
	bwr(b, &w, 256, &r);
	show_brief(b, what, &r);
	const struct binder_transaction_data *t = find_txn(&r);
	if (t)
		free_buffer(b, t->data.ptr.buffer);
	if (!find(&r, BR_REPLY))
		show_ee(b, what);
}

int main(void)
{
	conf_start("P", 30);
	long pg = sysconf(_SC_PAGESIZE);
	void *p;

	say("-- protections");
	int fd = fresh();
	say("mmap PROT_READ|PROT_WRITE MAP_SHARED -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 0, NULL));
	say("mmap PROT_READ|PROT_WRITE MAP_PRIVATE -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, NULL));
	say("mmap PROT_WRITE MAP_PRIVATE -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_WRITE, MAP_PRIVATE, 0, NULL));
	say("mmap size 0 -> %s", try_map(fd, 0, PROT_READ, MAP_PRIVATE, 0, NULL));
	say("mmap PROT_READ MAP_SHARED 1 MiB (after the refusals) -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ, MAP_SHARED, 0, &p));
	if (p) {
		say("mprotect PROT_READ|PROT_WRITE -> %s",
		    mprotect(p, (size_t)pg, PROT_READ | PROT_WRITE) ? errname(errno) : "0");
		say("mprotect PROT_READ|PROT_EXEC -> %s",
		    mprotect(p, (size_t)pg, PROT_READ | PROT_EXEC) ? errname(errno) : "0");
		say("mprotect PROT_NONE -> %s",
		    mprotect(p, (size_t)pg, PROT_NONE) ? errname(errno) : "0");
	}
	say("second mmap of the same open file -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, 0, NULL));
	if (p)
		say("munmap -> %s", munmap(p, CONF_MAP_SIZE) ? errname(errno) : "0");
	say("mmap after munmap -> %s", try_map(fd, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, 0, NULL));
	int fd2 = dup(fd);
	say("mmap through a dup of it -> %s",
	    try_map(fd2, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, 0, NULL));
	close(fd2);
	close(fd);

	say("-- shapes");
	fd = fresh();
	say("mmap PROT_READ|PROT_EXEC -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE, 0, NULL));
	close(fd);
	fd = fresh();
	say("mmap PROT_NONE -> %s", try_map(fd, CONF_MAP_SIZE, PROT_NONE, MAP_PRIVATE, 0, NULL));
	close(fd);
	fd = fresh();
	say("mmap with offset one page -> %s",
	    try_map(fd, CONF_MAP_SIZE, PROT_READ, MAP_PRIVATE, pg, NULL));
	close(fd);
	fd = fresh();
	say("mmap 5000 bytes -> %s", try_map(fd, 5000, PROT_READ, MAP_PRIVATE, 0, NULL));
	close(fd);
	fd = fresh();
	say("mmap 64 MiB -> %s", try_map(fd, 64 << 20, PROT_READ, MAP_PRIVATE, 0, NULL));
	close(fd);

	struct bdev b;
	bd_open(&b, CONF_DEV, CONF_MAP_SIZE);
	chan_init(&ch);

	say("-- a target that never mapped");
	pid_t m = spawn("M", ctxmgr, (void *)(intptr_t)0);
	get(&ch, 0);
	call(&b, "call to a context manager without a mapping", "x", 1, 1);
	put(&ch, 0, 1);
	reap(m);
	wait_binder_gone(&b, m);

	say("-- a target that unmapped its region");
	m = spawn("M", ctxmgr, (void *)(intptr_t)1);
	get(&ch, 0);
	call(&b, "call to a context manager that unmapped", "x", 1, 1);
	put(&ch, 0, 1);
	reap(m);
	wait_binder_gone(&b, m);

	say("-- a target that mapped 8 MiB: 4 MiB are used");
	m = spawn("M", ctxmgr, (void *)(intptr_t)2);
	get(&ch, 0);
	size_t big = (size_t)4 << 20;
	uint8_t *data = calloc(1, big + 64);
	if (!data)
		fail("calloc");
	call(&b, "call with 4 MiB + 8 bytes", data, big + 8, 1);
	call(&b, "call with 4 MiB", data, big, 1);
	call(&b, "call with 4 MiB - 8 bytes", data, big - 8, 2);
	put(&ch, 0, 1);
	reap(m);
	free(data);
	say("done");
	return 0;
}
