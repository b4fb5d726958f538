/* SPDX-License-Identifier: MIT */
/*
 * Copy workers: a small pool of threads that run work which may block on a
 * peer's memory (process_vm_readv into FUSE-backed or userfaultfd pages), so
 * that such a stall delays only the peer that caused it, never the event
 * loop. A task's run() executes on a worker; its done() back on the event
 * loop, which is woken through an eventfd.
 *
 * The pool starts with one worker and grows, up to its limit, whenever a
 * task is queued while every worker is busy.
 *
 * Owns: the worker threads and their queues.
 * May call: loop (its eventfd is a loop source), common/log.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <bsd/sys/queue.h>

#include "daemon/loop.h"

struct copier_task {
	void (*run)(struct copier_task *task);	/* on a worker */
	void (*done)(struct copier_task *task); /* on the event loop */
	TAILQ_ENTRY(copier_task) entry;
};

TAILQ_HEAD(copier_queue, copier_task);

struct copier {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct copier_queue todo;     /* waiting for a worker */
	struct copier_queue finished; /* waiting for done() */
	unsigned int workers;
	unsigned int idle;
	unsigned int max_workers;
	bool stopping;
	struct loop_source src; /* an eventfd: readable while finished is non-empty */
	struct loop *loop;
	pthread_t *threads;
};

/* Starts no thread yet; watches its eventfd on @loop. */
int copier_init(struct copier *c, struct loop *loop, unsigned int max_workers);
/* Stops and joins the workers. Tasks still queued are dropped (not done). */
void copier_deinit(struct copier *c);

/* Queues @task. Never blocks. */
void copier_submit(struct copier *c, struct copier_task *task);

/* Tasks queued or running. */
unsigned int copier_busy(struct copier *c);
