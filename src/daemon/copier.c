/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "common/log.h"
#include "daemon/copier.h"

/* How often deadlines are checked while tasks are out. */
#define SWEEP_MS     50
/* How long deinit waits for stalled workers. */
#define JOIN_WAIT_MS 1000

struct copier_owner {
	uint64_t key;
	unsigned int in_pool;
	struct copier_queue in_pool_list; /* oldest first */
	struct copier_queue waiting;	  /* oldest first */
	struct copier_group *group;
	TAILQ_ENTRY(copier_owner) group_entry;
	UT_hash_handle hh;
};

/* The owners of one group; freed with its last owner. */
struct copier_group {
	uint64_t key;
	unsigned int in_pool; /* its owners' tasks in the pool, stalled ones included */
	TAILQ_HEAD(, copier_owner) owners; /* the next to get a free place first */
	UT_hash_handle hh;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *worker_main(void *arg)
{
	struct copier *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct copier_task *task;
		uint64_t one = 1;

		while (!c->stopping && TAILQ_EMPTY(&c->todo)) {
			c->idle++;
			pthread_cond_wait(&c->wake, &c->lock);
			c->idle--;
		}
		if (c->stopping)
			break;
		task = TAILQ_FIRST(&c->todo);
		TAILQ_REMOVE(&c->todo, task, entry);
		task->started = true;
		task->started_ms = now_ms();
		pthread_mutex_unlock(&c->lock);

		task->run(task);

		pthread_mutex_lock(&c->lock);
		if (task->stalled)
			c->stalled--;
		TAILQ_INSERT_TAIL(&c->finished, task, entry);
		if (write(c->src.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("copier: cannot wake the event loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Called with the lock held. */
static void grow(struct copier *c)
{
	pthread_attr_t attr;

	if (c->idle > 0 || c->workers - c->stalled >= c->max_workers ||
	    c->workers >= c->max_workers + COPIER_MAX_STALLED)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&c->threads[c->workers], &attr, worker_main, c) == 0)
		c->workers++;
	else if (c->workers == 0)
		log_error("copier: cannot start a worker thread");
	pthread_attr_destroy(&attr);
}

static struct copier_group *group_get(struct copier *c, uint64_t key)
{
	struct copier_group *g;

	HASH_FIND(hh, c->groups, &key, sizeof(key), g);
	if (g)
		return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->key = key;
	TAILQ_INIT(&g->owners);
	HASH_ADD(hh, c->groups, key, sizeof(g->key), g);
	return g;
}

/* The owner of @key, created in group @group_key on first use; NULL when out of memory. */
static struct copier_owner *owner_get(struct copier *c, uint64_t key, uint64_t group_key)
{
	struct copier_owner *o;
	struct copier_group *g;

	HASH_FIND(hh, c->owners, &key, sizeof(key), o);
	if (o)
		return o;
	g = group_get(c, group_key);
	o = g ? calloc(1, sizeof(*o)) : NULL;
	if (!o) {
		if (g && TAILQ_EMPTY(&g->owners)) {
			HASH_DEL(c->groups, g);
			free(g);
		}
		return NULL;
	}
	o->key = key;
	o->group = g;
	TAILQ_INIT(&o->in_pool_list);
	TAILQ_INIT(&o->waiting);
	TAILQ_INSERT_TAIL(&g->owners, o, group_entry);
	HASH_ADD(hh, c->owners, key, sizeof(o->key), o);
	return o;
}

/* Frees @o once it has no task in the pool or waiting, and its group with its last owner. */
static void owner_put(struct copier *c, struct copier_owner *o)
{
	struct copier_group *g = o->group;

	if (o->in_pool || !TAILQ_EMPTY(&o->waiting))
		return;
	TAILQ_REMOVE(&g->owners, o, group_entry);
	HASH_DEL(c->owners, o);
	free(o);
	if (TAILQ_EMPTY(&g->owners)) {
		HASH_DEL(c->groups, g);
		free(g);
	}
}

static bool owner_full(const struct copier *c, const struct copier_owner *o)
{
	return c->per_owner && o->in_pool >= c->per_owner;
}

static bool group_full(const struct copier *c, const struct copier_group *g)
{
	return c->per_group && g->in_pool >= c->per_group;
}

/* Hands @task to the workers. */
static void to_pool(struct copier *c, struct copier_task *task)
{
	task->since_ms = now_ms();
	if (task->owner) {
		task->owner->in_pool++;
		task->owner->group->in_pool++;
		TAILQ_INSERT_TAIL(&task->owner->in_pool_list, task, owner_entry);
	}
	c->in_pool++;
	pthread_mutex_lock(&c->lock);
	TAILQ_INSERT_TAIL(&c->todo, task, entry);
	grow(c);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	if (c->deadline_ms)
		loop_timer_set(&c->sweep, SWEEP_MS);
}

void copier_submit(struct copier *c, struct copier_task *task)
{
	task->started = task->stalled = false;
	task->owner = owner_get(c, task->owner_key, task->group_key);
	if (task->owner && (owner_full(c, task->owner) || group_full(c, task->owner->group))) {
		if (owner_full(c, task->owner))
			c->waited_owner++;
		else
			c->waited_group++;
		task->since_ms = now_ms();
		TAILQ_INSERT_TAIL(&task->owner->waiting, task, owner_entry);
		if (c->deadline_ms)
			loop_timer_set(&c->sweep, SWEEP_MS);
		return;
	}
	to_pool(c, task);
}

/*
 * Moves waiting tasks of @g's owners into the pool while the group has room,
 * the oldest of each owner in turn (an owner served goes to the back).
 */
static void group_dispatch(struct copier *c, struct copier_group *g)
{
	while (!group_full(c, g)) {
		struct copier_owner *o;
		struct copier_task *next;

		TAILQ_FOREACH(o, &g->owners, group_entry) {
			if (!TAILQ_EMPTY(&o->waiting) && !owner_full(c, o))
				break;
		}
		if (!o)
			return;
		next = TAILQ_FIRST(&o->waiting);
		TAILQ_REMOVE(&o->waiting, next, owner_entry);
		TAILQ_REMOVE(&g->owners, o, group_entry);
		TAILQ_INSERT_TAIL(&g->owners, o, group_entry);
		to_pool(c, next);
	}
}

/* On the event loop, when the eventfd is readable: calls done() of finished tasks. */
static void copier_complete(struct copier *c)
{
	struct copier_queue done = TAILQ_HEAD_INITIALIZER(done);
	struct copier_task *task;
	uint64_t count;

	if (read(c->src.fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		log_error("copier: eventfd read: %s", strerror(errno));
	pthread_mutex_lock(&c->lock);
	TAILQ_CONCAT(&done, &c->finished, entry);
	pthread_mutex_unlock(&c->lock);
	while ((task = TAILQ_FIRST(&done)) != NULL) {
		struct copier_owner *o = task->owner;

		TAILQ_REMOVE(&done, task, entry);
		c->in_pool--;
		if (o) {
			TAILQ_REMOVE(&o->in_pool_list, task, owner_entry);
			o->in_pool--;
			o->group->in_pool--;
		}
		task->done(task); /* may free it */
		if (o) {
			group_dispatch(c, o->group);
			owner_put(c, o);
		}
	}
}

static void copier_handle(struct loop_source *src, uint32_t events)
{
	(void)events;
	copier_complete((struct copier *)((char *)src - offsetof(struct copier, src)));
}

/* Marks tasks running past the deadline stalled; returns whether a task is out. */
static bool sweep_pool(struct copier *c, uint64_t now)
{
	struct copier_owner *o, *tmp;
	bool grew = false;

	pthread_mutex_lock(&c->lock);
	HASH_ITER(hh, c->owners, o, tmp) {
		struct copier_task *task;

		TAILQ_FOREACH(task, &o->in_pool_list, owner_entry) {
			if (now - task->since_ms < c->deadline_ms)
				break; /* nor any after it */
			if (task->started && !task->stalled &&
			    now - task->started_ms >= c->deadline_ms) {
				task->stalled = true;
				c->stalled++;
				c->stalls++;
				grew = true;
				log_limited(LOG_LEVEL_NOTICE,
					    "pid %" PRIu64
					    ": a copy from its memory has stalled for %" PRIu64
					    " ms",
					    o->key, c->deadline_ms);
			}
		}
	}
	if (grew && !TAILQ_EMPTY(&c->todo)) {
		grow(c);
		pthread_cond_signal(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return c->in_pool > 0;
}

static void sweep(struct loop_timer *t)
{
	struct copier *c = (struct copier *)((char *)t - offsetof(struct copier, sweep));
	struct copier_owner *o, *tmp;
	uint64_t now = now_ms();
	bool out = sweep_pool(c, now);

	HASH_ITER(hh, c->owners, o, tmp) {
		struct copier_task *task;

		while ((task = TAILQ_FIRST(&o->waiting)) != NULL &&
		       now - task->since_ms >= c->deadline_ms) {
			TAILQ_REMOVE(&o->waiting, task, owner_entry);
			c->expired++;
			task->expired(task); /* may free it */
		}
		if (!TAILQ_EMPTY(&o->waiting))
			out = true;
		owner_put(c, o);
	}
	if (!out)
		loop_timer_set(t, 0);
}

int copier_init(struct copier *c, struct loop *loop, unsigned int max_workers,
		unsigned int per_owner, unsigned int per_group, unsigned int deadline_ms)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	TAILQ_INIT(&c->todo);
	TAILQ_INIT(&c->finished);
	c->max_workers = max_workers;
	c->per_owner = per_owner;
	c->per_group = per_group;
	c->deadline_ms = deadline_ms;
	c->threads = calloc(max_workers + COPIER_MAX_STALLED, sizeof(*c->threads));
	c->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->src.handle = copier_handle;
	c->loop = loop;
	c->sweep.src.fd = -1;
	if (!c->threads || c->src.fd < 0 || loop_watch(loop, &c->src, EPOLLIN) < 0 ||
	    loop_timer_init(loop, &c->sweep, sweep) < 0) {
		free(c->threads);
		c->threads = NULL;
		return -ENOMEM;
	}
	return 0;
}

unsigned int copier_busy(struct copier *c)
{
	unsigned int busy;

	pthread_mutex_lock(&c->lock);
	busy = c->workers - c->idle;
	pthread_mutex_unlock(&c->lock);
	return busy;
}

void copier_dump_stats(struct copier *c, FILE *out)
{
	unsigned int stalled;

	pthread_mutex_lock(&c->lock);
	stalled = c->stalled;
	pthread_mutex_unlock(&c->lock);
	fprintf(out, "copy workers busy: %u\n", copier_busy(c));
	fprintf(out, "copies stalled now: %u\n", stalled);
	fprintf(out, "copy stalls: %" PRIu64 "\n", c->stalls);
	fprintf(out, "copies expired: %" PRIu64 "\n", c->expired);
	fprintf(out, "copies waited for their process: %" PRIu64 "\n", c->waited_owner);
	fprintf(out, "copies waited for their uid: %" PRIu64 "\n", c->waited_group);
}

unsigned int copier_deinit(struct copier *c)
{
	struct copier_owner *o, *tmp;
	struct copier_group *g, *gtmp;
	uint64_t give_up = now_ms() + JOIN_WAIT_MS;
	unsigned int left = 0;

	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	for (unsigned int i = 0; i < c->workers; i++) {
		/* A worker blocked on a peer's memory may never return: wait a moment only. */
		while (pthread_tryjoin_np(c->threads[i], NULL) == EBUSY) {
			if (now_ms() >= give_up) {
				pthread_detach(c->threads[i]);
				left++;
				break;
			}
			usleep(1000);
		}
	}
	free(c->threads);
	c->threads = NULL;
	HASH_ITER(hh, c->owners, o, tmp) {
		HASH_DEL(c->owners, o);
		free(o);
	}
	HASH_ITER(hh, c->groups, g, gtmp) {
		HASH_DEL(c->groups, g);
		free(g);
	}
	loop_timer_deinit(&c->sweep);
	if (left) {
		log_warning("copier: %u workers still blocked on a peer's memory", left);
		return left; /* they still use the lock, the queues and the eventfd */
	}
	if (c->src.fd >= 0) {
		loop_unwatch(c->loop, &c->src);
		close(c->src.fd);
	}
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
	c->src.fd = -1;
	c->sweep.src.fd = -1;
	return 0;
}
