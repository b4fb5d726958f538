/* SPDX-License-Identifier: MIT */
/*
 * The sender's security context through the real daemon: an object that
 * asks for it (ubinder_binder_set_requesting_sid) sees the caller's label in
 * ubinder_call.sender_sid, on synchronous and oneway calls, also as the
 * object of a reply; one that does not sees NULL. Without a security module
 * the label is "ubinder:unlabeled" (docs/conformance.md).
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib-test.h"

#define SID_ON	"test.sid.on"
#define SID_OFF "test.sid.off"

enum {
	SID_GET = 1,	/* () -> String8 sender_sid, or a null string */
	SID_ONEWAY = 2, /* oneway (): remembers sender_sid */
	SID_LAST = 3,	/* () -> String8 what SID_ONEWAY saw */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char last_oneway[256];

static int sid_handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		       ubinder_parcel *reply, void *userdata)
{
	int err = 0;

	(void)self;
	(void)data;
	(void)userdata;
	switch (call->code) {
	case SID_GET:
		return ubinder_parcel_write_string8(reply, call->sender_sid);
	case SID_ONEWAY:
		pthread_mutex_lock(&lock);
		snprintf(last_oneway, sizeof(last_oneway), "%s",
			 call->sender_sid ? call->sender_sid : "(null)");
		pthread_mutex_unlock(&lock);
		return 0;
	case SID_LAST:
		pthread_mutex_lock(&lock);
		err = ubinder_parcel_write_string8(reply, last_oneway);
		pthread_mutex_unlock(&lock);
		return err;
	default:
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	}
}

static int sid_service(void *arg)
{
	struct sync **syncs = arg; /* ready, stop */
	ubinder_context *ctx = client_open(true);
	ubinder_binder *on = NULL, *off = NULL;

	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.ISid", sid_handler, NULL, NULL, &on));
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.ISid", sid_handler, NULL, NULL, &off));
	CHECK_OK(ubinder_binder_set_requesting_sid(on, true));
	CHECK_OK(ubinder_sm_add_service(ctx, SID_ON, on));
	CHECK_OK(ubinder_sm_add_service(ctx, SID_OFF, off));
	sync_post(syncs[0], 1);
	CHECK(sync_wait(syncs[1], 60000) == 1);
	ubinder_binder_unref(on);
	ubinder_binder_unref(off);
	ubinder_context_close(ctx);
	return 0;
}

/* SID_GET or SID_LAST on @name: the string, or "(null)". */
static int get_sid(ubinder_context *ctx, const char *name, uint32_t code, char *out, size_t size)
{
	ubinder_binder *b = NULL;
	ubinder_parcel *reply = NULL;
	const char *s = NULL;
	int err = ubinder_sm_check_service(ctx, name, &b);

	if (!err)
		err = ubinder_binder_transact(b, code, NULL, 0, &reply);
	if (!err)
		err = ubinder_parcel_read_string8(reply, &s);
	if (!err)
		snprintf(out, size, "%s", s ? s : "(null)");
	ubinder_parcel_free(reply);
	ubinder_binder_unref(b);
	return err;
}

/* What the daemon should report for this process: its LSM label, if any. */
static void expected_label(char *out, size_t size)
{
	int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, size - 1) : -1;

	if (fd >= 0)
		close(fd);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\0'))
		n--;
	out[n > 0 ? n : 0] = '\0';
}

static int sid_client(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	char sid[256], want[256];

	(void)arg;
	CHECK(ctx);
	CHECK_OK(get_sid(ctx, SID_ON, SID_GET, sid, sizeof(sid)));
	expected_label(want, sizeof(want));
	/* ubinderd takes SO_PEERSEC: the label the LSM gives this process, if any. */
	if (strcmp(sid, "ubinder:unlabeled") != 0 && strcmp(sid, want) != 0) {
		fprintf(stderr, "sender_sid \"%s\", expected \"%s\" or ubinder:unlabeled\n", sid,
			want);
		return 1;
	}
	CHECK_OK(get_sid(ctx, SID_OFF, SID_GET, sid, sizeof(sid)));
	CHECK(strcmp(sid, "(null)") == 0);
	/* Oneway calls carry it too. */
	CHECK_OK(ubinder_sm_check_service(ctx, SID_ON, &b));
	CHECK_OK(ubinder_binder_transact(b, SID_ONEWAY, NULL, UBINDER_FLAG_ONEWAY, NULL));
	ubinder_binder_unref(b);
	CHECK_OK(get_sid(ctx, SID_ON, SID_GET, sid, sizeof(sid)));
	/*
	 * The oneway call may still be on another thread of the service's pool
	 * when SID_LAST reaches it (a synchronous call is not ordered after a
	 * oneway one): ask until it has been handled, 5 s at most.
	 */
	for (int i = 0; i < 500; i++) {
		CHECK_OK(get_sid(ctx, SID_ON, SID_LAST, want, sizeof(want)));
		if (want[0] != '\0')
			break;
		usleep(10000);
	}
	CHECK(strcmp(want, sid) == 0);
	ubinder_context_close(ctx);
	return 0;
}

/* A local object asking for it, called within the process: no label. */
static int in_process(void *arg)
{
	ubinder_context *ctx = client_open(false);
	ubinder_binder *b = NULL;
	ubinder_parcel *reply = NULL;
	const char *s = "unset";

	(void)arg;
	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "x", sid_handler, NULL, NULL, &b));
	CHECK_OK(ubinder_binder_set_requesting_sid(b, true));
	CHECK_OK(ubinder_binder_transact(b, SID_GET, NULL, 0, &reply));
	CHECK_OK(ubinder_parcel_read_string8(reply, &s));
	CHECK(s == NULL);
	ubinder_parcel_free(reply);
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return 0;
}

static void requesting_sid(void **state)
{
	struct sync ready, stop;
	struct sync *syncs[] = { &ready, &stop };
	pid_t service;

	(void)state;
	sync_init(&ready);
	sync_init(&stop);
	service = lspawn(sid_service, syncs);
	assert_int_equal(sync_wait(&ready, 10000), 1);
	assert_int_equal(reap(lspawn(sid_client, NULL), 30000), 0);
	assert_int_equal(reap(lspawn(in_process, NULL), 30000), 0);
	sync_post(&stop, 1);
	assert_int_equal(reap(service, 20000), 0);
	close(ready.fds[0]);
	close(ready.fds[1]);
	close(stop.fds[0]);
	close(stop.fds[1]);
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requesting_sid),
	};

	return cmocka_run_group_tests(tests, lib_env_setup, lib_env_teardown);
}
