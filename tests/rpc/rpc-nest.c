/* SPDX-License-Identifier: MIT */
/*
 * Nested synchronous calls across the bridge, for rpc-nest.sh. Both sides
 * implement
 *   interface org.ubinder.test.INest {
 *       int ping(INest peer, int depth);   // 1
 *       void hang();                       // 2: answers after 10 s
 *   }
 * where ping answers 0 at depth 0, else peer.ping(self, depth - 1) + 1, from
 * inside the call: so ping(x, N) from A to B is a chain of N calls that
 * alternate direction, each waiting for the next.
 *
 * Usage: rpc-nest serve NAME            registers an INest as NAME and serves
 *        rpc-nest call NAME DEPTH THREADS  THREADS threads, each calling
 *                                          NAME.ping(its own INest, DEPTH) 20
 *                                          times; exit 0 if every answer is DEPTH
 *        rpc-nest hang NAME                calls NAME.hang() and prints how it ended
 * The context is $UBINDER_SOCKET's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ubinder/ubinder.h>

#define NEST_DESCRIPTOR "org.ubinder.test.INest"
#define NEST_PING	1
#define NEST_HANG	2
#define CALLS		20

static ubinder_context *ctx;

static int ping(ubinder_binder *target, ubinder_binder *self, int32_t depth, int32_t *answer)
{
	ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;
	int err = data ? 0 : UBINDER_ERR_NO_MEMORY;

	if (!err)
		err = ubinder_parcel_write_interface_token(data, NEST_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_write_binder(data, self);
	if (!err)
		err = ubinder_parcel_write_int32(data, depth);
	if (!err)
		err = ubinder_binder_transact(target, NEST_PING, data, 0, &reply);
	if (!err)
		err = ubinder_parcel_read_exception(reply, NULL);
	if (!err)
		err = ubinder_parcel_read_int32(reply, answer);
	ubinder_parcel_free(data);
	ubinder_parcel_free(reply);
	return err;
}

static int handle(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		  ubinder_parcel *reply, void *userdata)
{
	ubinder_binder *peer = NULL;
	int32_t depth, answer = 0;
	int err;

	(void)userdata;
	if (call->code == NEST_HANG) {
		fprintf(stderr, "rpc-nest: hanging\n");
		sleep(10);
		return ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	}
	if (call->code != NEST_PING)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_parcel_enforce_interface(data, NEST_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_read_binder(data, &peer);
	if (!err)
		err = ubinder_parcel_read_int32(data, &depth);
	if (!err && depth > 0)
		err = peer ? ping(peer, self, depth - 1, &answer) : UBINDER_ERR_BAD_VALUE;
	ubinder_binder_unref(peer);
	if (err)
		return err;
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	return err ? err : ubinder_parcel_write_int32(reply, depth > 0 ? answer + 1 : 0);
}

struct caller {
	ubinder_binder *target;
	int32_t depth;
	int failures;
};

static void *call_thread(void *p)
{
	struct caller *c = p;
	ubinder_binder *self;

	if (ubinder_binder_new(ctx, NEST_DESCRIPTOR, handle, NULL, NULL, &self)) {
		c->failures = CALLS;
		return NULL;
	}
	for (int i = 0; i < CALLS; i++) {
		int32_t answer = -1;
		int err = ping(c->target, self, c->depth, &answer);

		if (err || answer != c->depth) {
			fprintf(stderr, "rpc-nest: ping(%d): %s, answer %d\n", c->depth,
				ubinder_strerror(err), answer);
			c->failures++;
		}
	}
	ubinder_binder_unref(self);
	return NULL;
}

int main(int argc, char **argv)
{
	ubinder_binder *b = NULL;
	int err, failures = 0;

	if (argc < 3 ||
	    (strcmp(argv[1], "serve") && strcmp(argv[1], "call") && strcmp(argv[1], "hang")) ||
	    (!strcmp(argv[1], "call") && argc != 5)) {
		fprintf(stderr,
			"usage: rpc-nest serve NAME | call NAME DEPTH THREADS | hang NAME\n");
		return 2;
	}
	err = ubinder_context_open(NULL, &ctx);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (err) {
		fprintf(stderr, "rpc-nest: %s\n", ubinder_strerror(err));
		return 1;
	}
	if (!strcmp(argv[1], "serve")) {
		sigset_t sigs;
		int sig;

		sigemptyset(&sigs);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGINT);
		pthread_sigmask(SIG_BLOCK, &sigs, NULL);
		err = ubinder_binder_new(ctx, NEST_DESCRIPTOR, handle, NULL, NULL, &b);
		if (!err)
			err = ubinder_sm_add_service(ctx, argv[2], b);
		if (err) {
			fprintf(stderr, "rpc-nest: %s\n", ubinder_strerror(err));
			return 1;
		}
		sigwait(&sigs, &sig);
	} else if (!strcmp(argv[1], "hang")) {
		ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;

		err = ubinder_sm_wait_for_service(ctx, argv[2], 5000, &b);
		if (!err)
			err = ubinder_parcel_write_interface_token(data, NEST_DESCRIPTOR);
		if (!err)
			err = ubinder_binder_transact(b, NEST_HANG, data, 0, &reply);
		printf("rpc-nest: hang: %s\n", err ? ubinder_strerror(err) : "answered");
		ubinder_parcel_free(data);
		ubinder_parcel_free(reply);
		failures = err != 0;
	} else {
		int threads = atoi(argv[4]);
		struct caller c[16];
		pthread_t t[16];

		if (threads < 1 || threads > 16)
			return 2;
		err = ubinder_sm_wait_for_service(ctx, argv[2], 5000, &b);
		if (err) {
			fprintf(stderr, "rpc-nest: %s: %s\n", argv[2], ubinder_strerror(err));
			return 1;
		}
		for (int i = 0; i < threads; i++) {
			c[i] = (struct caller){ .target = b, .depth = atoi(argv[3]) };
			pthread_create(&t[i], NULL, call_thread, &c[i]);
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(t[i], NULL);
			failures += c[i].failures;
		}
		printf("rpc-nest: %d calls of depth %s, %d failed\n", threads * CALLS, argv[3],
		       failures);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return failures ? 1 : 0;
}
