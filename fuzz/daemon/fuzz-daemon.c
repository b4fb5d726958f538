/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the daemon end to end, in-process. A real struct daemon
 * (listener in a temporary directory, sessions, glue, assemblies, copier,
 * driver) serves client connections this process opens to it; the fuzz input
 * is a sequence of packets on them: HELLO and ATTACH with kept or damaged
 * tokens, BINDER_WRITE_READ with transactions (objects, descriptors, inline
 * segments), raw command streams and raw packets, ioctls, mmap and outbox,
 * flush, interrupt, admin requests, and closes. After each packet the loop
 * runs until it is idle, and the client side answers what a client must
 * (descriptor fix-ups) and remembers what it received (buffers to free,
 * references to acknowledge, deaths to confirm).
 *
 * The fuzzer is its own client, so the daemon could read its memory; each
 * process is made a push-mode one instead (as a client of another uid is),
 * so that the daemon reads nothing but what the packets carry and no
 * fuzz-chosen address is ever read. At the end every connection closes and
 * the daemon must be back to nothing: no process, thread, node, ref, death,
 * transaction, partial request, quota use or connection (aborts otherwise;
 * LeakSanitizer checks the memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/daemon.h"
#include "driver/entities.h"
#include "wire/binder_ioctl.h"
#include "wire/packet.h"
#include "wire/wire.h"

#define SESSIONS	 3
#define THREADS		 3 /* per session */
#define KEPT		 8 /* buffers, references, deaths each session remembers */
#define MAX_DATA	 512
#define MAX_OFFSETS	 8
#define REGION_BASE	 0x7e0000000000ull /* where session k "maps" its region */
#define REGION_STRIDE	 0x10000000ull
#define DATA_BASE	 0x100000000ull /* inline data of thread t's transactions */
#define DATA_STRIDE	 0x100000ull
#define OFFSETS_OFFSET	 0x10000ull
#define EXTRA_OFFSET	 0x20000ull /* a third segment, for BINDER_TYPE_PTR objects */
#define MAX_RECEIVED_FDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static size_t take_bytes(struct input *in, void *out, size_t n)
{
	n = n < in->left ? n : in->left;
	memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return n;
}

/* --- the client side ------------------------------------------------------------------ */

struct kept {
	uint64_t a[KEPT], b[KEPT];
	size_t n;
};

struct fz_session {
	int fd; /* -1: none */
	uint8_t token[UBW_TOKEN_SIZE];
	int threads[THREADS];
	struct kept buffers;		       /* delivered buffers (a: address) */
	struct kept increfs, acquires, deaths; /* BR_ asks: a: ptr, b: cookie */
};

static struct daemon D;
static char sock_path[108], dir_path[64];
static struct fz_session S[SESSIONS];
static int admin_fd = -1;
static struct {
	pid_t pid;
	int ctl;
} helpers[SESSIONS];
static int received[MAX_RECEIVED_FDS];
static size_t nreceived;

static void keep(struct kept *k, uint64_t a, uint64_t b)
{
	if (k->n == KEPT) {
		memmove(k->a, k->a + 1, (KEPT - 1) * sizeof(k->a[0]));
		memmove(k->b, k->b + 1, (KEPT - 1) * sizeof(k->b[0]));
		k->n--;
	}
	k->a[k->n] = a;
	k->b[k->n++] = b;
}

static void keep_fd(int fd)
{
	if (nreceived < MAX_RECEIVED_FDS)
		received[nreceived++] = fd;
	else
		close(fd);
}

/* Runs the loop as loop_run() does, until nothing is ready and no copy is out. */
static void pump(void)
{
	for (int rounds = 0, idle = 0; idle < 2 && rounds < 10000; rounds++) {
		struct epoll_event ev[64];
		bool copying = copier_busy(&D.copier) > 0;
		int n = epoll_wait(D.loop.epfd, ev, 64, copying ? 2 : 0);

		if (n <= 0) {
			idle += !copying;
			continue;
		}
		idle = 0;
		for (int i = 0; i < n; i++) {
			struct loop_source *src = ev[i].data.ptr;

			src->handle(src, ev[i].events);
			loop_settle(&D.loop);
		}
		for (size_t i = 0; i < D.loop.ngraveyard; i++)
			free(D.loop.graveyard[i]);
		D.loop.ngraveyard = 0;
	}
	/* Every process is one the daemon cannot read: it pushes every byte. */
	struct session *s;

	LIST_FOREACH(s, &D.sessions.list, entry) {
		s->id.can_read_memory = false;
		if (s->proc)
			((struct proc_identity *)proc_identity(s->proc))->can_read_memory = false;
	}
}

static int connect_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	memcpy(sa.sun_path, sock_path, sizeof(sock_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Session k's process: a child that connects for us and passes each
 * connection back. The daemon sees (SO_PEERCRED) another process per
 * session, as Binder processes are (the kernel refuses a call to the
 * context manager from the process that owns it: two sessions of one
 * process could never call each other through it). The child lives as long
 * as the fuzzer, so its sessions' pidfds stay quiet.
 */
static void helper_main(int ctl)
{
	char c;

	for (;;) {
		ssize_t n = read(ctl, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			break;
		int fd = connect_daemon();
		struct iovec iov = { &c, 1 };

		if (fd < 0) {
			if (write(ctl, &c, 1) != 1)
				break;
			continue;
		}
		if (ubw_send_packet(ctl, &iov, 1, &fd, 1, 0) < 0)
			break;
		close(fd);
	}
	_exit(0);
}

static void start_helpers(void)
{
	for (int k = 0; k < SESSIONS; k++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			abort();
		helpers[k].pid = fork();
		if (helpers[k].pid < 0)
			abort();
		if (helpers[k].pid == 0) {
			close(sv[0]);
			for (int j = 0; j < k; j++)
				close(helpers[j].ctl); /* each helper sees the fuzzer's end go */
			helper_main(sv[1]);
		}
		close(sv[1]);
		helpers[k].ctl = sv[0];
	}
}

/* A connection to the daemon made by session k's process. */
static int connect_as(int k)
{
	char c = 1;
	int fd = -1, flags = 0;
	size_t nfds = 0;
	ssize_t n;

	while ((n = write(helpers[k].ctl, &c, 1)) < 0 && errno == EINTR)
		;
	if (n == 1) {
		/* libFuzzer's timers interrupt blocking calls. */
		while ((n = ubw_recv_packet(helpers[k].ctl, &c, 1, &fd, 1, &nfds, 0, &flags)) < 0 &&
		       errno == EINTR)
			;
	}
	if (n != 1) {
		fprintf(stderr, "fuzz-daemon: helper %d: %s\n", k,
			n < 0 ? strerror(errno) : "gone");
		abort();
	}
	return nfds ? fd : -1;
}

static void send_packet(int fd, const void *p, size_t n, const int *fds, size_t nfds)
{
	struct iovec iov = { (void *)p, n };

	if (fd >= 0)
		ubw_send_packet(fd, &iov, 1, fds, nfds, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Remembers what a client must answer or may free from the BR_ stream @r. */
static void read_returns(struct fz_session *s, const uint8_t *r, size_t n)
{
	size_t pos = 0;

	while (pos + 4 <= n) {
		uint32_t cmd;
		size_t len;

		memcpy(&cmd, r + pos, 4);
		pos += 4;
		len = _IOC_SIZE(cmd);
		if (pos + len > n)
			break;
		if (cmd == BR_TRANSACTION || cmd == BR_REPLY || cmd == BR_TRANSACTION_SEC_CTX) {
			struct binder_transaction_data tr;

			memcpy(&tr, r + pos, sizeof(tr));
			keep(&s->buffers, tr.data.ptr.buffer, 0);
		} else if (cmd == BR_INCREFS || cmd == BR_ACQUIRE) {
			struct binder_ptr_cookie pc;

			memcpy(&pc, r + pos, sizeof(pc));
			keep(cmd == BR_INCREFS ? &s->increfs : &s->acquires, pc.ptr, pc.cookie);
		} else if (cmd == BR_DEAD_BINDER) {
			binder_uintptr_t cookie;

			memcpy(&cookie, r + pos, sizeof(cookie));
			keep(&s->deaths, cookie, 0);
		}
		pos += len;
	}
}

/* Receives everything waiting on @fd; answers descriptor fix-ups. True if anything came. */
static bool drain(struct fz_session *s, int fd, bool damage_fixups)
{
	static uint8_t buf[UBW_MAX_MESSAGE];
	bool any = false;

	for (;;) {
		int fds[UBW_MAX_FDS], flags = 0;
		size_t nfds = 0;
		ssize_t n = ubw_recv_packet(fd, buf, sizeof(buf), fds, UBW_MAX_FDS, &nfds,
					    MSG_DONTWAIT, &flags);
		const struct ubw_header *h = (const void *)buf;

		if (n <= 0)
			return any;
		any = true;
		for (size_t i = 0; i < nfds; i++)
			keep_fd(fds[i]);
		if (!s || (size_t)n < sizeof(*h) || h->type != (UBW_WRITE_READ | UBW_REPLY) ||
		    (size_t)n < sizeof(struct ubw_write_read_reply))
			continue;
		const struct ubw_write_read_reply *r = (const void *)buf;
		size_t body = (size_t)n - sizeof(*r);

		read_returns(s, (const uint8_t *)(r + 1), body);
		if (r->flags & UBW_WRR_FDS) {
			struct {
				struct ubw_fd_fixup f;
				int32_t numbers[UBW_MAX_FDS];
			} fx = { .f = { .hdr = { UBW_FD_FIXUP, 0 }, .nfds = r->nfds } };

			for (size_t i = 0; i < r->nfds && i < UBW_MAX_FDS; i++)
				fx.numbers[i] = i < nfds ? fds[i] : -1;
			if (damage_fixups && r->nfds)
				fx.numbers[0] = -1;
			send_packet(fd, &fx,
				    sizeof(fx.f) + (r->nfds < UBW_MAX_FDS ? r->nfds : 0) * 4, NULL,
				    0);
		}
	}
}

/* Pumps and drains until the daemon and the clients have nothing more to say. */
static void settle(bool damage_fixups)
{
	for (int i = 0; i < 50; i++) {
		bool any = false;

		pump();
		for (int k = 0; k < SESSIONS; k++) {
			if (S[k].fd >= 0)
				any |= drain(&S[k], S[k].fd, damage_fixups);
			for (int t = 0; t < THREADS; t++) {
				if (S[k].threads[t] >= 0)
					any |= drain(&S[k], S[k].threads[t], damage_fixups);
			}
		}
		if (admin_fd >= 0)
			any |= drain(NULL, admin_fd, false);
		if (!any)
			return;
	}
}

/* --- packets built from the input ---------------------------------------------------- */

struct wr {
	struct ubw_write_read h;
	uint8_t body[16384];
	size_t len;
	int fds[4];
	size_t nfds;
};

static void body_put(struct wr *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->body))
		n = sizeof(w->body) - w->len;
	memcpy(w->body + w->len, p, n);
	w->len += n;
}

static void body_pad(struct wr *w)
{
	static const uint8_t zero[8];

	body_put(w, zero, (8 - w->len % 8) % 8);
}

static void body_segment(struct wr *w, uint64_t addr, const void *p, size_t n)
{
	struct ubw_segment seg = { addr, n };

	body_put(w, &seg, sizeof(seg));
	body_put(w, p, n);
	body_pad(w);
	w->h.nsegments++;
}

/* A well-formed request: the write section, descriptors and segments, sizes that agree. */
static void wr_begin(struct wr *w, struct input *in, const void *write, size_t write_len)
{
	static const uint64_t read_sizes[] = { 0, 256, 4096, UBW_MAX_READ_SIZE };
	uint8_t mode = (uint8_t)take(in, 1);

	memset(&w->h, 0, sizeof(w->h));
	w->h.hdr.type = UBW_WRITE_READ;
	w->h.write_size = write_len;
	w->h.read_size = read_sizes[mode & 3];
	w->h.flags = (mode >> 2) & (UBW_WR_NONBLOCK | UBW_WR_HOLD_COMPLETE);
	w->h.write_len = (uint32_t)write_len;
	w->len = 0;
	w->nfds = 0;
	body_put(w, write, write_len);
	body_pad(w);
}

static void wr_send(struct wr *w, struct input *in, int fd)
{
	uint8_t packet[sizeof(w->h) + sizeof(w->body)];
	uint8_t lie = (uint8_t)take(in, 1);

	w->h.body_size = w->len;
	/* Now and then a field lies about the body. */
	switch (lie & 0x1f) {
	case 1:
		w->h.body_size = take(in, 4);
		break;
	case 2:
		w->h.nsegments = (uint32_t)take(in, 4);
		break;
	case 3:
		w->h.nfds = (uint32_t)take(in, 1);
		break;
	case 4:
		w->h.write_overrun = (uint32_t)take(in, 1);
		break;
	case 5:
		w->h.write_consumed = take(in, 2);
		break;
	case 6:
		w->h.read_consumed = take(in, 2);
		break;
	}
	memcpy(packet, &w->h, sizeof(w->h));
	memcpy(packet + sizeof(w->h), w->body, w->len);
	if ((lie & 0x60) == 0x60 && w->len > 16) {
		/* The body in two packets: the first, then UBW_WRITE_READ_MORE. */
		size_t first = sizeof(w->h) + w->len / 2;
		struct {
			struct ubw_write_read_more m;
			uint8_t rest[sizeof(w->body)];
		} more = { .m = { { UBW_WRITE_READ_MORE, 0 } } };

		send_packet(fd, packet, first, w->fds, w->nfds);
		memcpy(more.rest, packet + first, sizeof(w->h) + w->len - first);
		pump();
		send_packet(fd, &more, sizeof(more.m) + sizeof(w->h) + w->len - first, NULL, 0);
	} else {
		send_packet(fd, packet, sizeof(w->h) + w->len, w->fds, w->nfds);
	}
	for (size_t i = 0; i < w->nfds; i++)
		close(w->fds[i]);
}

/* An object at @at in @data, its kind and fields from the input. */
static void put_object(struct input *in, uint8_t *data, size_t at, uint64_t extra, const int *fds,
		       size_t nfds)
{
	uint8_t kind = (uint8_t)take(in, 1);

	switch (kind % 6) {
	case 0:
	case 1: {
		struct flat_binder_object o = { 0 };

		o.hdr.type = kind % 6 == 0 ? BINDER_TYPE_BINDER : BINDER_TYPE_WEAK_BINDER;
		o.flags = (uint32_t)take(in, 2);
		o.binder = 0x1000 + 0x10 * take(in, 1);
		o.cookie = take(in, 1);
		memcpy(data + at, &o, sizeof(o));
		break;
	}
	case 2:
	case 3: {
		struct flat_binder_object o = { 0 };

		o.hdr.type = kind % 6 == 2 ? BINDER_TYPE_HANDLE : BINDER_TYPE_WEAK_HANDLE;
		o.handle = (uint32_t)take(in, 1);
		memcpy(data + at, &o, sizeof(o));
		break;
	}
	case 4: {
		struct binder_fd_object o = { .hdr.type = BINDER_TYPE_FD };

		o.fd = nfds ? (uint32_t)fds[take(in, 1) % nfds] : (uint32_t)take(in, 1);
		memcpy(data + at, &o, sizeof(o));
		break;
	}
	default: {
		struct binder_buffer_object o = { .hdr.type = BINDER_TYPE_PTR };

		o.flags = (uint32_t)take(in, 1) & BINDER_BUFFER_FLAG_HAS_PARENT;
		o.buffer = extra + take(in, 1);
		o.length = take(in, 1);
		o.parent = take(in, 1) % 4;
		o.parent_offset = take(in, 1);
		memcpy(data + at, &o, sizeof(o));
		break;
	}
	}
}

/* BC_TRANSACTION, BC_REPLY or their _SG forms, with objects, descriptors and segments. */
static void send_transaction(struct input *in, int k, int t)
{
	static const uint32_t cmds[] = { BC_TRANSACTION, BC_REPLY, BC_TRANSACTION_SG, BC_REPLY_SG };
	uint8_t data[MAX_DATA] = { 0 }, extra[256];
	binder_size_t offsets[MAX_OFFSETS];
	uint64_t base = DATA_BASE + (uint64_t)(k * THREADS + t) * DATA_STRIDE;
	uint8_t cmd[4 + sizeof(struct binder_transaction_data_sg)];
	struct binder_transaction_data_sg sg = { 0 };
	uint32_t code = cmds[take(in, 1) % 4];
	size_t data_size = take(in, 2) % (MAX_DATA + 1), noffsets = take(in, 1) % (MAX_OFFSETS + 1);
	size_t nextra = take(in, 1);
	struct wr *w = malloc(sizeof(*w));
	int fds[2];
	size_t nfds = take(in, 1) % 3;

	if (!w)
		return;
	for (size_t i = 0; i < nfds; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sg.transaction_data.target.handle = (uint32_t)take(in, 1);
	sg.transaction_data.code = (uint32_t)take(in, 4);
	sg.transaction_data.flags = (uint32_t)take(in, 2);
	take_bytes(in, data, data_size);
	for (size_t i = 0; i < noffsets; i++) {
		offsets[i] = (take(in, 2) % (MAX_DATA / 8)) * 8;
		if (offsets[i] + sizeof(struct flat_binder_object) <= data_size)
			put_object(in, data, offsets[i], base + EXTRA_OFFSET, fds, nfds);
	}
	nextra = take_bytes(in, extra, nextra);
	sg.transaction_data.data_size = data_size;
	sg.transaction_data.offsets_size = noffsets * sizeof(binder_size_t);
	sg.transaction_data.data.ptr.buffer = base;
	sg.transaction_data.data.ptr.offsets = base + OFFSETS_OFFSET;
	sg.buffers_size = (take(in, 1) % 64) * 8;
	memcpy(cmd, &code, 4);
	memcpy(cmd + 4, &sg, _IOC_SIZE(code));

	wr_begin(w, in, cmd, 4 + _IOC_SIZE(code));
	w->h.nfds = (uint32_t)nfds;
	for (size_t i = 0; i < nfds; i++) {
		int32_t number = fds[i];

		body_put(w, &number, sizeof(number));
		w->fds[w->nfds++] = fds[i];
	}
	body_pad(w);
	body_segment(w, base, data, data_size);
	body_segment(w, base + OFFSETS_OFFSET, offsets, noffsets * sizeof(binder_size_t));
	if (nextra)
		body_segment(w, base + EXTRA_OFFSET, extra, nextra);
	wr_send(w, in, S[k].threads[t]);
	free(w);
}

/* Appends command @code with @size bytes of arguments (@a, then @b) at @len; the new length. */
static size_t put_cmd(uint8_t *buf, size_t len, uint32_t code, uint64_t a, uint64_t b, size_t size)
{
	memcpy(buf + len, &code, 4);
	memcpy(buf + len + 4, &a, 8);
	if (size > 8)
		memcpy(buf + len + 12, &b, 8);
	return len + 4 + size;
}

/* Answers what the session was asked: acknowledgements, death confirmations, frees. */
static void send_answers(struct input *in, int k, int t)
{
	struct fz_session *s = &S[k];
	uint8_t cmds[KEPT * 4 * 20];
	size_t len = 0;
	uint32_t pick = (uint32_t)take(in, 1);

	for (size_t i = 0; i < s->increfs.n; i++)
		len = put_cmd(cmds, len, BC_INCREFS_DONE, s->increfs.a[i], s->increfs.b[i], 16);
	for (size_t i = 0; i < s->acquires.n; i++)
		len = put_cmd(cmds, len, BC_ACQUIRE_DONE, s->acquires.a[i], s->acquires.b[i], 16);
	for (size_t i = 0; i < s->deaths.n; i++)
		len = put_cmd(cmds, len, BC_DEAD_BINDER_DONE, s->deaths.a[i], 0, 8);
	/* Now and then one buffer is freed twice. */
	for (size_t i = 0; i < s->buffers.n; i++)
		len = put_cmd(cmds, len, BC_FREE_BUFFER, s->buffers.a[(pick & 1) ? 0 : i], 0, 8);
	s->increfs.n = s->acquires.n = s->deaths.n = s->buffers.n = 0;
	struct wr *w = malloc(sizeof(*w));

	if (!w)
		return;
	wr_begin(w, in, cmds, len);
	wr_send(w, in, s->threads[t]);
	free(w);
}

/* A raw command stream (BC_ codes and arguments straight from the input). */
static void send_commands(struct input *in, int k, int t)
{
	uint8_t cmds[256];
	size_t len = take_bytes(in, cmds, take(in, 1));
	struct wr *w = malloc(sizeof(*w));

	if (!w)
		return;
	/* Handles and pointers a session may have: the first commands often name them. */
	if (len >= 12 && S[k].buffers.n && (cmds[0] & 1)) {
		uint32_t code = BC_FREE_BUFFER;

		memcpy(cmds, &code, 4);
		memcpy(cmds + 4, &S[k].buffers.a[0], 8);
	}
	wr_begin(w, in, cmds, len);
	wr_send(w, in, S[k].threads[t]);
	free(w);
}

static void send_ioctl(struct input *in, int fd)
{
	/* Beside the known requests, two the kernel had once, and any number. */
	static const uint32_t legacy[] = { BINDER_SET_IDLE_TIMEOUT, BINDER_SET_IDLE_PRIORITY };
	struct {
		struct ubw_ioctl io;
		uint8_t arg[64];
	} p = { .io = { .hdr = { UBW_IOCTL, 0 } } };
	uint8_t pick = (uint8_t)take(in, 1);

	p.io.cmd = pick < 0xe0	 ? binder_ioctl_pick(pick)
		   : pick < 0xf0 ? legacy[pick & 1]
				 : (uint32_t)take(in, 4);
	p.io.size = _IOC_SIZE(p.io.cmd);
	if (p.io.size > sizeof(p.arg))
		p.io.size = sizeof(p.arg);
	take_bytes(in, p.arg, p.io.size);
	/* BINDER_FREEZE names a pid: ours, usually. */
	if (p.io.cmd == BINDER_FREEZE && (pick & 1)) {
		uint32_t pid = (uint32_t)helpers[(pick >> 1) % SESSIONS].pid;

		memcpy(p.arg, &pid, sizeof(pid));
	}
	send_packet(fd, &p, sizeof(p.io) + p.io.size, NULL, 0);
}

static void open_session(struct input *in, int k)
{
	struct ubw_hello hello = { .hdr = { UBW_HELLO, 0 },
				   .magic = UBW_MAGIC,
				   .version = UBW_PROTOCOL_VERSION };
	struct ubw_hello_reply r;
	uint8_t flags = (uint8_t)take(in, 1);

	if (S[k].fd >= 0)
		return;
	S[k].fd = connect_as(k);
	hello.flags = flags & UBW_HELLO_WANT_POLL_FD;
	if (flags & 0x80)
		hello.version = (uint32_t)take(in, 4);
	pump();
	send_packet(S[k].fd, &hello, sizeof(hello), NULL, 0);
	pump();
	memset(S[k].token, 0, sizeof(S[k].token));
	if (recv(S[k].fd, &r, sizeof(r), MSG_DONTWAIT) == sizeof(r) && !r.hdr.error)
		memcpy(S[k].token, r.token, sizeof(r.token));
	drain(&S[k], S[k].fd, false); /* the poll descriptor, if it came */
}

static void attach_thread(struct input *in, int k, int t)
{
	struct ubw_attach a = { .hdr = { UBW_ATTACH, 0 },
				.magic = UBW_MAGIC,
				.version = UBW_PROTOCOL_VERSION,
				.tid = (uint32_t)gettid() };
	uint8_t how = (uint8_t)take(in, 1);

	if (S[k].threads[t] >= 0)
		return;
	memcpy(a.token, S[(k + (how & 3) / 3) % SESSIONS].token, sizeof(a.token));
	if (how & 0x80)
		a.token[how % UBW_TOKEN_SIZE] ^= 1; /* a forged token */
	S[k].threads[t] = connect_as(k);
	pump();
	send_packet(S[k].threads[t], &a, sizeof(a), NULL, 0);
}

static void send_mapping(struct input *in, int k, int fd)
{
	static const uint64_t sizes[] = { 0, 4096, 1 << 20, 4 << 20, 8 << 20 };
	uint8_t what = (uint8_t)take(in, 1);
	uint64_t addr = REGION_BASE + (uint64_t)k * REGION_STRIDE;

	switch (what % 4) {
	case 0: {
		struct ubw_mmap m = { { UBW_MMAP, 0 }, addr, sizes[(what >> 2) % 5] };

		send_packet(fd, &m, sizeof(m), NULL, 0);
		break;
	}
	case 1:
	case 2: {
		struct ubw_mmap_done m = { { what % 4 == 1 ? UBW_MMAP_DONE : UBW_MUNMAP, 0 },
					   addr };

		send_packet(fd, &m, sizeof(m), NULL, 0);
		break;
	}
	default: {
		struct ubw_outbox o = { { UBW_OUTBOX, 0 },
					addr + (REGION_STRIDE / 2),
					sizes[(what >> 2) % 4] };

		send_packet(fd, &o, sizeof(o), NULL, 0);
		break;
	}
	}
}

static void send_admin(struct input *in)
{
	struct ubw_admin_hello hello = { { UBW_ADMIN, 0 }, UBW_MAGIC, UBW_PROTOCOL_VERSION };
	struct ubw_admin_request r = { .hdr = { UBW_ADMIN_REQUEST, 0 } };
	uint8_t op = (uint8_t)take(in, 1);

	if (admin_fd < 0) {
		admin_fd = connect_daemon();
		pump();
		send_packet(admin_fd, &hello, sizeof(hello), NULL, 0);
	}
	/* State, stats, one process, transactions, shrink: no fault injection. */
	r.op = 1 + op % 5;
	r.arg = r.op == UBW_ADMIN_PROC ? helpers[op % SESSIONS].pid
		: (op & 0x80)	       ? -1
				       : (int64_t)take(in, 1);
	send_packet(admin_fd, &r, sizeof(r), NULL, 0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* One step of the input; false when it is used up. */
static bool step(struct input *in)
{
	uint8_t op, where;
	int k, t, *thread;

	if (!in->left)
		return false;
	op = (uint8_t)take(in, 1);
	where = (uint8_t)take(in, 1);
	k = where % SESSIONS;
	t = (where / SESSIONS) % THREADS;
	thread = &S[k].threads[t];
	switch (op % 16) {
	case 0:
		open_session(in, k);
		break;
	case 1:
		attach_thread(in, k, t);
		break;
	case 2:
	case 3:
	case 4:
		send_transaction(in, k, t);
		break;
	case 5:
		send_answers(in, k, t);
		break;
	case 6:
		send_commands(in, k, t);
		break;
	case 7:
	case 8:
		send_ioctl(in, *thread);
		break;
	case 9:
		send_mapping(in, k, *thread);
		break;
	case 10: {
		struct ubw_header h = { (where & 0x80) ? UBW_FLUSH : UBW_INTERRUPT, 0 };

		send_packet((where & 0x80) ? S[k].fd : *thread, &h, sizeof(h), NULL, 0);
		break;
	}
	case 11: {
		/* A raw packet: any type, any length. */
		uint8_t raw[512];
		size_t n = take_bytes(in, raw, take(in, 2) % sizeof(raw));

		send_packet((where & 0x80) ? S[k].fd : *thread, raw, n, NULL, 0);
		break;
	}
	case 12:
		send_admin(in);
		break;
	case 13:
		close_fd(thread); /* a thread goes */
		break;
	case 14:
		if (where & 0x80) {
			/* The process goes: its session and every thread. */
			close_fd(&S[k].fd);
			for (int i = 0; i < THREADS; i++)
				close_fd(&S[k].threads[i]);
			memset(&S[k].buffers, 0, sizeof(S[k].buffers));
		} else {
			close_fd(&S[k].fd);
		}
		break;
	default:
		pump(); /* time passes */
		break;
	}
	settle(op & 0x80);
	return true;
}

/* --- setup and the final check --------------------------------------------------------- */

static void remove_socket_dir(void)
{
	unlink(sock_path);
	rmdir(dir_path);
}

static void daemon_once(void)
{
	static bool ready;
	struct daemon_config cfg;

	if (ready)
		return;
	snprintf(dir_path, sizeof(dir_path), "/tmp/ubinder-fuzz-XXXXXX");
	if (!mkdtemp(dir_path))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/binder", dir_path);
	start_helpers(); /* before the daemon has threads */
	char *argv[] = { "ubinderd", "--socket",
			 sock_path,  "--log-level",
			 "error",    "--max-region",
			 "1M",	     "--max-threads",
			 "4",	     "--copy-workers",
			 "2",	     "--partial-timeout",
			 "2000",     NULL };

	if (config_parse(&cfg, sizeof(argv) / sizeof(argv[0]) - 1, argv) != 0 ||
	    daemon_init(&D, &cfg) < 0)
		abort();
	atexit(remove_socket_dir);
	ready = true;
}

#define SAME(a, b) check_pair(#a, (a), (b))

static bool leaked;

static void check_pair(const char *what, uint64_t created, uint64_t deleted)
{
	if (created != deleted) {
		fprintf(stderr, "leak: %s: %llu created, %llu deleted\n", what,
			(unsigned long long)created, (unsigned long long)deleted);
		leaked = true;
	}
}

static void check_nothing_left(void)
{
	const struct driver_stats *s = &D.drv->stats;

	SAME(s->procs_created, s->procs_deleted);
	SAME(s->threads_created, s->threads_deleted);
	SAME(s->nodes_created, s->nodes_deleted);
	SAME(s->refs_created, s->refs_deleted);
	SAME(s->deaths_created, s->deaths_deleted);
	SAME(s->transactions_created, s->transactions_deleted);
	SAME(D.assemblies.bytes, 0);
	SAME(D.assemblies.fds, 0);
	SAME(!LIST_EMPTY(&D.sessions.list), 0);
	SAME(!LIST_EMPTY(&D.hub.conns), 0);
	SAME(!TAILQ_EMPTY(&D.assemblies.list), 0);
	SAME(D.quotas.by_uid != NULL, 0);
	SAME(copier_busy(&D.copier), 0);
	if (leaked)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	daemon_once();
	log_threshold = getenv("UBINDER_FUZZ_DUMP") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR;
	for (int k = 0; k < SESSIONS; k++) {
		memset(&S[k], 0, sizeof(S[k]));
		S[k].fd = -1;
		for (int t = 0; t < THREADS; t++)
			S[k].threads[t] = -1;
	}
	for (int steps = 0; steps < 64 && step(&in); steps++)
		;
	for (int k = 0; k < SESSIONS; k++) {
		close_fd(&S[k].fd);
		for (int t = 0; t < THREADS; t++)
			close_fd(&S[k].threads[t]);
	}
	close_fd(&admin_fd);
	for (size_t i = 0; i < nreceived; i++)
		close(received[i]);
	nreceived = 0;
	/*
	 * Closes are seen in the loop; copies still out come back first. A
	 * helper may still hold its copy of the last connection it passed for
	 * a moment: the wait is bounded in time (2 s), not in rounds.
	 */
	for (int i = 0; i < 2000; i++) {
		pump();
		if (LIST_EMPTY(&D.sessions.list) && LIST_EMPTY(&D.hub.conns) &&
		    !copier_busy(&D.copier))
			break;
		usleep(1000);
	}
	/* For writing seeds: what the input made the daemon do. */
	if (getenv("UBINDER_FUZZ_DUMP"))
		driver_dump_stats(D.drv, stderr);
	check_nothing_left();
	return 0;
}
