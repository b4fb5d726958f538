/* SPDX-License-Identifier: MIT */
/*
 * Seccomp supervision, the third way into the daemon (beside libubinder and
 * the preload emulation): `ubinder-run --seccomp` runs a program under a
 * seccomp filter that traps its opens of Binder devices, its Binder ioctls,
 * its file-backed mmaps, closes, exits and execs, and hands the filter's listener to the daemon
 * (UBW_SECCOMP). The daemon serves those system calls itself, as the kernel
 * driver would, from the target's memory: no code runs in the target.
 *
 * This module is the supervision connection's role: it checks the listener,
 * watches it on the loop, receives notifications (never blocking: one
 * SECCOMP_IOCTL_NOTIF_RECV per readable poll of the listener), answers them
 * (CONTINUE for anything that is not Binder's), and ends the supervision
 * when the last process under the filter is gone. Parked notifications (a
 * blocked BINDER_WRITE_READ) are checked for validity on a timer: a signal
 * that ended the target's wait interrupts the driver's read.
 *
 * Owns: struct sc_supervisor, struct sc_call's life, the listener.
 * May call: seccomp_target, conn, copier, loop, driver, wire; seccomp_calls
 * only through the struct sc_call_ops it is given.
 */
#pragma once

#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bsd/sys/queue.h>

#include "daemon/conn.h"
#include "daemon/copier.h"
#include "daemon/loop.h"
#include "daemon/quota.h"
#include "daemon/seccomp_target.h"
#include "driver/driver.h"

struct sc_call;

/*
 * How the supervision hands its calls to the layer above that serves them
 * (seccomp_calls: sc_calls_ops), so that it calls nothing above itself.
 */
struct sc_call_ops {
	/* A notification was received: serve it (after the same thread's earlier call). */
	void (*start)(struct sc_call *call);
	/* Serve @call now (its thread's earlier call is done). */
	void (*serve)(struct sc_call *call);
	/* A parked call's wait ended in the target (a signal): end the driver's read. */
	void (*interrupt)(struct sc_call *call);
	/* Frees what @call's steps hold (call->state); @call itself stays. */
	void (*free_state)(struct sc_call *call);
	/* How a target's Binder thread answers the driver. */
	const struct endpoint_ops *thread;
};

/* Every supervision of the daemon, and what they need. */
struct supervisors {
	struct loop *loop;
	struct driver *drv;
	struct copier *copier;
	struct uid_quotas *quotas;
	const struct conn_hub *hub;	 /* its listeners: the contexts served */
	size_t max_body;		 /* largest write buffer read from a target */
	struct conn_role role;		 /* opened by UBW_SECCOMP */
	const struct sc_call_ops *calls; /* serves the calls (seccomp_calls) */
	struct loop_timer sweep;	 /* parked notifications still valid? */
	LIST_HEAD(, sc_supervisor) list;
	struct {
		uint64_t supervisions, notifications, continued, served, interrupted, lost;
	} stats;
};

/* One listener: the processes under one launcher's filter. */
struct sc_supervisor {
	struct supervisors *all;
	struct conn *conn;	/* the launcher's connection; NULL once closed */
	struct loop_source src; /* the listener */
	pid_t self;		/* the daemon's pid, for kcmp */
	LIST_HEAD(, sc_task) tasks;
	LIST_HEAD(, sc_file) files;
	LIST_HEAD(, sc_call) calls; /* received and not answered yet */
	LIST_ENTRY(sc_supervisor) entry;
	unsigned int inflight; /* calls with a copy worker: the listener stays open */
	bool ended;
};

/* A notification being served. */
struct sc_call {
	struct copier_task task; /* its reads and writes of target memory */
	struct sc_supervisor *sup;
	struct seccomp_notif notif;
	struct sc_who who;
	struct sc_file *file;
	struct sc_thread *thread;
	bool in_copier;		   /* a copy worker has it: freed when it comes back */
	bool deferred;		   /* a step of it waits for the loop's deferred work */
	bool dead;		   /* to be freed when it comes back */
	bool parked;		   /* waiting in the driver */
	bool interrupted;	   /* the target's wait ended (a signal): no answer */
	bool restarted_read;	   /* restarts a blocked read a signal ended */
	struct sc_call *successor; /* the same thread's next call, served after this one */
	LIST_ENTRY(sc_call) entry;
	/* What the call's steps need (seccomp_calls.c). */
	void *state;
};

int supervisors_init(struct supervisors *ss, struct loop *loop, struct driver *drv,
		     struct copier *copier, struct uid_quotas *quotas, const struct conn_hub *hub,
		     size_t max_body, const struct sc_call_ops *calls);
void supervisors_deinit(struct supervisors *ss);
void supervisors_dump_stats(const struct supervisors *ss, FILE *out);

/* Answers @call (a return value, or an error when @error < 0) and frees it. */
void sc_call_answer(struct sc_call *call, int64_t val, int error);
/* Lets the system call run in the kernel, and frees @call. */
void sc_call_continue(struct sc_call *call);
/* Frees @call without an answer (it was interrupted); serves its successor. */
void sc_call_drop(struct sc_call *call);
/* Sends the answer from any thread (a copy worker): 0 or -errno (ENOENT: interrupted). */
int sc_call_send(struct sc_call *call, int64_t val, int error);
/* After sc_call_send on a worker: frees @call on the loop, serves its successor. */
void sc_call_finish(struct sc_call *call);

/* Hands @call's task (set up by the caller) to a copy worker. */
void sc_call_submit(struct sc_call *call);
/* First thing in the task's done() and expired(): false if @call was freed meanwhile. */
bool sc_call_returned(struct sc_call *call);
/* Runs @item (a step of @call) after the current event's driver work. */
void sc_call_defer(struct sc_call *call, struct loop_deferred *item);
/* First thing in such a step: false if @call was freed meanwhile. */
bool sc_call_resumed(struct sc_call *call);

/* The context a device name (the basename) names, among those served; NULL if none. */
struct context *supervisors_context(const struct supervisors *ss, const char *name);
