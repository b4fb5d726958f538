/* SPDX-License-Identifier: MIT */
/*
 * A driver core with no daemon: fake driver_ops, three processes of one
 * context with two threads each and a real 64 KiB region, driven by a stream
 * of operations decoded from arbitrary bytes. Shared by the libFuzzer target
 * (fuzz/driver) and the seeded random test (test-driver-ops.c).
 *
 * What it checks: no crash or sanitizer report whatever the input, the
 * allocator's invariants after every operation, that every reply promise
 * made is kept exactly (op_promise), and that once every process is
 * released the driver holds nothing (created == deleted for every kind of
 * object, no descriptor left open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/entities.h"
#include "driver/fetch.h"
#include "op_harness.h"
#include "common/binder_object.h"
#include "wire/binder_ioctl.h"
#include "wire/wire.h"

#define NPROCS		 3
#define NTHREADS	 2
#define REGION_SIZE	 (64 * 1024)
#define REMEMBERED	 16
#define MAX_PENDING_JOBS 8
/* Where the fake clients "map" their regions and keep their data. */
#define USER_BASE(i)	 (0x100000000ull * ((i) + 1))
#define DATA_ADDR	 0x7f0000001000ull
#define OFFSETS_ADDR	 0x7f0000100000ull

struct h_thread {
	struct thread *thread;
	int index; /* conn pointers point here */
	bool fixup_pending;
	size_t fixup_count;
};

struct h_proc {
	struct proc *proc;
	struct h_thread threads[NTHREADS];
};

struct harness {
	struct driver *drv;
	struct context *ctx;
	struct h_proc procs[NPROCS];
	uint64_t buffers[REMEMBERED]; /* buffer addresses seen in reads */
	unsigned int nbuffers;
	struct fetch_job *jobs[MAX_PENDING_JOBS];
	unsigned int njobs;
	const uint8_t *in;
	size_t left;
	int failures;
	/* The answer to the promised write of op_promise, while it runs. */
	struct h_thread *watched;
	int watched_error;
	uint8_t watched_read[64];
	size_t watched_len;
};

static struct harness *current;

static uint8_t take_u8(struct harness *h)
{
	if (!h->left)
		return 0;
	h->left--;
	return *h->in++;
}

static size_t take_bytes(struct harness *h, uint8_t *dst, size_t max)
{
	size_t n = take_u8(h) % (max + 1);

	if (n > h->left)
		n = h->left;
	memcpy(dst, h->in, n);
	h->in += n;
	h->left -= n;
	return n;
}

static void remember(struct harness *h, uint64_t addr)
{
	h->buffers[h->nbuffers++ % REMEMBERED] = addr;
}

/* --- fake daemon ----------------------------------------------------------- */

static void fake_write_read_done(void *conn, const struct bwr_result *r)
{
	struct h_thread *ht = conn;
	size_t pos = 0;

	/* Learn buffer addresses so that later operations can free them. */
	while (r->read && pos + 4 <= r->read_len) {
		uint32_t cmd;

		memcpy(&cmd, r->read + pos, 4);
		pos += 4;
		if (_IOC_SIZE(cmd) > r->read_len - pos)
			break;
		if (cmd == BR_TRANSACTION || cmd == BR_REPLY || cmd == BR_TRANSACTION_SEC_CTX) {
			struct binder_transaction_data tr;

			memcpy(&tr, r->read + pos, sizeof(tr));
			remember(current, tr.data.ptr.buffer);
		}
		pos += _IOC_SIZE(cmd);
	}
	ht->fixup_pending = r->nfds > 0;
	ht->fixup_count = r->nfds;
	if (ht == current->watched) {
		current->watched_error = r->error;
		current->watched_len = r->read_len < sizeof(current->watched_read)
					       ? r->read_len
					       : sizeof(current->watched_read);
		if (r->read)
			memcpy(current->watched_read, r->read, current->watched_len);
		current->watched = NULL;
	}
}

static void fake_ioctl_done(void *conn, int error, const void *arg, size_t size)
{
	(void)conn;
	(void)error;
	(void)arg;
	(void)size;
}

static int fake_fetch_start(void *daemon, struct fetch_job *job)
{
	struct harness *h = daemon;

	if (h->njobs == MAX_PENDING_JOBS)
		return -ENOMEM;
	h->jobs[h->njobs++] = job;
	return 0;
}

static void fake_poll_changed(void *session, bool readable)
{
	(void)session;
	(void)readable;
}

static const struct driver_ops fake_ops = {
	.write_read_done = fake_write_read_done,
	.ioctl_done = fake_ioctl_done,
	.fetch_start = fake_fetch_start,
	.poll_changed = fake_poll_changed,
};

/* --- processes --------------------------------------------------------------- */

static void attach_thread(struct harness *h, int p, int t)
{
	struct h_proc *hp = &h->procs[p];
	struct thread_peer peer = { .pid = hp->proc->id.pid, .pidfd = -1 };

	hp->threads[t].index = t;
	hp->threads[t].fixup_pending = false;
	/* Refused above the thread limit: the slot stays empty. */
	(void)driver_thread_attach(hp->proc, 1000 * (p + 1) + t, &peer, &hp->threads[t],
				   &hp->threads[t].thread);
}

static void open_proc(struct harness *h, int p)
{
	struct proc_identity id = { 0 };
	struct h_proc *hp = &h->procs[p];
	uint64_t mapped;
	int fd;

	/* Process 0 is readable (our own pid): its large copies take the async path. */
	id.pid = p == 0 ? getpid() : 100000 + p;
	id.euid = 1000 + p;
	id.pidfd = -1;
	id.can_read_memory = p == 0;
	id.wants_poll = p == 1; /* readiness tracking is exercised too */
	snprintf(id.comm, sizeof(id.comm), "proc%d", p);
	hp->proc = driver_proc_open(h->drv, h->ctx, &id, hp);
	for (int t = 0; t < NTHREADS; t++)
		attach_thread(h, p, t);
	if (hp->threads[0].thread &&
	    driver_mmap(hp->threads[0].thread, USER_BASE(p), REGION_SIZE, &fd, &mapped) == 0) {
		close(fd);
		driver_mmap_done(hp->threads[0].thread, USER_BASE(p));
	}
}

static void release_proc(struct harness *h, int p)
{
	struct h_proc *hp = &h->procs[p];

	if (!hp->proc)
		return;
	driver_proc_flush(hp->proc);
	driver_flush(h->drv);
	driver_proc_release(hp->proc);
	memset(hp, 0, sizeof(*hp));
}

/* --- operations -------------------------------------------------------------- */

static struct thread *pick_thread(struct harness *h, int *pi, int *ti)
{
	uint8_t b = take_u8(h);
	int p = b % NPROCS, t = (b / NPROCS) % NTHREADS;

	struct thread *thread = h->procs[p].proc ? h->procs[p].threads[t].thread : NULL;

	*pi = p;
	*ti = t;
	/* A client blocked in a read gets a signal before it can do anything else. */
	if (thread && thread->bwr.phase == BWR_WAITING && (b & 0x80))
		driver_interrupt(thread);
	return thread;
}

static void write_read(struct harness *h, struct thread *thread, const uint8_t *w, size_t wlen,
		       const struct mem_segment *segs, size_t nsegs, const int *fds,
		       const int32_t *numbers, size_t nfds)
{
	static const uint64_t read_sizes[] = { 0, 256, 4, 80, 1024 };
	struct bwr_request req = { 0 };
	uint8_t flags = take_u8(h);

	req.write = w;
	req.write_len = wlen;
	req.write_size = wlen;
	req.read_size = read_sizes[flags % 5];
	req.nonblock = flags & 0x10;
	req.segments = segs;
	req.nsegments = nsegs;
	req.fds = fds;
	req.sender_fds = numbers;
	req.nfds = nfds;
	if (thread->bwr.phase != BWR_IDLE) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return;
	}
	driver_write_read(thread, &req);
}

static void op_raw_write(struct harness *h)
{
	uint8_t w[256];
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	size_t n = take_bytes(h, w, sizeof(w));

	if (thread)
		write_read(h, thread, w, n, NULL, 0, NULL, NULL, 0);
}

/* A transaction or reply whose data and offsets come inline from the input. */
static void op_transaction(struct harness *h)
{
	static const uint32_t cmds[] = { BC_TRANSACTION, BC_REPLY, BC_TRANSACTION_SG, BC_REPLY_SG };
	uint8_t data[512], offsets_raw[64];
	struct binder_transaction_data_sg sg = { 0 };
	struct binder_transaction_data *tr = &sg.transaction_data;
	struct mem_segment segs[2];
	uint8_t w[4 + sizeof(sg)];
	int fds[2] = { -1, -1 };
	int32_t numbers[2] = { 3, 4 };
	size_t nfds = 0;
	uint32_t cmd;
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	uint8_t mode = take_u8(h);
	size_t data_len = take_bytes(h, data, sizeof(data));
	size_t off_len = take_bytes(h, offsets_raw, sizeof(offsets_raw));

	cmd = cmds[mode % 4];
	tr->target.handle = take_u8(h) % 6;
	tr->code = take_u8(h);
	tr->flags = (mode & 0x10 ? TF_ONE_WAY : 0) | (mode & 0x20 ? TF_ACCEPT_FDS : 0) |
		    (mode & 0x40 ? TF_CLEAR_BUF : 0);
	tr->data_size = data_len;
	tr->offsets_size = off_len;
	tr->data.ptr.buffer = DATA_ADDR;
	tr->data.ptr.offsets = OFFSETS_ADDR;
	sg.buffers_size = (take_u8(h) % 4) * 64;
	if (mode & 0x80) {
		/* Sometimes the process reads it: large copies go to a "worker". */
		tr->data_size += 4000;
	}
	segs[0] = (struct mem_segment){ DATA_ADDR, data_len, data };
	segs[1] = (struct mem_segment){ OFFSETS_ADDR, off_len, offsets_raw };
	memcpy(w, &cmd, 4);
	memcpy(w + 4, &sg, _IOC_SIZE(cmd));
	if (mode & 0x08) {
		fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		nfds = (fds[0] >= 0) + (fds[1] >= 0);
	}
	if (thread)
		write_read(h, thread, w, 4 + _IOC_SIZE(cmd), segs, 2, fds, numbers, nfds);
	else
		for (size_t i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
}

/* Well-formed objects, so that translation, refs and fd passing get exercised. */
static void op_objects(struct harness *h)
{
	static const uint64_t ptrs[] = { 0x1000, 0x2000, 0x3000 };
	uint8_t data[400], sg[2][32];
	binder_size_t offsets[8];
	struct binder_transaction_data_sg txn = { 0 };
	struct binder_transaction_data *tr = &txn.transaction_data;
	struct mem_segment segs[4];
	uint8_t w[4 + sizeof(txn)];
	int fds[1] = { -1 };
	int32_t numbers[1] = { 5 };
	size_t len = 0, n = 0, nsg = 0;
	uint32_t cmd;
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	uint8_t mode = take_u8(h);
	size_t count = 1 + take_u8(h) % 6;

	memset(data, 0, sizeof(data));
	memset(sg, 0x11, sizeof(sg));
	for (size_t i = 0; i < count; i++) {
		uint8_t kind = take_u8(h), arg = take_u8(h);
		union binder_object_bytes o;
		uint32_t size;

		memset(&o, 0, sizeof(o));
		switch (kind % 7) {
		case 0:
		case 1:
			o.fbo.hdr.type = kind % 7 ? BINDER_TYPE_WEAK_BINDER : BINDER_TYPE_BINDER;
			o.fbo.binder = ptrs[arg % 3];
			o.fbo.cookie = arg & 0x40 ? 0x99 : ptrs[arg % 3] + 1;
			o.fbo.flags = arg & 0x80 ? FLAT_BINDER_FLAG_ACCEPTS_FDS : 0;
			break;
		case 2:
		case 3:
			o.fbo.hdr.type =
				kind % 7 == 2 ? BINDER_TYPE_HANDLE : BINDER_TYPE_WEAK_HANDLE;
			o.fbo.handle = arg % 5;
			break;
		case 4:
			o.fd.hdr.type = BINDER_TYPE_FD;
			o.fd.fd = arg & 1 ? 5 : 77;
			break;
		case 5:
			if (nsg == 2)
				continue;
			o.bbo.hdr.type = BINDER_TYPE_PTR;
			o.bbo.buffer = DATA_ADDR + 0x10000 * (nsg + 1);
			o.bbo.length = 8 + arg % 24;
			if (arg & 0x80) {
				o.bbo.flags = BINDER_BUFFER_FLAG_HAS_PARENT;
				o.bbo.parent = arg % (n + 1);
				o.bbo.parent_offset = (arg >> 3) % 16;
			}
			segs[2 + nsg] =
				(struct mem_segment){ o.bbo.buffer, sizeof(sg[nsg]), sg[nsg] };
			nsg++;
			break;
		case 6:
			o.fda.hdr.type = BINDER_TYPE_FDA;
			o.fda.num_fds = arg % 3;
			o.fda.parent = arg % (n + 1);
			o.fda.parent_offset = 4 * ((arg >> 2) % 4);
			break;
		}
		size = binder_object_size(o.hdr.type);
		if (len + size > sizeof(data) || n == 8)
			break;
		memcpy(data + len, &o, size);
		offsets[n++] = len;
		len += size + (arg & 0x20 ? 8 : 0);
	}
	cmd = mode & 1 ? BC_REPLY_SG : BC_TRANSACTION_SG;
	tr->target.handle = take_u8(h) % 4;
	tr->flags = (mode & 2 ? TF_ONE_WAY : 0) | (mode & 4 ? TF_ACCEPT_FDS : 0);
	tr->data_size = len;
	tr->offsets_size = n * sizeof(binder_size_t);
	tr->data.ptr.buffer = DATA_ADDR;
	tr->data.ptr.offsets = OFFSETS_ADDR;
	txn.buffers_size = 64;
	segs[0] = (struct mem_segment){ DATA_ADDR, len, data };
	segs[1] =
		(struct mem_segment){ OFFSETS_ADDR, n * sizeof(binder_size_t), (uint8_t *)offsets };
	memcpy(w, &cmd, 4);
	memcpy(w + 4, &txn, sizeof(txn));
	fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (thread)
		write_read(h, thread, w, sizeof(w), segs, 2 + nsg, fds, numbers, fds[0] >= 0);
	else if (fds[0] >= 0)
		close(fds[0]);
}

/* Reference counts and death notifications on handles and nodes. */
static void op_refs(struct harness *h)
{
	static const uint32_t cmds[] = { BC_INCREFS,
					 BC_ACQUIRE,
					 BC_RELEASE,
					 BC_DECREFS,
					 BC_INCREFS_DONE,
					 BC_ACQUIRE_DONE,
					 BC_REQUEST_DEATH_NOTIFICATION,
					 BC_CLEAR_DEATH_NOTIFICATION,
					 BC_DEAD_BINDER_DONE,
					 BC_ENTER_LOOPER,
					 BC_REGISTER_LOOPER,
					 BC_EXIT_LOOPER };
	uint8_t w[4 * (4 + sizeof(struct binder_ptr_cookie))];
	size_t len = 0;
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	size_t count = 1 + take_u8(h) % 4;

	for (size_t i = 0; i < count; i++) {
		uint32_t cmd = cmds[take_u8(h) % (sizeof(cmds) / sizeof(cmds[0]))];
		uint8_t arg = take_u8(h);
		struct binder_ptr_cookie pc = { 0x1000 * (1 + arg % 3),
						0x1000 * (1 + arg % 3) + 1 };
		struct binder_handle_cookie hc = { arg % 5, 0xc0 + arg % 2 };
		uint64_t cookie = 0xc0 + arg % 2;
		uint32_t handle = arg % 5;

		memcpy(w + len, &cmd, 4);
		len += 4;
		switch (cmd) {
		case BC_INCREFS:
		case BC_ACQUIRE:
		case BC_RELEASE:
		case BC_DECREFS:
			memcpy(w + len, &handle, 4);
			len += 4;
			break;
		case BC_INCREFS_DONE:
		case BC_ACQUIRE_DONE:
			memcpy(w + len, &pc, sizeof(pc));
			len += sizeof(pc);
			break;
		case BC_REQUEST_DEATH_NOTIFICATION:
		case BC_CLEAR_DEATH_NOTIFICATION:
			memcpy(w + len, &hc, sizeof(hc));
			len += sizeof(hc);
			break;
		case BC_DEAD_BINDER_DONE:
			memcpy(w + len, &cookie, sizeof(cookie));
			len += sizeof(cookie);
			break;
		}
	}
	if (thread)
		write_read(h, thread, w, len, NULL, 0, NULL, NULL, 0);
}

static void op_free_buffer(struct harness *h)
{
	uint8_t w[12];
	uint32_t cmd = BC_FREE_BUFFER;
	uint64_t addr;
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	uint8_t k = take_u8(h);

	addr = h->nbuffers ? h->buffers[k % REMEMBERED] : USER_BASE(p);
	if (k & 0x80)
		addr += take_u8(h); /* into the middle of a buffer */
	memcpy(w, &cmd, 4);
	memcpy(w + 4, &addr, 8);
	if (thread)
		write_read(h, thread, w, sizeof(w), NULL, 0, NULL, NULL, 0);
}

static void op_ioctl(struct harness *h)
{
	uint8_t arg[64] = { 0 };
	uint32_t cmd;
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);

	cmd = binder_ioctl_pick(take_u8(h));
	/* The thread stays ours (op_misc ends threads); an unknown request instead. */
	if (cmd == BINDER_THREAD_EXIT)
		cmd = 0x12345678;
	take_bytes(h, arg, sizeof(arg));
	if (cmd == BINDER_FREEZE || cmd == BINDER_GET_FROZEN_INFO) {
		/* Name one of our processes most of the time, with a short timeout. */
		struct binder_freeze_info *fi = (void *)arg;

		if (arg[0] & 1)
			fi->pid = (uint32_t)(h->procs[arg[1] % NPROCS].proc
						     ? h->procs[arg[1] % NPROCS].proc->id.pid
						     : 0);
		if (cmd == BINDER_FREEZE)
			fi->timeout_ms = arg[2] & 1;
	}
	if (thread && thread->bwr.phase == BWR_IDLE)
		driver_ioctl(thread, cmd, arg, _IOC_SIZE(cmd));
}

/*
 * The local completion's promise (reply_promise.h), used as the daemon uses
 * it: made, then before any other operation either cancelled or taken by
 * the write it was made for. That write, if it is a plain reply within the
 * limit (after a BC_FREE_BUFFER, as libbinder's looper writes it) with a
 * read, must return exactly [BR_NOOP, BR_TRANSACTION_COMPLETE]: the promise
 * is checked, not trusted. Whatever else it holds, no room is left behind.
 */
static void op_promise(struct harness *h, struct thread *thread, struct h_thread *ht)
{
	static uint8_t data[4096];
	static const uint32_t expected[2] = { BR_NOOP, BR_TRANSACTION_COMPLETE };
	uint8_t mode = take_u8(h), w[256];
	uint32_t limit = 4096u >> (mode & 3), cmd;
	const struct mem_segment seg = { DATA_ADDR, sizeof(data), data };
	struct binder_transaction_data tr = { .code = 0 };
	struct bwr_request req = {
		.read_size = 256, .promised = true, .segments = &seg, .nsegments = 1
	};
	size_t len = 0;

	if (!thread || !driver_promise_reply(thread, limit, limit))
		return;
	if (mode & 0x10) {
		driver_promise_cancel(thread);
	} else if (mode & 0x20) {
		/* Any bytes: the daemon honours only plain replies, but the core
		 * must stay whole whatever a promised write holds. */
		len = take_bytes(h, w, sizeof(w));
		req.read_size = (mode & 0x40) ? 256 : 4;
	} else {
		if (mode & 0x40 && h->nbuffers) {
			uint64_t buf = h->buffers[take_u8(h) % REMEMBERED];

			cmd = BC_FREE_BUFFER;
			memcpy(w, &cmd, 4);
			memcpy(w + 4, &buf, 8);
			len = 12;
		}
		tr.data_size = (take_u8(h) * 17u) % (limit + 1);
		tr.data.ptr.buffer = DATA_ADDR;
		cmd = BC_REPLY;
		memcpy(w + len, &cmd, 4);
		memcpy(w + len + 4, &tr, sizeof(tr));
		len += 4 + sizeof(tr);
	}
	if (!(mode & 0x10)) {
		req.write = w;
		req.write_len = req.write_size = len;
		h->watched = ht;
		h->watched_len = SIZE_MAX;
		driver_write_read(thread, &req);
		if (!(mode & 0x20) &&
		    (h->watched || h->watched_error || h->watched_len != sizeof(expected) ||
		     memcmp(h->watched_read, expected, sizeof(expected)) != 0)) {
			fprintf(stderr, "a promised reply did not complete (error %d, %zu bytes)\n",
				h->watched_error, h->watched_len);
			abort();
		}
		h->watched = NULL;
	}
	if (thread->promised_room) {
		fprintf(stderr, "a promise outlived its write\n");
		abort();
	}
}

static void op_misc(struct harness *h)
{
	int p, t;
	struct thread *thread = pick_thread(h, &p, &t);
	uint8_t what = take_u8(h) % 7;

	switch (what) {
	case 0:
		if (thread)
			driver_interrupt(thread);
		break;
	case 1:
		if (thread) {
			driver_thread_detach(thread);
			attach_thread(h, p, t);
		}
		break;
	case 2:
		release_proc(h, p);
		open_proc(h, p);
		break;
	case 3:
		/* Finish the oldest fetch job as a copy worker would. */
		if (h->njobs) {
			struct fetch_job *job = h->jobs[0];

			memmove(h->jobs, h->jobs + 1, --h->njobs * sizeof(h->jobs[0]));
			fetch_job_run(job, true);
			driver_fetch_done(h->drv, job);
		}
		break;
	case 4:
		if (h->procs[p].proc)
			driver_proc_flush(h->procs[p].proc);
		break;
	case 5:
		driver_tick(h->drv, driver_now_ms() + 100000);
		break;
	case 6:
		op_promise(h, thread, thread ? &h->procs[p].threads[t] : NULL);
		break;
	}
}

/* Clients answer descriptors they received with the numbers they got. */
static void answer_fixups(struct harness *h)
{
	for (int p = 0; p < NPROCS; p++) {
		for (int t = 0; t < NTHREADS; t++) {
			struct h_thread *ht = &h->procs[p].threads[t];
			int32_t numbers[UBW_MAX_FDS];

			if (!ht->thread || !ht->fixup_pending)
				continue;
			ht->fixup_pending = false;
			for (size_t i = 0; i < ht->fixup_count && i < UBW_MAX_FDS; i++)
				numbers[i] = 50 + (int32_t)i;
			uint32_t replacement;

			/* Sometimes a descriptor cannot be received (EMFILE). */
			if (ht->fixup_count && (h->left & 7) == 0)
				numbers[0] = -1;
			driver_fd_fixup(ht->thread, numbers, ht->fixup_count, &replacement);
		}
	}
}

static void check_allocators(struct harness *h)
{
	char why[256];

	for (int p = 0; p < NPROCS; p++) {
		struct proc *proc = h->procs[p].proc;

		if (proc && buffer_space_check(&proc->space, why, sizeof(why))) {
			fprintf(stderr, "allocator invariant broken: %s\n", why);
			abort();
		}
	}
}

static void check_nothing_left(const struct driver_stats *s)
{
	if (s->procs_created != s->procs_deleted || s->threads_created != s->threads_deleted ||
	    s->nodes_created != s->nodes_deleted || s->refs_created != s->refs_deleted ||
	    s->deaths_created != s->deaths_deleted ||
	    s->transactions_created != s->transactions_deleted) {
		fprintf(stderr,
			"leak: procs %llu/%llu threads %llu/%llu nodes %llu/%llu refs %llu/%llu "
			"deaths %llu/%llu transactions %llu/%llu\n",
			(unsigned long long)s->procs_created, (unsigned long long)s->procs_deleted,
			(unsigned long long)s->threads_created,
			(unsigned long long)s->threads_deleted,
			(unsigned long long)s->nodes_created, (unsigned long long)s->nodes_deleted,
			(unsigned long long)s->refs_created, (unsigned long long)s->refs_deleted,
			(unsigned long long)s->deaths_created,
			(unsigned long long)s->deaths_deleted,
			(unsigned long long)s->transactions_created,
			(unsigned long long)s->transactions_deleted);
		abort();
	}
}

int op_harness_run(const uint8_t *data, size_t size)
{
	/* Half the inputs freeze across uids as the kernel lets them, half under
	 * the default owner policy (the processes have different uids). */
	struct driver_config cfg = { .max_region_size = REGION_SIZE,
				     .max_threads = 8,
				     .max_read_size = UBW_MAX_READ_SIZE,
				     .max_fds = UBW_MAX_FDS,
				     .max_outbox = UBW_MAX_OUTBOX,
				     .freeze_any_uid = size > 0 && (data[size - 1] & 1) };
	struct harness h = { .in = data, .left = size };
	struct driver_stats stats;

	current = &h;
	h.drv = driver_new(&cfg, &fake_ops, &h);
	if (!h.drv)
		return 0;
	h.ctx = driver_add_context(h.drv, "binder");
	for (int p = 0; p < NPROCS; p++)
		open_proc(&h, p);

	while (h.left) {
		switch (take_u8(&h) % 10) {
		case 0:
			op_transaction(&h);
			break;
		case 1:
			op_objects(&h);
			break;
		case 8:
			op_refs(&h);
			break;
		case 2:
			op_raw_write(&h);
			break;
		case 3:
			op_free_buffer(&h);
			break;
		case 4:
			op_ioctl(&h);
			break;
		case 5:
			op_misc(&h);
			break;
		default: {
			/* A read: the most common thing a client does. */
			int p, t;
			struct thread *thread = pick_thread(&h, &p, &t);

			if (thread)
				write_read(&h, thread, NULL, 0, NULL, 0, NULL, NULL, 0);
			break;
		}
		}
		driver_flush(h.drv);
		answer_fixups(&h);
		check_allocators(&h);
	}

	/* Finish outstanding copies, then tear everything down. */
	while (h.njobs) {
		struct fetch_job *job = h.jobs[--h.njobs];

		fetch_job_run(job, true);
		driver_fetch_done(h.drv, job);
		driver_flush(h.drv);
		answer_fixups(&h);
	}
	for (int p = 0; p < NPROCS; p++)
		release_proc(&h, p);
	driver_flush(h.drv);
	stats = h.drv->stats;
	if (stats.nodes_created != stats.nodes_deleted)
		driver_dump_state(h.drv, stderr, 0);
	driver_free(h.drv);
	check_nothing_left(&stats);
	current = NULL;
	return 0;
}
