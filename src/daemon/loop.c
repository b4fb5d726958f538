/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/loop.h"

#define LOOP_BATCH 64

int loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	TAILQ_INIT(&l->deferred);
	TAILQ_INIT(&l->after_batch);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

static void empty_graveyard(struct loop *l)
{
	for (size_t i = 0; i < l->ngraveyard; i++)
		free(l->graveyard[i]);
	l->ngraveyard = 0;
}

void loop_deinit(struct loop *l)
{
	empty_graveyard(l);
	free(l->graveyard);
	l->graveyard = NULL;
	l->graveyard_cap = 0;
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int loop_watch(struct loop *l, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0) {
		log_warning("epoll_ctl add: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void loop_unwatch(struct loop *l, struct loop_source *src)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

void loop_rewatch(struct loop *l, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	epoll_ctl(l->epfd, EPOLL_CTL_MOD, src->fd, &ev);
}

void loop_defer(struct loop *l, struct loop_deferred *item)
{
	if (item->pending)
		return;
	item->pending = true;
	TAILQ_INSERT_TAIL(&l->deferred, item, entry);
}

void loop_settle(struct loop *l)
{
	for (;;) {
		struct loop_deferred *item;

		if (l->flush)
			l->flush(l->owner);
		item = TAILQ_FIRST(&l->deferred);
		if (!item)
			break;
		TAILQ_REMOVE(&l->deferred, item, entry);
		item->pending = false;
		item->run(item);
	}
}

/* Once per turn of the loop for its events, not per event (the owner's
 * hook costs more than most events' own work), and after each item run
 * after the batch. */
static void loop_settled(struct loop *l)
{
	if (l->settled)
		l->settled(l->owner);
}

void loop_after_batch(struct loop *l, struct loop_batch_item *item)
{
	if (item->queued)
		return;
	item->queued = true;
	TAILQ_INSERT_TAIL(&l->after_batch, item, entry);
}

void loop_after_batch_cancel(struct loop *l, struct loop_batch_item *item)
{
	if (!item->queued)
		return;
	item->queued = false;
	TAILQ_REMOVE(&l->after_batch, item, entry);
}

struct loop_batch_item *loop_after_batch_take(struct loop *l,
					      void (*run)(struct loop_batch_item *item))
{
	struct loop_batch_item *item;

	TAILQ_FOREACH(item, &l->after_batch, entry)
		if (item->run == run) {
			TAILQ_REMOVE(&l->after_batch, item, entry);
			item->queued = false;
			return item;
		}
	return NULL;
}

void loop_run_after_batch(struct loop *l)
{
	/* As many as are queued now: those queued meanwhile wait for the next
	 * batch (an item cancelled or taken by loop_after_batch_take meanwhile
	 * lets one of them run now). */
	size_t n = 0;
	struct loop_batch_item *item;

	TAILQ_FOREACH(item, &l->after_batch, entry)
		n++;
	while (n-- > 0 && (item = TAILQ_FIRST(&l->after_batch)) != NULL) {
		TAILQ_REMOVE(&l->after_batch, item, entry);
		item->queued = false;
		item->run(item);
		loop_settle(l);
		/* Before the next item, which may be the wake-up of a thread whose
		 * read this one ended: its ticket goes out first. */
		loop_settled(l);
	}
}

void loop_bury(struct loop *l, void *p)
{
	if (l->ngraveyard == l->graveyard_cap) {
		size_t cap = l->graveyard_cap ? 2 * l->graveyard_cap : 64;
		void **grown = realloc(l->graveyard, cap * sizeof(*grown));

		if (!grown) {
			/* Leaking beats a use-after-free. */
			log_error("out of memory: leaking %p", p);
			return;
		}
		l->graveyard = grown;
		l->graveyard_cap = cap;
	}
	l->graveyard[l->ngraveyard++] = p;
}

int loop_run(struct loop *l)
{
	struct epoll_event events[LOOP_BATCH];

	while (!l->stopping) {
		bool may_sleep = TAILQ_EMPTY(&l->after_batch);
		int n;

		if (l->poller && l->poller->poll(l->poller, may_sleep)) {
			loop_settle(l);
			may_sleep = false;
		}
		n = epoll_wait(l->epfd, events, LOOP_BATCH, may_sleep ? -1 : 0);
		if (n < 0) {
			if (errno != EINTR) {
				log_error("epoll_wait: %s", strerror(errno));
				return 1;
			}
			n = 0; /* what the poller took still settles */
		}
		for (int i = 0; i < n; i++) {
			struct loop_source *src = events[i].data.ptr;

			src->handle(src, events[i].events);
			loop_settle(l);
		}
		/* Once for all of the turn's events: their wake-ups run after it. */
		loop_settled(l);
		loop_run_after_batch(l);
		empty_graveyard(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopping = true;
}

static void timer_handle(struct loop_source *src, uint32_t events)
{
	struct loop_timer *t = (struct loop_timer *)src;
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warning("timerfd: %s", strerror(errno));
	t->fire(t);
}

int loop_timer_init(struct loop *l, struct loop_timer *t, void (*fire)(struct loop_timer *))
{
	memset(t, 0, sizeof(*t));
	t->loop = l;
	t->fire = fire;
	t->src.handle = timer_handle;
	t->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->src.fd < 0)
		return -errno;
	return loop_watch(l, &t->src, EPOLLIN);
}

void loop_timer_rearm(struct loop_timer *t, unsigned int period_ms)
{
	struct itimerspec its = { 0 };

	if (t->src.fd < 0)
		return;
	its.it_interval.tv_sec = period_ms / 1000;
	its.it_interval.tv_nsec = (long)(period_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	timerfd_settime(t->src.fd, 0, &its, NULL);
	t->period_ms = period_ms;
}

void loop_timer_deinit(struct loop_timer *t)
{
	if (t->src.fd >= 0) {
		loop_unwatch(t->loop, &t->src);
		close(t->src.fd);
	}
	t->src.fd = -1;
	t->period_ms = 0;
}
