/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "transport/channel.h"
#include "transport/stage.h"
#include "transport/transport.h"
#include "wire/binder_ioctl.h"
#include "wire/binder_stream.h"
#include "wire/encode.h"
#include "wire/packet.h"
#include "wire/ticket.h"
#include "wire/trust.h"

#define RX_SIZE (sizeof(struct ubw_write_read_reply) + UBW_MAX_READ_SIZE + 64 * 1024)

const struct ubt_sys ubt_libc = {
	.open = open, .close = close, .fcntl = fcntl, .mmap = mmap, .munmap = munmap, .fstat = fstat
};

void ubt_default_socket(const char *context, char *buf, size_t size)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && xdg[0] == '/')
		snprintf(buf, size, "%s/ubinder/%s", xdg, context);
	else if (geteuid() == 0)
		snprintf(buf, size, "/run/ubinder/%s", context);
	else
		snprintf(buf, size, "/tmp/ubinder-%u/%s", (unsigned)geteuid(), context);
}

/* The request body under construction, in t->tx. */
struct ubt_body {
	size_t len;
	/* Attached with SCM_RIGHTS, and listed in the body by these numbers. */
	int fds[UBW_MAX_FDS];
	size_t nfds;
	uint32_t nsegments;
	uint8_t *segs; /* segments are built apart, then appended */
	size_t segs_len, segs_cap;
	/* Scratch for one transaction's offsets and buffer objects. */
	uint8_t *scratch;
	size_t scratch_cap;
};

/* Descriptor numbers go on the wire as int32_t, straight from int arrays. */
_Static_assert(sizeof(int) == sizeof(int32_t), "int is the wire's int32_t");

/* A buffer object of the transaction being collected, by offset index. */
struct ptr_obj {
	uint64_t buffer;
	uint64_t length;
	bool ptr;
};

/* --- our own memory, as the kernel would access it ------------------------ */

static bool self_vm_unavailable;

/* Our pid for process_vm_readv/writev on ourselves: getpid() is a system
 * call, and these run several times per ioctl. A forked child resets it. */
static pid_t self_pid;
static pthread_once_t self_pid_once = PTHREAD_ONCE_INIT;

static void self_pid_reset(void)
{
	self_pid = 0;
}

static void self_pid_init(void)
{
	pthread_atfork(NULL, NULL, self_pid_reset);
}

static pid_t self(void)
{
	pid_t pid = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);

	if (!pid) {
		pthread_once(&self_pid_once, self_pid_init);
		pid = getpid();
		__atomic_store_n(&self_pid, pid, __ATOMIC_RELAXED);
	}
	return pid;
}

/* Reads [src, src + len) of our memory; -EFAULT where the kernel would fault. */
static int mem_read(const struct ubt_session *s, void *dst, uint64_t src, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)src, len };
	ssize_t n;

	if (len == 0)
		return 0;
	if (s->trusted || self_vm_unavailable) {
		memcpy(dst, (const void *)(uintptr_t)src, len);
		return 0;
	}
	if (s->sys->user_copy)
		return s->sys->user_copy(dst, (const void *)(uintptr_t)src, len);
	n = process_vm_readv(self(), &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		/* A seccomp filter forbids it: no way to check pointers, trust them. */
		self_vm_unavailable = true;
		memcpy(dst, (const void *)(uintptr_t)src, len);
		return 0;
	}
	return -EFAULT;
}

static int mem_write(const struct ubt_session *s, uint64_t dst, const void *src, size_t len)
{
	struct iovec local = { (void *)src, len }, remote = { (void *)(uintptr_t)dst, len };
	ssize_t n;

	if (len == 0)
		return 0;
	if (s->trusted || self_vm_unavailable) {
		memcpy((void *)(uintptr_t)dst, src, len);
		return 0;
	}
	if (s->sys->user_copy)
		return s->sys->user_copy((void *)(uintptr_t)dst, src, len);
	n = process_vm_writev(self(), &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

/* One piece of a vectored write to our memory. */
struct piece {
	const void *src;
	uint64_t dst;
	size_t len;
};

/*
 * Writes @n pieces in order, in one system call where they are all
 * writable. Returns how many were written whole: those after the first that
 * is not are not written at all (but a later piece is retried alone).
 */
static size_t mem_writev(const struct ubt_session *s, const struct piece *pc, size_t n)
{
	struct iovec local[4], remote[4];
	size_t total = 0, done = 0;

	if (n <= 4 && !s->trusted && !self_vm_unavailable && !s->sys->user_copy) {
		for (size_t i = 0; i < n; i++) {
			local[i] = (struct iovec){ (void *)pc[i].src, pc[i].len };
			remote[i] = (struct iovec){ (void *)(uintptr_t)pc[i].dst, pc[i].len };
			total += pc[i].len;
		}
		if (process_vm_writev(self(), local, n, remote, n, 0) == (ssize_t)total)
			return n;
		/* Some piece failed: find which, one by one (the rare path). */
	}
	while (done < n && mem_write(s, pc[done].dst, pc[done].src, pc[done].len) == 0)
		done++;
	return done;
}

/* --- connections ------------------------------------------------------------ */

static int connect_to(const struct ubt_sys *sys, const char *path)
{
	const struct ubw_trust_sys trust_sys = { sys->open, sys->close, sys->fstat };
	struct timeval tv = { .tv_sec = 86400 };
	int sndbuf = 1 << 20;
	int fd = ubw_connect_trusted(&trust_sys, path);

	if (fd < 0)
		return fd;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Under Yama's restricted ptrace, let the daemon read us (it is our peer). */
static void allow_daemon_to_read(const struct ubt_sys *sys, int sock)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char scope = '0';
	int fd;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return;
	fd = sys->open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &scope, 1) == 1 && scope == '1' && cred.pid > 0)
		(void)prctl(PR_SET_PTRACER, (unsigned long)cred.pid, 0, 0, 0);
	sys->close(fd);
}

int ubt_session_open(struct ubt_session *s, const char *path, bool want_poll_fd, bool trusted,
		     const struct ubt_sys *sys)
{
	volatile uint64_t probe_word;
	struct ubw_hello hello = { .hdr = { UBW_HELLO, 0 },
				   .magic = UBW_MAGIC,
				   .version = UBW_PROTOCOL_VERSION };
	struct ubw_hello_reply reply;
	struct iovec iov = { &hello, sizeof(hello) };
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	uint64_t value;
	ssize_t n;
	int err;

	memset(s, 0, sizeof(*s));
	s->sys = sys;
	s->sock = -1;
	s->poll_fd = -1;
	s->trusted = trusted;
	snprintf(s->path, sizeof(s->path), "%s", path);
	err = connect_to(sys, path);
	if (err < 0)
		return err;
	s->sock = err;
	allow_daemon_to_read(sys, s->sock);

	if (getrandom(&value, sizeof(value), 0) != sizeof(value))
		value = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	/* The word the daemon reads to learn whether it can read our memory:
	 * ours until its reply, so a local one (threads may open concurrently). */
	probe_word = value;
	hello.flags = want_poll_fd ? UBW_HELLO_WANT_POLL_FD : 0;
	hello.tid = (uint32_t)gettid();
	hello.probe_addr = (uint64_t)(uintptr_t)&probe_word;
	hello.probe_value = value;
	err = ubt_sock_send(s->sock, &iov, 1, NULL, 0);
	if (err)
		goto fail;
	n = ubt_sock_recv(sys, s->sock, &reply, sizeof(reply), fds, &nfds, false);
	if (n < 0) {
		err = (int)n;
		goto fail;
	}
	if ((size_t)n != sizeof(reply) || reply.hdr.type != (UBW_HELLO | UBW_REPLY)) {
		err = -EPROTO;
		goto fail;
	}
	if (reply.hdr.error) {
		err = reply.hdr.error;
		goto fail;
	}
	if (want_poll_fd && nfds == 0) {
		err = -EMFILE; /* we could not take the eventfd (RLIMIT_NOFILE) */
		goto fail;
	}
	memcpy(s->token, reply.token, sizeof(s->token));
	s->copy_mode = reply.copy_mode;
	s->max_inline = reply.max_inline;
	s->max_body = reply.max_body;
	s->features = reply.features;
	if (nfds)
		s->poll_fd = fds[0];
	for (size_t i = 1; i < nfds; i++)
		sys->close(fds[i]);
	return 0;
fail:
	for (size_t i = 0; i < nfds; i++)
		sys->close(fds[i]);
	sys->close(s->sock);
	s->sock = -1;
	return err;
}

void ubt_session_close(struct ubt_session *s)
{
	if (s->sock >= 0)
		s->sys->close(s->sock);
	if (s->poll_fd >= 0)
		s->sys->close(s->poll_fd);
	s->sock = s->poll_fd = -1;
	stage_close(s);
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t cap2 = *cap ? *cap : 4096;
	uint8_t *b;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	b = realloc(*buf, cap2);
	if (!b)
		return -ENOMEM;
	*buf = b;
	*cap = cap2;
	return 0;
}

int ubt_thread_open(struct ubt_thread *t, const struct ubt_session *s)
{
	struct ubw_attach attach = { .hdr = { UBW_ATTACH, 0 },
				     .magic = UBW_MAGIC,
				     .version = UBW_PROTOCOL_VERSION };
	struct ubw_attach_reply reply;
	struct iovec iov = { &attach, sizeof(attach) };
	ssize_t n;
	int err;

	memset(t, 0, sizeof(*t));
	t->sys = s->sys;
	t->ring_bell = -1;
	/* The ring comes with the first BINDER_WRITE_READ: a thread that only
	 * opened, mapped or asked the version costs the daemon no ring. */
	t->ring_wanted = true;
	t->opener = getpid();
	t->sock = connect_to(s->sys, s->path);
	if (t->sock < 0) {
		err = t->sock;
		t->sock = -1;
		return err;
	}
	memcpy(attach.token, s->token, sizeof(attach.token));
	attach.tid = (uint32_t)gettid();
	err = ubt_sock_send(t->sock, &iov, 1, NULL, 0);
	if (!err) {
		n = ubt_sock_recv(t->sys, t->sock, &reply, sizeof(reply), NULL, NULL, false);
		if (n < 0)
			err = (int)n;
		else if ((size_t)n != sizeof(reply) || reply.hdr.type != (UBW_ATTACH | UBW_REPLY))
			err = -EPROTO;
		else
			err = reply.hdr.error;
	}
	if (!err) {
		t->rx = malloc(RX_SIZE);
		t->body = calloc(1, sizeof(*t->body));
		if (!t->rx || !t->body || grow(&t->tx, &t->tx_size, 4096))
			err = -ENOMEM;
	}
	if (err) {
		ubt_thread_close(t);
		return err;
	}
	return 0;
}

void ubt_thread_exiting(struct ubt_thread *t)
{
	stage_release_held(t, true);
}

void ubt_thread_close(struct ubt_thread *t)
{
	/* Held pages not given back by now belong to a closed session's
	 * outbox, or are still the daemon's to read: forgotten. */
	ubt_ring_teardown(t);
	if (t->sock >= 0)
		t->sys->close(t->sock);
	free(t->rx);
	free(t->tx);
	if (t->body) {
		free(t->body->segs);
		free(t->body->scratch);
	}
	free(t->body);
	memset(t, 0, sizeof(*t));
	t->sock = -1;
	t->ring_bell = -1;
}

/* --- BINDER_WRITE_READ ------------------------------------------------------ */

static void add_fd(const struct ubt_session *s, struct ubt_body *b, uint32_t fd)
{
	for (size_t i = 0; i < b->nfds; i++) {
		if ((uint32_t)b->fds[i] == fd)
			return;
	}
	/* A number that is not open stays out: the daemon then fails it with EBADF. */
	if (b->nfds == UBW_MAX_FDS || s->sys->fcntl((int)fd, F_GETFD) < 0)
		return;
	b->fds[b->nfds++] = (int)fd;
}

void ubt_session_outbox(struct ubt_session *s, const void *base, size_t size)
{
	/* base last on the way in and first on the way out: a reader that sees
	 * a base sees its end. */
	atomic_store_explicit(&s->outbox_base, 0, memory_order_release);
	if (!size)
		return;
	atomic_store_explicit(&s->outbox_end, (uint64_t)(uintptr_t)base + size,
			      memory_order_relaxed);
	atomic_store_explicit(&s->outbox_base, (uint64_t)(uintptr_t)base, memory_order_release);
}

/* Whether [addr, addr + len) lies in the session's outbox (the daemon copies it itself). */
static bool in_outbox(const struct ubt_session *s, uint64_t addr, uint64_t len)
{
	uint64_t base = atomic_load_explicit(&s->outbox_base, memory_order_acquire);
	uint64_t end = atomic_load_explicit(&s->outbox_end, memory_order_relaxed);

	return base && addr >= base && addr < end && len <= end - addr;
}

/*
 * Appends a copy of our memory [addr, addr + len) as an inline segment, if
 * readable and not in the outbox.
 */
static void add_segment(const struct ubt_session *s, struct ubt_body *b, uint64_t addr,
			uint64_t len)
{
	size_t need;

	if (len == 0 || len > s->max_body || in_outbox(s, addr, len))
		return;
	need = b->segs_len + ubw_segment_size(len);
	if (need > s->max_body || grow(&b->segs, &b->segs_cap, need))
		return;
	if (mem_read(s, b->segs + b->segs_len + sizeof(struct ubw_segment), addr, len))
		return; /* unreadable: the daemon reports EFAULT, as the kernel would */
	ubw_encode_segment(b->segs + b->segs_len, addr, len);
	b->segs_len = need;
	b->nsegments++;
}

/*
 * Looks at one transaction of the write buffer: attaches the descriptors its
 * objects name and, when it is small or the daemon cannot read us, its bytes.
 */
static void collect_transaction(const struct ubt_session *s, struct ubt_body *b,
				const struct binder_transaction_data *tr, uint64_t sg_size)
{
	uint64_t payload = tr->data_size + tr->offsets_size + sg_size;
	bool push = s->copy_mode == UBW_COPY_PUSH || payload <= s->max_inline;
	uint64_t noffsets = tr->offsets_size / sizeof(binder_size_t);
	struct ptr_obj *ptrs;
	binder_size_t *offsets;

	if (push) {
		add_segment(s, b, tr->data.ptr.buffer, tr->data_size);
		add_segment(s, b, tr->data.ptr.offsets, tr->offsets_size);
	}
	if (noffsets == 0 || noffsets > 65536)
		return;
	/* The thread's scratch: it grows to the largest transaction, never shrinks. */
	if (grow(&b->scratch, &b->scratch_cap, noffsets * (sizeof(*offsets) + sizeof(*ptrs))))
		return;
	ptrs = (struct ptr_obj *)b->scratch;
	offsets = (binder_size_t *)(b->scratch + noffsets * sizeof(*ptrs));
	memset(ptrs, 0, noffsets * sizeof(*ptrs));
	if (mem_read(s, offsets, tr->data.ptr.offsets, noffsets * sizeof(*offsets)))
		return;
	for (uint64_t i = 0; i < noffsets; i++) {
		union {
			struct binder_object_header hdr;
			struct binder_fd_object fd;
			struct binder_buffer_object bbo;
			struct binder_fd_array_object fda;
		} o;
		uint64_t off = offsets[i];
		size_t n;

		if (off >= tr->data_size || tr->data_size - off < sizeof(o.hdr))
			continue;
		n = tr->data_size - off < sizeof(o) ? tr->data_size - off : sizeof(o);
		memset(&o, 0, sizeof(o));
		if (mem_read(s, &o, tr->data.ptr.buffer + off, n))
			continue;
		switch (o.hdr.type) {
		case BINDER_TYPE_FD:
			add_fd(s, b, o.fd.fd);
			break;
		case BINDER_TYPE_PTR:
			ptrs[i].buffer = o.bbo.buffer;
			ptrs[i].length = o.bbo.length;
			ptrs[i].ptr = true;
			if (push)
				add_segment(s, b, o.bbo.buffer, o.bbo.length);
			break;
		case BINDER_TYPE_FDA:
			if (o.fda.parent < i && ptrs[o.fda.parent].ptr &&
			    o.fda.num_fds <= UBW_MAX_FDS &&
			    o.fda.parent_offset <= ptrs[o.fda.parent].length) {
				uint32_t fds[UBW_MAX_FDS];

				if (mem_read(s, fds,
					     ptrs[o.fda.parent].buffer + o.fda.parent_offset,
					     o.fda.num_fds * sizeof(uint32_t)) == 0) {
					for (uint64_t k = 0; k < o.fda.num_fds; k++)
						add_fd(s, b, fds[k]);
				}
			}
			break;
		}
	}
}

/* Finds the transactions in the write buffer copy @w of @len bytes, staging
 * the large ones of an untrusted caller in the outbox (stage.h). */
static void collect_commands(struct ubt_thread *t, const struct ubt_session *s, struct ubt_body *b,
			     uint8_t *w, size_t len)
{
	size_t pos = 0;

	while (len - pos >= sizeof(uint32_t)) {
		uint32_t cmd;
		size_t size;

		memcpy(&cmd, w + pos, sizeof(cmd));
		pos += sizeof(cmd);
		if (_IOC_TYPE(cmd) != 'c')
			return; /* unknown: the daemon says what the kernel says */
		size = _IOC_SIZE(cmd);
		if (len - pos < size)
			return;
		if (cmd == BC_TRANSACTION || cmd == BC_REPLY) {
			struct binder_transaction_data tr;

			memcpy(&tr, w + pos, sizeof(tr));
			if (stage_transaction(t, s, &tr, 0, mem_read))
				memcpy(w + pos, &tr, sizeof(tr));
			collect_transaction(s, b, &tr, 0);
		} else if (cmd == BC_TRANSACTION_SG || cmd == BC_REPLY_SG) {
			struct binder_transaction_data_sg tr;

			memcpy(&tr, w + pos, sizeof(tr));
			if (stage_transaction(t, s, &tr.transaction_data, tr.buffers_size,
					      mem_read))
				memcpy(w + pos, &tr, sizeof(tr));
			collect_transaction(s, b, &tr.transaction_data, tr.buffers_size);
		}
		pos += size;
	}
}

static int session_mem_read(void *s, void *dst, uint64_t src, size_t len)
{
	return mem_read(s, dst, src, len);
}

/* Copies as much of [addr, addr + len) as is readable; returns the bytes copied. */
static size_t read_prefix(const struct ubt_session *s, uint8_t *dst, uint64_t addr, size_t len)
{
	return binder_read_prefix(session_mem_read, (void *)s, dst, addr, len);
}

static int send_request(struct ubt_thread *t, struct ubw_write_read *hdr, const struct ubt_body *b)
{
	const size_t first = UBW_MAX_MESSAGE - sizeof(*hdr);
	const size_t more = UBW_MAX_MESSAGE - sizeof(struct ubw_write_read_more);
	struct ubw_write_read_more mh = { .hdr = { UBW_WRITE_READ_MORE, 0 } };
	size_t off, n;
	int err;

	n = b->len < first ? b->len : first;
	if (b->len == 0 && !b->nfds && hdr->write_len == 0 &&
	    hdr->write_size <= hdr->write_consumed && hdr->read_size > hdr->read_consumed &&
	    !(hdr->flags & UBW_WR_NONBLOCK)) {
		/* A looper's read for work: the daemon may take it without the doorbell. */
		struct iovec iov = { hdr, sizeof(*hdr) };

		return ubt_chan_send_read(t, &iov, 1);
	}
	{
		struct iovec iov[2] = { { hdr, sizeof(*hdr) }, { t->tx, n } };

		err = ubt_chan_send(t, iov, 2, b->fds, b->nfds);
		if (err)
			return err;
	}
	for (off = n; off < b->len; off += n) {
		struct iovec iov[2];

		n = b->len - off < more ? b->len - off : more;
		iov[0] = (struct iovec){ &mh, sizeof(mh) };
		iov[1] = (struct iovec){ t->tx + off, n };
		err = ubt_chan_send(t, iov, 2, NULL, 0);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The daemon sent descriptors with the reply: tell it what numbers they got.
 * Returns 0, or -EBADF when one could not be received and the transaction was
 * taken back (*replacement: the code to put in its place, or 0).
 */
static int fd_fixup(struct ubt_thread *t, const int *fds, size_t nfds, uint32_t *replacement)
{
	struct ubw_fd_fixup f = { .hdr = { UBW_FD_FIXUP, 0 }, .nfds = (uint32_t)nfds };
	struct iovec iov[2] = { { &f, sizeof(f) }, { (void *)fds, nfds * sizeof(int32_t) } };
	struct ubw_fd_fixup_reply reply;
	ssize_t n;
	int err;

	*replacement = 0;
	err = ubt_chan_send(t, iov, 2, NULL, 0);
	if (err)
		return err;
	n = ubt_chan_recv(t, &reply, sizeof(reply), NULL, NULL, false);
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(reply))
		return -EPROTO;
	*replacement = reply.replacement;
	return reply.hdr.error;
}

/*
 * Reads the write buffer into @dst (returns the bytes copied) and, when
 * @probe, the read buffer's first word into *word (*word_ok), in one system
 * call when both are readable: each of our memory accesses costs one.
 */
static size_t read_request(const struct ubt_session *s, uint8_t *dst, uint64_t addr, size_t len,
			   bool probe, uint64_t read_buffer, uint32_t *word, bool *word_ok)
{
	*word_ok = false;
	if (probe && len && !s->trusted && !self_vm_unavailable && !s->sys->user_copy) {
		struct iovec local[2] = { { dst, len }, { word, sizeof(*word) } };
		struct iovec remote[2] = { { (void *)(uintptr_t)addr, len },
					   { (void *)(uintptr_t)read_buffer, sizeof(*word) } };

		if (process_vm_readv(self(), local, 2, remote, 2, 0) ==
		    (ssize_t)(len + sizeof(*word))) {
			*word_ok = true;
			return len;
		}
	}
	if (probe)
		*word_ok = mem_read(s, word, read_buffer, sizeof(*word)) == 0;
	return read_prefix(s, dst, addr, len);
}

int ubt_write_read(struct ubt_thread *t, const struct ubt_session *s, struct binder_write_read *bwr,
		   bool nonblock)
{
	return ubt_write_read_flags(t, s, bwr, nonblock ? UBT_NONBLOCK : 0);
}

/*
 * The end of a BINDER_WRITE_READ: the pieces of the read buffer (@data_piece
 * is the read's bytes, whose fault is the ioctl's EFAULT), then the caller's
 * struct when it lives in its memory (@user_bwr), in one system call. As the
 * kernel, the struct is copied back even when the read faulted.
 */
static int finish(const struct ubt_session *s, struct piece *pc, size_t n, size_t data_piece,
		  const struct binder_write_read *bwr, uint64_t user_bwr, int err)
{
	size_t done, total = n;

	if (user_bwr)
		pc[total++] = (struct piece){ bwr, user_bwr, sizeof(*bwr) };
	done = total ? mem_writev(s, pc, total) : 0;
	if (data_piece < n && done <= data_piece)
		err = -EFAULT;
	if (user_bwr && done < total && mem_write(s, user_bwr, bwr, sizeof(*bwr)))
		err = -EFAULT;
	return err;
}

/* One round trip of a BINDER_WRITE_READ with the daemon. */
struct wr_round {
	struct ubw_write_read hdr;
	bool read_unwritable;  /* the read buffer's first word cannot be written */
	ssize_t reply_len;     /* bytes of the reply in t->rx */
	uint64_t read_len;     /* bytes of the reply's read section for the caller */
	int rfds[UBW_MAX_FDS]; /* received with the reply and not the caller's (yet) */
	size_t rnfds;
	/* What the caller's memory receives (finish()); pc[data_piece] is the read. */
	struct piece pc[4];
	size_t npc, data_piece;
	bool retry; /* what is left of the read is its first BR_NOOP: read again */
};

/* UBINDER_TICKETS=0 turns the local completion off (to measure without it). */
static bool tickets_off;
static pthread_once_t tickets_once = PTHREAD_ONCE_INIT;

static void tickets_init(void)
{
	const char *v = getenv("UBINDER_TICKETS");

	tickets_off = v && strcmp(v, "0") == 0;
}

static bool tickets_wanted(void)
{
	pthread_once(&tickets_once, tickets_init);
	return !tickets_off;
}

/*
 * The request for @bwr: its header in r->hdr, its body in t->tx (the write
 * buffer's commands, the descriptors and the inline segments they name).
 * Probes the read buffer as the kernel's read would.
 */
static int encode_request(struct ubt_thread *t, const struct ubt_session *s,
			  struct binder_write_read *bwr, unsigned int flags, struct wr_round *r)
{
	struct ubw_write_read_body sections;
	struct ubt_body *b = t->body;
	uint64_t write_len = 0;
	bool probe, word_ok;
	size_t copied;
	uint32_t word;
	int err;

	r->hdr = (struct ubw_write_read){ .hdr = { UBW_WRITE_READ, 0 } };
	b->len = 0;
	b->nfds = 0;
	b->nsegments = 0;
	b->segs_len = 0;
	if (bwr->write_size > bwr->write_consumed)
		write_len = bwr->write_size - bwr->write_consumed;
	if (write_len > UINT32_MAX || write_len > s->max_body)
		return -EFAULT; /* no kernel could read that much either */
	err = grow(&t->tx, &t->tx_size, UBW_ALIGN_UP(write_len + UBW_MAX_OVERRUN) + 8);
	if (err)
		return err;
	/* The kernel's read stores BR_NOOP at the buffer's start before it waits:
	 * a buffer it cannot write fails the read at once (after the write). */
	probe = bwr->read_size > 0 && bwr->read_consumed == 0 && !s->trusted;
	copied = read_request(s, t->tx, bwr->write_buffer + bwr->write_consumed, write_len, probe,
			      bwr->read_buffer, &word, &word_ok);
	if (write_len && copied == 0) {
		/* The first command is unreadable: nothing is done, no read either. */
		bwr->read_consumed = 0;
		return -EFAULT;
	}
	r->hdr.write_len = (uint32_t)copied;
	/*
	 * The kernel reads a truncated command's arguments past write_size; send
	 * what lies there. Only untrusted callers can have truncated commands,
	 * and only for them are reads past a buffer safe (-EFAULT, no crash).
	 */
	if (copied == write_len && write_len && !s->trusted && !self_vm_unavailable &&
	    !binder_stream_complete(t->tx, copied))
		r->hdr.write_overrun = (uint32_t)read_prefix(
			s, t->tx + copied, bwr->write_buffer + bwr->write_size, UBW_MAX_OVERRUN);
	collect_commands(t, s, b, t->tx, copied);

	sections = (struct ubw_write_read_body){ .write_len = r->hdr.write_len,
						 .write_overrun = r->hdr.write_overrun,
						 .fds = b->fds,
						 .nfds = b->nfds,
						 .segments = b->segs,
						 .segments_len = b->segs_len,
						 .nsegments = b->nsegments };
	err = grow(&t->tx, &t->tx_size, ubw_write_read_body_size(&sections));
	if (err)
		return err;
	ubw_encode_write_read(&r->hdr, t->tx, &sections);
	b->len = r->hdr.body_size;

	r->hdr.write_size = bwr->write_size;
	r->hdr.write_consumed = bwr->write_consumed;
	/* Written back as it was: only whether it can be written matters. */
	r->read_unwritable =
		probe && !(word_ok && mem_write(s, bwr->read_buffer, &word, sizeof(word)) == 0);
	r->hdr.read_size = r->read_unwritable ? 0 : bwr->read_size;
	r->hdr.read_consumed = bwr->read_consumed;
	r->hdr.flags = ((flags & UBT_NONBLOCK) ? UBW_WR_NONBLOCK : 0) |
		       ((flags & UBT_HOLD_COMPLETE) ? UBW_WR_HOLD_COMPLETE : 0);
	/* A looper that holds its completions never waits for one: no tickets. */
	if (!(flags & UBT_HOLD_COMPLETE) && ubt_ring_usable(t) && tickets_wanted())
		r->hdr.flags |= UBW_WR_OFFER;
	return 0;
}

/* What a claimed ticket's write returns, as the daemon promised. */
static const uint32_t local_completion[2] = { BR_NOOP, BR_TRANSACTION_COMPLETE };

enum ticket_outcome {
	TICKET_NONE,  /* no claim: send the request and wait as usual */
	TICKET_LOCAL, /* claimed: the write is done, the read returns the completion */
	TICKET_WAIT,  /* posted, but the daemon closed the ticket first: wait */
};

/* The request takes no ticket after all. */
static enum ticket_outcome ticket_unclaimed(struct wr_round *r)
{
	r->hdr.flags &= ~(uint32_t)UBW_WR_TICKET;
	r->hdr.ticket_gen = 0;
	return TICKET_NONE;
}

/*
 * Whether the ticket write's reply data, @data_size bytes at @data, is
 * where the daemon's copy of it cannot fail (glue.c checks the same on its
 * own copy): none, carried inline (the write's one segment), or staged in
 * the outbox (the write's one staged transaction), while no earlier staged
 * reply's pages are held.
 */
static bool reply_data_covered(const struct ubt_thread *t, const struct ubt_session *s,
			       uint64_t data, uint64_t data_size)
{
	if (data_size == 0)
		return t->body->nsegments == 0 && t->nstaged == 0;
	if (t->nstaged == 0)
		return t->body->nsegments == 1;
	return t->nstaged == 1 && t->body->nsegments == 0 && !t->held.size &&
	       in_outbox(s, data, data_size);
}

/*
 * The local completion (docs/protocol.md): when the ring holds an open
 * ticket and this request is the plain reply it covers (wire/ticket.h, on
 * our copy; the daemon checks its own), posts it marked with the ticket,
 * then claims the ticket. A failed post is the caller's error in *err.
 */
static enum ticket_outcome ticket_claim(struct ubt_thread *t, const struct ubt_session *s,
					struct binder_write_read *bwr, struct wr_round *r, int *err)
{
	uint64_t data, data_size;
	uint32_t gen, limit;

	if (!(r->hdr.flags & UBW_WR_OFFER) || r->read_unwritable || t->body->nfds ||
	    !ubt_ring_ticket_offered(t, &gen, &limit))
		return TICKET_NONE;
	r->hdr.flags |= UBW_WR_TICKET;
	r->hdr.ticket_gen = gen;
	if (!ubw_ticket_request(&r->hdr) ||
	    !ubw_ticket_write(t->tx, r->hdr.write_len, limit, &data, &data_size) ||
	    !reply_data_covered(t, s, data, data_size))
		return ticket_unclaimed(r);
	{
		struct iovec iov[2] = { { &r->hdr, sizeof(r->hdr) }, { t->tx, t->body->len } };
		int claimed = ubt_ring_ticket_claim(t, iov, 2, gen);

		if (claimed == -ENOSPC)
			return ticket_unclaimed(r);
		if (claimed < 0) {
			*err = claimed;
			return TICKET_NONE;
		}
		if (!claimed)
			return TICKET_WAIT;
	}
	if (t->nstaged)
		stage_hold(t, gen); /* the daemon reads them after we return */
	bwr->write_consumed = bwr->write_size;
	r->data_piece = r->npc;
	r->pc[r->npc++] =
		(struct piece){ local_completion, bwr->read_buffer, sizeof(local_completion) };
	bwr->read_consumed = sizeof(local_completion);
	return TICKET_LOCAL;
}

/*
 * Sends the request and receives the reply into t->rx, with its descriptors
 * in r->rfds. A signal ends the wait the way the kernel's would: the daemon
 * is told, and its answer is taken.
 */
static int exchange(struct ubt_thread *t, struct wr_round *r, bool sent)
{
	bool interrupted = false;
	ssize_t n;
	int err = sent ? 0 : send_request(t, &r->hdr, t->body);

	if (err)
		return err;
	for (;;) {
		struct ubw_header intr = { UBW_INTERRUPT, 0 };
		struct iovec iov = { &intr, sizeof(intr) };

		n = ubt_chan_recv(t, t->rx, RX_SIZE, r->rfds, &r->rnfds, !interrupted);
		if (n != -EINTR)
			break;
		interrupted = true;
		err = ubt_chan_send(t, &iov, 1, NULL, 0);
		if (err)
			return err;
	}
	if (n < 0)
		return (int)n;
	r->reply_len = n;
	return 0;
}

/* The reply in t->rx checked against its length and against @bwr: -EPROTO
 * if it is not a reply to the request. Sets r->read_len. */
static int validate_reply(const struct ubt_thread *t, const struct binder_write_read *bwr,
			  struct wr_round *r, const struct ubw_write_read_reply **out)
{
	const struct ubw_write_read_reply *reply = (const struct ubw_write_read_reply *)t->rx;
	size_t n = (size_t)r->reply_len;
	uint64_t read_len;

	if (n < sizeof(*reply) || reply->hdr.type != (UBW_WRITE_READ | UBW_REPLY))
		return -EPROTO;
	read_len = reply->read_consumed - bwr->read_consumed;
	if (reply->read_consumed < bwr->read_consumed ||
	    sizeof(*reply) + UBW_ALIGN_UP(read_len) + reply->nclose * sizeof(int32_t) > n)
		return -EPROTO;
	r->read_len = read_len;
	*out = reply;
	return 0;
}

/*
 * The descriptors that came with the reply: the daemon learns their numbers
 * and they become the caller's; or, when one could not be received, the
 * transaction is taken back, as the kernel skips a transaction whose
 * descriptors it cannot install: it leaves the read (a reply leaves
 * BR_FAILED_REPLY in its place), and what did arrive is closed. Returns
 * @err, or the fix-up's error if @err is 0.
 */
static int take_fds(struct ubt_thread *t, const struct binder_write_read *bwr,
		    const struct ubw_write_read_reply *reply, struct wr_round *r, int err)
{
	uint8_t *p = t->rx + sizeof(*reply);
	uint32_t replacement;
	int fixup_err;

	if (!(reply->flags & UBW_WRR_FDS))
		return err;
	/* Those we could not receive are reported as -1. */
	while (r->rnfds < reply->nfds && r->rnfds < UBW_MAX_FDS)
		r->rfds[r->rnfds++] = -1;
	fixup_err = fd_fixup(t, r->rfds, r->rnfds, &replacement);
	if (fixup_err == -EBADF) {
		size_t item = binder_stream_last_item(p, r->read_len);

		if (replacement) {
			memcpy(p + item, &replacement, sizeof(replacement));
			item += sizeof(replacement);
		}
		r->read_len = item;
		r->retry = bwr->read_consumed + r->read_len == sizeof(uint32_t);
		return err;
	}
	r->rnfds = 0; /* they are the caller's now */
	return fixup_err && !err ? fixup_err : err;
}

/* What the caller's read buffer receives (pieces for finish()), and the
 * descriptors the daemon asks us to close. */
static void deliver(const struct ubt_thread *t, struct binder_write_read *bwr,
		    const struct ubw_write_read_reply *reply, struct wr_round *r, int err)
{
	static const uint32_t spawn = BR_SPAWN_LOOPER, noop = BR_NOOP;
	const uint8_t *p = t->rx + sizeof(*reply);
	const int32_t *close_list = (const int32_t *)(p + UBW_ALIGN_UP(r->read_len));

	bwr->write_consumed = reply->write_consumed;
	if (r->read_len) {
		r->data_piece = r->npc;
		r->pc[r->npc++] =
			(struct piece){ p, bwr->read_buffer + bwr->read_consumed, r->read_len };
	}
	if (reply->flags & UBW_WRR_SPAWN_LOOPER_AT_0)
		r->pc[r->npc++] = (struct piece){ &spawn, bwr->read_buffer, sizeof(spawn) };
	if ((err == -EAGAIN || err == -EINTR) && bwr->read_consumed == 0 && r->read_len == 0 &&
	    bwr->read_size >= sizeof(uint32_t)) {
		/* No work, but the BR_NOOP the read starts with is there. */
		r->pc[r->npc++] = (struct piece){ &noop, bwr->read_buffer, sizeof(noop) };
	}
	bwr->read_consumed += r->read_len;
	for (uint32_t i = 0; i < reply->nclose; i++)
		t->sys->close(close_list[i]);
}

/*
 * Whether the program's descriptor is O_NONBLOCK, asked of its open file
 * (another process may share it and change the flag, so it is never
 * remembered) only for a request that may wait: one with a read, sent to
 * the daemon. Not for a write alone, nor for a claimed ticket, whose read
 * returns at once (nor for a ticket write posted that lost its ticket: a
 * BC_REPLY always leaves its completion or its error to read). Asked at
 * most once per BINDER_WRITE_READ.
 */
struct nonblock_query {
	int fd; /* -1: the caller's flags say */
	bool asked, nonblock;
};

static void ask_nonblock(const struct ubt_thread *t, struct wr_round *r, struct nonblock_query *q)
{
	if (q->fd < 0 || r->hdr.read_size <= r->hdr.read_consumed)
		return;
	if (!q->asked) {
		int fl = t->sys->fcntl(q->fd, F_GETFL);

		q->asked = true;
		q->nonblock = fl >= 0 && (fl & O_NONBLOCK);
	}
	if (q->nonblock)
		r->hdr.flags |= UBW_WR_NONBLOCK;
}

/* One round: encode, exchange, validate the reply, take its descriptors,
 * deliver it. What the caller's memory receives is left in r->pc. */
static int write_read_round(struct ubt_thread *t, const struct ubt_session *s,
			    struct binder_write_read *bwr, unsigned int flags,
			    struct nonblock_query *q, struct wr_round *r)
{
	const struct ubw_write_read_reply *reply;
	enum ticket_outcome ticket = TICKET_NONE;
	int err;

	r->read_unwritable = false;
	r->rnfds = 0;
	r->npc = 0;
	r->data_piece = SIZE_MAX;
	r->retry = false;

	err = encode_request(t, s, bwr, flags, r);
	if (!err)
		ticket = ticket_claim(t, s, bwr, r, &err);
	if (ticket == TICKET_LOCAL)
		return 0;
	if (!err && ticket == TICKET_NONE)
		ask_nonblock(t, r, q);
	if (!err)
		err = exchange(t, r, ticket == TICKET_WAIT);
	if (!err) {
		err = validate_reply(t, bwr, r, &reply);
		if (!err) {
			err = reply->hdr.error;
			if (r->read_unwritable && err == 0)
				err = -EFAULT;
			err = take_fds(t, bwr, reply, r, err);
			deliver(t, bwr, reply, r, err);
		}
	}
	for (size_t i = 0; i < r->rnfds; i++) {
		if (r->rfds[i] >= 0)
			t->sys->close(r->rfds[i]);
	}
	return err;
}

static int write_read(struct ubt_thread *t, const struct ubt_session *s,
		      struct binder_write_read *bwr, unsigned int flags, uint64_t user_bwr,
		      int nonblock_fd)
{
	struct nonblock_query q = { .fd = nonblock_fd };
	struct binder_write_read again;
	struct wr_round r;
	int err;

	if (t->held.size)
		stage_release_held(t, false); /* before this write stages anything */
	if (t->ring_wanted) {
		t->ring_wanted = false;
		/* A forked child that inherited the connection before its first
		 * write-read is not its opener: the daemon would refuse the ring
		 * (EPERM) as it refuses the child's requests; it does not ask. */
		err = t->opener == getpid() ? ubt_ring_setup(t, s) : 0;
		if (err)
			return err;
	}
	err = write_read_round(t, s, bwr, flags, &q, &r);
	/* The daemon has consumed or refused the write: its staged bytes are done. */
	stage_release(t);

	/*
	 * Nothing but BR_NOOP is left: the kernel's read would wait on, with the
	 * write part done. What was read goes out first: the next round reuses
	 * t->rx.
	 */
	again = *bwr;
	while (r.retry && err == 0) {
		err = finish(s, r.pc, r.npc, r.data_piece, bwr, 0, err);
		r.npc = 0;
		r.data_piece = SIZE_MAX;
		if (err)
			break;
		again.write_size = again.write_consumed;
		err = write_read_round(t, s, &again, flags, &q, &r);
		bwr->read_consumed = again.read_consumed;
	}
	return finish(s, r.pc, r.npc, r.data_piece, bwr, user_bwr, err);
}

int ubt_write_read_flags(struct ubt_thread *t, const struct ubt_session *s,
			 struct binder_write_read *bwr, unsigned int flags)
{
	return write_read(t, s, bwr, flags, 0, -1);
}

int ubt_write_read_user(struct ubt_thread *t, const struct ubt_session *s, uint64_t user_bwr,
			int nonblock_fd)
{
	struct binder_write_read bwr;

	if (mem_read(s, &bwr, user_bwr, sizeof(bwr)))
		return -EFAULT;
	return write_read(t, s, &bwr, 0, user_bwr, nonblock_fd);
}

int ubt_flush(const struct ubt_session *s)
{
	struct ubw_flush f = { .hdr = { UBW_FLUSH, 0 } };
	struct iovec iov = { &f, sizeof(f) };

	return ubt_sock_send(s->sock, &iov, 1, NULL, 0);
}

/* --- other ioctls ----------------------------------------------------------- */

int ubt_ioctl(struct ubt_thread *t, const struct ubt_session *s, unsigned long cmd, void *arg)
{
	struct {
		struct ubw_ioctl io;
		uint8_t arg[64];
	} req = { 0 }, reply;
	size_t size = _IOC_SIZE(cmd);
	struct iovec iov = { &req, sizeof(req.io) + size };
	ssize_t n;
	int err;

	if (size > sizeof(req.arg))
		return -EINVAL;
	req.io.hdr.type = UBW_IOCTL;
	req.io.cmd = (uint32_t)cmd;
	req.io.size = (uint32_t)size;
	if (binder_ioctl_reads_arg((uint32_t)cmd) && size &&
	    mem_read(s, req.arg, (uintptr_t)arg, size))
		return binder_ioctl_fault_errno((uint32_t)cmd);
	err = ubt_chan_send(t, &iov, 1, NULL, 0);
	if (err)
		return err;
	n = ubt_chan_recv(t, &reply, sizeof(reply), NULL, NULL, false);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sizeof(reply.io) || reply.io.hdr.type != (UBW_IOCTL | UBW_REPLY))
		return -EPROTO;
	if (reply.io.hdr.error == 0 && (_IOC_DIR(cmd) & _IOC_READ) && reply.io.size == size &&
	    mem_write(s, (uintptr_t)arg, reply.arg, size))
		return binder_ioctl_fault_errno((uint32_t)cmd);
	return reply.io.hdr.error;
}

/* --- the region --------------------------------------------------------------- */

static int simple_request(struct ubt_thread *t, uint32_t type, uint64_t addr)
{
	struct ubw_mmap_done m = { .hdr = { type, 0 }, .addr = addr };
	struct iovec iov = { &m, sizeof(m) };
	struct ubw_header reply;
	ssize_t n;
	int err = ubt_chan_send(t, &iov, 1, NULL, 0);

	if (err)
		return err;
	n = ubt_chan_recv(t, &reply, sizeof(reply), NULL, NULL, false);
	if (n < 0)
		return (int)n;
	return reply.error;
}

/*
 * Sends @req (UBW_MMAP or UBW_OUTBOX, {addr, size}) and maps the memfd the
 * reply carries at @base (reserved by the caller) with @prot, shared and
 * fixed. Returns 0, or -errno: the daemon's answer, -EMFILE if we could not
 * take the descriptor, or mmap's error. The reservation stays the caller's.
 */
static int map_from_daemon(struct ubt_thread *t, const void *req, size_t req_size, void *base,
			   int prot)
{
	uint32_t type = ((const struct ubw_header *)req)->type;
	struct iovec iov = { (void *)req, req_size };
	struct ubw_mmap_reply reply;
	int fds[UBW_MAX_FDS];
	size_t nfds = 0;
	ssize_t n;
	int err;

	err = ubt_chan_send(t, &iov, 1, NULL, 0);
	if (err)
		return err;
	n = ubt_chan_recv(t, &reply, sizeof(reply), fds, &nfds, false);
	if (n < 0)
		return (int)n;
	if ((size_t)n != sizeof(reply) || reply.hdr.type != (type | UBW_REPLY))
		err = -EPROTO;
	else if (reply.hdr.error)
		err = reply.hdr.error;
	else if (nfds != 1)
		err = nfds ? -EPROTO : -EMFILE; /* none: we could not take it (RLIMIT_NOFILE) */
	else if (t->sys->mmap(base, reply.size, prot, MAP_SHARED | MAP_FIXED, fds[0], 0) ==
		 MAP_FAILED)
		err = -errno;
	for (size_t i = 0; i < nfds; i++)
		t->sys->close(fds[i]);
	return err;
}

int ubt_mmap(struct ubt_thread *t, void *hint, size_t length, bool fixed, void **addr)
{
	struct ubw_mmap req = { .hdr = { UBW_MMAP, 0 }, .size = length };
	void *base;
	int err;

	if (length == 0)
		return -EINVAL;
	/* Reserve the address range first: the daemon needs to know where it will be. */
	base = t->sys->mmap(hint, length, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (fixed ? MAP_FIXED : 0),
			    -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	req.addr = (uint64_t)(uintptr_t)base;
	err = map_from_daemon(t, &req, sizeof(req), base, PROT_READ);
	if (err) {
		/* As if it never happened (the daemon ignores it if it refused). */
		simple_request(t, UBW_MMAP_DONE, 0);
		if (!fixed)
			t->sys->munmap(base, length);
		return err;
	}
	/* The kernel's region is VM_DONTCOPY: a forked child inherits none of the
	 * mapping, not even the part beyond the region. */
	(void)madvise(base, length, MADV_DONTFORK);
	err = simple_request(t, UBW_MMAP_DONE, req.addr);
	if (err) {
		t->sys->munmap(base, length);
		return err;
	}
	*addr = base;
	return 0;
}

int ubt_outbox(struct ubt_thread *t, size_t size, uint64_t flags, void **addr)
{
	struct ubw_outbox req = { .hdr = { UBW_OUTBOX, 0 }, .size = size, .flags = flags };
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *base;
	int err;

	if (size == 0 || size % page || size > UBW_MAX_OUTBOX)
		return -EINVAL;
	base = t->sys->mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
			    0);
	if (base == MAP_FAILED)
		return -errno;
	req.addr = (uint64_t)(uintptr_t)base;
	err = map_from_daemon(t, &req, sizeof(req), base, PROT_READ | PROT_WRITE);
	if (err) {
		t->sys->munmap(base, size);
		return err;
	}
	/* Like the region, not the business of a forked child. */
	(void)madvise(base, size, MADV_DONTFORK);
	*addr = base;
	return 0;
}

int ubt_region_gone(struct ubt_thread *t, void *addr)
{
	return simple_request(t, UBW_MUNMAP, (uint64_t)(uintptr_t)addr);
}

int ubt_munmap(struct ubt_thread *t, void *addr, size_t length)
{
	int err = ubt_region_gone(t, addr);

	if (t->sys->munmap(addr, length) < 0 && !err)
		err = -errno;
	return err;
}
