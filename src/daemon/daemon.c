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
#include <sys/un.h>
#include <unistd.h>

#include "common/guarded_copy.h"
#include "common/log.h"
#include "daemon/daemon.h"
#include "daemon/pressure.h"
#include "daemon/socket_dir.h"
#include "wire/wire.h"

#define TIMER_PERIOD_MS 10

static void signal_handle(struct loop_source *src, uint32_t events)
{
	struct daemon *d = (struct daemon *)((char *)src - offsetof(struct daemon, signal_src));
	struct signalfd_siginfo si;

	(void)events;
	while (read(src->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: shutting down", si.ssi_signo);
		loop_stop(&d->loop);
	}
}

static void driver_timer_fire(struct loop_timer *t)
{
	struct daemon *d = (struct daemon *)((char *)t - offsetof(struct daemon, driver_timer));

	driver_tick(d->drv, driver_now_ms());
}

/* After each event: reads of woken threads (before and between closes). */
static void flush_driver(void *daemon)
{
	struct daemon *d = daemon;

	driver_flush(d->drv);
}

/* After each event, once nothing is left to run: the driver's timer. */
static void update_timer(void *daemon)
{
	struct daemon *d = daemon;

	loop_timer_set(&d->driver_timer, driver_has_timers(d->drv) ? TIMER_PERIOD_MS : 0);
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

static int listener_open(struct daemon *d, struct conn_listener *l, int dirfd, const char *path)
{
	int fd = socket_listen_in(dirfd, path);

	if (fd < 0)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return conn_listen(l, &d->hub, fd);
}

int daemon_init(struct daemon *d, const struct daemon_config *cfg)
{
	struct driver_config dc = { 0 };
	sigset_t mask;
	int dirfd;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->uid = geteuid();
	d->loop.epfd = -1;
	d->signal_src.fd = d->driver_timer.src.fd = d->copier.src.fd = -1;
	log_threshold = (enum log_level)cfg->log_level;
	raise_nofile_limit();
	signal(SIGPIPE, SIG_IGN);
	/* Copies out of client-writable shared memory must not kill the daemon. */
	if (guarded_copy_init() < 0) {
		fprintf(stderr, "ubinderd: cannot install the SIGBUS handler\n");
		return -1;
	}

	d->roles[0] = &d->glue.session_role;
	d->roles[1] = &d->glue.thread_role;
	d->roles[2] = &d->admin.role;
	if (loop_init(&d->loop) < 0 || conn_hub_init(&d->hub, &d->loop, d->roles,
						     sizeof(d->roles) / sizeof(d->roles[0])) < 0) {
		fprintf(stderr, "ubinderd: out of resources\n");
		return -1;
	}
	d->loop.owner = d;
	if (copier_init(&d->copier, &d->loop, cfg->copy_workers) < 0) {
		fprintf(stderr, "ubinderd: cannot start copy workers\n");
		return -1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->signal_src.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->signal_src.handle = signal_handle;
	if (d->signal_src.fd < 0 || loop_watch(&d->loop, &d->signal_src, EPOLLIN) < 0 ||
	    loop_timer_init(&d->loop, &d->driver_timer, driver_timer_fire) < 0) {
		fprintf(stderr, "ubinderd: cannot set up signals and timers: %s\n",
			strerror(errno));
		return -1;
	}

	dc.max_region_size = cfg->max_region;
	dc.max_lru_pages = cfg->max_lru_pages;
	dc.max_threads = cfg->max_threads;
	dc.max_inline = cfg->max_inline;
	dc.max_read_size = UBW_MAX_READ_SIZE;
	dc.max_fds = UBW_MAX_FDS;
	dc.max_outbox = UBW_MAX_OUTBOX;
	d->drv = driver_new(&dc, &glue_driver_ops, &d->glue);
	if (!d->drv) {
		fprintf(stderr, "ubinderd: out of memory\n");
		return -1;
	}
	sessions_init(&d->sessions, &d->loop, d->drv, &d->copier, &d->cfg);
	glue_init(&d->glue, &d->sessions, d->drv, &d->copier);
	admin_init(&d->admin, d->drv, &d->copier, d->uid);
	d->loop.flush = flush_driver;
	d->loop.settled = update_timer;
	dirfd = socket_dir_open(cfg->socket_dir);
	if (dirfd < 0)
		return -1;
	d->pressure = calloc(1, sizeof(*d->pressure));
	if (d->pressure)
		pressure_init(d->pressure, &d->loop, d->drv);
	for (size_t i = 0; i < cfg->ncontexts; i++) {
		struct conn_listener *l = &d->listeners[i];
		char path[108];

		config_socket_path(cfg, i, path, sizeof(path));
		l->served = driver_add_context(d->drv, cfg->contexts[i]);
		if (!l->served || listener_open(d, l, dirfd, path) < 0) {
			close(dirfd);
			return -1;
		}
		d->nlisteners++;
		log_info("context %s on %s", cfg->contexts[i], path);
	}
	close(dirfd);
	return 0;
}

int daemon_run(struct daemon *d)
{
	return loop_run(&d->loop);
}

void daemon_deinit(struct daemon *d)
{
	if (d->drv) {
		sessions_deinit(&d->sessions);
		conn_hub_deinit(&d->hub);
	} else {
		free(d->hub.rx);
	}
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
	d->loop.flush = NULL;
	d->loop.settled = NULL;
	d->drv = driver_free(d->drv);
	if (d->signal_src.fd >= 0)
		close(d->signal_src.fd);
	loop_timer_deinit(&d->driver_timer);
	loop_deinit(&d->loop);
}
