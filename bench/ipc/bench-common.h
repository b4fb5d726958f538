/* SPDX-License-Identifier: MIT */
/*
 * What bench-ipc and bench-ioctl share: the clock, the report line
 * ("MODE PAYLOAD median_ns p99_ns"), the scan of a read buffer and the
 * measured loop of calls.
 */
#ifndef UBINDER_BENCH_COMMON_H
#define UBINDER_BENCH_COMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <linux/android/binder.h>

#define WARMUP 200 /* calls before the measured ones */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @samples and prints the result line. */
static inline void report(const char *mode, size_t payload, uint64_t *samples, size_t n)
{
	qsort(samples, n, sizeof(*samples), cmp_u64);
	printf("%s %zu %llu %llu\n", mode, payload, (unsigned long long)samples[n / 2],
	       (unsigned long long)samples[(n * 99) / 100]);
}

static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what, strerror(errno));
	exit(1);
}

/*
 * The first BR_TRANSACTION or BR_REPLY of a read (copied to @tr), 0 if none;
 * a failed call ends the benchmark.
 */
static inline uint32_t first_transaction(const uint8_t *r, size_t len,
					 struct binder_transaction_data *tr)
{
	size_t pos = 0;

	while (pos + 4 <= len) {
		uint32_t cmd;

		memcpy(&cmd, r + pos, 4);
		pos += 4;
		if (cmd == BR_TRANSACTION || cmd == BR_REPLY) {
			memcpy(tr, r + pos, sizeof(*tr));
			return cmd;
		}
		if (cmd == BR_DEAD_REPLY || cmd == BR_FAILED_REPLY) {
			fprintf(stderr, "%s: call failed (%x)\n", program_invocation_short_name,
				cmd);
			exit(1);
		}
		pos += _IOC_SIZE(cmd);
	}
	return 0;
}

/* Appends a command and its argument to the write buffer @w at @at; returns the new end. */
static inline size_t put(uint8_t *w, size_t at, uint32_t cmd, const void *arg, size_t size)
{
	memcpy(w + at, &cmd, 4);
	memcpy(w + at + 4, arg, size);
	return at + 4 + size;
}

/*
 * One BINDER_WRITE_READ of the write buffer @w (@wlen bytes) on @env's way
 * in; returns the first BR_TRANSACTION or BR_REPLY of its read (copied to
 * @tr), or 0 if it had none.
 */
typedef uint32_t bench_talk_fn(void *env, const uint8_t *w, size_t wlen,
			       struct binder_transaction_data *tr);

/*
 * The client's calls: WARMUP + @iterations of @call, each waiting for its
 * BR_REPLY and freeing the previous reply in the same write, as libbinder
 * does; the time of each one after the warm-up goes to @samples.
 */
static inline void bench_calls(bench_talk_fn *talk, void *env,
			       const struct binder_transaction_data *call, uint64_t *samples,
			       size_t iterations)
{
	struct binder_transaction_data tr;
	uint64_t prev = 0;
	uint8_t w[256];

	for (size_t i = 0; i < iterations + WARMUP; i++) {
		uint64_t t0 = now_ns();
		size_t wlen = 0;

		if (prev)
			wlen = put(w, 0, BC_FREE_BUFFER, &prev, 8);
		wlen = put(w, wlen, BC_TRANSACTION, call, sizeof(*call));
		while (talk(env, w, wlen, &tr) != BR_REPLY)
			wlen = 0;
		prev = tr.data.ptr.buffer;
		if (i >= WARMUP)
			samples[i - WARMUP] = now_ns() - t0;
	}
}

#endif
