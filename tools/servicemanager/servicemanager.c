/* SPDX-License-Identifier: MIT */
/*
 * ubinder-servicemanager: the context manager (handle 0) of a Binder
 * context, speaking Android's android.os.IServiceManager (lib/sm_protocol.h,
 * docs/tools.md).
 *
 * One thread, one event loop (the context's poll descriptor and a signalfd):
 * it never waits on a client. Registration notifications are oneway calls,
 * and waiting for a service is the client's business. Every registered
 * service and notification callback is linked to death, so a dead
 * process's names and callbacks disappear.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <uthash.h>

#include "sm_protocol.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"
#include "ubinder-config.h"

#define MAX_SERVICES  16384
#define MAX_CALLBACKS 16384

struct callback {
	ubinder_binder *binder;
	struct callback *next;
};

/* A name: its service (NULL while only callbacks wait for it) and callbacks. */
struct entry {
	char *name;
	ubinder_binder *service;
	uid_t owner_euid;
	int32_t dump_priority;
	struct callback *callbacks;
	UT_hash_handle hh;
};

static struct entry *entries;
static size_t nservices, ncallbacks;
static int verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ubinder-servicemanager: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static struct entry *entry_get(const char *name, bool create)
{
	struct entry *e;

	HASH_FIND_STR(entries, name, e);
	if (e || !create)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, entries, e->name, strlen(e->name), e);
	return e;
}

static void entry_drop_if_empty(struct entry *e)
{
	if (e->service || e->callbacks)
		return;
	HASH_DELETE(hh, entries, e);
	free(e->name);
	free(e);
}

static void binder_died(ubinder_binder *binder, void *userdata);

static void service_remove(struct entry *e)
{
	(void)ubinder_binder_unlink_to_death(e->service, binder_died, e);
	ubinder_binder_unref(e->service);
	e->service = NULL;
	nservices--;
}

static void callback_remove(struct entry *e, struct callback **pp)
{
	struct callback *cb = *pp;

	*pp = cb->next;
	(void)ubinder_binder_unlink_to_death(cb->binder, binder_died, e);
	ubinder_binder_unref(cb->binder);
	free(cb);
	ncallbacks--;
}

/* A service or callback process died: forget everything of @binder. */
static void binder_died(ubinder_binder *binder, void *userdata)
{
	struct entry *e, *tmp;

	(void)userdata;
	HASH_ITER(hh, entries, e, tmp) {
		if (e->service == binder) {
			say("service '%s' died", e->name);
			service_remove(e);
		}
		for (struct callback **pp = &e->callbacks; *pp;) {
			if ((*pp)->binder == binder)
				callback_remove(e, pp);
			else
				pp = &(*pp)->next;
		}
		entry_drop_if_empty(e);
	}
}

/* Oneway IServiceCallback.onRegistration(name, service). */
static void notify(ubinder_binder *callback, const char *name, ubinder_binder *service)
{
	ubinder_parcel *data = ubinder_parcel_new();
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err)
		err = ubinder_parcel_write_interface_token(data, UBINDER_SM_CALLBACK_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_write_string16_utf8(data, name);
	if (!err)
		err = ubinder_parcel_write_binder(data, service);
	if (!err)
		err = ubinder_binder_transact(callback, SM_CALLBACK_ON_REGISTRATION, data,
					      UBINDER_FLAG_ONEWAY, NULL);
	if (err)
		say("notify '%s': %s", name, ubinder_strerror(err));
	ubinder_parcel_free(data);
}

/* --- transactions ------------------------------------------------------------------- */

static int reply_exception(ubinder_parcel *reply, int32_t ex, const char *msg)
{
	say("%s", msg);
	return ubinder_parcel_write_exception(reply, ex, msg);
}

/* What addService and the notification calls start with. */
struct request {
	char *name; /* NULL if it was not valid (an exception is written) */
	ubinder_binder *binder;
};

static int read_request(ubinder_parcel *data, ubinder_parcel *reply, struct request *r)
{
	int err = ubinder_parcel_read_string16_utf8(data, &r->name);

	if (err)
		return err;
	if (!sm_name_valid(r->name)) {
		free(r->name);
		r->name = NULL;
		return reply_exception(reply, UBINDER_EX_ILLEGAL_ARGUMENT, "invalid service name");
	}
	return ubinder_parcel_read_binder(data, &r->binder);
}

static int do_get(ubinder_parcel *data, ubinder_parcel *reply)
{
	struct entry *e;
	char *name;
	int err = ubinder_parcel_read_string16_utf8(data, &name);

	if (err)
		return err;
	e = sm_name_valid(name) ? entry_get(name, false) : NULL;
	free(name);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	if (!err)
		err = ubinder_parcel_write_binder(reply, e ? e->service : NULL);
	return err;
}

static int do_add(const struct ubinder_call *call, struct request *r, ubinder_parcel *data,
		  ubinder_parcel *reply)
{
	struct entry *e;
	bool allow_isolated;
	int32_t priority;
	int err;

	err = ubinder_parcel_read_bool(data, &allow_isolated);
	if (!err)
		err = ubinder_parcel_read_int32(data, &priority);
	if (err)
		return err;
	if (!r->binder || ubinder_binder_is_local(r->binder))
		return reply_exception(reply, UBINDER_EX_ILLEGAL_ARGUMENT,
				       "null or invalid binder");
	e = entry_get(r->name, false);
	if (e && e->service && e->owner_euid != call->sender_euid && call->sender_euid != 0)
		return reply_exception(reply, UBINDER_EX_SECURITY,
				       "name registered by another user");
	if ((!e || !e->service) && nservices >= MAX_SERVICES)
		return reply_exception(reply, UBINDER_EX_ILLEGAL_STATE, "too many services");
	e = entry_get(r->name, true);
	if (!e)
		return UBINDER_ERR_NO_MEMORY;
	if (ubinder_binder_link_to_death(r->binder, binder_died, e)) {
		/* Already dead: nothing to register. */
		entry_drop_if_empty(e);
		return reply_exception(reply, UBINDER_EX_ILLEGAL_STATE, "service is dead");
	}
	if (e->service)
		service_remove(e);
	e->service = r->binder;
	r->binder = NULL;
	e->owner_euid = call->sender_euid;
	e->dump_priority = priority;
	nservices++;
	say("added '%s' (pid %d, euid %u)", r->name, (int)call->sender_pid,
	    (unsigned)call->sender_euid);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	for (struct callback *cb = e->callbacks; cb; cb = cb->next)
		notify(cb->binder, r->name, e->service);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int do_list(ubinder_parcel *data, ubinder_parcel *reply)
{
	const char **names;
	struct entry *e, *tmp;
	int32_t priority;
	size_t n = 0;
	int err = ubinder_parcel_read_int32(data, &priority);

	if (err)
		return err;
	names = malloc((nservices + 1) * sizeof(*names));
	if (!names)
		return UBINDER_ERR_NO_MEMORY;
	HASH_ITER(hh, entries, e, tmp) {
		if (e->service && (e->dump_priority & priority))
			names[n++] = e->name;
	}
	qsort(names, n, sizeof(*names), cmp_str);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	if (!err)
		err = ubinder_parcel_write_int32(reply, (int32_t)n);
	for (size_t i = 0; !err && i < n; i++)
		err = ubinder_parcel_write_string16_utf8(reply, names[i]);
	free(names);
	return err;
}

static int do_register(struct request *r, ubinder_parcel *reply)
{
	struct callback *cb;
	struct entry *e;

	if (!r->binder)
		return reply_exception(reply, UBINDER_EX_NULL_POINTER, "null callback");
	if (ncallbacks >= MAX_CALLBACKS)
		return reply_exception(reply, UBINDER_EX_ILLEGAL_STATE, "too many callbacks");
	e = entry_get(r->name, true);
	cb = e ? calloc(1, sizeof(*cb)) : NULL;
	if (!cb) {
		if (e)
			entry_drop_if_empty(e);
		return UBINDER_ERR_NO_MEMORY;
	}
	if (ubinder_binder_link_to_death(r->binder, binder_died, e)) {
		free(cb);
		entry_drop_if_empty(e);
		return reply_exception(reply, UBINDER_EX_ILLEGAL_STATE, "callback is dead");
	}
	cb->binder = r->binder;
	r->binder = NULL;
	cb->next = e->callbacks;
	e->callbacks = cb;
	ncallbacks++;
	say("notification for '%s' registered", r->name);
	if (e->service)
		notify(cb->binder, r->name, e->service);
	return ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
}

static int do_unregister(struct request *r, ubinder_parcel *reply)
{
	struct entry *e = entry_get(r->name, false);

	for (struct callback **pp = e ? &e->callbacks : NULL; pp && *pp; pp = &(*pp)->next) {
		if ((*pp)->binder == r->binder) {
			callback_remove(e, pp);
			entry_drop_if_empty(e);
			return ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
		}
	}
	return reply_exception(reply, UBINDER_EX_ILLEGAL_STATE, "no such callback");
}

/* addService and the notification calls: a name and a binder, then the rest. */
static int do_named(const struct ubinder_call *call, ubinder_parcel *data, ubinder_parcel *reply)
{
	struct request r = { NULL, NULL };
	int err = read_request(data, reply, &r);

	if (!err && r.name) {
		if (call->code == SM_ADD_SERVICE)
			err = do_add(call, &r, data, reply);
		else if (call->code == SM_REGISTER_FOR_NOTIFICATIONS)
			err = do_register(&r, reply);
		else
			err = do_unregister(&r, reply);
	}
	ubinder_binder_unref(r.binder);
	free(r.name);
	return err;
}

static int handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		   ubinder_parcel *reply, void *userdata)
{
	int err;

	(void)self;
	(void)userdata;
	if (call->code < SM_GET_SERVICE || call->code > SM_IS_DECLARED)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	if (!reply)
		return UBINDER_ERR_INVALID_OPERATION; /* no oneway calls */
	err = ubinder_parcel_enforce_interface(data, UBINDER_SM_DESCRIPTOR);
	if (err)
		return err;
	switch (call->code) {
	case SM_GET_SERVICE:
	case SM_CHECK_SERVICE:
		return do_get(data, reply);
	case SM_ADD_SERVICE:
	case SM_REGISTER_FOR_NOTIFICATIONS:
	case SM_UNREGISTER_FOR_NOTIFICATIONS:
		return do_named(call, data, reply);
	case SM_LIST_SERVICES:
		return do_list(data, reply);
	default: /* SM_IS_DECLARED: no declared (VINTF) services here */
		err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
		return err ? err : ubinder_parcel_write_bool(reply, false);
	}
}

/* --- main ----------------------------------------------------------------------------- */

static const char usage[] =
	"Usage: ubinder-servicemanager [OPTION]...\n"
	"The service manager of a ubinder context: becomes its context manager (handle 0)\n"
	"and keeps the names of services (android.os.IServiceManager).\n"
	"\n"
	"  -s, --socket PATH   the context's socket (default: $UBINDER_SOCKET, else the\n"
	"                      default socket of the context)\n"
	"  -c, --context NAME  the context (default binder); with --socket, its socket is\n"
	"                      the one named NAME beside PATH\n"
	"  -v, --verbose       log registrations and deaths to stderr\n"
	"  -h, --help          show this help and exit\n"
	"  -V, --version       show the version and exit\n"
	"\n"
	"SIGTERM and SIGINT stop it. docs/tools.md describes the protocol.\n";

static void free_entries(void)
{
	struct entry *e, *tmp;

	HASH_ITER(hh, entries, e, tmp) {
		if (e->service)
			service_remove(e);
		while (e->callbacks)
			callback_remove(e, &e->callbacks);
		entry_drop_if_empty(e);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		TOOL_LONG_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_args args = { NULL, NULL };
	const char *path;
	char buf[PATH_MAX];
	ubinder_context *ctx;
	ubinder_binder *self;
	struct pollfd pfd[2];
	sigset_t sigs;
	int opt, bad, err, status = 0;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS "v", options, NULL)) != -1) {
		if (opt == 'v') {
			verbose = 1;
			continue;
		}
		if (!tool_common_option(opt, &args, "ubinder-servicemanager", usage, &status))
			status = 2;
		if (status >= 0)
			return status;
	}
	status = 0;
	if (optind < argc) {
		fprintf(stderr, "ubinder-servicemanager: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	path = tool_socket_path("ubinder-servicemanager", args.socket, args.context, buf,
				sizeof(buf), &bad);
	if (bad)
		return 2;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	pfd[1].fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	pfd[1].events = POLLIN;
	if (pfd[1].fd < 0) {
		perror("ubinder-servicemanager: signalfd");
		return 1;
	}
	err = ubinder_context_open(path, &ctx);
	if (err) {
		fprintf(stderr, "ubinder-servicemanager: cannot open the context at %s: %s\n",
			path ? path : "the default socket", ubinder_strerror(err));
		return 1;
	}
	err = ubinder_binder_new(ctx, UBINDER_SM_DESCRIPTOR, handler, NULL, NULL, &self);
	if (!err)
		err = ubinder_context_become_manager(ctx, self);
	if (err) {
		fprintf(stderr, "ubinder-servicemanager: cannot become the context manager: %s\n",
			err == UBINDER_ERR_ALREADY_EXISTS ? "another one is running"
							  : ubinder_strerror(err));
		ubinder_binder_unref(self);
		ubinder_context_close(ctx);
		return 1;
	}
	say("ready");
	pfd[0].fd = ubinder_context_get_fd(ctx);
	pfd[0].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("ubinder-servicemanager: poll");
			status = 1;
			break;
		}
		if (pfd[1].revents)
			break;
		err = ubinder_context_process(ctx);
		if (err) {
			fprintf(stderr, "ubinder-servicemanager: %s\n", ubinder_strerror(err));
			status = 1;
			break;
		}
	}
	say("stopping");
	free_entries();
	ubinder_binder_unref(self);
	ubinder_context_close(ctx);
	close(pfd[1].fd);
	return status;
}
