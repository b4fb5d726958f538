/* SPDX-License-Identifier: MIT */
/*
 * The event loop: the bottom of the daemon. It knows nothing of Binder.
 *
 * Owns: the epoll descriptor and the sources it watches, the deferred work
 * run after each event (closes that must wait until no handler is on the
 * stack), the graveyard (memory freed after the current epoll batch, because
 * later events of the batch may still name it), and periodic timers.
 * May call: the system, common/log.
 *
 * Single-threaded: everything here runs on the loop's thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <bsd/sys/queue.h>

/* Something the loop watches. */
struct loop_source {
	int fd;
	void (*handle)(struct loop_source *src, uint32_t events);
};

/* Work run after the current event, when no handler is on the stack. */
struct loop_deferred {
	void (*run)(struct loop_deferred *item);
	bool pending;
	TAILQ_ENTRY(loop_deferred) entry;
};

/*
 * Work run once after the current epoll batch (before the next epoll_wait,
 * which does not sleep while any is queued): what should happen once for
 * many events (wake-ups flushed after a batch), or a fair share of work
 * left over (a ring drained in bursts).
 */
struct loop_batch_item {
	void (*run)(struct loop_batch_item *item);
	bool queued;
	TAILQ_ENTRY(loop_batch_item) entry;
};

/* A periodic timer (timerfd) calling @fire on the loop. */
struct loop_timer {
	struct loop_source src;
	struct loop *loop;
	void (*fire)(struct loop_timer *timer);
	unsigned int period_ms; /* 0: disarmed */
};

/*
 * What the loop looks at itself, besides what epoll reports: shared words
 * (the rings) whose writer was told not to ring their doorbell. Called at
 * the top of every turn; takes what is ready and returns true when it took
 * something (the turn's epoll_wait then does not sleep). @may_sleep: the
 * loop has nothing else to do and will sleep in epoll_wait if this returns
 * false; the poller may first spin a bounded time, and must then have asked
 * for a wake-up through epoll for everything it polls.
 */
struct loop_poller {
	bool (*poll)(struct loop_poller *poller, bool may_sleep);
};

struct loop {
	int epfd;
	struct loop_poller *poller; /* or NULL */
	bool stopping;
	TAILQ_HEAD(, loop_deferred) deferred;
	TAILQ_HEAD(, loop_batch_item) after_batch;
	void **graveyard;
	size_t ngraveyard, graveyard_cap;
	/*
	 * @flush: called before each deferred item and once more when none is
	 * left: the owner's own deferred work (the driver's flush).
	 * @settled: once the turn's events have been handled and settled
	 * (before the work queued after the batch, such as the wake-ups they
	 * owe, runs), and after each item of that work (never with a handler
	 * on the stack).
	 */
	void (*flush)(void *owner);
	void (*settled)(void *owner);
	void *owner;
};

int loop_init(struct loop *l);
/* Empties the graveyard and closes the epoll descriptor (settle first). */
void loop_deinit(struct loop *l);

/* Runs until loop_stop(). Returns 0, or 1 when epoll_wait fails. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

int loop_watch(struct loop *l, struct loop_source *src, uint32_t events);
void loop_unwatch(struct loop *l, struct loop_source *src);
void loop_rewatch(struct loop *l, struct loop_source *src, uint32_t events);

/* Queues @item once: a pending item is not queued again; it may be after it ran. */
void loop_defer(struct loop *l, struct loop_deferred *item);
/* Runs the owner's flush and the deferred work until none is left. */
void loop_settle(struct loop *l);

/* Queues @item once to run after the current epoll batch. */
void loop_after_batch(struct loop *l, struct loop_batch_item *item);
/* Takes @item off the queue if it is on it (its owner is going away). */
void loop_after_batch_cancel(struct loop *l, struct loop_batch_item *item);
/* Runs the queued items (and the deferred work they cause). */
void loop_run_after_batch(struct loop *l);
/* Dequeues and returns the first queued item whose run is @run, or NULL. */
struct loop_batch_item *loop_after_batch_take(struct loop *l,
					      void (*run)(struct loop_batch_item *item));

/* Frees @p after the current epoll batch. */
void loop_bury(struct loop *l, void *p);

/* A timer, disarmed. Returns 0 or -errno. */
int loop_timer_init(struct loop *l, struct loop_timer *t, void (*fire)(struct loop_timer *));
/* loop_timer_set's slow path: the period changes. */
void loop_timer_rearm(struct loop_timer *t, unsigned int period_ms);
/* Fires every @period_ms milliseconds from now; 0 disarms. Setting the
 * period it has already costs nothing (the settled hook sets it after
 * every event). */
static inline void loop_timer_set(struct loop_timer *t, unsigned int period_ms)
{
	if (period_ms != t->period_ms)
		loop_timer_rearm(t, period_ms);
}
void loop_timer_deinit(struct loop_timer *t);
