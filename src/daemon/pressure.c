/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/pressure.h"

/* Trigger: 100 ms of "some" stall within a 2 s window (unprivileged-compatible). */
static const char trigger[] = "some 100000 2000000";
/* Fallback: poll every 2 s; act above this 10-second average stall percentage. */
#define POLL_SECONDS   2
#define POLL_THRESHOLD 5.0

/* The memory.pressure of our cgroup (v2), else the system's. */
static void find_pressure_file(char *buf, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");

	snprintf(buf, size, "/proc/pressure/memory");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char candidate[600];

		if (strncmp(line, "0::", 3) != 0)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(candidate, sizeof(candidate), "/sys/fs/cgroup%s/memory.pressure",
			 line + 3);
		if (strcmp(line + 3, "/") != 0 && access(candidate, R_OK) == 0 &&
		    strlen(candidate) < size)
			snprintf(buf, size, "%s", candidate);
		break;
	}
	fclose(f);
}

/* Gives back half the unused pages: enough to matter, not so eager that steady traffic pays. */
static void relieve(struct pressure *p)
{
	struct driver *drv = p->drv;
	size_t lru = driver_lru_pages(drv);
	size_t released;

	if (lru == 0)
		return;
	released = driver_relieve_pressure(drv, lru / 2 ? lru / 2 : 1);
	log_info("memory pressure: released %zu of %zu unused pages", released, lru);
}

static void on_trigger(struct loop_source *src, uint32_t events)
{
	struct pressure *p = (struct pressure *)src;

	if (events & (EPOLLERR | EPOLLHUP)) {
		log_warning("memory pressure trigger closed by the kernel");
		loop_unwatch(p->loop, &p->src);
		return;
	}
	relieve(p);
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
		relieve(p);
}

static void on_decay(struct loop_timer *t)
{
	struct pressure *p = (struct pressure *)((char *)t - offsetof(struct pressure, decay));
	size_t released = driver_decay(p->drv, driver_now_ms());

	if (released)
		log_debug("decay: released %zu unused pages", released);
	pressure_update(p);
}

void pressure_update(struct pressure *p)
{
	bool due = p->decay_period_ms && driver_next_decay(p->drv) != UINT64_MAX;

	loop_timer_set(&p->decay, due ? p->decay_period_ms : 0);
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

void pressure_init(struct pressure *p, struct loop *loop, struct driver *drv, unsigned int decay_ms)
{
	struct itimerspec its = { .it_interval = { POLL_SECONDS, 0 },
				  .it_value = { POLL_SECONDS, 0 } };
	int fd;

	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->drv = drv;
	p->src.fd = -1;
	p->decay.src.fd = -1;
	decay_init(p, decay_ms);
	find_pressure_file(p->path, sizeof(p->path));
	fd = open(p->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && write(fd, trigger, strlen(trigger) + 1) > 0) {
		p->src.fd = fd;
		p->src.handle = on_trigger;
		if (loop_watch(loop, &p->src, EPOLLPRI) == 0) {
			log_info("memory pressure: trigger on %s", p->path);
			return;
		}
	}
	if (fd >= 0)
		close(fd);
	if (access(p->path, R_OK) < 0) {
		log_info("memory pressure: no PSI (%s); the LRU is shrunk on demand only", p->path);
		p->src.fd = -1;
		return;
	}
	/* Triggers refused (unprivileged before 6.4, or read-only): poll the averages. */
	p->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->src.fd < 0)
		return;
	p->src.handle = on_poll;
	timerfd_settime(p->src.fd, 0, &its, NULL);
	loop_watch(loop, &p->src, EPOLLIN);
	log_info("memory pressure: polling %s every %d s", p->path, POLL_SECONDS);
}

void pressure_deinit(struct pressure *p)
{
	loop_timer_deinit(&p->decay);
	if (p->src.fd >= 0) {
		loop_unwatch(p->loop, &p->src);
		close(p->src.fd);
	}
	p->src.fd = -1;
}
