/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/ns_read.h"
#include "daemon/proc_info.h"
#include "daemon/quota.h"
#include "daemon/seccomp_target.h"
#include "fuse/fuse_files.h"
#include "wire/binder_ioctl.h"
#include "wire/binder_stream.h"
#include "wire/peer_mem.h"
#include "wire/wire.h"

/* Bytes past a truncated command the kernel may read (the largest command's arguments). */
#define MAX_OVERRUN	72u
/* Reads taken back for descriptors the caller cannot receive, before the empty read returns. */
#define MAX_READS_AGAIN 4
/* The longest security context looked for at the end of a delivered buffer. */
#define MAX_SECCTX	256u

/* An ioctl being served: its steps on the loop and on copy workers. */
struct fb_call {
	struct copier_task task; /* its reads and writes of caller memory, and the answer */
	struct fuse_files *all;
	uint64_t unique; /* the FUSE request */
	pid_t tid;
	struct fb_file *file; /* NULL once released */
	struct fb_thread *thread;
	uint32_t cmd;
	size_t size;
	uint8_t arg[64];
	bool in_copier, parked, interrupted;
	bool answered; /* early, while it was on a worker (fuse_files_interrupt): only freed then */
	int error;
	/* The fdinfo of the caller's descriptor of the file (its thread's, lent to
	 * the worker), and its O_NONBLOCK then. */
	uint64_t ino;
	int fdinfo;
	bool open_nonblock, nonblock;
	/* The opener's mapping of the file, looked for until it is found. */
	pid_t tgid;
	bool map_probe;
	uint64_t map_addr, map_len;
	/* BINDER_WRITE_READ */
	uint64_t bwr_addr;
	struct binder_write_read bwr;
	uint8_t *write; /* the unconsumed write buffer, then the overrun */
	size_t write_len, overrun;
	uint64_t read_consumed_in;
	bool read_unwritable;
	uint8_t *read;
	size_t read_len;
	uint32_t spawn, noop;
	unsigned int reads_again;
	int32_t fds[UBW_MAX_FDS];
	size_t nfds;
	/* The delivered buffer, pushed into the caller's page cache before the answer. */
	int store_fd;
	uint64_t store_nodeid, store_off, store_len;
	uint64_t clear_off, clear_len; /* a TF_CLEAR_BUF buffer this call freed (zeroed) */
	struct loop_deferred step;     /* fix-up, then the write-back, after the driver's flush */
	LIST_ENTRY(fb_call) entry;
};

/* --- caller memory (on a copy worker) --------------------------------------- */

/* O_NONBLOCK from an open /proc/TID/fdinfo/FD if FD is the file of inode @ino; -1 if not. */
static int fdinfo_nonblock(int info, uint64_t ino)
{
	char buf[512], *p;
	unsigned long long got_ino = 0;
	unsigned int flags = 0;
	ssize_t n = pread(info, buf, sizeof(buf) - 1, 0); /* procfs makes it anew */

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	if (!p || sscanf(p, "flags: %o", &flags) != 1)
		return -1;
	p = strstr(buf, "ino:");
	if (!p || sscanf(p, "ino: %llu", &got_ino) != 1 || got_ino != ino)
		return -1;
	return (flags & O_NONBLOCK) != 0;
}

/*
 * Whether the caller's descriptor of the file is non-blocking now: FUSE
 * tells the server the flags at open only, and fcntl(F_SETFL) changes them
 * on the caller's open file. The descriptor is found once in
 * /proc/TID/fdinfo (an inode number of the mount is unique), and its fdinfo
 * stays open for the thread's next reads (opening it costs ~15 µs here, a
 * read of it ~1.5 µs).
 */
static bool caller_nonblock(struct fb_call *call)
{
	struct dirent *e;
	char path[64];
	DIR *dir;
	int r = call->fdinfo >= 0 ? fdinfo_nonblock(call->fdinfo, call->ino) : -1;

	if (r >= 0)
		return r;
	if (call->fdinfo >= 0)
		close(call->fdinfo);
	call->fdinfo = -1;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", call->tid);
	dir = opendir(path);
	if (!dir)
		return call->open_nonblock;
	while ((e = readdir(dir)) != NULL) {
		int info;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		info = openat(dirfd(dir), e->d_name, O_RDONLY | O_CLOEXEC);
		if (info < 0)
			continue;
		r = fdinfo_nonblock(info, call->ino);
		if (r >= 0) {
			call->fdinfo = info;
			break;
		}
		close(info);
	}
	closedir(dir);
	return r >= 0 ? r : call->open_nonblock;
}

/* Where the opener mapped node @ino of the mount (offset 0), and how long: 0 if not. */
static uint64_t find_mapping(pid_t pid, dev_t dev, uint64_t ino, uint64_t *len)
{
	char path[64], line[512];
	uint64_t start_found = 0, end_found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, off, node;
		unsigned int maj, min;

		if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off, &maj, &min,
			   &node) != 6 ||
		    node != ino || makedev(maj, min) != dev)
			continue;
		if (!start_found && off == 0) {
			start_found = start;
			end_found = end;
		} else if (start_found && start == end_found &&
			   off == (uint64_t)(end_found - start_found)) {
			end_found = end; /* the same mapping, split by mprotect */
		}
	}
	fclose(f);
	*len = end_found - start_found;
	return start_found;
}

/* The write buffer (and the bytes past a truncated command), and the read's first word. */
static void reads_run(struct copier_task *task)
{
	struct fb_call *call = (struct fb_call *)task;
	struct binder_write_read *bwr = &call->bwr;
	uint64_t len = 0;
	uint32_t word;

	if (call->map_probe) /* /proc/PID/maps waits for the caller's mmap lock: not on the loop */
		call->map_addr =
			find_mapping(call->tgid, call->all->dev, call->ino, &call->map_len);
	if (call->cmd != BINDER_WRITE_READ)
		return;
	if (bwr->write_size > bwr->write_consumed)
		len = bwr->write_size - bwr->write_consumed;
	if (len > call->all->max_body) {
		call->error = -EFAULT; /* no kernel could read that much either */
		return;
	}
	if (len) {
		call->write = malloc(len + MAX_OVERRUN);
		if (!call->write) {
			call->error = -ENOMEM;
			return;
		}
		call->write_len = peer_mem_read_prefix(
			call->tid, call->write, bwr->write_buffer + bwr->write_consumed, len);
		if (call->write_len == 0) {
			call->error =
				-EFAULT; /* the first command is unreadable: nothing is done */
			return;
		}
		if (call->write_len == len && !binder_stream_complete(call->write, len))
			call->overrun = peer_mem_read_prefix(call->tid, call->write + len,
							     bwr->write_buffer + bwr->write_size,
							     MAX_OVERRUN);
	}
	if (bwr->read_size > 0)
		call->nonblock = caller_nonblock(call);
	/* The kernel's read stores BR_NOOP first: a buffer it cannot write fails at once. */
	if (bwr->read_size > 0 && bwr->read_consumed == 0)
		call->read_unwritable = peer_mem_read(call->tid, &word, bwr->read_buffer, 4) ||
					peer_mem_write(call->tid, bwr->read_buffer, &word, 4);
}

/*
 * [off, off + len) of the region into the page cache, in pieces the device
 * takes, straight from a mapping of the region made for this call (its pages
 * are a delivered buffer's, installed: no hole is read, and the file's
 * release cannot unmap it under the worker).
 */
static void store_run(struct fb_call *call, uint64_t off, uint64_t len)
{
	const size_t piece = 1u << 20;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), start = off & ~(page - 1);
	size_t maplen = (size_t)(off + len - start);
	uint8_t *map;

	if (call->store_fd < 0 || len == 0)
		return;
	map = mmap(NULL, maplen, PROT_READ, MAP_SHARED | MAP_POPULATE, call->store_fd,
		   (off_t)start);
	if (map == MAP_FAILED) {
		__atomic_fetch_add(&call->all->stats.store_errors, 1, __ATOMIC_RELAXED);
		return;
	}
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < piece ? (size_t)(len - done) : piece;
		struct fuse_notify_store_out out = { .nodeid = call->store_nodeid,
						     .offset = off + done,
						     .size = (uint32_t)n };
		struct iovec iov[2] = { { &out, sizeof(out) }, { map + (off - start) + done, n } };

		if (fuse_chan_notify(call->all->chan, FUSE_NOTIFY_STORE, iov, 2) < 0) {
			__atomic_fetch_add(&call->all->stats.store_errors, 1, __ATOMIC_RELAXED);
			break;
		}
		done += n;
	}
	munmap(map, maplen);
}

/* The write-back of a BINDER_WRITE_READ, the store, then the answer. */
static void writes_run(struct copier_task *task)
{
	struct fb_call *call = (struct fb_call *)task;
	struct binder_write_read *bwr = &call->bwr;
	struct fuse_ioctl_out out = { 0 };
	struct iovec iov[2] = { { &out, sizeof(out) }, { bwr, sizeof(*bwr) } };

	store_run(call, call->clear_off, call->clear_len);
	store_run(call, call->store_off, call->store_len);
	if (call->read_len && peer_mem_write(call->tid, bwr->read_buffer + call->read_consumed_in,
					     call->read, call->read_len))
		call->error = -EFAULT;
	if (call->spawn)
		(void)peer_mem_write(call->tid, bwr->read_buffer, &call->spawn,
				     sizeof(call->spawn));
	if (call->noop)
		(void)peer_mem_write(call->tid, bwr->read_buffer, &call->noop, sizeof(call->noop));
	/*
	 * Answered on the loop meanwhile: its process is dying
	 * (fuse_files_interrupt). Should both answer at once, the later one
	 * finds the request gone (a unique is never reused): counted as lost.
	 */
	if (__atomic_load_n(&call->answered, __ATOMIC_ACQUIRE))
		return;
	/* On an error the kernel still copies the struct back; on success the reply does. */
	if (call->error) {
		(void)peer_mem_write(call->tid, call->bwr_addr, bwr, sizeof(*bwr));
		fuse_chan_reply_error(call->all->chan, call->unique, call->error);
		return;
	}
	fuse_chan_reply(call->all->chan, call->unique, 0, iov, 2);
}

/* --- calls on the loop --------------------------------------------------- */

static void call_free(struct fb_call *call)
{
	if (call->thread && call->thread->call == call)
		call->thread->call = NULL;
	LIST_REMOVE(call, entry);
	free(call->write);
	free(call->read);
	if (call->store_fd >= 0)
		close(call->store_fd);
	if (call->fdinfo >= 0)
		close(call->fdinfo);
	free(call);
}

static void call_answer(struct fb_call *call, int error)
{
	fuse_chan_reply_error(call->all->chan, call->unique, error);
	call_free(call);
}

static void task_expired(struct copier_task *task)
{
	struct fb_call *call = (struct fb_call *)task;

	call->in_copier = false;
	if (call->answered)
		call_free(call);
	else
		call_answer(call, -EFAULT);
}

static void submit(struct fb_call *call, void (*run)(struct copier_task *),
		   void (*done)(struct copier_task *))
{
	memset(&call->task, 0, sizeof(call->task));
	call->task.run = run;
	call->task.done = done;
	call->task.expired = task_expired;
	call->task.owner_key = (uint64_t)(call->thread ? call->thread->tgid : call->tid);
	call->in_copier = true;
	copier_submit(call->all->copier, &call->task);
}

static void writes_done(struct copier_task *task)
{
	struct fb_call *call = (struct fb_call *)task;

	call->in_copier = false;
	call->all->stats.served++;
	call_free(call);
}

/* Extends [*lo, *hi) to what the buffer holds past its data: offsets, sg buffers, secctx. */
static void buffer_extent(const struct fb_file *f, const struct binder_transaction_data *tr,
			  uint64_t secctx, uint64_t *hi)
{
	uint64_t base = f->map_addr, end = f->map_addr + f->region_size;
	binder_size_t offs[64];

	if (tr->offsets_size && tr->data.ptr.offsets >= base && tr->data.ptr.offsets < end) {
		uint64_t n = tr->offsets_size / sizeof(binder_size_t);

		if (tr->data.ptr.offsets + tr->offsets_size > *hi)
			*hi = tr->data.ptr.offsets + tr->offsets_size;
		for (uint64_t i = 0; i < n; i += 64) {
			size_t k = n - i < 64 ? (size_t)(n - i) : 64;
			ssize_t got =
				pread(f->region_fd, offs, k * sizeof(offs[0]),
				      (off_t)(tr->data.ptr.offsets - base + i * sizeof(offs[0])));

			if (got != (ssize_t)(k * sizeof(offs[0])))
				break;
			for (size_t j = 0; j < k; j++) {
				struct binder_buffer_object obj;

				if (offs[j] + sizeof(obj) > tr->data_size ||
				    pread(f->region_fd, &obj, sizeof(obj),
					  (off_t)(tr->data.ptr.buffer - base + offs[j])) !=
					    sizeof(obj) ||
				    obj.hdr.type != BINDER_TYPE_PTR)
					continue;
				if (obj.buffer + obj.length > *hi)
					*hi = obj.buffer + obj.length;
			}
		}
	}
	if (secctx >= base && secctx < end) {
		char s[MAX_SECCTX];
		ssize_t got = pread(f->region_fd, s, sizeof(s), (off_t)(secctx - base));

		if (got > 0) {
			void *nul = memchr(s, '\0', (size_t)got);
			uint64_t len = nul ? (uint64_t)((char *)nul - s) + 1 : (uint64_t)got;

			if (secctx + len > *hi)
				*hi = secctx + len;
		}
	}
}

/* The buffer the read's BR_TRANSACTION or BR_REPLY names, to push into the page cache. */
static void plan_store(struct fb_call *call)
{
	struct fb_file *f = call->file;
	struct binder_transaction_data_secctx tr = { 0 };
	uint64_t lo, hi, end;
	size_t at;
	uint32_t cmd;

	if (!f || !f->mapped || f->region_fd < 0 || call->read_len < sizeof(cmd))
		return;
	at = binder_stream_last_item(call->read, call->read_len);
	memcpy(&cmd, call->read + at, sizeof(cmd));
	if ((cmd != BR_TRANSACTION && cmd != BR_REPLY && cmd != BR_TRANSACTION_SEC_CTX) ||
	    at + sizeof(cmd) + _IOC_SIZE(cmd) > call->read_len)
		return;
	memcpy(&tr, call->read + at + sizeof(cmd), _IOC_SIZE(cmd));
	end = f->map_addr + f->region_size;
	lo = tr.transaction_data.data.ptr.buffer;
	if (lo < f->map_addr || lo >= end)
		return;
	hi = lo + tr.transaction_data.data_size;
	buffer_extent(f, &tr.transaction_data, cmd == BR_TRANSACTION_SEC_CTX ? tr.secctx : 0, &hi);
	if (hi > end)
		hi = end;
	if (hi <= lo)
		return;
	call->store_off = lo - f->map_addr;
	call->store_len = hi - lo;
	call->all->stats.stores++;
	call->all->stats.store_bytes += call->store_len;
	/* Its free zeroes it in the region: the page cache must show that too. */
	if (tr.transaction_data.flags & TF_CLEAR_BUF) {
		f->cleared[f->ncleared % FB_CLEARED] = (struct fb_range){ lo, hi - lo };
		f->ncleared++;
	}
}

/* A BC_FREE_BUFFER in the write part of a buffer delivered with TF_CLEAR_BUF. */
static void plan_clear(struct fb_call *call)
{
	struct fb_file *f = call->file;
	size_t pos = 0;

	if (!f || !f->mapped || f->region_fd < 0 || !f->ncleared)
		return;
	while (call->write_len - pos >= sizeof(uint32_t)) {
		binder_uintptr_t ptr;
		uint32_t cmd;

		memcpy(&cmd, call->write + pos, sizeof(cmd));
		if (call->write_len - pos - sizeof(cmd) < _IOC_SIZE(cmd))
			return;
		if (cmd == BC_FREE_BUFFER) {
			memcpy(&ptr, call->write + pos + sizeof(cmd), sizeof(ptr));
			for (size_t i = 0; i < FB_CLEARED; i++) {
				if (f->cleared[i].len && f->cleared[i].addr == ptr) {
					call->clear_off = ptr - f->map_addr;
					call->clear_len = f->cleared[i].len;
					f->cleared[i].len = 0;
					return;
				}
			}
		}
		pos += sizeof(cmd) + _IOC_SIZE(cmd);
	}
}

/* After the driver's flush of this event: what the caller polls next is settled. */
static void answer_run(struct loop_deferred *item)
{
	struct fb_call *call = (struct fb_call *)((char *)item - offsetof(struct fb_call, step));

	plan_store(call);
	if ((call->store_len || call->clear_len) && call->file)
		call->store_fd = fcntl(call->file->region_fd, F_DUPFD_CLOEXEC, 0);
	call->store_nodeid = call->file ? call->file->nodeid : 0;
	submit(call, writes_run, writes_done);
}

static void write_back(struct fb_call *call)
{
	struct binder_write_read *bwr = &call->bwr;

	if ((call->error == -EAGAIN || call->error == -EINTR) && call->read_consumed_in == 0 &&
	    call->read_len == 0 && bwr->read_size >= sizeof(uint32_t))
		call->noop = BR_NOOP; /* no work, but the BR_NOOP the read starts with is there */
	bwr->read_consumed = call->read_consumed_in + call->read_len;
	call->step.run = answer_run;
	loop_defer(call->all->loop, &call->step);
}

static void serve_write_read(struct fb_call *call);

/* The read's descriptors cannot be given to the caller: the driver takes them back. */
static void fixup_run(struct loop_deferred *item)
{
	struct fb_call *call = (struct fb_call *)((char *)item - offsetof(struct fb_call, step));
	uint32_t replacement = 0;

	if (!call->thread) {
		call_answer(call, -EBADF);
		return;
	}
	if (driver_fd_fixup(call->thread->thread, call->fds, call->nfds, &replacement) == -EBADF) {
		size_t item_at = binder_stream_last_item(call->read, call->read_len);

		if (replacement) {
			memcpy(call->read + item_at, &replacement, sizeof(replacement));
			item_at += sizeof(replacement);
		}
		call->read_len = item_at;
		if (call->read_consumed_in + call->read_len == sizeof(uint32_t) && !call->spawn &&
		    call->reads_again++ < MAX_READS_AGAIN) {
			/* Only the read's BR_NOOP is left: the read goes on. */
			free(call->read);
			call->read = NULL;
			call->read_len = call->nfds = 0;
			call->write_len = call->overrun = 0;
			call->error = 0;
			serve_write_read(call);
			return;
		}
	}
	write_back(call);
}

/* The driver completed the parked call of the thread behind @ep. */
static struct fb_call *take_call(struct endpoint *ep)
{
	struct fb_thread *t =
		(struct fb_thread *)((char *)ep - offsetof(struct fb_thread, endpoint));
	struct fb_call *call = t->call;

	if (call) {
		t->call = NULL;
		call->parked = false;
	}
	return call;
}

static void write_read_done(struct endpoint *ep, const struct bwr_result *r)
{
	struct fb_call *call = take_call(ep);

	if (!call)
		return;
	call->error = r->error;
	if (call->read_unwritable && call->error == 0)
		call->error = -EFAULT;
	call->bwr.write_consumed = r->write_consumed;
	call->spawn = r->spawn_looper_at_start ? BR_SPAWN_LOOPER : 0;
	free(call->read);
	call->read = NULL;
	call->read_len = 0;
	if (r->read_len) {
		call->read = malloc(r->read_len);
		if (call->read) {
			memcpy(call->read, r->read, r->read_len);
			call->read_len = r->read_len;
		} else {
			call->error = -ENOMEM;
		}
	}
	if (r->nclose)
		log_limited(LOG_LEVEL_NOTICE,
			    "fuse caller %d: %zu descriptors of a freed buffer stay open",
			    call->tid, r->nclose);
	if (!r->nfds) {
		write_back(call);
		return;
	}
	/* No way to put a descriptor into another process without its help. */
	call->nfds = r->nfds < UBW_MAX_FDS ? r->nfds : UBW_MAX_FDS;
	for (size_t i = 0; i < call->nfds; i++)
		call->fds[i] = -1;
	call->all->stats.unreceivable_fds += call->nfds;
	log_limited(LOG_LEVEL_NOTICE, "fuse caller %d: a transaction with descriptors was refused",
		    call->tid);
	call->step.run = fixup_run;
	loop_defer(call->all->loop, &call->step);
}

static void ioctl_done(struct endpoint *ep, int error, const void *arg, size_t size)
{
	struct fb_call *call = take_call(ep);
	struct fuse_ioctl_out out = { 0 };
	struct iovec iov[2] = { { &out, sizeof(out) }, { (void *)arg, 0 } };

	if (!call)
		return;
	if (error) {
		call_answer(call, error);
		return;
	}
	if ((_IOC_DIR(call->cmd) & _IOC_READ) && arg)
		iov[1].iov_len = size < call->size ? size : call->size;
	fuse_chan_reply(call->all->chan, call->unique, 0, iov, 2);
	call->all->stats.served++;
	call_free(call);
}

static const struct endpoint_ops thread_endpoint_ops = {
	.write_read_done = write_read_done,
	.ioctl_done = ioctl_done,
};

static void serve_write_read(struct fb_call *call)
{
	struct bwr_request req = { 0 };
	struct fb_thread *t = call->thread;

	if (!t) {
		call_answer(call, -EBADF);
		return;
	}
	if (call->error) {
		write_back(call);
		return;
	}
	plan_clear(call);
	req.write = call->write;
	req.write_len = call->write_len;
	req.write_overrun = call->overrun;
	req.write_size = call->bwr.write_size;
	req.write_consumed = call->bwr.write_consumed;
	req.read_size = call->read_unwritable ? 0 : call->bwr.read_size;
	req.read_consumed = call->bwr.read_consumed;
	req.nonblock = call->nonblock;
	t->call = call;
	call->parked = true;
	driver_write_read(t->thread, &req);
	/* Still parked only if the thread still holds it: a signal came meanwhile? */
	if (t->call == call && call->interrupted)
		driver_interrupt(t->thread);
}

static void learn_mapping(struct fb_call *call);

/* Any other ioctl: the driver has it, with the argument the kernel copied in. */
static void serve_ioctl(struct fb_call *call)
{
	if (!call->thread) {
		call_answer(call, -EBADF);
		return;
	}
	call->thread->call = call;
	call->parked = true;
	driver_ioctl(call->thread->thread, call->cmd, call->arg, call->size);
}

static void reads_done(struct copier_task *task)
{
	struct fb_call *call = (struct fb_call *)task;

	call->in_copier = false;
	if (call->answered) { /* interrupted meanwhile: nothing of it was done */
		call_free(call);
		return;
	}
	learn_mapping(call);
	if (call->cmd != BINDER_WRITE_READ) {
		serve_ioctl(call);
		return;
	}
	if (call->thread && call->thread->fdinfo < 0) {
		call->thread->fdinfo = call->fdinfo; /* given back */
		call->fdinfo = -1;
	}
	call->read_consumed_in = call->bwr.read_consumed;
	if (call->error && call->error != -EFAULT) {
		call_answer(call, call->error);
		return;
	}
	if (call->error == -EFAULT) {
		/* Nothing of the write part was done: the struct goes back as it came. */
		write_back(call);
		return;
	}
	serve_write_read(call);
}

/* --- files and threads ----------------------------------------------------- */

static struct fb_file *file_find(const struct fuse_files *ff, uint64_t fh)
{
	struct fb_file *f;

	LIST_FOREACH(f, &ff->files, entry) {
		if (f->fh == fh)
			return f;
	}
	return NULL;
}

bool fuse_files_node_open(const struct fuse_files *ff, uint64_t nodeid)
{
	struct fb_file *f;

	LIST_FOREACH(f, &ff->files, entry) {
		if (f->nodeid == nodeid)
			return true;
	}
	return false;
}

static void file_poll_changed(struct endpoint *ep, bool readable)
{
	struct fb_file *f = (struct fb_file *)((char *)ep - offsetof(struct fb_file, endpoint));
	struct fuse_notify_poll_wakeup_out out = { .kh = f->poll_kh };
	struct iovec iov = { &out, sizeof(out) };

	f->readable = readable;
	if (readable && f->poll_armed &&
	    fuse_chan_notify(f->all->chan, FUSE_NOTIFY_POLL, &iov, 1) < 0)
		log_limited(LOG_LEVEL_WARNING, "fuse: poll notification: %s", strerror(errno));
}

static const struct endpoint_ops file_endpoint_ops = { .poll_changed = file_poll_changed };

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int fuse_files_open(struct fuse_files *ff, struct context *ctx, uint64_t nodeid,
		    const struct fuse_in_header *h, uint32_t flags, uint64_t *fh)
{
	struct sc_who who;
	struct fb_file *f;

	/* A caller outside the daemon's pid namespace has no pid here. */
	if (h->pid == 0)
		return -EPERM;
	if (sc_who_read((pid_t)h->pid, &who) < 0)
		return -ENOENT;
	if (!proc_info_memory_readable(who.tgid, -1)) {
		log_notice("fuse caller %d: its memory cannot be read (ptrace access)", who.tgid);
		return -EACCES;
	}
	if (!uid_quota_take(ff->quotas, h->uid, QUOTA_SESSIONS, 1))
		return -EMFILE;
	f = calloc(1, sizeof(*f));
	if (!f) {
		uid_quota_give(ff->quotas, h->uid, QUOTA_SESSIONS, 1);
		return -ENOMEM;
	}
	f->uid_quota = true;
	f->endpoint.ops = &file_endpoint_ops;
	f->all = ff;
	f->fh = ++ff->next_fh;
	f->nodeid = nodeid;
	f->region_fd = -1;
	f->access = (int)(flags & O_ACCMODE);
	f->nonblock = flags & O_NONBLOCK;
	LIST_INIT(&f->threads);
	/* The kernel's identity of the opener: the header's ids (its fsuid and fsgid). */
	f->id.pid = who.tgid;
	f->id.euid = h->uid;
	f->id.egid = h->gid;
	f->id.pidfd = pidfd_of(who.tgid);
	f->id.can_read_memory = true;
	f->id.wants_poll = true;
	proc_info_comm(who.tgid, f->id.comm, sizeof(f->id.comm));
	ns_view_read(who.tgid, &f->id.ns);
	LIST_INSERT_HEAD(&ff->files, f, entry);
	f->proc = f->id.pidfd >= 0 ? driver_proc_open(ff->drv, ctx, &f->id, &f->endpoint) : NULL;
	if (!f->proc) {
		fuse_files_release(ff, f->fh);
		return -ENOMEM;
	}
	driver_proc_set_poll(f->proc, true);
	ff->stats.opens++;
	*fh = f->fh;
	log_info("fuse caller %d (%s) opened %s", who.tgid, f->id.comm, context_name(ctx));
	return 0;
}

/*
 * The Binder thread of thread @tid (fsuid @uid) in @f, attached on first
 * use, in *@out: 0, or -ESRCH (the thread is gone), -EAGAIN (@uid holds
 * --max-threads-per-uid threads already, as a socket's thread connections
 * count), -ENOMEM, or driver_thread_attach's -errno; *@out is NULL then.
 * A thread holds two of the daemon's descriptors (its pidfd and fdinfo):
 * without the quota one uid could take all of them.
 */
static int thread_get(struct fb_file *f, pid_t tid, uint32_t uid, struct fb_thread **out)
{
	struct thread_peer peer = { 0 };
	struct fb_thread *t;
	struct sc_who who;
	int err;

	*out = NULL;
	LIST_FOREACH(t, &f->threads, entry) {
		if (t->tid == tid) {
			*out = t;
			return 0;
		}
	}
	if (sc_who_read(tid, &who) < 0)
		return -ESRCH;
	if (!uid_quota_take(f->all->quotas, uid, QUOTA_THREADS, 1))
		return -EAGAIN;
	t = calloc(1, sizeof(*t));
	if (!t) {
		uid_quota_give(f->all->quotas, uid, QUOTA_THREADS, 1);
		return -ENOMEM;
	}
	t->uid = uid;
	t->endpoint.ops = &thread_endpoint_ops;
	t->file = f;
	t->tid = tid;
	t->tgid = who.tgid;
	t->fdinfo = -1;
	t->pidfd = pidfd_of(who.tgid);
	/* A forked child's memory is its own: copies are checked against its pidfd. */
	peer.pid = who.tgid;
	peer.pidfd = t->pidfd;
	peer.fds_by_pidfd = true;
	err = t->pidfd >= 0 ? driver_thread_attach(f->proc, tid, &peer, &t->endpoint, &t->thread)
			    : -ESRCH;
	if (err) {
		if (t->pidfd >= 0)
			close(t->pidfd);
		uid_quota_give(f->all->quotas, uid, QUOTA_THREADS, 1);
		free(t);
		return err;
	}
	LIST_INSERT_HEAD(&f->threads, t, entry);
	*out = t;
	return 0;
}

/* Calls that named @f or @t lose them; a parked one is answered. */
static void forget_in_calls(struct fuse_files *ff, struct fb_file *f, struct fb_thread *t)
{
	struct fb_call *call, *next;

	for (call = LIST_FIRST(&ff->calls); call; call = next) {
		next = LIST_NEXT(call, entry);
		if ((f && call->file == f) || (t && call->thread == t)) {
			/* The driver's completion of it must not find it any more. */
			if (call->thread && call->thread->call == call)
				call->thread->call = NULL;
			call->thread = NULL;
			call->file = NULL;
			if (call->parked && !call->in_copier && !call->step.pending) {
				call->parked = false;
				call_answer(call, -EBADF);
			}
		}
	}
}

static void thread_release(struct fb_thread *t)
{
	forget_in_calls(t->file->all, NULL, t);
	LIST_REMOVE(t, entry);
	if (t->thread)
		driver_thread_detach(t->thread);
	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->fdinfo >= 0)
		close(t->fdinfo);
	uid_quota_give(t->file->all->quotas, t->uid, QUOTA_THREADS, 1);
	free(t);
}

void fuse_files_flush(struct fuse_files *ff, uint64_t fh)
{
	struct fb_file *f = file_find(ff, fh);

	if (f && f->proc)
		driver_proc_flush(f->proc);
}

void fuse_files_release(struct fuse_files *ff, uint64_t fh)
{
	struct fb_file *f = file_find(ff, fh);
	struct fb_thread *t;

	if (!f)
		return;
	forget_in_calls(ff, f, NULL);
	while ((t = LIST_FIRST(&f->threads)) != NULL)
		thread_release(t);
	if (f->proc) {
		driver_proc_flush(f->proc);
		driver_flush(ff->drv);
		driver_proc_release(f->proc);
		ff->stats.releases++;
	}
	if (f->uid_quota)
		uid_quota_give(ff->quotas, f->id.euid, QUOTA_SESSIONS, 1);
	if (f->region_fd >= 0)
		close(f->region_fd);
	if (f->id.pidfd >= 0)
		close(f->id.pidfd);
	LIST_REMOVE(f, entry);
	free(f);
}

/*
 * The opener's first BINDER_WRITE_READ after it mapped the file makes the
 * region, where the worker found the mapping (@addr, @len).
 */
static void learn_mapping(struct fb_call *call)
{
	struct fb_file *f = call->file;
	uint64_t mapped = 0;
	int fd = -1;

	if (!call->map_addr || !f || f->mapped || !call->thread)
		return;
	f->mapped = true; /* once: a second mapping is not seen */
	if (driver_mmap(call->thread->thread, call->map_addr, call->map_len, &fd, &mapped) < 0)
		return;
	driver_mmap_done(call->thread->thread, call->map_addr);
	f->region_fd = fd;
	f->map_addr = call->map_addr;
	f->region_size = mapped;
	f->all->stats.mapped++;
}

void fuse_files_ioctl(struct fuse_files *ff, const struct fuse_in_header *h,
		      const struct fuse_ioctl_in *in, const void *data, size_t len)
{
	struct fb_file *f = file_find(ff, in->fh);
	struct fb_thread *t;
	struct fb_call *call;
	int err = 0;

	ff->stats.ioctls++;
	if (!f || !f->proc) {
		fuse_chan_reply_error(ff->chan, h->unique, -EBADF);
		return;
	}
	if (in->flags & FUSE_IOCTL_COMPAT) {
		fuse_chan_reply_error(ff->chan, h->unique, -EINVAL); /* 32-bit callers: none here */
		return;
	}
	err = thread_get(f, (pid_t)h->pid, h->uid, &t);
	if (err) {
		fuse_chan_reply_error(ff->chan, h->unique, err);
		return;
	}
	if (in->cmd == BINDER_THREAD_EXIT) {
		struct fuse_ioctl_out out = { 0 };

		thread_release(t);
		fuse_chan_reply_data(ff->chan, h->unique, &out, sizeof(out));
		return;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		fuse_chan_reply_error(ff->chan, h->unique, -ENOMEM);
		return;
	}
	call->all = ff;
	call->unique = h->unique;
	call->tid = (pid_t)h->pid;
	call->file = f;
	call->thread = t;
	call->cmd = in->cmd;
	call->size = _IOC_SIZE(in->cmd);
	call->store_fd = call->fdinfo = -1;
	call->ino = f->nodeid;
	call->tgid = t->tgid;
	/* Until the opener's mapping is found, each of its calls looks (on a worker). */
	call->map_probe = !f->mapped && t->tgid == f->id.pid;
	LIST_INSERT_HEAD(&ff->calls, call, entry);
	if (t->call) {
		call_answer(call, -EBUSY); /* one system call at a time per thread (a bug) */
		return;
	}
	if (in->cmd == BINDER_WRITE_READ) {
		if (len < sizeof(call->bwr)) {
			call_answer(call, -EFAULT);
			return;
		}
		memcpy(&call->bwr, data, sizeof(call->bwr));
		call->bwr_addr = in->arg;
		call->fdinfo = t->fdinfo; /* lent: the thread makes one call at a time */
		t->fdinfo = -1;
		call->open_nonblock = f->nonblock;
		submit(call, reads_run, reads_done);
		return;
	}
	/* Unknown numbers reach the driver too, which says EINVAL (the thread is made). */
	if (call->size > sizeof(call->arg)) {
		call_answer(call, -EINVAL);
		return;
	}
	memcpy(call->arg, data, len < call->size ? len : call->size);
	if (call->map_probe)
		submit(call, reads_run, reads_done);
	else
		serve_ioctl(call);
}

int fuse_files_poll(struct fuse_files *ff, const struct fuse_poll_in *in, uint32_t *revents)
{
	struct fb_file *f = file_find(ff, in->fh);

	if (!f)
		return -EBADF;
	if (in->flags & FUSE_POLL_SCHEDULE_NOTIFY) {
		f->poll_kh = in->kh;
		f->poll_armed = true;
	}
	/* POLLIN only, whatever was asked, as the driver reports it. */
	*revents = f->readable ? POLLIN : 0;
	return 0;
}

ssize_t fuse_files_read(struct fuse_files *ff, uint64_t fh, uint64_t off, void *buf, size_t size)
{
	struct fb_file *f = file_find(ff, fh);
	ssize_t got = 0;

	if (!f)
		return -EBADF;
	ff->stats.page_reads++;
	if (f->region_fd >= 0 && off < f->region_size)
		got = pread(f->region_fd, buf,
			    size < f->region_size - off ? size : (size_t)(f->region_size - off),
			    (off_t)off);
	if (got < 0)
		got = 0;
	memset((uint8_t *)buf + got, 0, size - (size_t)got); /* holes and beyond read as zeros */
	return (ssize_t)size;
}

/*
 * Whether thread @tid has SIGKILL pending (a fatal signal puts it in every
 * thread's own set): /proc/TID/status, which needs no lock of its memory.
 */
static bool fatal_signal_pending(pid_t tid)
{
	char path[64], line[256];
	unsigned long long set = 0;
	bool fatal = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return true; /* gone already */
	while (fgets(line, sizeof(line), f)) {
		if ((sscanf(line, "SigPnd: %llx", &set) == 1 ||
		     sscanf(line, "ShdPnd: %llx", &set) == 1) &&
		    (set & (1ull << (SIGKILL - 1))))
			fatal = true;
	}
	fclose(f);
	return fatal;
}

bool fuse_files_interrupt(struct fuse_files *ff, uint64_t unique)
{
	struct fb_call *call;

	LIST_FOREACH(call, &ff->calls, entry) {
		if (call->unique != unique)
			continue;
		if (!call->interrupted)
			ff->stats.interrupted++;
		call->interrupted = true;
		/*
		 * Its reads of the caller's memory are still on a worker (they
		 * may block on that memory for ever: a userfaultfd or FUSE page
		 * the caller serves itself). Nothing of the call was done yet,
		 * so it ends now with EINTR, as the kernel's read would before
		 * blocking: FUSE waits uninterruptibly for the answer of a
		 * request the server has, so without one even SIGKILL could not
		 * end the caller, which then never released what blocks the
		 * worker. The worker's result is dropped when it returns.
		 */
		if (call->in_copier && call->task.run == reads_run && !call->answered) {
			__atomic_store_n(&call->answered, true, __ATOMIC_RELEASE);
			ff->stats.early_answers++;
			fuse_chan_reply_error(ff->chan, call->unique, -EINTR);
		}
		/*
		 * Its results are being written into the caller's memory, which
		 * may block the same way. The driver's work is done then, so only
		 * a dying caller is answered early (EFAULT, as the kernel's failed
		 * copy_to_user; the process will not look): a live one waits for
		 * its results, as the kernel's copy would.
		 */
		if (call->in_copier && call->task.run == writes_run && !call->answered &&
		    fatal_signal_pending(call->tid)) {
			__atomic_store_n(&call->answered, true, __ATOMIC_RELEASE);
			ff->stats.early_answers++;
			fuse_chan_reply_error(ff->chan, call->unique, -EFAULT);
		}
		if (call->parked && call->thread && call->thread->call == call)
			driver_interrupt(call->thread->thread);
		return true;
	}
	return false;
}

void fuse_files_init(struct fuse_files *ff, struct loop *loop, struct driver *drv,
		     struct copier *copier, struct uid_quotas *quotas, struct fuse_chan *chan,
		     size_t max_body)
{
	memset(ff, 0, sizeof(*ff));
	ff->loop = loop;
	ff->drv = drv;
	ff->copier = copier;
	ff->quotas = quotas;
	ff->chan = chan;
	ff->max_body = max_body;
	LIST_INIT(&ff->files);
	LIST_INIT(&ff->calls);
}

void fuse_files_release_all(struct fuse_files *ff)
{
	struct fb_file *f;

	while ((f = LIST_FIRST(&ff->files)) != NULL)
		fuse_files_release(ff, f->fh);
}

void fuse_files_deinit(struct fuse_files *ff)
{
	struct fb_call *call, *next;

	fuse_files_release_all(ff);
	/* What the copier dropped or never gave back (it is stopped by now). */
	for (call = LIST_FIRST(&ff->calls); call; call = next) {
		next = LIST_NEXT(call, entry);
		call_free(call);
	}
}

void fuse_files_dump_stats(const struct fuse_files *ff, FILE *out)
{
	size_t files = 0, calls = 0;
	const struct fb_file *f;
	const struct fb_call *c;

	LIST_FOREACH(f, &ff->files, entry)
		files++;
	LIST_FOREACH(c, &ff->calls, entry)
		calls++;
	fprintf(out,
		"fuse files: %zu open, %" PRIu64 " opened, %" PRIu64 " released, %" PRIu64
		" mapped\n"
		"fuse calls: %zu pending, %" PRIu64 " ioctls, %" PRIu64 " served, %" PRIu64
		" interrupted, %" PRIu64 " answered before their copy, %" PRIu64
		" unreceivable fds\n"
		"fuse page cache: %" PRIu64 " stores, %" PRIu64 " bytes stored, %" PRIu64
		" store errors, %" PRIu64 " page reads\n",
		files, ff->stats.opens, ff->stats.releases, ff->stats.mapped, calls,
		ff->stats.ioctls, ff->stats.served, ff->stats.interrupted, ff->stats.early_answers,
		ff->stats.unreceivable_fds, ff->stats.stores, ff->stats.store_bytes,
		ff->stats.store_errors, ff->stats.page_reads);
}
