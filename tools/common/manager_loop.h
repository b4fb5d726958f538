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

/*
 * Client callbacks (AIDL's registerClientCallback, HIDL 1.2's): whether a
 * registered @service has clients, i.e. processes other than the manager
 * holding it strongly (the driver's count, which the context manager may
 * ask) or a get since the last check (*@guarantee, then cleared). Updates
 * *@has and returns whether it changed; *@strong (may be NULL) gets the
 * count, -1 when it cannot be had (nothing changes then).
 */
bool manager_clients_changed(ubinder_binder *service, bool *has, bool *guarantee, long *strong);

/*
 * How a manager's protocol writes an interface token, a string and a binder
 * object: AIDL's for the service manager, HIDL's for the HIDL service manager.
 */
struct manager_dialect {
	int (*write_interface_token)(ubinder_parcel *p, const char *descriptor);
	int (*write_string)(ubinder_parcel *p, const char *s);
	int (*write_binder)(ubinder_parcel *p, ubinder_binder *binder);
};
extern const struct manager_dialect manager_aidl, manager_hidl;

/*
 * Calls @callback's oneway method @code of interface @descriptor (a failure
 * to build or send it is logged with @what). The arguments follow
 * @signature, one letter each, written as @dialect writes them:
 * 's' a string (const char *), 'o' a binder (ubinder_binder *), 'b' a bool
 * (passed as int).
 */
void manager_call_oneway(const struct manager_dialect *dialect, ubinder_binder *callback,
			 const char *descriptor, uint32_t code, const char *what,
			 const char *signature, ...);

/* Releases the manager's object, the context and the descriptors. */
void manager_stop(struct manager *m);
