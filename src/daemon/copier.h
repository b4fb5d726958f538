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
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <bsd/sys/queue.h>

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
	int event_fd; /* readable while finished is non-empty */
	pthread_t *threads;
};

int copier_init(struct copier *c, unsigned int max_workers);
/* Stops and joins the workers. Tasks still queued are dropped (not done). */
void copier_deinit(struct copier *c);

/* Queues @task. Never blocks. */
void copier_submit(struct copier *c, struct copier_task *task);

/* On the event loop, when event_fd is readable: calls done() of finished tasks. */
void copier_complete(struct copier *c);

/* Tasks queued or running. */
unsigned int copier_busy(struct copier *c);
