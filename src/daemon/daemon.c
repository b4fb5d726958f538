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
#include "daemon/activation.h"
#include "daemon/conn_ring.h"
#include "daemon/daemon.h"
#include "daemon/pressure.h"
#include "daemon/seccomp_calls.h"
#include "daemon/socket_dir.h"
#include "wire/wire.h"

#define TIMER_PERIOD_MS	     10
/* Descriptors unfinished requests may park: 4 requests' worth per process, 16 per uid. */
#define PARTIAL_FDS_PER_PROC (4 * UBW_MAX_FDS)
#define PARTIAL_FDS_PER_UID  (16 * UBW_MAX_FDS)

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

/* The daemon's part of `ubinderctl stats`. */
static void dump_stats(void *daemon, FILE *out)
{
	struct daemon *d = daemon;

	copier_dump_stats(&d->copier, out);
	conn_hub_dump_stats(&d->hub, out);
	uid_quotas_dump_stats(&d->quotas, "", out);
	assemblies_dump_stats(&d->assemblies, out);
	glue_dump_stats(&d->glue, out);
	if (d->pressure)
		pressure_dump_stats(d->pressure, out);
	supervisors_dump_stats(&d->supervisors, out);
	if (d->fuse)
		fuse_server_dump_stats(d->fuse, out);
}

/* The daemon's part of `ubinderctl proc PID`. */
static void dump_proc(void *daemon, pid_t pid, FILE *out)
{
	struct daemon *d = daemon;

	sessions_dump_proc(&d->sessions, pid, out);
}

/* After each event, once nothing is left to run: the driver's timer. */
static void update_timer(void *daemon)
{
	struct daemon *d = daemon;

	glue_make_offers(&d->glue);
	loop_timer_set(&d->driver_timer, driver_has_timers(d->drv) ? TIMER_PERIOD_MS : 0);
	if (d->pressure)
		pressure_update(d->pressure);
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

/* Serves the listening socket @fd (-1: it could not be made); @path is removed at exit. */
static int listener_start(struct daemon *d, struct conn_listener *l, int fd, const char *path)
{
	if (fd < 0)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s", path);
	return conn_listen(l, &d->hub, fd);
}

/* --fuse-dev: the contexts as files of a FUSE mount. */
static int fuse_start(struct daemon *d)
{
	struct context *ctxs[DAEMON_MAX_CONTEXTS];
	struct fuse_server_config fc = {
		.dir = d->cfg.fuse_dir,
		.loop = &d->loop,
		.drv = d->drv,
		.copier = &d->copier,
		.quotas = &d->quotas,
		.max_body = sessions_max_body(&d->sessions),
		.max_region = d->cfg.max_region,
		.names = d->cfg.contexts,
		.ctxs = ctxs,
		.nctx = d->nlisteners,
	};

	for (size_t i = 0; i < d->nlisteners; i++)
		ctxs[i] = d->listeners[i].served;
	d->fuse = calloc(1, sizeof(*d->fuse));
	if (!d->fuse) {
		fprintf(stderr, "ubinderd: out of memory\n");
		return -1;
	}
	return fuse_server_init(d->fuse, &fc);
}

int daemon_init(struct daemon *d, const struct daemon_config *cfg)
{
	struct driver_config dc = { 0 };
	int passed[DAEMON_MAX_CONTEXTS];
	sigset_t mask;
	int activated, dirfd;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->uid = geteuid();
	d->loop.epfd = -1;
	d->hub.reserve_fd = d->hub.resume.src.fd = -1;
	daemon_quotas_init(&d->quotas);
	d->quotas.limit[QUOTA_SESSIONS] = cfg->max_sessions_per_uid;
	d->quotas.limit[QUOTA_THREADS] = cfg->max_threads_per_uid;
	d->quotas.limit[QUOTA_PARTIAL_BYTES] = cfg->max_partial_per_uid;
	d->quotas.limit[QUOTA_PARTIAL_FDS] = PARTIAL_FDS_PER_UID;
	d->assemblies.timer.src.fd = -1;
	d->signal_src.fd = d->driver_timer.src.fd = d->copier.src.fd = d->copier.sweep.src.fd = -1;
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
	d->roles[3] = &d->supervisors.role;
	if (loop_init(&d->loop) < 0 || conn_hub_init(&d->hub, &d->loop, d->roles,
						     sizeof(d->roles) / sizeof(d->roles[0])) < 0) {
		fprintf(stderr, "ubinderd: out of resources\n");
		return -1;
	}
	d->loop.owner = d;
	conn_ring_hub_init(&d->hub, cfg->spin_us * 1000u, cfg->wake_batch);
	if (copier_init(&d->copier, &d->loop, cfg->copy_workers, cfg->copies_per_proc,
			cfg->copies_per_uid, cfg->copy_timeout_ms) < 0) {
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
	dc.max_installed_pages = cfg->max_installed_pages;
	dc.lru_decay_ms = cfg->lru_decay_s * 1000;
	dc.huge_page_size = cfg->huge_pages;
	dc.max_threads = cfg->max_threads;
	dc.max_inline = cfg->max_inline;
	dc.freeze_any_uid = cfg->freeze_any_uid;
	dc.max_read_size = UBW_MAX_READ_SIZE;
	dc.max_fds = UBW_MAX_FDS;
	dc.max_outbox = UBW_MAX_OUTBOX;
	dc.max_nodes_per_uid = cfg->max_nodes_per_uid;
	dc.max_refs_per_uid = cfg->max_refs_per_uid;
	dc.max_deaths_per_uid = cfg->max_deaths_per_uid;
	dc.max_oneway_bytes_per_uid = cfg->max_oneway_per_uid;
	d->drv = driver_new(&dc, &glue_driver_ops, &d->glue);
	if (!d->drv) {
		fprintf(stderr, "ubinderd: out of memory\n");
		return -1;
	}
	sessions_init(&d->sessions, &d->loop, d->drv, &d->quotas, &d->cfg);
	if (assemblies_init(&d->assemblies, &d->loop, &d->quotas,
			    &(struct assembly_limits){ .proc_bytes = cfg->max_partial_per_proc,
						       .proc_fds = PARTIAL_FDS_PER_PROC,
						       .timeout_ms = cfg->partial_timeout_ms }) <
	    0) {
		fprintf(stderr, "ubinderd: cannot set up timers: %s\n", strerror(errno));
		return -1;
	}
	glue_init(&d->glue, &d->sessions, &d->assemblies, d->drv, &d->copier, &d->hub);
	if (supervisors_init(&d->supervisors, &d->loop, d->drv, &d->copier, &d->quotas, &d->hub,
			     sessions_max_body(&d->sessions), &sc_calls_ops) < 0) {
		fprintf(stderr, "ubinderd: cannot set up timers: %s\n", strerror(errno));
		return -1;
	}
	admin_init(&d->admin, d->drv, d->uid, dump_stats, dump_proc, d);
	d->loop.flush = flush_driver;
	d->loop.settled = update_timer;
	/* Sockets a service manager passed, else our own in a directory of ours. */
	activated = activation_claim(cfg->contexts, cfg->ncontexts, passed);
	if (activated < 0)
		return -1;
	dirfd = activated ? -1 : socket_dir_open(cfg->socket_dir);
	if (!activated && dirfd < 0)
		return -1;
	d->pressure = calloc(1, sizeof(*d->pressure));
	if (d->pressure)
		pressure_init(d->pressure, &d->loop, d->drv, cfg->lru_decay_s * 1000);
	for (size_t i = 0; i < cfg->ncontexts; i++) {
		struct conn_listener *l = &d->listeners[i];
		char path[108];

		config_socket_path(cfg, i, path, sizeof(path));
		l->served = driver_add_context(d->drv, cfg->contexts[i]);
		if (!l->served ||
		    listener_start(d, l, activated ? passed[i] : socket_listen_in(dirfd, path),
				   activated ? "" : path) < 0) {
			if (dirfd >= 0)
				close(dirfd);
			return -1;
		}
		d->nlisteners++;
		log_info("context %s on %s", cfg->contexts[i],
			 activated ? "a passed socket" : path);
	}
	if (dirfd >= 0)
		close(dirfd);
	if (cfg->fuse_dir[0])
		return fuse_start(d);
	return 0;
}

int daemon_run(struct daemon *d)
{
	return loop_run(&d->loop);
}

void daemon_deinit(struct daemon *d)
{
	if (d->fuse)
		fuse_server_stop(d->fuse);
	if (d->drv) {
		supervisors_deinit(&d->supervisors);
		sessions_deinit(&d->sessions);
	}
	if (d->hub.loop)
		conn_hub_deinit(&d->hub);
	assemblies_deinit(&d->assemblies);
	if (d->pressure) {
		pressure_deinit(d->pressure);
		free(d->pressure);
		d->pressure = NULL;
	}
	/* Copy tasks still running finish before the driver goes away. */
	if (copier_deinit(&d->copier) > 0) {
		/* Workers blocked on a peer's memory would write into its regions. */
		log_warning("exiting with the driver's memory left in place");
		d->drv = NULL;
	}
	if (d->fuse) {
		fuse_server_deinit(d->fuse);
		free(d->fuse);
		d->fuse = NULL;
	}
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
	uid_quotas_deinit(&d->quotas);
}
