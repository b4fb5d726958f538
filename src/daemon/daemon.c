/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/guarded_copy.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/pressure.h"
#include "daemon/socket_dir.h"

#define TIMER_PERIOD_MS 10

void daemon_bury(struct daemon *d, void *p)
{
	if (d->ngraveyard == d->graveyard_cap) {
		size_t cap = d->graveyard_cap ? 2 * d->graveyard_cap : 64;
		void **grown = realloc(d->graveyard, cap * sizeof(*grown));

		if (!grown) {
			/* Leaking beats a use-after-free. */
			log_error("out of memory: leaking %p", p);
			return;
		}
		d->graveyard = grown;
		d->graveyard_cap = cap;
	}
	d->graveyard[d->ngraveyard++] = p;
}

static void empty_graveyard(struct daemon *d)
{
	for (size_t i = 0; i < d->ngraveyard; i++)
		free(d->graveyard[i]);
	d->ngraveyard = 0;
}

int daemon_watch(struct daemon *d, struct source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0) {
		log_warning("epoll_ctl add: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void daemon_unwatch(struct daemon *d, struct source *src)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

void daemon_rewatch(struct daemon *d, struct source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	epoll_ctl(d->epfd, EPOLL_CTL_MOD, src->fd, &ev);
}

static void listener_handle(struct source *src, uint32_t events)
{
	(void)events;
	conn_accept((struct listener *)src);
}

static void copier_handle(struct source *src, uint32_t events)
{
	struct daemon *d = (struct daemon *)((char *)src - offsetof(struct daemon, copier_src));

	(void)events;
	copier_complete(&d->copier);
}

static void signal_handle(struct source *src, uint32_t events)
{
	struct daemon *d = (struct daemon *)((char *)src - offsetof(struct daemon, signal_src));
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		d->stopping = true;
	}
}

static void timer_handle(struct source *src, uint32_t events)
{
	struct daemon *d = (struct daemon *)((char *)src - offsetof(struct daemon, timer_src));
	uint64_t ticks;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warning("timerfd: %s", strerror(errno));
	driver_tick(d->drv, driver_now_ms());
}

static void update_timer(struct daemon *d)
{
	bool want = driver_has_timers(d->drv);
	struct itimerspec its = { 0 };

	if (want == d->timer_armed)
		return;
	if (want) {
		its.it_interval.tv_nsec = TIMER_PERIOD_MS * 1000000L;
		its.it_value.tv_nsec = TIMER_PERIOD_MS * 1000000L;
	}
	timerfd_settime(d->timer_src.fd, 0, &its, NULL);
	d->timer_armed = want;
}

static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warning("cannot raise RLIMIT_NOFILE: %s", strerror(errno));
	}
}

static int listener_open(struct daemon *d, struct listener *l, int dirfd, const char *path)
{
	int fd = socket_listen_in(dirfd, path);

	if (fd < 0)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->src.fd = fd;
	l->src.handle = listener_handle;
	l->daemon = d;
	return daemon_watch(d, &l->src, EPOLLIN);
}

int daemon_init(struct daemon *d, const struct daemon_config *cfg)
{
	struct driver_config dc = { 0 };
	sigset_t mask;
	int dirfd;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->uid = geteuid();
	d->epfd = -1;
	d->signal_src.fd = d->timer_src.fd = d->copier_src.fd = -1;
	LIST_INIT(&d->conns);
	TAILQ_INIT(&d->close_list);
	LIST_INIT(&d->sessions);
	log_threshold = (enum log_level)cfg->log_level;
	raise_nofile_limit();
	signal(SIGPIPE, SIG_IGN);
	/* Copies out of client-writable shared memory must not kill the daemon. */
	if (guarded_copy_init() < 0) {
		fprintf(stderr, "ubinderd: cannot install the SIGBUS handler\n");
		return -1;
	}

	d->rx = malloc(UBW_MAX_MESSAGE);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!d->rx || d->epfd < 0) {
		fprintf(stderr, "ubinderd: out of resources\n");
		return -1;
	}
	if (copier_init(&d->copier, cfg->copy_workers) < 0) {
		fprintf(stderr, "ubinderd: cannot start copy workers\n");
		return -1;
	}
	d->copier_src.fd = d->copier.event_fd;
	d->copier_src.handle = copier_handle;
	daemon_watch(d, &d->copier_src, EPOLLIN);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->signal_src.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->signal_src.handle = signal_handle;
	d->timer_src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->timer_src.handle = timer_handle;
	if (d->signal_src.fd < 0 || d->timer_src.fd < 0) {
		fprintf(stderr, "ubinderd: cannot set up signals and timers: %s\n",
			strerror(errno));
		return -1;
	}
	daemon_watch(d, &d->signal_src, EPOLLIN);
	daemon_watch(d, &d->timer_src, EPOLLIN);

	dc.max_region_size = cfg->max_region;
	dc.max_lru_pages = cfg->max_lru_pages;
	dc.max_threads = cfg->max_threads;
	dc.max_inline = cfg->max_inline;
	d->drv = driver_new(&dc, &daemon_driver_ops, d);
	if (!d->drv) {
		fprintf(stderr, "ubinderd: out of memory\n");
		return -1;
	}
	dirfd = socket_dir_open(cfg->socket_dir);
	if (dirfd < 0)
		return -1;
	d->pressure = calloc(1, sizeof(*d->pressure));
	if (d->pressure)
		pressure_init(d->pressure, d);
	for (size_t i = 0; i < cfg->ncontexts; i++) {
		struct listener *l = &d->listeners[i];
		char path[108];

		config_socket_path(cfg, i, path, sizeof(path));
		l->context = driver_add_context(d->drv, cfg->contexts[i]);
		if (!l->context || listener_open(d, l, dirfd, path) < 0) {
			close(dirfd);
			return -1;
		}
		d->nlisteners++;
		log_info("context %s on %s", cfg->contexts[i], path);
	}
	close(dirfd);
	return 0;
}

/* Runs what an event left behind: reads of woken threads, then closes. */
static void settle(struct daemon *d)
{
	for (;;) {
		struct conn *conn;

		driver_flush(d->drv);
		conn = TAILQ_FIRST(&d->close_list);
		if (!conn)
			break;
		TAILQ_REMOVE(&d->close_list, conn, close_entry);
		conn_close(conn);
	}
	update_timer(d);
}

int daemon_run(struct daemon *d)
{
	struct epoll_event events[64];

	while (!d->stopping) {
		int n = epoll_wait(d->epfd, events, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct source *src = events[i].data.ptr;

			src->handle(src, events[i].events);
			settle(d);
		}
		empty_graveyard(d);
	}
	return 0;
}

void daemon_deinit(struct daemon *d)
{
	struct session *s;
	struct conn *conn;

	while ((s = LIST_FIRST(&d->sessions)) != NULL) {
		session_release(s);
		settle(d);
	}
	while ((conn = LIST_FIRST(&d->conns)) != NULL) {
		daemon_defer_close(conn);
		settle(d);
	}
	empty_graveyard(d);
	free(d->graveyard);
	if (d->pressure) {
		pressure_deinit(d->pressure);
		free(d->pressure);
		d->pressure = NULL;
	}
	/* Copy tasks still running finish before the driver goes away. */
	copier_deinit(&d->copier);
	for (size_t i = 0; i < d->nlisteners; i++) {
		close(d->listeners[i].src.fd);
		unlink(d->listeners[i].path);
	}
	d->drv = driver_free(d->drv);
	if (d->signal_src.fd >= 0)
		close(d->signal_src.fd);
	if (d->timer_src.fd >= 0)
		close(d->timer_src.fd);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->rx);
}
