/* SPDX-License-Identifier: MIT */
/*
 * The ubinder side of bench/rpc.sh: an echo service, and a client timing
 * synchronous calls that carry a byte array and get it back.
 *
 *   interface org.ubinder.bench.IEcho { byte[] echo(in byte[] data); }  // 1
 *
 * Usage: bench-rpc-echo serve NAME
 *        bench-rpc-echo call NAME PAYLOAD ITERATIONS
 * call prints "median_us p99_us" of ITERATIONS calls after ITERATIONS / 5
 * warm-up calls. PAYLOAD is the byte array's length. The context is
 * $UBINDER_SOCKET's.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ubinder/ubinder.h>

#define ECHO_DESCRIPTOR "org.ubinder.bench.IEcho"
#define ECHO_CODE	1

static int handle(ubinder_binder *self, const struct ubinder_call *call, ubinder_parcel *data,
		  ubinder_parcel *reply, void *userdata)
{
	const uint8_t *p;
	int32_t n;
	int err;

	(void)self;
	(void)userdata;
	if (call->code != ECHO_CODE)
		return UBINDER_ERR_UNKNOWN_TRANSACTION;
	err = ubinder_parcel_enforce_interface(data, ECHO_DESCRIPTOR);
	if (!err)
		err = ubinder_parcel_read_int32(data, &n);
	if (err)
		return err;
	if (n < 0 || (size_t)n > ubinder_parcel_get_size(data) - ubinder_parcel_get_position(data))
		return UBINDER_ERR_BAD_VALUE;
	p = (const uint8_t *)ubinder_parcel_get_data(data) + ubinder_parcel_get_position(data);
	err = ubinder_parcel_write_exception(reply, UBINDER_EX_NONE, NULL);
	return err ? err : ubinder_parcel_write_byte_array(reply, p, (size_t)n);
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	ubinder_context *ctx;
	ubinder_binder *b = NULL;
	int err;

	if (argc < 3 || (strcmp(argv[1], "serve") && (strcmp(argv[1], "call") || argc != 5))) {
		fprintf(stderr,
			"usage: bench-rpc-echo serve NAME | call NAME PAYLOAD ITERATIONS\n");
		return 2;
	}
	err = ubinder_context_open(NULL, &ctx);
	if (!err)
		err = ubinder_context_start_thread_pool(ctx);
	if (err) {
		fprintf(stderr, "bench-rpc-echo: %s\n", ubinder_strerror(err));
		return 1;
	}
	if (!strcmp(argv[1], "serve")) {
		sigset_t sigs;
		int sig;

		sigemptyset(&sigs);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGINT);
		pthread_sigmask(SIG_BLOCK, &sigs, NULL);
		err = ubinder_binder_new(ctx, ECHO_DESCRIPTOR, handle, NULL, NULL, &b);
		if (!err)
			err = ubinder_sm_add_service(ctx, argv[2], b);
		if (err) {
			fprintf(stderr, "bench-rpc-echo: %s\n", ubinder_strerror(err));
			return 1;
		}
		sigwait(&sigs, &sig);
	} else {
		size_t size = strtoul(argv[3], NULL, 0);
		int iterations = atoi(argv[4]), warm = iterations / 5;
		double *t = calloc((size_t)iterations, sizeof(*t));
		uint8_t *payload = malloc(size ? size : 1);

		err = t && payload ? ubinder_sm_wait_for_service(ctx, argv[2], 5000, &b)
				   : UBINDER_ERR_NO_MEMORY;
		if (payload)
			memset(payload, 0xa5, size);
		for (int i = 0; !err && i < warm + iterations; i++) {
			ubinder_parcel *data = ubinder_parcel_new(), *reply = NULL;
			double start = now_us();

			err = ubinder_parcel_write_interface_token(data, ECHO_DESCRIPTOR);
			if (!err)
				err = ubinder_parcel_write_byte_array(data, payload, size);
			if (!err)
				err = ubinder_binder_transact(b, ECHO_CODE, data, 0, &reply);
			if (!err)
				err = ubinder_parcel_read_exception(reply, NULL);
			if (!err && ubinder_parcel_get_size(reply) < size)
				err = UBINDER_ERR_BAD_VALUE;
			if (i >= warm)
				t[i - warm] = now_us() - start;
			ubinder_parcel_free(data);
			ubinder_parcel_free(reply);
		}
		if (err) {
			fprintf(stderr, "bench-rpc-echo: %s\n", ubinder_strerror(err));
		} else {
			qsort(t, (size_t)iterations, sizeof(*t), cmp);
			printf("%.1f %.1f\n", t[iterations / 2], t[iterations * 99 / 100]);
		}
		free(t);
		free(payload);
	}
	ubinder_binder_unref(b);
	ubinder_context_close(ctx);
	return err ? 1 : 0;
}
