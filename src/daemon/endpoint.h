/* SPDX-License-Identifier: MIT */
/*
 * Endpoints: what the driver's opaque thread and process pointers point to.
 * The core completes a thread's request and reports a process's readiness
 * through one struct driver_ops; each way into the daemon (a wire
 * connection, a seccomp-supervised target) answers them in its own way, so
 * the pointer it hands the driver is a struct endpoint embedded in its own
 * state, and these dispatchers pick its handlers.
 *
 * Owns: nothing. May call: nothing but the handlers it is given.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "driver/driver.h"

struct endpoint;

struct endpoint_ops {
	/* A thread's BINDER_WRITE_READ or other ioctl completed (thread endpoints). */
	void (*write_read_done)(struct endpoint *ep, const struct bwr_result *result);
	void (*ioctl_done)(struct endpoint *ep, int error, const void *arg, size_t size);
	/* A process has work to read, or none any more (process endpoints). */
	void (*poll_changed)(struct endpoint *ep, bool readable);
};

struct endpoint {
	const struct endpoint_ops *ops;
};

/* The driver_ops entries: @ep may be NULL (the endpoint is gone). */
static inline void endpoint_write_read_done(void *ep, const struct bwr_result *result)
{
	struct endpoint *e = ep;

	if (e && e->ops->write_read_done)
		e->ops->write_read_done(e, result);
}

static inline void endpoint_ioctl_done(void *ep, int error, const void *arg, size_t size)
{
	struct endpoint *e = ep;

	if (e && e->ops->ioctl_done)
		e->ops->ioctl_done(e, error, arg, size);
}

static inline void endpoint_poll_changed(void *ep, bool readable)
{
	struct endpoint *e = ep;

	if (e && e->ops->poll_changed)
		e->ops->poll_changed(e, readable);
}
