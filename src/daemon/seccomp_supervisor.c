/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/seccomp_supervisor.h"
#include "wire/wire.h"

/* Linux 6.6 (<linux/seccomp.h>): the target runs on the CPU of the thread that
 * answers it, as a synchronous call would; older kernels refuse it (harmless). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* How often parked notifications are checked for a signal that ended them. */
#define SWEEP_MS 10

static struct sc_supervisor *src_supervisor(struct loop_source *src)
{
	return (struct sc_supervisor *)((char *)src - offsetof(struct sc_supervisor, src));
}

static void supervisor_bury(struct sc_supervisor *sup)
{
	if (sup->src.fd >= 0) {
		close(sup->src.fd);
		sup->src.fd = -1;
	}
	loop_bury(sup->all->loop, sup);
}

static void call_free(struct sc_call *call)
{
	if (call->in_copier || call->deferred) {
		call->dead = true; /* freed when it is back (call_back) */
		call->successor = NULL;
		return;
	}
	LIST_REMOVE(call, entry);
	call->sup->all->calls->free_state(call);
	if (call->thread && call->thread->call == call)
		call->thread->call = NULL;
	free(call);
}

/* @call is back from a worker or a deferred step: false if it was freed meanwhile. */
static bool call_back(struct sc_call *call)
{
	struct sc_supervisor *sup = call->sup;

	sup->inflight--;
	if (!call->dead)
		return true;
	if (call->in_copier || call->deferred)
		return false; /* still away on the other: freed when that is back */
	call_free(call);
	if (sup->ended && sup->inflight == 0)
		supervisor_bury(sup);
	return false;
}

bool sc_call_returned(struct sc_call *call)
{
	call->in_copier = false;
	return call_back(call);
}

void sc_call_defer(struct sc_call *call, struct loop_deferred *item)
{
	call->deferred = true;
	call->sup->inflight++;
	loop_defer(call->sup->all->loop, item);
}

bool sc_call_resumed(struct sc_call *call)
{
	call->deferred = false;
	return call_back(call);
}

void sc_call_submit(struct sc_call *call)
{
	call->in_copier = true;
	call->sup->inflight++;
	call->task.owner_key = (uint64_t)(call->who.tgid ? call->who.tgid : call->who.tid);
	copier_submit(call->sup->all->copier, &call->task);
}

/* Frees @call; its successor (the same thread's next system call) is served now. */
static void call_retire(struct sc_call *call)
{
	struct sc_call *next = call->successor;

	call_free(call);
	if (next)
		next->sup->all->calls->serve(next);
}

int sc_call_send(struct sc_call *call, int64_t val, int error)
{
	struct seccomp_notif_resp resp = { .id = call->notif.id, .val = val, .error = error };

	if (ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
		return -errno;
	return 0;
}

void sc_call_finish(struct sc_call *call)
{
	call_retire(call);
}

void sc_call_answer(struct sc_call *call, int64_t val, int error)
{
	if (!call->interrupted && sc_call_send(call, val, error) == -ENOENT)
		call->sup->all->stats.interrupted++;
	call->sup->all->stats.served++;
	call_retire(call);
}

void sc_call_continue(struct sc_call *call)
{
	struct seccomp_notif_resp resp = { .id = call->notif.id,
					   .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE };

	ioctl(call->sup->src.fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	call->sup->all->stats.continued++;
	call_retire(call);
}

void sc_call_drop(struct sc_call *call)
{
	call_retire(call);
}

struct context *supervisors_context(const struct supervisors *ss, const char *name)
{
	const struct conn_listener *l;

	LIST_FOREACH(l, &ss->hub->listeners, entry) {
		if (l->served && strcmp(context_name(l->served), name) == 0)
			return l->served;
	}
	return NULL;
}

/* The last process under the filter is gone, or the daemon stops. */
static void supervisor_end(struct sc_supervisor *sup)
{
	struct sc_file *file;
	struct sc_task *task;

	if (sup->ended)
		return;
	sup->ended = true;
	for (struct sc_call *call = LIST_FIRST(&sup->calls), *next; call; call = next) {
		next = LIST_NEXT(call, entry);
		call->successor = NULL;
		call_free(call);
	}
	while ((file = LIST_FIRST(&sup->files)) != NULL)
		sc_file_release(file);
	while ((task = LIST_FIRST(&sup->tasks)) != NULL)
		sc_task_exited(task);
	loop_unwatch(sup->all->loop, &sup->src);
	if (sup->conn) {
		sup->conn->role_state = NULL;
		conn_defer_close(sup->conn);
		sup->conn = NULL;
	}
	LIST_REMOVE(sup, entry);
	if (LIST_EMPTY(&sup->all->list))
		loop_timer_set(&sup->all->sweep, 0);
	if (sup->inflight == 0)
		supervisor_bury(sup);
}

/* A thread under the filter made a trapped system call. */
static void received(struct sc_supervisor *sup, const struct seccomp_notif *n)
{
	struct sc_call *call = calloc(1, sizeof(*call));

	sup->all->stats.notifications++;
	if (!call) {
		struct seccomp_notif_resp resp = { .id = n->id, .error = -ENOMEM };

		ioctl(sup->src.fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
		return;
	}
	call->sup = sup;
	call->notif = *n;
	LIST_INSERT_HEAD(&sup->calls, call, entry);
	call->sup->all->calls->start(call);
}

static void listener_handle(struct loop_source *src, uint32_t events)
{
	struct sc_supervisor *sup = src_supervisor(src);
	struct pollfd p = { .fd = src->fd, .events = POLLIN };

	if (sup->ended)
		return; /* its event came in the batch that ended it */
	/* A notification is only received while one is pending: RECV never blocks. */
	for (int i = 0; i < 64 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN); i++) {
		struct seccomp_notif n;

		memset(&n, 0, sizeof(n));
		if (ioctl(src->fd, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue; /* its thread was interrupted meanwhile */
			log_warning("seccomp listener: %s", strerror(errno));
			supervisor_end(sup);
			return;
		}
		received(sup, &n);
		if (sup->ended)
			return;
	}
	if ((events & (EPOLLHUP | EPOLLERR)) || (p.revents & (POLLHUP | POLLERR))) {
		log_info("seccomp supervision: the last process under the filter is gone");
		supervisor_end(sup);
	}
}

/* Whether @fd is a seccomp listener (the kernel names its anonymous inode). */
static bool is_listener(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:seccomp notify") == 0;
}

static void supervision_open(void *env, struct conn *conn, const void *msg, struct conn_rx *rx)
{
	struct supervisors *ss = env;
	const struct ubw_seccomp *req = msg;
	struct sc_supervisor *sup;
	int err = 0;

	if (req->magic != UBW_MAGIC || req->version != UBW_PROTOCOL_VERSION || req->flags) {
		err = -EPROTO;
	} else if (rx->n != 1 || !is_listener(rx->fds[0])) {
		err = -EINVAL;
	}
	if (!err) {
		sup = calloc(1, sizeof(*sup));
		if (!sup)
			err = -ENOMEM;
	}
	if (err) {
		conn_reply_header(conn, UBW_SECCOMP, err);
		conn_defer_close(conn);
		return;
	}
	rx->taken = true;
	(void)ioctl(rx->fds[0], SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	sup->all = ss;
	sup->conn = conn;
	sup->self = getpid();
	sup->src.fd = rx->fds[0];
	sup->src.handle = listener_handle;
	LIST_INIT(&sup->tasks);
	LIST_INIT(&sup->files);
	LIST_INIT(&sup->calls);
	if (loop_watch(ss->loop, &sup->src, EPOLLIN) < 0) {
		close(sup->src.fd);
		free(sup);
		conn_reply_header(conn, UBW_SECCOMP, -ENOMEM);
		conn_defer_close(conn);
		return;
	}
	/* The launcher's connection is the supervision's lifeline (conn->session unused). */
	conn->role_state = sup;
	LIST_INSERT_HEAD(&ss->list, sup, entry);
	loop_timer_set(&ss->sweep, SWEEP_MS);
	ss->stats.supervisions++;
	log_info("pid %d: seccomp supervision started", conn->cred.pid);
	conn_reply_header(conn, UBW_SECCOMP, 0);
}

static void supervision_packet(void *env, struct conn *conn, const uint8_t *msg, size_t len,
			       struct conn_rx *rx)
{
	(void)env;
	(void)msg;
	(void)len;
	(void)rx;
	conn_protocol_error(conn, "message on a seccomp supervision connection");
}

/* The launcher went away: the processes under the filter are served on. */
static void supervision_closed(void *env, struct conn *conn)
{
	struct sc_supervisor *sup = conn->role_state;

	(void)env;
	if (sup)
		sup->conn = NULL;
	conn->role_state = NULL;
}

/* Parked notifications whose wait a signal ended: the driver's read ends too. */
static void sweep_fire(struct loop_timer *t)
{
	struct supervisors *ss =
		(struct supervisors *)((char *)t - offsetof(struct supervisors, sweep));
	struct sc_supervisor *sup;

	LIST_FOREACH(sup, &ss->list, entry) {
		struct sc_call *call, *next;

		for (call = LIST_FIRST(&sup->calls); call; call = next) {
			next = LIST_NEXT(call, entry);
			if (!call->parked || call->interrupted)
				continue;
			if (ioctl(sup->src.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &call->notif.id) == 0)
				continue;
			ss->stats.interrupted++;
			ss->calls->interrupt(call);
		}
	}
}

int supervisors_init(struct supervisors *ss, struct loop *loop, struct driver *drv,
		     struct copier *copier, struct uid_quotas *quotas, const struct conn_hub *hub,
		     size_t max_body, const struct sc_call_ops *calls)
{
	memset(ss, 0, sizeof(*ss));
	ss->loop = loop;
	ss->drv = drv;
	ss->copier = copier;
	ss->quotas = quotas;
	ss->hub = hub;
	ss->max_body = max_body;
	ss->calls = calls;
	LIST_INIT(&ss->list);
	ss->role = (struct conn_role){
		.name = "seccomp",
		.first_type = UBW_SECCOMP,
		.first_size = sizeof(struct ubw_seccomp),
		.env = ss,
		.open = supervision_open,
		.packet = supervision_packet,
		.closed = supervision_closed,
	};
	return loop_timer_init(loop, &ss->sweep, sweep_fire);
}

void supervisors_deinit(struct supervisors *ss)
{
	while (!LIST_EMPTY(&ss->list)) {
		supervisor_end(LIST_FIRST(&ss->list));
		loop_settle(ss->loop);
	}
	if (ss->sweep.loop)
		loop_timer_deinit(&ss->sweep);
}

void supervisors_dump_stats(const struct supervisors *ss, FILE *out)
{
	const struct sc_supervisor *sup;
	size_t active = 0, files = 0;

	LIST_FOREACH(sup, &ss->list, entry) {
		const struct sc_file *f;

		active++;
		LIST_FOREACH(f, &sup->files, entry)
			files++;
	}
	fprintf(out, "seccomp supervisions: %zu\n", active);
	fprintf(out, "seccomp supervisions started: %" PRIu64 "\n", ss->stats.supervisions);
	fprintf(out, "seccomp binder files: %zu\n", files);
	fprintf(out, "seccomp notifications: %" PRIu64 "\n", ss->stats.notifications);
	fprintf(out, "seccomp notifications continued: %" PRIu64 "\n", ss->stats.continued);
	fprintf(out, "seccomp notifications served: %" PRIu64 "\n", ss->stats.served);
	fprintf(out, "seccomp notifications interrupted: %" PRIu64 "\n", ss->stats.interrupted);
	fprintf(out, "seccomp answers lost: %" PRIu64 "\n", ss->stats.lost);
}
