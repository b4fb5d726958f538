/* SPDX-License-Identifier: MIT */
/*
 * Weak references through the real daemon, with the driver's counts read
 * from its state (the admin channel's per-process dump):
 *   - a weak binder received from a service holds the ref weakly (s 0 w 1);
 *     reading it as a strong binder is UBINDER_ERR_BAD_TYPE;
 *   - it cannot be promoted (UBINDER_ERR_INVALID_OPERATION, nothing asked of
 *     the driver, which refuses a strong count on a weak-only ref); received
 *     strongly again it is the same proxy, acquired, and promotes; the last
 *     strong reference going leaves the weak count; once the process is
 *     known dead, promotion is UBINDER_ERR_DEAD_OBJECT;
 *   - a weak binder of our own object sent to the service: the daemon shows
 *     our node held weakly only (BR_INCREFS seen and acknowledged), the
 *     service cannot promote it, and once it lets go (BR_DECREFS) the node
 *     goes; our object lives until our own weak reference goes;
 *   - dropping everything leaves no ref in the daemon.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib-test.h"
#include "wire/wire.h"

#define SERVICE "test.weak"
#define SHARED	"test.weak.shared" /* the shared object, held strongly by the manager */

enum {
	W_GIVE_SHARED = 1,  /* () -> weak binder of the object registered as SHARED */
	W_GIVE_PRIVATE = 2, /* () -> weak binder of an object only the service holds */
	W_HOLD = 3,	    /* (weak binder) -> i32: the promotion's status; keeps it */
	W_LET_GO = 4,	    /* (): drops what W_HOLD kept */
};

static ubinder_binder *shared_obj, *private_obj;
static ubinder_weak *held;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int weak_handler(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
			ubinder_parcel *reply, void *userdata)
{
	ubinder_weak *w = NULL;
	ubinder_binder *b = NULL;
	int err;

	(void)self;
	(void)userdata;
	switch (call->code) {
	case W_GIVE_SHARED:
	case W_GIVE_PRIVATE:
		err = ubinder_binder_get_weak(
			call->code == W_GIVE_SHARED ? shared_obj : private_obj, &w);
		if (!err)
			err = ubinder_parcel_write_weak_binder(reply, w);
		ubinder_weak_unref(w);
		return err;
	case W_HOLD:
		err = ubinder_parcel_read_weak_binder(data, &w);
		if (err)
			return err;
		err = ubinder_weak_promote(w, &b);
		ubinder_binder_unref(b);
		pthread_mutex_lock(&lock);
		ubinder_weak_unref(held);
		held = w;
		pthread_mutex_unlock(&lock);
		return ubinder_parcel_write_int32(reply, err);
	case W_LET_GO:
		pthread_mutex_lock(&lock);
		ubinder_weak_unref(held);
		held = NULL;
		pthread_mutex_unlock(&lock);
		return 0;
	default:
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	}
}

static int weak_service(void *arg)
{
	struct sync *ready = arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *service = NULL;

	CHECK(ctx);
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.IWeak", weak_handler, NULL, NULL,
				    &service));
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.IObj", NULL, NULL, NULL, &shared_obj));
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.IObj", NULL, NULL, NULL, &private_obj));
	CHECK_OK(ubinder_sm_add_service(ctx, SERVICE, service));
	CHECK_OK(ubinder_sm_add_service(ctx, SHARED, shared_obj));
	sync_post(ready, 1);
	pause(); /* killed by the test */
	return 0;
}

/* How often " KEY_A a KEY_B b " appears in the daemon's dump of this process. */
static int dump_count(const char *key_a, int a, const char *key_b, int b)
{
	char *text = ubd_admin(&lib_env.d, UBW_ADMIN_PROC, getpid(), NULL);
	char want[32];
	int n = 0;

	if (!text)
		return -1;
	snprintf(want, sizeof(want), " %s %d %s %d ", key_a, a, key_b, b);
	for (const char *at = text; (at = strstr(at, want)) != NULL; at++)
		n++;
	free(text);
	return n;
}

/* Our refs with these strong and weak counts. */
static int refs_with(int strong, int weak)
{
	return dump_count("s", strong, "w", weak);
}

/* Our nodes with this has_strong_ref/has_weak_ref state (what we acknowledged). */
static int nodes_with(int hs, int hw)
{
	return dump_count("hs", hs, "hw", hw);
}

/* Waits (5 s at most) until @fn(a, b) == @value. */
static bool wait_count(int (*fn)(int, int), int a, int b, int value)
{
	for (long deadline = now_ms() + 5000; now_ms() < deadline; poll(NULL, 0, 10)) {
		if (fn(a, b) == value)
			return true;
	}
	fprintf(stderr, "count(%d, %d) is %d, not %d\n", a, b, fn(a, b), value);
	return false;
}

static int take_weak(ubinder_binder *service, uint32_t code, ubinder_weak **w)
{
	ubinder_parcel *reply = NULL;
	ubinder_binder *strong = NULL;
	int err = ubinder_binder_transact(service, code, NULL, 0, &reply);

	/* A weak binder is no strong one (libbinder's readStrongBinder: BAD_TYPE). */
	if (!err && ubinder_parcel_read_binder(reply, &strong) != UBINDER_ERR_BAD_TYPE)
		err = UBINDER_ERR_UNKNOWN;
	if (!err)
		err = ubinder_parcel_read_weak_binder(reply, w);
	ubinder_binder_unref(strong);
	ubinder_parcel_free(reply);
	return err;
}

static atomic_bool own_destroyed;

static void own_gone(void *userdata)
{
	(void)userdata;
	atomic_store(&own_destroyed, true);
}

static atomic_bool shared_died;

static void on_death(ubinder_binder *binder, void *userdata)
{
	(void)binder;
	(void)userdata;
	atomic_store(&shared_died, true);
}

static int weak_client(void *arg)
{
	pid_t service_pid = *(pid_t *)arg;
	ubinder_context *ctx = client_open(true);
	ubinder_binder *service = NULL, *b = NULL, *strong = NULL, *own = NULL;
	ubinder_weak *shared = NULL, *private = NULL, *own_weak = NULL;
	ubinder_parcel *data, *reply = NULL;
	int32_t status = 0;

	CHECK(ctx);
	CHECK_OK(ubinder_sm_check_service(ctx, SERVICE, &service));
	/* Received weakly: the ref is weak only, and cannot be promoted. */
	CHECK_OK(take_weak(service, W_GIVE_SHARED, &shared));
	CHECK(wait_count(refs_with, 0, 1, 1));
	CHECK(ubinder_weak_promote(shared, &b) == UBINDER_ERR_INVALID_OPERATION);
	CHECK(b == NULL);
	CHECK(wait_count(refs_with, 0, 1, 1));
	/* Received strongly again (from the manager): the same proxy, acquired. */
	CHECK_OK(ubinder_sm_check_service(ctx, SHARED, &strong));
	CHECK(wait_count(refs_with, 0, 1, 0));
	CHECK_OK(ubinder_weak_promote(shared, &b));
	CHECK(b == strong);
	CHECK_OK(ubinder_binder_ping(b));
	ubinder_binder_unref(b);
	b = NULL;
	/* The last strong reference goes: BC_RELEASE only, the weak count stays. */
	ubinder_binder_unref(strong);
	strong = NULL;
	CHECK_OK(ubinder_context_flush(ctx));
	CHECK(wait_count(refs_with, 0, 1, 1));
	CHECK(ubinder_weak_promote(shared, &b) == UBINDER_ERR_INVALID_OPERATION);

	/* Another weak-only ref; dropping it gives back its weak count. */
	CHECK_OK(take_weak(service, W_GIVE_PRIVATE, &private));
	CHECK(wait_count(refs_with, 0, 1, 2));
	ubinder_weak_unref(private);
	CHECK_OK(ubinder_context_flush(ctx));
	CHECK(wait_count(refs_with, 0, 1, 1));

	/* Our object, sent weakly: the daemon shows it held weakly only. */
	CHECK_OK(ubinder_binder_new(ctx, "org.ubinder.test.IOwn", NULL, NULL, own_gone, &own));
	CHECK_OK(ubinder_binder_get_weak(own, &own_weak));
	data = ubinder_parcel_new();
	CHECK(data);
	CHECK_OK(ubinder_parcel_write_weak_binder(data, own_weak));
	CHECK_OK(ubinder_binder_transact(service, W_HOLD, data, 0, &reply));
	ubinder_parcel_free(data);
	CHECK_OK(ubinder_parcel_read_int32(reply, &status));
	ubinder_parcel_free(reply);
	/* The service holds it weakly only: it cannot promote it. */
	CHECK(status == UBINDER_ERR_INVALID_OPERATION);
	CHECK(wait_count(nodes_with, 0, 1, 1));
	/* Our own weak reference promotes while we hold it. */
	CHECK_OK(ubinder_weak_promote(own_weak, &b));
	CHECK(b == own);
	ubinder_binder_unref(b);
	b = NULL;
	/* The service lets go: BR_DECREFS, and the node goes. */
	CHECK_OK(ubinder_binder_transact(service, W_LET_GO, NULL, 0, NULL));
	CHECK(wait_count(nodes_with, 0, 1, 0));
	ubinder_binder_unref(own);
	/* Our weak reference keeps it (not strongly: it cannot be promoted). */
	CHECK(!atomic_load(&own_destroyed));
	CHECK(ubinder_weak_promote(own_weak, &b) == UBINDER_ERR_DEAD_OBJECT);
	ubinder_weak_unref(own_weak);
	/* The node is gone in the daemon once it queued BR_DECREFS; our looper
	 * may not have taken it yet, and the object goes only when it has. */
	for (long deadline = now_ms() + 5000; !atomic_load(&own_destroyed) && now_ms() < deadline;)
		poll(NULL, 0, 5);
	CHECK(atomic_load(&own_destroyed));

	/* The service dies: promotion is DEAD_OBJECT once the death is known. */
	CHECK_OK(ubinder_sm_check_service(ctx, SHARED, &strong));
	CHECK_OK(ubinder_binder_link_to_death(strong, on_death, NULL));
	ubinder_binder_unref(service);
	service = NULL;
	kill(service_pid, SIGKILL);
	for (long deadline = now_ms() + 5000; !atomic_load(&shared_died) && now_ms() < deadline;)
		poll(NULL, 0, 10);
	CHECK(atomic_load(&shared_died));
	CHECK(ubinder_weak_promote(shared, &b) == UBINDER_ERR_DEAD_OBJECT);
	CHECK(b == NULL);
	ubinder_binder_unref(strong);
	ubinder_weak_unref(shared);
	CHECK_OK(ubinder_context_flush(ctx));
	/* No weak-only ref is left; at most the manager's (strong and weak). */
	CHECK(wait_count(refs_with, 0, 1, 0));
	CHECK(refs_with(1, 1) <= 1);
	ubinder_context_close(ctx);
	return 0;
}

static void weak_references(void **state)
{
	struct sync ready;
	pid_t service;

	(void)state;
	sync_init(&ready);
	service = lspawn(weak_service, &ready);
	assert_int_equal(sync_wait(&ready, 10000), 1);
	assert_int_equal(reap(lspawn(weak_client, &service), 40000), 0);
	kill(service, SIGKILL);
	reap(service, 5000);
	close(ready.fds[0]);
	close(ready.fds[1]);
	assert_int_equal(env_wait_stat(&lib_env, "transaction: active", 0, 5000), 0);
	assert_int_equal(env_wait_stat(&lib_env, "procs", 1, 5000), 1);
	assert_int_equal(env_wait_stat(&lib_env, "ref: active", 0, 5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(weak_references),
	};

	return cmocka_run_group_tests(tests, lib_env_setup, lib_env_teardown);
}
