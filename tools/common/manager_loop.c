/* SPDX-License-Identifier: MIT */
#include "manager_loop.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

bool manager_verbose;

void manager_say(const char *fmt, ...)
{
	va_list ap;

	if (!manager_verbose)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

static int open_signalfd(void)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	return signalfd(-1, &sigs, SFD_CLOEXEC);
}

static int open_timerfd(long ms)
{
	struct itimerspec its = { 0 };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -1;
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int manager_start(struct manager *m, const char *path, manager_new_self *new_self)
{
	int err;

	m->ctx = NULL;
	m->self = NULL;
	m->timerfd = -1;
	m->sigfd = open_signalfd();
	if (m->sigfd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", m->prog, strerror(errno));
		return -1;
	}
	if (m->tick_ms > 0) {
		m->timerfd = open_timerfd(m->tick_ms);
		if (m->timerfd < 0) {
			fprintf(stderr, "%s: timerfd: %s\n", m->prog, strerror(errno));
			goto fail;
		}
	}
	err = ubinder_context_open(path, &m->ctx);
	if (err) {
		fprintf(stderr, "%s: cannot open the context at %s: %s\n", m->prog,
			path ? path : "the default socket", ubinder_strerror(err));
		goto fail;
	}
	err = new_self(m->ctx, &m->self);
	if (!err)
		err = ubinder_context_become_manager(m->ctx, m->self);
	if (err) {
		fprintf(stderr, "%s: cannot become the context manager: %s\n", m->prog,
			err == UBINDER_ERR_ALREADY_EXISTS ? "another one is running"
							  : ubinder_strerror(err));
		goto fail;
	}
	return 0;
fail:
	manager_stop(m);
	return -1;
}

int manager_run(struct manager *m)
{
	struct pollfd pfd[3] = {
		{ .fd = ubinder_context_get_fd(m->ctx), .events = POLLIN },
		{ .fd = m->sigfd, .events = POLLIN },
		{ .fd = m->timerfd, .events = POLLIN },
	};
	nfds_t n = m->timerfd >= 0 ? 3 : 2;
	int err, status = 0;

	for (;;) {
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", m->prog, strerror(errno));
			status = 1;
			break;
		}
		if (pfd[1].revents)
			break;
		if (n == 3 && pfd[2].revents) {
			uint64_t ticks;

			if (read(m->timerfd, &ticks, sizeof(ticks)) > 0)
				m->tick();
		}
		err = ubinder_context_process(m->ctx);
		if (err) {
			fprintf(stderr, "%s: %s\n", m->prog, ubinder_strerror(err));
			status = 1;
			break;
		}
	}
	manager_say("stopping");
	return status;
}

void manager_stop(struct manager *m)
{
	ubinder_binder_unref(m->self);
	ubinder_context_close(m->ctx);
	if (m->sigfd >= 0)
		close(m->sigfd);
	if (m->timerfd >= 0)
		close(m->timerfd);
	m->self = NULL;
	m->ctx = NULL;
	m->sigfd = m->timerfd = -1;
}

bool manager_clients_changed(ubinder_binder *service, bool *has, bool *guarantee, long *strong)
{
	uint32_t count;
	bool now;

	if (strong)
		*strong = -1;
	if (!service || ubinder_binder_is_local(service) ||
	    ubinder_binder_get_node_counts(service, &count, NULL))
		return false;
	if (strong)
		*strong = count;
	/* The service's own process holds no ref on its node; the manager holds one. */
	now = count > 1 || *guarantee;
	*guarantee = false;
	if (now == *has)
		return false;
	*has = now;
	return true;
}

/* Sends @data (built with outcome @err) and frees it; logs a failure with @what. */
static void send_oneway(ubinder_binder *callback, uint32_t code, ubinder_parcel *data, int err,
			const char *what)
{
	if (!err)
		err = ubinder_binder_transact(callback, code, data, UBINDER_FLAG_ONEWAY, NULL);
	if (err)
		manager_say("%s: %s", what, ubinder_strerror(err));
	ubinder_parcel_free(data);
}

const struct manager_dialect manager_aidl = {
	.write_interface_token = ubinder_parcel_write_interface_token,
	.write_string = ubinder_parcel_write_string16_utf8,
	.write_binder = ubinder_parcel_write_binder,
};

const struct manager_dialect manager_hidl = {
	.write_interface_token = ubinder_hidl_write_interface_token,
	.write_string = ubinder_hidl_write_string,
	.write_binder = ubinder_hidl_write_binder,
};

/* Writes one argument of manager_call_oneway(). */
static int write_argument(const struct manager_dialect *dialect, ubinder_parcel *p, char type,
			  va_list *args)
{
	switch (type) {
	case 's':
		return dialect->write_string(p, va_arg(*args, const char *));
	case 'o':
		return dialect->write_binder(p, va_arg(*args, ubinder_binder *));
	case 'b':
		return ubinder_parcel_write_bool(p, va_arg(*args, int) != 0);
	default:
		return UBINDER_ERR_BAD_VALUE;
	}
}

void manager_call_oneway(const struct manager_dialect *dialect, ubinder_binder *callback,
			 const char *descriptor, uint32_t code, const char *what,
			 const char *signature, ...)
{
	ubinder_parcel *p = ubinder_parcel_new();
	int err = p ? dialect->write_interface_token(p, descriptor) : UBINDER_ERR_NO_MEMORY;
	va_list args;

	va_start(args, signature);
	for (const char *t = signature; !err && *t; t++)
		err = write_argument(dialect, p, *t, &args);
	va_end(args);
	send_oneway(callback, code, p, err, what);
}
