/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/android/binder.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/proc_info.h"
#include "daemon/seccomp_calls.h"
#include "daemon/seccomp_target.h"
#include "wire/binder_ioctl.h"
#include "wire/binder_stream.h"
#include "wire/peer_mem.h"
#include "wire/wire.h"

/* Bytes past a truncated command the kernel may read (the largest command's arguments). */
#define MAX_OVERRUN 72u

/*
 * A transaction's data and offsets up to this size are read with the write
 * buffer, on the same worker, and reach the driver as inline segments (its
 * fetch then needs no worker of its own); larger ones, and scatter-gather
 * buffers, the driver's fetch reads from the target itself.
 */
#define INLINE_PAYLOAD	4096u
#define INLINE_SEGMENTS 8u

/* Reads taken back for descriptors the target cannot receive, before the
 * empty read is returned (each is another transaction dropped). */
#define MAX_READS_AGAIN 4
_Static_assert(INLINE_SEGMENTS <= MEM_SEGMENTS_SCAN, "a scan, not an index");

enum call_kind {
	CALL_OPEN,
	CALL_IOCTL,
	CALL_WRITE_READ
};

/* What a call carries between its steps. */
struct call_state {
	struct sc_call *call;
	enum call_kind kind;
	int error; /* of the reads, or the answer */
	/* open */
	char path[PATH_MAX];
	uint64_t open_flags;
	/* ioctl */
	uint32_t cmd;
	size_t size;
	uint8_t arg[64];
	/* BINDER_WRITE_READ */
	uint64_t bwr_addr;
	struct binder_write_read bwr;
	uint8_t *write; /* the unconsumed write buffer, then the overrun */
	size_t write_len, overrun;
	struct mem_segment segs[INLINE_SEGMENTS];
	size_t nsegs;
	uint64_t read_consumed_in;
	bool read_unwritable;
	/* the write-back: pieces of target memory, and what goes there */
	uint8_t *read; /* the read's bytes */
	size_t read_len;
	uint32_t spawn, noop;
	struct iovec local[4], remote[4];
	size_t npieces, data_piece;
	bool send;	    /* answer after the write-back (not when interrupted) */
	bool final_pending; /* the outcome waits for the publication to be written */
	bool lost;	    /* a read's work never reached the target (interrupted) */
	unsigned int reads_again;
	/* What a blocked read publishes first (as the kernel's struct holds it then). */
	struct binder_write_read published;
	uint32_t published_noop;
	bool publish_noop;
	int32_t fds[UBW_MAX_FDS];
	size_t nfds;
	struct loop_deferred fixup;
	struct loop_deferred answer; /* the write-back, once the event's driver work is done */
	/* The step after the copy task (submit), on the loop, if the call still lives. */
	void (*done)(struct sc_call *call, struct call_state *st);
};

static void sc_calls_free_state(struct sc_call *call)
{
	struct call_state *st = call->state;

	if (!st)
		return;
	free(st->write);
	free(st->read);
	for (size_t i = 0; i < st->nsegs; i++)
		free((void *)st->segs[i].bytes);
	free(st);
	call->state = NULL;
}

static struct call_state *state_new(struct sc_call *call, enum call_kind kind)
{
	struct call_state *st = calloc(1, sizeof(*st));

	if (st) {
		st->call = call;
		st->kind = kind;
	}
	call->state = st;
	return st;
}

/* open(2) exists on x86_64, not on the newer ABIs (openat only). */
static bool is_plain_open(int nr)
{
#ifdef SYS_open
	return nr == SYS_open;
#else
	(void)nr;
	return false;
#endif
}

/* --- target memory (on a copy worker) --------------------------------------- */

/* A NUL-terminated path: 0, -EFAULT, or -ENAMETOOLONG. */
static int read_path(pid_t pid, char *dst, uint64_t addr)
{
	size_t got = peer_mem_read_prefix(pid, (uint8_t *)dst, addr, PATH_MAX);

	if (got == 0)
		return -EFAULT;
	if (!memchr(dst, '\0', got))
		return got == PATH_MAX ? -ENAMETOOLONG : -EFAULT;
	return 0;
}

static void add_segment(pid_t pid, struct call_state *st, uint64_t addr, uint64_t len)
{
	uint8_t *bytes;

	if (!len || len > INLINE_PAYLOAD || st->nsegs == INLINE_SEGMENTS)
		return;
	bytes = malloc(len);
	if (!bytes)
		return;
	if (peer_mem_read(pid, bytes, addr, len)) {
		free(bytes); /* the driver's fetch meets the fault where the kernel would */
		return;
	}
	st->segs[st->nsegs++] = (struct mem_segment){ addr, len, bytes };
}

/* The data and offsets of the small transactions the write buffer sends. */
static void read_payloads(pid_t pid, struct call_state *st)
{
	size_t pos = 0;

	while (st->write_len - pos >= sizeof(uint32_t)) {
		struct binder_transaction_data tr;
		uint32_t cmd;

		memcpy(&cmd, st->write + pos, sizeof(cmd));
		if (st->write_len - pos - sizeof(cmd) < _IOC_SIZE(cmd))
			return;
		if (cmd == BC_TRANSACTION || cmd == BC_REPLY || cmd == BC_TRANSACTION_SG ||
		    cmd == BC_REPLY_SG) {
			memcpy(&tr, st->write + pos + sizeof(cmd), sizeof(tr));
			add_segment(pid, st, tr.data.ptr.buffer, tr.data_size);
			add_segment(pid, st, tr.data.ptr.offsets, tr.offsets_size);
		}
		pos += sizeof(cmd) + _IOC_SIZE(cmd);
	}
}

static void read_write_read(struct sc_call *call, struct call_state *st)
{
	pid_t pid = call->who.tid;
	struct binder_write_read *bwr = &st->bwr;
	uint64_t len = 0;
	uint32_t word;

	if (peer_mem_read(pid, bwr, st->bwr_addr, sizeof(*bwr))) {
		st->error = -EFAULT;
		return;
	}
	st->read_consumed_in = bwr->read_consumed;
	if (bwr->write_size > bwr->write_consumed)
		len = bwr->write_size - bwr->write_consumed;
	if (len > call->sup->all->max_body) {
		st->error = -EFAULT; /* no kernel could read that much either */
		return;
	}
	if (len) {
		st->write = malloc(len + MAX_OVERRUN);
		if (!st->write) {
			st->error = -ENOMEM;
			return;
		}
		st->write_len = peer_mem_read_prefix(pid, st->write,
						     bwr->write_buffer + bwr->write_consumed, len);
		if (st->write_len == 0) {
			st->error = -EFAULT; /* the first command is unreadable: nothing is done */
			return;
		}
		if (st->write_len == len && !binder_stream_complete(st->write, len))
			st->overrun = peer_mem_read_prefix(pid, st->write + len,
							   bwr->write_buffer + bwr->write_size,
							   MAX_OVERRUN);
		read_payloads(pid, st);
	}
	/* The kernel's read stores BR_NOOP first: a buffer it cannot write fails at once. */
	if (bwr->read_size > 0 && bwr->read_consumed == 0)
		st->read_unwritable = peer_mem_read(pid, &word, bwr->read_buffer, sizeof(word)) ||
				      peer_mem_write(pid, bwr->read_buffer, &word, sizeof(word));
}

static void reads_run(struct copier_task *task)
{
	struct sc_call *call = (struct sc_call *)task;
	struct call_state *st = call->state;
	const struct seccomp_notif *n = &call->notif;

	switch (st->kind) {
	case CALL_OPEN:
		if (is_plain_open(n->data.nr))
			st->error = read_path(call->who.tid, st->path, n->data.args[0]);
		else
			st->error = read_path(call->who.tid, st->path, n->data.args[1]);
		if (!st->error && n->data.nr == SYS_openat2) {
			struct open_how how;

			if (n->data.args[3] < sizeof(how.flags) ||
			    peer_mem_read(call->who.tid, &how.flags, n->data.args[2],
					  sizeof(how.flags)))
				st->error = -EFAULT;
			else
				st->open_flags = how.flags;
		}
		return;
	case CALL_IOCTL:
		if (binder_ioctl_reads_arg(st->cmd) && st->size &&
		    peer_mem_read(call->who.tid, st->arg, n->data.args[2], st->size))
			st->error = binder_ioctl_fault_errno(st->cmd);
		return;
	case CALL_WRITE_READ:
		read_write_read(call, st);
		return;
	}
}

/* The write-back, then the answer, on the worker. */
static void writes_run(struct copier_task *task)
{
	struct sc_call *call = (struct sc_call *)task;
	struct call_state *st = call->state;
	ssize_t done;
	size_t total = 0, before = 0;

	for (size_t i = 0; i < st->npieces; i++)
		total += st->local[i].iov_len;
	done = st->npieces ? process_vm_writev(call->who.tid, st->local, st->npieces, st->remote,
					       st->npieces, 0)
			   : 0;
	if (done < (ssize_t)total) {
		/* Which piece failed: the read's bytes fault the ioctl, and so does the struct. */
		for (size_t i = 0; i < st->npieces; i++) {
			bool whole = done >= 0 && (size_t)done >= before + st->local[i].iov_len;

			if (!whole && (i == st->data_piece || i == st->npieces - 1) &&
			    (i != st->npieces - 1 ||
			     peer_mem_write(call->who.tid,
					    (uint64_t)(uintptr_t)st->remote[i].iov_base,
					    st->local[i].iov_base, st->local[i].iov_len)))
				st->error = st->kind == CALL_IOCTL
						    ? binder_ioctl_fault_errno(st->cmd)
						    : -EFAULT;
			before += st->local[i].iov_len;
		}
	}
	if (st->send && sc_call_send(call, 0, st->error) == -ENOENT) {
		st->send = false; /* interrupted meanwhile */
		st->lost = st->read_len > 0;
	}
}

/* Before a read blocks: write_consumed and the read's first BR_NOOP, for a signal. */
static void publish_run(struct copier_task *task)
{
	struct sc_call *call = (struct sc_call *)task;
	struct call_state *st = call->state;
	struct iovec local[2] = { { &st->published, sizeof(st->published) },
				  { &st->published_noop, sizeof(uint32_t) } };
	struct iovec remote[2] = {
		{ (void *)(uintptr_t)st->bwr_addr, sizeof(st->published) },
		{ (void *)(uintptr_t)st->bwr.read_buffer, sizeof(uint32_t) },
	};

	(void)process_vm_writev(call->who.tid, local, st->publish_noop ? 2 : 1, remote,
				st->publish_noop ? 2 : 1, 0);
}

/* --- steps on the loop ------------------------------------------------------ */

static void serve_open(struct sc_call *call);
static void serve_ioctl(struct sc_call *call);
static void serve_write_read(struct sc_call *call);

static void reads_done(struct sc_call *call, struct call_state *st)
{
	/* The thread id still names the thread that made the call (no reuse). */
	if (ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &call->notif.id) < 0) {
		sc_call_drop(call);
		return;
	}
	switch (st->kind) {
	case CALL_OPEN:
		serve_open(call);
		return;
	case CALL_IOCTL:
		serve_ioctl(call);
		return;
	case CALL_WRITE_READ:
		serve_write_read(call);
		return;
	}
}

/* A task that waited past the copy deadline behind the target's stalled ones. */
static void task_expired(struct copier_task *task)
{
	struct sc_call *call = (struct sc_call *)task;

	if (!sc_call_returned(call))
		return;
	sc_call_answer(call, 0, -EFAULT);
}

static void writes_done(struct sc_call *call, struct call_state *st)
{
	if (st->send)
		call->sup->all->stats.served++;
	if (st->lost) {
		call->sup->all->stats.lost++;
		log_limited(LOG_LEVEL_NOTICE,
			    "seccomp target %d: a read ended by a signal lost its work",
			    call->who.tid);
	}
	sc_call_finish(call);
}

/* A call's copy task is back on the loop: its next step, unless the call was freed meanwhile. */
static void task_done(struct copier_task *task)
{
	struct sc_call *call = (struct sc_call *)task;
	struct call_state *st;

	if (!sc_call_returned(call))
		return;
	st = call->state;
	st->done(call, st);
}

/*
 * Runs @run on a copy worker, then @done on the loop. A call has one task:
 * never submitted while a worker still has it; call->state is set.
 */
static void submit(struct sc_call *call, void (*run)(struct copier_task *),
		   void (*done)(struct sc_call *call, struct call_state *st))
{
	if (call->in_copier) {
		log_error("seccomp: a call's task submitted twice (bug); answered EIO");
		sc_call_send(call, 0, -EIO);
		return;
	}
	memset(&call->task, 0, sizeof(call->task));
	((struct call_state *)call->state)->done = done;
	call->task.run = run;
	call->task.done = task_done;
	call->task.expired = task_expired;
	sc_call_submit(call);
}

/* The caller's thread group and credentials, read from /proc when first needed. */
static int need_who(struct sc_call *call)
{
	if (call->who.tgid)
		return 0;
	if (sc_who_read(call->who.tid, &call->who) < 0 ||
	    ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &call->notif.id) < 0)
		return -ESRCH;
	return 0;
}

/* --- open --------------------------------------------------------------- */

/* Lexical normalisation in place: "//", "/./" and a trailing "/." go; false for "..". */
static bool normalise(char *path)
{
	char *out = path, *in = path;

	while (*in) {
		if (in[0] == '/' && (in[1] == '/' || (in[1] == '.' && (in[2] == '/' || !in[2])))) {
			in += in[1] == '/' ? 1 : 2;
			continue;
		}
		if (in[0] == '/' && in[1] == '.' && in[2] == '.' && (in[3] == '/' || !in[3]))
			return false;
		*out++ = *in++;
	}
	*out = '\0';
	return true;
}

/* The absolute path the call names, through the target's cwd or directory descriptor. */
static bool absolute_path(const struct sc_call *call, const char *path, char *abs, size_t size)
{
	char link[64], base[PATH_MAX];
	ssize_t n;
	int dirfd = is_plain_open(call->notif.data.nr) ? AT_FDCWD : (int)call->notif.data.args[0];

	if (path[0] == '/')
		return (size_t)snprintf(abs, size, "%s", path) < size;
	if (dirfd == AT_FDCWD)
		snprintf(link, sizeof(link), "/proc/%d/cwd", call->who.tid);
	else
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", call->who.tid, dirfd);
	n = readlink(link, base, sizeof(base) - 1);
	if (n <= 0 || base[0] != '/')
		return false;
	base[n] = '\0';
	return (size_t)snprintf(abs, size, "%s/%s", base, path) < size;
}

/* The context a device path names: /dev/binder, /dev/hwbinder, /dev/vndbinder, binderfs. */
static const char *device_context(char *path, bool *trailing_slash)
{
	static const char binderfs[] = "/dev/binderfs/";
	size_t len = strlen(path);
	const char *name;

	*trailing_slash = len > 1 && path[len - 1] == '/';
	if (*trailing_slash)
		path[len - 1] = '\0';
	if (!strcmp(path, "/dev/binder") || !strcmp(path, "/dev/hwbinder") ||
	    !strcmp(path, "/dev/vndbinder"))
		return path + strlen("/dev/");
	if (strncmp(path, binderfs, strlen(binderfs)) != 0)
		return NULL;
	name = path + strlen(binderfs);
	if (!*name || strchr(name, '/') || !strcmp(name, "binder-control"))
		return NULL;
	return name;
}

static void serve_open(struct sc_call *call)
{
	struct call_state *st = call->state;
	const struct seccomp_notif *n = &call->notif;
	struct seccomp_notif_addfd addfd = { .id = n->id, .flags = SECCOMP_ADDFD_FLAG_SEND };
	char abs[PATH_MAX];
	struct context *ctx;
	struct sc_file *file;
	const char *name;
	bool slash;
	int flags, fd, err = 0;

	if (st->error == -EFAULT || st->error == -ENAMETOOLONG) {
		sc_call_continue(call); /* the kernel says what it says about that path */
		return;
	}
	if (is_plain_open(n->data.nr))
		flags = (int)n->data.args[1];
	else if (n->data.nr == SYS_openat)
		flags = (int)n->data.args[2];
	else
		flags = (int)st->open_flags;
	if (!absolute_path(call, st->path, abs, sizeof(abs)) || !normalise(abs) ||
	    (flags & O_PATH) || !(name = device_context(abs, &slash)) ||
	    !(ctx = supervisors_context(call->sup->all, name))) {
		sc_call_continue(call);
		return;
	}
	if (slash || (flags & O_DIRECTORY)) {
		sc_call_answer(call, 0, -ENOTDIR);
		return;
	}
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
		sc_call_answer(call, 0, -EEXIST);
		return;
	}
	if (need_who(call) < 0) {
		sc_call_drop(call);
		return;
	}
	err = sc_file_open(call->sup, ctx, &call->who, flags, &file);
	if (err) {
		sc_call_answer(call, 0, err);
		return;
	}
	addfd.srcfd = (uint32_t)file->target_end;
	addfd.newfd_flags = (flags & O_CLOEXEC) ? O_CLOEXEC : 0;
	fd = ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	if (fd < 0) {
		err = -errno;
		sc_file_release(file);
		if (err == -ENOENT) {
			sc_call_drop(call); /* interrupted: the target never got it */
			return;
		}
		sc_call_answer(call, 0, err);
		return;
	}
	call->sup->all->stats.served++;
	sc_call_drop(call); /* answered by the ADDFD */
}

/* Answers after the write-back, once the event's driver work is done. */
static void answer_run(struct loop_deferred *item)
{
	struct call_state *st =
		(struct call_state *)((char *)item - offsetof(struct call_state, answer));
	struct sc_call *call = st->call;

	if (!sc_call_resumed(call))
		return;
	st->send = !call->interrupted;
	if (call->in_copier) {
		st->final_pending = true; /* after the publication */
		return;
	}
	submit(call, writes_run, writes_done);
}

/* --- ioctl ---------------------------------------------------------------- */

/* The driver completed the parked call of the thread behind @ep (NULL: none). */
static struct sc_call *take_call(struct endpoint *ep)
{
	struct sc_thread *t =
		(struct sc_thread *)((char *)ep - offsetof(struct sc_thread, endpoint));
	struct sc_call *call = t->call;

	if (call) {
		t->call = NULL;
		call->parked = false;
	}
	return call;
}

static void ioctl_done(struct endpoint *ep, int error, const void *arg, size_t size)
{
	struct sc_call *call = take_call(ep);
	struct call_state *st;

	if (!call)
		return;
	st = call->state;
	if (error || !(_IOC_DIR(st->cmd) & _IOC_READ) || !size || size > sizeof(st->arg)) {
		sc_call_answer(call, 0, error);
		return;
	}
	memcpy(st->arg, arg, size);
	st->local[0] = (struct iovec){ st->arg, size };
	st->remote[0] = (struct iovec){ (void *)(uintptr_t)call->notif.data.args[2], size };
	st->npieces = 1;
	st->data_piece = 0;
	st->send = !call->interrupted;
	submit(call, writes_run, writes_done);
}

/*
 * Before an ioctl goes to the driver: false once @call is answered (reading
 * its arguments failed) or dropped (its thread is gone).
 */
static bool ioctl_ready(struct sc_call *call)
{
	struct call_state *st = call->state;

	if (!call->thread) {
		sc_call_drop(call);
		return false;
	}
	if (st->error) {
		sc_call_answer(call, 0, st->error);
		return false;
	}
	return true;
}

static void serve_ioctl(struct sc_call *call)
{
	struct call_state *st = call->state;

	if (!ioctl_ready(call))
		return;
	call->thread->call = call;
	call->parked = true;
	driver_ioctl(call->thread->thread, st->cmd, st->arg, st->size);
}

/* --- BINDER_WRITE_READ ---------------------------------------------------- */

/* The pieces of target memory the outcome goes to, then the write-back. */
static void write_back(struct sc_call *call)
{
	struct call_state *st = call->state;
	struct binder_write_read *bwr = &st->bwr;
	size_t n = 0;

	st->data_piece = SIZE_MAX;
	if (st->read_len) {
		st->data_piece = n;
		st->local[n] = (struct iovec){ st->read, st->read_len };
		st->remote[n++] = (struct iovec){
			(void *)(uintptr_t)(bwr->read_buffer + st->read_consumed_in), st->read_len
		};
	}
	if (st->spawn) {
		st->local[n] = (struct iovec){ &st->spawn, sizeof(st->spawn) };
		st->remote[n++] = (struct iovec){ (void *)(uintptr_t)bwr->read_buffer, 4 };
	}
	if ((st->error == -EAGAIN || st->error == -EINTR) && st->read_consumed_in == 0 &&
	    st->read_len == 0 && bwr->read_size >= sizeof(uint32_t)) {
		/* No work, but the BR_NOOP the read starts with is there. */
		st->noop = BR_NOOP;
		st->local[n] = (struct iovec){ &st->noop, sizeof(st->noop) };
		st->remote[n++] = (struct iovec){ (void *)(uintptr_t)bwr->read_buffer, 4 };
	}
	bwr->read_consumed = st->read_consumed_in + st->read_len;
	st->local[n] = (struct iovec){ bwr, sizeof(*bwr) };
	st->remote[n++] = (struct iovec){ (void *)(uintptr_t)st->bwr_addr, sizeof(*bwr) };
	st->npieces = n;
	st->answer.run = answer_run;
	/* After the driver's flush of this event: the readiness the target polls
	 * next is settled before it is answered. */
	sc_call_defer(call, &st->answer);
}

static void publish_done(struct sc_call *call, struct call_state *st)
{
	if (st->final_pending) {
		st->send = !call->interrupted;
		submit(call, writes_run, writes_done);
	}
}

/* The read blocks: publish what the caller's memory holds then (the kernel's copy-back). */
static void publish_if_waiting(struct sc_call *call)
{
	struct call_state *st = call->state;
	uint64_t consumed;
	bool noop;

	/* A publication still under way (a read taken back and run again) said it. */
	if (!call->parked || !call->thread || call->in_copier ||
	    !driver_thread_waiting(call->thread->thread, &consumed, &noop))
		return;
	st->published = st->bwr;
	st->published.write_consumed = consumed;
	st->publish_noop = noop && !st->read_unwritable;
	st->published_noop = BR_NOOP;
	submit(call, publish_run, publish_done);
}

/* The descriptors of the read are in the target: the driver learns their numbers. */

/* The same BINDER_WRITE_READ once more, its write part done: only the read. */
static void read_again(struct sc_call *call)
{
	struct call_state *st = call->state;

	free(st->read);
	st->read = NULL;
	st->read_len = 0;
	st->nfds = 0;
	st->write_len = st->overrun = 0; /* bwr.write_consumed is the driver's now */
	st->error = 0;
	for (size_t i = 0; i < st->nsegs; i++)
		free((void *)st->segs[i].bytes);
	st->nsegs = 0;
	serve_write_read(call);
}

static void fixup_run(struct loop_deferred *item)
{
	struct call_state *st =
		(struct call_state *)((char *)item - offsetof(struct call_state, fixup));
	struct sc_call *call = st->call;
	uint32_t replacement = 0;

	if (!sc_call_resumed(call))
		return;
	if (!call->thread) {
		sc_call_drop(call);
		return;
	}
	if (driver_fd_fixup(call->thread->thread, st->fds, st->nfds, &replacement) == -EBADF) {
		size_t item_at = binder_stream_last_item(st->read, st->read_len);

		if (replacement) {
			memcpy(st->read + item_at, &replacement, sizeof(replacement));
			item_at += sizeof(replacement);
		}
		st->read_len = item_at;
		if (st->read_consumed_in + st->read_len == sizeof(uint32_t) && !st->spawn &&
		    st->reads_again++ < MAX_READS_AGAIN) {
			/* Only the read's first BR_NOOP is left: the read goes on, as the
			 * kernel's does when it takes the transaction back. */
			read_again(call);
			return;
		}
	}
	write_back(call);
}

static void write_read_done(struct endpoint *ep, const struct bwr_result *r)
{
	struct sc_call *call = take_call(ep);
	struct call_state *st;

	if (!call)
		return;
	st = call->state;
	st->error = r->error;
	if (st->read_unwritable && st->error == 0)
		st->error = -EFAULT;
	st->bwr.write_consumed = r->write_consumed;
	st->read_len = r->read_len;
	st->spawn = r->spawn_looper_at_start ? BR_SPAWN_LOOPER : 0;
	if (r->read_len) {
		st->read = malloc(r->read_len);
		if (!st->read) {
			st->read_len = 0;
			st->error = -ENOMEM;
		} else {
			memcpy(st->read, r->read, r->read_len);
		}
	}
	if (r->nclose)
		log_limited(LOG_LEVEL_NOTICE,
			    "seccomp target %d: %zu descriptors of a freed buffer stay open",
			    call->who.tgid, r->nclose);
	if (!r->nfds || call->interrupted) {
		write_back(call);
		return;
	}
	/* The driver's descriptors go into the target now; it numbers them after this call. */
	st->nfds = r->nfds < UBW_MAX_FDS ? r->nfds : UBW_MAX_FDS;
	for (size_t i = 0; i < st->nfds; i++) {
		struct seccomp_notif_addfd addfd = { .id = call->notif.id,
						     .srcfd = (uint32_t)r->fds[i],
						     .newfd_flags = O_CLOEXEC };

		st->fds[i] = ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
		if (st->fds[i] < 0)
			st->fds[i] = -1;
	}
	st->fixup.run = fixup_run;
	sc_call_defer(call, &st->fixup);
}

static void serve_write_read(struct sc_call *call)
{
	struct call_state *st = call->state;
	struct bwr_request req = { 0 };
	struct sc_thread *t = call->thread;
	int fl;

	if (!ioctl_ready(call))
		return;
	fl = fcntl(call->file->target_end, F_GETFL);
	req.write = st->write;
	req.write_len = st->write_len;
	req.write_overrun = st->overrun;
	req.write_size = st->bwr.write_size;
	req.write_consumed = st->bwr.write_consumed;
	req.read_size = st->read_unwritable ? 0 : st->bwr.read_size;
	req.read_consumed = st->bwr.read_consumed;
	req.segments = st->segs;
	req.nsegments = st->nsegs; /* at most MEM_SEGMENTS_SCAN: no index needed */
	req.nonblock = fl >= 0 && (fl & O_NONBLOCK);
	call->thread->call = call;
	call->parked = true;
	driver_write_read(call->thread->thread, &req);
	/* @call may be gone: it is still parked only if its thread still holds it. */
	if (t->call == call)
		publish_if_waiting(call);
}

static const struct endpoint_ops thread_endpoint_ops = {
	.write_read_done = write_read_done,
	.ioctl_done = ioctl_done,
};

/* --- mmap ----------------------------------------------------------------- */

/* Where the region (@fd's inode) is mapped in @pid, or 0. */
static uint64_t find_mapping(pid_t pid, int fd)
{
	char path[64], line[512];
	struct stat s;
	uint64_t found = 0;
	FILE *f;

	if (fstat(fd, &s) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, ino;
		unsigned int maj, min;

		if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &start, &end, &maj, &min, &ino) ==
			    5 &&
		    ino == s.st_ino && makedev(maj, min) == s.st_dev && (!found || start < found))
			found = start;
	}
	fclose(f);
	return found;
}

/* Whether descriptor @fd of @tid has FD_CLOEXEC, from /proc/TID/fdinfo. */
static bool fd_cloexec(pid_t tid, int fd)
{
	char name[32], buf[256], *p;
	unsigned int flags = 0;

	snprintf(name, sizeof(name), "fdinfo/%d", fd);
	if (proc_info_read(tid, name, buf, sizeof(buf)) <= 0)
		return false;
	p = strstr(buf, "flags:");
	return p && sscanf(p, "flags: %o", &flags) == 1 && (flags & O_CLOEXEC);
}

/*
 * The thread that mapped the region returned from mmap: its Binder
 * descriptor goes back at the number the region stood in for (unless the
 * target closed or replaced it meanwhile), and the driver learns the address.
 */
static void restore_descriptor(struct sc_file *f)
{
	pid_t tid = f->map_tid;
	uint64_t addr = find_mapping(f->opener ? f->opener->tgid : tid, f->region_fd);
	struct sc_thread *t;

	LIST_FOREACH(t, &f->threads, entry) {
		if (t->tid == tid)
			break;
	}
	if (t && t->thread)
		driver_mmap_done(t->thread, addr);
	if (addr)
		f->mapped = true;
	f->map_addr = addr;
	close(f->region_fd);
	f->region_fd = -1;
	f->map_tid = 0;
}

/* The region stands in for the descriptor until the mapping thread's next call. */
static void restore_in_call(struct sc_call *call, struct sc_file *f)
{
	struct seccomp_notif_addfd addfd = { .id = call->notif.id,
					     .flags = SECCOMP_ADDFD_FLAG_SETFD,
					     .srcfd = (uint32_t)f->target_end,
					     .newfd = (uint32_t)f->map_fdnum };

	if (syscall(SYS_kcmp, call->who.tid, call->sup->self, KCMP_FILE,
		    (unsigned long)f->map_fdnum, (unsigned long)f->region_fd) == 0) {
		addfd.newfd_flags = fd_cloexec(call->who.tid, f->map_fdnum) ? O_CLOEXEC : 0;
		if (ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0)
			log_warning("seccomp target %d: descriptor %d not restored: %s",
				    call->who.tgid, f->map_fdnum, strerror(errno));
	}
	restore_descriptor(f);
}

static void serve_mmap(struct sc_call *call)
{
	const struct seccomp_notif *n = &call->notif;
	uint64_t addr = n->data.args[0], len = n->data.args[1], off = n->data.args[5];
	int prot = (int)n->data.args[2], flags = (int)n->data.args[3], fd = (int)n->data.args[4];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), mapped = 0;
	struct seccomp_notif_addfd addfd = { .id = n->id, .flags = SECCOMP_ADDFD_FLAG_SETFD };
	struct sc_file *f = sc_file_of_fd(call->sup, call->who.tid, fd);
	int type = flags & MAP_TYPE, err = 0, rfd = -1;
	struct sc_thread *t;

	if (!f) {
		sc_call_continue(call);
		return;
	}
	if (need_who(call) < 0) {
		sc_call_drop(call);
		return;
	}
	/* The kernel's order: the VFS's checks, then the driver's. */
	if ((off & (page - 1)) || (flags & MAP_HUGETLB) || len == 0)
		err = -EINVAL;
	else if (len + page - 1 < len)
		err = -ENOMEM;
	else if (off + ((len + page - 1) & ~(page - 1)) < off)
		err = -EOVERFLOW;
	else if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		err = -EINVAL;
	else if (type == MAP_SHARED_VALIDATE &&
		 (flags & ~(MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | MAP_NONBLOCK |
			    MAP_NORESERVE | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE |
			    MAP_LOCKED | MAP_STACK | MAP_SYNC | MAP_FIXED_NOREPLACE)))
		err = -EOPNOTSUPP;
	else if (f->access == O_WRONLY ||
		 (type != MAP_PRIVATE && (prot & PROT_WRITE) && f->access == O_RDONLY))
		err = -EACCES;
	else if (!f->opener || f->opener->tgid != call->who.tgid || f->execed)
		err = -EINVAL; /* a forked child's, or an exec'd image's, is not the opener's mm */
	else if (prot & PROT_WRITE)
		err = -EPERM;
	else if (f->mapped || f->region_fd >= 0)
		err = -EBUSY;
	if (err) {
		sc_call_answer(call, 0, err);
		return;
	}
	err = sc_thread_get(f, &call->who, &t);
	if (err) {
		sc_call_answer(call, 0, err);
		return;
	}
	err = driver_mmap(t->thread, addr, len, &rfd, &mapped);
	if (err) {
		sc_call_answer(call, 0, err);
		return;
	}
	addfd.srcfd = (uint32_t)rfd;
	addfd.newfd = (uint32_t)fd;
	addfd.newfd_flags = fd_cloexec(call->who.tid, fd) ? O_CLOEXEC : 0;
	if (ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) < 0) {
		err = -errno;
		close(rfd);
		driver_mmap_done(t->thread, 0);
		if (err == -ENOENT)
			sc_call_drop(call);
		else
			sc_call_answer(call, 0, -ENOMEM);
		return;
	}
	f->region_fd = rfd;
	f->map_tid = call->who.tid;
	f->map_fdnum = fd;
	sc_call_continue(call);
}

/* --- exec ---------------------------------------------------------------- */

/* An exec is asked for: what tells, later, whether it happened. */
static void note_exec(struct sc_call *call)
{
	struct sc_task *task;

	if (LIST_EMPTY(&call->sup->files) || need_who(call) < 0)
		return;
	task = sc_task_find(call->sup, call->who.tgid);
	if (!task)
		return; /* it used no Binder file */
	task->auxv_len = sc_task_auxv(task->tgid, task->auxv, sizeof(task->auxv));
	task->exec_tid = task->auxv_len ? call->who.tid : 0;
}

/*
 * The exec'd image's region is gone, as the kernel's vma close ends it:
 * calls to the process fail (BR_DEAD_REPLY), a new mmap is EINVAL.
 */
static void task_execed(struct sc_supervisor *sup, struct sc_task *task)
{
	struct sc_file *f;

	LIST_FOREACH(f, &sup->files, entry) {
		struct sc_thread *t = LIST_FIRST(&f->threads);

		if (f->opener != task)
			continue;
		f->execed = true;
		if (f->mapped && f->map_addr && t && t->thread)
			driver_munmap(t->thread, f->map_addr);
		f->map_addr = 0;
	}
}

/* A call of a process that asked for an exec: did it happen (its auxv changed)? */
static void check_exec(struct sc_call *call)
{
	struct sc_supervisor *sup = call->sup;
	struct sc_task *task;
	uint8_t auxv[sizeof(task->auxv)];
	size_t len;

	LIST_FOREACH(task, &sup->tasks, entry) {
		if (task->exec_tid)
			break;
	}
	if (!task || need_who(call) < 0 || call->who.tgid != task->tgid)
		return;
	len = sc_task_auxv(task->tgid, auxv, sizeof(auxv));
	if (len != task->auxv_len || memcmp(auxv, task->auxv, len) != 0)
		task_execed(sup, task);
	else if (call->who.tid != task->exec_tid)
		return; /* another thread, while the exec is under way */
	task->exec_tid = 0;
}

/* --- dispatch ------------------------------------------------------------- */

static void sc_calls_interrupt(struct sc_call *call)
{
	call->interrupted = true;
	if (call->parked && call->thread && call->thread->thread)
		driver_interrupt(call->thread->thread);
}

/* The requests the filter traps: Binder's, and the terminal type's (TCGETS,
 * FIONREAD), which the driver answers with EINVAL on its descriptors. */
static bool is_trapped_ioctl(uint32_t cmd)
{
	return _IOC_TYPE(cmd) == 'b' || _IOC_TYPE(cmd) == 'T';
}

/* The VFS serves these on any file, before the driver: the kernel's answer is right. */
static bool vfs_ioctl(uint32_t cmd)
{
	return cmd == FIONBIO || cmd == FIOASYNC || cmd == FIOCLEX || cmd == FIONCLEX ||
	       cmd == FIOQSIZE;
}

/*
 * The threads of @call's Binder process whose wait a signal ended leave the
 * wait first, so that the driver no longer counts them as waiting loopers.
 */
static void interrupt_ended_waits(struct sc_call *call)
{
	struct sc_supervisor *sup = call->sup;
	struct sc_call *other;

	LIST_FOREACH(other, &sup->calls, entry) {
		if (other->parked && !other->interrupted && other->file == call->file &&
		    other->who.tid != call->who.tid &&
		    ioctl(sup->src.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &other->notif.id) < 0) {
			sup->all->stats.interrupted++;
			sc_calls_interrupt(other);
		}
	}
}

static void sc_calls_serve(struct sc_call *call)
{
	const struct seccomp_notif *n = &call->notif;
	struct call_state *st;
	struct sc_file *f;
	int err = 0;

	if (call->interrupted) {
		sc_call_drop(call); /* its thread moved on before it was served */
		return;
	}
	if (call->restarted_read) {
		/* A blocked read the kernel ends with EINTR, even under SA_RESTART. */
		sc_call_answer(call, 0, -EINTR);
		return;
	}
	switch (n->data.nr) {
#ifdef SYS_open
	case SYS_open:
#endif
	case SYS_openat:
	case SYS_openat2:
		if (!state_new(call, CALL_OPEN)) {
			sc_call_answer(call, 0, -ENOMEM);
			return;
		}
		submit(call, reads_run, reads_done);
		return;
	case SYS_mmap:
		serve_mmap(call);
		return;
	case SYS_close:
		/* Every close of a Binder descriptor flushes (binder_flush); the
		 * kernel then closes it. */
		f = sc_file_of_fd(call->sup, call->who.tid, (int)n->data.args[0]);
		if (f && f->proc)
			driver_proc_flush(f->proc);
		sc_call_continue(call);
		return;
	case SYS_exit_group:
		/* The implicit close of every descriptor at exit flushes too. */
		sc_files_flush_held(call->sup, call->who.tid);
		sc_call_continue(call);
		return;
	case SYS_execve:
	case SYS_execveat:
		note_exec(call);
		sc_call_continue(call);
		return;
	case SYS_ioctl:
		break;
	default:
		sc_call_continue(call);
		return;
	}
	f = is_trapped_ioctl((uint32_t)n->data.args[1]) && !vfs_ioctl((uint32_t)n->data.args[1])
		    ? sc_file_of_fd(call->sup, call->who.tid, (int)n->data.args[0])
		    : NULL;
	if (!f) {
		sc_call_continue(call);
		return;
	}
	call->file = f;
	interrupt_ended_waits(call);
	call->thread = sc_thread_find(f, call->who.tid);
	if (call->thread)
		call->who.tgid = call->thread->task->tgid;
	else if (need_who(call) == 0)
		err = sc_thread_get(f, &call->who, &call->thread);
	else
		err = -ESRCH;
	if (!call->thread) {
		sc_call_answer(call, 0, err);
		return;
	}
	if ((uint32_t)n->data.args[1] == BINDER_THREAD_EXIT) {
		sc_thread_release(call->thread);
		call->thread = NULL;
		sc_call_answer(call, 0, 0);
		return;
	}
	st = state_new(call, (uint32_t)n->data.args[1] == BINDER_WRITE_READ ? CALL_WRITE_READ
									    : CALL_IOCTL);
	if (!st) {
		sc_call_answer(call, 0, -ENOMEM);
		return;
	}
	st->cmd = (uint32_t)n->data.args[1];
	st->size = _IOC_SIZE(st->cmd);
	st->bwr_addr = n->data.args[2];
	if (st->kind == CALL_IOCTL && st->size > sizeof(st->arg)) {
		sc_call_answer(call, 0, -EINVAL);
		return;
	}
	/* Unknown: the driver never looks at the argument, and says EINVAL itself
	 * (the calling thread still becomes a Binder thread, as in the kernel). */
	if (st->kind == CALL_IOCTL && !binder_ioctl_known(st->cmd)) {
		serve_ioctl(call);
		return;
	}
	submit(call, reads_run, reads_done);
}

static void sc_calls_start(struct sc_call *call)
{
	struct sc_supervisor *sup = call->sup;
	struct sc_call *earlier;
	struct sc_file *f;

	call->who.tid = (pid_t)call->notif.pid; /* the rest when needed (need_who) */
	check_exec(call);
	LIST_FOREACH(f, &sup->files, entry) {
		if (f->region_fd >= 0 && f->map_tid == call->who.tid) {
			restore_in_call(call, f);
			break;
		}
	}
	/* A thread is in one system call at a time: its earlier one was interrupted. */
	LIST_FOREACH(earlier, &sup->calls, entry) {
		if (earlier != call && earlier->who.tid == call->who.tid && !earlier->dead &&
		    !earlier->successor) {
			earlier->successor = call;
			/* The same call again: the kernel restarted it after a signal (SA_RESTART). */
			call->restarted_read =
				(earlier->parked || earlier->interrupted) &&
				earlier->notif.data.nr == SYS_ioctl &&
				(uint32_t)earlier->notif.data.args[1] == BINDER_WRITE_READ &&
				!memcmp(&earlier->notif.data, &call->notif.data,
					sizeof(call->notif.data));
			/* A parked one was interrupted; any other is being answered. */
			if (earlier->parked) {
				sup->all->stats.interrupted++;
				sc_calls_interrupt(earlier);
			}
			return;
		}
	}
	sc_calls_serve(call);
}

const struct sc_call_ops sc_calls_ops = {
	.start = sc_calls_start,
	.serve = sc_calls_serve,
	.interrupt = sc_calls_interrupt,
	.free_state = sc_calls_free_state,
	.thread = &thread_endpoint_ops,
};
