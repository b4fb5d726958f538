/* SPDX-License-Identifier: MIT */
/* The service manager client (ubinder/servicemanager.h), over sm_protocol.h. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context.h"
#include "ipc.h"
#include "object.h"
#include "thread.h"
#include "managers/sm_protocol.h"

int ubinder_sm_get(ubinder_context *ctx, ubinder_binder **out)
{
	struct ubinder_thread *ts;
	struct ubinder_binder *b;
	uint32_t handle = 0;
	int err;

	if (!ctx || !out)
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	err = thread_get(ctx, &ts);
	if (err)
		return err;
	pthread_mutex_lock(&ctx->lock);
	HASH_FIND(hh, ctx->proxies, &handle, sizeof(handle), b);
	if (b && b->refs > 0)
		b->refs++;
	else
		b = NULL; /* none, or weak only: object_get_proxy() acquires it */
	pthread_mutex_unlock(&ctx->lock);
	if (b) {
		*out = b;
		return 0;
	}
	/*
	 * As libbinder: make sure a manager exists before taking references on
	 * handle 0, which the driver would otherwise silently ignore.
	 */
	err = ipc_transact(ts, 0, UBINDER_PING_TRANSACTION, NULL, 0, NULL);
	if (err)
		return err;
	err = object_get_proxy(ctx, ts, 0, false, out);
	if (!err && ts->nest == 0)
		(void)thread_flush(ts);
	return err;
}

int ubinder_sm_set_api_level(ubinder_context *ctx, int api_level)
{
	if (!ctx ||
	    (api_level != 0 && (api_level < SM_API_LEVEL_MIN || api_level > SM_API_LEVEL_MAX)))
		return UBINDER_ERR_BAD_VALUE;
	atomic_store(&ctx->sm_api_level, api_level);
	return 0;
}

int ubinder_sm_get_api_level(ubinder_context *ctx)
{
	int level = ctx ? atomic_load(&ctx->sm_api_level) : 0;

	return level ? level : UBINDER_SM_API_LEVEL_DEFAULT;
}

/* Whether @ctx speaks to an Android 10-or-older manager (raw replies). */
static bool sm_legacy(ubinder_context *ctx)
{
	return ubinder_sm_get_api_level(ctx) < SM_API_LEVEL_AIDL;
}

/* A request with the generation's interface token and, if given, a name. */
static ubinder_parcel *sm_request(ubinder_context *ctx, const char *name, int *err)
{
	ubinder_parcel *p = ubinder_parcel_new();

	*err = p ? ubinder_parcel_write_interface_token_gen(
			   p, UBINDER_SM_DESCRIPTOR, sm_header_for(ubinder_sm_get_api_level(ctx)))
		 : UBINDER_ERR_NO_MEMORY;
	if (!*err && name)
		*err = ubinder_parcel_write_string16_utf8(p, name);
	if (*err) {
		ubinder_parcel_free(p);
		return NULL;
	}
	return p;
}

/* Calls @method as the generation numbers it; on success *reply is
 * positioned after the AIDL status (Android 10's replies have none). */
static int sm_call(ubinder_context *ctx, enum sm_method method, ubinder_parcel *data,
		   ubinder_parcel **reply)
{
	uint32_t code = sm_code_of(sm_map_for(ubinder_sm_get_api_level(ctx)), method);
	ubinder_binder *sm;
	ubinder_parcel *r = NULL;
	int err = code ? ubinder_sm_get(ctx, &sm) : UBINDER_ERR_INVALID_OPERATION;

	if (!err) {
		err = ubinder_binder_transact(sm, code, data, 0, &r);
		ubinder_binder_unref(sm);
	}
	if (!err && sm_legacy(ctx))
		ubinder_parcel_set_stability_word(r, false);
	else if (!err)
		err = ubinder_parcel_read_exception(r, NULL);
	if (err) {
		ubinder_parcel_free(r);
		return err;
	}
	if (reply)
		*reply = r;
	else
		ubinder_parcel_free(r);
	return 0;
}

int ubinder_sm_add_service(ubinder_context *ctx, const char *name, ubinder_binder *service)
{
	ubinder_parcel *data;
	int err;

	if (!ctx || !sm_name_valid(name) || !service)
		return UBINDER_ERR_BAD_VALUE;
	data = sm_request(ctx, name, &err);
	if (!data)
		return err;
	err = ubinder_parcel_write_binder(data, service);
	if (!err)
		err = ubinder_parcel_write_bool(data, false); /* allowIsolated */
	if (!err)
		err = ubinder_parcel_write_int32(data, SM_DUMP_FLAG_PRIORITY_DEFAULT);
	if (!err)
		err = sm_call(ctx, SM_ADD_SERVICE, data, NULL);
	ubinder_parcel_free(data);
	return err;
}

int ubinder_sm_check_service(ubinder_context *ctx, const char *name, ubinder_binder **out)
{
	ubinder_parcel *data, *reply = NULL;
	ubinder_binder *b = NULL;
	int err;

	if (!ctx || !out || !sm_name_valid(name))
		return UBINDER_ERR_BAD_VALUE;
	*out = NULL;
	data = sm_request(ctx, name, &err);
	if (!data)
		return err;
	err = sm_call(ctx, SM_CHECK_SERVICE, data, &reply);
	ubinder_parcel_free(data);
	/* Android 10's manager answers an unknown name with the word 0. */
	if (!err && !(sm_legacy(ctx) && ubinder_parcel_get_object_count(reply) == 0))
		err = ubinder_parcel_read_binder(reply, &b);
	ubinder_parcel_free(reply);
	if (!err && !b)
		err = UBINDER_ERR_NAME_NOT_FOUND;
	if (!err)
		*out = b;
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ubinder_sm_free_names(char **names)
{
	if (!names)
		return;
	for (char **n = names; *n; n++)
		free(*n);
	free(names);
}

/* Android 10's listServices: one name per call, by index, until an error. */
static int list_by_index(ubinder_context *ctx, char ***list, int32_t *n)
{
	for (;;) {
		ubinder_parcel *data, *reply = NULL;
		char *name = NULL, **grown;
		int err;

		data = sm_request(ctx, NULL, &err);
		if (!data)
			return err;
		err = ubinder_parcel_write_int32(data, *n);
		if (!err)
			err = ubinder_parcel_write_int32(data, SM_DUMP_FLAG_PRIORITY_ALL);
		if (!err)
			err = sm_call(ctx, SM_LIST_SERVICES, data, &reply);
		ubinder_parcel_free(data);
		if (err == UBINDER_ERR_PERMISSION_DENIED || err == UBINDER_ERR_NOT_ENOUGH_DATA)
			return 0; /* past the end */
		if (!err)
			err = ubinder_parcel_read_string16_utf8(reply, &name);
		ubinder_parcel_free(reply);
		if (!err && !name)
			return 0;
		grown = err ? NULL : realloc(*list, ((size_t)*n + 2) * sizeof(*grown));
		if (!grown) {
			free(name);
			return err ? err : UBINDER_ERR_NO_MEMORY;
		}
		grown[(*n)++] = name;
		grown[*n] = NULL;
		*list = grown;
		if (*n >= 65536)
			return UBINDER_ERR_BAD_VALUE; /* a manager that never ends */
	}
}

static int list_all(ubinder_context *ctx, char ***list, int32_t *n)
{
	ubinder_parcel *data, *reply = NULL;
	int err;

	data = sm_request(ctx, NULL, &err);
	if (!data)
		return err;
	err = ubinder_parcel_write_int32(data, SM_DUMP_FLAG_PRIORITY_ALL);
	if (!err)
		err = sm_call(ctx, SM_LIST_SERVICES, data, &reply);
	ubinder_parcel_free(data);
	if (!err)
		err = ubinder_parcel_read_int32(reply, n);
	if (!err && (*n < -1 || (size_t)*n > ubinder_parcel_get_size(reply) / 4))
		err = UBINDER_ERR_BAD_VALUE;
	if (!err) {
		if (*n < 0)
			*n = 0;
		*list = calloc((size_t)*n + 1, sizeof(**list));
		if (!*list)
			err = UBINDER_ERR_NO_MEMORY;
	}
	for (int32_t i = 0; !err && i < *n; i++) {
		err = ubinder_parcel_read_string16_utf8(reply, &(*list)[i]);
		if (!err && !(*list)[i])
			err = UBINDER_ERR_UNEXPECTED_NULL;
	}
	ubinder_parcel_free(reply);
	return err;
}

int ubinder_sm_list_services(ubinder_context *ctx, char ***names, size_t *count)
{
	char **list = NULL;
	int32_t n = 0;
	int err;

	if (!ctx || !names)
		return UBINDER_ERR_BAD_VALUE;
	*names = NULL;
	err = sm_legacy(ctx) ? list_by_index(ctx, &list, &n) : list_all(ctx, &list, &n);
	if (!err && !list) {
		list = calloc(1, sizeof(*list));
		if (!list)
			err = UBINDER_ERR_NO_MEMORY;
	}
	if (err) {
		ubinder_sm_free_names(list);
		return err;
	}
	qsort(list, (size_t)n, sizeof(*list), cmp_names);
	*names = list;
	if (count)
		*count = (size_t)n;
	return 0;
}

/* --- registration notifications ----------------------------------------------------- */

struct notification {
	ubinder_sm_notify_fn fn;
	void *userdata;
	void (*destroy)(void *userdata);
};

static int callback_handler(ubinder_binder *self, const struct ubinder_call *call,
			    ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	struct notification *n = userdata;
	ubinder_binder *service = NULL;
	char *name = NULL;
	int err;

	(void)self;
	(void)reply;
	if (call->code != SM_CALLBACK_ON_REGISTRATION)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_parcel_enforce_interface(data, UBINDER_SM_CALLBACK_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(data, &name);
	if (!err)
		err = ubinder_parcel_read_binder(data, &service);
	if (!err && name && service)
		n->fn(name, service, n->userdata);
	free(name);
	ubinder_binder_unref(service);
	return err;
}

static void notification_free(void *userdata)
{
	struct notification *n = userdata;

	if (n->destroy)
		n->destroy(n->userdata);
	free(n);
}

static int sm_notification_call(ubinder_context *ctx, enum sm_method method, const char *name,
				ubinder_binder *token)
{
	ubinder_parcel *data;
	int err;

	data = sm_request(ctx, name, &err);
	if (!data)
		return err;
	err = ubinder_parcel_write_binder(data, token);
	if (!err)
		err = sm_call(ctx, method, data, NULL);
	ubinder_parcel_free(data);
	return err;
}

static int register_notification(ubinder_context *ctx, const char *name, ubinder_sm_notify_fn fn,
				 void *userdata, void (*destroy)(void *), ubinder_binder **token)
{
	struct notification *n;
	ubinder_binder *cb;
	int err;

	if (!ctx || !fn || !token || !sm_name_valid(name))
		return UBINDER_ERR_BAD_VALUE;
	*token = NULL;
	n = malloc(sizeof(*n));
	if (!n)
		return UBINDER_ERR_NO_MEMORY;
	n->fn = fn;
	n->userdata = userdata;
	n->destroy = destroy;
	err = ubinder_binder_new(ctx, UBINDER_SM_CALLBACK_DESCRIPTOR, callback_handler, n,
				 notification_free, &cb);
	if (err) {
		free(n);
		return err;
	}
	err = sm_notification_call(ctx, SM_REGISTER_FOR_NOTIFICATIONS, name, cb);
	if (err) {
		n->destroy = NULL; /* the caller keeps its userdata on failure */
		ubinder_binder_unref(cb);
		return err;
	}
	*token = cb;
	return 0;
}

int ubinder_sm_register_notification(ubinder_context *ctx, const char *name,
				     ubinder_sm_notify_fn fn, void *userdata,
				     ubinder_binder **token)
{
	return register_notification(ctx, name, fn, userdata, NULL, token);
}

int ubinder_sm_unregister_notification(ubinder_context *ctx, const char *name,
				       ubinder_binder *token)
{
	if (!ctx || !token || !sm_name_valid(name))
		return UBINDER_ERR_BAD_VALUE;
	return sm_notification_call(ctx, SM_UNREGISTER_FOR_NOTIFICATIONS, name, token);
}

/* --- waiting for a service -------------------------------------------------------------- */

/* Shared by the waiter, its notification object and its death link. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_int refs;
	ubinder_binder *found;
	bool sm_dead;
};

static void waiter_unref(void *arg)
{
	struct waiter *w = arg;

	if (atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	ubinder_binder_unref(w->found);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void waiter_registered(const char *name, ubinder_binder *service, void *userdata)
{
	struct waiter *w = userdata;

	(void)name;
	pthread_mutex_lock(&w->lock);
	if (!w->found)
		w->found = ubinder_binder_ref(service);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static void waiter_sm_died(ubinder_binder *sm, void *userdata)
{
	struct waiter *w = userdata;

	(void)sm;
	pthread_mutex_lock(&w->lock);
	w->sm_dead = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	waiter_unref(w);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the notification until @deadline (-1: none); under w->lock. */
static int waiter_wait(ubinder_context *ctx, struct waiter *w, int64_t deadline)
{
	bool pool;

	pthread_mutex_lock(&ctx->lock);
	pool = ctx->pool_started;
	pthread_mutex_unlock(&ctx->lock);
	while (!w->found && !w->sm_dead) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();

		if (deadline >= 0 && left <= 0)
			return UBINDER_ERR_TIMED_OUT;
		if (pool) {
			/* A pool thread delivers the notification. */
			struct timespec ts;

			if (deadline < 0) {
				pthread_cond_wait(&w->cond, &w->lock);
				continue;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += left / 1000;
			ts.tv_nsec += (left % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->cond, &w->lock, &ts);
		} else {
			/* No pool: this thread reads the notification itself. */
			struct pollfd pfd = { .fd = ubinder_context_get_fd(ctx), .events = POLLIN };
			int err;

			pthread_mutex_unlock(&w->lock);
			err = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
			err = err > 0 ? ubinder_context_process(ctx) : 0;
			pthread_mutex_lock(&w->lock);
			if (err)
				return err;
		}
	}
	return w->found ? 0 : UBINDER_ERR_DEAD_OBJECT;
}

int ubinder_sm_wait_for_service(ubinder_context *ctx, const char *name, int timeout_ms,
				ubinder_binder **out)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	ubinder_binder *sm = NULL, *token = NULL;
	struct waiter *w;
	bool linked = false;
	int err;

	if (!out)
		return UBINDER_ERR_BAD_VALUE;
	/* No service manager yet (everything starting at once): poll for it. */
	while ((err = ubinder_sm_check_service(ctx, name, out)) == UBINDER_ERR_DEAD_OBJECT &&
	       (deadline < 0 || now_ms() < deadline))
		poll(NULL, 0, 20);
	if (err != UBINDER_ERR_NAME_NOT_FOUND)
		return err == UBINDER_ERR_DEAD_OBJECT ? UBINDER_ERR_TIMED_OUT : err;
	/* Android 10's manager has no notifications: ask again, as libbinder did. */
	while (sm_legacy(ctx) && err == UBINDER_ERR_NAME_NOT_FOUND) {
		int64_t left = deadline < 0 ? 50 : deadline - now_ms();

		if (left <= 0)
			return UBINDER_ERR_TIMED_OUT;
		poll(NULL, 0, left < 50 ? (int)left : 50);
		err = ubinder_sm_check_service(ctx, name, out);
	}
	if (sm_legacy(ctx))
		return err;
	w = calloc(1, sizeof(*w));
	if (!w)
		return UBINDER_ERR_NO_MEMORY;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	atomic_init(&w->refs, 1);
	err = ubinder_sm_get(ctx, &sm);
	if (!err) {
		atomic_fetch_add(&w->refs, 1);
		err = ubinder_binder_link_to_death(sm, waiter_sm_died, w);
		if (err)
			atomic_fetch_sub(&w->refs, 1);
		linked = !err;
	}
	if (!err) {
		/* The manager calls back at once if the name was registered meanwhile. */
		atomic_fetch_add(&w->refs, 1);
		err = register_notification(ctx, name, waiter_registered, w, waiter_unref, &token);
		if (err)
			atomic_fetch_sub(&w->refs, 1);
	}
	if (!err) {
		pthread_mutex_lock(&w->lock);
		err = waiter_wait(ctx, w, deadline);
		if (!err)
			*out = ubinder_binder_ref(w->found);
		pthread_mutex_unlock(&w->lock);
		(void)ubinder_sm_unregister_notification(ctx, name, token);
		ubinder_binder_unref(token);
	}
	if (linked && ubinder_binder_unlink_to_death(sm, waiter_sm_died, w) == 0)
		waiter_unref(w);
	ubinder_binder_unref(sm);
	waiter_unref(w);
	return err;
}
