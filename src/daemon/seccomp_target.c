/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/ns_read.h"
#include "daemon/poll_pair.h"
#include "daemon/proc_info.h"
#include "daemon/quota.h"
#include "daemon/seccomp_supervisor.h"
#include "daemon/seccomp_target.h"

int sc_who_read(pid_t tid, struct sc_who *who)
{
	char buf[2048], *line;
	unsigned int uid[2], gid[2];
	int tgid = -1, found = 0;

	if (proc_info_read(tid, "status", buf, sizeof(buf)) <= 0)
		return -ESRCH;
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			found |= 1;
		else if (sscanf(line, "Uid: %u %u", &uid[0], &uid[1]) == 2)
			found |= 2;
		else if (sscanf(line, "Gid: %u %u", &gid[0], &gid[1]) == 2)
			found |= 4;
	}
	if (found != 7 || tgid <= 0)
		return -ESRCH;
	who->tid = tid;
	who->tgid = tgid;
	who->euid = uid[1];
	who->egid = gid[1];
	return 0;
}

static void task_pidfd_handle(struct loop_source *src, uint32_t events)
{
	struct sc_task *task =
		(struct sc_task *)((char *)src - offsetof(struct sc_task, pidfd_src));

	(void)events;
	if (task->gone)
		return;
	log_info("seccomp target %d exited", task->tgid);
	sc_task_exited(task);
}

struct sc_task *sc_task_find(struct sc_supervisor *sup, pid_t tgid)
{
	struct sc_task *task;

	LIST_FOREACH(task, &sup->tasks, entry) {
		if (task->tgid == tgid)
			return task;
	}
	return NULL;
}

size_t sc_task_auxv(pid_t pid, uint8_t *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, size);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

struct sc_task *sc_task_get(struct sc_supervisor *sup, pid_t tgid)
{
	struct sc_task *task = sc_task_find(sup, tgid);

	if (task)
		return task;
	task = calloc(1, sizeof(*task));
	if (!task)
		return NULL;
	task->sup = sup;
	task->tgid = tgid;
	task->pidfd_src.fd = (int)syscall(SYS_pidfd_open, tgid, 0);
	task->pidfd_src.handle = task_pidfd_handle;
	if (task->pidfd_src.fd < 0 || loop_watch(sup->all->loop, &task->pidfd_src, EPOLLIN) < 0) {
		if (task->pidfd_src.fd >= 0)
			close(task->pidfd_src.fd);
		free(task);
		return NULL;
	}
	LIST_INSERT_HEAD(&sup->tasks, task, entry);
	return task;
}

static void file_poll_changed(struct endpoint *ep, bool readable)
{
	struct sc_file *f = (struct sc_file *)((char *)ep - offsetof(struct sc_file, endpoint));

	poll_pair_signal(f->poll_fd, f->drain, &f->poll_set, readable, "seccomp poll descriptor");
}

static const struct endpoint_ops file_endpoint_ops = { .poll_changed = file_poll_changed };

int sc_file_open(struct sc_supervisor *sup, struct context *ctx, const struct sc_who *who,
		 int flags, struct sc_file **out)
{
	struct supervisors *ss = sup->all;
	struct sc_file *f;
	int sv[2];

	*out = NULL;
	if (!proc_info_memory_readable(who->tgid, -1)) {
		log_notice("seccomp target %d: its memory cannot be read (ptrace access)",
			   who->tgid);
		return -EACCES;
	}
	if (!uid_quota_take(ss->quotas, who->euid, QUOTA_SESSIONS, 1)) {
		return -EMFILE;
	}
	f = calloc(1, sizeof(*f));
	if (f && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		free(f);
		f = NULL;
	}
	if (f) {
		struct epoll_event ev = { .events = EPOLLIN };

		f->target_end = epoll_create1(EPOLL_CLOEXEC);
		if (f->target_end < 0 || epoll_ctl(f->target_end, EPOLL_CTL_ADD, sv[1], &ev) < 0) {
			if (f->target_end >= 0)
				close(f->target_end);
			close(sv[0]);
			close(sv[1]);
			free(f);
			f = NULL;
		}
	}
	if (!f) {
		uid_quota_give(ss->quotas, who->euid, QUOTA_SESSIONS, 1);
		return -ENOMEM;
	}
	f->uid_quota = true;
	f->endpoint.ops = &file_endpoint_ops;
	f->sup = sup;
	f->poll_fd = sv[0];
	f->drain = sv[1];
	f->region_fd = -1;
	f->id.pidfd = -1;
	f->access = flags & O_ACCMODE;
	LIST_INIT(&f->threads);
	/* O_NONBLOCK lives on the open file the target and the daemon share. */
	if (flags & O_NONBLOCK)
		fcntl(f->target_end, F_SETFL, O_NONBLOCK);
	f->opener = sc_task_get(sup, who->tgid);
	f->id.pid = who->tgid;
	f->id.euid = who->euid;
	f->id.egid = who->egid;
	/* The driver's copy outlives the opener's task. */
	f->id.pidfd = f->opener ? fcntl(f->opener->pidfd_src.fd, F_DUPFD_CLOEXEC, 0) : -1;
	f->id.can_read_memory = true;
	f->id.wants_poll = true;
	proc_info_comm(who->tgid, f->id.comm, sizeof(f->id.comm));
	ns_view_read(who->tgid, &f->id.ns);
	if (f->opener)
		f->proc = driver_proc_open(ss->drv, ctx, &f->id, &f->endpoint);
	if (!f->proc) {
		LIST_INSERT_HEAD(&sup->files, f, entry);
		sc_file_release(f);
		return -ENOMEM;
	}
	driver_proc_set_poll(f->proc, true);
	LIST_INSERT_HEAD(&sup->files, f, entry);
	log_info("seccomp target %d (%s) opened %s", who->tgid, f->id.comm, context_name(ctx));
	*out = f;
	return 0;
}

static bool same_file(pid_t tid, pid_t self, int fd, int ours)
{
	return ours >= 0 &&
	       syscall(SYS_kcmp, tid, self, KCMP_FILE, (unsigned long)fd, (unsigned long)ours) == 0;
}

struct sc_file *sc_file_of_fd(struct sc_supervisor *sup, pid_t tid, int fd)
{
	struct sc_file *f;

	if (fd < 0)
		return NULL;
	LIST_FOREACH(f, &sup->files, entry) {
		/* While a mapping is in flight, the region stands in for the descriptor. */
		if (same_file(tid, sup->self, fd, f->target_end) ||
		    same_file(tid, sup->self, fd, f->region_fd))
			return f;
	}
	return NULL;
}

void sc_files_flush_held(struct sc_supervisor *sup, pid_t tid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;

	if (LIST_EMPTY(&sup->files))
		return;
	snprintf(path, sizeof(path), "/proc/%d/fd", tid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((e = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		struct sc_file *f;

		if (*end || end == e->d_name)
			continue;
		f = sc_file_of_fd(sup, tid, (int)fd);
		if (f && f->proc)
			driver_proc_flush(f->proc);
	}
	closedir(dir);
}

struct sc_thread *sc_thread_find(struct sc_file *file, pid_t tid)
{
	struct sc_thread *t;

	LIST_FOREACH(t, &file->threads, entry) {
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

int sc_thread_get(struct sc_file *file, const struct sc_who *who, struct sc_thread **out)
{
	struct sc_thread *t;
	struct thread_peer peer = { 0 };
	int err;

	*out = NULL;
	LIST_FOREACH(t, &file->threads, entry) {
		if (t->tid == who->tid && t->task && t->task->tgid == who->tgid) {
			*out = t;
			return 0;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->task = sc_task_get(file->sup, who->tgid);
	if (!t->task) {
		free(t);
		return -ESRCH;
	}
	t->endpoint.ops = file->sup->all->calls->thread;
	t->file = file;
	t->tid = who->tid;
	/* A forked child's memory is its own: copies are checked against its pidfd. */
	peer.pid = who->tgid;
	peer.pidfd = t->task->pidfd_src.fd;
	peer.fds_by_pidfd = true;
	err = driver_thread_attach(file->proc, who->tid, &peer, &t->endpoint, &t->thread);
	if (err) {
		free(t);
		return err;
	}
	LIST_INSERT_HEAD(&file->threads, t, entry);
	*out = t;
	return 0;
}

/* Calls that named @file or @t lose them: they are dropped when they come back. */
static void forget_in_calls(struct sc_supervisor *sup, struct sc_file *file, struct sc_thread *t)
{
	struct sc_call *call;

	LIST_FOREACH(call, &sup->calls, entry) {
		if ((file && call->file == file) || (t && call->thread == t)) {
			call->thread = NULL;
			call->file = NULL;
		}
	}
}

void sc_thread_release(struct sc_thread *t)
{
	forget_in_calls(t->file->sup, NULL, t);
	LIST_REMOVE(t, entry);
	if (t->thread)
		driver_thread_detach(t->thread);
	free(t);
}

void sc_file_release(struct sc_file *f)
{
	struct supervisors *ss = f->sup->all;
	struct sc_thread *t;

	forget_in_calls(f->sup, f, NULL);
	while ((t = LIST_FIRST(&f->threads)) != NULL)
		sc_thread_release(t);
	if (f->proc) {
		driver_proc_flush(f->proc);
		driver_flush(ss->drv);
		driver_proc_release(f->proc);
		f->proc = NULL;
	}
	if (f->uid_quota)
		uid_quota_give(ss->quotas, f->id.euid, QUOTA_SESSIONS, 1);
	if (f->poll_fd >= 0)
		close(f->poll_fd);
	if (f->drain >= 0)
		close(f->drain);
	if (f->target_end >= 0)
		close(f->target_end);
	if (f->region_fd >= 0)
		close(f->region_fd);
	if (f->id.pidfd >= 0)
		close(f->id.pidfd);
	LIST_REMOVE(f, entry);
	free(f);
}

void sc_task_exited(struct sc_task *task)
{
	struct sc_supervisor *sup = task->sup;
	struct sc_file *f, *fnext;

	task->gone = true;
	for (f = LIST_FIRST(&sup->files); f; f = fnext) {
		struct sc_thread *t, *tnext;
		bool others = false;

		fnext = LIST_NEXT(f, entry);
		for (t = LIST_FIRST(&f->threads); t; t = tnext) {
			tnext = LIST_NEXT(t, entry);
			if (t->task == task)
				sc_thread_release(t);
			else
				others = true;
		}
		if (f->opener == task)
			f->opener = NULL;
		/* Nobody else used it: the exit closed its last descriptor. */
		if (!f->opener && !others)
			sc_file_release(f);
	}
	loop_unwatch(sup->all->loop, &task->pidfd_src);
	close(task->pidfd_src.fd);
	task->pidfd_src.fd = -1;
	LIST_REMOVE(task, entry);
	loop_bury(sup->all->loop, task); /* its pidfd's event may be in this batch */
}
