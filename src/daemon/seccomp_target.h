/* SPDX-License-Identifier: MIT */
/*
 * The processes under a seccomp supervision, as the daemon sees them: each
 * target process (its pidfd), each emulated open of a Binder device (a
 * Binder process of the driver, and the descriptor the target holds for it)
 * and each target thread that used one (a Binder thread).
 *
 * Identity comes from the kernel: the notification's thread id, the thread
 * group and credentials from /proc/TID/status, a pidfd per thread group.
 * Which Binder file a descriptor number names is asked of the kernel with
 * kcmp against the daemon's own reference to it, so dup'ed, inherited and
 * exec-surviving descriptors are recognised, and any other file is not.
 *
 * Owns: struct sc_task, sc_file, sc_thread and their lists.
 * May call: loop, quota, driver (lifetime calls), ns_read, common/log.
 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <bsd/sys/queue.h>

#include "daemon/endpoint.h"
#include "daemon/loop.h"
#include "driver/driver.h"

struct sc_supervisor;
struct sc_call;

/* A thread group under the filter. */
struct sc_task {
	struct sc_supervisor *sup;
	pid_t tgid;
	struct loop_source pidfd_src; /* readable when it exits */
	bool gone;		      /* released (its event may still come in this batch) */
	/* An exec was asked for by exec_tid: /proc/PID/auxv then, to tell whether it happened. */
	pid_t exec_tid;
	uint8_t auxv[512];
	size_t auxv_len;
	LIST_ENTRY(sc_task) entry;
};

/* One emulated open of a Binder device: a Binder process. */
struct sc_file {
	struct endpoint endpoint; /* poll readiness */
	struct sc_supervisor *sup;
	struct proc *proc;
	struct proc_identity id; /* the opener's */
	struct sc_task *opener;
	/*
	 * The descriptor the target holds (target_end) is an epoll instance
	 * watching one end of a socket pair (drain), which the daemon makes
	 * readable through the other end (poll_fd) while the process has work:
	 * poll, select and epoll work on it natively and report POLLIN only, as
	 * on the device. The daemon's reference to target_end is the file kcmp
	 * compares the target's descriptors with.
	 */
	int poll_fd;
	int drain;
	int target_end;
	bool poll_set;
	int access; /* O_RDONLY, O_WRONLY or O_RDWR of the open */
	/* The region while a mapping of it is in flight (see seccomp_calls.c). */
	int region_fd;
	pid_t map_tid;	   /* whose next system call restores the descriptor */
	int map_fdnum;	   /* the descriptor number the region stands in for */
	bool mapped;	   /* a mapping was made once (a second one is EBUSY) */
	uint64_t map_addr; /* where, in the opener */
	bool execed;	   /* its opener exec'd since the open: no mapping any more */
	bool uid_quota;	   /* holds one of its uid's session quota */
	LIST_HEAD(, sc_thread) threads;
	LIST_ENTRY(sc_file) entry;
};

/* A target thread that used a Binder file: a Binder thread of its process. */
struct sc_thread {
	struct endpoint endpoint; /* completions */
	struct sc_file *file;
	struct sc_task *task; /* its thread group (another one than the opener's after fork) */
	struct thread *thread;
	pid_t tid;
	struct sc_call *call; /* the parked BINDER_WRITE_READ or ioctl, if any */
	LIST_ENTRY(sc_thread) entry;
};

/* Who made a notification: the thread group and effective ids of notif.pid. */
struct sc_who {
	pid_t tid, tgid;
	uid_t euid;
	gid_t egid;
};

/* The task of @tgid, if the supervision knows it. */
struct sc_task *sc_task_find(struct sc_supervisor *sup, pid_t tgid);

/* /proc/PID/auxv into @buf: its length (0 if unreadable). It differs after each exec. */
size_t sc_task_auxv(pid_t pid, uint8_t *buf, size_t size);

/* Reads /proc/TID/status: 0, or -ESRCH when the thread is gone. */
int sc_who_read(pid_t tid, struct sc_who *who);

/* The task of @tgid, created (with its pidfd watched) on first use; NULL if gone. */
struct sc_task *sc_task_get(struct sc_supervisor *sup, pid_t tgid);

/*
 * A new Binder process for an open of @ctx by @who, in *@out, with the
 * target's end of its descriptor in file->target_end (O_NONBLOCK as @flags
 * say). 0, or -EACCES (its memory cannot be read), -EMFILE (over the uid's
 * session quota), -ENOMEM; *@out is NULL then.
 */
int sc_file_open(struct sc_supervisor *sup, struct context *ctx, const struct sc_who *who,
		 int flags, struct sc_file **out);

/* The Binder file that descriptor @fd of thread @tid is, or NULL. */
struct sc_file *sc_file_of_fd(struct sc_supervisor *sup, pid_t tid, int fd);

/* Flushes every Binder file that one of @tid's descriptors is (it is exiting). */
void sc_files_flush_held(struct sc_supervisor *sup, pid_t tid);

/*
 * The Binder thread of @tid in @file, if it has one. A thread id names the
 * same thread until that thread exits; the kernel keeps a Binder thread of
 * an exited thread until its process releases the file (or
 * BINDER_THREAD_EXIT), and so does this: a new thread that reuses the id in
 * the same Binder process continues that Binder thread.
 */
struct sc_thread *sc_thread_find(struct sc_file *file, pid_t tid);

/*
 * The Binder thread of @who in @file, attached on first use, in *@out. 0, or
 * -ENOMEM, -ESRCH (its task is gone) or driver_thread_attach's -errno;
 * *@out is NULL then.
 */
int sc_thread_get(struct sc_file *file, const struct sc_who *who, struct sc_thread **out);

/* The thread leaves (BINDER_THREAD_EXIT, or its task exited). */
void sc_thread_release(struct sc_thread *t);

/* Releases the Binder process, its threads and the daemon's references. */
void sc_file_release(struct sc_file *file);

/* The thread group exited: its threads leave, and the files only it held go. */
void sc_task_exited(struct sc_task *task);
