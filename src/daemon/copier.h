/* SPDX-License-Identifier: MIT */
/*
 * Copy workers: a pool of threads that run work which may block on a peer's
 * memory (process_vm_readv into FUSE-backed or userfaultfd pages), so that
 * such a stall delays only the peer that caused it, never the event loop
 * and never the other peers. A task's run() executes on a worker; its done()
 * back on the event loop, which is woken through an eventfd.
 *
 * A process whose memory stalls delays only itself, as a blocked
 * copy_from_user delays only its caller:
 * - Each task has an owner (the process whose memory it reads), and each
 *   owner a group (that process's uid). At most per_owner tasks of one
 *   owner, and per_group tasks of one group, are in the pool at once; an
 *   owner's others wait in its own queue (a group's free place goes to its
 *   owners in turn), and one that waited longer than the deadline is
 *   expired: it never runs, and its expired() is called on the loop. A
 *   group's stalled tasks count against it until they return, so one uid
 *   whose memory stalls holds at most per_group workers, however many
 *   processes it has.
 * - A task running longer than the deadline is stalled: it is counted, and
 *   no longer counts against the pool, which grows a worker in its place
 *   (up to COPIER_MAX_STALLED such workers in all). A stalled task cannot be
 *   taken back (the worker is blocked in the kernel until the peer's memory
 *   answers or the peer exits); its done() runs when it returns.
 *
 * The pool starts with no worker and grows whenever a task is queued while
 * every worker is busy, up to max_workers not counting stalled ones.
 *
 * Owns: the worker threads, their queues, the owners' queues and the groups.
 * May call: loop (its eventfd and deadline timer are loop sources), common/log.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <bsd/sys/queue.h>

#include "daemon/loop.h"

/* Workers beyond max_workers that stalled tasks may hold. */
#define COPIER_MAX_STALLED 64

struct copier_owner;
struct copier_group;

struct copier_task {
	void (*run)(struct copier_task *task);	/* on a worker */
	void (*done)(struct copier_task *task); /* on the event loop */
	/* On the event loop: the task waited past the deadline and will not run. */
	void (*expired)(struct copier_task *task);
	uint64_t owner_key; /* e.g. the pid whose memory it reads */
	/* e.g. that process's uid; an owner's group is the one its first task named */
	uint64_t group_key;

	/* The copier's. */
	struct copier_owner *owner;
	uint64_t since_ms; /* queued in the pool or in its owner's queue */
	bool started;	   /* a worker took it (under the lock) */
	uint64_t started_ms;
	bool stalled;
	TAILQ_ENTRY(copier_task) entry;	      /* the pool's todo or finished queue (lock) */
	TAILQ_ENTRY(copier_task) owner_entry; /* its owner's in-pool or waiting list (loop) */
};

TAILQ_HEAD(copier_queue, copier_task);

struct copier {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct copier_queue todo;     /* waiting for a worker */
	struct copier_queue finished; /* waiting for done() */
	unsigned int workers;
	unsigned int idle;
	unsigned int stalled; /* workers running a stalled task */
	unsigned int max_workers;
	bool stopping;
	pthread_t *threads;

	/* The event loop's. */
	unsigned int per_owner;
	unsigned int per_group;
	uint64_t deadline_ms;
	struct copier_owner *owners; /* uthash by key */
	struct copier_group *groups; /* uthash by key: those with an owner */
	unsigned int in_pool;	     /* tasks in todo, running or finished */
	struct loop_source src;	     /* an eventfd: readable while finished is non-empty */
	struct loop_timer sweep;     /* deadlines, while any task is out */
	struct loop *loop;
	uint64_t stalls, expired;
	uint64_t waited_owner,
		waited_group; /* tasks that had to wait, by the limit that held them */
};

/*
 * Starts no thread yet; watches its eventfd on @loop. @per_owner,
 * @per_group: tasks of one owner, of one group, in the pool at once (0: no
 * limit); @deadline_ms: when a task stalls or expires (0: never).
 */
int copier_init(struct copier *c, struct loop *loop, unsigned int max_workers,
		unsigned int per_owner, unsigned int per_group, unsigned int deadline_ms);
/*
 * Stops the workers and joins them, waiting a moment for stalled ones.
 * Tasks still queued are dropped (not done). Returns how many workers are
 * still blocked: then memory their tasks write must not be freed.
 */
unsigned int copier_deinit(struct copier *c);

/* Queues @task. Never blocks. */
void copier_submit(struct copier *c, struct copier_task *task);

/* Tasks queued or running. */
unsigned int copier_busy(struct copier *c);

void copier_dump_stats(struct copier *c, FILE *out);
