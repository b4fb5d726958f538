/* SPDX-License-Identifier: MIT */
/*
 * Example service: a key-value store registered as "kvstore".
 *
 * It serves on libubinder's thread pool, so handlers may run concurrently
 * (hence the mutex). Watchers are callback objects that clients pass in:
 * each put() is reported to them with a oneway call, and a watcher whose
 * process dies is dropped (a death notification).
 *
 * Run: ubinderd, ubinder-servicemanager, then this (UBINDER_SOCKET selects
 * the daemon's socket). Stops on SIGTERM or SIGINT.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubinder/ubinder.h>

#include "kvstore.h"

struct pair {
	char *key, *value;
	struct pair *next;
};

struct watcher {
	ubinder_binder *binder;
	struct watcher *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pair *pairs;
static struct watcher *watchers;
static int notes;

static struct pair *find(const char *key)
{
	for (struct pair *p = pairs; p; p = p->next) {
		if (strcmp(p->key, key) == 0)
			return p;
	}
	return NULL;
}

/* A watcher's process died: forget it. */
static void watcher_died(ubinder_binder *binder, void *userdata)
{
	(void)userdata;
	pthread_mutex_lock(&lock);
	for (struct watcher **pp = &watchers; *pp; pp = &(*pp)->next) {
		if ((*pp)->binder == binder) {
			struct watcher *w = *pp;

			*pp = w->next;
			ubinder_binder_unref(w->binder);
			free(w);
			printf("service: a watcher died\n");
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Tells every watcher (oneway: a slow watcher cannot block us). */
static void notify_watchers(const char *key, const char *value)
{
	ubinder_binder *targets[64];
	size_t n = 0;

	pthread_mutex_lock(&lock);
	for (struct watcher *w = watchers; w && n < 64; w = w->next)
		targets[n++] = ubinder_binder_ref(w->binder);
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		ubinder_parcel *data = ubinder_parcel_new();

		if (data && !ubinder_parcel_write_interface_token(data, KV_WATCHER_DESCRIPTOR) &&
		    !ubinder_parcel_write_string16_utf8(data, key) &&
		    !ubinder_parcel_write_string16_utf8(data, value))
			ubinder_binder_transact(targets[i], KV_WATCHER_ON_CHANGE, data,
						UBINDER_FLAG_ONEWAY, NULL);
		ubinder_parcel_free(data);
		ubinder_binder_unref(targets[i]);
	}
}

static int do_put(ubinder_parcel *data, ubinder_parcel *reply)
{
	char *key = NULL, *value = NULL;
	struct pair *p;
	int err;

	err = ubinder_parcel_read_string16_utf8(data, &key);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(data, &value);
	if (err || !key || !value) {
		free(key);
		free(value);
		return err ? err
			   : ubinder_parcel_write_exception(reply, UBINDER_EX_NULL_POINTER,
							    "key and value must not be null");
	}
	pthread_mutex_lock(&lock);
	p = find(key);
	if (p) {
		free(p->value);
		p->value = strdup(value);
	} else if ((p = calloc(1, sizeof(*p))) != NULL) {
		p->key = strdup(key);
		p->value = strdup(value);
		p->next = pairs;
		pairs = p;
	}
	pthread_mutex_unlock(&lock);
	notify_watchers(key, value);
	free(key);
	free(value);
	return ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
}

static int do_get(ubinder_parcel *data, ubinder_parcel *reply)
{
	char *key = NULL, *value = NULL;
	struct pair *p;
	int err = ubinder_parcel_read_string16_utf8(data, &key);

	if (err)
		return err;
	pthread_mutex_lock(&lock);
	p = key ? find(key) : NULL;
	if (p)
		value = strdup(p->value);
	pthread_mutex_unlock(&lock);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	if (!err)
		err = ubinder_parcel_write_string16_utf8(reply, value); /* NULL if absent */
	free(key);
	free(value);
	return err;
}

static int do_count(ubinder_parcel *reply)
{
	int32_t n = 0;
	int err;

	pthread_mutex_lock(&lock);
	for (struct pair *p = pairs; p; p = p->next)
		n++;
	pthread_mutex_unlock(&lock);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	return err ? err : ubinder_parcel_write_int32(reply, n);
}

static int do_note(ubinder_parcel *data)
{
	char *text = NULL;
	int err = ubinder_parcel_read_string16_utf8(data, &text);

	if (!err) {
		pthread_mutex_lock(&lock);
		notes++;
		pthread_mutex_unlock(&lock);
		printf("service: note from a client: %s\n", text ? text : "(null)");
	}
	free(text);
	return err;
}

static int do_watch(ubinder_parcel *data, ubinder_parcel *reply)
{
	ubinder_binder *binder = NULL;
	struct watcher *w;
	int err = ubinder_parcel_read_binder(data, &binder);

	if (err)
		return err;
	if (!binder)
		return ubinder_parcel_write_exception(reply, UBINDER_EX_NULL_POINTER, "no watcher");
	w = calloc(1, sizeof(*w));
	if (!w || ubinder_binder_link_to_death(binder, watcher_died, NULL) != 0) {
		free(w);
		ubinder_binder_unref(binder);
		return ubinder_parcel_write_exception(reply, UBINDER_EX_ILLEGAL_STATE,
						      "cannot watch");
	}
	w->binder = binder;
	pthread_mutex_lock(&lock);
	w->next = watchers;
	watchers = w;
	pthread_mutex_unlock(&lock);
	printf("service: a watcher registered\n");
	return ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
}

/* DUMP (dumpsys, binder-dump): the pairs, one "key=value" a line. */
static int dump(ubinder_binder *self, int fd, const char *const *args, size_t nargs, void *userdata)
{
	(void)self;
	(void)args;
	(void)nargs;
	(void)userdata;
	if (fd < 0)
		return 0;
	pthread_mutex_lock(&lock);
	dprintf(fd, "kvstore: %d notes\n", notes);
	for (struct pair *p = pairs; p; p = p->next)
		dprintf(fd, "%s=%s\n", p->key, p->value);
	pthread_mutex_unlock(&lock);
	return 0;
}

/* The object's transaction handler: code, flags, request, reply, caller. */
static int handle(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		  ubinder_parcel *reply, void *userdata)
{
	int err;

	(void)self;
	(void)userdata;
	err = ubinder_parcel_enforce_interface(data, KV_DESCRIPTOR);
	if (err)
		return err;
	switch (call->code) {
	case KV_PUT:
		return do_put(data, reply);
	case KV_GET:
		return do_get(data, reply);
	case KV_COUNT:
		return do_count(reply);
	case KV_NOTE:
		return (call->flags & UBINDER_FLAG_ONEWAY) ? do_note(data)
							   : UBINDER_ERR_INVALID_OPERATION;
	case KV_WATCH:
		return do_watch(data, reply);
	default:
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	}
}

int main(void)
{
	ubinder_context *ctx;
	ubinder_binder *service;
	sigset_t sigs;
	int sig, err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Signals are taken with sigwait; the pool's threads block them all. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	err = ubinder_context_open(NULL, &ctx); /* $UBINDER_SOCKET, or the default */
	if (err) {
		fprintf(stderr, "service: cannot open the context: %s\n", ubinder_strerror(err));
		return 1;
	}
	err = ubinder_binder_new(ctx, KV_DESCRIPTOR, handle, NULL, NULL, &service);
	if (!err)
		err = ubinder_binder_set_dump_handler(service, dump);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (!err)
		err = ubinder_sm_add_service(ctx, KV_SERVICE_NAME, service);
	if (err) {
		fprintf(stderr, "service: cannot start: %s\n", ubinder_strerror(err));
		ubinder_binder_unref(service);
		ubinder_context_close(ctx);
		return 1;
	}
	printf("service: '%s' registered, serving\n", KV_SERVICE_NAME);

	sigwait(&sigs, &sig);
	printf("service: stopping (%d notes received)\n", notes);
	ubinder_binder_unref(service);
	ubinder_context_close(ctx);
	while (pairs) {
		struct pair *p = pairs;

		pairs = p->next;
		free(p->key);
		free(p->value);
		free(p);
	}
	while (watchers) {
		struct watcher *w = watchers;

		watchers = w->next;
		ubinder_binder_unref(w->binder);
		free(w);
	}
	return 0;
}
