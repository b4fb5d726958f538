/* SPDX-License-Identifier: MIT */
/*
 * The skeleton the context managers (ubinder-servicemanager,
 * ubinder-hwservicemanager) share: become the context manager of one Binder
 * context, then serve it from one thread and one event loop over the
 * context's poll descriptor, a signalfd for SIGTERM and SIGINT, and an
 * optional periodic timer. The loop never waits on a client.
 *
 * Lifetime: manager_start(), then manager_run() until a signal or a fatal
 * error, then manager_stop(). Every failure is reported on stderr as one
 * line prefixed with the program's name.
 */
#pragma once

#include <stdbool.h>

#include "ubinder/ubinder.h"

/* Creates the manager's own object (handle 0) in @ctx, returns a ubinder status. */
typedef int manager_new_self(ubinder_context *ctx, ubinder_binder **self);

struct manager {
	const char *prog; /* the prefix of every message */
	long tick_ms;	  /* > 0: call tick() this often */
	void (*tick)(void);
	/* Set by manager_start(), released by manager_stop(). */
	ubinder_context *ctx;
	ubinder_binder *self;
	int sigfd, timerfd;
};

/* --verbose: manager_say() prints. */
extern bool manager_verbose;

/* One line on stderr, prefixed with the program's name, when manager_verbose is set. */
void manager_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Blocks SIGTERM and SIGINT into a signalfd, arms the timer, opens the
 * context at @path (NULL: the library's default) and becomes its manager
 * with the object @new_self creates. Returns 0, or reports why, releases
 * what it took and returns -1.
 */
int manager_start(struct manager *m, const char *path, manager_new_self *new_self);

/*
 * Serves the context until SIGTERM or SIGINT (returns 0) or until polling or
 * processing fails (reports it, returns 1).
 */
int manager_run(struct manager *m);

/* Releases the manager's object, the context and the descriptors. */
void manager_stop(struct manager *m);
