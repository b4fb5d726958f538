/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/copier.h"

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
		pthread_mutex_unlock(&c->lock);

		task->run(task);

		pthread_mutex_lock(&c->lock);
		TAILQ_INSERT_TAIL(&c->finished, task, entry);
		if (write(c->src.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("copier: cannot wake the event loop: %s", strerror(errno));
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void copier_complete(struct copier *c);

static void copier_handle(struct loop_source *src, uint32_t events)
{
	(void)events;
	copier_complete((struct copier *)((char *)src - offsetof(struct copier, src)));
}

int copier_init(struct copier *c, struct loop *loop, unsigned int max_workers)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	TAILQ_INIT(&c->todo);
	TAILQ_INIT(&c->finished);
	c->max_workers = max_workers;
	c->threads = calloc(max_workers, sizeof(*c->threads));
	c->src.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->src.handle = copier_handle;
	c->loop = loop;
	if (!c->threads || c->src.fd < 0 || loop_watch(loop, &c->src, EPOLLIN) < 0) {
		free(c->threads);
		c->threads = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Called with the lock held. */
static void grow(struct copier *c)
{
	pthread_attr_t attr;

	if (c->idle > 0 || c->workers >= c->max_workers)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&c->threads[c->workers], &attr, worker_main, c) == 0)
		c->workers++;
	else if (c->workers == 0)
		log_error("copier: cannot start a worker thread");
	pthread_attr_destroy(&attr);
}

void copier_submit(struct copier *c, struct copier_task *task)
{
	pthread_mutex_lock(&c->lock);
	TAILQ_INSERT_TAIL(&c->todo, task, entry);
	grow(c);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
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
		TAILQ_REMOVE(&done, task, entry);
		task->done(task);
	}
}

unsigned int copier_busy(struct copier *c)
{
	unsigned int busy;

	pthread_mutex_lock(&c->lock);
	busy = c->workers - c->idle;
	pthread_mutex_unlock(&c->lock);
	return busy;
}

void copier_deinit(struct copier *c)
{
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	for (unsigned int i = 0; i < c->workers; i++)
		pthread_join(c->threads[i], NULL);
	free(c->threads);
	if (c->src.fd >= 0) {
		loop_unwatch(c->loop, &c->src);
		close(c->src.fd);
	}
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
	c->src.fd = -1;
}
