/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/conn_ring.h"
#include "daemon/glue.h"
#include "driver/fetch.h"
#include "wire/decode.h"
#include "wire/ticket.h"

/*
 * Whether a request that claimed its ring's ticket is the plain reply the
 * promise covers, on the daemon's own copy (the client's word counts for
 * nothing): the header and the commands (wire/ticket.h) for the limit
 * offered, and the reply's data carried inline or in the outbox, so that
 * no copy can fault.
 */
static bool ticket_write_covered(const struct conn *conn, const struct ubw_write_read *hdr,
				 const struct ubw_decoded_write_read *dec,
				 const struct mem_segment *segs, size_t nsegs)
{
	uint64_t data, data_size;

	return ubw_ticket_request(hdr) && dec->write_len == hdr->write_len &&
	       ubw_ticket_write(dec->write, dec->write_len, conn->offered_limit, &data,
				&data_size) &&
	       (data_size == 0 || mem_segments_find(segs, nsegs, data, data_size) ||
		driver_outbox_holds(conn->thread, data, data_size));
}

/* Decodes a complete body and hands the request to the driver; a @claimed
 * ticket's write runs as the promised one when it is what was promised. */
static void write_read_dispatch(struct glue *g, struct conn *conn, const struct ubw_write_read *hdr,
				const uint8_t *body, const int *fds, size_t nfds, bool claimed)
{
	struct mem_segment stack_segs[16];
	struct mem_segment *segs = stack_segs;
	struct ubw_decoded_write_read dec;
	struct bwr_request req = { 0 };
	int nsegs;

	if (ubw_decode_write_read(hdr, body, nfds, &dec))
		goto bad;
	if (dec.nsegments > sizeof(stack_segs) / sizeof(stack_segs[0])) {
		segs = calloc(dec.nsegments, sizeof(*segs));
		if (!segs)
			goto bad;
	}
	nsegs = ubw_decode_segments(hdr, body, segs, dec.nsegments);
	if (nsegs < 0)
		goto bad;
	nsegs = (int)mem_segments_index(segs, (size_t)nsegs); /* lookups in O(log n) */
	req.write = dec.write;
	req.write_len = dec.write_len;
	req.write_overrun = dec.write_overrun;
	req.sender_fds = dec.sender_fds;
	req.write_size = hdr->write_size;
	req.write_consumed = hdr->write_consumed;
	req.read_size = hdr->read_size;
	req.read_consumed = hdr->read_consumed;
	req.nonblock = hdr->flags & UBW_WR_NONBLOCK;
	req.hold_complete = hdr->flags & UBW_WR_HOLD_COMPLETE;
	req.segments = segs;
	req.nsegments = (size_t)nsegs;
	req.fds = fds;
	req.nfds = nfds;
	conn->wants_offer = hdr->flags & UBW_WR_OFFER;
	if (claimed) {
		if (ticket_write_covered(conn, hdr, &dec, segs, (size_t)nsegs)) {
			req.promised = true;
			conn->honouring = true; /* write_read_done sends nothing */
			conn->honour_write_size = hdr->write_size;
		} else {
			g->ticket_writes_refused++;
			driver_promise_cancel(conn->thread);
		}
	}
	driver_write_read(conn->thread, &req);
	if (segs != stack_segs)
		free(segs);
	return;
bad:
	if (segs != stack_segs)
		free(segs);
	close_fds(fds, nfds);
	if (claimed)
		driver_promise_cancel(conn->thread);
	conn_protocol_error(conn, "malformed UBW_WRITE_READ body");
}

/* The outcome of a request that never reached the driver: nothing consumed. */
static void write_read_fail(struct conn *conn, const struct ubw_write_read *hdr, int error)
{
	struct ubw_write_read_reply reply = {
		.hdr = { .type = UBW_WRITE_READ | UBW_REPLY, .error = error },
		.write_consumed = hdr->write_consumed,
		.read_consumed = hdr->read_consumed,
	};
	struct iovec iov = { &reply, sizeof(reply) };

	conn_send(conn, &iov, 1, NULL, 0);
}

/* A UBW_WRITE_READ packet from @sender; takes ownership of @fds. Refused with @refuse. */
static void write_read_packet(struct glue *g, struct conn *conn, const struct ubw_write_read *hdr,
			      size_t len, const int *fds, size_t nfds, pid_t sender, int refuse,
			      bool claimed)
{
	const uint8_t *body = (const uint8_t *)(hdr + 1);
	size_t have = len - sizeof(*hdr);

	/* A claim is honoured only for a whole request of the opener's. */
	if (claimed && (refuse || have != hdr->body_size || conn->assembly)) {
		g->ticket_writes_refused++;
		driver_promise_cancel(conn->thread);
		claimed = false;
	}

	if (conn->assembly || hdr->body_size > sessions_max_body(g->sessions) ||
	    have > hdr->body_size) {
		close_fds(fds, nfds);
		conn_protocol_error(conn, "UBW_WRITE_READ out of sequence or too large");
		return;
	}
	if (have == hdr->body_size) {
		if (refuse) {
			close_fds(fds, nfds);
			write_read_fail(conn, hdr, refuse);
		} else {
			write_read_dispatch(g, conn, hdr, body, fds, nfds, claimed);
		}
		return;
	}
	if (assembly_start(g->assemblies, conn, hdr, body, have, fds, nfds, sender, refuse) < 0)
		conn_protocol_error(conn, "out of memory for a large request");
}

static void write_read_more(struct glue *g, struct conn *conn, const uint8_t *body, size_t len)
{
	struct assembly *a = assembly_continue(g->assemblies, conn, body, len);

	if (!a)
		return;
	if (!a->body) {
		write_read_fail(conn, &a->hdr, a->error);
	} else {
		write_read_dispatch(g, conn, &a->hdr, a->body, a->fds, a->nfds, false);
		a->nfds = 0; /* the driver's now */
	}
	assembly_free(g->assemblies, a);
}

static struct conn *endpoint_conn(struct endpoint *ep)
{
	return (struct conn *)((char *)ep - offsetof(struct conn, endpoint));
}

/*
 * An answer after which the thread's next request is most likely a pure
 * read, which may then come lazily: a read that returned with a completion
 * last (a BC_REPLY's, or a one-way call's: the looper's read for work
 * follows), or a request that read nothing (a call written alone: the read
 * for its reply follows, as hand-written clients may do).
 */
static bool pure_read_likely_next(const struct bwr_result *r)
{
	uint32_t last;

	if (r->error)
		return false;
	if (r->read_len == 0)
		return true;
	if (r->read_len < sizeof(last))
		return false;
	memcpy(&last, r->read + r->read_len - sizeof(last), sizeof(last));
	return last == BR_TRANSACTION_COMPLETE;
}

/* The outcome the client of a claimed ticket has already returned. */
static bool is_local_completion(const struct bwr_result *r, uint64_t write_size)
{
	static const uint32_t promised[2] = { BR_NOOP, BR_TRANSACTION_COMPLETE };

	return r->error == 0 && r->write_consumed == write_size &&
	       r->read_len == sizeof(promised) &&
	       memcmp(r->read, promised, sizeof(promised)) == 0 && r->nfds == 0 && r->nclose == 0 &&
	       !r->spawn_looper_at_start;
}

/*
 * A claimed ticket's write ran: the client returned [BR_NOOP,
 * BR_TRANSACTION_COMPLETE] already, so nothing is sent. Any other outcome
 * would mean the promise was wrong: counted and logged (tests assert none).
 */
static void ticket_write_done(struct glue *g, struct conn *conn, const struct bwr_result *r)
{
	conn->honouring = false;
	if (is_local_completion(r, conn->honour_write_size)) {
		g->local_completions++;
	} else {
		g->local_completions_broken++;
		log_limited(LOG_LEVEL_WARNING,
			    "pid %d: thread %d: a promised reply ended otherwise (error %d, "
			    "%zu bytes read): the client was told it completed",
			    conn->cred.pid, conn->tid, r->error, r->read_len);
	}
	if (conn->ring && conn->thread && driver_thread_read_would_wait(conn->thread))
		conn_ring_arm_lazy(conn);
}

static void write_read_done(struct endpoint *ep, const struct bwr_result *r)
{
	static const uint8_t zeros[UBW_ALIGN];
	struct conn *conn = endpoint_conn(ep);
	struct ubw_write_read_reply reply = {
		.hdr = { .type = UBW_WRITE_READ | UBW_REPLY, .error = r->error },
		.write_consumed = r->write_consumed,
		.read_consumed = r->read_consumed,
		.nfds = (uint32_t)r->nfds,
		.nclose = (uint32_t)r->nclose,
	};
	struct iovec iov[4];
	int n = 0;

	if (conn->honouring)
		return ticket_write_done(conn->role->env, conn, r);
	if (r->nfds)
		reply.flags |= UBW_WRR_FDS;
	if (r->spawn_looper_at_start)
		reply.flags |= UBW_WRR_SPAWN_LOOPER_AT_0;
	iov[n++] = (struct iovec){ &reply, sizeof(reply) };
	if (r->read_len) {
		iov[n++] = (struct iovec){ (void *)r->read, r->read_len };
		if (UBW_ALIGN_UP(r->read_len) != r->read_len)
			iov[n++] = (struct iovec){ (void *)zeros,
						   UBW_ALIGN_UP(r->read_len) - r->read_len };
	}
	if (r->nclose)
		iov[n++] = (struct iovec){ (void *)r->close_fds, r->nclose * sizeof(int32_t) };
	conn_send(conn, iov, n, r->fds, r->nfds);
	if (conn->ring && pure_read_likely_next(r) && conn->thread &&
	    driver_thread_read_would_wait(conn->thread))
		conn_ring_arm_lazy(conn);
	if (conn->wants_offer && conn->ring && r->error == 0)
		conn_ring_want_offer(conn);
}

static void conn_ioctl_done(struct conn *conn, int error, const void *arg, size_t size)
{
	struct ubw_ioctl reply = { .hdr = { .type = UBW_IOCTL | UBW_REPLY, .error = error } };
	struct iovec iov[2] = { { &reply, sizeof(reply) }, { (void *)arg, size } };

	reply.size = (uint32_t)size;
	conn_send(conn, iov, size ? 2 : 1, NULL, 0);
}

static void glue_ioctl(struct conn *conn, const struct ubw_ioctl *io)
{
	if (io->cmd == BINDER_THREAD_EXIT) {
		driver_thread_detach(conn->thread);
		/* The same client thread may come back: the kernel makes it a new thread. */
		(void)session_new_thread(conn);
		conn_ioctl_done(conn, 0, io + 1, io->size);
		if (!conn->thread)
			conn_defer_close(conn);
		return;
	}
	driver_ioctl(conn->thread, io->cmd, io + 1, io->size);
}

/* Sends @reply with the descriptor @fd (none if negative), then closes @fd. */
static void send_mmap_reply(struct conn *conn, struct ubw_mmap_reply *reply, int fd)
{
	struct iovec iov = { reply, sizeof(*reply) };

	conn_send(conn, &iov, 1, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
}

static void glue_mmap(struct conn *conn, const struct ubw_mmap *m)
{
	struct ubw_mmap_reply reply = { .hdr = { .type = UBW_MMAP | UBW_REPLY } };
	uint64_t mapped = 0;
	int fd = -1;

	reply.hdr.error = driver_mmap(conn->thread, m->addr, m->size, &fd, &mapped);
	reply.size = mapped;
	send_mmap_reply(conn, &reply, fd);
}

static void glue_outbox(struct conn *conn, const struct ubw_outbox *o)
{
	struct ubw_mmap_reply reply = { .hdr = { .type = UBW_OUTBOX | UBW_REPLY } };
	int fd = -1;

	/* Flags this daemon does not know are refused: a client asking for a
	 * later one learns that it is not there instead of going without it. */
	if (o->flags & ~(uint64_t)UBW_OUTBOX_PAGE_STATES)
		reply.hdr.error = -EINVAL;
	else
		reply.hdr.error = driver_outbox(conn->thread, o->addr, o->size,
						(o->flags & UBW_OUTBOX_PAGE_STATES) != 0, &fd);
	reply.size = reply.hdr.error ? 0 : o->size;
	send_mmap_reply(conn, &reply, fd);
}

/* A fetch job on a copy worker. */
struct fetch_task {
	struct copier_task task;
	struct fetch_job *job;
	struct glue *glue;
};

static void fetch_task_run(struct copier_task *task)
{
	struct fetch_task *ft = (struct fetch_task *)task;

	fetch_job_run(ft->job, true);
}

static void fetch_task_done(struct copier_task *task)
{
	struct fetch_task *ft = (struct fetch_task *)task;

	driver_fetch_done(ft->glue->drv, ft->job);
	free(ft);
}

/*
 * The sender's copies waited past the deadline behind its own stalled ones:
 * the copy fails as a copy_from_user of memory that cannot be read, here on
 * the loop from what the request carried.
 */
static void fetch_task_expired(struct copier_task *task)
{
	struct fetch_task *ft = (struct fetch_task *)task;

	ft->job->may_readv = false;
	fetch_job_run(ft->job, true);
	fetch_task_done(task);
}

static int fetch_start(void *glue, struct fetch_job *job)
{
	struct glue *g = glue;
	struct fetch_task *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return -ENOMEM;
	ft->task.run = fetch_task_run;
	ft->task.done = fetch_task_done;
	ft->task.expired = fetch_task_expired;
	ft->task.owner_key = (uint64_t)job->pid;
	ft->task.group_key = (uint64_t)job->uid;
	ft->job = job;
	ft->glue = g;
	copier_submit(g->copier, &ft->task);
	return 0;
}

static void ioctl_done(struct endpoint *ep, int error, const void *arg, size_t size)
{
	conn_ioctl_done(endpoint_conn(ep), error, arg, size);
}

static void take_lazy_reads(void *daemon)
{
	struct glue *g = daemon;

	conn_hub_take_lazy_reads(g->hub);
}

/* How a thread connection answers the driver. */
static const struct endpoint_ops thread_endpoint_ops = {
	.write_read_done = write_read_done,
	.ioctl_done = ioctl_done,
};

const struct driver_ops glue_driver_ops = {
	.write_read_done = endpoint_write_read_done,
	.ioctl_done = endpoint_ioctl_done,
	.fetch_start = fetch_start,
	.poll_changed = endpoint_poll_changed,
	.take_lazy_reads = take_lazy_reads,
};

static void session_open(void *env, struct conn *conn, const void *msg, struct conn_rx *rx)
{
	struct glue *g = env;

	(void)rx; /* a session connection never makes the daemon read memory */
	session_hello(g->sessions, conn, msg);
}

static void session_packet(void *env, struct conn *conn, const uint8_t *msg, size_t len,
			   struct conn_rx *rx)
{
	(void)env;
	(void)len;
	(void)rx;
	/* The device was closed: threads waiting in a read return (binder_flush). */
	if (((const struct ubw_header *)msg)->type == UBW_FLUSH && conn->session &&
	    conn->session->proc)
		driver_proc_flush(conn->session->proc);
	else
		conn_protocol_error(conn, "message on a session connection");
}

static void session_closed(void *env, struct conn *conn)
{
	struct glue *g = env;

	session_conn_closed(g->sessions, conn);
}

/*
 * Who sent a packet on a thread connection: the process that opened the
 * connection, or another that holds it now (inherited through fork, or
 * passed with SCM_RIGHTS). A thread's requests make the daemon read the
 * sender's memory from the opener, so another process's requests are
 * answered with -EPERM and never run; it attaches a thread connection of
 * its own instead. 0 when the kernel said nothing (then refused as well).
 */
static pid_t packet_sender(const struct conn_rx *rx)
{
	return rx->has_sender ? rx->sender.pid : 0;
}

static bool from_opener(const struct conn *conn, pid_t sender)
{
	return sender != 0 && sender == conn->cred.pid;
}

static void note_foreign(struct glue *g, const struct conn *conn, pid_t sender)
{
	g->foreign_refused++;
	log_limited(LOG_LEVEL_NOTICE,
		    "pid %d: a thread request from pid %d, not the connection's opener: "
		    "refused (EPERM)",
		    conn->cred.pid, sender);
}

static void thread_open(void *env, struct conn *conn, const void *msg, struct conn_rx *rx)
{
	struct glue *g = env;
	pid_t sender = packet_sender(rx);

	if (!from_opener(conn, sender)) {
		struct ubw_attach_reply r = { .hdr = { UBW_ATTACH | UBW_REPLY, -EPERM } };
		struct iovec iov = { &r, sizeof(r) };

		note_foreign(g, conn, sender);
		conn_send(conn, &iov, 1, NULL, 0);
		conn_defer_close(conn);
		return;
	}
	conn->endpoint.ops = &thread_endpoint_ops;
	session_attach(g->sessions, conn, msg);
}

/* UBW_MMAP_DONE and UBW_MUNMAP. */
static void mapping_changed(struct conn *conn, uint32_t type, const struct ubw_mmap_done *m)
{
	int err = type == UBW_MMAP_DONE ? driver_mmap_done(conn->thread, m->addr)
					: driver_munmap(conn->thread, m->addr);

	conn_reply_header(conn, type, err);
}

static void fd_fixup(struct conn *conn, const struct ubw_fd_fixup *f)
{
	struct ubw_fd_fixup_reply r = { .hdr = { UBW_FD_FIXUP | UBW_REPLY, 0 } };
	struct iovec iov = { &r, sizeof(r) };

	r.hdr.error =
		driver_fd_fixup(conn->thread, (const int32_t *)(f + 1), f->nfds, &r.replacement);
	conn_send(conn, &iov, 1, NULL, 0);
}

/* The answer a request gets without being run: @error in its reply's format. */
static void refuse_request(struct conn *conn, const struct ubw_header *h, int error)
{
	switch (h->type) {
	case UBW_INTERRUPT:
		return; /* no reply of its own */
	case UBW_IOCTL:
		conn_ioctl_done(conn, error, NULL, 0);
		return;
	case UBW_MMAP:
	case UBW_OUTBOX: {
		struct ubw_mmap_reply reply = { .hdr = { .type = h->type | UBW_REPLY,
							 .error = error } };

		send_mmap_reply(conn, &reply, -1);
		return;
	}
	case UBW_FD_FIXUP: {
		struct ubw_fd_fixup_reply r = { .hdr = { UBW_FD_FIXUP | UBW_REPLY, error } };
		struct iovec iov = { &r, sizeof(r) };

		conn_send(conn, &iov, 1, NULL, 0);
		return;
	}
	default:
		conn_reply_header(conn, h->type, error);
		return;
	}
}

static void thread_packet(void *env, struct conn *conn, const uint8_t *msg, size_t len,
			  struct conn_rx *rx)
{
	const struct ubw_header *h = (const void *)msg;
	pid_t sender = packet_sender(rx);
	int refuse = 0;

	if (!conn->thread)
		return conn_protocol_error(conn, "request on an unattached connection");
	if (h->type == UBW_WRITE_READ_MORE) {
		/* Continues a request of the same sender, refused or not. */
		if (conn->assembly && conn->assembly->sender != sender)
			return conn_protocol_error(conn, "interleaved multi-packet requests");
	} else if (!from_opener(conn, sender)) {
		note_foreign(env, conn, sender);
		if (h->type != UBW_WRITE_READ)
			return refuse_request(conn, h, -EPERM);
		refuse = -EPERM;
	}
	if (rx->ticket_taken && h->type != UBW_WRITE_READ) {
		/* conn_ring only marks ticket writes: a confused ring. */
		driver_promise_cancel(conn->thread);
		rx->ticket_taken = false;
	}
	switch (h->type) {
	case UBW_WRITE_READ:
		if (len < sizeof(struct ubw_write_read))
			return conn_protocol_error(conn, "short UBW_WRITE_READ");
		rx->taken = true;
		write_read_packet(env, conn, (const void *)msg, len, rx->fds, rx->n, sender, refuse,
				  rx->ticket_taken);
		return;
	case UBW_WRITE_READ_MORE:
		write_read_more(env, conn, msg + sizeof(struct ubw_write_read_more),
				len - sizeof(struct ubw_write_read_more));
		return;
	case UBW_INTERRUPT:
		driver_interrupt(conn->thread);
		return;
	case UBW_IOCTL: {
		const struct ubw_ioctl *io = (const void *)msg;

		if (len < sizeof(*io) || len - sizeof(*io) != io->size)
			return conn_protocol_error(conn, "bad UBW_IOCTL size");
		glue_ioctl(conn, io);
		return;
	}
	case UBW_MMAP:
		if (len != sizeof(struct ubw_mmap))
			return conn_protocol_error(conn, "bad UBW_MMAP size");
		glue_mmap(conn, (const void *)msg);
		return;
	case UBW_OUTBOX:
		if (len != sizeof(struct ubw_outbox) && len != UBW_OUTBOX_V1_SIZE)
			return conn_protocol_error(conn, "bad UBW_OUTBOX size");
		{
			struct ubw_outbox o = { .flags = 0 };

			memcpy(&o, msg, len);
			glue_outbox(conn, &o);
		}
		return;
	case UBW_MMAP_DONE:
	case UBW_MUNMAP:
		if (len != sizeof(struct ubw_mmap_done))
			return conn_protocol_error(conn, "bad UBW_MMAP_DONE size");
		mapping_changed(conn, h->type, (const void *)msg);
		return;
	case UBW_RING: {
		const struct ubw_ring_request *rr = (const void *)msg;
		struct glue *g = env;

		if (len != sizeof(*rr))
			return conn_protocol_error(conn, "bad UBW_RING size");
		conn_ring_open(conn, rr->cap, rr->flags, g->sessions->cfg->rings);
		return;
	}
	case UBW_FD_FIXUP: {
		const struct ubw_fd_fixup *f = (const void *)msg;

		if (len < sizeof(*f) || (len - sizeof(*f)) / sizeof(int32_t) != f->nfds)
			return conn_protocol_error(conn, "bad UBW_FD_FIXUP size");
		fd_fixup(conn, f);
		return;
	}
	default:
		return conn_protocol_error(conn, "unknown request");
	}
}

static void thread_ticket_closed(void *env, struct conn *conn)
{
	(void)env;
	if (conn->thread)
		driver_promise_cancel(conn->thread);
}

void glue_make_offers(struct glue *g)
{
	struct conn *conn;

	while ((conn = conn_hub_next_offer_wanted(g->hub)) != NULL) {
		uint32_t limit = conn->thread ? driver_promise_reply(conn->thread, UBW_TICKET_LIMIT,
								     UBW_TICKET_MAX_LIMIT)
					      : 0;

		if (!limit)
			continue;
		if (conn_ring_offer(conn, limit))
			conn->offered_limit = limit;
		else
			driver_promise_cancel(conn->thread);
	}
}

static void thread_closed(void *env, struct conn *conn)
{
	struct glue *g = env;

	assembly_free(g->assemblies, conn->assembly);
	if (conn->session) {
		struct conn_packets *p = &conn->session->packets;

		p->ring_in += conn->packets.ring_in;
		p->ring_out += conn->packets.ring_out;
		p->socket_in += conn->packets.socket_in;
		p->socket_out += conn->packets.socket_out;
		p->bell_mutes += conn->packets.bell_mutes;
	}
	session_conn_closed(g->sessions, conn);
}

void glue_dump_stats(const struct glue *g, FILE *out)
{
	fprintf(out, "requests refused (not the opener): %" PRIu64 "\n", g->foreign_refused);
	fprintf(out, "local completions: %" PRIu64 "\n", g->local_completions);
	fprintf(out, "local completions broken: %" PRIu64 "\n", g->local_completions_broken);
	fprintf(out, "ticket writes refused: %" PRIu64 "\n", g->ticket_writes_refused);
}

void glue_init(struct glue *g, struct sessions *sessions, struct assemblies *assemblies,
	       struct driver *drv, struct copier *copier, struct conn_hub *hub)
{
	g->hub = hub;
	g->sessions = sessions;
	g->assemblies = assemblies;
	g->drv = drv;
	g->copier = copier;
	g->session_role = (struct conn_role){
		.name = "session",
		.first_type = UBW_HELLO,
		.first_size = sizeof(struct ubw_hello),
		.env = g,
		.open = session_open,
		.packet = session_packet,
		.closed = session_closed,
	};
	g->thread_role = (struct conn_role){
		.name = "thread",
		.first_type = UBW_ATTACH,
		.first_size = sizeof(struct ubw_attach),
		.one_at_a_time = true,
		.env = g,
		.open = thread_open,
		.packet = thread_packet,
		.closed = thread_closed,
		.ticket_closed = thread_ticket_closed,
	};
}
