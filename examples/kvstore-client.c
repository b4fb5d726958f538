/* SPDX-License-Identifier: MIT */
/*
 * Example client of the key-value store: synchronous calls, a oneway call,
 * a callback object handed to the service, and a death notification.
 *
 * Usage: kvstore-client [--service NAME] [--wait-for-death SECONDS]
 * It calls the service registered as NAME (default "kvstore"). With
 * --wait-for-death, it waits that long for the service to die once it is
 * done (kill the service meanwhile) and exits 0 only if it is told.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ubinder/ubinder.h>

#include "kvstore.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int changes_seen;
static bool service_died;

/* The watcher's handler: the service calls it (oneway) on every put. */
static int watcher_handle(ubinder_binder *self, const struct ubinder_call *call,
			  ubinder_parcel *data, ubinder_parcel *reply, void *userdata)
{
	char *key = NULL, *value = NULL;
	int err;

	(void)self;
	(void)reply;
	(void)userdata;
	if (call->code != KV_WATCHER_ON_CHANGE)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_parcel_enforce_interface(data, KV_WATCHER_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(data, &key);
	if (!err)
		err = ubinder_parcel_read_string16_utf8(data, &value);
	if (!err) {
		printf("client: callback: %s changed to '%s'\n", key, value);
		pthread_mutex_lock(&lock);
		changes_seen++;
		pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&lock);
	}
	free(key);
	free(value);
	return err;
}

static void on_service_death(ubinder_binder *binder, void *userdata)
{
	(void)binder;
	printf("client: death notification: '%s' died\n", (const char *)userdata);
	pthread_mutex_lock(&lock);
	service_died = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Starts a call: a request parcel with the interface token. */
static ubinder_parcel *request(void)
{
	ubinder_parcel *p = ubinder_parcel_new();

	if (p && ubinder_parcel_write_interface_token(p, KV_DESCRIPTOR)) {
		ubinder_parcel_free(p);
		p = NULL;
	}
	return p;
}

/* Sends a synchronous call; on success *reply is past the AIDL status. */
static int call(ubinder_binder *kv, uint32_t code, ubinder_parcel *data, ubinder_parcel **reply)
{
	ubinder_parcel *r = NULL;
	int err = ubinder_binder_transact(kv, code, data, 0, &r);

	if (!err)
		err = ubinder_parcel_read_exception(r, NULL);
	if (err || !reply)
		ubinder_parcel_free(r);
	else
		*reply = r;
	ubinder_parcel_free(data);
	return err;
}

static int put(ubinder_binder *kv, const char *key, const char *value)
{
	ubinder_parcel *data = request();

	if (!data || ubinder_parcel_write_string16_utf8(data, key) ||
	    ubinder_parcel_write_string16_utf8(data, value)) {
		ubinder_parcel_free(data);
		return UBINDER_ERR_NO_MEMORY;
	}
	return call(kv, KV_PUT, data, NULL);
}

static int get(ubinder_binder *kv, const char *key, char **value)
{
	ubinder_parcel *data = request(), *reply;
	int err;

	if (!data || ubinder_parcel_write_string16_utf8(data, key)) {
		ubinder_parcel_free(data);
		return UBINDER_ERR_NO_MEMORY;
	}
	err = call(kv, KV_GET, data, &reply);
	if (!err) {
		err = ubinder_parcel_read_string16_utf8(reply, value);
		ubinder_parcel_free(reply);
	}
	return err;
}

/* Waits until @pred holds or @seconds pass. */
static bool wait_until(bool (*pred)(void), int seconds)
{
	struct timespec deadline;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	pthread_mutex_lock(&lock);
	while (!(ok = pred()) && pthread_cond_timedwait(&cond, &lock, &deadline) == 0)
		;
	ok = pred();
	pthread_mutex_unlock(&lock);
	return ok;
}

static bool two_changes(void)
{
	return changes_seen >= 2;
}

static bool died(void)
{
	return service_died;
}

#define CHECK(what, expr)                                                                  \
	do {                                                                               \
		int err_ = (expr);                                                         \
		if (err_) {                                                                \
			fprintf(stderr, "client: %s: %s\n", what, ubinder_strerror(err_)); \
			goto out;                                                          \
		}                                                                          \
	} while (0)

int main(int argc, char **argv)
{
	ubinder_context *ctx = NULL;
	ubinder_binder *kv = NULL, *watcher = NULL;
	ubinder_parcel *data, *reply;
	const char *name = KV_SERVICE_NAME;
	int wait_death = 0, status = 1;
	int32_t count;
	char *value;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 < argc && strcmp(argv[i], "--wait-for-death") == 0) {
			wait_death = atoi(argv[i + 1]);
		} else if (i + 1 < argc && strcmp(argv[i], "--service") == 0) {
			name = argv[i + 1];
		} else {
			fprintf(stderr, "usage: kvstore-client [--service NAME] [--wait-for-death "
					"SECONDS]\n");
			return 2;
		}
	}
	CHECK("open", ubinder_context_open(NULL, &ctx));
	/* Callbacks and death notifications arrive on the pool's threads. */
	CHECK("thread pool", ubinder_context_start_thread_pool(ctx));
	CHECK("wait for the service", ubinder_sm_wait_for_service(ctx, name, 5000, &kv));
	CHECK("link to death", ubinder_binder_link_to_death(kv, on_service_death, (void *)name));
	printf("client: found '%s'\n", name);

	/* A callback object, passed to the service. */
	CHECK("watcher",
	      ubinder_binder_new(ctx, KV_WATCHER_DESCRIPTOR, watcher_handle, NULL, NULL, &watcher));
	data = request();
	CHECK("watch", data ? ubinder_parcel_write_binder(data, watcher) : UBINDER_ERR_NO_MEMORY);
	CHECK("watch", call(kv, KV_WATCH, data, NULL));

	/* Synchronous calls. */
	CHECK("put", put(kv, "colour", "blue"));
	CHECK("put", put(kv, "answer", "42"));
	printf("client: put colour=blue, answer=42\n");
	CHECK("get", get(kv, "answer", &value));
	printf("client: get answer -> '%s'\n", value ? value : "(null)");
	free(value);
	CHECK("get", get(kv, "missing", &value));
	printf("client: get missing -> %s\n", value ? value : "null");
	free(value);
	data = request();
	CHECK("count", call(kv, KV_COUNT, data, &reply));
	CHECK("count", ubinder_parcel_read_int32(reply, &count));
	ubinder_parcel_free(reply);
	printf("client: count -> %d\n", count);

	/* A oneway call: returns as soon as the driver has it. */
	data = request();
	CHECK("note", data ? ubinder_parcel_write_string16_utf8(data, "hello from the client")
			   : UBINDER_ERR_NO_MEMORY);
	CHECK("note", ubinder_binder_transact(kv, KV_NOTE, data, UBINDER_FLAG_ONEWAY, NULL));
	ubinder_parcel_free(data);
	printf("client: sent a oneway note\n");

	if (!wait_until(two_changes, 5)) {
		fprintf(stderr, "client: the watcher was not called back\n");
		goto out;
	}
	if (wait_death) {
		printf("client: waiting for the service to die\n");
		if (!wait_until(died, wait_death)) {
			fprintf(stderr, "client: no death notification\n");
			goto out;
		}
	}
	printf("client: done\n");
	status = 0;
out:
	ubinder_binder_unref(watcher);
	ubinder_binder_unref(kv);
	ubinder_context_close(ctx);
	return status;
}
