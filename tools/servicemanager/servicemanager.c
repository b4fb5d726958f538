/* SPDX-License-Identifier: MIT */
/*
 * ubinder-servicemanager: the context manager (handle 0) of a Binder
 * context, speaking Android's android.os.IServiceManager (src/managers/sm_protocol.h,
 * docs/tools.md).
 *
 * One thread, one event loop (the context's poll descriptor and a signalfd):
 * it never waits on a client. Registration notifications are oneway calls,
 * and waiting for a service is the client's business. Every registered
 * service and notification callback is linked to death, so a dead
 * process's names and callbacks disappear.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "callback_list.h"
#include "declared.h"
#include "manager_loop.h"
#include "manager_options.h"
#include "managers/sm_protocol.h"
#include "socket-arg.h"
#include "ubinder/ubinder.h"
#include "ubinder-config.h"

#define MAX_SERVICES  16384
#define MAX_CALLBACKS 16384

/*
 * A name: its service (NULL while only callbacks wait for it), the
 * registration notifications waiting on it, and the service's client
 * callbacks (registerClientCallback; they go with the service).
 */
struct entry {
	char *name;
	ubinder_binder *service;
	uid_t owner_euid;
	pid_t owner_pid;
	int32_t dump_priority;
	struct callback_node *callbacks;
	struct callback_node *client_callbacks;
	/* What the client callbacks were last told, and whether a get since the
	 * last check counts as a client (as Android's guaranteeClient). */
	bool has_clients;
	bool guarantee_client;
	UT_hash_handle hh;
};

static struct entry *entries;
static size_t nservices;

static void binder_died(ubinder_binder *binder, void *userdata);

/* Every registration notification and client callback. */
static struct callback_registry all_callbacks = {
	.died = binder_died,
	.max = MAX_CALLBACKS,
};

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

static void service_remove(struct entry *e)
{
	callback_drop(&all_callbacks, &e->client_callbacks, NULL);
	(void)ubinder_binder_unlink_to_death(e->service, binder_died, e);
	ubinder_binder_unref(e->service);
	e->service = NULL;
	e->has_clients = false;
	e->guarantee_client = false;
	nservices--;
}

/* A service or callback process died: forget everything of @binder. */
static void binder_died(ubinder_binder *binder, void *userdata)
{
	struct entry *e, *tmp;

	(void)userdata;
	HASH_ITER(hh, entries, e, tmp) {
		if (e->service == binder) {
			manager_say("service '%s' died", e->name);
			service_remove(e);
		}
		callback_drop(&all_callbacks, &e->callbacks, binder);
		callback_drop(&all_callbacks, &e->client_callbacks, binder);
		entry_drop_if_empty(e);
	}
}

/* Oneway IServiceCallback.onRegistration(name, service). */
static void notify(ubinder_binder *callback, const char *name, ubinder_binder *service)
{
	manager_call_oneway(&manager_aidl, callback, UBINDER_SM_CALLBACK_DESCRIPTOR,
			    SM_CALLBACK_ON_REGISTRATION, "onRegistration", "so", name, service);
}

/* IClientCallback.onClients(service, has_clients), oneway. */
static void notify_clients(ubinder_binder *callback, ubinder_binder *service, bool has_clients)
{
	manager_call_oneway(&manager_aidl, callback, SM_CLIENT_CALLBACK_DESCRIPTOR,
			    SM_CLIENT_CALLBACK_ON_CLIENTS, "onClients", "ob", service, has_clients);
}

/* Tells @e's client callbacks when its service gains or loses its clients. */
static void check_clients(struct entry *e)
{
	if (!manager_clients_changed(e->service, &e->has_clients, &e->guarantee_client, NULL))
		return;
	manager_say("'%s' has %s", e->name, e->has_clients ? "clients" : "no clients");
	for (struct callback_node *cb = e->client_callbacks; cb; cb = cb->next)
		notify_clients(cb->binder, e->service, e->has_clients);
}

/* The manager's timer (--client-interval). */
static void check_all_clients(void)
{
	struct entry *e, *tmp;

	HASH_ITER(hh, entries, e, tmp) {
		if (e->client_callbacks)
			check_clients(e);
	}
}

/* --- requests ------------------------------------------------------------------------ */

/* How the manager answers: --api-level N, or 0 for every generation at once. */
static int api_level;
static struct declared *declared;

/* One incoming call, as the caller's generation shapes it. */
struct req {
	const struct ubinder_call *call;
	ubinder_parcel *data, *reply;
	bool legacy;		  /* Android 10 and before: raw replies, errors are -1 */
	const struct sm_map *map; /* the code map the method was found in */
};

/* What a malformed argument gets: Android 10's manager answers -1 to
 * everything it cannot read; the AIDL one returns the parcel's status. */
static int bad_arg(const struct req *r, int aidl_status)
{
	return r->legacy ? UBINDER_ERR_PERMISSION_DENIED : aidl_status;
}

/* A String argument; a null, truncated or lying one is UNEXPECTED_NULL, as
 * libbinder's readUtf8FromUtf16() answers. */
static int read_name(const struct req *r, char **name)
{
	int err = ubinder_parcel_read_string16_utf8(r->data, name);

	if (err == UBINDER_ERR_NO_MEMORY)
		return err;
	if (!err && *name)
		return 0;
	return bad_arg(r, UBINDER_ERR_UNEXPECTED_NULL);
}

/* An int argument: missing is NOT_ENOUGH_DATA, except for Android 10 and
 * before, whose manager read missing words as @dflt. */
static int read_i32(const struct req *r, int32_t *v, int32_t dflt)
{
	int err = ubinder_parcel_read_int32(r->data, v);

	if (err && r->legacy) {
		*v = dflt;
		return 0;
	}
	return err;
}

/* A binder argument; @nullable or else null is UNEXPECTED_NULL. */
static int read_binder(const struct req *r, ubinder_binder **b, bool nullable)
{
	int err = ubinder_parcel_read_binder(r->data, b);

	if (err == UBINDER_ERR_NO_MEMORY)
		return err;
	if (err)
		return bad_arg(r, UBINDER_ERR_BAD_TYPE);
	if (!*b && !nullable)
		return bad_arg(r, UBINDER_ERR_UNEXPECTED_NULL);
	return 0;
}

static int reply_ok(const struct req *r)
{
	return ubinder_parcel_write_exception(r->reply, UBINDER_EX_NONE, NULL);
}

static int reply_exception(const struct req *r, int32_t ex, const char *msg)
{
	manager_say("%s", msg);
	if (r->legacy)
		return UBINDER_ERR_PERMISSION_DENIED;
	return ubinder_parcel_write_exception(r->reply, ex, msg);
}

static int write_names(ubinder_parcel *reply, const char *const *names, size_t n)
{
	int err = ubinder_parcel_write_int32(reply, (int32_t)n);

	for (size_t i = 0; !err && i < n; i++)
		err = ubinder_parcel_write_string16_utf8(reply, names[i]);
	return err;
}

/* --- lookups ------------------------------------------------------------------------- */

static ubinder_binder *lookup(const char *name)
{
	struct entry *e = sm_name_valid(name) ? entry_get(name, false) : NULL;

	if (e && e->service)
		e->guarantee_client = true;
	return e ? e->service : NULL;
}

/* getService, checkService; Android 10's manager answers a bare object, or
 * the word 0 when the name is unknown. */
static int do_get(const struct req *r)
{
	ubinder_binder *service;
	char *name;
	int err = read_name(r, &name);

	if (err)
		return err;
	service = lookup(name);
	free(name);
	if (r->legacy)
		return service ? ubinder_parcel_write_binder(r->reply, service)
			       : ubinder_parcel_write_int32(r->reply, 0);
	err = reply_ok(r);
	return err ? err : ubinder_parcel_write_binder(r->reply, service);
}

/*
 * getService2, checkService2: a non-null Service union (int32 1, tag 0).
 * Android 15's first member is the binder; Android 16's is a
 * ServiceWithMetadata parcelable { @nullable IBinder service; boolean
 * isLazyService; } (int32 size first, as structured parcelables are).
 */
static int do_get2(const struct req *r)
{
	ubinder_binder *service;
	char *name;
	size_t start;
	int err = read_name(r, &name);

	if (err)
		return err;
	service = lookup(name);
	free(name);
	err = reply_ok(r);
	if (!err)
		err = ubinder_parcel_write_int32(r->reply, 1);
	if (!err)
		err = ubinder_parcel_write_int32(r->reply, 0);
	if (err || r->map->api_level < 36)
		return err ? err : ubinder_parcel_write_binder(r->reply, service);
	start = ubinder_parcel_get_position(r->reply);
	err = ubinder_parcel_write_int32(r->reply, 0);
	if (!err)
		err = ubinder_parcel_write_binder(r->reply, service);
	if (!err)
		err = ubinder_parcel_write_bool(r->reply, false);
	if (!err) {
		size_t end = ubinder_parcel_get_position(r->reply);

		ubinder_parcel_set_position(r->reply, start);
		err = ubinder_parcel_write_int32(r->reply, (int32_t)(end - start));
		ubinder_parcel_set_position(r->reply, end);
	}
	return err;
}

/* --- registration -------------------------------------------------------------------- */

static int do_add(const struct req *r)
{
	const struct ubinder_call *call = r->call;
	ubinder_binder *binder = NULL;
	int32_t allow_isolated, priority;
	struct entry *e;
	char *name = NULL;
	int err = read_name(r, &name);

	if (!err)
		err = read_binder(r, &binder, false);
	if (!err)
		err = read_i32(r, &allow_isolated, 0);
	if (!err)
		err = read_i32(r, &priority, SM_DUMP_FLAG_PRIORITY_DEFAULT);
	if (err)
		goto out;
	if (!sm_name_valid(name)) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_ARGUMENT, "invalid service name");
		goto out;
	}
	if (ubinder_binder_is_local(binder)) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_ARGUMENT, "invalid binder");
		goto out;
	}
	e = entry_get(name, false);
	if (e && e->service && e->owner_euid != call->sender_euid && call->sender_euid != 0) {
		err = reply_exception(r, UBINDER_EX_SECURITY, "name registered by another user");
		goto out;
	}
	if ((!e || !e->service) && nservices >= MAX_SERVICES) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "too many services");
		goto out;
	}
	e = entry_get(name, true);
	if (!e) {
		err = UBINDER_ERR_NO_MEMORY;
		goto out;
	}
	if (ubinder_binder_link_to_death(binder, binder_died, e)) {
		/* Already dead: nothing to register. */
		entry_drop_if_empty(e);
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "service is dead");
		goto out;
	}
	if (e->service)
		service_remove(e);
	e->service = binder;
	binder = NULL;
	e->owner_euid = call->sender_euid;
	e->owner_pid = call->sender_pid;
	e->dump_priority = priority;
	nservices++;
	manager_say("added '%s' (pid %d, euid %u)", name, (int)call->sender_pid,
		    (unsigned)call->sender_euid);
	err = r->legacy ? ubinder_parcel_write_int32(r->reply, 0) : reply_ok(r);
	for (struct callback_node *cb = e->callbacks; cb; cb = cb->next)
		notify(cb->binder, name, e->service);
out:
	ubinder_binder_unref(binder);
	free(name);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The registered names whose dump priority matches @priority, sorted. */
static const char **sorted_names(int32_t priority, size_t *n)
{
	const char **names = malloc((nservices + 1) * sizeof(*names));
	struct entry *e, *tmp;

	*n = 0;
	if (!names)
		return NULL;
	HASH_ITER(hh, entries, e, tmp) {
		if (e->service && (e->dump_priority & priority))
			names[(*n)++] = e->name;
	}
	qsort(names, *n, sizeof(*names), cmp_str);
	return names;
}

/* listServices: AIDL returns them all; Android 10's manager one per call,
 * by index, and -1 past the end. */
static int do_list(const struct req *r)
{
	int32_t index = 0, priority;
	const char **names;
	size_t n;
	int err = r->legacy ? read_i32(r, &index, 0) : 0;

	if (!err)
		err = read_i32(r, &priority, SM_DUMP_FLAG_PRIORITY_ALL);
	if (err)
		return err;
	names = sorted_names(priority, &n);
	if (!names)
		return UBINDER_ERR_NO_MEMORY;
	if (r->legacy)
		err = index >= 0 && (size_t)index < n
			      ? ubinder_parcel_write_string16_utf8(r->reply, names[index])
			      : UBINDER_ERR_PERMISSION_DENIED;
	else if (!(err = reply_ok(r)))
		err = write_names(r->reply, names, n);
	free(names);
	return err;
}

/* A name and a callback (register/unregisterForNotifications). */
static int read_name_binder(const struct req *r, char **name, ubinder_binder **b)
{
	int err = read_name(r, name);

	if (!err)
		err = read_binder(r, b, true);
	if (!err && !sm_name_valid(*name))
		err = reply_exception(r, UBINDER_EX_ILLEGAL_ARGUMENT, "invalid service name");
	if (err) {
		free(*name);
		*name = NULL;
	}
	return err;
}

static int do_register(const struct req *r)
{
	ubinder_binder *binder = NULL;
	struct entry *e;
	char *name = NULL;
	int err = read_name_binder(r, &name, &binder);

	if (err || !name)
		goto out;
	if (!binder) {
		err = reply_exception(r, UBINDER_EX_NULL_POINTER, "null callback");
		goto out;
	}
	if (all_callbacks.count >= all_callbacks.max) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "too many callbacks");
		goto out;
	}
	e = entry_get(name, true);
	err = e ? callback_add(&all_callbacks, &e->callbacks, binder) : UBINDER_ERR_NO_MEMORY;
	if (err) {
		if (e)
			entry_drop_if_empty(e);
		if (err == UBINDER_ERR_DEAD_OBJECT)
			err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "callback is dead");
		goto out;
	}
	manager_say("notification for '%s' registered", name);
	if (e->service)
		notify(e->callbacks->binder, name, e->service);
	err = reply_ok(r);
out:
	ubinder_binder_unref(binder);
	free(name);
	return err;
}

static int do_unregister(const struct req *r)
{
	ubinder_binder *binder = NULL;
	struct callback_node **pp = NULL;
	struct entry *e;
	char *name = NULL;
	int err = read_name_binder(r, &name, &binder);

	if (err || !name)
		goto out;
	e = entry_get(name, false);
	for (pp = e ? &e->callbacks : NULL; pp && *pp && (*pp)->binder != binder;)
		pp = &(*pp)->next;
	if (pp && *pp) {
		callback_remove_at(&all_callbacks, pp);
		entry_drop_if_empty(e);
		err = reply_ok(r);
	} else {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "no such callback");
	}
out:
	ubinder_binder_unref(binder);
	free(name);
	return err;
}

/*
 * registerClientCallback: for a service the caller registered (the same
 * binder). check_clients() tells it when the service gains or loses its
 * clients; the callback is dropped when its process dies or the service goes.
 */
static int do_register_client_callback(const struct req *r)
{
	ubinder_binder *service = NULL, *cb = NULL;
	struct entry *e;
	char *name = NULL;
	int err = read_name(r, &name);

	if (!err)
		err = read_binder(r, &service, true);
	if (!err)
		err = read_binder(r, &cb, true);
	if (err)
		goto out;
	e = sm_name_valid(name) ? entry_get(name, false) : NULL;
	if (!e || !e->service || e->service != service || !cb)
		err = reply_exception(r, UBINDER_EX_ILLEGAL_ARGUMENT,
				      "not the service registered under that name");
	else if (e->owner_euid != r->call->sender_euid && r->call->sender_euid != 0)
		err = reply_exception(r, UBINDER_EX_SECURITY, "not the service's owner");
	else if (all_callbacks.count >= all_callbacks.max)
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "too many callbacks");
	else if ((err = callback_add(&all_callbacks, &e->client_callbacks, cb)) == 0) {
		err = reply_ok(r);
		/* As Android's: a new callback hears at once of clients already there. */
		if (e->has_clients)
			notify_clients(e->client_callbacks->binder, e->service, true);
	} else if (err == UBINDER_ERR_DEAD_OBJECT)
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "callback is dead");
out:
	ubinder_binder_unref(service);
	ubinder_binder_unref(cb);
	free(name);
	return err;
}

/* tryUnregisterService: the owner removes its own registration. */
static int do_try_unregister(const struct req *r)
{
	ubinder_binder *service = NULL;
	struct entry *e;
	char *name = NULL;
	int err = read_name(r, &name);

	if (!err)
		err = read_binder(r, &service, true);
	if (err)
		goto out;
	e = sm_name_valid(name) ? entry_get(name, false) : NULL;
	if (!e || !e->service) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_STATE, "service is not registered");
	} else if (e->service != service) {
		err = reply_exception(r, UBINDER_EX_ILLEGAL_ARGUMENT,
				      "not the service registered under that name");
	} else if (e->owner_euid != r->call->sender_euid && r->call->sender_euid != 0) {
		err = reply_exception(r, UBINDER_EX_SECURITY, "not the service's owner");
	} else {
		manager_say("'%s' unregistered", name);
		service_remove(e);
		entry_drop_if_empty(e);
		err = reply_ok(r);
	}
out:
	ubinder_binder_unref(service);
	free(name);
	return err;
}

/* --- declared instances and debug information ------------------------------------------ */

static int do_is_declared(const struct req *r)
{
	char *name;
	int err = read_name(r, &name);

	if (err)
		return err;
	err = reply_ok(r);
	if (!err)
		err = ubinder_parcel_write_bool(r->reply, declared_find(declared, name) != NULL);
	free(name);
	return err;
}

/* getDeclaredInstances(iface) and getUpdatableNames(apex). */
static int do_declared_list(const struct req *r, enum sm_method m)
{
	const char **names = NULL;
	char *key;
	size_t n = 0;
	int err = read_name(r, &key);

	if (err)
		return err;
	err = m == SM_GET_DECLARED_INSTANCES ? declared_instances(declared, key, &names, &n)
					     : declared_in_apex(declared, key, &names, &n);
	if (!err)
		err = reply_ok(r);
	if (!err)
		err = write_names(r->reply, names, n);
	free(names);
	free(key);
	return err;
}

static int do_updatable_via_apex(const struct req *r)
{
	const struct declared_entry *d;
	char *name;
	int err = read_name(r, &name);

	if (err)
		return err;
	d = declared_find(declared, name);
	free(name);
	err = reply_ok(r);
	return err ? err : ubinder_parcel_write_string16_utf8(r->reply, d ? d->apex : NULL);
}

/* getConnectionInfo: no RPC-over-sockets services here, always null. */
static int do_connection_info(const struct req *r)
{
	char *name;
	int err = read_name(r, &name);

	free(name);
	if (!err)
		err = reply_ok(r);
	return err ? err : ubinder_parcel_write_int32(r->reply, 0); /* null parcelable */
}

/* getServiceDebugInfo: ServiceDebugInfo { String name; int debugPid; } for
 * each service, the pid being the registering process's (from the driver). */
static int do_debug_info(const struct req *r)
{
	const char **names;
	size_t n;
	int err;

	names = sorted_names(-1, &n);
	if (!names)
		return UBINDER_ERR_NO_MEMORY;
	err = reply_ok(r);
	if (!err)
		err = ubinder_parcel_write_int32(r->reply, (int32_t)n);
	for (size_t i = 0; !err && i < n; i++) {
		struct entry *e = entry_get(names[i], false);
		size_t start, end;

		err = ubinder_parcel_write_int32(r->reply, 1); /* non-null element */
		start = ubinder_parcel_get_position(r->reply);
		if (!err)
			err = ubinder_parcel_write_int32(r->reply, 0); /* size, below */
		if (!err)
			err = ubinder_parcel_write_string16_utf8(r->reply, e->name);
		if (!err)
			err = ubinder_parcel_write_int32(r->reply, (int32_t)e->owner_pid);
		end = ubinder_parcel_get_position(r->reply);
		if (!err)
			err = ubinder_parcel_set_position(r->reply, start);
		if (!err)
			err = ubinder_parcel_write_int32(r->reply, (int32_t)(end - start));
		if (!err)
			err = ubinder_parcel_set_position(r->reply, end);
	}
	free(names);
	return err;
}

/*
 * checkServiceAccess(CallerContext, name, permission): there is no SELinux
 * policy here, so every access is allowed. The CallerContext is a non-null
 * structured parcelable (int32 1, int32 size, fields), skipped.
 */
static int do_check_access(const struct req *r)
{
	char *name = NULL, *perm = NULL;
	int32_t present, size = 0;
	size_t start;
	int err = read_i32(r, &present, 0);

	start = ubinder_parcel_get_position(r->data);
	if (!err && present != 1)
		err = UBINDER_ERR_UNEXPECTED_NULL;
	if (!err)
		err = read_i32(r, &size, 0);
	if (!err &&
	    (size < 4 || size % 4 || (size_t)size > ubinder_parcel_get_size(r->data) - start))
		err = UBINDER_ERR_BAD_VALUE;
	if (!err)
		err = ubinder_parcel_set_position(r->data, start + (size_t)size);
	if (!err)
		err = read_name(r, &name);
	if (!err)
		err = read_name(r, &perm);
	if (!err)
		err = reply_ok(r);
	if (!err)
		err = ubinder_parcel_write_bool(r->reply, true);
	free(name);
	free(perm);
	return err;
}

/* --- dispatch -------------------------------------------------------------------------- */

/* Whether @data holds an object at or after its position; *end is where the
 * first such object (and its stability word) ends. */
static bool object_follows(ubinder_parcel *data, size_t *end)
{
	size_t pos = ubinder_parcel_get_position(data), off;
	enum ubinder_object_kind kind;

	for (size_t i = 0; ubinder_parcel_get_object(data, i, &off, &kind) == 0; i++) {
		if (off >= pos) {
			*end = off + 24 + 4;
			return true;
		}
	}
	return false;
}

/*
 * Without --api-level, an Android 11+ caller's code is read in the map its
 * request's shape tells apart: the codes 3 to 6 moved in Android 15 and 16,
 * and each of their meanings takes different arguments there. What the shape
 * cannot tell is read as Android 14 does (docs/tools.md).
 */
static const struct sm_map *auto_map(uint32_t code, ubinder_parcel *data)
{
	size_t rest = ubinder_parcel_get_size(data) - ubinder_parcel_get_position(data), end;
	bool obj = object_follows(data, &end);
	int level = 34;

	switch (code) {
	case 3: /* 14: addService(name, binder, ...); 15, 16: checkService(name) */
		level = obj ? 34 : 36;
		break;
	case 4: /* 14: listServices(int); 15: addService; 16: checkService2(name) */
		level = obj ? 35 : rest == 4 ? 34 : 36;
		break;
	case 5: /* 14: registerForNotifications(name, cb); 15: listServices; 16: addService */
		level = rest == 4 ? 35 : obj && ubinder_parcel_get_size(data) >= end + 8 ? 36 : 34;
		break;
	case 6: /* 14: unregisterForNotifications(name, cb); 16: listServices(int) */
		level = rest == 4 ? 36 : 34;
		break;
	}
	return sm_map_for(level);
}

static int dispatch(struct req *r, enum sm_method m)
{
	switch (m) {
	case SM_GET_SERVICE:
	case SM_CHECK_SERVICE:
		return do_get(r);
	case SM_GET_SERVICE2:
	case SM_CHECK_SERVICE2:
		return do_get2(r);
	case SM_ADD_SERVICE:
		return do_add(r);
	case SM_LIST_SERVICES:
		return do_list(r);
	case SM_REGISTER_FOR_NOTIFICATIONS:
		return do_register(r);
	case SM_UNREGISTER_FOR_NOTIFICATIONS:
		return do_unregister(r);
	case SM_IS_DECLARED:
		return do_is_declared(r);
	case SM_GET_DECLARED_INSTANCES:
	case SM_GET_UPDATABLE_NAMES:
		return do_declared_list(r, m);
	case SM_UPDATABLE_VIA_APEX:
		return do_updatable_via_apex(r);
	case SM_GET_CONNECTION_INFO:
		return do_connection_info(r);
	case SM_REGISTER_CLIENT_CALLBACK:
		return do_register_client_callback(r);
	case SM_TRY_UNREGISTER_SERVICE:
		return do_try_unregister(r);
	case SM_GET_SERVICE_DEBUG_INFO:
		return do_debug_info(r);
	case SM_CHECK_SERVICE_ACCESS:
		return do_check_access(r);
	case SM_NONE:
		break;
	}
	return r->legacy ? UBINDER_ERR_PERMISSION_DENIED : UBINDER_ERR_UNKNOWN_TRANSACTION;
}

static int handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		   ubinder_parcel *reply, void *userdata)
{
	struct req r = { call, data, reply, false, sm_map_for(api_level ? api_level : 34) };
	int want = api_level ? sm_header_for(api_level) : 0, gen = 0, err;

	(void)self;
	(void)userdata;
	if (!reply)
		return UBINDER_ERR_INVALID_OPERATION; /* no oneway calls */
	err = ubinder_parcel_enforce_interface_gen(data, UBINDER_SM_DESCRIPTOR, want, &gen);
	if (err == UBINDER_ERR_NO_MEMORY)
		return err;
	if (err) {
		/* Android 11+'s AIDL stub looks at the code first, then the token
		 * (BAD_TYPE); Android 10's manager answers -1 to both. */
		bool aidl = api_level ? api_level >= SM_API_LEVEL_AIDL : gen == UBINDER_HEADER_SYST;

		manager_say("code %u: bad interface token", (unsigned)call->code);
		if (aidl && sm_method_of(r.map, call->code) == SM_NONE)
			return UBINDER_ERR_UNKNOWN_TRANSACTION;
		return aidl ? UBINDER_ERR_BAD_TYPE : UBINDER_ERR_PERMISSION_DENIED;
	}
	r.legacy = gen < UBINDER_HEADER_SYST;
	ubinder_parcel_set_stability_word(reply, !r.legacy);
	if (r.legacy)
		r.map = sm_map_for(0);
	else if (!api_level)
		r.map = auto_map(call->code, data);
	return dispatch(&r, sm_method_of(r.map, call->code));
}

/* --- main ----------------------------------------------------------------------------- */

static const char usage[] =
	"Usage: ubinder-servicemanager [OPTION]...\n"
	"The service manager of a ubinder context: becomes its context manager (handle 0)\n"
	"and keeps the names of services (android.os.IServiceManager), speaking every\n"
	"Android generation's protocol at once.\n"
	"\n"
	"  -s, --socket PATH          the context's socket (default: $UBINDER_SOCKET,\n"
	"                             else the default socket of the context)\n"
	"  -c, --context NAME         the context (default binder); with --socket, its\n"
	"                             socket is the one named NAME beside PATH\n"
	"  -a, --api-level N          answer exactly as Android API level N's manager\n"
	"                             (28 to 36): its interface token only, its\n"
	"                             transaction codes; default: every token, codes\n"
	"                             told apart by the request's shape\n"
	"  -d, --declared FILE        declared instances (isDeclared,\n"
	"                             getDeclaredInstances), one 'package.IName/instance\n"
	"                             [apex=APEX]' a line; default: none\n" MANAGER_USAGE_END;

static int new_self(ubinder_context *ctx, ubinder_binder **self)
{
	return ubinder_binder_new(ctx, UBINDER_SM_DESCRIPTOR, handler, NULL, NULL, self);
}

static void free_entries(void)
{
	struct entry *e, *tmp;

	HASH_ITER(hh, entries, e, tmp) {
		if (e->service)
			service_remove(e);
		callback_drop(&all_callbacks, &e->callbacks, NULL);
		entry_drop_if_empty(e);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		TOOL_LONG_OPTIONS,
		MANAGER_LONG_OPTIONS,
		{ "api-level", required_argument, NULL, 'a' },
		{ "declared", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_args args = { NULL, NULL };
	const char *path, *declared_path = NULL;
	char buf[PATH_MAX];
	struct manager m = { .prog = "ubinder-servicemanager",
			     .tick_ms = MANAGER_DEFAULT_INTERVAL,
			     .tick = check_all_clients };
	int opt, bad, status = 0;

	while ((opt = getopt_long(argc, argv, TOOL_SHORT_OPTIONS MANAGER_SHORT_OPTIONS "a:d:",
				  options, NULL)) != -1) {
		if (opt == 'a') {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*optarg == '\0' || *end || v < SM_API_LEVEL_MIN ||
			    v > SM_API_LEVEL_MAX) {
				fprintf(stderr,
					"ubinder-servicemanager: --api-level takes %d to %d, not "
					"'%s'\n",
					SM_API_LEVEL_MIN, SM_API_LEVEL_MAX, optarg);
				return 2;
			}
			api_level = (int)v;
			continue;
		}
		if (opt == 'd') {
			declared_path = optarg;
			continue;
		}
		if (!manager_option(opt, &m, &status) &&
		    !tool_common_option(opt, &args, "ubinder-servicemanager", usage, &status))
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

	if (declared_path) {
		declared = declared_load(declared_path);
		if (!declared)
			return 1;
	}
	if (manager_start(&m, path, new_self)) {
		declared_free(declared);
		return 1;
	}
	if (api_level)
		manager_say("ready: Android %s (API level %d) only", sm_map_for(api_level)->android,
			    api_level);
	else
		manager_say("ready: every generation");
	status = manager_run(&m);
	free_entries();
	declared_free(declared);
	manager_stop(&m);
	return status;
}
