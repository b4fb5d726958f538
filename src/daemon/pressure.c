/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/pressure.h"

/* Trigger: 100 ms of "some" stall within a 2 s window (unprivileged-compatible). */
static const char trigger[] = "some 100000 2000000";
/*
 * The v1 cgroup's notification: any reclaim aimed at the daemon's own
 * cgroup (its limit is hit; the kernel's shrinkers run then too), not at
 * its children, whose limits the daemon's pages do not count against.
 * Kernels before 4.16 know no mode: "low" alone counts the children too.
 */
static const char *const memcg_levels[] = { "low,local", "low" };
/* Fallback: poll every 2 s; act above this 10-second average stall percentage. */
#define POLL_SECONDS   2
#define POLL_THRESHOLD 5.0

/* Monotonic microseconds, for the drain time. */
static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Gives back every unused page: under pressure they are a cache only the
 * daemon can drop (shmem without swap), and a partial drain would leave the
 * rest until the next trigger, a whole window later.
 */
static void relieve(struct pressure *p, enum pressure_source source)
{
	struct driver *drv = p->drv;
	size_t lru = driver_lru_pages(drv);
	uint64_t start = now_us(), took;
	size_t released;

	p->stats.events[source]++;
	/* Even with an empty LRU: outbox pages clients freed go too. */
	released = driver_relieve_pressure(drv, lru);
	if (released == 0)
		return;
	took = now_us() - start;
	p->stats.pages_released += released;
	p->stats.last_drain_us = took;
	if (took > p->stats.max_drain_us)
		p->stats.max_drain_us = took;
	log_info("memory pressure (%s): released %zu of %zu unused pages in %" PRIu64 " us",
		 pressure_source_names[source], released, lru, took);
}

const char *const pressure_source_names[PRESSURE_SOURCES] = {
	[PRESSURE_PSI] = "psi",
	[PRESSURE_MEMCG] = "memcg",
	[PRESSURE_POLL] = "poll",
};

static void on_trigger(struct loop_source *src, uint32_t events)
{
	struct pressure *p = (struct pressure *)src;

	if (events & (EPOLLERR | EPOLLHUP)) {
		log_warning("memory pressure trigger closed by the kernel");
		loop_unwatch(p->loop, &p->src);
		return;
	}
	relieve(p, PRESSURE_PSI);
}

/* The v1 memory cgroup reclaims: its pressure_level eventfd counted one or more events. */
static void on_memcg_event(struct loop_source *src, uint32_t events)
{
	struct pressure *p =
		(struct pressure *)((char *)src - offsetof(struct pressure, memcg_src));
	uint64_t count;

	(void)events;
	if (read(src->fd, &count, sizeof(count)) != sizeof(count))
		return;
	relieve(p, PRESSURE_MEMCG);
}

static void on_poll(struct loop_source *src, uint32_t events)
{
	struct pressure *p = (struct pressure *)src;
	char text[256];
	uint64_t ticks;
	double avg10 = 0;
	ssize_t n;
	int fd;

	(void)events;
	if (read(src->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	if (sscanf(text, "some avg10=%lf", &avg10) == 1 && avg10 >= POLL_THRESHOLD)
		relieve(p, PRESSURE_POLL);
}

/* Whether the LRU holds a page that decay will release some day. */
static bool decay_due(const struct pressure *p)
{
	return p->decay_period_ms && driver_next_decay(p->drv) != UINT64_MAX;
}

static void on_decay(struct loop_timer *t)
{
	struct pressure *p = (struct pressure *)((char *)t - offsetof(struct pressure, decay));
	size_t released = driver_decay(p->drv, driver_now_ms());

	if (released)
		log_debug("decay: released %zu unused pages", released);
	/* Only a tick disarms: see pressure_update. */
	loop_timer_set(&p->decay, decay_due(p) ? p->decay_period_ms : 0);
}

/*
 * Arms, never disarms: a page that enters the LRU and leaves it on every
 * call (a buffer freed and the next one allocated on its page) would
 * otherwise cost two timerfd_settime calls per call. The next tick that
 * finds the LRU empty disarms, so an idle daemon still has no timer after
 * one period.
 */
void pressure_update(struct pressure *p)
{
	if (!p->decay.period_ms && decay_due(p))
		loop_timer_set(&p->decay, p->decay_period_ms);
}

/* The decay timer, disarmed; decay stays off when it cannot be created. */
static void decay_init(struct pressure *p, unsigned int decay_ms)
{
	if (!decay_ms)
		return;
	if (loop_timer_init(p->loop, &p->decay, on_decay) < 0) {
		log_warning("lru decay off: cannot create a timer: %s", strerror(errno));
		return;
	}
	p->decay_period_ms = decay_ms / 4 > 250 ? decay_ms / 4 : 250;
}

/* The v1 memory cgroup's reclaim notification (memory.pressure_level). */
static void memcg_event_init(struct pressure *p)
{
	char level_path[320], control[320], line[64];
	const char *level = NULL;
	int level_fd, control_fd, efd;
	bool armed = false;

	if (!p->memcg.v1_dir[0])
		return;
	snprintf(level_path, sizeof(level_path), "%s/memory.pressure_level", p->memcg.v1_dir);
	snprintf(control, sizeof(control), "%s/cgroup.event_control", p->memcg.v1_dir);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	level_fd = open(level_path, O_RDONLY | O_CLOEXEC);
	control_fd = open(control, O_WRONLY | O_CLOEXEC);
	for (size_t i = 0; efd >= 0 && level_fd >= 0 && control_fd >= 0 && !armed &&
			   i < sizeof(memcg_levels) / sizeof(memcg_levels[0]);
	     i++) {
		int n = snprintf(line, sizeof(line), "%d %d %s", efd, level_fd, memcg_levels[i]);

		armed = write(control_fd, line, (size_t)n) == n;
		level = memcg_levels[i];
	}
	if (level_fd >= 0)
		close(level_fd);
	if (control_fd >= 0)
		close(control_fd);
	p->memcg_src.fd = efd;
	p->memcg_src.handle = on_memcg_event;
	if (armed && loop_watch(p->loop, &p->memcg_src, EPOLLIN) == 0) {
		log_info("memory pressure: reclaim notification (%s) of %s", level,
			 p->memcg.v1_dir);
		return;
	}
	log_warning("memory pressure: no reclaim notification from %s: %s", p->memcg.v1_dir,
		    strerror(errno));
	if (efd >= 0)
		close(efd);
	p->memcg_src.fd = -1;
}

/* The driver's hook: pages the memory cgroup can still take. */
static size_t headroom_pages(void *ctx, size_t wanted)
{
	struct pressure *p = ctx;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes =
		memcg_headroom(&p->memcg, wanted > SIZE_MAX / page ? SIZE_MAX : wanted * page);

	return bytes == SIZE_MAX ? SIZE_MAX : bytes / page;
}

/* The PSI file of the daemon's v2 cgroup, else the system's. */
static void find_pressure_file(const struct memcg *m, char *buf, size_t size)
{
	char candidate[300];

	snprintf(buf, size, "/proc/pressure/memory");
	snprintf(candidate, sizeof(candidate), "%s/memory.pressure", m->v2_dir);
	if (m->v2_dir[0] && strlen(candidate) < size && access(candidate, R_OK) == 0)
		snprintf(buf, size, "%s", candidate);
}

/* The PSI trigger, else polling the averages; nothing without PSI. */
static void psi_init(struct pressure *p)
{
	struct itimerspec its = { .it_interval = { POLL_SECONDS, 0 },
				  .it_value = { POLL_SECONDS, 0 } };
	int fd;

	find_pressure_file(&p->memcg, p->path, sizeof(p->path));
	fd = open(p->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && write(fd, trigger, strlen(trigger) + 1) > 0) {
		p->src.fd = fd;
		p->src.handle = on_trigger;
		if (loop_watch(p->loop, &p->src, EPOLLPRI) == 0) {
			log_info("memory pressure: trigger on %s", p->path);
			return;
		}
	}
	if (fd >= 0)
		close(fd);
	p->src.fd = -1;
	if (access(p->path, R_OK) < 0) {
		log_info("memory pressure: no PSI (%s)", p->path);
		return;
	}
	/* Triggers refused (unprivileged before 6.4, or read-only): poll the averages. */
	p->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->src.fd < 0)
		return;
	p->src.handle = on_poll;
	p->polling = true;
	timerfd_settime(p->src.fd, 0, &its, NULL);
	loop_watch(p->loop, &p->src, EPOLLIN);
	log_info("memory pressure: polling %s every %d s", p->path, POLL_SECONDS);
}

void pressure_init(struct pressure *p, struct loop *loop, struct driver *drv, unsigned int decay_ms)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->drv = drv;
	p->src.fd = -1;
	p->memcg_src.fd = -1;
	p->decay.src.fd = -1;
	decay_init(p, decay_ms);
	memcg_init(&p->memcg);
	psi_init(p);
	memcg_event_init(p);
	if (p->memcg.version)
		driver_set_memory_headroom(drv, headroom_pages, p);
	else if (p->src.fd < 0)
		log_info("memory pressure: no trigger; the LRU is shrunk on demand only");
}

void pressure_dump_stats(const struct pressure *p, FILE *out)
{
	const struct pressure_stats *st = &p->stats;

	fprintf(out, "pressure trigger: %s%s\n", p->src.fd < 0 ? "none" : p->path,
		p->polling ? " (polled)" : "");
	fprintf(out, "pressure notification: %s\n", p->memcg_src.fd < 0 ? "none" : p->memcg.v1_dir);
	fprintf(out, "memory limit of: %s\n",
		p->memcg.version == 1	? p->memcg.v1_dir
		: p->memcg.version == 2 ? p->memcg.v2_dir
					: "none");
	fprintf(out, "pressure events:");
	for (int i = 0; i < PRESSURE_SOURCES; i++)
		fprintf(out, " %s %" PRIu64, pressure_source_names[i], st->events[i]);
	fprintf(out, "\npressure pages released: %" PRIu64 "\n", st->pages_released);
	fprintf(out, "pressure last drain us: %" PRIu64 "\n", st->last_drain_us);
	fprintf(out, "pressure max drain us: %" PRIu64 "\n", st->max_drain_us);
}

void pressure_deinit(struct pressure *p)
{
	struct loop_source *srcs[] = { &p->src, &p->memcg_src };

	loop_timer_deinit(&p->decay);
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		if (srcs[i]->fd >= 0) {
			loop_unwatch(p->loop, srcs[i]);
			close(srcs[i]->fd);
		}
		srcs[i]->fd = -1;
	}
	driver_set_memory_headroom(p->drv, NULL, NULL);
	memcg_deinit(&p->memcg);
}
